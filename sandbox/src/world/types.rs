//! The world's public data: RPC failures, pushes, charges, Stars entries and the views the web
//! pages get.

use grammers_tl_types as tl;

use crate::scenario::OrderInfoSpec;

/// An RPC error as the server sends it (`rpc_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFail {
    /// HTTP-like error code (400, 403, 406, 420, …).
    pub code: i32,
    /// The error message, e.g. `FORM_EXPIRED` or `FLOOD_WAIT_3`.
    pub message: String,
}

impl RpcFail {
    /// A 400 error with this name.
    pub fn bad(message: &str) -> Self {
        Self::new(400, message)
    }

    /// An error with any code.
    pub fn new(code: i32, message: &str) -> Self {
        Self {
            code,
            message: message.to_owned(),
        }
    }
}

impl std::fmt::Display for RpcFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

/// What a world method returns.
pub type RpcResult<T> = Result<T, RpcFail>;

/// Updates the server must deliver to a user's live sessions.
#[derive(Debug, Clone)]
pub struct Push {
    /// The user whose sessions get the updates.
    pub user: i64,
    /// The updates.
    pub updates: tl::enums::Updates,
}

/// How a charge was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChargeKind {
    /// A card or wallet payment through the merchant's provider.
    Card,
    /// Telegram Stars from the user's balance.
    Stars,
}

/// One successful payment, as the world recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Telegram's charge id.
    pub id: String,
    /// The provider's charge id.
    pub provider_charge_id: String,
    /// Card or Stars.
    pub kind: ChargeKind,
    /// The paying user.
    pub user: i64,
    /// The merchant bot.
    pub merchant: i64,
    /// The invoice's slug.
    pub invoice_slug: String,
    /// The message id of the invoice in the user's chat, if paid from a message.
    pub invoice_msg_id: Option<i32>,
    /// The form that was submitted.
    pub form_id: i64,
    /// Currency (`XTR` for Stars).
    pub currency: String,
    /// Total charged, in the currency's smallest unit (prices + shipping + tip).
    pub total_amount: i64,
    /// The tip included in the total.
    pub tip_amount: i64,
    /// The chosen shipping option.
    pub shipping_option_id: Option<String>,
    /// Order info sent to the merchant.
    pub info: Option<OrderInfoSpec>,
    /// What the user paid with (`Visa *4242`, `Apple Pay`, `Stars`).
    pub credentials_title: String,
    /// Unix time of the payment.
    pub date: i32,
    /// The id of the `messageActionPaymentSent` service message in the user's chat.
    pub receipt_msg_id: i32,
}

/// One Telegram Stars ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsEntry {
    /// Transaction id.
    pub id: String,
    /// Signed amount: negative for spending.
    pub amount: i64,
    /// Unix time.
    pub date: i32,
    /// The other side (a bot), or none for top-ups.
    pub peer: Option<i64>,
    /// Title shown in the history.
    pub title: String,
    /// The receipt message, for purchases.
    pub msg_id: Option<i32>,
}

/// The state of a 3-D Secure verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationState {
    /// Waiting for the user on the verification page.
    Pending,
    /// Confirmed: the payment went through.
    Confirmed,
    /// Failed or abandoned: nothing was charged.
    Failed,
}

/// A 3-D Secure verification, as the web page sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationView {
    /// Merchant name.
    pub merchant: String,
    /// Invoice title.
    pub title: String,
    /// Currency.
    pub currency: String,
    /// Total to be charged.
    pub total_amount: i64,
    /// The card.
    pub credentials_title: String,
    /// Where it stands.
    pub state: VerificationState,
}

/// Where a payment form stands, as the gateway page sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayState {
    /// The form can still be paid.
    Open,
    /// A payment with this form waits for 3-D Secure.
    Verifying,
    /// The form was paid.
    Paid,
    /// The form was closed (a failed verification) or expired.
    Closed,
}

/// A payment form, as the provider's gateway page (the form's `url`) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayView {
    /// Merchant name.
    pub merchant: String,
    /// Invoice title.
    pub title: String,
    /// Invoice description.
    pub description: String,
    /// Currency.
    pub currency: String,
    /// The invoice's total, before shipping and tip.
    pub total_amount: i64,
    /// Whether the form can still be paid.
    pub state: GatewayState,
}
