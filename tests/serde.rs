//! The `serde` feature: forms, orders, receipts and Stars values as JSON, read from the sandbox
//! over TCP. Each value reads back to itself where it round-trips (not forms: their fetch time is
//! not written), and no secret is ever written.
#![cfg(feature = "serde")]

use serde_json::{Value, json};
use tgpay::credentials::StripeToken;
use tgpay::order::{OrderInfo, SavedInfo, ShippingOption, ValidatedOrder};
use tgpay::stars::{StarsStatus, StarsTopupOption, StarsTransaction, TransactionFilter};
use tgpay::{Credentials, InvoiceRef, Outcome, PaymentForm, Payments, Receipt};
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD};
use tgpay_sandbox::{Sandbox, Scenario};

/// Serializes `value`, reads it back, and checks that the copy equals it; returns the JSON.
fn round_trip<T>(value: &T) -> Value
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(value).unwrap();
    let back: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, value, "{json:#}");
    json
}

#[tokio::test]
async fn card_forms_orders_and_receipts_serialize_and_round_trip() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = sandbox.client(ALICE).unwrap();
    let payments = Payments::new(&alice.handle);

    let form = payments
        .get_payment_form(&InvoiceRef::parse("t.me/$hoodie").unwrap())
        .await
        .unwrap();
    let written = serde_json::to_value(&form).unwrap();
    assert_eq!(written["kind"], "card");
    assert_eq!(written["title"], "Sandbox Hoodie");
    assert_eq!(written["invoice"]["currency"], "USD");
    assert_eq!(
        written["invoice"]["prices"][0],
        json!({"label": "Hoodie", "amount": "39.99 USD"})
    );
    assert_eq!(
        written["invoice"]["requested"],
        json!({"name": true, "phone": true, "email": true, "shipping_address": true})
    );
    assert_eq!(written["invoice"]["tips"]["max"], "10.00 USD");
    assert_eq!(written["native_provider"]["provider"], "stripe");
    assert_eq!(written["saved_credentials"][0]["title"], "Visa *4242");
    assert_eq!(
        written["invoice_ref"]["link"], "https://t.me/$hoodie",
        "{written:#}"
    );
    assert!(
        written.get("fetched_at").is_none(),
        "an Instant means nothing outside this process"
    );
    let PaymentForm::Card(form) = form else {
        panic!("the hoodie is sold for dollars")
    };

    let saved = payments.get_saved_info().await.unwrap();
    let saved_json = round_trip::<SavedInfo>(&saved);
    assert_eq!(saved_json["has_saved_credentials"], true);
    let info = OrderInfo::autofill(
        &form.invoice.requested,
        form.saved_info.as_ref(),
        &OrderInfo::default(),
    );
    let info_json = round_trip(&info);
    assert_eq!(info_json["missing"], json!([]));
    assert!(info_json["info"]["shipping_address"]["country_iso2"].is_string());

    let order = payments
        .validate_requested_info(&form, &info.info, false)
        .await
        .unwrap();
    let order_json = round_trip::<ValidatedOrder>(&order);
    let option = round_trip::<ShippingOption>(&order.shipping_options[0]);
    assert_eq!(order_json["shipping_options"][0], option);
    assert!(option["total"].as_str().unwrap().ends_with(" USD"));

    let outcome = payments
        .checkout(&form)
        .order(&order)
        .shipping_option(order.shipping_options[0].id.clone())
        .credentials(Credentials::Stripe(StripeToken::new(
            "tok_sandbox_visa",
            "Visa *4242",
        )))
        .send()
        .await
        .unwrap();
    let Outcome::Paid(paid) = outcome else {
        panic!("no 3-D Secure for this card")
    };
    let receipt = payments.get_payment_receipt(&paid.receipt).await.unwrap();
    let receipt_json = round_trip::<Receipt>(&receipt);
    // Hoodie 39.99 + gift wrapping 2.50 + standard shipping to the US 4.99.
    assert_eq!(receipt_json["total"], "47.48 USD");
    assert_eq!(receipt_json["credentials_title"], "Visa *4242");
    assert_eq!(receipt_json["shipping"]["id"], order.shipping_options[0].id);
    round_trip(&paid.receipt);

    // A saved card writes its id and title; the tmp password that unlocks it has no `Serialize`
    // at all, and the card token never appears in anything written.
    let form_text = serde_json::to_string(&PaymentForm::Card(form)).unwrap();
    let receipt_text = serde_json::to_string(&receipt).unwrap();
    for text in [&form_text, &receipt_text] {
        assert!(!text.contains("tok_sandbox_visa"), "{text}");
        assert!(!text.contains(ALICE_PASSWORD), "{text}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn stars_forms_balances_and_history_serialize_and_round_trip() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = sandbox.client(ALICE).unwrap();
    let payments = Payments::new(&alice.handle);

    let form = payments
        .get_payment_form(&InvoiceRef::parse("t.me/$sticker-pack").unwrap())
        .await
        .unwrap();
    let written = serde_json::to_value(&form).unwrap();
    assert_eq!(written["kind"], "stars");
    assert_eq!(written["price"], "50 XTR");
    let PaymentForm::Stars(form) = form else {
        panic!("sold for Stars")
    };
    payments.checkout_stars(&form).send().await.unwrap();

    let status = payments.get_stars_status().await.unwrap();
    let status_json = round_trip::<StarsStatus>(&status);
    assert_eq!(status_json["balance"], json!({"amount": 450, "nanos": 0}));
    let spent = status
        .history
        .iter()
        .find(|tx| tx.amount.amount == -50)
        .expect("the purchase is in the history");
    let spent_json = round_trip::<StarsTransaction>(spent);
    assert_eq!(
        spent_json["peer"],
        json!({"peer": {"user": form.bot_id}}),
        "{spent_json:#}"
    );

    let mut pager = payments.stars_transactions(TransactionFilter::default());
    let first = pager
        .next()
        .await
        .unwrap()
        .expect("one transaction at least");
    round_trip(&first);
    round_trip(&TransactionFilter {
        outbound: true,
        ..TransactionFilter::default()
    });

    let options = payments.get_stars_topup_options().await.unwrap();
    assert!(!options.is_empty());
    for option in &options {
        let json = round_trip::<StarsTopupOption>(option);
        assert!(json["stars"].as_str().unwrap().ends_with(" XTR"));
    }
    sandbox.shutdown().await;
}
