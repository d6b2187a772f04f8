//! Currency table, amount arithmetic, formatting and parsing, checked against real table rows.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use tgpay::currency::{
    Amount, AmountError, Currency, CurrencyError, CurrencySource, Operation, ParseAmountError,
};

fn cur(code: &str) -> Currency {
    match Currency::from_code(code) {
        Ok(currency) => currency,
        Err(error) => panic!("{code}: {error}"),
    }
}

fn amount(code: &str, minor: i64) -> Amount {
    cur(code).amount(minor)
}

// ---------------------------------------------------------------------------------------------
// The table

/// Every row of the JSON file is loaded with exactly its values, and the values are sane.
#[test]
fn every_table_row_loads_with_its_values() {
    let json =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/currencies.json"))
            .expect("data/currencies.json is readable");
    let rows: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&json).expect("data/currencies.json parses");
    assert_eq!(rows.len(), 84, "the 2021 table has 84 currencies");
    for (key, row) in &rows {
        let currency = cur(key);
        let text = |field: &str| row[field].as_str().expect(field).to_owned();
        assert_eq!(currency.code(), key);
        assert_eq!(key.len(), 3);
        assert!(key.bytes().all(|b| b.is_ascii_uppercase()), "{key}");
        assert_eq!(currency.source(), CurrencySource::Table, "{key}");
        assert!(currency.is_known());
        assert!(!currency.is_stars());
        assert_eq!(currency.title(), text("title"), "{key}");
        assert_eq!(currency.symbol(), text("symbol"), "{key}");
        assert_eq!(currency.native_symbol(), text("native"), "{key}");
        assert_eq!(
            currency
                .thousands_separator()
                .map(String::from)
                .unwrap_or_default(),
            text("thousands_sep"),
            "{key}"
        );
        assert_eq!(
            currency.decimal_separator().to_string(),
            text("decimal_sep"),
            "{key}"
        );
        assert_eq!(
            currency.symbol_left(),
            row["symbol_left"].as_bool().unwrap(),
            "{key}"
        );
        assert_eq!(
            currency.space_between(),
            row["space_between"].as_bool().unwrap(),
            "{key}"
        );
        assert_eq!(
            u64::from(currency.exponent()),
            row["exp"].as_u64().unwrap(),
            "{key}"
        );
        assert!(currency.exponent() <= 4, "{key}");
        // Strings, except USD's max_amount, which is a number in Telegram's file.
        let limit = |field: &str| match &row[field] {
            serde_json::Value::String(text) => text.parse::<i64>().unwrap(),
            other => other.as_i64().unwrap(),
        };
        let (min, max) = (limit("min_amount"), limit("max_amount"));
        assert_eq!(currency.advisory_min(), Some(currency.amount(min)), "{key}");
        assert_eq!(currency.advisory_max(), Some(currency.amount(max)), "{key}");
        assert!(0 < min && min < max, "{key}: {min} .. {max}");
        assert!(
            !currency.title().is_empty() && !currency.symbol().is_empty(),
            "{key}"
        );
    }
}

#[test]
fn all_lists_stars_table_and_supplement_once_each() {
    let all: Vec<Currency> = Currency::all().collect();
    assert_eq!(all.len(), 1 + 84 + 11);
    assert_eq!(all[0], Currency::XTR);
    let mut codes: Vec<&str> = all.iter().map(Currency::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len(), "no code twice");
    let supplement: Vec<&str> = all
        .iter()
        .filter(|c| c.source() == CurrencySource::Supplement)
        .map(Currency::code)
        .collect();
    assert_eq!(
        supplement,
        [
            "BHD", "BYN", "ETB", "GHS", "IQD", "IRR", "JOD", "MMK", "MOP", "SYP", "VEF"
        ]
    );
    for currency in &all {
        assert_eq!(Currency::from_code(currency.code()), Ok(*currency));
    }
}

