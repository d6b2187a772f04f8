//! The compiled-in currency tables, parsed once on first use.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::CurrencySource;

/// Telegram's currency table, 2021 copy of `core.telegram.org/bots/payments/currencies.json`.
const TABLE_JSON: &str = include_str!("../../data/currencies.json");
/// Telegram Desktop's rules for currencies the 2021 table lacks.
const SUPPLEMENT_JSON: &str = include_str!("../../data/currencies_supplement.json");

/// One currency's rules.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) code: [u8; 3],
    pub(super) title: Cow<'static, str>,
    pub(super) symbol: Cow<'static, str>,
    pub(super) native: Cow<'static, str>,
    pub(super) thousands: Option<char>,
    pub(super) decimal: char,
    pub(super) symbol_left: bool,
    pub(super) space_between: bool,
    pub(super) exponent: u8,
    pub(super) advisory_min: Option<i64>,
    pub(super) advisory_max: Option<i64>,
    pub(super) source: CurrencySource,
}

/// Telegram Stars: the count grouped by `,`, a space, then the star (`50 ⭐`).
pub(super) static XTR: Entry = Entry {
    code: *b"XTR",
    title: Cow::Borrowed("Telegram Stars"),
    symbol: Cow::Borrowed("\u{2B50}"),
    native: Cow::Borrowed("\u{2B50}"),
    thousands: Some(','),
    decimal: '.',
    symbol_left: false,
    space_between: true,
    exponent: 0,
    advisory_min: None,
    advisory_max: None,
    source: CurrencySource::Stars,
};

/// Telegram Desktop's default `CurrencyRule`: code on the left, no space, `,` and `.`, exponent 2.
/// The texts are empty: `Currency` substitutes its own code.
pub(super) static FALLBACK: Entry = Entry {
    code: *b"???",
    title: Cow::Borrowed(""),
    symbol: Cow::Borrowed(""),
    native: Cow::Borrowed(""),
    thousands: Some(','),
    decimal: '.',
    symbol_left: true,
    space_between: false,
    exponent: 2,
    advisory_min: None,
    advisory_max: None,
    source: CurrencySource::Fallback,
};

/// The largest exponent accepted from the tables (CLF, the largest ISO 4217 exponent, has 4).
const MAX_EXPONENT: u8 = 4;

/// The table and the supplement, sorted by code.
pub(super) fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(load)
}

/// The rules for an upper-case code.
pub(super) fn find(code: [u8; 3]) -> Option<&'static Entry> {
    if code == XTR.code {
        return Some(&XTR);
    }
    let entries = entries();
    entries
        .binary_search_by(|entry| entry.code.cmp(&code))
        .ok()
        .and_then(|index| entries.get(index))
}

#[derive(serde::Deserialize)]
struct Row {
    code: String,
    title: String,
    symbol: String,
    native: String,
    thousands_sep: String,
    decimal_sep: String,
    symbol_left: bool,
    space_between: bool,
    exp: u8,
    // Strings in the table, except USD's max_amount, which is a number.
    #[serde(default)]
    min_amount: Option<serde_json::Value>,
    #[serde(default)]
    max_amount: Option<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct Supplement {
    currencies: BTreeMap<String, Row>,
}

fn load() -> Vec<Entry> {
    let mut entries = Vec::new();
    match serde_json::from_str::<BTreeMap<String, Row>>(TABLE_JSON) {
        Ok(rows) => add_rows(&mut entries, rows, CurrencySource::Table),
        Err(error) => tracing::error!(%error, "the compiled-in currency table does not parse"),
    }
    match serde_json::from_str::<Supplement>(SUPPLEMENT_JSON) {
        Ok(supplement) => add_rows(
            &mut entries,
            supplement.currencies,
            CurrencySource::Supplement,
        ),
        Err(error) => tracing::error!(%error, "the compiled-in currency supplement does not parse"),
    }
    entries.sort_by_key(|entry| entry.code);
    entries.dedup_by_key(|entry| entry.code);
    entries
}

fn add_rows(entries: &mut Vec<Entry>, rows: BTreeMap<String, Row>, source: CurrencySource) {
    for (key, row) in rows {
        match entry(&key, row, source) {
            Ok(entry) => entries.push(entry),
            Err(problem) => {
                tracing::error!(code = %key, problem, "skipping a malformed currency table row");
            }
        }
    }
}

fn entry(key: &str, row: Row, source: CurrencySource) -> Result<Entry, &'static str> {
    let code = match row.code.as_bytes() {
        [a, b, c] if row.code.bytes().all(|byte| byte.is_ascii_uppercase()) => [*a, *b, *c],
        _ => return Err("the code is not three upper-case letters"),
    };
    if row.code != key || code == XTR.code {
        return Err("the code does not match its key, or is XTR");
    }
    if row.exp > MAX_EXPONENT {
        return Err("the exponent is larger than 4");
    }
    let thousands = match single_char(&row.thousands_sep) {
        Ok(thousands) => thousands,
        Err(()) => return Err("the thousands separator is longer than one character"),
    };
    let decimal = match single_char(&row.decimal_sep) {
        Ok(Some(decimal)) if !decimal.is_ascii_digit() => decimal,
        _ => return Err("the decimal separator is not one non-digit character"),
    };
    let advisory_min = limit(row.min_amount)?;
    let advisory_max = limit(row.max_amount)?;
    if let (Some(min), Some(max)) = (advisory_min, advisory_max) {
        if min > max {
            return Err("min_amount is larger than max_amount");
        }
    }
    Ok(Entry {
        code,
        title: Cow::Owned(row.title),
        symbol: Cow::Owned(row.symbol),
        native: Cow::Owned(row.native),
        thousands,
        decimal,
        symbol_left: row.symbol_left,
        space_between: row.space_between,
        exponent: row.exp,
        advisory_min,
        advisory_max,
        source,
    })
}

/// `Ok(None)` for an empty string, `Ok(Some(c))` for one character, `Err` otherwise.
fn single_char(text: &str) -> Result<Option<char>, ()> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        (Some(_), Some(_)) => Err(()),
    }
}

fn limit(value: Option<serde_json::Value>) -> Result<Option<i64>, &'static str> {
    let limit = match value {
        None => return Ok(None),
        Some(serde_json::Value::String(text)) => text.parse::<i64>().ok(),
        Some(serde_json::Value::Number(number)) => number.as_i64(),
        Some(_) => None,
    };
    match limit {
        Some(limit) if limit >= 0 => Ok(Some(limit)),
        _ => Err("min_amount or max_amount is not a non-negative integer"),
    }
}
