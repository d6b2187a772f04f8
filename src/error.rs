//! [`Error`]: everything a step of the payment flow can fail with.
//!
//! Telegram's own errors are [`PaymentError`]s, one per row of the RPC error catalog (see
//! [`crate::rpc_error`], re-exported here with what goes with them); every other variant says what
//! tgpay found before or after sending, and [`Error::recovery`] what to do about it.

use std::fmt;

pub use crate::rpc_error::{
    CatalogEntry, MoneyClass, OrderField, PaymentError, Provenance, Recovery,
};

/// Everything a step of the payment flow ([`crate::Payments`]) can fail with.
///
/// Each variant says what happened and what to do; none carries a secret. [`Error::Ambiguous`]
/// is the one to treat with care: money may have moved, and only
/// [`Payments::reconcile`](crate::Payments::reconcile) can tell.
///
/// # Telegram's errors, and where they arrive
///
/// An RPC error of a request that moves no money is [`Error::Telegram`]. An RPC error of a
/// payment request (`payments.sendPaymentForm`, `payments.sendStarsForm`) is classified by its
/// [`MoneyClass`] first, and a few are lifted into variants that carry what an app needs:
///
/// | Telegram's answer | arrives as |
/// |---|---|
/// | `BOT_PRECHECKOUT_FAILED`, `PRECHECKOUT_FAILED` (payment requests) | [`Error::PrecheckoutRejected`], with the merchant's reason when seen |
/// | `BALANCE_TOO_LOW` (Stars) | [`Error::InsufficientStars`], with the balance and the shortfall |
/// | `STARS_FORM_AMOUNT_MISMATCH`, or `FORM_EXPIRED` then a fresh Stars form at another price | [`Error::PriceChanged`], with the fresh form |
/// | `PASSWORD_HASH_INVALID` (`account.getTmpPassword`) | [`Error::WrongPassword`], with the hint |
/// | a 3-D Secure failure notification for this attempt's page | [`Error::VerificationFailed`] |
/// | an error that proves the request was not processed ([`MoneyClass::Rejected`]: flood waits, invalid requests) | [`Error::Telegram`] |
/// | any other refusal (`PAYMENT_FAILED`, `FORM_EXPIRED` of a card form, …), once tgpay checked the account's receipts for this attempt | [`Error::Refused`] (the [`PaymentError`] is [`Refusal::error`], the proof [`Refusal::evidence`]) |
/// | a lost answer, a timeout, `-503` and other internal errors, `FORM_SUBMIT_DUPLICATE`, an unverifiable refusal | [`Error::Ambiguous`] |
///
/// [`Error::recovery`] says what to do in every case; a declined card is
/// [`Recovery::OtherPaymentMethod`]. The `Display` text is meant for developers and logs: it
/// names the RPC error and what to call. For the person paying, show
/// [`Error::recovery`]'s text, or a message of the app's own keyed on the variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Telegram answered with an error, or a request that moves no money failed in transit.
    #[error(transparent)]
    Telegram(#[from] PaymentError),
    /// A payment request may or may not have gone through: the connection failed after it was
    /// sent, no answer came, Telegram failed internally, or the form was already submitted.
    /// Nothing was retried; reconcile [`AmbiguousPayment::payment`](crate::AmbiguousPayment)
    /// before paying again.
    #[error("{0}")]
    Ambiguous(Box<crate::attempt::AmbiguousPayment>),
    /// Telegram refused the payment, and tgpay checked that this attempt charged nothing
    /// ([`Refusal::evidence`]).
    #[error("{0}")]
    Refused(Box<Refusal>),
    /// An earlier attempt with this form (or of this invoice) is in flight or unresolved: nothing
    /// was sent. Reconcile it first.
    #[error(
        "{payment} is still unresolved: nothing was sent; reconcile it (Payments::reconcile, or \
         `tgpay reconcile`) before paying again"
    )]
    Unresolved {
        /// The earlier attempt.
        payment: Box<crate::attempt::PendingPayment>,
    },
    /// The journal could not record the attempt: nothing was sent.
    #[error(
        "the payment journal could not record the payment ({source}): nothing was sent; fix the journal (disk space, permissions) and pay again"
    )]
    Journal {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// What Telegram sent is not a valid payment form.
    #[error(transparent)]
    Form(#[from] crate::form::FormError),
    /// The total could not be computed from what was chosen (tip, shipping).
    #[error(transparent)]
    Total(#[from] crate::form::TotalError),
    /// The credentials can't be sent as they are.
    #[error(transparent)]
    Credentials(#[from] crate::credentials::CredentialsError),
    /// The account's 2FA parameters failed the SRP checks (or there is no 2FA password).
    #[error(transparent)]
    Srp(#[from] crate::srp::SrpError),
    /// The 2FA password is wrong.
    #[error(
        "the 2FA password is wrong{}: enter it again",
        hint.as_deref().map(|h| format!(" (hint: {h})")).unwrap_or_default()
    )]
    WrongPassword {
        /// The account's password hint.
        hint: Option<String>,
    },
    /// The form asks for order info and none was validated.
    #[error(
        "this invoice asks for order info: call Payments::validate_requested_info and pass the \
         ValidatedOrder to the checkout"
    )]
    OrderInfoRequired,
    /// Requested order info is missing.
    #[error("the order info lacks {}: fill them in", list_fields(missing))]
    OrderIncomplete {
        /// The requested fields that are missing.
        missing: Vec<OrderField>,
    },
    /// The invoice's price depends on shipping and no option was chosen, or the one chosen was
    /// not offered.
    #[error("{}", match id {
        Some(id) => format!("shipping option {id:?} was not offered for this order: pick one of the validated order's options"),
        None => "this invoice needs a shipping option: pick one of the validated order's options".to_owned(),
    })]
    ShippingOption {
        /// The option asked for, if any.
        id: Option<String>,
    },
    /// No credentials were given to the checkout.
    #[error(
        "no credentials: give the checkout a card token, web credentials, a wallet or a saved card"
    )]
    CredentialsRequired,
    /// Saving credentials was asked for, but this form does not allow it.
    #[error(
        "this form does not let you save the card{}: send without saving",
        if *password_missing { " (the account needs a 2FA password first)" } else { "" }
    )]
    SaveNotAllowed {
        /// Saving needs a 2FA password the account does not have.
        password_missing: bool,
    },
    /// The total is above the spend guard: nothing was sent.
    #[error("the total {total} is more than the spend limit {max}: nothing was sent")]
    SpendGuard {
        /// What the payment would cost.
        total: crate::currency::Amount,
        /// The limit.
        max: crate::currency::Amount,
    },
    /// The spend guard is in another currency than the invoice.
    #[error(
        "the spend limit is in {max}, but the invoice is in {currency}: give the limit in {currency}"
    )]
    SpendGuardCurrency {
        /// The invoice's currency.
        currency: crate::currency::Currency,
        /// The limit.
        max: crate::currency::Amount,
    },
    /// Not enough Telegram Stars: nothing was charged.
    #[error("{}", insufficient_text(balance, price, shortfall))]
    InsufficientStars {
        /// The balance.
        balance: crate::currency::Amount,
        /// The price.
        price: crate::currency::Amount,
        /// What is missing (never negative).
        shortfall: crate::currency::Amount,
        /// The attempt Telegram refused (`BALANCE_TOO_LOW`), if one was sent.
        payment: Option<Box<crate::attempt::PendingPayment>>,
    },
    /// The price changed since the form was fetched: nothing was charged.
    #[error(
        "the price changed from {old} to {new}: nothing was charged; confirm the new price and pay the new form"
    )]
    PriceChanged {
        /// The price in the form that was sent.
        old: crate::currency::Amount,
        /// The price now.
        new: crate::currency::Amount,
        /// A fresh form at the new price.
        form: Box<crate::form::PaymentForm>,
        /// The attempt that found out, if one was sent.
        payment: Option<Box<crate::attempt::PendingPayment>>,
    },
    /// The merchant refused the order at pre-checkout, and no charge of the attempt was found.
    #[error("the merchant refused the order{} ({evidence})", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    PrecheckoutRejected {
        /// The merchant's reason, if its service notification was seen while this was the
        /// account's only payment in flight.
        reason: Option<String>,
        /// The attempt.
        payment: Box<crate::attempt::PendingPayment>,
        /// Why tgpay says nothing was charged.
        evidence: crate::attempt::Evidence,
    },
    /// 3-D Secure verification failed (Telegram said so for this attempt's page), and no charge
    /// of the attempt was found.
    #[error(
        "the card's verification failed ({message}): nothing was charged; try again or use another card"
    )]
    VerificationFailed {
        /// What Telegram said.
        message: String,
        /// The attempt.
        payment: Box<crate::attempt::PendingPayment>,
    },
    /// Telegram answered something the flow cannot use.
    #[error("Telegram answered {what}, which this step cannot use")]
    UnexpectedAnswer {
        /// What came back.
        what: &'static str,
    },
}

