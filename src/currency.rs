//! Telegram's currency table, exact money amounts, and prices shown the way Telegram apps show them.
//!
//! ```
//! use tgpay::currency::{Amount, Currency};
//!
//! let usd = Currency::from_code("USD")?;
//! let price = usd.parse_amount("4.99")?;
//! let total = price.checked_mul(3)?;
//! assert_eq!(total.to_string(), "$14.97");
//! assert_eq!(total.format_plain(), "14.97 USD");
//! assert_eq!("14.97 USD".parse::<Amount>()?, total);
//! assert_eq!(Currency::XTR.amount(1500).to_string(), "1,500 ⭐");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The table
//!
//! [`Currency`] describes one currency: its ISO 4217 code, title, symbols, separators, which side
//! the symbol goes on, and its exponent (the number of decimal digits in a minor unit). The rules
//! come from, in lookup order:
//!
//! 1. Telegram Stars, `XTR` ([`Currency::XTR`], exponent 0), built in ([`CurrencySource::Stars`]);
//! 2. Telegram's currency table (`data/currencies.json`, a 2021 copy of
//!    `core.telegram.org/bots/payments/currencies.json`, compiled in; [`CurrencySource::Table`]);
//! 3. the currencies Telegram Desktop has formatting rules for that the 2021 table lacks
//!    (`data/currencies_supplement.json`: BHD, BYN, ETB, GHS, IQD, IRR, JOD, MMK, MOP, SYP, VEF;
//!    [`CurrencySource::Supplement`]), so that, for example, the three-digit dinars are not shown
//!    ten times too large.
//!
//! Both JSON files are parsed once, on first use.
//!
//! # Currencies Telegram added later
//!
//! A currency the server sends that none of the above knows must not make a payment form
//! unusable. TDLib passes the currency code through untouched and only bounds the amount;
//! Telegram Desktop (`Ui::LookupCurrencyRule`) falls back to a default rule: the code as the
//! symbol, on the left, no space, `,` thousands separator, `.` decimal separator, exponent 2.
//! [`Currency::from_code_or_fallback`] does the same and marks the result
//! [`CurrencySource::Fallback`]; [`Currency::is_known`] tells the two apart, and
//! [`Currency::from_code`] refuses unknown codes with [`CurrencyError::Unknown`].
//!
//! # Formatting
//!
//! [`Amount`]'s `Display` (and [`Amount::format`]) follows Telegram Desktop's
//! `Ui::FillAmountAndCurrency`:
//!
//! - a negative amount starts with U+2212 MINUS SIGN, before the symbol;
//! - the symbol is the table's `symbol` (the international one: `$`, `€`, `R$`, or the code such
//!   as `RUB`), never the `native` one (`руб.`, `￥`);
//! - `symbol_left` puts it before the number, otherwise after; `space_between` adds one ASCII
//!   space between symbol and number;
//! - the integer part is grouped by threes with the table's thousands separator (none for DKK,
//!   U+00A0 NO-BREAK SPACE where the table says so; Telegram Desktop can only store one byte and
//!   writes an ASCII space there);
//! - the fraction always has `exponent` digits, after the table's decimal separator.
//!
//! So USD is `$4.99`, EUR `1 234,56 €`, JPY `¥1,053,959`, RUB `1 053 959,00 RUB`, CHF
//! `1'234.56 CHF`, BRL `R$ 1.234,56`. Telegram Stars are shown as the count, grouped with `,`,
//! a space and the star U+2B50 (`50 ⭐`, `1,500 ⭐`; Telegram Desktop puts the star first), and the
//! sign is kept (`−50 ⭐`). The arithmetic is exact for every `i64`, where Telegram Desktop goes
//! through a `double`.
//!
//! [`Amount::format_plain`] is the machine format for logs and JSON: `4.99 USD`, `-4.99 USD`,
//! `50 XTR` (ASCII minus, `.` separator, no grouping, all `exponent` digits, then the code). It is
//! also what `serde` reads and writes, and [`Amount::parse_plain`] reads it back exactly.
//!
//! # Parsing what a user typed
//!
//! [`Currency::parse_amount`] (or [`Amount::parse`]) turns a decimal string into minor units:
//!
//! - leading and trailing whitespace is ignored; whitespace inside is an error;
//! - ASCII digits with at most one decimal separator: `4`, `4.9`, `4.99`, `.5` and `4.` are all
//!   accepted; at most `exponent` digits may follow the separator (none for JPY and XTR), more is
//!   [`ParseAmountError::TooManyDecimals`], even if they are zeros;
//! - the separator is `.`, or `,` for currencies whose own decimal separator is `,` (EUR, RUB,
//!   BRL, …). The table's other decimal separators (`-` for KGS and KZT, `;` for TJS, `/` for IRR)
//!   are not accepted: `-` would be mistaken for a sign;
//! - no thousands separators, no signs (a user never enters a negative price), no symbol;
//! - anything that does not fit an `i64` count of minor units is [`ParseAmountError::Overflow`].
//!
//! # Limits from the table
//!
//! The table's `min_amount`/`max_amount` date from 2021 and are exposed as
//! [`Currency::advisory_min`] and [`Currency::advisory_max`] only: nothing in this crate refuses
//! an amount because of them; the server decides.

