//! Local card checks, done before a card number goes anywhere: normalisation, the Luhn check
//! digit, the brand from the issuer identification number (IIN), per-brand lengths, the CVC,
//! the expiry date and the billing details a provider asks for.
//!
//! ```
//! use tgpay::card::{Brand, Card, YearMonth};
//!
//! let now = YearMonth::new(2026, 5).unwrap();
//! let card = Card::builder()
//!     .number("4242 4242 4242 4242")
//!     .expiry("12/34")
//!     .cvc("123")
//!     .build_at(now)
//!     .unwrap();
//! assert_eq!(card.brand(), Brand::Visa);
//! assert_eq!(card.title(), "Visa *4242");
//! // The number and the CVC never show.
//! let shown = format!("{card:?}");
//! assert!(!shown.contains("4242424242424242") && !shown.contains("123"), "{shown}");
//!
//! let error = Card::builder().number("4242 4242 4242 4241").expiry("12/34").cvc("123")
//!     .build_at(now)
//!     .unwrap_err();
//! assert!(error.to_string().contains("check digit"));
//! ```
//!
//! # Brands
//!
//! The IIN ranges, lengths and CVC sizes are those of Braintree's open-source card type table
//! (`braintree/credit-card-type`, `src/lib/card-types.ts`), which Braintree's `card-validator`
//! uses; where several ranges match, the longest prefix wins, as there. One addition: Visa also
//! takes 13 digits, the legacy length Stripe's iOS BIN table (ported to Telegram Desktop's
//! `stripe_card_validator.cpp`) still lists. As in `card-validator`, UnionPay numbers are not
//! held to the Luhn check (some UnionPay cards do not satisfy it). A number of 13 to 19 digits
//! in no known range is accepted as [`Brand::Unknown`] after the Luhn check, as Telegram
//! Desktop accepts it, and left to the provider.
//!
//! | Brand | IIN prefixes | Digits | CVC |
//! |---|---|---|---|
//! | Visa | 4 | 13, 16, 18, 19 | 3 |
//! | Mastercard | 51–55, 2221–2720 | 16 | 3 |
//! | American Express | 34, 37 | 15 | 4 |
//! | Diners Club | 300–305, 36, 38, 39 | 14, 16, 19 | 3 |
//! | Discover | 6011, 644–649, 65 | 16, 19 | 3 |
//! | JCB | 1800, 2131, 3528–3589 | 16–19 | 3 |
//! | UnionPay | 62 (most of it), 810–8171 | 14–19 | 3 |
//! | Maestro | 493698, 500000–508999 (less Elo's), 56–59, 63, 67, other 6 | 12–19 | 3 |
//! | Elo | 401178, 438935, 504175, 506699–506778, 509, 636368, 650031–655058 (parts) | 16 | 3 |
//! | Mir | 2200–2204 | 16–19 | 3 |
//! | Hiper | 637095, 637568, 637599, 637609, 637612, 63737423, 63743358 | 16 | 3 |
//! | Hipercard | 606282 | 16 | 3 |
//!
//! # Titles
//!
//! [`Card::title`] is the brand's name, a space, `*` and the last four digits: `Visa *4242`,
//! `American Express *8431`, as Telegram for Android titles a tokenized card (brand as the
//! provider writes it, `" *"`, last four) and as the sandbox titles its cards. Telegram Desktop
//! writes the same title in lower case (`visa *4242`); Telegram shows whatever title the
//! client sends, so one rule is kept here: the brand's proper name.
//!
//! # Expiry dates
//!
//! [`Expiry::parse`] reads `MM/YY`, `MM/YYYY`, `M/YY`, with `/` or `-` and any spaces around
//! them (`12 / 34`), and the bare digit forms `MMYY` and `MMYYYY`. A two-digit year is the one
//! within 50 years of the current year. A card is good through the last day of its expiry
//! month; the current month is taken from the system clock in UTC, or passed in
//! ([`Card::builder`]`.build_at(now)`).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::form::NativeProvider;
use crate::secret::SecretString;

/// The most digits in a card number (ISO/IEC 7812).
pub const MAX_NUMBER_DIGITS: usize = 19;

/// The fewest digits in a card number of any brand (Maestro).
pub const MIN_NUMBER_DIGITS: usize = 12;

/// How many years ahead an expiry date may be.
pub const MAX_YEARS_AHEAD: u16 = 50;

