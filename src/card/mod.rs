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

mod brand;
mod error;
mod expiry;
mod number;

pub use brand::{Brand, luhn_valid};
pub use error::CardError;
pub use expiry::{Expiry, YearMonth};
pub use number::{CardNumber, Cvc};

use std::fmt;

use zeroize::Zeroizing;

use crate::form::NativeProvider;

/// The most digits in a card number (ISO/IEC 7812).
pub const MAX_NUMBER_DIGITS: usize = 19;

/// The fewest digits in a card number of any brand (Maestro).
pub const MIN_NUMBER_DIGITS: usize = 12;

/// How many years ahead an expiry date may be.
pub const MAX_YEARS_AHEAD: u16 = 50;

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
        self.number.brand()
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
        let cvc = Cvc::parse(&self.cvc, number.brand())?;
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
