//! Payment forms from hand-built TL: every sanitization rule, totals, native providers.

use std::time::{Duration, Instant};

use tgpay::currency::{Amount, Currency};
use tgpay::form::{
    FormError, Invoice, LabeledPrice, NativeProvider, PaymentForm, PaymentMethod, RequestedInfo,
    SMARTGLOCAL_TEST_TOKENIZE_URL, SMARTGLOCAL_TOKENIZE_URL, TotalError, is_smartglocal_tokenizer,
};
use tgpay::invoice::InvoiceRef;
use tgpay::order::{OrderInfo, ShippingAddress, ShippingOption};
use tgpay::tl::{self, Deserializable, Serializable, enums, types};

const BOT_ID: i64 = 7_000_001;
const PROVIDER_ID: i64 = 7_000_002;

fn usd() -> Currency {
    Currency::from_code("USD").expect("USD is in the table")
}

fn price(label: &str, amount: i64) -> enums::LabeledPrice {
    enums::LabeledPrice::Price(types::LabeledPrice {
        label: label.to_owned(),
        amount,
    })
}

/// An invoice with no flags and no tips.
fn tl_invoice(currency: &str, prices: &[(&str, i64)]) -> types::Invoice {
    types::Invoice {
        test: false,
        name_requested: false,
        phone_requested: false,
        email_requested: false,
        shipping_address_requested: false,
        flexible: false,
        phone_to_provider: false,
        email_to_provider: false,
        recurring: false,
        currency: currency.to_owned(),
        prices: prices
            .iter()
            .map(|(label, amount)| price(label, *amount))
            .collect(),
        max_tip_amount: None,
        suggested_tip_amounts: None,
        terms_url: None,
        subscription_period: None,
    }
}

fn convert(invoice: types::Invoice) -> Result<Invoice, FormError> {
    Invoice::from_tl(enums::Invoice::Invoice(invoice))
}

fn sanitized(invoice: types::Invoice) -> Invoice {
    convert(invoice).expect("the invoice is valid")
}

/// A `user` built from its wire form, with only the fields a form needs.
fn user(id: i64, first: &str, last: Option<&str>, username: Option<&str>) -> enums::User {
    let mut flags: u32 = 2; // first_name
    if last.is_some() {
        flags |= 4;
    }
    if username.is_some() {
        flags |= 8;
    }
    let mut bytes = Vec::new();
    bytes.extend(<types::User as tl::Identifiable>::CONSTRUCTOR_ID.to_bytes());
    bytes.extend(flags.to_bytes());
    bytes.extend(0u32.to_bytes()); // flags2
    bytes.extend(id.to_bytes());
    bytes.extend(first.to_owned().to_bytes());
    if let Some(last) = last {
        bytes.extend(last.to_owned().to_bytes());
    }
    if let Some(username) = username {
        bytes.extend(username.to_owned().to_bytes());
    }
    enums::User::from_bytes(&bytes).expect("a well-formed user")
}

fn card_form(invoice: types::Invoice) -> types::payments::PaymentForm {
    types::payments::PaymentForm {
        can_save_credentials: false,
        password_missing: false,
        form_id: 42,
        bot_id: BOT_ID,
        title: "Coffee".to_owned(),
        description: "A cup of coffee".to_owned(),
        photo: None,
        invoice: enums::Invoice::Invoice(invoice),
        provider_id: PROVIDER_ID,
        url: "https://pay.example/form".to_owned(),
        native_provider: None,
        native_params: None,
        additional_methods: None,
        saved_info: None,
        saved_credentials: None,
        users: vec![],
    }
}

fn slug() -> InvoiceRef {
    InvoiceRef::Slug("abc".to_owned())
}

fn card(form: types::payments::PaymentForm) -> Box<tgpay::form::CardForm> {
    match PaymentForm::from_tl(enums::payments::PaymentForm::Form(form), slug()) {
        Ok(PaymentForm::Card(card)) => card,
        other => panic!("expected a card form, got {other:?}"),
    }
}