/// A card brand (payment network), found from the number's IIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Brand {
    /// Visa.
    Visa,
    /// Mastercard.
    Mastercard,
    /// American Express.
    AmericanExpress,
    /// Diners Club International.
    DinersClub,
    /// Discover.
    Discover,
    /// JCB.
    Jcb,
    /// China UnionPay.
    UnionPay,
    /// Maestro.
    Maestro,
    /// Elo (Brazil).
    Elo,
    /// Mir (Russia).
    Mir,
    /// Hiper (Brazil).
    Hiper,
    /// Hipercard (Brazil).
    Hipercard,
    /// A number in no known range.
    Unknown,
}

impl Brand {
    /// The brand's proper name (`"Visa"`, `"American Express"`); `"Card"` for
    /// [`Brand::Unknown`].
    pub fn name(self) -> &'static str {
        match self {
            Brand::Visa => "Visa",
            Brand::Mastercard => "Mastercard",
            Brand::AmericanExpress => "American Express",
            Brand::DinersClub => "Diners Club",
            Brand::Discover => "Discover",
            Brand::Jcb => "JCB",
            Brand::UnionPay => "UnionPay",
            Brand::Maestro => "Maestro",
            Brand::Elo => "Elo",
            Brand::Mir => "Mir",
            Brand::Hiper => "Hiper",
            Brand::Hipercard => "Hipercard",
            Brand::Unknown => "Card",
        }
    }

    /// The brand a provider names: Stripe's `card.brand` (`"Visa"`, `"MasterCard"`,
    /// `"American Express"`, `"Diners Club"`, `"UnionPay"`…) or a code such as `"amex"`,
    /// `"diners"`, `"mastercard"`, `"mir"`, in any case. `None` for `"Unknown"` and names it
    /// does not know.
    pub fn from_provider_name(name: &str) -> Option<Brand> {
        let key: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Some(match key.as_str() {
            "visa" => Brand::Visa,
            "mastercard" => Brand::Mastercard,
            "americanexpress" | "amex" => Brand::AmericanExpress,
            "dinersclub" | "diners" => Brand::DinersClub,
            "discover" => Brand::Discover,
            "jcb" => Brand::Jcb,
            "unionpay" | "chinaunionpay" | "cup" => Brand::UnionPay,
            "maestro" => Brand::Maestro,
            "elo" => Brand::Elo,
            "mir" => Brand::Mir,
            "hiper" => Brand::Hiper,
            "hipercard" => Brand::Hipercard,
            _ => return None,
        })
    }

    /// The numbers of digits a card of this brand has.
    pub fn lengths(self) -> &'static [usize] {
        match self {
            Brand::Visa => &[13, 16, 18, 19],
            Brand::Mastercard | Brand::Elo | Brand::Hiper | Brand::Hipercard => &[16],
            Brand::AmericanExpress => &[15],
            Brand::DinersClub => &[14, 16, 19],
            Brand::Discover => &[16, 19],
            Brand::Jcb | Brand::Mir => &[16, 17, 18, 19],
            Brand::UnionPay => &[14, 15, 16, 17, 18, 19],
            Brand::Maestro => &[12, 13, 14, 15, 16, 17, 18, 19],
            Brand::Unknown => &[13, 14, 15, 16, 17, 18, 19],
        }
    }

    /// The numbers of digits of this brand's card security code: 4 for American Express, 3
    /// for the others, 3 or 4 for an unknown brand.
    pub fn cvc_lengths(self) -> &'static [usize] {
        match self {
            Brand::AmericanExpress => &[4],
            Brand::Unknown => &[3, 4],
            _ => &[3],
        }
    }

    /// Whether the brand's numbers end in a Luhn check digit (all but UnionPay).
    pub fn uses_luhn(self) -> bool {
        self != Brand::UnionPay
    }

    /// The brand of a card number (digits only, or a prefix of one): the brand of the longest
    /// matching IIN range; [`Brand::Unknown`] if none matches or `digits` has a non-digit.
    pub fn detect(digits: &str) -> Brand {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Brand::Unknown;
        }
        let mut best: Option<(usize, Brand)> = None;
        for range in IIN_RANGES {
            let len = range.digits;
            let Some(prefix) = digits.get(..len) else {
                continue;
            };
            let Ok(value) = prefix.parse::<u32>() else {
                continue;
            };
            if value >= range.low
                && value <= range.high
                && best.is_none_or(|(best_len, _)| len > best_len)
            {
                best = Some((len, range.brand));
            }
        }
        best.map_or(Brand::Unknown, |(_, brand)| brand)
    }
}

