//! Local card checks: numbers per brand (valid and invalid), expiry edges, CVC lengths,
//! billing details, titles, and that no `Debug`, `Display` or error shows a number or a CVC.

use tgpay::card::{
    Brand, Card, CardError, CardNumber, CardRequirements, Cvc, Expiry, YearMonth, luhn_valid,
};
use tgpay::form::NativeProvider;
use tgpay::tl;

fn month(year: u16, month: u8) -> YearMonth {
    YearMonth::new(year, month).expect("a month 1-12")
}

/// `prefix` completed to `len` digits with zeros and a Luhn check digit (computed here
/// independently of the crate: the digit that makes the doubled-digit sum a multiple of 10).
fn with_check_digit(prefix: &str, len: usize) -> String {
    let mut body: String = prefix.to_owned();
    while body.len() < len - 1 {
        body.push('0');
    }
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    body.push(char::from_digit((10 - sum % 10) % 10, 10).unwrap());
    body
}

/// Published test card numbers (Stripe's testing page, Braintree's sandbox cards) and their
/// brands.
const KNOWN_GOOD: &[(&str, Brand)] = &[
    ("4242424242424242", Brand::Visa),
    ("4000056655665556", Brand::Visa),
    ("4111111111111111", Brand::Visa),
    ("4222222222222", Brand::Visa),
    ("4000000000000002", Brand::Visa),
    ("4000002760003184", Brand::Visa),
    ("5555555555554444", Brand::Mastercard),
    ("2223003122003222", Brand::Mastercard),
    ("5200828282828210", Brand::Mastercard),
    ("5105105105105100", Brand::Mastercard),
    ("378282246310005", Brand::AmericanExpress),
    ("371449635398431", Brand::AmericanExpress),
    ("6011111111111117", Brand::Discover),
    ("6011000990139424", Brand::Discover),
    ("6555900000604105", Brand::Discover),
    ("3056930009020004", Brand::DinersClub),
    ("36227206271667", Brand::DinersClub),
    ("38520000023237", Brand::DinersClub),
    ("3566002020360505", Brand::Jcb),
    ("3530111333300000", Brand::Jcb),
    ("6200000000000005", Brand::UnionPay),
    ("6205500000000000004", Brand::UnionPay),
    ("6759649826438453", Brand::Maestro),
    ("6799990100000000019", Brand::Maestro),
    ("6362970000457013", Brand::Elo),
    ("2201382000000013", Brand::Mir),
    ("6370950000000005", Brand::Hiper),
    ("6062820524845321", Brand::Hipercard),
];

#[test]
fn published_test_numbers_pass_with_their_brands() {
    for (number, brand) in KNOWN_GOOD {
        let parsed = CardNumber::parse(number).unwrap_or_else(|e| panic!("{number}: {e}"));
        assert_eq!(parsed.brand(), *brand, "{number}");
        assert_eq!(parsed.expose(), *number);
        assert_eq!(parsed.last4(), &number[number.len() - 4..]);
        assert!(luhn_valid(number), "{number}");
    }
}

