//! Checkout: from a form, a validated order, a shipping option, a tip and credentials to an
//! [`Outcome`] — with a spend guard, and without ever charging twice.
//!
//! [`Checkout`] (card forms) and [`StarsCheckout`] (Stars forms) are builders that end in
//! `send()`. Everything that can be checked before sending is: the order info and shipping
//! option are present when the invoice needs them, the tip is within the invoice's limits, the
//! total is computed exactly and compared with the spend guard, `save` is refused when the form
//! does not allow it, a saved card has a valid tmp password.
//!
//! # What `send` answers
//!
//! The request is sent exactly once ([`crate::payments`] explains how grammers' retries are kept
//! out of it), and its answer is classified ([`crate::error::MoneyClass`]):
//!
//! - paid ([`Outcome::Paid`]) or a 3-D Secure page ([`Outcome::VerificationNeeded`]);
//! - rejected before processing ([`Error::Telegram`]): nothing was charged;
//! - refused after processing (a declined card, the merchant's refusal, too few Stars, an
//!   expired form): tgpay first looks for a charge of this attempt; none found, the refusal
//!   ([`Error::Refused`], [`Error::PrecheckoutRejected`], [`Error::InsufficientStars`]) carries
//!   the attempt and the evidence;
//! - unknown (no answer, a broken connection, Telegram's internal error, a duplicate
//!   submission): [`Error::Ambiguous`] with the attempt, unless its receipt is already there.
//!   Nothing is re-sent; [`Payments::reconcile`](crate::Payments::reconcile) tells later.

use std::fmt;

use crate::credentials::Credentials;
use crate::currency::Amount;
use crate::error::Error;
use crate::form::{CardForm, StarsForm};
use crate::order::{ShippingOption, ValidatedOrder};
use crate::payments::Payments;

pub use crate::attempt::{
    AmbiguityCause, AmbiguousPayment, Outcome, Paid, PaymentKind, Reconciled, Verification,
};

/// Checks the spend guard: `total ≤ max`, in the same currency.
pub fn check_spend_guard(total: Amount, max: Option<Amount>) -> Result<(), Error> {
    let Some(max) = max else {
        return Ok(());
    };
    if max.currency != total.currency {
        return Err(Error::SpendGuardCurrency {
            currency: total.currency,
            max,
        });
    }
    if total.minor > max.minor {
        return Err(Error::SpendGuard { total, max });
    }
    Ok(())
}

/// The checkout of a card form. Build it with [`Payments::checkout`], end it with
/// [`Checkout::send`].
#[must_use = "a checkout does nothing until send() is awaited"]
pub struct Checkout<'a> {
    pub(crate) payments: &'a Payments,
    pub(crate) form: &'a CardForm,
    pub(crate) order: Option<&'a ValidatedOrder>,
    pub(crate) shipping_option: Option<String>,
    pub(crate) tip: Option<Amount>,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) save: bool,
    pub(crate) max_total: Option<Amount>,
}

impl fmt::Debug for Checkout<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkout")
            .field("form_id", &self.form.form_id)
            .field("shipping_option", &self.shipping_option)
            .field("tip", &self.tip)
            .field("credentials", &self.credentials.as_ref().map(|c| c.title()))
            .field("save", &self.save)
            .field("max_total", &self.max_total)
            .finish_non_exhaustive()
    }
}

/// Everything [`Checkout::send`] sends, checked.
pub(crate) struct CheckedOrder {
    pub requested_info_id: Option<String>,
    pub shipping_option_id: Option<String>,
    pub tip: Option<Amount>,
    pub total: Amount,
}

impl<'a> Checkout<'a> {
    pub(crate) fn new(payments: &'a Payments, form: &'a CardForm) -> Self {
        Checkout {
            payments,
            form,
            order: None,
            shipping_option: None,
            tip: None,
            credentials: None,
            save: false,
            max_total: None,
        }
    }

    /// The validated order info (needed when the invoice asks for any).
    pub fn order(mut self, order: &'a ValidatedOrder) -> Self {
        self.order = Some(order);
        self
    }

    /// The shipping option, by id (needed for flexible invoices).
    pub fn shipping_option(mut self, id: impl Into<String>) -> Self {
        self.shipping_option = Some(id.into());
        self
    }