impl fmt::Display for Brand {
    /// [`Brand::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An IIN range: numbers whose first `digits` digits, read as a number, lie in `low..=high`.
struct IinRange {
    low: u32,
    high: u32,
    digits: usize,
    brand: Brand,
}

const fn range(low: u32, high: u32, digits: usize, brand: Brand) -> IinRange {
    IinRange {
        low,
        high,
        digits,
        brand,
    }
}

const fn prefix(value: u32, digits: usize, brand: Brand) -> IinRange {
    range(value, value, digits, brand)
}

/// Braintree `credit-card-type` `card-types.ts` patterns, one entry per pattern.
const IIN_RANGES: &[IinRange] = &[
    // Visa
    prefix(4, 1, Brand::Visa),
    // Mastercard
    range(51, 55, 2, Brand::Mastercard),
    range(2221, 2229, 4, Brand::Mastercard),
    range(223, 229, 3, Brand::Mastercard),
    range(23, 26, 2, Brand::Mastercard),
    range(270, 271, 3, Brand::Mastercard),
    prefix(2720, 4, Brand::Mastercard),
    // American Express
    prefix(34, 2, Brand::AmericanExpress),
    prefix(37, 2, Brand::AmericanExpress),
    // Diners Club
    range(300, 305, 3, Brand::DinersClub),
    prefix(36, 2, Brand::DinersClub),
    range(38, 39, 2, Brand::DinersClub),
    // Discover
    prefix(6011, 4, Brand::Discover),
    range(644, 649, 3, Brand::Discover),
    prefix(65, 2, Brand::Discover),
    // JCB
    prefix(2131, 4, Brand::Jcb),
    prefix(1800, 4, Brand::Jcb),
    range(3528, 3589, 4, Brand::Jcb),
    // UnionPay
    prefix(620, 3, Brand::UnionPay),
    range(624, 626, 3, Brand::UnionPay),
    range(62100, 62182, 5, Brand::UnionPay),
    range(62184, 62187, 5, Brand::UnionPay),
    range(62185, 62197, 5, Brand::UnionPay),
    range(62200, 62205, 5, Brand::UnionPay),
    range(622010, 622999, 6, Brand::UnionPay),
    prefix(622018, 6, Brand::UnionPay),
    range(622019, 622999, 6, Brand::UnionPay),
    range(62207, 62209, 5, Brand::UnionPay),
    range(622126, 622925, 6, Brand::UnionPay),
    range(623, 626, 3, Brand::UnionPay),
    prefix(6270, 4, Brand::UnionPay),
    prefix(6272, 4, Brand::UnionPay),
    prefix(6276, 4, Brand::UnionPay),
    range(627700, 627779, 6, Brand::UnionPay),
    range(627781, 627799, 6, Brand::UnionPay),
    range(6282, 6289, 4, Brand::UnionPay),
    prefix(6291, 4, Brand::UnionPay),
    prefix(6292, 4, Brand::UnionPay),
    prefix(810, 3, Brand::UnionPay),
    range(8110, 8131, 4, Brand::UnionPay),
    range(8132, 8151, 4, Brand::UnionPay),
    range(8152, 8163, 4, Brand::UnionPay),
    range(8164, 8171, 4, Brand::UnionPay),
    // Maestro
    prefix(493698, 6, Brand::Maestro),
    range(500000, 504174, 6, Brand::Maestro),
    range(504176, 506698, 6, Brand::Maestro),
    range(506779, 508999, 6, Brand::Maestro),
    range(56, 59, 2, Brand::Maestro),
    prefix(63, 2, Brand::Maestro),
    prefix(67, 2, Brand::Maestro),
    prefix(6, 1, Brand::Maestro),
    // Elo
    prefix(401178, 6, Brand::Elo),
    prefix(401179, 6, Brand::Elo),
    prefix(438935, 6, Brand::Elo),
    prefix(457631, 6, Brand::Elo),
    prefix(457632, 6, Brand::Elo),
    prefix(431274, 6, Brand::Elo),
    prefix(451416, 6, Brand::Elo),
    prefix(457393, 6, Brand::Elo),
    prefix(504175, 6, Brand::Elo),
    range(506699, 506778, 6, Brand::Elo),
    range(509000, 509999, 6, Brand::Elo),
    prefix(627780, 6, Brand::Elo),
    prefix(636297, 6, Brand::Elo),
    prefix(636368, 6, Brand::Elo),
    range(650031, 650033, 6, Brand::Elo),
    range(650035, 650051, 6, Brand::Elo),
    range(650405, 650439, 6, Brand::Elo),
    range(650485, 650538, 6, Brand::Elo),
    range(650541, 650598, 6, Brand::Elo),
    range(650700, 650718, 6, Brand::Elo),
    range(650720, 650727, 6, Brand::Elo),
    range(650901, 650978, 6, Brand::Elo),
    range(651652, 651679, 6, Brand::Elo),
    range(655000, 655019, 6, Brand::Elo),
    range(655021, 655058, 6, Brand::Elo),
    // Mir
    range(2200, 2204, 4, Brand::Mir),
    // Hiper
    prefix(637095, 6, Brand::Hiper),
    prefix(63737423, 8, Brand::Hiper),
    prefix(63743358, 8, Brand::Hiper),
    prefix(637568, 6, Brand::Hiper),
    prefix(637599, 6, Brand::Hiper),
    prefix(637609, 6, Brand::Hiper),
    prefix(637612, 6, Brand::Hiper),
    // Hipercard
    prefix(606282, 6, Brand::Hipercard),
];

/// Whether `digits` (ASCII digits only) end in a valid Luhn check digit.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// What is wrong with a card, found before anything is sent. Never contains the card number
/// or the CVC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// No card number was given.
    #[error("the card number is missing: enter the digits printed on the card")]
    NumberMissing,
    /// The card number has a character other than a digit, a space or a dash.
    #[error(
        "the card number may contain only digits, spaces and dashes; character {position} is \
         something else: retype the number"
    )]
    NumberCharacter {
        /// Where the character is, counting characters from 1.
        position: usize,
    },
    /// The card number has too few or too many digits for its brand.
    #[error(
        "{card} number has {expected} digits, this one has {digits}: check for a missing or \
         extra digit",
        card = a_card(*brand),
        expected = list(brand.lengths())
    )]
    NumberLength {
        /// The brand from the number's first digits.
        brand: Brand,
        /// How many digits were given.
        digits: usize,
    },
    /// The card number fails the Luhn check.
    #[error(
        "the card number fails its check digit (Luhn): a digit is mistyped, check the number \
         on the card"
    )]
    NumberChecksum {
        /// The brand from the number's first digits.
        brand: Brand,
    },
    /// No expiry date was given.
    #[error("the expiry date is missing: enter it as MM/YY")]
    ExpiryMissing,
    /// The expiry date is not in a form this crate reads.
    #[error("the expiry date is not a date: write it as MM/YY or MM/YYYY (for example 09/29)")]
    ExpiryFormat,
    /// The expiry month is not 1 to 12.
    #[error("the expiry month is {month}; it must be 01 to 12 (MM/YY)")]
    ExpiryMonth {
        /// The month given.
        month: u32,
    },
    /// The expiry year is implausibly far ahead.
    #[error(
        "the expiry year {year} is more than {MAX_YEARS_AHEAD} years ahead (latest {latest}): \
         check the year on the card"
    )]
    ExpiryYear {
        /// The year given, with its century.
        year: u32,
        /// The latest year accepted.
        latest: u16,
    },
    /// The card expired before the current month.
    #[error(
        "the card expired at the end of {month:02}/{year} (it is now {now}): use a card that \
         has not expired"
    )]
    Expired {
        /// The expiry month.
        month: u8,
        /// The expiry year.
        year: u16,
        /// The current month.
        now: YearMonth,
    },
    /// No CVC was given.
    #[error(
        "the security code (CVC) is missing: enter the {expected}-digit code {place}",
        expected = list(brand.cvc_lengths()),
        place = cvc_place(*brand)
    )]
    CvcMissing {
        /// The card's brand.
        brand: Brand,
    },
    /// The CVC has a character other than a digit.
    #[error("the security code (CVC) may contain only digits: retype it")]
    CvcCharacter,
    /// The CVC has the wrong number of digits for the brand.
    #[error(
        "the security code (CVC) of {card} has {expected} digits, this one has {digits}: \
         enter the code {place}",
        card = a_card(*brand),
        expected = list(brand.cvc_lengths()),
        place = cvc_place(*brand)
    )]
    CvcLength {
        /// The card's brand.
        brand: Brand,
        /// How many digits were given.
        digits: usize,
    },
    /// The provider asks for the cardholder's name and there is none.
    #[error("the payment provider needs the cardholder's name: enter it as printed on the card")]
    CardholderNameMissing,
    /// The provider asks for the billing country and there is none.
    #[error(
        "the payment provider needs the billing country: enter its two-letter code (US, GB, DE…)"
    )]
    CountryMissing,
    /// The billing country is not an ISO 3166-1 alpha-2 code.
    #[error(
        "the billing country {country:?} is not a two-letter ISO 3166-1 country code (US, GB, \
         DE…)"
    )]
    CountryInvalid {
        /// The country given.
        country: String,
    },
    /// The provider asks for the billing post code and there is none.
    #[error("the payment provider needs the billing ZIP or post code: enter it")]
    ZipMissing,
    /// A text field has control characters.
    #[error("the {field} has control characters (such as a line break): retype it")]
    ControlCharacters {
        /// The field (`"cardholder name"`, `"ZIP or post code"`).
        field: &'static str,
    },
}