#[test]
fn every_brand_length_is_accepted_and_its_neighbours_refused() {
    let cases: &[(&str, Brand)] = &[
        ("4", Brand::Visa),
        ("51", Brand::Mastercard),
        ("2221", Brand::Mastercard),
        ("2720", Brand::Mastercard),
        ("34", Brand::AmericanExpress),
        ("37", Brand::AmericanExpress),
        ("300", Brand::DinersClub),
        ("36", Brand::DinersClub),
        ("39", Brand::DinersClub),
        ("6011", Brand::Discover),
        ("644", Brand::Discover),
        ("65", Brand::Discover),
        ("3528", Brand::Jcb),
        ("3589", Brand::Jcb),
        ("620", Brand::UnionPay),
        ("8171", Brand::UnionPay),
        ("5018", Brand::Maestro),
        ("63", Brand::Maestro),
        ("2200", Brand::Mir),
        ("2204", Brand::Mir),
        ("509000", Brand::Elo),
        ("637095", Brand::Hiper),
        ("606282", Brand::Hipercard),
        ("99", Brand::Unknown),
    ];
    for (prefix, brand) in cases {
        for len in 10..=20 {
            let number = with_check_digit(prefix, len);
            let result = CardNumber::parse(&number);
            if brand.lengths().contains(&len) {
                let parsed = result.unwrap_or_else(|e| panic!("{number}: {e}"));
                assert_eq!(parsed.brand(), *brand, "{number}");
            } else {
                assert_eq!(
                    result.err(),
                    Some(CardError::NumberLength {
                        brand: *brand,
                        digits: len
                    }),
                    "{number}"
                );
            }
        }
    }
    // The lengths themselves, as the brands publish them.
    assert_eq!(Brand::Visa.lengths(), &[13, 16, 18, 19]);
    assert_eq!(Brand::Mastercard.lengths(), &[16]);
    assert_eq!(Brand::AmericanExpress.lengths(), &[15]);
    assert_eq!(Brand::DinersClub.lengths(), &[14, 16, 19]);
    assert_eq!(Brand::Discover.lengths(), &[16, 19]);
    assert_eq!(Brand::Jcb.lengths(), &[16, 17, 18, 19]);
    assert_eq!(Brand::Mir.lengths(), &[16, 17, 18, 19]);
    assert_eq!(Brand::Maestro.lengths(), &[12, 13, 14, 15, 16, 17, 18, 19]);
}

#[test]
fn a_wrong_check_digit_is_refused_for_every_luhn_brand() {
    for (number, brand) in KNOWN_GOOD {
        let last = number.as_bytes()[number.len() - 1] - b'0';
        let wrong = format!("{}{}", &number[..number.len() - 1], (last + 1) % 10);
        let result = CardNumber::parse(&wrong);
        if *brand == Brand::UnionPay {
            // UnionPay numbers are not held to the Luhn check (Braintree card-validator).
            assert_eq!(result.unwrap().brand(), Brand::UnionPay);
        } else {
            assert_eq!(
                result.err(),
                Some(CardError::NumberChecksum { brand: *brand }),
                "{wrong}"
            );
        }
    }
}

#[test]
fn iin_ranges_pick_the_most_specific_brand() {
    let cases = [
        ("2220999999", Brand::Unknown),
        ("2221000000", Brand::Mastercard),
        ("2720999999", Brand::Mastercard),
        ("2721000000", Brand::Unknown),
        ("2199999999", Brand::Unknown),
        ("2200000000", Brand::Mir),
        ("2204999999", Brand::Mir),
        ("2205000000", Brand::Unknown),
        ("5099999999", Brand::Elo),
        ("5000000000", Brand::Maestro),
        ("5041750000", Brand::Elo),
        ("5100000000", Brand::Mastercard),
        ("5599999999", Brand::Mastercard),
        ("5600000000", Brand::Maestro),
        ("3000000000", Brand::DinersClub),
        ("3059999999", Brand::DinersClub),
        ("3060000000", Brand::Unknown),
        ("3527999999", Brand::Unknown),
        ("3528000000", Brand::Jcb),
        ("3589999999", Brand::Jcb),
        ("3590000000", Brand::Unknown),
        ("6010999999", Brand::Maestro),
        ("6011000000", Brand::Discover),
        ("6439999999", Brand::Maestro),
        ("6440000000", Brand::Discover),
        ("6500310000", Brand::Elo),
        ("6500340000", Brand::Discover),
        ("6221260000", Brand::UnionPay),
        ("6062820000", Brand::Hipercard),
        ("4011780000", Brand::Elo),
        ("4936980000", Brand::Maestro),
        ("4936990000", Brand::Visa),
        ("8100000000", Brand::UnionPay),
        ("8172000000", Brand::Unknown),
        ("1800000000", Brand::Jcb),
        ("2131000000", Brand::Jcb),
    ];
    for (digits, brand) in cases {
        assert_eq!(Brand::detect(digits), brand, "{digits}");
    }
}

#[test]
fn numbers_are_normalised_from_spaces_and_dashes() {
    for typed in [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "  4242424242424242\n",
        "4242\t4242 - 4242 4242",
        "4242\u{a0}4242\u{a0}4242\u{a0}4242",
    ] {
        let number = CardNumber::parse(typed).unwrap_or_else(|e| panic!("{typed:?}: {e}"));
        assert_eq!(number.expose(), "4242424242424242");
    }
    assert_eq!(
        CardNumber::parse("3782 822463 10005").unwrap().brand(),
        Brand::AmericanExpress
    );
}

