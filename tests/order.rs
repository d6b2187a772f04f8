//! Order information: TL conversion, autofill, local checks, validated orders and shipping.

use tgpay::currency::Currency;
use tgpay::error::{OrderField, PaymentError};
use tgpay::form::{FormError, Invoice, RequestedInfo};
use tgpay::order::{OrderInfo, ShippingAddress, ShippingOption, ValidatedOrder};
use tgpay::tl::{enums, types};

fn usd() -> Currency {
    Currency::from_code("USD").expect("USD is in the table")
}

fn address() -> ShippingAddress {
    ShippingAddress {
        street_line1: "1600 Amphitheatre Pkwy".to_owned(),
        street_line2: "Building 40".to_owned(),
        city: "Mountain View".to_owned(),
        state: "CA".to_owned(),
        country_iso2: "US".to_owned(),
        post_code: "94043".to_owned(),
    }
}

fn full_info() -> OrderInfo {
    OrderInfo {
        name: Some("Ada Lovelace".to_owned()),
        phone: Some("+44 20 7946 0958".to_owned()),
        email: Some("ada@example.com".to_owned()),
        shipping_address: Some(address()),
    }
}

const ALL: RequestedInfo = RequestedInfo {
    name: true,
    phone: true,
    email: true,
    shipping_address: true,
};

// --- TL ---

#[test]
fn order_info_round_trips_through_tl() {
    let info = full_info();
    let tl = info.to_tl();
    let enums::PaymentRequestedInfo::Info(raw) = &tl;
    assert_eq!(raw.name.as_deref(), Some("Ada Lovelace"));
    let Some(enums::PostAddress::Address(post)) = &raw.shipping_address else {
        panic!("the address is sent");
    };
    assert_eq!(post.country_iso2, "US");
    assert_eq!(post.street_line2, "Building 40");
    assert_eq!(OrderInfo::from_tl(tl), info);
}

#[test]
fn empty_strings_are_absent() {
    let tl = enums::PaymentRequestedInfo::Info(types::PaymentRequestedInfo {
        name: Some(String::new()),
        phone: Some("+1 555 0100".to_owned()),
        email: None,
        shipping_address: None,
    });
    let info = OrderInfo::from_tl(tl);
    assert_eq!(info.name, None);
    assert_eq!(info.phone.as_deref(), Some("+1 555 0100"));

    let given = OrderInfo {
        name: Some(String::new()),
        ..OrderInfo::default()
    };
    let enums::PaymentRequestedInfo::Info(raw) = given.to_tl();
    assert_eq!(raw.name, None, "empty fields are not sent, as TDLib does");
}

// --- autofill ---

#[test]
fn autofill_keeps_saved_fields() {
    let saved = full_info();
    let fill = OrderInfo::autofill(&ALL, Some(&saved), &OrderInfo::default());
    assert_eq!(fill.info, saved);
    assert!(fill.missing.is_empty());
    assert!(fill.is_complete());
}

#[test]
fn autofill_given_fields_override_saved_ones() {
    let saved = full_info();
    let other = ShippingAddress {
        city: "Paris".to_owned(),
        country_iso2: "FR".to_owned(),
        ..address()
    };
    let given = OrderInfo {
        name: Some("Grace Hopper".to_owned()),
        phone: None,
        email: Some("   ".to_owned()), // blank: does not override
        shipping_address: Some(other.clone()),
    };
    let fill = OrderInfo::autofill(&ALL, Some(&saved), &given);
    assert_eq!(fill.info.name.as_deref(), Some("Grace Hopper"));
    assert_eq!(fill.info.phone, saved.phone);
    assert_eq!(fill.info.email, saved.email);
    assert_eq!(fill.info.shipping_address, Some(other));
    assert!(fill.missing.is_empty());
}

#[test]
fn autofill_lists_missing_fields_and_drops_unrequested_ones() {
    let saved = OrderInfo {
        phone: Some("+1 555 0100".to_owned()),
        ..OrderInfo::default()
    };
    let given = OrderInfo {
        name: Some("Ada".to_owned()),
        email: Some("ada@example.com".to_owned()), // not requested
        ..OrderInfo::default()
    };
    let requested = RequestedInfo {
        name: true,
        phone: true,
        email: false,
        shipping_address: true,
    };
    let fill = OrderInfo::autofill(&requested, Some(&saved), &given);
    assert_eq!(
        fill.info,
        OrderInfo {
            name: Some("Ada".to_owned()),
            phone: Some("+1 555 0100".to_owned()),
            email: None,
            shipping_address: None,
        }
    );
    assert_eq!(fill.missing, [OrderField::ShippingAddress]);

    let nothing = OrderInfo::autofill(&ALL, None, &OrderInfo::default());
    assert_eq!(
        nothing.missing,
        [
            OrderField::Name,
            OrderField::Phone,
            OrderField::Email,
            OrderField::ShippingAddress
        ]
    );
    assert_eq!(nothing.info, OrderInfo::default());
}

