//! Payment attempts: what tgpay knows about every money-moving request it sent, and what it can
//! say about it afterwards.
//!
//! Each send of a money-moving method (`payments.sendPaymentForm`, `payments.sendStarsForm`) is
//! one attempt with a [`PendingPayment`] record: everything [`Payments::reconcile`] needs to find
//! out, later and in another process if need be, whether it charged. The record is `Clone` and
//! serde-serializable, so it can be kept in a journal ([`crate::journal`]) before the request
//! leaves and looked at again after a crash.
//!
//! An attempt ends in one of three ways:
//!
//! - [`Outcome::Paid`] (or [`Reconciled::Paid`]): Telegram answered with the receipt, or the
//!   receipt of this very attempt was found;
//! - not charged ([`Reconciled::NotPaid`], and the refusals of [`crate::Error`]), always with
//!   [`Evidence`] the caller can read;
//! - unknown ([`crate::Error::Ambiguous`], [`Reconciled::Unsettled`]): money may have moved;
//!   nothing is re-sent, and the record says what to reconcile.
//!
//! [`Payments::reconcile`]: crate::Payments::reconcile

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::currency::Amount;
use crate::invoice::InvoiceRef;
use crate::receipt::ReceiptRef;

/// Identifies one attempt: random, made when the request is built, kept in every record of it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptId(u128);

impl AttemptId {
    /// A fresh random id.
    pub fn random() -> Self {
        AttemptId(rand::random())
    }

    /// The id as 32 lower-case hex digits.
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// Reads 32 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(AttemptId)
    }
}

impl fmt::Debug for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttemptId({})", self.to_hex())
    }
}

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for AttemptId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for AttemptId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        AttemptId::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("an attempt id is 32 hex digits"))
    }
}

/// Card or Stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// Paid through a payment provider (`payments.sendPaymentForm`).
    Card,
    /// Paid in Telegram Stars (`payments.sendStarsForm`).
    Stars,
}

/// The money-moving methods tgpay sends (each once per attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MoneyMethod {
    /// `payments.sendPaymentForm`.
    #[serde(rename = "payments.sendPaymentForm")]
    SendPaymentForm,
    /// `payments.sendStarsForm`.
    #[serde(rename = "payments.sendStarsForm")]
    SendStarsForm,
}

impl MoneyMethod {
    /// The TL name.
    pub fn name(self) -> &'static str {
        match self {
            MoneyMethod::SendPaymentForm => "payments.sendPaymentForm",
            MoneyMethod::SendStarsForm => "payments.sendStarsForm",
        }
    }
}

impl fmt::Display for MoneyMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The merchant bot of an attempt: the chat its receipt lands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotRef {
    /// The bot's user id.
    pub id: i64,
    /// Its access hash, when the form (or the invoice message) gave one.
    pub access_hash: Option<i64>,
    /// Its @username, to find it when no access hash is known.
    pub username: Option<String>,
}

impl BotRef {
    /// The bot as an input peer, when its access hash is known.
    pub fn input_peer(&self) -> Option<grammers_tl_types::enums::InputPeer> {
        self.access_hash.map(|access_hash| {
            grammers_tl_types::types::InputPeerUser {
                user_id: self.id,
                access_hash,
            }
            .into()
        })
    }
}

/// Where an attempt stands, as far as tgpay saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "stage")]
pub enum Stage {
    /// Recorded and about to be sent; a record still in this stage after a crash may or may
    /// not have left the machine.
    Sending,
    /// Sent, with no usable answer (lost reply, timeout, broken connection, Telegram's internal
    /// error, a duplicate submission).
    Unanswered,
    /// Telegram asked for 3-D Secure: the payer must confirm at `url`.
    Verifying {
        /// The bank's verification page.
        url: String,
        /// When the page was handed out (Unix time, this machine's clock).
        since: i64,
    },
    /// Telegram answered with a refusal: this attempt is over.
    Refused {
        /// The error name, as Telegram sent it.
        error: String,
    },
}