fn native(name: &str, params: &str, test: bool) -> NativeProvider {
    let mut invoice = tl_invoice("USD", &[("Coffee", 500)]);
    invoice.test = test;
    let mut form = card_form(invoice);
    form.native_provider = Some(name.to_owned());
    form.native_params = Some(enums::DataJson::Json(types::DataJson {
        data: params.to_owned(),
    }));
    card(form).native_provider.expect("a native provider")
}

// --- implied flags (TDLib `convert_invoice`) ---

#[test]
fn nothing_requested_stays_unrequested() {
    let invoice = sanitized(tl_invoice("USD", &[("Coffee", 500)]));
    assert_eq!(invoice.requested, RequestedInfo::default());
    assert!(!invoice.requested.any());
}

#[test]
fn requested_flags_pass_through() {
    let mut tl = tl_invoice("USD", &[("Coffee", 500)]);
    tl.name_requested = true;
    tl.phone_requested = true;
    tl.email_requested = true;
    tl.shipping_address_requested = true;
    let invoice = sanitized(tl);
    assert_eq!(
        invoice.requested,
        RequestedInfo {
            name: true,
            phone: true,
            email: true,
            shipping_address: true
        }
    );
}

#[test]
fn phone_to_provider_implies_phone_requested() {
    let mut tl = tl_invoice("USD", &[("Coffee", 500)]);
    tl.phone_to_provider = true;
    let invoice = sanitized(tl);
    assert!(invoice.requested.phone);
    assert!(invoice.phone_to_provider);
    assert!(!invoice.requested.email && !invoice.requested.name);
    assert!(!invoice.requested.shipping_address);
}

#[test]
fn email_to_provider_implies_email_requested() {
    let mut tl = tl_invoice("USD", &[("Coffee", 500)]);
    tl.email_to_provider = true;
    let invoice = sanitized(tl);
    assert!(invoice.requested.email);
    assert!(invoice.email_to_provider);
    assert!(!invoice.requested.phone && !invoice.requested.name);
    assert!(!invoice.requested.shipping_address);
}

#[test]
fn flexible_implies_shipping_address_requested() {
    let mut tl = tl_invoice("USD", &[("Coffee", 500)]);
    tl.flexible = true;
    let invoice = sanitized(tl);
    assert!(invoice.requested.shipping_address);
    assert!(invoice.flexible);
    assert!(!invoice.requested.phone && !invoice.requested.email && !invoice.requested.name);
}

// --- tips ---

fn with_tips(max: Option<i64>, suggested: Option<Vec<i64>>) -> Invoice {
    let mut tl = tl_invoice("USD", &[("Coffee", 500)]);
    tl.max_tip_amount = max;
    tl.suggested_tip_amounts = suggested;
    sanitized(tl)
}

fn suggested(invoice: &Invoice) -> Vec<i64> {
    invoice
        .tips
        .as_ref()
        .expect("tips accepted")
        .suggested
        .iter()
        .map(|tip| tip.minor)
        .collect()
}

#[test]
fn tips_are_kept_when_valid() {
    let invoice = with_tips(Some(1000), Some(vec![100, 200, 500, 1000]));
    let tips = invoice.tips.as_ref().expect("tips accepted");
    assert_eq!(tips.max, usd().amount(1000));
    assert_eq!(suggested(&invoice), [100, 200, 500, 1000]);
}

#[test]
fn more_than_four_suggested_tips_keep_the_four_smallest() {
    let invoice = with_tips(Some(10_000), Some(vec![100, 200, 300, 400, 500, 600]));
    assert_eq!(suggested(&invoice), [100, 200, 300, 400]);
}

#[test]
fn unsorted_suggested_tips_are_sorted_and_repeats_dropped() {
    let invoice = with_tips(Some(10_000), Some(vec![500, 100, 300, 100]));
    assert_eq!(suggested(&invoice), [100, 300, 500]);
}

