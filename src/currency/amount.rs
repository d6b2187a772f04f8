//! [`Amount`]: exact arithmetic, formatting and parsing.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;

use super::{Amount, Currency, CurrencyError};

/// An arithmetic operation, named in [`AmountError::Overflow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`Amount::checked_add`].
    Add,
    /// [`Amount::checked_sub`].
    Sub,
    /// [`Amount::checked_mul`].
    Mul,
    /// [`Amount::checked_neg`].
    Neg,
    /// [`Amount::checked_sum`].
    Sum,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Add => "adding",
            Operation::Sub => "subtracting",
            Operation::Mul => "multiplying",
            Operation::Neg => "negating",
            Operation::Sum => "summing",
        })
    }
}

/// Arithmetic or comparison on amounts failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// The two amounts are in different currencies.
    #[error(
        "cannot combine {left} and {right} amounts: amounts in different currencies are never \
         added, subtracted or compared; keep them apart"
    )]
    CurrencyMismatch {
        /// The currency of the amount the method was called on (or the sum's currency).
        left: Currency,
        /// The currency of the other amount.
        right: Currency,
    },
    /// The exact result does not fit an `i64` count of minor units.
    #[error(
        "{operation} {currency} amounts overflowed: the result does not fit in 64 bits of minor \
         units; split the payment"
    )]
    Overflow {
        /// The currency.
        currency: Currency,
        /// What overflowed.
        operation: Operation,
    },
}

/// A decimal string could not be read as an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseAmountError {
    /// Nothing but whitespace.
    #[error("no amount given: enter a {currency} amount such as {example}", example = Example(*currency))]
    Empty {
        /// The currency being parsed.
        currency: Currency,
    },
    /// A decimal separator but no digits.
    #[error("the {currency} amount has no digits: enter one such as {example}", example = Example(*currency))]
    NoDigits {
        /// The currency being parsed.
        currency: Currency,
    },
    /// A leading `+`, `-` or `−`.
    #[error(
        "a {currency} amount is entered without a sign: enter it as {example}",
        example = Example(*currency)
    )]
    Sign {
        /// The currency being parsed.
        currency: Currency,
    },
    /// A character that is neither a digit nor the one decimal separator.
    #[error(
        "unexpected {character:?} at position {position} of the {currency} amount: use digits and \
         at most one decimal separator ({separators}), without spaces or thousands separators, \
         e.g. {example}",
        separators = Separators(*currency),
        example = Example(*currency)
    )]
    InvalidCharacter {
        /// The currency being parsed.
        currency: Currency,
        /// The character.
        character: char,
        /// Its 1-based position in the input, counted in characters.
        position: usize,
    },
    /// More digits after the separator than the currency's exponent allows.
    #[error("{rule}, e.g. {example}", rule = DecimalsRule(*currency, *found), example = Example(*currency))]
    TooManyDecimals {
        /// The currency being parsed.
        currency: Currency,
        /// The currency's exponent.
        exponent: u8,
        /// How many digits followed the separator.
        found: usize,
    },
    /// The amount does not fit an `i64` count of minor units.
    #[error(
        "the {currency} amount is too large: amounts are limited to {max} (2^63 - 1 minor units)",
        max = currency.amount(i64::MAX).format_plain()
    )]
    Overflow {
        /// The currency being parsed.
        currency: Currency,
    },
    /// [`Amount::parse_plain`] found no currency code.
    #[error("expected an amount and a currency code such as \"4.99 USD\", got {input:?}")]
    MissingCurrency {
        /// The input (the first 64 characters).
        input: String,
    },
    /// [`Amount::parse_plain`] found a malformed currency code.
    #[error(transparent)]
    Currency(#[from] CurrencyError),
}

/// Shows an example amount for a currency's parsing errors: `4.99`, `4.99 or 4,99`, `499`.
struct Example(Currency);

impl fmt::Display for Example {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = usize::from(self.0.exponent());
        if exponent == 0 {
            return f.write_str("499");
        }
        let fraction = "9".repeat(exponent);
        write!(f, "4.{fraction}")?;
        if accepts_comma(self.0) {
            write!(f, " or 4,{fraction}")?;
        }
        Ok(())
    }
}