/// Everything needed to find out whether one attempt charged: what was paid, to whom, for how
/// much, with which form, and when. Serializable, for a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingPayment {
    /// This attempt.
    pub id: AttemptId,
    /// The paying account's user id, when the session knows it.
    pub account: Option<i64>,
    /// The method that was sent.
    pub method: MoneyMethod,
    /// What was paid.
    pub invoice: InvoiceRef,
    /// The form that was submitted.
    pub form_id: i64,
    /// Card or Stars.
    pub kind: PaymentKind,
    /// The total that was sent (prices, shipping and tip).
    pub total: Amount,
    /// The merchant bot.
    pub bot: BotRef,
    /// When the form was fetched (Unix time, this machine's clock).
    pub form_fetched_at: i64,
    /// When the request was sent (Unix time, this machine's clock).
    pub sent_at: i64,
    /// Telegram's clock minus this machine's (seconds) when the request was sent, when it was
    /// known; reconcile measures it afresh otherwise.
    pub clock_offset: Option<i64>,
    /// Where the attempt stands.
    pub stage: Stage,
}

impl PendingPayment {
    /// The invoice link's slug, for invoices paid from a link.
    pub fn slug(&self) -> Option<&str> {
        match &self.invoice {
            InvoiceRef::Slug(slug) => Some(slug),
            _ => None,
        }
    }

    /// The invoice message's id, for invoices paid from a message.
    pub fn invoice_msg_id(&self) -> Option<i32> {
        match &self.invoice {
            InvoiceRef::Message { msg_id, .. } => Some(*msg_id),
            _ => None,
        }
    }

    /// The 3-D Secure page, while one is open.
    pub fn verification_url(&self) -> Option<&str> {
        match &self.stage {
            Stage::Verifying { url, .. } => Some(url),
            _ => None,
        }
    }

    /// Whether `other` pays the same thing the same way, so that their receipts cannot be told
    /// apart: same account, bot, invoice (slug or message) and total.
    pub fn looks_like(&self, other: &PendingPayment) -> bool {
        self.account == other.account
            && self.bot.id == other.bot.id
            && self.total == other.total
            && self.kind == other.kind
            && self.slug() == other.slug()
            && self.invoice_msg_id() == other.invoice_msg_id()
    }
}

impl fmt::Display for PendingPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the payment of {} for {} (attempt {}, form {})",
            self.total, self.invoice, self.id, self.form_id
        )
    }
}

/// Why an attempt's fate is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "cause")]
#[non_exhaustive]
pub enum AmbiguityCause {
    /// The connection failed after the request may have been sent.
    Transport {
        /// What failed.
        detail: String,
    },
    /// No answer came within the send timeout.
    Timeout {
        /// The timeout, in seconds.
        after_secs: u64,
    },
    /// Telegram failed internally (a 5xx or negative code, like `-503 Timeout`): the request may
    /// still be processed.
    ServerError {
        /// The error code.
        code: i32,
        /// The error name.
        name: String,
    },
    /// Telegram says the form was already submitted (`FORM_SUBMIT_DUPLICATE`) and no receipt was
    /// found yet.
    DuplicateSubmit,
    /// A 3-D Secure verification was still open when the wait ended.
    VerificationPending {
        /// The verification page.
        url: String,
    },
    /// Other attempts that pay the same thing the same way are unresolved, and the receipts
    /// found cannot be matched to one of them.
    Indistinguishable {
        /// Attempts that look alike, this one included.
        attempts: usize,
        /// Their receipts found so far.
        receipts: usize,
    },
    /// Telegram refused the request, but the check that nothing was charged failed.
    Unverified {
        /// Telegram's answer.
        answer: String,
        /// What failed while checking.
        detail: String,
    },
    /// Reconcile could not finish the check.
    Unchecked {
        /// Why.
        detail: String,
    },
    /// The wait was interrupted (the program was stopped).
    Interrupted,
}

