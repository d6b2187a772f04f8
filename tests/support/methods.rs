// The error catalog's methods, shared by `tests/support/catalog.rs` (through `include!`),
// `tests/errors.rs` and `tests/tl_ids.rs`.

/// The methods the catalog covers; `*` in the `methods` column stands for all of them.
pub const CATALOG_METHODS: [&str; 12] = [
    "payments.getPaymentForm",
    "payments.validateRequestedInfo",
    "payments.sendPaymentForm",
    "payments.sendStarsForm",
    "payments.getPaymentReceipt",
    "payments.getSavedInfo",
    "payments.clearSavedInfo",
    "account.getPassword",
    "account.getTmpPassword",
    "payments.getStarsStatus",
    "payments.getStarsTransactions",
    "payments.getStarsTopupOptions",
];
