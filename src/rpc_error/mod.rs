//! Telegram's errors for the payment methods: the RPC error catalog as types.
//!
//! [`PaymentError`] has one variant per row of the RPC error catalog `tl/errors.tsv` (the TSV is
//! the only place the catalog is written down; `catalog.rs` is generated from it and
//! `tests/generated.rs` checks that it still is), plus
//! [`PaymentError::Unknown`] for any other RPC error and [`PaymentError::Invocation`] for failures
//! where Telegram never answered. Every error knows what the caller can do about it:
//! [`PaymentError::recovery`].
//!
//! ```
//! use grammers_mtsender::RpcError;
//! use tgpay::rpc_error::{PaymentError, Recovery};
//! use std::time::Duration;
//!
//! // How grammers hands over `FLOOD_WAIT_31`: the number is split off the name.
//! let raw = RpcError { code: 420, name: "FLOOD_WAIT".into(), value: Some(31), caused_by: None };
//! let error = PaymentError::from(raw);
//! assert!(matches!(error, PaymentError::FloodWait { seconds: 31 }));
//! assert_eq!(error.name(), Some("FLOOD_WAIT_X"));
//! assert_eq!(error.recovery(), Recovery::Wait(Duration::from_secs(31)));
//! assert!(error.to_string().ends_with("wait 31 seconds before trying again"));
//! ```

use std::fmt;
use std::time::Duration;

use grammers_mtsender::{InvocationError, RpcError};

pub use entry::{CatalogEntry, Provenance};
pub use recovery::{OrderField, Recovery};

pub use catalog::PaymentError;

use catalog::CATALOG;
use entry::RecoveryRule;