#[test]
fn bad_characters_and_missing_numbers_are_named() {
    assert_eq!(
        CardNumber::parse("4242 4242 4242 424x").err(),
        Some(CardError::NumberCharacter { position: 19 })
    );
    assert_eq!(
        CardNumber::parse("4242.4242.4242.4242").err(),
        Some(CardError::NumberCharacter { position: 5 })
    );
    assert_eq!(
        CardNumber::parse("４２４２").err(),
        Some(CardError::NumberCharacter { position: 1 })
    );
    assert_eq!(CardNumber::parse("").err(), Some(CardError::NumberMissing));
    assert_eq!(
        CardNumber::parse(" - - ").err(),
        Some(CardError::NumberMissing)
    );
    assert_eq!(
        CardNumber::parse("44444444444444444444").err(),
        Some(CardError::NumberLength {
            brand: Brand::Visa,
            digits: 20
        })
    );
}

#[test]
fn expiry_dates_in_every_accepted_form() {
    let now = month(2026, 5);
    for text in [
        "05/26", "5/26", "05/2026", "0526", "052026", "05 / 26", "05-26", " 05/26 ", "5 / 2026",
    ] {
        let expiry = Expiry::parse(text, now).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!((expiry.month(), expiry.year()), (5, 2026), "{text:?}");
    }
    assert_eq!(Expiry::parse("12/34", now).unwrap().to_string(), "12/2034");
}

#[test]
fn expiry_edges() {
    let may = month(2026, 5);
    // This month is still good; last month is not.
    assert!(Expiry::parse("05/26", may).is_ok());
    assert_eq!(
        Expiry::parse("04/26", may).err(),
        Some(CardError::Expired {
            month: 4,
            year: 2026,
            now: may
        })
    );
    // Last year's December.
    assert!(matches!(
        Expiry::parse("12/25", may),
        Err(CardError::Expired {
            month: 12,
            year: 2025,
            ..
        })
    ));
    // December to January.
    let december = month(2026, 12);
    assert!(Expiry::parse("12/26", december).is_ok());
    assert!(Expiry::parse("01/27", december).is_ok());
    assert!(matches!(
        Expiry::parse("11/26", december),
        Err(CardError::Expired { .. })
    ));
    let january = month(2027, 1);
    assert!(Expiry::parse("01/27", january).is_ok());
    assert!(matches!(
        Expiry::parse("12/26", january),
        Err(CardError::Expired {
            month: 12,
            year: 2026,
            ..
        })
    ));
    // Months out of range.
    assert_eq!(
        Expiry::parse("13/27", may).err(),
        Some(CardError::ExpiryMonth { month: 13 })
    );
    assert_eq!(
        Expiry::parse("00/27", may).err(),
        Some(CardError::ExpiryMonth { month: 0 })
    );
    // Two-digit years: within 50 years of now.
    assert_eq!(Expiry::parse("01/76", may).unwrap().year(), 2076);
    assert!(matches!(
        Expiry::parse("01/77", may),
        Err(CardError::Expired { year: 1977, .. })
    ));
    assert_eq!(Expiry::parse("12/99", month(2060, 1)).unwrap().year(), 2099);
    assert_eq!(Expiry::parse("01/05", month(2090, 1)).unwrap().year(), 2105);
    // Four-digit years at most 50 years ahead.
    assert!(Expiry::parse("12/2076", may).is_ok());
    assert_eq!(
        Expiry::parse("01/2077", may).err(),
        Some(CardError::ExpiryYear {
            year: 2077,
            latest: 2076
        })
    );
    // Numbers.
    assert!(Expiry::new(5, 2026, may).is_ok());
    assert_eq!(
        Expiry::new(12, 2025, may).err(),
        Some(CardError::Expired {
            month: 12,
            year: 2025,
            now: may
        })
    );
    assert_eq!(
        Expiry::new(300, 2030, may).err(),
        Some(CardError::ExpiryMonth { month: 300 })
    );
    assert!(Expiry::parse("05/26", may).unwrap() < Expiry::parse("06/26", may).unwrap());
    assert!(!Expiry::parse("05/26", may).unwrap().is_expired_at(may));
    assert!(
        Expiry::parse("05/26", may)
            .unwrap()
            .is_expired_at(month(2026, 6))
    );
}

