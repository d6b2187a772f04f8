//! The payment flow API, one test per user story: `Payments` over a grammers `Client`, over
//! TCP, against the sandbox. Updates reach `Payments` the way an app forwards them: through
//! grammers' `UpdateStream`.

mod common;

use std::time::Duration;

use common::{flow, flow_with, http};
use grammers_mtsender::{ConnectionParams, NoRetries};
use tgpay::attempt::{AmbiguityCause, PaymentKind};
use tgpay::credentials::{ApplePay, SavedCard, StripeToken};
use tgpay::error::OrderField;
use tgpay::order::ShippingAddress;
use tgpay::payments::{ClearSaved, SaveInfo};
use tgpay::secret::SecretString;
use tgpay::{
    Credentials, Error, InvoiceRef, OrderInfo, Outcome, PaymentError, PaymentForm, Payments,
    Reconciled, Recovery,
};
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD, BOB, FaultSpec, PriceSpec};
use tgpay_sandbox::{Sandbox, Scenario};

fn no_retries() -> ConnectionParams {
    ConnectionParams {
        retry_policy: Box::new(NoRetries),
        ..ConnectionParams::default()
    }
}

async fn sandbox() -> Sandbox {
    Sandbox::start(Scenario::default_world()).await.unwrap()
}

fn slug(s: &str) -> InvoiceRef {
    InvoiceRef::Slug(s.to_owned())
}

/// The invoice message of `slug` in `user`'s chat.
fn message_ref(sandbox: &Sandbox, user: i64, slug: &str) -> InvoiceRef {
    let (bot, msg_id, _) = sandbox
        .world()
        .invoice_messages(user)
        .into_iter()
        .find(|(_, _, s)| s == slug)
        .unwrap();
    InvoiceRef::Message {
        peer: tgpay::tl::types::InputPeerUser {
            user_id: bot,
            access_hash: sandbox.world().access_hash(bot).unwrap(),
        }
        .into(),
        msg_id,
    }
}

fn visa() -> Credentials {
    Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"))
}

async fn card_form(payments: &Payments, invoice: &InvoiceRef) -> Box<tgpay::CardForm> {
    match payments.get_payment_form(invoice).await.unwrap() {
        PaymentForm::Card(form) => form,
        other => panic!("a card form expected, got {other:?}"),
    }
}

async fn stars_form(payments: &Payments, invoice: &InvoiceRef) -> tgpay::StarsForm {
    match payments.get_payment_form(invoice).await.unwrap() {
        PaymentForm::Stars(form) => form,
        other => panic!("a Stars form expected, got {other:?}"),
    }
}

fn calls(sandbox: &Sandbox, user: i64, method: &str) -> u64 {
    sandbox.world().call_count(user, method)
}