/// `a Visa card`, `an American Express card`, `a card` (unknown brand).
fn a_card(brand: Brand) -> String {
    match brand {
        Brand::Unknown => "a card".to_owned(),
        Brand::AmericanExpress | Brand::Elo => format!("an {brand} card"),
        _ => format!("a {brand} card"),
    }
}

fn cvc_place(brand: Brand) -> &'static str {
    match brand {
        Brand::AmericanExpress => "printed on the front of the card",
        Brand::Unknown => "from the card",
        _ => "on the back of the card",
    }
}

/// `13, 16, 18 or 19`.
fn list(values: &[usize]) -> String {
    let mut text = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            text.push_str(if i + 1 == values.len() { " or " } else { ", " });
        }
        text.push_str(&value.to_string());
    }
    text
}

/// A card number: its digits, held in a [`SecretString`] (zeroized on drop), and its brand.
///
/// `Debug` and `Display` show only the brand and the last four digits (`Visa *4242`).
#[derive(Clone)]
pub struct CardNumber {
    digits: SecretString,
    brand: Brand,
}

impl CardNumber {
    /// Reads a card number: digits with any spaces and dashes between them, as printed or
    /// typed. Checks the length for the brand and the Luhn check digit.
    pub fn parse(text: &str) -> Result<CardNumber, CardError> {
        let mut digits = Zeroizing::new(String::with_capacity(text.len()));
        for (index, c) in text.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '-' => {}
                c if c.is_whitespace() => {}
                _ => {
                    return Err(CardError::NumberCharacter {
                        position: index + 1,
                    });
                }
            }
        }
        if digits.is_empty() {
            return Err(CardError::NumberMissing);
        }
        let brand = Brand::detect(&digits);
        if !brand.lengths().contains(&digits.len()) {
            return Err(CardError::NumberLength {
                brand,
                digits: digits.len(),
            });
        }
        if brand.uses_luhn() && !luhn_valid(&digits) {
            return Err(CardError::NumberChecksum { brand });
        }
        Ok(CardNumber {
            digits: SecretString::new(std::mem::take(&mut *digits)),
            brand,
        })
    }

    /// The brand.
    pub fn brand(&self) -> Brand {
        self.brand
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        let digits = self.digits.expose();
        digits.get(digits.len().saturating_sub(4)..).unwrap_or("")
    }

    /// The card's title: `Visa *4242`.
    pub fn title(&self) -> String {
        format!("{} *{}", self.brand.name(), self.last4())
    }

    /// The digits, without spaces or dashes. Send them only to a card tokenizer; never log
    /// them.
    pub fn expose(&self) -> &str {
        self.digits.expose()
    }
}

