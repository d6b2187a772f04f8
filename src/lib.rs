//! tgpay: the user side of Telegram payments over MTProto, on [grammers].
//!
//! Only users can pay invoices. tgpay turns the payments part of Telegram's API into one async
//! method per user action over a grammers [`Client`](grammers_client::Client), with typed
//! values, typed errors that say what to do, and no way to charge twice by accident.
//!
//! # The flow
//!
//! ```text
//! InvoiceRef ──get_payment_form──▶ PaymentForm ─┬─ Card ──validate_requested_info──▶ ValidatedOrder
//!  (message, slug,                              │     (OrderInfo::autofill, save)      (id, shipping options)
//!   t.me / tg:// link)                          │                                            │
//!                                               │  Credentials: web JSON │ Stripe │ SmartGlocal │ Apple Pay │ Google Pay │ saved card
//!                                               │               (saved card: 2FA password ─SRP─▶ get_tmp_password, cached)
//!                                               │                                            │
//!                                               │       checkout(form).order().shipping_option().tip().credentials().max_total().send()
//!                                               └─ Stars ── checkout_stars(form).max_total().send()
//!                                                                       │
//!                  Outcome::Paid(Paid { receipt: ReceiptRef, .. })  │  Outcome::VerificationNeeded(Verification { url })
//!                                                                       │                    └─ wait_for_verification
//!                                             Receipt ◀── get_payment_receipt
//! ```
//!
//! 1. [`InvoiceRef`]: an invoice message, or a link (`t.me/$slug`, `t.me/invoice/slug`,
//!    `tg://invoice?slug=`) parsed with [`InvoiceRef::parse`].
//! 2. [`Payments::get_payment_form`]: a [`PaymentForm`], sanitized as TDLib does.
//! 3. [`OrderInfo::autofill`] and [`Payments::validate_requested_info`] when the invoice asks
//!    for a name, phone, e-mail or address; the shipping options come back with the order.
//! 4. [`Payments::checkout`] / [`Payments::checkout_stars`]: a builder that checks everything it
//!    can (order, shipping, tip, spend guard, `save`, tmp password) before sending.
//! 5. An [`Outcome`]: paid, with a [`ReceiptRef`] for [`Payments::get_payment_receipt`]; or a
//!    3-D Secure page to open, then [`Payments::wait_for_verification`].
//!
//! An [`Error`] says what went wrong and [`Error::recovery`] what to do. When a payment request
//! failed after it may have reached Telegram, the error is [`Error::Ambiguous`]: nothing is
//! re-sent, and [`Payments::reconcile`] finds out whether it was paid.
//!
//! Forward the app's updates to [`Payments::handle_update`]: that is how the merchant's reason
//! for a pre-checkout rejection and the receipt after 3-D Secure arrive (polling is the
//! fallback for the latter).
//!
//! # Example
//!
//! Paying a card invoice with shipping and a tip, and a Stars invoice, on the offline sandbox
//! (the `tgpay-sandbox` crate; with a real logged-in client the code is the same):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tgpay::credentials::StripeToken;
//! use tgpay_sandbox::{Sandbox, Scenario, scenario::ALICE};
//! use tgpay::{Credentials, InvoiceRef, OrderInfo, Outcome, PaymentForm, Payments};
//!
//! let sandbox = Sandbox::start(Scenario::default_world()).await?;
//! let alice = sandbox.client(ALICE)?; // a logged-in grammers client (keep it alive)
//! let payments = Payments::new(&alice.handle); // over its sender pool: see `payments`
//!
//! let invoice = InvoiceRef::parse("https://t.me/$hoodie")?;
//! let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
//!     unreachable!("the hoodie is sold for dollars");
//! };
//! let info = OrderInfo::autofill(&form.invoice.requested, form.saved_info.as_ref(), &OrderInfo::default());
//! let order = payments.validate_requested_info(&form, &info.info, false).await?;
//! let shipping = &order.shipping_options[0];
//! let outcome = payments
//!     .checkout(&form)
//!     .order(&order)
//!     .shipping_option(shipping.id.clone())
//!     .tip(form.invoice.currency.amount(100))
//!     .credentials(Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242")))
//!     .max_total(form.invoice.currency.amount(10_000))
//!     .send()
//!     .await?;
//! let Outcome::Paid(paid) = outcome else { unreachable!("no 3-D Secure for this card") };
//! let receipt = payments.get_payment_receipt(&paid.receipt).await?;
//! assert_eq!(receipt.total.to_string(), "$48.48"); // 39.99 + 2.50 + 4.99 shipping + 1.00 tip
//!
//! let PaymentForm::Stars(stars) = payments.get_payment_form(&InvoiceRef::parse("t.me/$sticker-pack")?).await? else {
//!     unreachable!("sold for Stars");
//! };
//! payments.checkout_stars(&stars).send().await?;
//! assert_eq!(payments.cached_stars_balance().map(|b| b.minor), Some(450));
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [grammers]: https://github.com/Lonami/grammers
// `unsafe` is denied everywhere but in `browser::process` (starting Chromium: its pre-exec
// hook), which allows it for itself.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod attempt;
#[cfg(feature = "browser")]
pub mod browser;
pub mod card;
pub mod checkout;
mod clock;
pub mod country;
pub mod credentials;
pub mod currency;
pub mod error;
pub mod form;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod invoice;
pub mod journal;
pub mod order;
pub mod payments;
pub mod receipt;
pub mod rpc_error;
pub mod secret;
pub mod srp;
pub mod stars;
pub mod text;
pub mod tl;
mod tl_serde;
#[cfg(feature = "stripe")]
pub mod tokenize;

pub use attempt::{
    AmbiguousPayment, Evidence, Outcome, Paid, PendingPayment, Reconciled, Verification,
};
pub use checkout::{Checkout, StarsCheckout};
pub use credentials::Credentials;
pub use currency::{Amount, Currency};
pub use error::{Error, PaymentError, Recovery};
pub use form::{CardForm, PaymentForm, StarsForm};
pub use invoice::InvoiceRef;
pub use order::{OrderInfo, ValidatedOrder};
pub use payments::{Payments, PaymentsConfig};
pub use receipt::{Receipt, ReceiptRef};

/// README's code blocks, compiled (and run, where they are not `no_run`) as doc tests.
#[cfg(all(doctest, feature = "browser"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