mod amount;
mod table;

pub use amount::{AmountError, Operation, ParseAmountError};

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use table::Entry;

/// Where a [`Currency`]'s rules come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CurrencySource {
    /// Telegram's currency table (`data/currencies.json`, 2021), with advisory limits.
    Table,
    /// Telegram Desktop's rules for currencies the 2021 table lacks
    /// (`data/currencies_supplement.json`); no advisory limits.
    Supplement,
    /// Telegram Stars (`XTR`), built in; no advisory limits.
    Stars,
    /// A well-formed code nobody here knows, formatted with Telegram Desktop's default rule.
    Fallback,
}

/// A currency and its display rules. Cheap to copy; compares, hashes and orders by code.
#[derive(Clone, Copy)]
pub struct Currency {
    code: [u8; 3],
    entry: &'static Entry,
}

/// An amount of money: a whole number of the currency's smallest units.
///
/// Arithmetic is exact and checked; amounts in different currencies never mix (see
/// [`Amount::checked_add`], [`Amount::checked_cmp`]). `Display` shows it as Telegram apps do
/// (`$4.99`); [`Amount::format_plain`] gives `4.99 USD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Amount {
    /// The currency.
    pub currency: Currency,
    /// The amount in the currency's smallest units (cents for USD, yen for JPY, stars for XTR).
    pub minor: i64,
}

/// A currency code was malformed or unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CurrencyError {
    /// Three letters, but not a currency of Telegram's table, Telegram Desktop's rules or Stars.
    #[error(
        "unknown currency {code}: neither Telegram's currency table nor Telegram Desktop's rules \
         have it; use Currency::from_code_or_fallback to show it with Telegram Desktop's default \
         rule"
    )]
    Unknown {
        /// The code, upper-cased.
        code: String,
    },
    /// Not an ISO 4217 code (three ASCII letters).
    #[error("invalid currency code {code:?}: expected three letters such as \"USD\"")]
    InvalidCode {
        /// The code as given (the first 16 characters).
        code: String,
    },
}

impl Currency {
    /// Telegram Stars: exponent 0, shown as `50 ⭐`.
    pub const XTR: Currency = Currency {
        code: *b"XTR",
        entry: &table::XTR,
    };

    /// The currency with this ISO 4217 code, from Telegram Stars, Telegram's table or the
    /// Telegram Desktop supplement.
    ///
    /// ASCII case is ignored (`"usd"` is USD); Telegram itself always sends upper case.
    pub fn from_code(code: &str) -> Result<Currency, CurrencyError> {
        let code = normalize_code(code)?;
        match table::find(code) {
            Some(entry) => Ok(Currency { code, entry }),
            None => Err(CurrencyError::Unknown {
                code: code_str(&code).to_owned(),
            }),
        }
    }

    /// Like [`Currency::from_code`], but a well-formed code nobody here knows gets Telegram
    /// Desktop's default rule instead of an error (see the module docs);
    /// [`Currency::is_known`] is then `false`. Use this for codes the server sends.
    pub fn from_code_or_fallback(code: &str) -> Result<Currency, CurrencyError> {
        let code = normalize_code(code)?;
        let entry = table::find(code).unwrap_or(&table::FALLBACK);
        Ok(Currency { code, entry })
    }