/// Defines [`PaymentError`] from the variant list that `catalog.rs` holds, generated from
/// `tl/errors.tsv`: `plain` rows become unit variants, `numbered` rows carry `seconds`. Each
/// variant is tied to its catalog row by index.
macro_rules! define_payment_error {
    (
        plain { $( $plain:ident = $plain_index:literal, $plain_doc:literal; )* }
        numbered { $( $numbered:ident = $numbered_index:literal, $numbered_doc:literal; )* }
    ) => {
        /// An error from one of the payment methods.
        ///
        /// One variant per row of the catalog `tl/errors.tsv` (the doc of each variant gives the
        /// catalog name, code and meaning), [`PaymentError::Unknown`] for every other RPC error,
        /// and [`PaymentError::Invocation`] when Telegram never answered.
        #[derive(Debug, thiserror::Error)]
        #[non_exhaustive]
        pub enum PaymentError {
            $(
                #[doc = $plain_doc]
                $plain,
            )*
            $(
                #[doc = $numbered_doc]
                $numbered {
                    /// The number Telegram put in the error name.
                    seconds: u32,
                },
            )*
            /// Telegram answered with an error the catalog does not list; the raw error is kept.
            Unknown(#[source] ::grammers_mtsender::RpcError),
            /// The request failed without an answer from Telegram (I/O, transport, dropped
            /// request, undecodable answer, session or data-center trouble), so the request may
            /// or may not have reached Telegram. Check the outcome (for a payment: look for a
            /// receipt) before sending it again.
            Invocation(#[source] ::grammers_mtsender::InvocationError),
        }

        impl PaymentError {
            /// The catalog row of this variant and the number it carries.
            pub(super) fn slot(&self) -> Option<(usize, u32)> {
                match self {
                    $( Self::$plain => Some(($plain_index, 0)), )*
                    $( Self::$numbered { seconds } => Some(($numbered_index, *seconds)), )*
                    Self::Unknown(_) | Self::Invocation(_) => None,
                }
            }

            /// The variant of catalog row `index`; `value` is used by numbered rows.
            pub(super) fn from_slot(index: usize, value: u32) -> Option<Self> {
                match index {
                    $( $plain_index => Some(Self::$plain), )*
                    $( $numbered_index => Some(Self::$numbered { seconds: value }), )*
                    _ => None,
                }
            }
        }
    };
}


#[rustfmt::skip]
mod catalog;
mod entry;
mod recovery;

/// Finds the catalog row of an RPC error as grammers hands it over, and the number it carries.
///
/// grammers moves the first number of the message into [`RpcError::value`] (`FLOOD_WAIT_31` →
/// `FLOOD_WAIT` + 31), and it does so for digits inside names too (`ADDRESS_STREET_LINE1_INVALID`
/// keeps its name and gets the value 1). So exact names are tried first, then numbered rows by
/// prefix, taking the number from `value` or, for errors built by hand, from a `_<digits>` suffix.
fn classify(error: &RpcError) -> Option<(usize, u32)> {
    if let Some(index) = CATALOG
        .iter()
        .position(|entry| !entry.is_numbered() && entry.name == error.name)
    {
        return Some((index, 0));
    }
    CATALOG.iter().enumerate().find_map(|(index, entry)| {
        if !entry.is_numbered() {
            return None;
        }
        let prefix = entry.prefix();
        if error.name == prefix {
            return error.value.map(|value| (index, value));
        }
        let digits = error.name.strip_prefix(prefix)?.strip_prefix('_')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(|value| (index, value))
    })
}

impl PaymentError {
    /// The catalog row of this error, if it is one of the catalog's variants.
    pub fn catalog_entry(&self) -> Option<&'static CatalogEntry> {
        self.slot().and_then(|(index, _)| CATALOG.get(index))
    }

    /// The error name: the catalog name (`FLOOD_WAIT_X` for numbered errors) or, for
    /// [`PaymentError::Unknown`], the raw name as grammers parsed it. `None` when Telegram never
    /// answered.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Unknown(raw) => Some(&raw.name),
            Self::Invocation(_) => None,
            _ => self.catalog_entry().map(CatalogEntry::name),
        }
    }

    /// The RPC error code: the catalog's for catalog variants, the received one for
    /// [`PaymentError::Unknown`]. `None` when Telegram never answered.
    pub fn code(&self) -> Option<i32> {
        match self {
            Self::Unknown(raw) => Some(raw.code),
            Self::Invocation(_) => None,
            _ => self.catalog_entry().map(CatalogEntry::code),
        }
    }

    /// What the caller can do about this error.
    ///
    /// An unknown error with code 420 (`FLOOD`) and a number means waiting that many seconds, as
    /// core.telegram.org/api/errors describes; other unknown errors and invocation failures give
    /// [`Recovery::None`].
    pub fn recovery(&self) -> Recovery {
        match self {
            Self::Unknown(raw) => match (raw.code, raw.value) {
                (420, Some(seconds)) => Recovery::Wait(Duration::from_secs(u64::from(seconds))),
                _ => Recovery::None,
            },
            Self::Invocation(_) => Recovery::None,
            _ => match self.slot() {
                Some((index, value)) => CATALOG
                    .get(index)
                    .map_or(Recovery::None, |entry| entry.recovery(value)),
                None => Recovery::None,
            },
        }
    }

    /// The methods the catalog lists for this error; empty for errors outside the catalog.
    pub fn methods(&self) -> &'static [&'static str] {
        self.catalog_entry().map_or(&[], CatalogEntry::methods)
    }

    /// What the error means.
    pub fn meaning(&self) -> &'static str {
        match self {
            Self::Unknown(_) => {
                "Telegram answered with an error that the payment catalog does not list"
            }
            Self::Invocation(_) => {
                "The request failed without an answer from Telegram, so it may or may not have reached Telegram"
            }
            _ => self.catalog_entry().map_or("", CatalogEntry::meaning),
        }
    }

    /// The `error_message` as Telegram sends it (`FLOOD_WAIT_31`); `None` when Telegram never
    /// answered.
    pub fn wire_message(&self) -> Option<String> {
        match self {
            Self::Unknown(raw) => Some(match raw.value {
                Some(value) if !raw.name.contains(&value.to_string()) => {
                    format!("{}_{value}", raw.name)
                }
                _ => raw.name.clone(),
            }),
            Self::Invocation(_) => None,
            _ => {
                let (index, value) = self.slot()?;
                CATALOG.get(index).map(|entry| entry.wire_message(value))
            }
        }
    }
}

