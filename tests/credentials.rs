//! Payment credentials: web events, tokens, wallets, saved cards, and secrets kept out of sight.

use tgpay::credentials::{
    ApplePay, Credentials, CredentialsError, GooglePay, SavedCard, SmartGlocalToken, StripeToken,
    TmpPassword, WebCredentials,
};
use tgpay::secret::{SecretBytes, SecretString};
use tgpay::tl::{enums, types};

const NOW: i64 = 1_750_000_000;

fn data(credentials: &enums::InputPaymentCredentials) -> (&str, bool) {
    match credentials {
        enums::InputPaymentCredentials::Credentials(types::InputPaymentCredentials {
            save,
            data: enums::DataJson::Json(json),
        }) => (json.data.as_str(), *save),
        other => panic!("expected inputPaymentCredentials, got {other:?}"),
    }
}

fn tmp_password(valid_until: i64) -> TmpPassword {
    TmpPassword {
        secret: SecretBytes::new(b"tmp-secret-bytes".to_vec()),
        valid_until,
    }
}

/// Every `Debug` and `Display` of `value` leaves out all of `secrets`.
fn assert_hidden(shown: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret:?} leaked in {shown}");
    }
}

// --- web ---

#[test]
fn web_event_is_parsed() {
    let event = r#"{"title": "Visa *1111", "credentials": {"type": "card", "token": "pm_1Abc"}}"#;
    let web = WebCredentials::from_event(event).expect("a valid event");
    assert_eq!(web.title(), "Visa *1111");
    let sent: serde_json::Value =
        serde_json::from_str(web.data().expose()).expect("the data is JSON");
    assert_eq!(
        sent,
        serde_json::json!({"type": "card", "token": "pm_1Abc"})
    );
    // Re-encoded compactly, as Telegram Desktop does.
    assert_eq!(web.data().expose(), r#"{"token":"pm_1Abc","type":"card"}"#);

    let credentials = Credentials::from(web);
    assert_eq!(credentials.title(), "Visa *1111");
    let tl = credentials
        .to_tl(true, None)
        .expect("web credentials convert");
    assert_eq!(data(&tl), (r#"{"token":"pm_1Abc","type":"card"}"#, true));
    let tl = credentials
        .to_tl(false, None)
        .expect("web credentials convert");
    assert!(!data(&tl).1);
    assert_eq!(WebCredentials::EVENT_TYPE, "payment_form_submit");
}

#[test]
fn web_event_without_a_title_has_an_empty_one() {
    // Telegram Desktop reads a missing or non-string title as empty.
    let web = WebCredentials::from_event(r#"{"credentials": {"id": "x"}}"#).expect("accepted");
    assert_eq!(web.title(), "");
    let web = WebCredentials::from_event(r#"{"title": 7, "credentials": {"id": "x"}}"#)
        .expect("accepted");
    assert_eq!(web.title(), "");
}

#[test]
fn web_credentials_must_be_an_object() {
    for event in [
        r#"{"title": "Visa", "credentials": "tok_secret"}"#,
        r#"{"title": "Visa", "credentials": ["tok_secret"]}"#,
        r#"{"title": "Visa", "credentials": null}"#,
        r#"{"title": "Visa"}"#,
    ] {
        let error = WebCredentials::from_event(event).expect_err("refused");
        assert_eq!(
            error,
            CredentialsError::NotObject {
                what: "credentials"
            },
            "{event}"
        );
        assert_hidden(&error.to_string(), &["tok_secret"]);
    }
    assert_eq!(
        WebCredentials::from_event(r#"["payment_form_submit", "tok_secret"]"#).err(),
        Some(CredentialsError::NotObject {
            what: "payment_form_submit event"
        })
    );
}

#[test]
fn web_event_that_is_not_json() {
    for event in [
        "",
        "tok_secret",
        r#"{"title": "Visa", "credentials": {"id": "tok_secret"}"#,
        r#"{"title": "Visa", "credentials": {"id": tok_secret}}"#,
    ] {
        let error = WebCredentials::from_event(event).expect_err("refused");
        assert!(
            matches!(
                error,
                CredentialsError::NotJson {
                    what: "payment_form_submit event",
                    ..
                }
            ),
            "{event:?}: {error:?}"
        );
        assert_hidden(&error.to_string(), &["tok_secret"]);
        assert_hidden(&format!("{error:?}"), &["tok_secret"]);
    }
}

// --- tokens ---

#[test]
fn stripe_token_json() {
    let token = StripeToken::new("tok_1NXWYZ2eZvKYlo2C", "visa *4242");
    let credentials = Credentials::from(token);
    assert_eq!(credentials.title(), "visa *4242");
    let tl = credentials.to_tl(false, None).expect("converts");
    assert_eq!(
        data(&tl),
        (r#"{"type":"card","id":"tok_1NXWYZ2eZvKYlo2C"}"#, false)
    );
    let tl = credentials.to_tl(true, None).expect("converts");
    assert!(data(&tl).1);
}

#[test]
fn smartglocal_token_json() {
    let token = SmartGlocalToken::new("sg_tok_\"quoted\"", "mastercard *5100");
    let credentials = Credentials::from(token);
    assert_eq!(credentials.title(), "mastercard *5100");
    let tl = credentials.to_tl(true, None).expect("converts");
    assert_eq!(
        data(&tl),
        (r#"{"token":"sg_tok_\"quoted\"","type":"card"}"#, true)
    );
}

#[test]
fn empty_tokens_are_refused() {
    assert_eq!(
        Credentials::from(StripeToken::new("", "visa *4242"))
            .to_tl(false, None)
            .err(),
        Some(CredentialsError::Empty {
            kind: "Stripe token id"
        })
    );
    assert_eq!(
        Credentials::from(SmartGlocalToken::new("", "visa *4242"))
            .to_tl(false, None)
            .err(),
        Some(CredentialsError::Empty {
            kind: "SmartGlocal token"
        })
    );
}

// --- wallets ---

#[test]
fn apple_pay() {
    let payload = r#"{"version":"EC_v1","data":"c2VjcmV0","signature":"MIAG"}"#;
    let apple = ApplePay::new(payload).expect("an object");
    let credentials = Credentials::from(apple);
    assert_eq!(credentials.title(), "Apple Pay");
    match credentials.to_tl(false, None).expect("converts") {
        enums::InputPaymentCredentials::ApplePay(types::InputPaymentCredentialsApplePay {
            payment_data: enums::DataJson::Json(json),
        }) => assert_eq!(json.data, payload, "sent as it is"),
        other => panic!("expected Apple Pay, got {other:?}"),
    }
    assert_eq!(
        credentials.to_tl(true, None).err(),
        Some(CredentialsError::SaveNotSupported { kind: "Apple Pay" })
    );
}

#[test]
fn google_pay() {
    let payload = r#"{"signature":"MEUC","protocolVersion":"ECv2","signedMessage":"{}"}"#;
    let google = GooglePay::new(payload).expect("an object");
    let credentials = Credentials::from(google);
    assert_eq!(credentials.title(), "Google Pay");
    match credentials.to_tl(false, None).expect("converts") {
        enums::InputPaymentCredentials::GooglePay(types::InputPaymentCredentialsGooglePay {
            payment_token: enums::DataJson::Json(json),
        }) => assert_eq!(json.data, payload),
        other => panic!("expected Google Pay, got {other:?}"),
    }
    assert_eq!(
        credentials.to_tl(true, None).err(),
        Some(CredentialsError::SaveNotSupported { kind: "Google Pay" })
    );
}

#[test]
fn wallet_payloads_must_be_objects() {
    assert_eq!(
        ApplePay::new(r#"["secret-apple"]"#).err(),
        Some(CredentialsError::NotObject {
            what: "Apple Pay payment data"
        })
    );
    assert!(matches!(
        ApplePay::new("secret-apple"),
        Err(CredentialsError::NotJson {
            what: "Apple Pay payment data",
            ..
        })
    ));
    assert_eq!(
        GooglePay::new("\"secret-google\"").err(),
        Some(CredentialsError::NotObject {
            what: "Google Pay payment token"
        })
    );
    let error = GooglePay::new("{secret-google").expect_err("not JSON");
    assert_hidden(&error.to_string(), &["secret-google"]);
}

// --- saved cards ---

fn saved_card() -> SavedCard {
    SavedCard::from_tl(enums::PaymentSavedCredentials::Card(
        types::PaymentSavedCredentialsCard {
            id: "card_7".to_owned(),
            title: "visa *4242".to_owned(),
        },
    ))
}

#[test]
fn saved_card_with_a_valid_tmp_password() {
    let card = saved_card();
    assert_eq!(
        (card.id.as_str(), card.title.as_str()),
        ("card_7", "visa *4242")
    );
    let credentials = Credentials::from(card);
    assert_eq!(credentials.title(), "visa *4242");
    let password = tmp_password(NOW + 600);
    let tl = credentials
        .to_tl_at(false, Some(&password), NOW)
        .expect("a valid tmp password");
    assert_eq!(
        tl,
        enums::InputPaymentCredentials::Saved(types::InputPaymentCredentialsSaved {
            id: "card_7".to_owned(),
            tmp_password: b"tmp-secret-bytes".to_vec(),
        })
    );
    // With the system clock, a password valid for an hour more works too.
    let fresh = tmp_password(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs(),
        )
        .expect("fits")
            + 3600,
    );
    assert!(credentials.to_tl(false, Some(&fresh)).is_ok());
}

#[test]
fn saved_card_needs_a_tmp_password() {
    let credentials = Credentials::from(saved_card());
    let error = credentials
        .to_tl_at(false, None, NOW)
        .expect_err("none given");
    assert_eq!(
        error,
        CredentialsError::TmpPasswordRequired { valid_until: None }
    );
    assert!(
        error.to_string().contains("Payments::get_tmp_password"),
        "{error}"
    );

    let expired = tmp_password(NOW - 1);
    assert_eq!(
        credentials.to_tl_at(false, Some(&expired), NOW).err(),
        Some(CredentialsError::TmpPasswordRequired {
            valid_until: Some(NOW - 1)
        })
    );
    // Inside the 10-second reserve counts as expired.
    let almost = tmp_password(NOW + TmpPassword::RESERVE_SECS - 1);
    assert!(credentials.to_tl_at(false, Some(&almost), NOW).is_err());
    let just = tmp_password(NOW + TmpPassword::RESERVE_SECS);
    assert!(credentials.to_tl_at(false, Some(&just), NOW).is_ok());
    // An expired password everywhere on the real clock.
    assert!(credentials.to_tl(false, Some(&expired)).is_err());

    assert_eq!(
        credentials.to_tl_at(true, Some(&just), NOW).err(),
        Some(CredentialsError::SaveNotSupported { kind: "saved card" })
    );
}

#[test]
fn tmp_password_from_tl_and_validity() {
    let password = TmpPassword::from_tl(enums::account::TmpPassword::Password(
        types::account::TmpPassword {
            tmp_password: vec![9, 8, 7],
            valid_until: 1_700_000_900,
        },
    ));
    assert_eq!(password.secret.expose(), &[9, 8, 7]);
    assert_eq!(password.valid_until, 1_700_000_900);
    assert!(password.is_valid_at(1_700_000_000, 10));
    assert!(password.is_valid_at(1_700_000_890, 10));
    assert!(!password.is_valid_at(1_700_000_891, 10));
    assert!(!password.is_valid_at(1_700_001_000, 0));
    assert!(!password.is_valid_at(i64::MAX, 10), "no overflow");
    let empty = TmpPassword {
        secret: SecretBytes::new(Vec::new()),
        valid_until: i64::MAX,
    };
    assert!(!empty.is_valid_at(0, 0));
    assert_eq!(TmpPassword::DEFAULT_PERIOD_SECS, 900);
}

// --- secrets stay hidden ---

#[test]
fn debug_of_secrets_shows_no_secret() {
    let web = WebCredentials::from_event(
        r#"{"title":"Visa *1111","credentials":{"token":"web_secret_token"}}"#,
    )
    .expect("valid");
    let kinds: Vec<(Credentials, &str)> = vec![
        (web.into(), "web_secret_token"),
        (
            StripeToken::new("tok_stripe_secret", "visa *4242").into(),
            "tok_stripe_secret",
        ),
        (
            SmartGlocalToken::new("sg_secret_token", "visa *4242").into(),
            "sg_secret_token",
        ),
        (
            ApplePay::new(r#"{"data":"apple_secret_blob"}"#)
                .expect("object")
                .into(),
            "apple_secret_blob",
        ),
        (
            GooglePay::new(r#"{"signedMessage":"google_secret_blob"}"#)
                .expect("object")
                .into(),
            "google_secret_blob",
        ),
    ];
    for (credentials, secret) in &kinds {
        let shown = format!("{credentials:?} {credentials:#?}");
        assert_hidden(&shown, &[secret]);
        assert!(shown.contains("[REDACTED"), "{shown}");
    }

    let password = tmp_password(NOW);
    let shown = format!("{password:?}");
    assert_hidden(&shown, &["tmp-secret-bytes", "116, 109, 112"]);
    assert!(shown.contains("[REDACTED]"), "{shown}");

    let two_fa = SecretString::new("correct horse battery staple".to_owned());
    assert_eq!(format!("{two_fa:?}"), "[REDACTED]");
    assert_eq!(two_fa.to_string(), "[REDACTED]");

    // The card title is a safe hint and is shown.
    let token = StripeToken::new("tok_x", "visa *4242");
    assert_eq!(format!("{:?}", token.id), "[REDACTED: visa *4242]");
}
