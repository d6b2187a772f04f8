//! Checks `PaymentError` against the catalog it is generated from.
//!
//! The catalog is read here, at test time, with its own small parser, so a row added to
//! `tl/errors.tsv` later is covered without touching this file.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use grammers_mtsender::{InvocationError, RpcError};
use tgpay::error::{CatalogEntry, OrderField, PaymentError, Provenance, Recovery};
use tgpay::tl;

const CATALOG: &str = include_str!("../tl/errors.tsv");

// The methods `*` stands for: `CATALOG_METHODS`.
include!("support/methods.rs");

/// The number numbered errors are given in these tests.
const VALUE: u32 = 4242;

struct Row {
    code: i32,
    name: String,
    methods: Vec<String>,
    meaning: String,
    recovery: String,
    provenance: String,
}

fn rows() -> Vec<Row> {
    let mut lines = CATALOG.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    assert_eq!(
        header[..7],
        [
            "code",
            "name",
            "methods",
            "meaning",
            "recovery",
            "provenance",
            "source"
        ]
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            assert!(cells.len() >= 7, "short row: {line}");
            let methods = if cells[2] == "*" {
                CATALOG_METHODS.iter().map(|m| (*m).to_owned()).collect()
            } else {
                cells[2].split(',').map(|m| m.trim().to_owned()).collect()
            };
            Row {
                code: cells[0].parse().expect("numeric code"),
                name: cells[1].to_owned(),
                methods,
                meaning: cells[3].to_owned(),
                recovery: cells[4].to_owned(),
                provenance: cells[5].to_owned(),
            }
        })
        .collect()
}

fn expected_recovery(token: &str, value: u32) -> Recovery {
    match token {
        "refetch_form" => Recovery::RefetchForm,
        "top_up_stars" => Recovery::TopUpStars,
        "reenter_password" => Recovery::ReenterPassword,
        "wait" => Recovery::Wait(Duration::from_secs(u64::from(value))),
        "contact_merchant" => Recovery::ContactMerchant,
        "update_client" => Recovery::UpdateClient,
        "none" => Recovery::None,
        "other_payment_method" => Recovery::OtherPaymentMethod,
        other => {
            let field = other
                .strip_prefix("fix_field:")
                .unwrap_or_else(|| panic!("unknown recovery token {other}"));
            Recovery::OrderField(match field {
                "name" => OrderField::Name,
                "phone" => OrderField::Phone,
                "email" => OrderField::Email,
                "street_line1" => OrderField::StreetLine1,
                "street_line2" => OrderField::StreetLine2,
                "city" => OrderField::City,
                "state" => OrderField::State,
                "country_iso2" => OrderField::CountryIso2,
                "post_code" => OrderField::PostCode,
                "shipping_address" => OrderField::ShippingAddress,
                "shipping_option" => OrderField::ShippingOption,
                "credentials" => OrderField::Credentials,
                other => panic!("unknown order field {other}"),
            })
        }
    }
}

fn expected_provenance(token: &str) -> Provenance {
    match token {
        "method-page" => Provenance::MethodPage,
        "error-db" => Provenance::ErrorDb,
        "client" => Provenance::Client,
        other => panic!("unknown provenance {other}"),
    }
}

/// The `error_message` Telegram would send for a row.
fn wire(name: &str, value: u32) -> String {
    match name.strip_suffix("_X") {
        Some(prefix) => format!("{prefix}_{value}"),
        None => name.to_owned(),
    }
}

/// An error as it comes out of a grammers `invoke`: parsed by grammers from the TL `rpc_error`.
fn received(code: i32, message: &str) -> PaymentError {
    let rpc = RpcError::from(tl::types::RpcError {
        error_code: code,
        error_message: message.to_owned(),
    });
    PaymentError::from(InvocationError::Rpc(rpc))
}

#[test]
fn every_catalog_row_maps_to_its_variant_and_back() {
    let rows = rows();
    assert!(
        rows.len() >= 50,
        "the catalog shrank to {} rows",
        rows.len()
    );
    let entries = CatalogEntry::all();
    assert_eq!(entries.len(), rows.len(), "generated catalog size");

    for (row, entry) in rows.iter().zip(entries) {
        let name = row.name.as_str();
        assert_eq!(entry.name(), name, "catalog order");
        let numbered = name.ends_with("_X");
        let value = if numbered { VALUE } else { 0 };
        let error = received(row.code, &wire(name, VALUE));

        assert!(
            !matches!(
                error,
                PaymentError::Unknown(_) | PaymentError::Invocation(_)
            ),
            "{name} did not map to a catalog variant: {error:?}"
        );
        assert_eq!(error.name(), Some(name), "{name}: name");
        assert_eq!(error.code(), Some(row.code), "{name}: code");
        assert_eq!(
            error.recovery(),
            expected_recovery(&row.recovery, value),
            "{name}: recovery"
        );
        let methods: Vec<&str> = row.methods.iter().map(String::as_str).collect();
        assert_eq!(error.methods(), methods.as_slice(), "{name}: methods");
        assert_eq!(error.meaning(), row.meaning, "{name}: meaning");
        assert_eq!(
            error.wire_message(),
            Some(wire(name, VALUE)),
            "{name}: wire message"
        );

        let entry = error.catalog_entry().expect("catalog entry");
        assert_eq!(entry.name(), name);
        assert_eq!(entry.is_numbered(), numbered, "{name}: numbered");
        assert_eq!(
            entry.provenance(),
            expected_provenance(&row.provenance),
            "{name}: provenance"
        );
        assert_eq!(
            entry.any_method(),
            methods == CATALOG_METHODS,
            "{name}: `*`"
        );

        // And back: the catalog entry builds the same error.
        let again = CatalogEntry::find(name).expect("find by name").error(VALUE);
        assert_eq!(again.name(), Some(name));
        assert_eq!(again.recovery(), error.recovery());
        assert_eq!(again.to_string(), error.to_string());
    }
}