#[test]
fn expiry_text_that_is_not_a_date() {
    let now = month(2026, 5);
    assert_eq!(Expiry::parse("", now).err(), Some(CardError::ExpiryMissing));
    assert_eq!(
        Expiry::parse("  ", now).err(),
        Some(CardError::ExpiryMissing)
    );
    for text in [
        "5", "526", "05/6", "05/026", "005/26", "ab/cd", "05/26/01", "05//26", "/26", "05/",
        "12345", "0526202", "05.26", "+5/26", "05/+26",
    ] {
        assert_eq!(
            Expiry::parse(text, now).err(),
            Some(CardError::ExpiryFormat),
            "{text:?}"
        );
    }
}

#[test]
fn cvc_lengths_per_brand() {
    assert!(Cvc::parse("123", Brand::Visa).is_ok());
    assert!(Cvc::parse(" 123 ", Brand::Mastercard).is_ok());
    assert!(Cvc::parse("1234", Brand::AmericanExpress).is_ok());
    assert!(Cvc::parse("123", Brand::Unknown).is_ok());
    assert!(Cvc::parse("1234", Brand::Unknown).is_ok());
    assert_eq!(
        Cvc::parse("1234", Brand::Visa).err(),
        Some(CardError::CvcLength {
            brand: Brand::Visa,
            digits: 4
        })
    );
    assert_eq!(
        Cvc::parse("12", Brand::Mir).err(),
        Some(CardError::CvcLength {
            brand: Brand::Mir,
            digits: 2
        })
    );
    assert_eq!(
        Cvc::parse("123", Brand::AmericanExpress).err(),
        Some(CardError::CvcLength {
            brand: Brand::AmericanExpress,
            digits: 3
        })
    );
    assert_eq!(
        Cvc::parse("", Brand::Visa).err(),
        Some(CardError::CvcMissing { brand: Brand::Visa })
    );
    assert_eq!(
        Cvc::parse("12a", Brand::Visa).err(),
        Some(CardError::CvcCharacter)
    );
    assert_eq!(
        Cvc::parse("12345", Brand::Unknown).unwrap_err().to_string(),
        "the security code (CVC) of a card has 3 or 4 digits, this one has 5: enter the code from the card"
    );
    assert!(
        Cvc::parse("123", Brand::AmericanExpress)
            .unwrap_err()
            .to_string()
            .contains("front of the card")
    );
}

fn visa() -> tgpay::card::CardBuilder {
    Card::builder()
        .number("4242 4242 4242 4242")
        .expiry("12/30")
        .cvc("987")
}

#[test]
fn the_builder_checks_in_order_and_builds() {
    let now = month(2026, 5);
    let card = visa().build_at(now).unwrap();
    assert_eq!(card.brand(), Brand::Visa);
    assert_eq!(card.last4(), "4242");
    assert_eq!(card.title(), "Visa *4242");
    assert_eq!((card.expiry().month(), card.expiry().year()), (12, 2030));
    assert_eq!(card.cvc().expose(), "987");
    assert_eq!(card.cardholder_name(), None);

    // The number first, then the expiry, then the CVC.
    let bad_everything = Card::builder()
        .number("4242 4242 4242 4241")
        .expiry("13/30")
        .cvc("1");
    assert!(matches!(
        bad_everything.clone().build_at(now),
        Err(CardError::NumberChecksum { .. })
    ));
    assert_eq!(
        bad_everything
            .number("4242424242424242")
            .build_at(now)
            .err(),
        Some(CardError::ExpiryMonth { month: 13 })
    );
    assert_eq!(
        Card::builder()
            .number("4242424242424242")
            .cvc("123")
            .build_at(now)
            .err(),
        Some(CardError::ExpiryMissing)
    );
    assert_eq!(
        visa().cvc("").build_at(now).err(),
        Some(CardError::CvcMissing { brand: Brand::Visa })
    );
    assert_eq!(
        Card::builder()
            .expiry("12/30")
            .cvc("123")
            .build_at(now)
            .err(),
        Some(CardError::NumberMissing)
    );
    let numeric = visa().expiry_month_year(6, 2031).build_at(now).unwrap();
    assert_eq!(numeric.expiry().to_string(), "06/2031");
    // The system-clock variant agrees for a date far enough ahead.
    let year = YearMonth::current().year() + 3;
    assert!(Card::new("4242424242424242", &format!("01/{year}"), "123").is_ok());
}