#[test]
fn stars_are_built_in() {
    let xtr = cur("XTR");
    assert_eq!(xtr, Currency::XTR);
    assert_eq!(xtr.source(), CurrencySource::Stars);
    assert!(xtr.is_stars() && xtr.is_known());
    assert_eq!(xtr.exponent(), 0);
    assert_eq!(xtr.symbol(), "\u{2B50}");
    assert_eq!(xtr.title(), "Telegram Stars");
    assert_eq!(xtr.advisory_min(), None);
    assert_eq!(xtr.advisory_max(), None);
}

#[test]
fn supplement_rows_carry_telegram_desktop_rules() {
    let bhd = cur("BHD");
    assert_eq!(bhd.source(), CurrencySource::Supplement);
    assert_eq!(bhd.exponent(), 3);
    assert_eq!(bhd.symbol(), "BHD");
    assert_eq!(bhd.advisory_min(), None);
    assert_eq!(cur("JOD").exponent(), 3);
    assert_eq!(cur("IQD").exponent(), 3);
    assert_eq!(cur("IRR").decimal_separator(), '/');
}

#[test]
fn lookup_ignores_ascii_case() {
    assert_eq!(cur("usd"), cur("USD"));
    assert_eq!(cur("Eur").code(), "EUR");
    assert_eq!(cur("xtr"), Currency::XTR);
    assert_eq!("rub".parse::<Currency>(), Ok(cur("RUB")));
}

#[test]
fn unknown_and_malformed_codes_are_typed_errors() {
    assert_eq!(
        Currency::from_code("ABC"),
        Err(CurrencyError::Unknown { code: "ABC".into() })
    );
    assert_eq!(
        Currency::from_code("kwd"),
        Err(CurrencyError::Unknown { code: "KWD".into() })
    );
    for bad in ["", "US", "USDT", "U$D", "12A", "ÜSD", " USD"] {
        assert_eq!(
            Currency::from_code(bad),
            Err(CurrencyError::InvalidCode { code: bad.into() }),
            "{bad:?}"
        );
        assert!(Currency::from_code_or_fallback(bad).is_err(), "{bad:?}");
    }
    let long = "X".repeat(1000);
    match Currency::from_code(&long) {
        Err(CurrencyError::InvalidCode { code }) => assert_eq!(code.len(), 16),
        other => panic!("{other:?}"),
    }
    let message = Currency::from_code("ABC").unwrap_err().to_string();
    assert!(
        message.contains("ABC") && message.contains("from_code_or_fallback"),
        "{message}"
    );
}

#[test]
fn unknown_codes_fall_back_to_telegram_desktop_default_rule() {
    let abc = Currency::from_code_or_fallback("abc").unwrap();
    assert!(!abc.is_known());
    assert_eq!(abc.source(), CurrencySource::Fallback);
    assert_eq!(abc.code(), "ABC");
    assert_eq!(abc.symbol(), "ABC");
    assert_eq!(abc.title(), "ABC");
    assert_eq!(abc.native_symbol(), "ABC");
    assert_eq!(abc.exponent(), 2);
    assert_eq!(abc.thousands_separator(), Some(','));
    assert_eq!(abc.decimal_separator(), '.');
    assert!(abc.symbol_left() && !abc.space_between());
    assert_eq!(abc.advisory_min(), None);
    assert_eq!(format!("{abc:?}"), "Currency(ABC, fallback)");
    assert_eq!(abc.amount(123456).to_string(), "ABC1,234.56");
    assert_eq!(abc.parse_amount("4.99"), Ok(abc.amount(499)));
    // A known code is never a fallback.
    let usd = Currency::from_code_or_fallback("USD").unwrap();
    assert!(usd.is_known());
    assert_eq!(usd.symbol(), "$");
}

// ---------------------------------------------------------------------------------------------
// Formatting, known answers from the table rows and Telegram Desktop's FillAmountAndCurrency

