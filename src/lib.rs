//! tgpay: the user side of Telegram payments over MTProto.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod card;
pub mod checkout;
pub mod country;
pub mod credentials;
pub mod currency;
pub mod error;
pub mod form;
pub mod invoice;
pub mod order;
pub mod payments;
pub mod receipt;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod secret;
pub mod srp;
pub mod stars;
pub mod tl;
#[cfg(feature = "stripe")]
pub mod tokenize;

pub use checkout::{
    AmbiguousPayment, Checkout, Outcome, Paid, Reconciled, StarsCheckout, Verification,
};
pub use credentials::Credentials;
pub use currency::{Amount, Currency};
pub use error::{Error, PaymentError, Recovery};
pub use form::{CardForm, PaymentForm, StarsForm};
pub use invoice::InvoiceRef;
pub use order::{OrderInfo, ValidatedOrder};
pub use payments::{Payments, PaymentsConfig};
pub use receipt::{Receipt, ReceiptRef};