#[test]
fn billing_details_when_the_provider_asks() {
    let now = month(2026, 5);
    let all = CardRequirements {
        cardholder_name: true,
        country: true,
        zip: true,
    };
    assert_eq!(
        visa().requirements(all).build_at(now).err(),
        Some(CardError::CardholderNameMissing)
    );
    assert_eq!(
        visa()
            .cardholder_name("  Ada Lovelace ")
            .requirements(all)
            .build_at(now)
            .err(),
        Some(CardError::CountryMissing)
    );
    assert_eq!(
        visa()
            .cardholder_name("Ada Lovelace")
            .country("gb")
            .zip("   ")
            .requirements(all)
            .build_at(now)
            .err(),
        Some(CardError::ZipMissing)
    );
    let card = visa()
        .cardholder_name("  Ada Lovelace ")
        .country("gb")
        .zip(" SW1A 1AA ")
        .requirements(all)
        .build_at(now)
        .unwrap();
    assert_eq!(card.cardholder_name(), Some("Ada Lovelace"));
    assert_eq!(card.country(), Some("GB"));
    assert_eq!(card.zip(), Some("SW1A 1AA"));
    assert_eq!(card.check_requirements(all), Ok(()));

    // Details given without being asked for are kept; blank ones are absent.
    let card = visa()
        .cardholder_name("")
        .country(" ")
        .build_at(now)
        .unwrap();
    assert_eq!((card.cardholder_name(), card.country()), (None, None));
    assert_eq!(
        card.check_requirements(CardRequirements {
            zip: true,
            ..Default::default()
        }),
        Err(CardError::ZipMissing)
    );

    assert_eq!(
        visa().country("XX").build_at(now).err(),
        Some(CardError::CountryInvalid {
            country: "XX".to_owned()
        })
    );
    assert_eq!(
        visa().country("United Kingdom").build_at(now).err(),
        Some(CardError::CountryInvalid {
            country: "United Kingdom".to_owned()
        })
    );
    assert_eq!(
        visa().cardholder_name("Ada\nLovelace").build_at(now).err(),
        Some(CardError::ControlCharacters {
            field: "cardholder name"
        })
    );
}