impl fmt::Debug for CardNumber {
    /// `Visa *4242`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} *{}", self.brand.name(), self.last4())
    }
}

impl fmt::Display for CardNumber {
    /// `Visa *4242`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A card security code (CVC, CVV, CID), held in a [`SecretString`]: it never shows in
/// `Debug` or `Display` and is zeroized on drop.
#[derive(Clone)]
pub struct Cvc(SecretString);

impl Cvc {
    /// Reads the security code of a card of `brand`: digits only, surrounding spaces ignored,
    /// as many as the brand uses.
    pub fn parse(text: &str, brand: Brand) -> Result<Cvc, CardError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CardError::CvcMissing { brand });
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::CvcCharacter);
        }
        if !brand.cvc_lengths().contains(&text.len()) {
            return Err(CardError::CvcLength {
                brand,
                digits: text.len(),
            });
        }
        Ok(Cvc(SecretString::new(text.to_owned())))
    }

    /// The code. Send it only to a card tokenizer; never log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Cvc {
    /// `[REDACTED]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for Cvc {
    /// `[REDACTED]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// A calendar month: the "now" that expiry dates are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: u16,
    month: u8,
}

impl YearMonth {
    /// `month` (1–12) of `year`; `None` if the month is out of range.
    pub fn new(year: u16, month: u8) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// The current month by the system clock, in UTC.
    pub fn current() -> YearMonth {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        YearMonth::from_unix(secs)
    }