#[tokio::test]
async fn card_with_shipping_tip_and_autofilled_saved_info_in_three_calls() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let invoice = message_ref(&sandbox, ALICE, "hoodie");
    let form = card_form(&alice.payments, &invoice).await;
    assert!(form.invoice.flexible && form.invoice.requested.shipping_address);
    assert_eq!(form.invoice.subtotal().unwrap().to_string(), "$42.49");

    // Autofill from the form's saved info; a new e-mail given by the user wins.
    let given = OrderInfo {
        email: Some("alice@work.example".into()),
        ..OrderInfo::default()
    };
    let filled = OrderInfo::autofill(&form.invoice.requested, form.saved_info.as_ref(), &given);
    assert!(filled.is_complete(), "{:?}", filled.missing);
    assert_eq!(filled.info.name.as_deref(), Some("Alice Sandbox"));
    let order = alice
        .payments
        .validate_requested_info(&form, &filled.info, SaveInfo::Save)
        .await
        .unwrap();
    let express = order.shipping_option("express").unwrap();
    assert_eq!(express.total.to_string(), "$14.49");
    let tip = form.invoice.tips.as_ref().unwrap().suggested[1];

    let checkout = alice
        .payments
        .checkout(&form)
        .order(&order)
        .shipping_option(express)
        .tip(tip)
        .credentials(visa());
    assert_eq!(checkout.total().unwrap().to_string(), "$59.98");
    let Outcome::Paid(paid) = checkout.send().await.unwrap() else {
        panic!("paid expected");
    };
    assert_eq!(paid.total.to_string(), "$59.98");
    assert!(paid.receipt.receipt_msg_id.is_some());

    // The merchant got exactly this, once; the saved info now has the new e-mail.
    let charges = sandbox.world().charges().to_vec();
    assert_eq!(charges.len(), 1);
    assert_eq!(
        (charges[0].total_amount, charges[0].tip_amount),
        (5998, 300)
    );
    assert_eq!(
        sandbox.world().saved_info(ALICE).unwrap().email.as_deref(),
        Some("alice@work.example")
    );
    for method in [
        "payments.getPaymentForm",
        "payments.validateRequestedInfo",
        "payments.sendPaymentForm",
    ] {
        assert_eq!(calls(&sandbox, ALICE, method), 1, "{method}");
    }

    let receipt = alice
        .payments
        .get_payment_receipt(&paid.receipt)
        .await
        .unwrap();
    assert_eq!(receipt.total.to_string(), "$59.98");
    assert_eq!(receipt.tip.unwrap().to_string(), "$3.00");
    assert_eq!(receipt.shipping.as_ref().unwrap().id, "express");
    assert_eq!(receipt.credentials_title, "Visa *4242");
    assert!(!receipt.is_stars());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn local_checks_refuse_before_any_request() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, &slug("hoodie")).await;
    let sent = |s: &Sandbox| calls(s, BOB, "payments.validateRequestedInfo");

    // Missing fields.
    let err = bob
        .payments
        .validate_requested_info(&form, &OrderInfo::default(), SaveInfo::DontSave)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OrderIncomplete { missing } if missing.contains(&OrderField::Name))
    );
    // A bad country code: the same typed error the server would send.
    let info = OrderInfo {
        name: Some("Bob".into()),
        phone: Some("+15550000002".into()),
        email: Some("bob@example.com".into()),
        shipping_address: Some(ShippingAddress {
            street_line1: "1 Main St".into(),
            street_line2: String::new(),
            city: "Springfield".into(),
            state: "IL".into(),
            country_iso2: "UK".into(),
            post_code: "62701".into(),
        }),
    };
    let err = bob
        .payments
        .validate_requested_info(&form, &info, SaveInfo::DontSave)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Telegram(PaymentError::AddressCountryInvalid)
    ));
    assert_eq!(
        err.recovery(),
        Recovery::OrderField(OrderField::CountryIso2)
    );
    assert_eq!(sent(&sandbox), 0);

    // The server's checks come back typed too: no shipping to Japan.
    let mut japan = info.clone();
    if let Some(a) = japan.shipping_address.as_mut() {
        a.country_iso2 = "JP".into();
        a.state.clear();
    }
    let err = bob
        .payments
        .validate_requested_info(&form, &japan, SaveInfo::DontSave)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Telegram(PaymentError::ShippingNotAvailable)
    ));

    // Checkout without the validated order, without a shipping option, over the spend guard,
    // with a tip above the max, saving without a password: refused locally.
    let mut us = info.clone();
    if let Some(a) = us.shipping_address.as_mut() {
        a.country_iso2 = "US".into();
    }
    let order = bob
        .payments
        .validate_requested_info(&form, &us, SaveInfo::DontSave)
        .await
        .unwrap();
    let usd = form.invoice.currency;
    let standard = order.shipping_option("standard").unwrap();
    // An option the order does not offer, and one of its options at another price.
    let international = tgpay::order::ShippingOption {
        id: "international".into(),
        ..standard.clone()
    };
    let cheaper = tgpay::order::ShippingOption {
        total: usd.amount(1),
        ..standard.clone()
    };
    type Case<'a> = (tgpay::Checkout<'a>, fn(&Error) -> bool);
    let cases: Vec<Case<'_>> = vec![
        (bob.payments.checkout(&form).credentials(visa()), |e| {
            matches!(e, Error::OrderInfoRequired)
        }),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .credentials(visa()),
            |e| matches!(e, Error::ShippingOption { id: None }),
        ),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .shipping_option(&international)
                .credentials(visa()),
            |e| matches!(e, Error::ShippingOption { id: Some(_) }),
        ),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .shipping_option(&cheaper)
                .credentials(visa()),
            |e| matches!(e, Error::ShippingOption { id: Some(id) } if id == "standard"),
        ),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .shipping_option(standard)
                .credentials(visa())
                .max_total(usd.amount(4000)),
            |e| matches!(e, Error::SpendGuard { total, .. } if total.minor == 4249 + 499),
        ),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .shipping_option(standard)
                .tip(usd.amount(1001))
                .credentials(visa()),
            |e| matches!(e, Error::Total(tgpay::form::TotalError::TipTooLarge { .. })),
        ),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .shipping_option(standard)
                .credentials(visa())
                .save_credentials(),
            |e| {
                matches!(
                    e,
                    Error::SaveNotAllowed {
                        password_missing: true
                    }
                )
            },
        ),
        (
            bob.payments
                .checkout(&form)
                .order(&order)
                .shipping_option(standard),
            |e| matches!(e, Error::CredentialsRequired),
        ),
    ];
    for (checkout, expected) in cases {
        let err = checkout.send().await.unwrap_err();
        assert!(expected(&err), "unexpected {err:?}");
    }
    assert_eq!(calls(&sandbox, BOB, "payments.sendPaymentForm"), 0);
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn three_saved_card_purchases_cost_one_tmp_password() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let password = SecretString::new(ALICE_PASSWORD.to_owned());

    // A saved card without a tmp password fails before any payment request.
    let form = card_form(&alice.payments, &slug("ebook")).await;
    let card: SavedCard = form.saved_credentials[0].clone();
    let err = alice
        .payments
        .checkout(&form)
        .credentials(Credentials::Saved(card.clone()))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Credentials(tgpay::credentials::CredentialsError::TmpPasswordRequired { .. })
    ));
    assert_eq!(calls(&sandbox, ALICE, "payments.sendPaymentForm"), 0);

    for slug_name in ["ebook", "club", "ebook"] {
        alice.payments.get_tmp_password(&password).await.unwrap();
        let form = card_form(&alice.payments, &slug(slug_name)).await;
        let outcome = alice
            .payments
            .checkout(&form)
            .credentials(Credentials::Saved(form.saved_credentials[0].clone()))
            .send()
            .await
            .unwrap();
        assert!(outcome.paid().is_some());
    }
    assert_eq!(sandbox.world().charges().len(), 3);
    assert_eq!(calls(&sandbox, ALICE, "account.getTmpPassword"), 1);
    assert_eq!(calls(&sandbox, ALICE, "account.getPassword"), 1);

    // Once it is past its validity (less the reserve), a new one is fetched.
    sandbox.world().advance_clock(Duration::from_secs(15 * 60));
    assert!(
        alice.payments.has_tmp_password(),
        "still cached: this machine's clock did not move"
    );
    let tmp = alice.payments.get_tmp_password(&password).await.unwrap();
    assert_eq!(
        calls(&sandbox, ALICE, "account.getTmpPassword"),
        1,
        "from the cache"
    );
    let form = card_form(&alice.payments, &slug("club")).await;
    let err = alice
        .payments
        .checkout(&form)
        .credentials(Credentials::Saved(card))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Telegram(PaymentError::TmpPasswordInvalid)
    ));
    assert!(
        !alice.payments.has_tmp_password(),
        "dropped on TMP_PASSWORD_INVALID"
    );
    assert!(format!("{tmp:?}").contains("REDACTED"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_2fa_password_says_so_with_the_hint() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let err = alice
        .payments
        .get_tmp_password(&SecretString::new("hunter2".to_owned()))
        .await
        .unwrap_err();
    let Error::WrongPassword { hint } = &err else {
        panic!("WrongPassword expected, got {err:?}");
    };
    assert_eq!(hint.as_deref(), Some("four common words"));
    assert!(err.to_string().contains("four common words"));
    assert!(!err.to_string().contains("hunter2"));
    assert_eq!(err.recovery(), Recovery::ReenterPassword);

    // Bob has no password at all.
    let bob = flow(&sandbox, BOB);
    let err = bob
        .payments
        .get_tmp_password(&SecretString::new("x".to_owned()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Srp(tgpay::srp::SrpError::NoPassword)));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn three_d_secure_confirmed_on_the_page_completes_the_payment() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let invoice = message_ref(&sandbox, ALICE, "ebook");
    let form = card_form(&alice.payments, &invoice).await;
    let outcome = alice
        .payments
        .checkout(&form)
        .credentials(Credentials::Stripe(StripeToken::new(
            "tok_sandbox_3ds",
            "Visa *3184",
        )))
        .send()
        .await
        .unwrap();
    let Outcome::VerificationNeeded(verification) = outcome else {
        panic!("verification expected");
    };
    let url = verification.url.clone();
    let confirm = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        http("POST", &format!("{url}/confirm"), true).await
    });
    let paid = alice
        .payments
        .wait_for_verification(&verification, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(confirm.await.unwrap().0, 200);
    assert_eq!(paid.total.to_string(), "$4.99");
    assert!(paid.receipt.receipt_msg_id.is_some());
    assert_eq!(sandbox.world().charges().len(), 1);
    let receipt = alice
        .payments
        .get_payment_receipt(&paid.receipt)
        .await
        .unwrap();
    assert_eq!(receipt.credentials_title, "Visa *3184");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn three_d_secure_failed_on_the_page_charges_nothing() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let form = card_form(&alice.payments, &slug("club")).await;
    let Outcome::VerificationNeeded(verification) = alice
        .payments
        .checkout(&form)
        .credentials(Credentials::Stripe(StripeToken::new(
            "tok_sandbox_3ds",
            "Visa *3184",
        )))
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    let (status, _) = http("POST", &format!("{}/fail", verification.url), true).await;
    assert_eq!(status, 200);
    let err = alice
        .payments
        .wait_for_verification(&verification, Duration::from_secs(10))
        .await
        .unwrap_err();
    let Error::VerificationFailed { message, payment } = &err else {
        panic!("VerificationFailed expected, got {err:?}");
    };
    assert!(message.contains("3-D Secure"), "{message}");
    assert_eq!(payment.verification_url(), Some(verification.url.as_str()));
    assert!(err.is_not_charged());
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unfinished_verification_times_out_as_ambiguous_and_polling_finds_a_late_confirmation() {
    let sandbox = sandbox().await;
    // No forwarded updates: the waiter must poll.
    let client = sandbox.client(ALICE).unwrap();
    let payments = client.payments_with(tgpay::PaymentsConfig {
        poll_interval: Duration::from_millis(200),
        ..tgpay::PaymentsConfig::default()
    });
    let invoice = message_ref(&sandbox, ALICE, "ebook");
    let form = card_form(&payments, &invoice).await;
    let three_ds = || Credentials::Stripe(StripeToken::new("tok_sandbox_3ds", "Visa *3184"));
    let Outcome::VerificationNeeded(v) = payments
        .checkout(&form)
        .credentials(three_ds())
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    let url = v.url.clone();
    let err = payments
        .wait_for_verification(&v, Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous());
    assert_eq!(err.recovery(), Recovery::Reconcile);
    let Error::Ambiguous(pending) = err else {
        unreachable!()
    };
    assert!(matches!(
        pending.cause,
        AmbiguityCause::VerificationPending { .. }
    ));
    // The page is still open: not "not paid", but not known yet.
    let Reconciled::Unsettled { reason, settles_at } =
        payments.reconcile(&pending.payment).await.unwrap()
    else {
        panic!("unsettled expected");
    };
    assert!(matches!(
        reason,
        tgpay::attempt::UnsettledReason::VerificationOpen { .. }
    ));
    assert!(settles_at.is_some());

    // Confirmed later: reconcile (and the polling waiter) find it.
    let (status, _) = http("POST", &format!("{url}/confirm"), true).await;
    assert_eq!(status, 200);
    let Reconciled::Paid(paid) = payments.reconcile(&pending.payment).await.unwrap() else {
        panic!("paid expected");
    };
    assert!(paid.receipt.receipt_msg_id.is_some());
    assert_eq!(sandbox.world().charges().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_declined_card_is_a_typed_error_and_charges_nothing() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, &slug("ebook")).await;
    let err = bob
        .payments
        .checkout(&form)
        .credentials(Credentials::Stripe(StripeToken::new(
            "tok_sandbox_declined",
            "Visa *0002",
        )))
        .send()
        .await
        .unwrap_err();
    let Error::Refused(refusal) = &err else {
        panic!("a checked refusal expected, got {err:?}");
    };
    assert!(matches!(refusal.error, PaymentError::PaymentFailed));
    assert_eq!(err.payment().map(|p| p.form_id), Some(form.form_id));
    assert_eq!(err.recovery(), Recovery::OtherPaymentMethod);
    assert!(!err.is_ambiguous());
    assert!(err.is_not_charged());
    assert!(sandbox.world().charges().is_empty());

    // Wallets pay through the same checkout.
    let apple = ApplePay::new(r#"{"paymentData":{"version":"EC_v1"}}"#).unwrap();
    let outcome = bob
        .payments
        .checkout(&form)
        .credentials(Credentials::ApplePay(apple))
        .send()
        .await
        .unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(sandbox.world().charges()[0].credentials_title, "Apple Pay");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_precheckout_rejection_carries_the_merchants_reason() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let form = card_form(&alice.payments, &slug("sold-out")).await;
    let err = alice
        .payments
        .checkout(&form)
        .credentials(visa())
        .send()
        .await
        .unwrap_err();
    let Error::PrecheckoutRejected { reason, .. } = &err else {
        panic!("PrecheckoutRejected expected, got {err:?}");
    };
    assert_eq!(reason.as_deref(), Some("Sorry, this item just sold out."));
    assert!(err.to_string().contains("sold out"));
    assert_eq!(err.recovery(), Recovery::ContactMerchant);
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_expired_card_form_asks_to_refetch() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, &slug("ebook")).await;
    sandbox.world().advance_clock(Duration::from_secs(601));
    let err = bob
        .payments
        .checkout(&form)
        .credentials(visa())
        .send()
        .await
        .unwrap_err();
    let Error::Refused(refusal) = &err else {
        panic!("a checked refusal expected, got {err:?}");
    };
    assert!(matches!(refusal.error, PaymentError::FormExpired));
    assert_eq!(
        refusal.evidence,
        tgpay::Evidence::Refused {
            error: "FORM_EXPIRED".into()
        }
    );
    assert_eq!(err.recovery(), Recovery::RefetchForm);
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn stars_purchase_in_two_calls_with_a_stars_receipt() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let invoice = message_ref(&sandbox, ALICE, "sticker-pack");
    let form = stars_form(&alice.payments, &invoice).await;
    assert_eq!(form.price.to_string(), "50 ⭐");
    let Outcome::Paid(paid) = alice.payments.checkout_stars(&form).send().await.unwrap() else {
        panic!("paid expected");
    };
    assert_eq!(paid.kind, PaymentKind::Stars);
    assert_eq!(calls(&sandbox, ALICE, "payments.getPaymentForm"), 1);
    assert_eq!(calls(&sandbox, ALICE, "payments.sendStarsForm"), 1);
    assert_eq!(calls(&sandbox, ALICE, "payments.getStarsStatus"), 0);
    assert_eq!(alice.payments.cached_stars_balance().unwrap().minor, 450);

    let receipt = alice
        .payments
        .get_payment_receipt(&paid.receipt)
        .await
        .unwrap();
    assert!(receipt.is_stars());
    assert_eq!(receipt.total.to_string(), "50 ⭐");
    assert!(receipt.transaction_id.is_some());

    let status = alice.payments.get_stars_status().await.unwrap();
    assert_eq!(status.balance.amount, 450);
    assert_eq!(status.history[0].amount.amount, -50);
    let options = alice.payments.get_stars_topup_options().await.unwrap();
    assert_eq!(options[0].stars.to_string(), "50 ⭐");
    assert_eq!(options[0].price.to_string(), "$0.99");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn too_few_stars_is_refused_with_the_shortfall() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = stars_form(&bob.payments, &slug("sticker-pack")).await;
    let err = bob.payments.checkout_stars(&form).send().await.unwrap_err();
    let Error::InsufficientStars {
        balance,
        price,
        shortfall,
        ..
    } = &err
    else {
        panic!("InsufficientStars expected, got {err:?}");
    };
    assert_eq!((balance.minor, price.minor, shortfall.minor), (10, 50, 40));
    assert_eq!(err.recovery(), Recovery::TopUpStars);
    // Now the balance is known: the next attempt is refused without a request.
    let sent = calls(&sandbox, BOB, "payments.sendStarsForm");
    assert!(matches!(
        bob.payments.checkout_stars(&form).send().await,
        Err(Error::InsufficientStars { .. })
    ));
    assert_eq!(calls(&sandbox, BOB, "payments.sendStarsForm"), sent);
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_spend_guard_stops_a_stars_purchase_before_sending() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let form = stars_form(&alice.payments, &slug("sticker-pack")).await;
    let err = alice
        .payments
        .checkout_stars(&form)
        .max_total(tgpay::Currency::XTR.amount(49))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SpendGuard { .. }));
    let err = alice
        .payments
        .checkout_stars(&form)
        .max_total(tgpay::Currency::from_code("USD").unwrap().amount(100))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SpendGuardCurrency { .. }));
    assert_eq!(calls(&sandbox, ALICE, "payments.sendStarsForm"), 0);
    let ok = alice
        .payments
        .checkout_stars(&form)
        .max_total(tgpay::Currency::XTR.amount(50))
        .send()
        .await
        .unwrap();
    assert!(ok.paid().is_some());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_changed_price_is_reported_with_the_new_form_and_an_expired_form_is_renewed_once() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let form = stars_form(&alice.payments, &slug("sticker-pack")).await;
    sandbox.world().set_prices(
        "sticker-pack",
        vec![PriceSpec {
            label: "Sticker Pack".into(),
            amount: 60,
        }],
    );
    let err = alice
        .payments
        .checkout_stars(&form)
        .send()
        .await
        .unwrap_err();
    let Error::PriceChanged {
        old,
        new,
        form: fresh,
        ..
    } = err
    else {
        panic!("PriceChanged expected");
    };
    assert_eq!((old.minor, new.minor), (50, 60));
    let PaymentForm::Stars(fresh) = *fresh else {
        panic!("a Stars form");
    };
    assert!(sandbox.world().charges().is_empty());

    // The fresh form expires; the price is the same: it is fetched again and paid, once.
    sandbox.world().advance_clock(Duration::from_secs(601));
    let forms_before = calls(&sandbox, ALICE, "payments.getPaymentForm");
    let outcome = alice.payments.checkout_stars(&fresh).send().await.unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(
        calls(&sandbox, ALICE, "payments.getPaymentForm"),
        forms_before + 1
    );
    assert_eq!(sandbox.world().charges().len(), 1);
    assert_eq!(sandbox.world().charges()[0].total_amount, 60);
    sandbox.shutdown().await;
}