#[test]
fn the_code_does_not_decide_the_variant() {
    // Telegram's codes for one name have changed over the years; the name is what identifies it.
    let error = received(303, "TMP_PASSWORD_INVALID");
    assert!(matches!(error, PaymentError::TmpPasswordInvalid));
    assert_eq!(error.code(), Some(400), "the catalog's code");
}

#[test]
fn numbered_names_parse_their_value() {
    let error = received(420, "FLOOD_WAIT_31");
    assert!(matches!(error, PaymentError::FloodWait { seconds: 31 }));
    assert_eq!(error.name(), Some("FLOOD_WAIT_X"));
    assert_eq!(error.recovery(), Recovery::Wait(Duration::from_secs(31)));
    assert_eq!(error.wire_message().as_deref(), Some("FLOOD_WAIT_31"));

    let error = received(400, "STARGIFT_TRANSFER_TOO_EARLY_86400");
    assert!(matches!(
        error,
        PaymentError::StargiftTransferTooEarly { seconds: 86400 }
    ));
    assert_eq!(error.name(), Some("STARGIFT_TRANSFER_TOO_EARLY_X"));
    assert_eq!(error.recovery(), Recovery::Wait(Duration::from_secs(86400)));

    // Built by hand, with the number still in the name.
    let by_hand = RpcError {
        code: 420,
        name: "FLOOD_WAIT_7".into(),
        value: None,
        caused_by: None,
    };
    assert!(matches!(
        PaymentError::from(by_hand),
        PaymentError::FloodWait { seconds: 7 }
    ));

    // A numbered name without its number is not that error.
    let no_number = RpcError {
        code: 420,
        name: "FLOOD_WAIT".into(),
        value: None,
        caused_by: None,
    };
    assert!(matches!(
        PaymentError::from(no_number),
        PaymentError::Unknown(_)
    ));
    let not_digits = RpcError {
        code: 420,
        name: "FLOOD_WAIT_SOON".into(),
        value: None,
        caused_by: None,
    };
    assert!(matches!(
        PaymentError::from(not_digits),
        PaymentError::Unknown(_)
    ));
}

#[test]
fn digits_inside_names_are_not_numbers() {
    // grammers moves the `1` of `LINE1` into `value`; the name still identifies the error.
    let raw = RpcError::from(tl::types::RpcError {
        error_code: 400,
        error_message: "ADDRESS_STREET_LINE1_INVALID".into(),
    });
    assert_eq!(raw.value, Some(1));
    let error = PaymentError::from(raw);
    assert!(matches!(error, PaymentError::AddressStreetLine1Invalid));
    assert_eq!(
        error.recovery(),
        Recovery::OrderField(OrderField::StreetLine1)
    );
    assert_eq!(
        error.wire_message().as_deref(),
        Some("ADDRESS_STREET_LINE1_INVALID")
    );
}