    /// The month (UTC) of a unix time.
    pub fn from_unix(secs: u64) -> YearMonth {
        // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
        let days = secs / 86_400;
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        YearMonth {
            year: u16::try_from(year).unwrap_or(u16::MAX),
            month: u8::try_from(month).unwrap_or(12),
        }
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for YearMonth {
    /// `05/2026`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{}", self.month, self.year)
    }
}

/// A card's expiry date: the card is good through the last day of this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(YearMonth);

impl Expiry {
    /// The expiry `month` (1–12) of `year` (with its century), checked against `now`: not
    /// before the current month, at most [`MAX_YEARS_AHEAD`] years ahead.
    pub fn new(month: u32, year: u32, now: YearMonth) -> Result<Expiry, CardError> {
        let Some(month) = u8::try_from(month).ok().filter(|m| (1..=12).contains(m)) else {
            return Err(CardError::ExpiryMonth { month });
        };
        let latest = now.year.saturating_add(MAX_YEARS_AHEAD);
        let Some(year) = u16::try_from(year).ok().filter(|y| *y <= latest) else {
            return Err(CardError::ExpiryYear { year, latest });
        };
        let expiry = YearMonth { year, month };
        if expiry < now {
            return Err(CardError::Expired { month, year, now });
        }
        Ok(Expiry(expiry))
    }

    /// Reads an expiry date (`MM/YY`, `MM/YYYY`, `M/YY`, `MM-YY`, `MM / YY`, `MMYY`,
    /// `MMYYYY`) and checks it against `now` as [`Expiry::new`] does. A two-digit year is the
    /// one within 50 years of `now`.
    pub fn parse(text: &str, now: YearMonth) -> Result<Expiry, CardError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(CardError::ExpiryMissing);
        }
        let (month, year) = match compact.split_once(['/', '-']) {
            Some((month, year)) => (month, year),
            None if compact.len() == 4 || compact.len() == 6 => {
                compact.split_at_checked(2).ok_or(CardError::ExpiryFormat)?
            }
            None => return Err(CardError::ExpiryFormat),
        };
        let digits = |part: &str, lengths: &[usize]| {
            (lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
                .ok_or(CardError::ExpiryFormat)
        };
        let month_value = digits(month, &[1, 2])?;
        let year_value = digits(year, &[2, 4])?;
        let year_value = if year.len() == 2 {
            two_digit_year(year_value, now.year)
        } else {
            year_value
        };
        Expiry::new(month_value, year_value, now)
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.0.month
    }

    /// The year, with its century.
    pub fn year(self) -> u16 {
        self.0.year
    }

    /// Whether the card has expired by `now` (the expiry month is before it).
    pub fn is_expired_at(self, now: YearMonth) -> bool {
        self.0 < now
    }
}

impl fmt::Display for Expiry {
    /// `09/2029`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The year ending in `yy` that is within 50 years of `current`.
fn two_digit_year(yy: u32, current: u16) -> u32 {
    let current = u32::from(current);
    let candidate = current / 100 * 100 + yy;
    if candidate > current + 50 {
        candidate.saturating_sub(100)
    } else if candidate + 50 < current {
        candidate + 100
    } else {
        candidate
    }
}

/// The billing details a provider asks for with the card (`native_params` of a Stripe form).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardRequirements {
    /// The cardholder's name is needed.
    pub cardholder_name: bool,
    /// The billing country is needed.
    pub country: bool,
    /// The billing ZIP or post code is needed.
    pub zip: bool,
}

impl CardRequirements {
    /// What `provider` asks for: Stripe's `need_cardholder_name`, `need_country` and
    /// `need_zip`; nothing for SmartGlocal (as in Telegram Desktop) and other providers.
    pub fn of(provider: &NativeProvider) -> CardRequirements {
        match provider {
            NativeProvider::Stripe {
                need_country,
                need_zip,
                need_cardholder_name,
                ..
            } => CardRequirements {
                cardholder_name: *need_cardholder_name,
                country: *need_country,
                zip: *need_zip,
            },
            _ => CardRequirements::default(),
        }
    }
}

