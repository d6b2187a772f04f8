//! tgpay: the user side of Telegram payments over MTProto.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod card;
pub mod country;
pub mod credentials;
pub mod currency;
pub mod error;
pub mod form;
pub mod invoice;
pub mod order;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod secret;
pub mod srp;
pub mod tl;
#[cfg(feature = "stripe")]
pub mod tokenize;
