//! [`Brand`]: the payment network, found from the number's IIN, and the Luhn check digit.

use std::fmt;

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
}