#[test]
fn formats_like_telegram_desktop() {
    let cases: &[(&str, i64, &str)] = &[
        // symbol on the left, no space, `,` and `.`
        ("USD", 499, "$4.99"),
        ("USD", 5, "$0.05"),
        ("USD", 0, "$0.00"),
        ("USD", 105_395_900, "$1,053,959.00"),
        ("USD", -499, "\u{2212}$4.99"),
        ("GBP", 123_456, "£1,234.56"),
        ("INR", 123_456, "₹1,234.56"),
        ("CNY", 123_456, "CN¥1,234.56"),
        ("TWD", 123_456, "NT$1,234.56"),
        // exponent 0, the international symbol, not the native `￥`
        ("JPY", 1_053_959, "¥1,053,959"),
        ("KRW", 1_053_959, "₩1,053,959"),
        ("UGX", 1_053_959, "UGX1,053,959"),
        ("CLP", 1_053_959, "CLP 1.053.959"),
        ("ISK", 1_053_959, "1.053.959 ISK"),
        ("VND", 1_053_959, "1.053.959 ₫"),
        // symbol on the right with a space, U+00A0 thousands separator from the table
        ("EUR", 123_456, "1\u{a0}234,56 €"),
        ("EUR", -123_456, "\u{2212}1\u{a0}234,56 €"),
        ("RUB", 105_395_900, "1\u{a0}053\u{a0}959,00 RUB"),
        ("PLN", 99, "0,99 PLN"),
        // symbol on the left with a space
        ("BRL", 123_456, "R$ 1.234,56"),
        ("ILS", 123_456, "₪ 1,234.56"),
        ("AED", 123_456, "AED 1,234.56"),
        ("NOK", 123_456, "NOK 1\u{a0}234,56"),
        // the apostrophe of CHF
        ("CHF", 123_456_789, "1'234'567.89 CHF"),
        // no thousands separator for DKK
        ("DKK", 123_456_789, "1234567,89 DKK"),
        // right side without a space
        ("UAH", 123_456, "1\u{a0}234,56UAH"),
        ("ALL", 123_456, "1.234,56ALL"),
        // the table's unusual decimal separators
        ("KGS", 123_456, "1\u{a0}234-56 KGS"),
        ("KZT", 123_456, "KZT1\u{a0}234-56"),
        ("TJS", 123_456, "1\u{a0}234;56 TJS"),
        // left, no space, `.` thousands
        ("IDR", 123_456, "IDR1.234,56"),
        // exponent 3 from the supplement
        ("BHD", 1_234_567, "BHD 1,234.567"),
        ("JOD", 5, "JOD0.005"),
        ("IRR", 123_456, "1,234/56 IRR"),
        // Telegram Stars
        ("XTR", 50, "50 ⭐"),
        ("XTR", 1_500, "1,500 ⭐"),
        ("XTR", -50, "\u{2212}50 ⭐"),
        ("XTR", 0, "0 ⭐"),
    ];
    for &(code, minor, expected) in cases {
        let value = amount(code, minor);
        assert_eq!(value.to_string(), expected, "{code} {minor}");
        assert_eq!(value.format(), expected, "{code} {minor}");
    }
}

#[test]
fn formats_the_extremes_exactly() {
    let usd = cur("USD");
    assert_eq!(
        usd.amount(i64::MAX).to_string(),
        "$92,233,720,368,547,758.07"
    );
    assert_eq!(
        usd.amount(i64::MIN).to_string(),
        "\u{2212}$92,233,720,368,547,758.08"
    );
    assert_eq!(
        cur("JPY").amount(i64::MAX).to_string(),
        "¥9,223,372,036,854,775,807"
    );
    assert_eq!(
        cur("RUB").amount(i64::MIN).to_string(),
        "\u{2212}92\u{a0}233\u{a0}720\u{a0}368\u{a0}547\u{a0}758,08 RUB"
    );
    assert_eq!(
        usd.amount(i64::MAX).format_plain(),
        "92233720368547758.07 USD"
    );
    assert_eq!(
        usd.amount(i64::MIN).format_plain(),
        "-92233720368547758.08 USD"
    );
    assert_eq!(
        cur("BHD").amount(i64::MIN).format_plain(),
        "-9223372036854775.808 BHD"
    );
}