#[test]
fn missing_fields_of_one_order_are_what_autofill_reports_with_nothing_saved() {
    let blank_name = OrderInfo {
        name: Some("  ".to_owned()),
        ..full_info()
    };
    let no_address = OrderInfo {
        shipping_address: None,
        ..full_info()
    };
    for info in [full_info(), OrderInfo::default(), blank_name, no_address] {
        for requested in [ALL, RequestedInfo::default()] {
            let fill = OrderInfo::autofill(&requested, None, &info);
            assert_eq!(info.missing(&requested), fill.missing, "{info:?}");
        }
    }
    let blank_name = OrderInfo {
        name: Some("  ".to_owned()),
        ..full_info()
    };
    assert_eq!(blank_name.missing(&ALL), [OrderField::Name]);
}

// --- local checks ---

fn check_address(change: impl FnOnce(&mut ShippingAddress)) -> Result<(), PaymentError> {
    let mut info = full_info();
    if let Some(address) = info.shipping_address.as_mut() {
        change(address);
    }
    info.check(&ALL)
}

fn check_info(change: impl FnOnce(&mut OrderInfo)) -> Result<(), PaymentError> {
    let mut info = full_info();
    change(&mut info);
    info.check(&ALL)
}

#[test]
fn a_complete_order_passes() {
    assert!(full_info().check(&ALL).is_ok());
    // Optional address parts may be empty.
    assert!(
        check_address(|a| {
            a.street_line2.clear();
            a.state.clear();
            a.post_code.clear();
        })
        .is_ok()
    );
}

#[test]
fn street_line1() {
    assert!(check_address(|a| a.street_line1 = "a".repeat(64)).is_ok());
    for bad in ["", "   ", &"a".repeat(65), "Main St\n1"] {
        let bad = bad.to_owned();
        assert!(
            matches!(
                check_address(|a| a.street_line1 = bad.clone()),
                Err(PaymentError::AddressStreetLine1Invalid)
            ),
            "{bad:?}"
        );
    }
    let mut no_address = full_info();
    no_address.shipping_address = None;
    assert!(matches!(
        no_address.check(&ALL),
        Err(PaymentError::AddressStreetLine1Invalid)
    ));
}

#[test]
fn street_line2() {
    assert!(check_address(|a| a.street_line2 = "Apt 4".to_owned()).is_ok());
    assert!(matches!(
        check_address(|a| a.street_line2 = "b".repeat(65)),
        Err(PaymentError::AddressStreetLine2Invalid)
    ));
}