#[test]
fn suggested_tips_out_of_range_are_dropped() {
    // 0 and negative tips, and tips above the maximum, go.
    let invoice = with_tips(Some(1000), Some(vec![0, -100, 250, 1000, 1001, i64::MAX]));
    assert_eq!(suggested(&invoice), [250, 1000]);
}

#[test]
fn dropping_happens_before_the_cap_of_four() {
    let invoice = with_tips(Some(400), Some(vec![-1, 0, 5000, 100, 200, 300, 400, 401]));
    assert_eq!(suggested(&invoice), [100, 200, 300, 400]);
}

#[test]
fn negative_max_tip_means_no_tips() {
    let invoice = with_tips(Some(-500), Some(vec![100, 200]));
    assert_eq!(invoice.tips, None);
}

#[test]
fn implausible_max_tip_means_no_tips() {
    let invoice = with_tips(Some(1_000_000_000_000), Some(vec![100]));
    assert_eq!(invoice.tips, None);
    let at_bound = with_tips(Some(999_999_999_999), Some(vec![100]));
    assert_eq!(suggested(&at_bound), [100]);
}

#[test]
fn zero_or_absent_max_tip_means_no_tips() {
    assert_eq!(with_tips(Some(0), Some(vec![100])).tips, None);
    assert_eq!(with_tips(None, None).tips, None);
}

#[test]
fn max_tip_without_suggestions() {
    let invoice = with_tips(Some(300), None);
    let tips = invoice.tips.expect("tips accepted");
    assert_eq!(tips.max.minor, 300);
    assert!(tips.suggested.is_empty());
}

// --- amounts, currency, Stars ---

#[test]
fn prices_beyond_the_sane_bound_are_refused() {
    for minor in [1_000_000_000_000, -1_000_000_000_000, i64::MAX, i64::MIN] {
        let result = convert(tl_invoice("USD", &[("Coffee", 500), ("Fee", minor)]));
        assert_eq!(
            result,
            Err(FormError::PriceOutOfRange {
                label: "Fee".to_owned(),
                minor
            })
        );
    }
    let invoice = sanitized(tl_invoice(
        "USD",
        &[("Max", 999_999_999_999), ("Discount", -999_999_999_999)],
    ));
    assert_eq!(invoice.subtotal(), Ok(usd().amount(0)));
}

#[test]
fn unknown_currency_falls_back() {
    let invoice = sanitized(tl_invoice("ZZZ", &[("Thing", 12345)]));
    assert_eq!(invoice.currency.code(), "ZZZ");
    assert!(!invoice.currency.is_known());
    assert_eq!(invoice.currency.exponent(), 2);
    assert_eq!(
        invoice.subtotal().map(|a| a.to_string()),
        Ok("ZZZ123.45".to_owned())
    );
}

#[test]
fn malformed_currency_is_an_error() {
    for code in ["US", "", "DOLLAR", "U$D"] {
        assert!(
            matches!(
                convert(tl_invoice(code, &[("Coffee", 500)])),
                Err(FormError::InvalidCurrency { .. })
            ),
            "{code:?}"
        );
    }
}

fn stars_form(prices: &[(&str, i64)], currency: &str) -> enums::payments::PaymentForm {
    enums::payments::PaymentForm::Stars(types::payments::PaymentFormStars {
        form_id: 77,
        bot_id: BOT_ID,
        title: "Extra lives".to_owned(),
        description: "Five more".to_owned(),
        photo: None,
        invoice: enums::Invoice::Invoice(tl_invoice(currency, prices)),
        users: vec![user(BOT_ID, "Game", None, Some("gamebot"))],
    })
}