/// States how many decimals a currency takes and how many were given.
struct DecimalsRule(Currency, usize);

impl fmt::Display for DecimalsRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(currency, found) = *self;
        let digits = if found == 1 { "digit" } else { "digits" };
        match currency.exponent() {
            0 => write!(
                f,
                "{currency} amounts are whole numbers (exponent 0), but {found} {digits} followed \
                 the decimal separator: leave out the fraction"
            ),
            exponent => write!(
                f,
                "{currency} amounts have at most {exponent} digits after the decimal separator \
                 (the currency's exponent), but {found} {digits} were given: round to {exponent}"
            ),
        }
    }
}

/// Lists the decimal separators a currency's parser accepts.
struct Separators(Currency);

impl fmt::Display for Separators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if accepts_comma(self.0) {
            f.write_str("'.' or ','")
        } else {
            f.write_str("'.'")
        }
    }
}

/// Whether `,` is accepted as a decimal separator: when it is the currency's own.
fn accepts_comma(currency: Currency) -> bool {
    currency.decimal_separator() == ','
}

/// TDLib's bound on a sane amount (`check_currency_amount` in `td/telegram/misc.cpp`).
const MAX_PLAUSIBLE_MINOR: i64 = 999_999_999_999;

impl Amount {
    /// `minor` smallest units of `currency`.
    pub const fn new(currency: Currency, minor: i64) -> Amount {
        Amount { currency, minor }
    }

    /// Parses what a user typed (`"4.99"`) as an amount of `currency`.
    ///
    /// Whitespace around the number is ignored; the number is ASCII digits with at most one
    /// decimal separator (`.`, or `,` where the currency's own separator is `,`), `4`, `4.9`,
    /// `.5` and `4.` included, and at most [`Currency::exponent`] digits after it. Signs,
    /// symbols, thousands separators and inner spaces are refused. See the module docs.
    pub fn parse(input: &str, currency: Currency) -> Result<Amount, ParseAmountError> {
        let minor = parse_number(input, currency, Grammar::User)?;
        Ok(Amount { currency, minor })
    }

    /// Reads the machine format of [`Amount::format_plain`] (`"4.99 USD"`, `"-4.99 USD"`,
    /// `"50 XTR"`): an optional `-`, digits, an optional `.` and at most `exponent` digits, one
    /// space, a currency code. Unknown codes get the fallback rule
    /// ([`Currency::from_code_or_fallback`]); surrounding whitespace is ignored.
    pub fn parse_plain(input: &str) -> Result<Amount, ParseAmountError> {
        let trimmed = input.trim();
        let Some((number, code)) = trimmed.rsplit_once(' ') else {
            return Err(ParseAmountError::MissingCurrency {
                input: input.chars().take(64).collect(),
            });
        };
        let currency = Currency::from_code_or_fallback(code)?;
        let minor = parse_number(number, currency, Grammar::Plain)?;
        Ok(Amount { currency, minor })
    }