/// A payment card, checked: number, expiry date, security code, and the optional billing
/// details.
///
/// Built by [`Card::builder`] (or [`Card::new`]). `Debug` shows the brand, the last four
/// digits, the expiry date and the billing country; never the number, the CVC, the name or the
/// post code.
#[derive(Clone)]
pub struct Card {
    number: CardNumber,
    expiry: Expiry,
    cvc: Cvc,
    cardholder_name: Option<String>,
    country: Option<String>,
    zip: Option<String>,
}

impl Card {
    /// A builder for a card.
    pub fn builder() -> CardBuilder {
        CardBuilder::default()
    }

    /// A card from its number, expiry date (`MM/YY`) and security code, checked against the
    /// current month.
    pub fn new(number: &str, expiry: &str, cvc: &str) -> Result<Card, CardError> {
        Card::builder()
            .number(number)
            .expiry(expiry)
            .cvc(cvc)
            .build()
    }

    /// The number.
    pub fn number(&self) -> &CardNumber {
        &self.number
    }

    /// The brand.
    pub fn brand(&self) -> Brand {
        self.number.brand
    }

    /// The last four digits.
    pub fn last4(&self) -> &str {
        self.number.last4()
    }

    /// The title a payer sees for the card: `Visa *4242` (see the [module docs](self)).
    pub fn title(&self) -> String {
        self.number.title()
    }

    /// The expiry date.
    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    /// The security code.
    pub fn cvc(&self) -> &Cvc {
        &self.cvc
    }

    /// The cardholder's name, if given.
    pub fn cardholder_name(&self) -> Option<&str> {
        self.cardholder_name.as_deref()
    }

    /// The billing country (ISO 3166-1 alpha-2, upper case), if given.
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    /// The billing ZIP or post code, if given.
    pub fn zip(&self) -> Option<&str> {
        self.zip.as_deref()
    }

    /// Checks that the billing details `requirements` asks for are present.
    pub fn check_requirements(&self, requirements: CardRequirements) -> Result<(), CardError> {
        if requirements.cardholder_name && self.cardholder_name.is_none() {
            return Err(CardError::CardholderNameMissing);
        }
        if requirements.country && self.country.is_none() {
            return Err(CardError::CountryMissing);
        }
        if requirements.zip && self.zip.is_none() {
            return Err(CardError::ZipMissing);
        }
        Ok(())
    }
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Card")
            .field("number", &self.number)
            .field("expiry", &format_args!("{}", self.expiry))
            .field("cvc", &self.cvc)
            .field("cardholder_name", &self.cardholder_name.is_some())
            .field("country", &self.country)
            .field("zip", &self.zip.is_some())
            .finish()
    }
}

/// The expiry date as given to the builder.
#[derive(Clone)]
enum ExpiryInput {
    Text(String),
    Parts { month: u32, year: u32 },
}

/// Builds a [`Card`], checking everything in [`CardBuilder::build`]: the number, the expiry
/// date, the CVC, the billing details present and those required. The first problem found is
/// the error.
///
/// The number and the CVC given to the builder are held in zeroizing buffers.
#[derive(Default, Clone)]
pub struct CardBuilder {
    number: Zeroizing<String>,
    expiry: Option<ExpiryInput>,
    cvc: Zeroizing<String>,
    cardholder_name: Option<String>,
    country: Option<String>,
    zip: Option<String>,
    requirements: CardRequirements,
}

impl CardBuilder {
    /// The card number, with or without spaces and dashes.
    pub fn number(mut self, number: &str) -> Self {
        self.number = Zeroizing::new(number.to_owned());
        self
    }

    /// The expiry date as typed: `MM/YY`, `MM/YYYY`, `MMYY`… (see [`Expiry::parse`]).
    pub fn expiry(mut self, expiry: &str) -> Self {
        self.expiry = Some(ExpiryInput::Text(expiry.to_owned()));
        self
    }

    /// The expiry date as numbers: month 1–12 and the year with its century.
    pub fn expiry_month_year(mut self, month: u32, year: u32) -> Self {
        self.expiry = Some(ExpiryInput::Parts { month, year });
        self
    }

    /// The security code (CVC).
    pub fn cvc(mut self, cvc: &str) -> Self {
        self.cvc = Zeroizing::new(cvc.to_owned());
        self
    }