#[test]
fn an_unknown_name_stays_unknown_with_the_raw_error_intact() {
    let raw = RpcError {
        code: 400,
        name: "PAYMENT_SOMETHING_NEW".into(),
        value: None,
        caused_by: Some(0x2d03522f),
    };
    let error = PaymentError::from(InvocationError::Rpc(raw.clone()));
    match &error {
        PaymentError::Unknown(kept) => assert_eq!(kept, &raw),
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(error.name(), Some("PAYMENT_SOMETHING_NEW"));
    assert_eq!(error.code(), Some(400));
    assert_eq!(error.recovery(), Recovery::None);
    assert!(error.methods().is_empty());
    assert!(error.catalog_entry().is_none());
    let source = error
        .source()
        .and_then(|s| s.downcast_ref::<RpcError>())
        .expect("the raw error is the source");
    assert_eq!(source, &raw);
    let text = error.to_string();
    assert!(text.contains("PAYMENT_SOMETHING_NEW"), "{text}");
    assert!(text.ends_with("— retrying will not help"), "{text}");
}

#[test]
fn an_unknown_flood_error_still_says_how_long_to_wait() {
    let error = received(420, "FLOOD_PREMIUM_WAIT_5");
    assert!(matches!(error, PaymentError::Unknown(_)));
    assert_eq!(error.recovery(), Recovery::Wait(Duration::from_secs(5)));
    assert_eq!(
        error.wire_message().as_deref(),
        Some("FLOOD_PREMIUM_WAIT_5")
    );
}

#[test]
fn failures_without_an_answer_are_not_rpc_errors() {
    let cases = [
        InvocationError::Dropped("sender stopped"),
        InvocationError::Io(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
        InvocationError::InvalidDc,
    ];
    for cause in cases {
        let error = PaymentError::from(cause);
        assert!(matches!(error, PaymentError::Invocation(_)), "{error:?}");
        assert_eq!(error.name(), None);
        assert_eq!(error.code(), None);
        assert_eq!(error.wire_message(), None);
        assert_eq!(error.recovery(), Recovery::None);
        assert!(error.source().is_some(), "the grammers error is the source");
        let text = error.to_string();
        assert!(
            text.contains("may or may not have reached Telegram"),
            "{text}"
        );
    }
}

#[test]
fn display_says_what_happened_and_the_recovery() {
    for row in rows() {
        let error = received(row.code, &wire(&row.name, VALUE));
        let text = error.to_string();
        let recovery = error.recovery().to_string();
        assert!(text.starts_with(&row.meaning), "{}: {text}", row.name);
        assert!(
            text.contains(&wire(&row.name, VALUE)),
            "{}: {text}",
            row.name
        );
        assert!(
            text.ends_with(&format!(" — {recovery}")),
            "{}: {text}",
            row.name
        );
    }

    assert_eq!(
        received(400, "PASSWORD_HASH_INVALID").to_string(),
        "The 2FA password is wrong (PASSWORD_HASH_INVALID) — re-enter your 2FA password"
    );
    assert!(
        received(400, "BALANCE_TOO_LOW")
            .to_string()
            .ends_with("— top up your Telegram Stars balance")
    );
    assert!(
        received(400, "ADDRESS_CITY_INVALID")
            .to_string()
            .ends_with("— correct the city of the shipping address")
    );
    assert!(
        received(406, "STARS_FORM_AMOUNT_MISMATCH")
            .to_string()
            .ends_with("— fetch the payment form again")
    );
    assert!(
        received(420, "FLOOD_WAIT_12")
            .to_string()
            .ends_with("— wait 12 seconds before trying again")
    );
}

#[test]
fn order_field_tokens_round_trip() {
    for field in OrderField::ALL {
        assert_eq!(OrderField::from_token(field.token()), Some(field));
        assert!(!field.to_string().is_empty());
    }
    assert_eq!(OrderField::from_token("zip"), None);
    // Every field token the catalog uses is one tgpay knows.
    for row in rows() {
        if let Some(token) = row.recovery.strip_prefix("fix_field:") {
            assert!(
                OrderField::from_token(token).is_some(),
                "{}: {token}",
                row.name
            );
        }
    }
}

#[test]
fn every_recovery_kind_is_used_by_some_row() {
    let recoveries: Vec<Recovery> = CatalogEntry::all()
        .iter()
        .map(|entry| entry.recovery(1))
        .collect();
    let used = |wanted: fn(&Recovery) -> bool| recoveries.iter().any(wanted);
    assert!(used(|r| *r == Recovery::RefetchForm));
    assert!(used(|r| *r == Recovery::TopUpStars));
    assert!(used(|r| *r == Recovery::ReenterPassword));
    assert!(used(|r| matches!(r, Recovery::OrderField(_))));
    assert!(used(|r| matches!(r, Recovery::Wait(_))));
    assert!(used(|r| *r == Recovery::ContactMerchant));
    assert!(used(|r| *r == Recovery::UpdateClient));
    assert!(used(|r| *r == Recovery::None));
}

/// README's "What an answer means" table names every catalogued error of the two money-moving
/// methods under the class the code gives it, and nothing else.
#[test]
fn the_readme_classification_table_matches_the_code() {
    use tgpay::error::MoneyClass;
    let readme = include_str!("../README.md");
    let start = readme
        .find("### What an answer means")
        .expect("the table's section");
    let section = &readme[start..];
    let end = section.find("\n### ").unwrap_or(section.len());
    let mut listed = Vec::new();
    for line in section[..end].lines().filter(|l| l.starts_with('|')) {
        let class = if line.contains("**definite**") {
            MoneyClass::Rejected
        } else if line.contains("**verified**") {
            MoneyClass::Verified
        } else if line.contains("**ambiguous**") {
            MoneyClass::Ambiguous
        } else {
            continue;
        };
        for name in line.split('`').skip(1).step_by(2) {
            let is_name = name.len() > 3
                && name.contains('_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if is_name {
                listed.push((name.to_owned(), class));
            }
        }
    }
    let money = ["payments.sendPaymentForm", "payments.sendStarsForm"];
    let mut expected = Vec::new();
    for entry in CatalogEntry::all() {
        if entry.any_method() || entry.methods().iter().any(|m| money.contains(m)) {
            expected.push((entry.name().to_owned(), entry.error(1).money_class()));
        }
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(listed, expected);
}
