//! [`CardError`]: what is wrong with a card, said so that the payer can fix it.

use super::{Brand, MAX_YEARS_AHEAD, YearMonth};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_naturally() {
        assert_eq!(list(&[15]), "15");
        assert_eq!(list(&[3, 4]), "3 or 4");
        assert_eq!(list(&[13, 16, 18, 19]), "13, 16, 18 or 19");
    }
}