fn fault(method: &str, user: i64, charge: bool) -> FaultSpec {
    FaultSpec {
        method: method.into(),
        user: Some(user),
        error: None,
        code: None,
        drop_connection: charge,
        drop_unprocessed: !charge,
        after_processing: false,
        delay_ms: None,
        flood_wait_secs: None,
        times: 1,
    }
}

#[tokio::test]
async fn a_lost_reply_to_a_stars_payment_that_went_through_is_found_and_reported_paid() {
    let mut scenario = Scenario::default_world();
    scenario
        .faults
        .push(fault("payments.sendStarsForm", ALICE, true));
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let alice = flow_with(&sandbox, ALICE, no_retries());
    let form = stars_form(&alice.payments, &slug("sticker-pack")).await;
    // The reply is lost; tgpay looks for the receipt at once and finds it.
    let outcome = alice.payments.checkout_stars(&form).send().await.unwrap();
    let paid = outcome.paid().expect("paid");
    assert!(paid.receipt.receipt_msg_id.is_some());
    assert_eq!(sandbox.world().charges_of(ALICE, "sticker-pack").len(), 1);
    assert_eq!(calls(&sandbox, ALICE, "payments.sendStarsForm"), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_lost_card_payment_is_unsettled_until_its_form_expires_then_not_paid() {
    let mut scenario = Scenario::default_world();
    scenario
        .faults
        .push(fault("payments.sendPaymentForm", BOB, false));
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let bob = flow_with(&sandbox, BOB, no_retries());
    bob.payments.server_time().await.unwrap();
    let invoice = message_ref(&sandbox, BOB, "ebook");
    let form = card_form(&bob.payments, &invoice).await;
    let err = bob
        .payments
        .checkout(&form)
        .credentials(visa())
        .send()
        .await
        .unwrap_err();
    let Error::Ambiguous(pending) = err else {
        panic!("Ambiguous expected, got {err:?}");
    };
    assert!(matches!(pending.cause, AmbiguityCause::Transport { .. }));
    assert!(pending.to_string().contains("reconcile"));
    // Nothing found, but Telegram could still process it: not "not paid" yet.
    let Reconciled::Unsettled { settles_at, .. } =
        bob.payments.reconcile(&pending.payment).await.unwrap()
    else {
        panic!("unsettled expected");
    };
    let settles_at = settles_at.expect("a settle time");
    // Once the form (and any verification) can no longer go through, it is settled.
    sandbox.world().advance_clock(Duration::from_secs(700));
    let Reconciled::NotPaid { evidence } = bob.payments.reconcile(&pending.payment).await.unwrap()
    else {
        panic!("not paid expected");
    };
    assert_eq!(
        evidence,
        tgpay::Evidence::Expired {
            expired_at: settles_at
        }
    );
    assert!(sandbox.world().charges().is_empty());
    assert_eq!(calls(&sandbox, BOB, "payments.sendPaymentForm"), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn grammers_default_retry_policy_never_resends_a_payment() {
    let mut scenario = Scenario::default_world();
    scenario
        .faults
        .push(fault("payments.sendPaymentForm", BOB, true));
    let sandbox = Sandbox::start(scenario).await.unwrap();
    // grammers' default policy re-sends once after an I/O error; a payment must not be.
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, &slug("ebook")).await;
    let outcome = bob
        .payments
        .checkout(&form)
        .credentials(visa())
        .send()
        .await
        .unwrap();
    assert_eq!(outcome.paid().expect("paid").total.to_string(), "$4.99");
    assert_eq!(calls(&sandbox, BOB, "payments.sendPaymentForm"), 1);
    assert_eq!(sandbox.world().charges_of(BOB, "ebook").len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn saved_info_and_stars_history_pages() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let saved = alice.payments.get_saved_info().await.unwrap();
    assert!(saved.has_saved_credentials);
    assert_eq!(saved.info.unwrap().name.as_deref(), Some("Alice Sandbox"));

    for _ in 0..3 {
        let form = stars_form(&alice.payments, &slug("sticker-pack")).await;
        alice.payments.checkout_stars(&form).send().await.unwrap();
    }
    sandbox.world().top_up_stars(ALICE, 100);
    let mut pager = alice
        .payments
        .stars_transactions(tgpay::stars::TransactionFilter::default());
    pager.page_size = 2;
    let mut amounts = Vec::new();
    while let Some(tx) = pager.next().await.unwrap() {
        amounts.push(tx.amount.amount);
    }
    assert_eq!(amounts, [100, -50, -50, -50]);
    assert_eq!(calls(&sandbox, ALICE, "payments.getStarsTransactions"), 2);

    use futures_util::StreamExt;
    let outbound: Vec<_> = alice
        .payments
        .stars_transactions(tgpay::stars::TransactionFilter {
            outbound: true,
            ..Default::default()
        })
        .into_stream()
        .collect()
        .await;
    assert_eq!(outbound.len(), 3);
    assert!(
        outbound
            .iter()
            .all(|tx| tx.as_ref().unwrap().peer.user_id().is_some())
    );

    alice
        .payments
        .clear_saved_info(ClearSaved::All)
        .await
        .unwrap();
    let saved = alice.payments.get_saved_info().await.unwrap();
    assert!(saved.info.is_none() && !saved.has_saved_credentials);
    sandbox.shutdown().await;
}

/// Every RPC the sandbox handled, all methods together.
fn all_requests(sandbox: &Sandbox) -> u64 {
    sandbox.stats().requests.values().sum()
}

/// The RPCs a flow makes, counted by the sandbox (everything it handled, and per method).
#[tokio::test]
async fn each_flow_makes_only_its_own_rpcs() {
    let sandbox = sandbox().await;
    // No update follower: nothing but the flow talks to the server.
    let client = sandbox.client(ALICE).unwrap();
    let payments = client.payments();
    payments.server_time().await.unwrap(); // the connection is up

    // Card: form → validate → send.
    let before = all_requests(&sandbox);
    let form = card_form(&payments, &slug("hoodie")).await;
    let filled = OrderInfo::autofill(
        &form.invoice.requested,
        form.saved_info.as_ref(),
        &OrderInfo::default(),
    );
    let order = payments
        .validate_requested_info(&form, &filled.info, SaveInfo::DontSave)
        .await
        .unwrap();
    let outcome = payments
        .checkout(&form)
        .order(&order)
        .shipping_option(&order.shipping_options[0])
        .credentials(visa())
        .send()
        .await
        .unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(all_requests(&sandbox) - before, 3, "card flow");

    // Stars: form → send.
    let before = all_requests(&sandbox);
    let form = stars_form(&payments, &slug("sticker-pack")).await;
    let outcome = payments.checkout_stars(&form).send().await.unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(all_requests(&sandbox) - before, 2, "Stars flow");

    // A saved card with a cached tmp password: form → validate → send, no 2FA round trip.
    let password = SecretString::new(ALICE_PASSWORD.to_owned());
    payments.get_tmp_password(&password).await.unwrap();
    let before = all_requests(&sandbox);
    let tmp_before = calls(&sandbox, ALICE, "account.getTmpPassword");
    payments.get_tmp_password(&password).await.unwrap();
    let form = card_form(&payments, &slug("hoodie")).await;
    let order = payments
        .validate_requested_info(&form, &filled.info, SaveInfo::DontSave)
        .await
        .unwrap();
    let card = form.saved_credentials[0].clone();
    let outcome = payments
        .checkout(&form)
        .order(&order)
        .shipping_option(&order.shipping_options[0])
        .credentials(Credentials::Saved(card))
        .send()
        .await
        .unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(
        all_requests(&sandbox) - before,
        3,
        "saved card, cached tmp password"
    );
    assert_eq!(calls(&sandbox, ALICE, "account.getTmpPassword"), tmp_before);
    assert_eq!(calls(&sandbox, ALICE, "payments.sendPaymentForm"), 2);
    assert_eq!(calls(&sandbox, ALICE, "payments.sendStarsForm"), 1);
    assert_eq!(sandbox.world().charges().len(), 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_invoice_message_read_through_grammers_is_paid_from_its_summary() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let client = alice.payments.client();
    let bot = client
        .resolve_username("SandboxStarsBot")
        .await
        .unwrap()
        .expect("the bot");
    let bot = bot.to_ref().await.unwrap().expect("its access hash");
    let read = |client: tgpay::grammers_client::Client, bot| async move {
        let mut found = Vec::new();
        let mut messages = client.iter_messages(bot);
        while let Some(message) = messages.next().await.unwrap() {
            if let Some(invoice) = tgpay::InvoiceMessage::from_message(&message).await {
                found.push(invoice);
            } else {
                assert!(!tgpay::receipt::is_invoice_message(&message.raw));
            }
        }
        found
    };
    let invoices = read(client.clone(), bot).await;
    let sticker = invoices
        .iter()
        .find(|i| i.start_param == "sticker-pack")
        .expect("the sticker pack's invoice message");
    assert_eq!(sticker.title, "Sticker Pack");
    assert_eq!(sticker.total.to_string(), "50 ⭐");
    assert_eq!(sticker.receipt_msg_id, None);
    assert_eq!(
        sticker.invoice,
        message_ref(&sandbox, ALICE, "sticker-pack"),
        "the same invoice the sandbox sent"
    );

    let form = stars_form(&alice.payments, &sticker.invoice).await;
    let paid = alice
        .payments
        .checkout_stars(&form)
        .send()
        .await
        .unwrap()
        .paid()
        .cloned()
        .expect("paid");

    // Read again, the message is a receipt, and the receipt id is the payment's.
    let invoices = read(client.clone(), bot).await;
    let sticker = invoices
        .iter()
        .find(|i| i.start_param == "sticker-pack")
        .unwrap();
    assert_eq!(sticker.receipt_msg_id, paid.receipt.receipt_msg_id);
    let receipt = alice
        .payments
        .get_payment_receipt_at(bot, sticker.receipt_msg_id.unwrap())
        .await
        .unwrap();
    assert_eq!(receipt.total.to_string(), "50 ⭐");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_apps_own_update_loop_feeds_the_flow_through_handle_update() {
    use tgpay::grammers_client::sender::UpdatesConfiguration;

    let sandbox = sandbox().await;
    let mut client = sandbox.client(ALICE).unwrap();
    let payments = client.payments();
    let mut updates = payments
        .client()
        .stream_updates(
            client.updates.take().unwrap(),
            UpdatesConfiguration::default(),
        )
        .await
        .unwrap();
    let forwarder = payments.clone();
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let app = tokio::spawn(async move {
        while let Ok(update) = updates.next().await {
            forwarder.handle_update(&update);
            let _ = seen_tx.send(());
        }
    });

    // The merchant's pre-checkout reason arrives as an update.
    let form = card_form(&payments, &slug("sold-out")).await;
    let err = payments
        .checkout(&form)
        .credentials(visa())
        .send()
        .await
        .unwrap_err();
    let Error::PrecheckoutRejected { reason, .. } = &err else {
        panic!("PrecheckoutRejected expected, got {err:?}");
    };
    assert_eq!(reason.as_deref(), Some("Sorry, this item just sold out."));
    assert!(seen.try_recv().is_ok(), "the app's loop saw the update");
    app.abort();
    sandbox.shutdown().await;
}
