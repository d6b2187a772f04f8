//! [`CatalogEntry`]: one row of the catalog, and where it was confirmed ([`Provenance`]).

use std::time::Duration;

use grammers_mtsender::RpcError;
use grammers_tl_types as tl;

use super::catalog::CATALOG;
use super::{OrderField, PaymentError, Recovery};
/// Where a catalog row was confirmed (the catalog's `provenance` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provenance {
    /// Listed under "Possible errors" on the core.telegram.org page of at least one of its methods.
    MethodPage,
    /// In Telegram's error list (core.telegram.org/api/errors or the error database), generic or
    /// attached to other methods; the row says how the payment flow meets it.
    ErrorDb,
    /// Not published by Telegram; official clients (Telegram Desktop, Android, Web) handle it by
    /// name. Its numeric code is not published either: the catalog assumes 400.
    Client,
}

/// How a row's recovery is computed; `WaitX` takes the seconds from the error itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecoveryRule {
    RefetchForm,
    TopUpStars,
    ReenterPassword,
    OrderField(OrderField),
    OtherPaymentMethod,
    WaitX,
    ContactMerchant,
    UpdateClient,
    None,
}

/// One row of the RPC error catalog (`tl/errors.tsv`).
#[derive(Debug)]
pub struct CatalogEntry {
    pub(super) name: &'static str,
    pub(super) code: i32,
    pub(super) methods: &'static [&'static str],
    pub(super) any_method: bool,
    pub(super) meaning: &'static str,
    pub(super) rule: RecoveryRule,
    pub(super) provenance: Provenance,
}

impl CatalogEntry {
    /// Every row of the catalog, in file order.
    pub fn all() -> &'static [CatalogEntry] {
        &CATALOG
    }

    /// The row with this catalog name (`"BALANCE_TOO_LOW"`, `"FLOOD_WAIT_X"`).
    pub fn find(name: &str) -> Option<&'static CatalogEntry> {
        CATALOG.iter().find(|entry| entry.name == name)
    }

    /// The catalog name; numbered errors end in `_X` (`FLOOD_WAIT_X`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The RPC error code (400, 401, 403, 406, 420…).
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The methods that return this error (all of the catalog's methods if it is generic).
    pub fn methods(&self) -> &'static [&'static str] {
        self.methods
    }

    /// Whether any method may return this error (`*` in the catalog), like `FLOOD_WAIT_X`.
    pub fn any_method(&self) -> bool {
        self.any_method
    }

    /// What the error means.
    pub fn meaning(&self) -> &'static str {
        self.meaning
    }

    /// Where the row was confirmed.
    pub fn provenance(&self) -> Provenance {
        self.provenance
    }

    /// Whether the name carries a number (`_X`), which [`PaymentError`] keeps as `seconds`.
    pub fn is_numbered(&self) -> bool {
        self.name.ends_with("_X")
    }

    /// The name as Telegram sends it, without the `_X` placeholder.
    pub(super) fn prefix(&self) -> &'static str {
        self.name.strip_suffix("_X").unwrap_or(self.name)
    }

    /// The recovery for this row; `value` is the number of a numbered error.
    pub fn recovery(&self, value: u32) -> Recovery {
        match self.rule {
            RecoveryRule::RefetchForm => Recovery::RefetchForm,
            RecoveryRule::TopUpStars => Recovery::TopUpStars,
            RecoveryRule::ReenterPassword => Recovery::ReenterPassword,
            RecoveryRule::OrderField(field) => Recovery::OrderField(field),
            RecoveryRule::OtherPaymentMethod => Recovery::OtherPaymentMethod,
            RecoveryRule::WaitX => Recovery::Wait(Duration::from_secs(u64::from(value))),
            RecoveryRule::ContactMerchant => Recovery::ContactMerchant,
            RecoveryRule::UpdateClient => Recovery::UpdateClient,
            RecoveryRule::None => Recovery::None,
        }
    }

    /// The `error_message` Telegram sends for this row: the name, with `X` replaced by `value`
    /// for numbered errors (`FLOOD_WAIT_31`).
    pub fn wire_message(&self, value: u32) -> String {
        if self.is_numbered() {
            format!("{}_{value}", self.prefix())
        } else {
            self.name.to_owned()
        }
    }

    /// The [`PaymentError`] of this row; `value` is the number of a numbered error.
    pub fn error(&self, value: u32) -> PaymentError {
        let raw = tl::types::RpcError {
            error_code: self.code,
            error_message: self.wire_message(value),
        };
        PaymentError::from(RpcError::from(raw))
    }
}