/// How tgpay treats an answer to a money-moving request (`payments.sendPaymentForm`,
/// `payments.sendStarsForm`): the classification table of README's "Money safety".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoneyClass {
    /// Telegram refused the request before processing it (a flood wait, an invalid or expired
    /// field, a form of the wrong kind, an unregistered key): nothing was charged by it, and it is
    /// reported as it is.
    Rejected,
    /// A refusal that comes out of processing (a declined card, the merchant's pre-checkout
    /// refusal, too few Stars, an expired form, an invoice already paid) — and that a re-sent or
    /// concurrent request could also get after an earlier one charged. tgpay checks the ledger
    /// (the chat with the bot, the Stars history) first: a charge of this attempt makes it
    /// [`Outcome::Paid`](crate::Outcome::Paid); none, the refusal with its evidence; a failed
    /// check, [`Error::Ambiguous`](crate::Error::Ambiguous).
    Verified,
    /// Says nothing about whether the request was processed: a broken connection, no answer, a
    /// 5xx or negative code (`-503 Timeout`), `FORM_SUBMIT_DUPLICATE`. Reported as
    /// [`Error::Ambiguous`](crate::Error::Ambiguous) with the pending payment (a receipt found at once makes it paid).
    Ambiguous,
}

impl PaymentError {
    /// How this error is treated when it answers a money-moving request.
    pub fn money_class(&self) -> MoneyClass {
        if let Self::Invocation(_) = self {
            return MoneyClass::Ambiguous;
        }
        if self.code().is_some_and(|code| code >= 500 || code <= 0) {
            return MoneyClass::Ambiguous;
        }
        match self {
            Self::FormSubmitDuplicate => MoneyClass::Ambiguous,
            Self::PaymentFailed
            | Self::BotPrecheckoutFailed
            | Self::BotPrecheckoutTimeout
            | Self::PrecheckoutFailed
            | Self::BalanceTooLow
            | Self::FormExpired
            | Self::InvoiceAlreadyPaid
            | Self::MediaAlreadyPaid
            | Self::StargiftUsageLimited
            | Self::StargiftUserUsageLimited
            | Self::StargiftAlreadyUpgraded => MoneyClass::Verified,
            // An error nobody catalogued: assume it may follow processing, and check.
            Self::Unknown(raw) if raw.code != 420 && raw.code != 401 => MoneyClass::Verified,
            _ => MoneyClass::Rejected,
        }
    }
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(raw) => write!(
                f,
                "Telegram answered with an error outside the payment catalog ({raw}) — {}",
                self.recovery()
            ),
            Self::Invocation(error) => write!(
                f,
                "the request failed without an answer from Telegram, so it may or may not have \
                 reached Telegram ({error}) — check the outcome before sending it again"
            ),
            _ => write!(
                f,
                "{} ({}) — {}",
                self.meaning(),
                self.wire_message().unwrap_or_default(),
                self.recovery()
            ),
        }
    }
}

impl From<RpcError> for PaymentError {
    fn from(error: RpcError) -> Self {
        classify(&error)
            .and_then(|(index, value)| Self::from_slot(index, value))
            .unwrap_or(Self::Unknown(error))
    }
}

impl From<InvocationError> for PaymentError {
    fn from(error: InvocationError) -> Self {
        match error {
            InvocationError::Rpc(rpc) => Self::from(rpc),
            other => Self::Invocation(other),
        }
    }
}