#[test]
fn stars_form_has_exactly_one_price() {
    assert_eq!(
        PaymentForm::from_tl(stars_form(&[], "XTR"), slug()),
        Err(FormError::StarsPriceCount { count: 0 })
    );
    assert_eq!(
        PaymentForm::from_tl(stars_form(&[("A", 10), ("B", 20)], "XTR"), slug()),
        Err(FormError::StarsPriceCount { count: 2 })
    );
    assert_eq!(
        PaymentForm::from_tl(stars_form(&[("A", -10)], "XTR"), slug()),
        Err(FormError::NegativeStarsPrice { minor: -10 })
    );
    assert_eq!(
        PaymentForm::from_tl(stars_form(&[("A", 10)], "USD"), slug()),
        Err(FormError::StarsCurrency { currency: usd() })
    );
}

#[test]
fn stars_form_converts() {
    let form = PaymentForm::from_tl(stars_form(&[("Extra lives", 50)], "XTR"), slug())
        .expect("a valid Stars form");
    let PaymentForm::Stars(stars) = &form else {
        panic!("expected a Stars form, got {form:?}");
    };
    assert_eq!(stars.price, Currency::XTR.amount(50));
    assert_eq!(stars.price.to_string(), "50 ⭐");
    assert_eq!(
        stars.bot.as_ref().map(|bot| bot.name.as_str()),
        Some("Game")
    );
    assert_eq!(
        stars.bot.as_ref().and_then(|bot| bot.username.as_deref()),
        Some("gamebot")
    );
    assert_eq!(form.form_id(), 77);
    assert_eq!(form.title(), "Extra lives");
    assert!(form.invoice().is_stars());
    assert_eq!(form.invoice_ref(), &slug());
}

#[test]
fn star_gift_form_converts() {
    let form = enums::payments::PaymentForm::StarGift(types::payments::PaymentFormStarGift {
        form_id: 5,
        invoice: enums::Invoice::Invoice(tl_invoice("XTR", &[("Gift", 25)])),
    });
    let form = PaymentForm::from_tl(form, slug()).expect("a valid star-gift form");
    let PaymentForm::StarGift(gift) = &form else {
        panic!("expected a star-gift form, got {form:?}");
    };
    assert_eq!(gift.price.minor, 25);
    assert_eq!(form.title(), "");
    assert_eq!(form.form_id(), 5);
}

#[test]
fn subscription_period_and_terms() {
    let mut tl = tl_invoice("USD", &[("Monthly", 500)]);
    tl.subscription_period = Some(2_592_000);
    tl.recurring = true;
    tl.terms_url = Some("https://example.com/terms".to_owned());
    let invoice = sanitized(tl);
    assert_eq!(invoice.subscription_period, Some(2_592_000));
    assert!(invoice.recurring);
    assert_eq!(
        invoice.terms_url.as_deref(),
        Some("https://example.com/terms")
    );

    let mut tl = tl_invoice("USD", &[("Once", 500)]);
    tl.subscription_period = Some(-5);
    tl.terms_url = Some(String::new());
    let invoice = sanitized(tl);
    assert_eq!(invoice.subscription_period, None);
    assert_eq!(invoice.terms_url, None);
}

// --- totals ---

fn shipping(id: &str, prices: &[(&str, i64)], currency: Currency) -> ShippingOption {
    ShippingOption::from_tl(
        enums::ShippingOption::Option(types::ShippingOption {
            id: id.to_owned(),
            title: id.to_owned(),
            prices: prices
                .iter()
                .map(|(label, amount)| price(label, *amount))
                .collect(),
        }),
        currency,
    )
    .expect("a valid shipping option")
}

fn tipped_invoice() -> Invoice {
    let mut tl = tl_invoice("USD", &[("Shoes", 4999), ("Tax", 412), ("Discount", -500)]);
    tl.max_tip_amount = Some(1000);
    tl.suggested_tip_amounts = Some(vec![100, 250]);
    sanitized(tl)
}

