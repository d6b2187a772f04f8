//! [`CardNumber`] and [`Cvc`]: the secret parts of a card, checked and never shown.

use std::fmt;

use zeroize::Zeroizing;

use super::{Brand, CardError, luhn_valid};
use crate::secret::SecretString;

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