/// A refusal of a sent payment that tgpay checked: Telegram's answer, the attempt, and why
/// nothing was charged.
#[derive(Debug)]
pub struct Refusal {
    /// Telegram's answer.
    pub error: PaymentError,
    /// The attempt.
    pub payment: crate::attempt::PendingPayment,
    /// Why tgpay says nothing was charged.
    pub evidence: crate::attempt::Evidence,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.error, self.evidence)
    }
}

fn insufficient_text(
    balance: &crate::currency::Amount,
    price: &crate::currency::Amount,
    shortfall: &crate::currency::Amount,
) -> String {
    if shortfall.minor > 0 {
        format!(
            "the balance is {balance} but the price is {price}: nothing was charged; top up at \
             least {shortfall}"
        )
    } else {
        format!(
            "Telegram said the balance was too low for {price}; it is {balance} now: nothing was \
             charged; pay again"
        )
    }
}

fn list_fields(fields: &[OrderField]) -> String {
    fields
        .iter()
        .map(|f| f.token())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// What the caller can do about it.
    pub fn recovery(&self) -> Recovery {
        match self {
            Error::Telegram(e) => e.recovery(),
            Error::Ambiguous(_) | Error::Unresolved { .. } => Recovery::Reconcile,
            Error::Refused(refusal) => refusal.error.recovery(),
            Error::Credentials(crate::credentials::CredentialsError::TmpPasswordRequired {
                ..
            }) => Recovery::ReenterPassword,
            Error::WrongPassword { .. } => Recovery::ReenterPassword,
            Error::InsufficientStars { .. } => Recovery::TopUpStars,
            Error::PriceChanged { .. } => Recovery::RefetchForm,
            Error::PrecheckoutRejected { .. } => Recovery::ContactMerchant,
            Error::OrderIncomplete { missing } => missing
                .first()
                .map_or(Recovery::None, |f| Recovery::OrderField(*f)),
            Error::ShippingOption { .. } => Recovery::OrderField(OrderField::ShippingOption),
            Error::CredentialsRequired => Recovery::OrderField(OrderField::Credentials),
            Error::VerificationFailed { .. } => Recovery::OtherPaymentMethod,
            _ => Recovery::None,
        }
    }

    /// Whether money may have moved by this call and
    /// [`Payments::reconcile`](crate::Payments::reconcile) must be asked before paying again.
    /// ([`Error::Unresolved`] sent nothing itself, but its recovery is to reconcile the earlier
    /// attempt it names.)
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Error::Ambiguous(_))
    }

    /// The attempt this error is about, when a payment request was sent (or an unresolved one
    /// stopped this one): what to give [`Payments::reconcile`](crate::Payments::reconcile), or
    /// the record of a refusal.
    pub fn payment(&self) -> Option<&crate::attempt::PendingPayment> {
        match self {
            Error::Ambiguous(a) => Some(&a.payment),
            Error::Refused(r) => Some(&r.payment),
            Error::Unresolved { payment }
            | Error::PrecheckoutRejected { payment, .. }
            | Error::VerificationFailed { payment, .. } => Some(payment),
            Error::InsufficientStars { payment, .. } | Error::PriceChanged { payment, .. } => {
                payment.as_deref()
            }
            _ => None,
        }
    }

    /// Whether nothing was charged by the step that failed: the opposite of
    /// [`Error::is_ambiguous`]. Every other error has evidence: a local check stopped the
    /// payment before sending, Telegram rejected the request before processing it
    /// ([`MoneyClass::Rejected`]; the money path reports its other errors as ambiguous or
    /// checked refusals), or tgpay checked a refusal against the ledger.
    pub fn is_not_charged(&self) -> bool {
        !self.is_ambiguous()
    }
}

impl From<grammers_mtsender::InvocationError> for Error {
    fn from(error: grammers_mtsender::InvocationError) -> Self {
        Error::Telegram(PaymentError::from(error))
    }
}