    /// A tip: one of the invoice's suggested tips or any amount up to its maximum.
    pub fn tip(mut self, tip: Amount) -> Self {
        self.tip = Some(tip);
        self
    }

    /// How to pay.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Ask the server to save new card credentials for later (only if the form allows it).
    pub fn save_credentials(mut self, save: bool) -> Self {
        self.save = save;
        self
    }

    /// The spend guard: refuse, before sending anything, if the total is above `max`.
    pub fn max_total(mut self, max: Amount) -> Self {
        self.max_total = Some(max);
        self
    }

    /// The chosen shipping option, checked against the validated order.
    fn chosen_shipping(&self) -> Result<Option<&'a ShippingOption>, Error> {
        match (&self.shipping_option, self.form.invoice.flexible) {
            (None, false) => Ok(None),
            (None, true) => Err(Error::ShippingOption { id: None }),
            (Some(id), _) => self
                .order
                .and_then(|o| o.shipping_option(id))
                .map(Some)
                .ok_or_else(|| Error::ShippingOption {
                    id: Some(id.clone()),
                }),
        }
    }

    /// The total this checkout would pay (prices + shipping + tip), checked as `send` checks it.
    pub fn total(&self) -> Result<Amount, Error> {
        Ok(self.check()?.total)
    }

    pub(crate) fn check(&self) -> Result<CheckedOrder, Error> {
        let requested = &self.form.invoice.requested;
        let requested_info_id = if requested.any() {
            let order = self.order.ok_or(Error::OrderInfoRequired)?;
            let missing = crate::order::OrderInfo::autofill(requested, None, &order.info).missing;
            if !missing.is_empty() {
                return Err(Error::OrderIncomplete { missing });
            }
            Some(order.id.clone().ok_or(Error::OrderInfoRequired)?)
        } else {
            self.order.and_then(|o| o.id.clone())
        };
        let shipping = self.chosen_shipping()?;
        let total = self.form.invoice.total(shipping, self.tip)?;
        check_spend_guard(total, self.max_total)?;
        if self.save && !self.form.can_save_credentials {
            return Err(Error::SaveNotAllowed {
                password_missing: self.form.password_missing,
            });
        }
        if self.credentials.is_none() {
            return Err(Error::CredentialsRequired);
        }
        Ok(CheckedOrder {
            requested_info_id,
            shipping_option_id: shipping.map(|o| o.id.clone()),
            tip: self.tip.filter(|t| !t.is_zero()),
            total,
        })
    }

    /// Sends the payment. Checks everything it can first; see the module docs for what an
    /// error means and which ones are [ambiguous](Error::is_ambiguous).
    pub async fn send(self) -> Result<Outcome, Error> {
        let checked = self.check()?;
        let credentials = self.credentials.ok_or(Error::CredentialsRequired)?;
        self.payments
            .send_card_payment(self.form, checked, credentials, self.save)
            .await
    }
}

/// The checkout of a Stars form. Build it with [`Payments::checkout_stars`], end it with
/// [`StarsCheckout::send`].
#[must_use = "a checkout does nothing until send() is awaited"]
#[derive(Debug)]
pub struct StarsCheckout<'a> {
    pub(crate) payments: &'a Payments,
    pub(crate) form: &'a StarsForm,
    pub(crate) max_total: Option<Amount>,
}

impl<'a> StarsCheckout<'a> {
    pub(crate) fn new(payments: &'a Payments, form: &'a StarsForm) -> Self {
        StarsCheckout {
            payments,
            form,
            max_total: None,
        }
    }

    /// The spend guard: refuse, before sending anything, if the price is above `max` Stars.
    pub fn max_total(mut self, max: Amount) -> Self {
        self.max_total = Some(max);
        self
    }

    /// Pays. A known balance below the price fails before sending
    /// ([`Error::InsufficientStars`]); an expired form is fetched again and paid once more only if
    /// its price is unchanged; a changed price is [`Error::PriceChanged`] with the new form.
    pub async fn send(self) -> Result<Outcome, Error> {
        check_spend_guard(self.form.price, self.max_total)?;
        self.payments.send_stars_payment(self.form).await
    }
}