#[test]
fn city() {
    assert!(check_address(|a| a.city = "Ur".to_owned()).is_ok());
    assert!(check_address(|a| a.city = "Zürich".to_owned()).is_ok());
    for bad in ["", "X", &"c".repeat(65), "Paris\0"] {
        let bad = bad.to_owned();
        assert!(
            matches!(
                check_address(|a| a.city = bad.clone()),
                Err(PaymentError::AddressCityInvalid)
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn state() {
    assert!(check_address(|a| a.state = "Île-de-France".to_owned()).is_ok());
    assert!(matches!(
        check_address(|a| a.state = "CA\r\n".to_owned()),
        Err(PaymentError::AddressStateInvalid)
    ));
}

#[test]
fn country() {
    for good in ["US", "GB", "DE", "XK"] {
        assert!(
            check_address(|a| a.country_iso2 = good.to_owned()).is_ok(),
            "{good}"
        );
    }
    for bad in ["", "USA", "us", "UK", "ZZ", "U"] {
        assert!(
            matches!(
                check_address(|a| a.country_iso2 = bad.to_owned()),
                Err(PaymentError::AddressCountryInvalid)
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn post_code() {
    assert!(check_address(|a| a.post_code = "12345-6789".to_owned()).is_ok());
    assert!(matches!(
        check_address(|a| a.post_code = "12345-67890".to_owned()),
        Err(PaymentError::AddressPostcodeInvalid)
    ));
}

#[test]
fn name() {
    assert!(check_info(|i| i.name = Some("李小龍".to_owned())).is_ok());
    assert!(check_info(|i| i.name = Some("n".repeat(64))).is_ok());
    for bad in [
        None,
        Some(String::new()),
        Some(" \t ".to_owned()),
        Some("n".repeat(65)),
    ] {
        assert!(
            matches!(
                check_info(|i| i.name = bad.clone()),
                Err(PaymentError::ReqInfoNameInvalid)
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn email() {
    for good in [
        "a@b",
        "first.last+tag@sub.example.co.uk",
        "ü@例え.jp",
        "\"a@b\"@example.com",
    ] {
        assert!(
            check_info(|i| i.email = Some(good.to_owned())).is_ok(),
            "{good}"
        );
    }
    let long = format!("{}@example.com", "e".repeat(120));
    for bad in [
        "",
        "ada",
        "@example.com",
        "ada@",
        "ada @example.com",
        "ada@exa mple.com",
        "ada@@example.com",
        "ada@.example.com",
        "ada@example.com.",
        long.as_str(),
    ] {
        assert!(
            matches!(
                check_info(|i| i.email = Some(bad.to_owned())),
                Err(PaymentError::ReqInfoEmailInvalid)
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        check_info(|i| i.email = None),
        Err(PaymentError::ReqInfoEmailInvalid)
    ));
}

#[test]
fn phone() {
    for good in [
        "+1 (555) 010-0199",
        "79991234567",
        "+44 20 7946 0958",
        "555.0100",
        "+123456789012345",
    ] {
        assert!(
            check_info(|i| i.phone = Some(good.to_owned())).is_ok(),
            "{good}"
        );
    }
    for bad in [
        "",
        "+",
        "call me",
        "+1 555 CALL-NOW",
        "++15550100",
        "555+0100",
        "+1234567890123456",
    ] {
        assert!(
            matches!(
                check_info(|i| i.phone = Some(bad.to_owned())),
                Err(PaymentError::ReqInfoPhoneInvalid)
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn only_requested_fields_are_checked() {
    let info = OrderInfo {
        name: Some("Ada".to_owned()),
        phone: Some("not a phone".to_owned()),
        email: Some("not an email".to_owned()),
        shipping_address: None,
    };
    let name_only = RequestedInfo {
        name: true,
        ..RequestedInfo::default()
    };
    assert!(info.check(&name_only).is_ok());
    assert!(
        OrderInfo::default()
            .check(&RequestedInfo::default())
            .is_ok()
    );
}

#[test]
fn errors_point_at_the_field_to_fix() {
    let error = check_address(|a| a.country_iso2 = "??".to_owned()).expect_err("a bad country");
    assert_eq!(error.name(), Some("ADDRESS_COUNTRY_INVALID"));
    assert_eq!(
        error.recovery(),
        tgpay::error::Recovery::OrderField(OrderField::CountryIso2)
    );
}

// --- validated orders and shipping ---

fn option(id: &str, prices: &[(&str, i64)]) -> enums::ShippingOption {
    enums::ShippingOption::Option(types::ShippingOption {
        id: id.to_owned(),
        title: format!("{id} delivery"),
        prices: prices
            .iter()
            .map(|(label, amount)| {
                enums::LabeledPrice::Price(types::LabeledPrice {
                    label: (*label).to_owned(),
                    amount: *amount,
                })
            })
            .collect(),
    })
}

fn validated(
    id: Option<&str>,
    options: Option<Vec<enums::ShippingOption>>,
) -> enums::payments::ValidatedRequestedInfo {
    enums::payments::ValidatedRequestedInfo::Info(types::payments::ValidatedRequestedInfo {
        id: id.map(str::to_owned),
        shipping_options: options,
    })
}

#[test]
fn validated_order_with_shipping_options() {
    let order = ValidatedOrder::from_tl(
        validated(
            Some("req_1"),
            Some(vec![
                option("standard", &[("Post", 500)]),
                option("express", &[("Courier", 1500), ("Insurance", 99)]),
            ]),
        ),
        full_info(),
        true,
        usd(),
    )
    .expect("a valid answer");
    assert_eq!(order.id.as_deref(), Some("req_1"));
    assert!(order.save);
    assert_eq!(order.info, full_info());
    assert_eq!(order.shipping_options.len(), 2);
    let express = order.shipping_option("express").expect("offered");
    assert_eq!(express.total, usd().amount(1599));
    assert_eq!(express.title, "express delivery");
    assert_eq!(express.prices.len(), 2);
    assert!(order.shipping_option("drone").is_none());

    // The invoice total with the chosen option and a tip, to the cent.
    let mut tl = types::Invoice {
        test: false,
        name_requested: true,
        phone_requested: false,
        email_requested: false,
        shipping_address_requested: false,
        flexible: true,
        phone_to_provider: false,
        email_to_provider: false,
        recurring: false,
        currency: "USD".to_owned(),
        prices: vec![enums::LabeledPrice::Price(types::LabeledPrice {
            label: "Book".to_owned(),
            amount: 2599,
        })],
        max_tip_amount: Some(500),
        suggested_tip_amounts: Some(vec![100]),
        terms_url: None,
        subscription_period: None,
    };
    tl.suggested_tip_amounts = Some(vec![100, 200]);
    let invoice = Invoice::from_tl(enums::Invoice::Invoice(tl)).expect("a valid invoice");
    assert_eq!(
        invoice.total(Some(express), Some(usd().amount(200))),
        Ok(usd().amount(4398))
    );
}

#[test]
fn validated_order_without_options_or_id() {
    let order = ValidatedOrder::from_tl(
        validated(Some(""), None),
        OrderInfo::default(),
        false,
        usd(),
    )
    .expect("a valid answer");
    assert_eq!(order.id, None);
    assert!(order.shipping_options.is_empty());
    assert!(!order.save);
}

#[test]
fn shipping_prices_out_of_range_are_refused() {
    let result = ValidatedOrder::from_tl(
        validated(
            Some("req"),
            Some(vec![option("moon", &[("Rocket", 1_000_000_000_000)])]),
        ),
        full_info(),
        false,
        usd(),
    );
    assert_eq!(
        result,
        Err(FormError::PriceOutOfRange {
            label: "Rocket".to_owned(),
            minor: 1_000_000_000_000
        })
    );
    let option = ShippingOption::from_tl(option("free", &[]), usd()).expect("no prices is free");
    assert_eq!(option.total, usd().amount(0));
}