#[test]
fn requirements_come_from_the_forms_native_params() {
    let params = |json: &str| {
        Some(tl::enums::DataJson::Json(tl::types::DataJson {
            data: json.to_owned(),
        }))
    };
    let stripe = NativeProvider::from_tl(
        "stripe".to_owned(),
        params(
            r#"{"publishable_key":"pk_test_x","need_country":true,"need_zip":false,"need_cardholder_name":true}"#,
        ),
        true,
    );
    assert_eq!(
        CardRequirements::of(&stripe),
        CardRequirements {
            cardholder_name: true,
            country: true,
            zip: false
        }
    );
    let smartglocal = NativeProvider::from_tl(
        "smartglocal".to_owned(),
        params(r#"{"public_token":"abc"}"#),
        false,
    );
    assert_eq!(
        CardRequirements::of(&smartglocal),
        CardRequirements::default()
    );
}

#[test]
fn titles_use_the_brands_proper_name() {
    let now = month(2026, 5);
    let title = |number: &str, cvc: &str| {
        Card::builder()
            .number(number)
            .expiry("12/30")
            .cvc(cvc)
            .build_at(now)
            .unwrap()
            .title()
    };
    assert_eq!(title("4242424242424242", "123"), "Visa *4242");
    assert_eq!(title("5555555555554444", "123"), "Mastercard *4444");
    assert_eq!(title("378282246310005", "1234"), "American Express *0005");
    assert_eq!(title("36227206271667", "123"), "Diners Club *1667");
    assert_eq!(title("3566002020360505", "123"), "JCB *0505");
    assert_eq!(title("2201382000000013", "123"), "Mir *0013");
    assert_eq!(title("9999999999999995", "1234"), "Card *9995");
}

#[test]
fn provider_brand_names_map_to_brands() {
    assert_eq!(Brand::from_provider_name("Visa"), Some(Brand::Visa));
    assert_eq!(
        Brand::from_provider_name("MasterCard"),
        Some(Brand::Mastercard)
    );
    assert_eq!(
        Brand::from_provider_name("American Express"),
        Some(Brand::AmericanExpress)
    );
    assert_eq!(
        Brand::from_provider_name("amex"),
        Some(Brand::AmericanExpress)
    );
    assert_eq!(
        Brand::from_provider_name("Diners Club"),
        Some(Brand::DinersClub)
    );
    assert_eq!(Brand::from_provider_name("UnionPay"), Some(Brand::UnionPay));
    assert_eq!(Brand::from_provider_name("MIR"), Some(Brand::Mir));
    assert_eq!(Brand::from_provider_name("Unknown"), None);
    assert_eq!(Brand::from_provider_name(""), None);
}

/// Whether `text` shows the number (whole, or all but its last four digits) or the CVC.
fn leaks(text: &str, number: &str, cvc: &str) -> bool {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.contains(number) || text.contains(&number[..number.len() - 4]) || text.contains(cvc)
}

#[test]
fn no_debug_display_or_error_shows_the_number_or_the_cvc() {
    let now = month(2026, 5);
    for (number, brand) in KNOWN_GOOD {
        let cvc = if *brand == Brand::AmericanExpress {
            "9876"
        } else {
            "987"
        };
        let builder = Card::builder()
            .number(number)
            .expiry("11/29")
            .cvc(cvc)
            .cardholder_name("Ada Lovelace")
            .zip("SW1A 1AA");
        let card = builder.clone().build_at(now).unwrap();
        let shown = [
            format!("{card:?}"),
            format!("{card:#?}"),
            format!("{:?}", card.number()),
            card.number().to_string(),
            format!("{:?}", card.cvc()),
            card.cvc().to_string(),
            format!("{builder:?}"),
            card.title(),
        ];
        for text in &shown {
            assert!(!leaks(text, number, cvc), "{text}");
            assert!(!text.contains("Ada") && !text.contains("SW1A"), "{text}");
        }
        assert_eq!(
            format!("{:?}", card.number()),
            format!("{} *{}", brand.name(), &number[number.len() - 4..])
        );
        assert_eq!(format!("{:?}", card.cvc()), "[REDACTED]");

        // Errors from every check.
        let wrong_digit = format!("{}{}", &number[..number.len() - 1], "x");
        let errors = [
            Card::builder()
                .number(&wrong_digit)
                .build_at(now)
                .unwrap_err(),
            builder
                .clone()
                .number(&format!("{number}0000"))
                .build_at(now)
                .unwrap_err(),
            builder.clone().expiry("04/26").build_at(now).unwrap_err(),
            builder
                .clone()
                .cvc(&format!("{cvc}1"))
                .build_at(now)
                .unwrap_err(),
            builder.clone().cvc("98x").build_at(now).unwrap_err(),
            builder.clone().country("ZZ").build_at(now).unwrap_err(),
        ];
        for error in errors {
            for text in [error.to_string(), format!("{error:?}")] {
                assert!(!leaks(&text, number, cvc), "{text}");
            }
        }
    }
}

#[test]
fn error_messages_say_what_to_fix() {
    let now = month(2026, 5);
    let message =
        |builder: tgpay::card::CardBuilder| builder.build_at(now).unwrap_err().to_string();
    assert_eq!(
        message(visa().number("4242 4242 4242 424")),
        "a Visa card number has 13, 16, 18 or 19 digits, this one has 15: check for a missing or \
         extra digit"
    );
    assert_eq!(
        message(visa().number("3782 822463 1000")),
        "an American Express card number has 15 digits, this one has 14: check for a missing or \
         extra digit"
    );
    assert!(message(visa().number("4242424242424241")).contains("mistyped"));
    assert_eq!(
        message(visa().expiry("04/26")),
        "the card expired at the end of 04/2026 (it is now 05/2026): use a card that has not \
         expired"
    );
    assert!(message(visa().expiry("April")).contains("MM/YY"));
    assert!(message(visa().cvc("12")).contains("on the back of the card"));
}