    /// Every known currency: Telegram Stars, then the table and the supplement in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        std::iter::once(Currency::XTR).chain(table::entries().iter().map(|entry| Currency {
            code: entry.code,
            entry,
        }))
    }

    /// The ISO 4217 code, upper case (`"USD"`).
    pub fn code(&self) -> &str {
        code_str(&self.code)
    }

    /// The English name (`"United States Dollar"`); the code for a fallback currency.
    pub fn title(&self) -> &str {
        self.text_or_code(&self.entry.title)
    }

    /// The symbol Telegram apps show (`"$"`, `"€"`, `"CHF"`); the code for a fallback currency.
    pub fn symbol(&self) -> &str {
        self.text_or_code(&self.entry.symbol)
    }

    /// The symbol used in the currency's home country (`"руб."`, `"￥"`); Telegram apps do not
    /// show it. The code for a fallback currency.
    pub fn native_symbol(&self) -> &str {
        self.text_or_code(&self.entry.native)
    }

    /// The thousands separator, if the currency groups digits (DKK does not).
    pub fn thousands_separator(&self) -> Option<char> {
        self.entry.thousands
    }

    /// The decimal separator shown between the integer part and the fraction.
    pub fn decimal_separator(&self) -> char {
        self.entry.decimal
    }

    /// Whether the symbol goes before the number (`$4.99`) rather than after (`4,99 €`).
    pub fn symbol_left(&self) -> bool {
        self.entry.symbol_left
    }

    /// Whether a space separates the symbol and the number.
    pub fn space_between(&self) -> bool {
        self.entry.space_between
    }

    /// How many decimal digits a minor unit has: 2 for USD (cents), 0 for JPY and XTR, 3 for BHD.
    pub fn exponent(&self) -> u8 {
        self.entry.exponent
    }

    /// The smallest amount Telegram's 2021 table allowed, for information only: it is out of
    /// date, and nothing in this crate refuses an amount because of it. `None` outside the table.
    pub fn advisory_min(&self) -> Option<Amount> {
        self.entry.advisory_min.map(|minor| self.amount(minor))
    }

    /// The largest amount Telegram's 2021 table allowed, for information only: it is out of date,
    /// and nothing in this crate refuses an amount because of it. `None` outside the table.
    pub fn advisory_max(&self) -> Option<Amount> {
        self.entry.advisory_max.map(|minor| self.amount(minor))
    }

    /// Where the rules come from.
    pub fn source(&self) -> CurrencySource {
        self.entry.source
    }

    /// Whether the rules are real ones rather than Telegram Desktop's default rule.
    pub fn is_known(&self) -> bool {
        self.entry.source != CurrencySource::Fallback
    }

    /// Whether this is Telegram Stars (`XTR`).
    pub fn is_stars(&self) -> bool {
        self.code == *b"XTR"
    }

    /// `minor` smallest units of this currency.
    pub const fn amount(self, minor: i64) -> Amount {
        Amount {
            currency: self,
            minor,
        }
    }

    /// Parses what a user typed (`"4.99"`) into an amount of this currency; the rules are in the
    /// module docs.
    pub fn parse_amount(self, input: &str) -> Result<Amount, ParseAmountError> {
        Amount::parse(input, self)
    }

    fn text_or_code<'a>(&'a self, text: &'a str) -> &'a str {
        if self.entry.source == CurrencySource::Fallback {
            self.code()
        } else {
            text
        }
    }
}

/// Upper-cases and checks a code: exactly three ASCII letters.
fn normalize_code(code: &str) -> Result<[u8; 3], CurrencyError> {
    match code.as_bytes() {
        [a, b, c] if code.bytes().all(|byte| byte.is_ascii_alphabetic()) => Ok([
            a.to_ascii_uppercase(),
            b.to_ascii_uppercase(),
            c.to_ascii_uppercase(),
        ]),
        _ => Err(CurrencyError::InvalidCode {
            code: code.chars().take(16).collect(),
        }),
    }
}

/// The text of a code known to be three ASCII letters.
fn code_str(code: &[u8; 3]) -> &str {
    std::str::from_utf8(code).unwrap_or("???")
}

impl PartialEq for Currency {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Currency {}

impl Hash for Currency {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.code.hash(state);
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Currency {
    fn cmp(&self, other: &Self) -> Ordering {
        self.code.cmp(&other.code)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_known() {
            write!(f, "Currency({})", self.code())
        } else {
            write!(f, "Currency({}, fallback)", self.code())
        }
    }
}

/// The code (`USD`).
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = CurrencyError;

    /// [`Currency::from_code`].
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::from_code(code)
    }
}

/// Serialized as its code.
impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Read with [`Currency::from_code_or_fallback`], so a newer currency still loads.
impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Currency::from_code_or_fallback(&code).map_err(serde::de::Error::custom)
    }
}