impl fmt::Display for AmbiguityCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmbiguityCause::Transport { detail } => {
                write!(f, "the connection failed after sending ({detail})")
            }
            AmbiguityCause::Timeout { after_secs } => {
                write!(f, "no answer came within {after_secs} s")
            }
            AmbiguityCause::ServerError { code, name } => {
                write!(f, "Telegram failed internally ({code} {name})")
            }
            AmbiguityCause::DuplicateSubmit => f.write_str(
                "Telegram says this form was already submitted, and no receipt was found yet",
            ),
            AmbiguityCause::VerificationPending { url } => {
                write!(f, "the card's verification at {url} was not finished")
            }
            AmbiguityCause::Indistinguishable { attempts, receipts } => write!(
                f,
                "{attempts} unresolved payments look alike and {receipts} receipt(s) were found, \
                 so it cannot be told which of them paid"
            ),
            AmbiguityCause::Unverified { answer, detail } => write!(
                f,
                "Telegram answered {answer}, but checking that nothing was charged failed \
                 ({detail})"
            ),
            AmbiguityCause::Unchecked { detail } => {
                write!(f, "the check could not be finished ({detail})")
            }
            AmbiguityCause::Interrupted => f.write_str("the wait was interrupted"),
        }
    }
}

/// A payment that may or may not have gone through: the attempt, and why its fate is unknown.
/// Pass [`AmbiguousPayment::payment`] to [`Payments::reconcile`](crate::Payments::reconcile);
/// never pay the same invoice again before it says [`Reconciled::NotPaid`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmbiguousPayment {
    /// The attempt.
    pub payment: PendingPayment,
    /// Why its fate is unknown.
    pub cause: AmbiguityCause,
}

impl fmt::Display for AmbiguousPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} may or may not have gone through: {}; reconcile it before paying again",
            self.payment, self.cause
        )
    }
}

/// A successful payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paid {
    /// Where the receipt is.
    pub receipt: ReceiptRef,
    /// The total paid.
    pub total: Amount,
    /// Card or Stars.
    pub kind: PaymentKind,
    /// The attempt that paid.
    pub attempt: AttemptId,
}

/// A payment waiting for the bank's 3-D Secure check. `Clone` and serializable: keep it, wait
/// on it ([`Payments::wait_for_verification`](crate::Payments::wait_for_verification)) as often
/// as needed, or reconcile [`Verification::payment`] later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// The page the payer must open to confirm the payment.
    pub url: String,
    /// The attempt being verified.
    pub payment: PendingPayment,
}

/// How a payment request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Paid.
    Paid(Paid),
    /// The bank wants 3-D Secure: open [`Verification::url`], then wait with
    /// [`Payments::wait_for_verification`](crate::Payments::wait_for_verification).
    VerificationNeeded(Verification),
}

impl Outcome {
    /// The payment, if it is complete.
    pub fn paid(&self) -> Option<&Paid> {
        match self {
            Outcome::Paid(paid) => Some(paid),
            Outcome::VerificationNeeded(_) => None,
        }
    }
}