#[test]
fn subtotal_and_total_are_exact() {
    let invoice = tipped_invoice();
    assert_eq!(invoice.subtotal(), Ok(usd().amount(4911)));
    let express = shipping("express", &[("Express", 1500), ("Insurance", 99)], usd());
    assert_eq!(express.total, usd().amount(1599));
    assert_eq!(invoice.total(None, None), Ok(usd().amount(4911)));
    assert_eq!(invoice.total(Some(&express), None), Ok(usd().amount(6510)));
    assert_eq!(
        invoice.total(Some(&express), Some(usd().amount(250))),
        Ok(usd().amount(6760))
    );
    assert_eq!(
        invoice
            .total(Some(&express), Some(usd().amount(1000)))
            .map(|total| total.to_string()),
        Ok("$75.10".to_owned())
    );
}

#[test]
fn tip_above_max_quotes_the_max() {
    let invoice = tipped_invoice();
    let error = invoice
        .total(None, Some(usd().amount(1001)))
        .expect_err("a tip above the maximum");
    assert_eq!(
        error,
        TotalError::TipTooLarge {
            tip: usd().amount(1001),
            max: usd().amount(1000)
        }
    );
    assert!(error.to_string().contains("$10.00"), "{error}");
}

#[test]
fn tips_refused_where_not_accepted() {
    let invoice = sanitized(tl_invoice("USD", &[("Coffee", 500)]));
    assert_eq!(
        invoice.total(None, Some(usd().amount(1))),
        Err(TotalError::TipsNotAccepted {
            tip: usd().amount(1)
        })
    );
    // A zero tip is no tip.
    assert_eq!(
        invoice.total(None, Some(usd().amount(0))),
        Ok(usd().amount(500))
    );
}

#[test]
fn negative_tip_and_currency_mismatches() {
    let invoice = tipped_invoice();
    assert_eq!(
        invoice.total(None, Some(usd().amount(-1))),
        Err(TotalError::NegativeTip {
            tip: usd().amount(-1)
        })
    );
    let eur = Currency::from_code("EUR").expect("EUR");
    assert!(matches!(
        invoice.total(None, Some(eur.amount(100))),
        Err(TotalError::CurrencyMismatch { what: "tip", .. })
    ));
    let foreign = shipping("eu", &[("Post", 500)], eur);
    assert!(matches!(
        invoice.total(Some(&foreign), None),
        Err(TotalError::CurrencyMismatch {
            what: "shipping option",
            ..
        })
    ));
}

#[test]
fn overflow_is_a_typed_error() {
    let invoice = tipped_invoice();
    let huge = ShippingOption {
        id: "huge".to_owned(),
        title: "Huge".to_owned(),
        prices: vec![],
        total: usd().amount(i64::MAX),
    };
    assert_eq!(
        invoice.total(Some(&huge), None),
        Err(TotalError::Overflow { currency: usd() })
    );
    // An invoice put together by hand can overflow its subtotal.
    let mut broken = invoice.clone();
    broken.prices = vec![
        LabeledPrice {
            label: "A".to_owned(),
            amount: usd().amount(i64::MAX),
        },
        LabeledPrice {
            label: "B".to_owned(),
            amount: usd().amount(1),
        },
    ];
    assert_eq!(
        broken.subtotal(),
        Err(FormError::PricesOverflow { currency: usd() })
    );
    assert_eq!(
        broken.total(None, None),
        Err(TotalError::Overflow { currency: usd() })
    );
}

// --- card forms ---

