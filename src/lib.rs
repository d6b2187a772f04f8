//! tgpay: the user side of Telegram payments over MTProto.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod country;
pub mod currency;
pub mod error;
pub mod invoice;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod srp;
pub mod tl;