    /// The cardholder's name; empty means none.
    pub fn cardholder_name(mut self, name: impl Into<String>) -> Self {
        self.cardholder_name = Some(name.into());
        self
    }

    /// The billing country, a two-letter ISO 3166-1 code in either case; empty means none.
    pub fn country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// The billing ZIP or post code; empty means none.
    pub fn zip(mut self, zip: impl Into<String>) -> Self {
        self.zip = Some(zip.into());
        self
    }

    /// The billing details the provider asks for (see [`CardRequirements::of`]).
    pub fn requirements(mut self, requirements: CardRequirements) -> Self {
        self.requirements = requirements;
        self
    }

    /// Checks and builds the card, with the expiry date checked against the current month
    /// (UTC).
    pub fn build(self) -> Result<Card, CardError> {
        self.build_at(YearMonth::current())
    }

    /// Checks and builds the card, with the expiry date checked against `now`.
    pub fn build_at(self, now: YearMonth) -> Result<Card, CardError> {
        let number = CardNumber::parse(&self.number)?;
        let expiry = match &self.expiry {
            None => return Err(CardError::ExpiryMissing),
            Some(ExpiryInput::Text(text)) => Expiry::parse(text, now)?,
            Some(ExpiryInput::Parts { month, year }) => Expiry::new(*month, *year, now)?,
        };
        let cvc = Cvc::parse(&self.cvc, number.brand)?;
        let cardholder_name = text_field(self.cardholder_name.as_deref(), "cardholder name")?;
        let country = match text_field(self.country.as_deref(), "billing country")? {
            Some(country) => {
                let upper = country.to_ascii_uppercase();
                if !crate::country::is_valid(&upper) {
                    return Err(CardError::CountryInvalid { country });
                }
                Some(upper)
            }
            None => None,
        };
        let zip = text_field(self.zip.as_deref(), "ZIP or post code")?;
        let card = Card {
            number,
            expiry,
            cvc,
            cardholder_name,
            country,
            zip,
        };
        card.check_requirements(self.requirements)?;
        Ok(card)
    }
}

impl fmt::Debug for CardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardBuilder")
            .field("number", &"[REDACTED]")
            .field("cvc", &"[REDACTED]")
            .field("requirements", &self.requirements)
            .finish_non_exhaustive()
    }
}

/// A trimmed optional text field: `None` when absent or blank.
fn text_field(value: Option<&str>, field: &'static str) -> Result<Option<String>, CardError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(CardError::ControlCharacters { field });
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_answers() {
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("4242424242424242"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("42a2"));
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(Brand::detect("4"), Brand::Visa);
        assert_eq!(Brand::detect("493698"), Brand::Maestro);
        assert_eq!(Brand::detect("401178"), Brand::Elo);
        assert_eq!(Brand::detect("6011"), Brand::Discover);
        assert_eq!(Brand::detect("6012"), Brand::Maestro);
        assert_eq!(Brand::detect("6221"), Brand::Maestro);
        assert_eq!(Brand::detect("622126"), Brand::UnionPay);
        assert_eq!(Brand::detect("63737423"), Brand::Hiper);
        assert_eq!(Brand::detect("2205"), Brand::Unknown);
        assert_eq!(Brand::detect(""), Brand::Unknown);
        assert_eq!(Brand::detect("4x"), Brand::Unknown);
    }

    #[test]
    fn civil_months_from_unix_time() {
        let at = |secs| {
            let m = YearMonth::from_unix(secs);
            (m.year(), m.month())
        };
        assert_eq!(at(0), (1970, 1));
        // 2000-02-29T23:59:59Z and the next second.
        assert_eq!(at(951_868_799), (2000, 2));
        assert_eq!(at(951_868_800), (2000, 3));
        // 2026-12-31T23:59:59Z and 2027-01-01T00:00:00Z.
        assert_eq!(at(1_798_761_599), (2026, 12));
        assert_eq!(at(1_798_761_600), (2027, 1));
    }

    #[test]
    fn two_digit_years_stay_within_fifty_years() {
        assert_eq!(two_digit_year(34, 2026), 2034);
        assert_eq!(two_digit_year(76, 2026), 2076);
        assert_eq!(two_digit_year(77, 2026), 1977);
        assert_eq!(two_digit_year(5, 2090), 2105);
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(list(&[15]), "15");
        assert_eq!(list(&[3, 4]), "3 or 4");
        assert_eq!(list(&[13, 16, 18, 19]), "13, 16, 18 or 19");
    }
}