#[test]
fn card_form_converts_every_field() {
    let before = Instant::now();
    let mut tl = tl_invoice("USD", &[("Coffee", 500)]);
    tl.test = true;
    tl.name_requested = true;
    let mut form = card_form(tl);
    form.can_save_credentials = true;
    form.password_missing = true;
    form.photo = Some(enums::WebDocument::NoProxy(types::WebDocumentNoProxy {
        url: "https://shop.example/coffee.jpg".to_owned(),
        size: 1234,
        mime_type: "image/jpeg".to_owned(),
        attributes: vec![],
    }));
    form.additional_methods = Some(vec![enums::PaymentFormMethod::Method(
        types::PaymentFormMethod {
            url: "https://wallet.example/pay".to_owned(),
            title: "Wallet".to_owned(),
        },
    )]);
    form.saved_info = Some(enums::PaymentRequestedInfo::Info(
        types::PaymentRequestedInfo {
            name: Some("Ada Lovelace".to_owned()),
            phone: None,
            email: Some(String::new()),
            shipping_address: Some(enums::PostAddress::Address(types::PostAddress {
                street_line1: "12 St James's Square".to_owned(),
                street_line2: String::new(),
                city: "London".to_owned(),
                state: String::new(),
                country_iso2: "GB".to_owned(),
                post_code: "SW1Y 4JH".to_owned(),
            })),
        },
    ));
    form.saved_credentials = Some(vec![enums::PaymentSavedCredentials::Card(
        types::PaymentSavedCredentialsCard {
            id: "card_1".to_owned(),
            title: "visa *4242".to_owned(),
        },
    )]);
    form.users = vec![
        user(PROVIDER_ID, "Stripe", Some("Test"), None),
        user(BOT_ID, "Coffee", Some("Shop"), Some("coffeebot")),
    ];
    let card = card(form);

    assert_eq!(card.form_id, 42);
    assert_eq!(card.bot_id, BOT_ID);
    let bot = card.bot.as_ref().expect("the bot is among the users");
    assert_eq!((bot.id, bot.name.as_str()), (BOT_ID, "Coffee Shop"));
    assert_eq!(bot.username.as_deref(), Some("coffeebot"));
    let provider = card
        .provider
        .as_ref()
        .expect("the provider is among the users");
    assert_eq!(provider.name, "Stripe Test");
    assert_eq!(provider.username, None);
    assert_eq!(card.title, "Coffee");
    assert_eq!(card.description, "A cup of coffee");
    assert_eq!(
        card.photo_url.as_deref(),
        Some("https://shop.example/coffee.jpg")
    );
    assert_eq!(card.url, "https://pay.example/form");
    assert_eq!(
        card.additional_methods,
        [PaymentMethod {
            url: "https://wallet.example/pay".to_owned(),
            title: "Wallet".to_owned()
        }]
    );
    assert_eq!(card.native_provider, None);
    assert_eq!(
        card.saved_info,
        Some(OrderInfo {
            name: Some("Ada Lovelace".to_owned()),
            phone: None,
            email: None,
            shipping_address: Some(ShippingAddress {
                street_line1: "12 St James's Square".to_owned(),
                street_line2: String::new(),
                city: "London".to_owned(),
                state: String::new(),
                country_iso2: "GB".to_owned(),
                post_code: "SW1Y 4JH".to_owned(),
            }),
        })
    );
    assert_eq!(card.saved_credentials.len(), 1);
    assert_eq!(card.saved_credentials[0].id, "card_1");
    assert_eq!(card.saved_credentials[0].title, "visa *4242");
    assert!(card.can_save_credentials && card.password_missing);
    assert!(card.invoice.test && card.invoice.requested.name);
    assert_eq!(card.invoice_ref, slug());
    assert!(card.fetched_at >= before && card.fetched_at <= Instant::now());

    let form = PaymentForm::Card(card);
    assert!(!form.is_expired());
    assert!(form.age() < Duration::from_secs(60));
    assert_eq!(form.title(), "Coffee");
}

#[test]
fn missing_users_and_proxied_photo() {
    let mut form = card_form(tl_invoice("USD", &[("Coffee", 500)]));
    form.photo = Some(enums::WebDocument::Document(types::WebDocument {
        url: "https://shop.example/p.png".to_owned(),
        access_hash: 99,
        size: 1,
        mime_type: "image/png".to_owned(),
        attributes: vec![],
    }));
    let card = card(form);
    assert_eq!(card.bot, None);
    assert_eq!(card.provider, None);
    assert_eq!(
        card.photo_url.as_deref(),
        Some("https://shop.example/p.png")
    );
}