    /// Whether the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// Whether the amount is above zero.
    pub const fn is_positive(&self) -> bool {
        self.minor > 0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// Whether the amount is within TDLib's sanity bound, ±999 999 999 999 minor units
    /// (`check_currency_amount`); TDLib treats invoice totals outside it as corrupt.
    pub const fn is_plausible(&self) -> bool {
        -MAX_PLAUSIBLE_MINOR <= self.minor && self.minor <= MAX_PLAUSIBLE_MINOR
    }

    /// `self + other`, exactly.
    pub fn checked_add(self, other: Amount) -> Result<Amount, AmountError> {
        self.same_currency(other)?;
        self.with(self.minor.checked_add(other.minor), Operation::Add)
    }

    /// `self - other`, exactly.
    pub fn checked_sub(self, other: Amount) -> Result<Amount, AmountError> {
        self.same_currency(other)?;
        self.with(self.minor.checked_sub(other.minor), Operation::Sub)
    }

    /// `self × factor`, exactly (a quantity, a number of months).
    pub fn checked_mul(self, factor: i64) -> Result<Amount, AmountError> {
        self.with(self.minor.checked_mul(factor), Operation::Mul)
    }

    /// `-self`, exactly (fails only for `i64::MIN`).
    pub fn checked_neg(self) -> Result<Amount, AmountError> {
        self.with(self.minor.checked_neg(), Operation::Neg)
    }

    /// The exact sum of `amounts`, all in `currency`; zero for none. Intermediate sums may leave
    /// the `i64` range as long as the total fits.
    pub fn checked_sum<I>(currency: Currency, amounts: I) -> Result<Amount, AmountError>
    where
        I: IntoIterator,
        I::Item: Borrow<Amount>,
    {
        let mut total: i128 = 0;
        for amount in amounts {
            let amount = *amount.borrow();
            if amount.currency != currency {
                return Err(AmountError::CurrencyMismatch {
                    left: currency,
                    right: amount.currency,
                });
            }
            // At most 2^64 terms of at most 2^63 each fit in an i128.
            total = total
                .checked_add(i128::from(amount.minor))
                .ok_or(AmountError::Overflow {
                    currency,
                    operation: Operation::Sum,
                })?;
        }
        let minor = i64::try_from(total).map_err(|_| AmountError::Overflow {
            currency,
            operation: Operation::Sum,
        })?;
        Ok(Amount { currency, minor })
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(&self, other: &Amount) -> Result<Ordering, AmountError> {
        self.same_currency(*other)?;
        Ok(self.minor.cmp(&other.minor))
    }

    /// The amount as Telegram apps show it (`$4.99`, `1 234,56 €`, `50 ⭐`); the same as
    /// `Display`. The rules are in the module docs.
    pub fn format(&self) -> String {
        self.to_string()
    }

    /// Like [`Amount::format`], but a fraction of zero is left out (`$5` instead of `$5.00`),
    /// as Telegram Desktop does with `forceStripDotZero`.
    pub fn format_compact(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = write_display(&mut text, self, true);
        text
    }

    /// The machine format for logs and JSON: `4.99 USD`, `-4.99 USD`, `50 XTR`. Read it back
    /// with [`Amount::parse_plain`].
    pub fn format_plain(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = write_plain(&mut text, self);
        text
    }

    fn same_currency(&self, other: Amount) -> Result<(), AmountError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(AmountError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    fn with(self, minor: Option<i64>, operation: Operation) -> Result<Amount, AmountError> {
        match minor {
            Some(minor) => Ok(Amount {
                currency: self.currency,
                minor,
            }),
            None => Err(AmountError::Overflow {
                currency: self.currency,
                operation,
            }),
        }
    }
}

/// As Telegram apps show it: `$4.99`, `1 234,56 €`, `50 ⭐`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_display(f, self, false)
    }
}

impl std::str::FromStr for Amount {
    type Err = ParseAmountError;

    /// [`Amount::parse_plain`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Amount::parse_plain(input)
    }
}

/// Serialized in the plain format, `"4.99 USD"`.
impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.format_plain())
    }
}

/// Read from the plain format with [`Amount::parse_plain`].
impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Amount::parse_plain(&text).map_err(serde::de::Error::custom)
    }
}

/// The integer part and the fraction of `|minor|` for a currency's exponent.
fn split(minor: i64, exponent: u8) -> (u64, u64) {
    let magnitude = minor.unsigned_abs();
    // The tables hold exponents up to 4; 10^19 still fits a u64.
    let scale = 10u64.saturating_pow(u32::from(exponent));
    (magnitude / scale, magnitude % scale)
}

fn write_display(out: &mut impl fmt::Write, amount: &Amount, compact: bool) -> fmt::Result {
    let currency = amount.currency;
    let exponent = currency.exponent();
    let (integer, fraction) = split(amount.minor, exponent);
    if amount.minor < 0 {
        out.write_char('\u{2212}')?;
    }
    if currency.symbol_left() {
        out.write_str(currency.symbol())?;
        if currency.space_between() {
            out.write_char(' ')?;
        }
    }
    write_grouped(out, integer, currency.thousands_separator())?;
    if exponent > 0 && !(compact && fraction == 0) {
        out.write_char(currency.decimal_separator())?;
        write!(out, "{fraction:0width$}", width = usize::from(exponent))?;
    }
    if !currency.symbol_left() {
        if currency.space_between() {
            out.write_char(' ')?;
        }
        out.write_str(currency.symbol())?;
    }
    Ok(())
}