/// Why tgpay says an attempt charged nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "evidence")]
#[non_exhaustive]
pub enum Evidence {
    /// Telegram answered this attempt with the refusal `error`, and no charge of it is in the
    /// chat with the bot (nor, for Stars, in the Stars ledger) after it was sent.
    Refused {
        /// The error name.
        error: String,
    },
    /// Telegram refused the request before processing it (`error`: a flood wait, an invalid
    /// field, an expired tmp password…).
    Rejected {
        /// The error name.
        error: String,
    },
    /// The attempt got no answer, but no charge of it appeared and it can no longer go
    /// through: its form or verification expired at `expired_at` (Telegram's clock).
    Expired {
        /// Unix time, Telegram's clock.
        expired_at: i64,
    },
    /// The invoice message was paid by another payment (receipt `receipt_msg_id`, dated before
    /// this attempt or claimed by another one); an invoice message is paid once.
    PaidOtherwise {
        /// The other payment's receipt.
        receipt_msg_id: i32,
    },
    /// The bank's 3-D Secure check failed: Telegram said so for this attempt's verification
    /// page, and no charge of it appeared.
    VerificationFailed {
        /// What Telegram said.
        message: String,
    },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Refused { error } => write!(
                f,
                "Telegram refused it ({error}) and no charge of it was found"
            ),
            Evidence::Rejected { error } => {
                write!(
                    f,
                    "Telegram rejected the request before processing it ({error})"
                )
            }
            Evidence::Expired { expired_at } => write!(
                f,
                "it got no answer, no charge of it was found, and it expired at {expired_at} \
                 (Unix time, Telegram's clock)"
            ),
            Evidence::PaidOtherwise { receipt_msg_id } => write!(
                f,
                "the invoice was paid by another payment (receipt message {receipt_msg_id})"
            ),
            Evidence::VerificationFailed { message } => write!(
                f,
                "the bank's verification failed ({message}) and no charge of it was found"
            ),
        }
    }
}

/// Why [`Payments::reconcile`](crate::Payments::reconcile) cannot tell yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
#[non_exhaustive]
pub enum UnsettledReason {
    /// No charge was found, but Telegram may still process the request.
    MayStillBeProcessed,
    /// The 3-D Secure page is still open: the payer may still confirm.
    VerificationOpen {
        /// The page.
        url: String,
    },
    /// The chat with the merchant bot cannot be opened (the form gave no access hash and the
    /// bot has no username), so its receipts cannot be read.
    ChatUnreachable,
    /// The chat with the bot is longer than [`PaymentsConfig::history_limit`] messages since
    /// the attempt.
    ///
    /// [`PaymentsConfig::history_limit`]: crate::PaymentsConfig::history_limit
    HistoryTooLong,
    /// Look-alike attempts are unresolved and their receipts cannot be told apart.
    Indistinguishable {
        /// Attempts that look alike, this one included.
        attempts: usize,
        /// Their receipts found so far.
        receipts: usize,
    },
}

impl fmt::Display for UnsettledReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsettledReason::MayStillBeProcessed => {
                f.write_str("no charge was found yet, but Telegram may still process it")
            }
            UnsettledReason::VerificationOpen { url } => {
                write!(f, "the 3-D Secure page {url} may still be confirmed")
            }
            UnsettledReason::ChatUnreachable => {
                f.write_str("the chat with the merchant bot cannot be opened to read its receipts")
            }
            UnsettledReason::HistoryTooLong => f.write_str(
                "the chat with the merchant bot is too long to read back to the payment",
            ),
            UnsettledReason::Indistinguishable { attempts, receipts } => write!(
                f,
                "{attempts} unresolved payments look alike and {receipts} receipt(s) were found"
            ),
        }
    }
}

/// What [`Payments::reconcile`](crate::Payments::reconcile) found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Reconciled {
    /// It was paid: here is the receipt.
    Paid(Paid),
    /// Nothing was charged, and nothing will be.
    NotPaid {
        /// Why tgpay says so.
        evidence: Evidence,
    },
    /// Not known yet: do not pay again; reconcile again later (at `settles_at`, Telegram's
    /// clock, when known).
    Unsettled {
        /// Why not.
        reason: UnsettledReason,
        /// When the attempt can no longer go through (Unix time, Telegram's clock), if known.
        settles_at: Option<i64>,
    },
}

impl Reconciled {
    /// Whether this is a final answer (paid, or not charged).
    pub fn is_settled(&self) -> bool {
        !matches!(self, Reconciled::Unsettled { .. })
    }
}

pub(crate) use crate::clock::unix_now;