#[test]
fn invalid_user_ids_are_refused() {
    for bad in [0, -5, 1_i64 << 40] {
        let mut form = card_form(tl_invoice("USD", &[("Coffee", 500)]));
        form.bot_id = bad;
        assert_eq!(
            PaymentForm::from_tl(enums::payments::PaymentForm::Form(form), slug()),
            Err(FormError::InvalidUserId {
                role: "bot",
                id: bad
            })
        );
        let mut form = card_form(tl_invoice("USD", &[("Coffee", 500)]));
        form.provider_id = bad;
        assert_eq!(
            PaymentForm::from_tl(enums::payments::PaymentForm::Form(form), slug()),
            Err(FormError::InvalidUserId {
                role: "provider",
                id: bad
            })
        );
    }
}

// --- native providers ---

#[test]
fn stripe_params() {
    let provider = native(
        "stripe",
        r#"{"need_country":true,"need_zip":false,"need_cardholder_name":true,"publishable_key":"pk_test_123"}"#,
        false,
    );
    assert_eq!(
        provider,
        NativeProvider::Stripe {
            publishable_key: "pk_test_123".to_owned(),
            need_country: true,
            need_zip: false,
            need_cardholder_name: true,
        }
    );
}

#[test]
fn stripe_params_missing_a_field_fall_back_to_other() {
    let params = r#"{"need_country":true,"publishable_key":"pk_test_123"}"#;
    assert_eq!(
        native("stripe", params, false),
        NativeProvider::Other {
            name: "stripe".to_owned(),
            params: serde_json::json!({"need_country": true, "publishable_key": "pk_test_123"}),
        }
    );
    let empty_key = r#"{"need_country":true,"need_zip":false,"need_cardholder_name":true,"publishable_key":""}"#;
    assert!(matches!(
        native("stripe", empty_key, false),
        NativeProvider::Other { .. }
    ));
    let mistyped = r#"{"need_country":"yes","need_zip":false,"need_cardholder_name":true,"publishable_key":"pk"}"#;
    assert!(matches!(
        native("stripe", mistyped, false),
        NativeProvider::Other { .. }
    ));
}