fn write_plain(out: &mut impl fmt::Write, amount: &Amount) -> fmt::Result {
    let exponent = amount.currency.exponent();
    let (integer, fraction) = split(amount.minor, exponent);
    if amount.minor < 0 {
        out.write_char('-')?;
    }
    write!(out, "{integer}")?;
    if exponent > 0 {
        write!(out, ".{fraction:0width$}", width = usize::from(exponent))?;
    }
    write!(out, " {}", amount.currency.code())
}

/// Writes `value` with `separator` between groups of three digits.
fn write_grouped(out: &mut impl fmt::Write, value: u64, separator: Option<char>) -> fmt::Result {
    let Some(separator) = separator else {
        return write!(out, "{value}");
    };
    // u64::MAX has 20 digits: at most 7 groups.
    let mut groups = [0u16; 7];
    let mut count = 0;
    let mut rest = value;
    for slot in groups.iter_mut() {
        *slot = (rest % 1000) as u16;
        count += 1;
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let mut first = true;
    for group in groups.iter().take(count).rev() {
        if first {
            write!(out, "{group}")?;
            first = false;
        } else {
            write!(out, "{separator}{group:03}")?;
        }
    }
    Ok(())
}

/// Which strings a parser accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grammar {
    /// What a user typed: no sign; `.` or the currency's own `,`.
    User,
    /// The plain format: an optional `-`; `.` only.
    Plain,
}

fn parse_number(
    input: &str,
    currency: Currency,
    grammar: Grammar,
) -> Result<i64, ParseAmountError> {
    let trimmed = input.trim_start();
    // Characters before `trimmed`, for 1-based positions in the original input.
    let skipped = input.len() - trimmed.len();
    let skipped_chars = input.get(..skipped).map_or(0, |lead| lead.chars().count());
    let trimmed = trimmed.trim_end();
    if trimmed.is_empty() {
        return Err(ParseAmountError::Empty { currency });
    }

    let mut chars = trimmed.chars().enumerate().peekable();
    let mut negative = false;
    if let Some(&(_, first)) = chars.peek() {
        if matches!(first, '+' | '-' | '\u{2212}') {
            if grammar == Grammar::Plain && first == '-' {
                negative = true;
                chars.next();
            } else {
                return Err(ParseAmountError::Sign { currency });
            }
        }
    }

    let exponent = currency.exponent();
    let comma = grammar == Grammar::User && accepts_comma(currency);
    // |value| may reach 2^63 for a negative amount; an i128 holds every step below the checks.
    let limit = i128::from(i64::MAX) + 1;
    let mut value: i128 = 0;
    let mut digits = 0usize;
    let mut decimals: Option<usize> = None;
    for (index, character) in chars {
        match character {
            '0'..='9' => {
                if let Some(count) = decimals.as_mut() {
                    *count += 1;
                    if *count > usize::from(exponent) {
                        continue;
                    }
                }
                digits += 1;
                value = value * 10 + i128::from(u32::from(character) - u32::from('0'));
                if value > limit {
                    return Err(ParseAmountError::Overflow { currency });
                }
            }
            '.' | ',' if decimals.is_none() && (character == '.' || comma) => {
                decimals = Some(0);
            }
            _ => {
                return Err(ParseAmountError::InvalidCharacter {
                    currency,
                    character,
                    position: skipped_chars + index + 1,
                });
            }
        }
    }
    let decimals = decimals.unwrap_or(0);
    if decimals > usize::from(exponent) {
        return Err(ParseAmountError::TooManyDecimals {
            currency,
            exponent,
            found: decimals,
        });
    }
    if digits == 0 {
        return Err(ParseAmountError::NoDigits { currency });
    }
    for _ in decimals..usize::from(exponent) {
        value *= 10;
        if value > limit {
            return Err(ParseAmountError::Overflow { currency });
        }
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| ParseAmountError::Overflow { currency })
}
