//! The library side of the `tgpay` command line: the session file `tgpay login` writes
//! ([`session::FileSession`]), for programs that use the same sessions (tgpay's examples do).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod session;