#[test]
fn malformed_params_and_unknown_providers_are_other() {
    assert_eq!(
        native("stripe", "{not json", false),
        NativeProvider::Other {
            name: "stripe".to_owned(),
            params: serde_json::Value::Null
        }
    );
    assert_eq!(
        native("smartglocal", "[1,2]", false),
        NativeProvider::Other {
            name: "smartglocal".to_owned(),
            params: serde_json::json!([1, 2])
        }
    );
    assert_eq!(
        native("payfast", r#"{"merchant":"m1"}"#, false),
        NativeProvider::Other {
            name: "payfast".to_owned(),
            params: serde_json::json!({"merchant": "m1"})
        }
    );
}

fn smartglocal_url(params: &str, test: bool) -> String {
    match native("smartglocal", params, test) {
        NativeProvider::SmartGlocal {
            public_token,
            tokenize_url,
        } => {
            assert_eq!(public_token, "pub_123");
            tokenize_url
        }
        other => panic!("expected SmartGlocal, got {other:?}"),
    }
}

#[test]
fn smartglocal_with_a_good_tokenize_url() {
    let url = "https://tgb-eu.smart-glocal.com/cds/v1/tokenize/card";
    let params = format!(r#"{{"public_token":"pub_123","tokenize_url":"{url}"}}"#);
    assert_eq!(smartglocal_url(&params, false), url);
    assert_eq!(smartglocal_url(&params, true), url);
}

#[test]
fn smartglocal_defaults_differ_for_test_invoices() {
    let params = r#"{"public_token":"pub_123"}"#;
    assert_eq!(smartglocal_url(params, false), SMARTGLOCAL_TOKENIZE_URL);
    assert_eq!(smartglocal_url(params, true), SMARTGLOCAL_TEST_TOKENIZE_URL);
    assert_eq!(
        SMARTGLOCAL_TOKENIZE_URL,
        "https://tgb.smart-glocal.com/cds/v1/tokenize/card"
    );
    assert_eq!(
        SMARTGLOCAL_TEST_TOKENIZE_URL,
        "https://tgb-playground.smart-glocal.com/cds/v1/tokenize/card"
    );
}

#[test]
fn hostile_tokenize_urls_are_replaced_by_the_default() {
    let hostile = [
        "http://tgb.smart-glocal.com/cds/v1/tokenize/card",
        "https://evil.example/?.smart-glocal.com/cds/v1/tokenize/card",
        "https://evil.example/#.smart-glocal.com/cds/v1/tokenize/card",
        "https://evil.example/x.smart-glocal.com/cds/v1/tokenize/card",
        "https://tgb.smart-glocal.com@evil.example/cds/v1/tokenize/card",
        "https://user@tgb.smart-glocal.com/cds/v1/tokenize/card",
        "https://tgb.smart-glocal.com:8443/cds/v1/tokenize/card",
        "https://tgb.smart-glocal.com.evil.example/cds/v1/tokenize/card",
        "https://smart-glocal.com/cds/v1/tokenize/card",
        "https://.smart-glocal.com/cds/v1/tokenize/card",
        "https://evilsmart-glocal.com/cds/v1/tokenize/card",
        "https://tgb.smart-glocal.com/cds/v1/tokenize/card?to=evil",
        "https://tgb.smart-glocal.com/cds/v2/tokenize/card",
        "https://tgb.smart-glocal.com/cds/v1/tokenize/card/",
        "https://TGB.SMART-GLOCAL.COM/cds/v1/tokenize/card",
        "https://tgb%2eevil.smart-glocal.com/cds/v1/tokenize/card",
        "https://tgb\\evil.smart-glocal.com/cds/v1/tokenize/card",
        " https://tgb.smart-glocal.com/cds/v1/tokenize/card",
        "",
    ];
    for url in hostile {
        assert!(!is_smartglocal_tokenizer(url), "{url:?}");
        let params = serde_json::json!({"public_token": "pub_123", "tokenize_url": url});
        assert_eq!(
            smartglocal_url(&params.to_string(), false),
            SMARTGLOCAL_TOKENIZE_URL,
            "{url:?}"
        );
    }
    // Not a string at all.
    let params = r#"{"public_token":"pub_123","tokenize_url":42}"#;
    assert_eq!(smartglocal_url(params, true), SMARTGLOCAL_TEST_TOKENIZE_URL);
    assert!(is_smartglocal_tokenizer(SMARTGLOCAL_TOKENIZE_URL));
    assert!(is_smartglocal_tokenizer(SMARTGLOCAL_TEST_TOKENIZE_URL));
    assert!(is_smartglocal_tokenizer(
        "https://a.b-c.smart-glocal.com/cds/v1/tokenize/card"
    ));
}

#[test]
fn smartglocal_without_a_token_is_other() {
    assert!(matches!(
        native("smartglocal", r#"{"tokenize_url":"x"}"#, false),
        NativeProvider::Other { .. }
    ));
}

#[test]
fn labeled_price_round_trips() {
    let price = LabeledPrice::from_tl(price("Tax", 412), usd()).expect("a sane price");
    assert_eq!(price.amount, Amount::new(usd(), 412));
    assert_eq!(
        price.to_tl(),
        enums::LabeledPrice::Price(types::LabeledPrice {
            label: "Tax".to_owned(),
            amount: 412
        })
    );
}