#[test]
fn compact_format_drops_a_zero_fraction_only() {
    assert_eq!(amount("USD", 500).format_compact(), "$5");
    assert_eq!(amount("USD", 499).format_compact(), "$4.99");
    assert_eq!(amount("USD", 10).format_compact(), "$0.10");
    assert_eq!(amount("EUR", 100_000).format_compact(), "1\u{a0}000 €");
    assert_eq!(amount("JPY", 500).format_compact(), "¥500");
}

#[test]
fn plain_format_is_for_machines() {
    let cases: &[(&str, i64, &str)] = &[
        ("USD", 499, "4.99 USD"),
        ("USD", -499, "-4.99 USD"),
        ("USD", 5, "0.05 USD"),
        ("USD", 105_395_900, "1053959.00 USD"),
        ("EUR", 123_456, "1234.56 EUR"),
        ("JPY", 1_053_959, "1053959 JPY"),
        ("XTR", 50, "50 XTR"),
        ("BHD", 1, "0.001 BHD"),
        ("CHF", -1, "-0.01 CHF"),
    ];
    for &(code, minor, expected) in cases {
        assert_eq!(amount(code, minor).format_plain(), expected);
        assert_eq!(Amount::parse_plain(expected), Ok(amount(code, minor)));
        assert_eq!(expected.parse::<Amount>(), Ok(amount(code, minor)));
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing what a user typed

#[test]
fn parses_user_input() {
    let cases: &[(&str, &str, i64)] = &[
        ("USD", "4", 400),
        ("USD", "4.9", 490),
        ("USD", "4.99", 499),
        ("USD", ".5", 50),
        ("USD", "4.", 400),
        ("USD", "0", 0),
        ("USD", "007.10", 710),
        ("USD", "  4.99\t", 499),
        ("USD", "1053959", 105_395_900),
        ("EUR", "4,99", 499),
        ("EUR", "4.99", 499),
        ("RUB", "1053959,5", 105_395_950),
        ("BRL", "12,34", 1234),
        ("CHF", "12.34", 1234),
        ("JPY", "1053959", 1_053_959),
        ("JPY", "1053959.", 1_053_959),
        ("KRW", "500", 500),
        ("BHD", "1.234", 1234),
        ("BHD", "1.2", 1200),
        ("XTR", "50", 50),
        ("KGS", "12.34", 1234),
    ];
    for &(code, input, minor) in cases {
        let currency = cur(code);
        assert_eq!(
            Amount::parse(input, currency),
            Ok(currency.amount(minor)),
            "{code} {input:?}"
        );
        assert_eq!(currency.parse_amount(input), Ok(currency.amount(minor)));
    }
}

#[test]
fn rejects_bad_user_input_with_typed_errors() {
    let usd = cur("USD");
    let eur = cur("EUR");
    let jpy = cur("JPY");
    let kgs = cur("KGS");
    let xtr = Currency::XTR;
    let invalid = |currency, character, position| ParseAmountError::InvalidCharacter {
        currency,
        character,
        position,
    };
    let cases: Vec<(Currency, &str, ParseAmountError)> = vec![
        (usd, "", ParseAmountError::Empty { currency: usd }),
        (usd, "   ", ParseAmountError::Empty { currency: usd }),
        (usd, ".", ParseAmountError::NoDigits { currency: usd }),
        (usd, "-4.99", ParseAmountError::Sign { currency: usd }),
        (usd, "+4.99", ParseAmountError::Sign { currency: usd }),
        (
            usd,
            "\u{2212}4.99",
            ParseAmountError::Sign { currency: usd },
        ),
        (usd, " -1", ParseAmountError::Sign { currency: usd }),
        (usd, "abc", invalid(usd, 'a', 1)),
        (usd, "$4.99", invalid(usd, '$', 1)),
        (usd, "4.99 USD", invalid(usd, ' ', 5)),
        (usd, "  4,99", invalid(usd, ',', 4)),
        (usd, "1,000", invalid(usd, ',', 2)),
        (usd, "1 000", invalid(usd, ' ', 2)),
        (usd, "4.9.9", invalid(usd, '.', 4)),
        (usd, "4e2", invalid(usd, 'e', 2)),
        (usd, "٤", invalid(usd, '٤', 1)),
        (usd, "4-", invalid(usd, '-', 2)),
        (eur, "4,9,9", invalid(eur, ',', 4)),
        (eur, "1.000,50", invalid(eur, ',', 6)),
        (kgs, "12-34", invalid(kgs, '-', 3)),
        (
            usd,
            "4.999",
            ParseAmountError::TooManyDecimals {
                currency: usd,
                exponent: 2,
                found: 3,
            },
        ),
        (
            usd,
            "4.990",
            ParseAmountError::TooManyDecimals {
                currency: usd,
                exponent: 2,
                found: 3,
            },
        ),
        (
            jpy,
            "100.5",
            ParseAmountError::TooManyDecimals {
                currency: jpy,
                exponent: 0,
                found: 1,
            },
        ),
        (
            xtr,
            "1.0",
            ParseAmountError::TooManyDecimals {
                currency: xtr,
                exponent: 0,
                found: 1,
            },
        ),
        (
            jpy,
            ".5",
            ParseAmountError::TooManyDecimals {
                currency: jpy,
                exponent: 0,
                found: 1,
            },
        ),
    ];
    for (currency, input, expected) in cases {
        assert_eq!(
            Amount::parse(input, currency),
            Err(expected),
            "{currency} {input:?}"
        );
    }
}

#[test]
fn parse_errors_say_what_to_do() {
    let usd = cur("USD");
    let message = Amount::parse("4.999", usd).unwrap_err().to_string();
    assert!(
        message.contains("USD") && message.contains("at most 2 digits"),
        "{message}"
    );
    assert!(message.contains("4.99"), "{message}");
    let message = Amount::parse("4,99", usd).unwrap_err().to_string();
    assert!(
        message.contains("','") && message.contains("position 2"),
        "{message}"
    );
    let message = Amount::parse("x", cur("EUR")).unwrap_err().to_string();
    assert!(
        message.contains("'.' or ','") && message.contains("4,99"),
        "{message}"
    );
    let message = Amount::parse("1.5", cur("JPY")).unwrap_err().to_string();
    assert!(
        message.contains("whole numbers") && message.contains("499"),
        "{message}"
    );
    let message = Amount::parse("99999999999999999999", usd)
        .unwrap_err()
        .to_string();
    assert!(message.contains("92233720368547758.07 USD"), "{message}");
}

#[test]
fn parsing_stops_exactly_at_the_i64_limit() {
    let usd = cur("USD");
    let jpy = cur("JPY");
    let bhd = cur("BHD");
    assert_eq!(
        Amount::parse("92233720368547758.07", usd),
        Ok(usd.amount(i64::MAX))
    );
    assert_eq!(
        Amount::parse("92233720368547758.08", usd),
        Err(ParseAmountError::Overflow { currency: usd })
    );
    assert_eq!(
        Amount::parse("92233720368547759", usd),
        Err(ParseAmountError::Overflow { currency: usd })
    );
    assert_eq!(
        Amount::parse("9223372036854775807", jpy),
        Ok(jpy.amount(i64::MAX))
    );
    assert_eq!(
        Amount::parse("9223372036854775808", jpy),
        Err(ParseAmountError::Overflow { currency: jpy })
    );
    assert_eq!(
        Amount::parse("9223372036854775.807", bhd),
        Ok(bhd.amount(i64::MAX))
    );
    let huge = "9".repeat(10_000);
    assert_eq!(
        Amount::parse(&huge, usd),
        Err(ParseAmountError::Overflow { currency: usd })
    );
    let zeros = format!("{}1", "0".repeat(10_000));
    assert_eq!(Amount::parse(&zeros, jpy), Ok(jpy.amount(1)));
    // The plain format reaches i64::MIN, one further than i64::MAX.
    assert_eq!(
        Amount::parse_plain("-92233720368547758.08 USD"),
        Ok(usd.amount(i64::MIN))
    );
    assert_eq!(
        Amount::parse_plain("-92233720368547758.09 USD"),
        Err(ParseAmountError::Overflow { currency: usd })
    );
    assert_eq!(
        Amount::parse_plain("92233720368547758.08 USD"),
        Err(ParseAmountError::Overflow { currency: usd })
    );
}

#[test]
fn plain_parsing_rejects_what_it_does_not_write() {
    let usd = cur("USD");
    assert!(matches!(
        Amount::parse_plain("4.99"),
        Err(ParseAmountError::MissingCurrency { .. })
    ));
    assert!(matches!(
        Amount::parse_plain("4.99 US"),
        Err(ParseAmountError::Currency(
            CurrencyError::InvalidCode { .. }
        ))
    ));
    assert_eq!(
        Amount::parse_plain("4,99 EUR"),
        Err(ParseAmountError::InvalidCharacter {
            currency: cur("EUR"),
            character: ',',
            position: 2
        })
    );
    assert_eq!(
        Amount::parse_plain("+4.99 USD"),
        Err(ParseAmountError::Sign { currency: usd })
    );
    assert_eq!(
        Amount::parse_plain("4.999 USD"),
        Err(ParseAmountError::TooManyDecimals {
            currency: usd,
            exponent: 2,
            found: 3
        })
    );
    // A newer currency reads with the fallback rule.
    let zzz = Amount::parse_plain("12.34 ZZZ").unwrap();
    assert!(!zzz.currency.is_known());
    assert_eq!(zzz.minor, 1234);
}

/// parse(format_plain(x)) = x for every currency and a spread of values.
#[test]
fn plain_format_round_trips_for_every_currency() {
    let values = [
        0,
        1,
        -1,
        9,
        10,
        99,
        100,
        101,
        499,
        -499,
        1_000,
        123_456,
        105_395_900,
        999_999_999_999,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
        i64::MAX - 1,
    ];
    for currency in Currency::all().chain(Currency::from_code_or_fallback("QQQ")) {
        for &minor in &values {
            let value = currency.amount(minor);
            let plain = value.format_plain();
            assert_eq!(Amount::parse_plain(&plain), Ok(value), "{plain}");
            if minor >= 0 {
                // The number alone is also valid user input.
                let number = plain.rsplit_once(' ').unwrap().0;
                assert_eq!(currency.parse_amount(number), Ok(value), "{plain}");
            }
            // Display always carries the symbol and never panics.
            assert!(value.to_string().contains(currency.symbol()), "{value}");
        }
    }
}

#[test]
fn serde_uses_the_plain_format() {
    let value = amount("EUR", 123_456);
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(json, "\"1234.56 EUR\"");
    assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), value);
    assert_eq!(serde_json::to_string(&cur("JPY")).unwrap(), "\"JPY\"");
    assert_eq!(
        serde_json::from_str::<Currency>("\"usd\"").unwrap(),
        cur("USD")
    );
    let newer: Currency = serde_json::from_str("\"QQQ\"").unwrap();
    assert!(!newer.is_known());
    assert!(serde_json::from_str::<Amount>("\"4.999 USD\"").is_err());
    assert!(serde_json::from_str::<Currency>("\"US\"").is_err());
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

#[test]
fn arithmetic_is_exact_and_checked() {
    let usd = cur("USD");
    let a = usd.amount(499);
    let b = usd.amount(101);
    assert_eq!(a.checked_add(b), Ok(usd.amount(600)));
    assert_eq!(a.checked_sub(b), Ok(usd.amount(398)));
    assert_eq!(b.checked_sub(a), Ok(usd.amount(-398)));
    assert_eq!(a.checked_mul(3), Ok(usd.amount(1497)));
    assert_eq!(a.checked_mul(-1), Ok(usd.amount(-499)));
    assert_eq!(a.checked_neg(), Ok(usd.amount(-499)));
    assert_eq!(a.checked_cmp(&b), Ok(Ordering::Greater));
    assert_eq!(b.checked_cmp(&a), Ok(Ordering::Less));
    assert_eq!(a.checked_cmp(&a), Ok(Ordering::Equal));
    assert!(a.is_positive() && !a.is_negative() && !a.is_zero());
    assert!(usd.amount(0).is_zero());
    assert!(usd.amount(-1).is_negative());
    assert_eq!(Amount::new(usd, 7), usd.amount(7));
}

#[test]
fn arithmetic_overflow_is_a_typed_error() {
    let usd = cur("USD");
    let overflow = |operation| AmountError::Overflow {
        currency: usd,
        operation,
    };
    let max = usd.amount(i64::MAX);
    let min = usd.amount(i64::MIN);
    let one = usd.amount(1);
    assert_eq!(max.checked_add(one), Err(overflow(Operation::Add)));
    assert_eq!(min.checked_sub(one), Err(overflow(Operation::Sub)));
    assert_eq!(max.checked_mul(2), Err(overflow(Operation::Mul)));
    assert_eq!(min.checked_mul(-1), Err(overflow(Operation::Mul)));
    assert_eq!(min.checked_neg(), Err(overflow(Operation::Neg)));
    assert_eq!(max.checked_neg(), Ok(usd.amount(-i64::MAX)));
    assert_eq!(max.checked_add(min), Ok(usd.amount(-1)));
    let message = max.checked_add(one).unwrap_err().to_string();
    assert!(
        message.contains("adding USD") && message.contains("64 bits"),
        "{message}"
    );
}

#[test]
fn currencies_never_mix() {
    let usd = cur("USD").amount(100);
    let eur = cur("EUR").amount(100);
    let mismatch = AmountError::CurrencyMismatch {
        left: usd.currency,
        right: eur.currency,
    };
    assert_eq!(usd.checked_add(eur), Err(mismatch.clone()));
    assert_eq!(usd.checked_sub(eur), Err(mismatch.clone()));
    assert_eq!(usd.checked_cmp(&eur), Err(mismatch));
    assert_ne!(usd, eur);
    let message = usd.checked_add(eur).unwrap_err().to_string();
    assert!(
        message.contains("USD") && message.contains("EUR"),
        "{message}"
    );
    assert_eq!(
        Amount::checked_sum(usd.currency, [usd, eur]),
        Err(AmountError::CurrencyMismatch {
            left: usd.currency,
            right: eur.currency
        })
    );
}

#[test]
fn sums_are_exact() {
    let usd = cur("USD");
    assert_eq!(
        Amount::checked_sum(usd, Vec::<Amount>::new()),
        Ok(usd.amount(0))
    );
    let prices = [usd.amount(499), usd.amount(1), usd.amount(-100)];
    assert_eq!(Amount::checked_sum(usd, prices), Ok(usd.amount(400)));
    assert_eq!(Amount::checked_sum(usd, prices.iter()), Ok(usd.amount(400)));
    // Intermediate sums may leave the i64 range if the total comes back.
    let swing = [
        usd.amount(i64::MAX),
        usd.amount(i64::MAX),
        usd.amount(i64::MIN),
        usd.amount(i64::MIN),
    ];
    assert_eq!(Amount::checked_sum(usd, swing), Ok(usd.amount(-2)));
    assert_eq!(
        Amount::checked_sum(usd, [usd.amount(i64::MAX), usd.amount(1)]),
        Err(AmountError::Overflow {
            currency: usd,
            operation: Operation::Sum
        })
    );
}

#[test]
fn advisory_limits_are_information_only() {
    let usd = cur("USD");
    assert_eq!(usd.advisory_min(), Some(usd.amount(100)));
    assert_eq!(usd.advisory_max(), Some(usd.amount(1_000_000)));
    // Amounts outside them still parse and format.
    assert_eq!(usd.parse_amount("0.01"), Ok(usd.amount(1)));
    assert_eq!(usd.parse_amount("1000000"), Ok(usd.amount(100_000_000)));
    assert_eq!(usd.amount(1).to_string(), "$0.01");
}

#[test]
fn plausibility_follows_tdlib_bound() {
    let usd = cur("USD");
    assert!(usd.amount(999_999_999_999).is_plausible());
    assert!(usd.amount(-999_999_999_999).is_plausible());
    assert!(!usd.amount(1_000_000_000_000).is_plausible());
    assert!(!usd.amount(i64::MIN).is_plausible());
}
