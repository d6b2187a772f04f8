//! Money safety: every answer tgpay gives about a payment matches what the sandbox's ledger
//! charged, under the failures Telegram and the network produce — lost replies, lost requests,
//! re-sent requests, errors after processing, Telegram's internal errors, slow answers — and no
//! payment is ever charged twice. Each test drives grammers (its default retry policy unless
//! said otherwise) over TCP against the sandbox and checks the ledger, not tgpay's own answer.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{flow, flow_config, http};
use grammers_mtsender::ConnectionParams;
use tgpay::attempt::{AmbiguityCause, Stage, UnsettledReason};
use tgpay::credentials::StripeToken;
use tgpay::error::{CatalogEntry, MoneyClass};
use tgpay::journal::{Entry, Journal, JsonlJournal, MemoryJournal, Resolution};
use tgpay::{
    Credentials, Error, Evidence, InvoiceRef, Outcome, PaymentError, PaymentForm, Payments,
    PaymentsConfig, Reconciled, Recovery,
};
use tgpay_sandbox::scenario::{ALICE, BOB, FaultSpec};
use tgpay_sandbox::world::{Fault, FaultAction, RpcFail};
use tgpay_sandbox::{Sandbox, Scenario};

const SEND_CARD: &str = "payments.sendPaymentForm";
const SEND_STARS: &str = "payments.sendStarsForm";

fn slug(s: &str) -> InvoiceRef {
    InvoiceRef::Slug(s.to_owned())
}

fn visa() -> Credentials {
    Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"))
}

fn three_ds() -> Credentials {
    Credentials::Stripe(StripeToken::new("tok_sandbox_3ds", "Visa *3184"))
}

/// A fault on `method` for `user`, doing nothing yet (fill in one action).
fn fault(method: &str, user: i64) -> FaultSpec {
    FaultSpec {
        method: method.into(),
        user: Some(user),
        error: None,
        code: None,
        drop_connection: false,
        drop_unprocessed: false,
        after_processing: false,
        delay_ms: None,
        flood_wait_secs: None,
        times: 1,
    }
}

fn error(method: &str, user: i64, code: i32, name: &str) -> FaultSpec {
    FaultSpec {
        error: Some(name.into()),
        code: Some(code),
        ..fault(method, user)
    }
}

fn inject(sandbox: &Sandbox, user: i64, method: &str, action: FaultAction, times: u32) {
    sandbox.world().inject(Fault {
        method: method.into(),
        user: Some(user),
        action,
        times,
    });
}

async fn with_faults(faults: Vec<FaultSpec>) -> Sandbox {
    let mut scenario = Scenario::default_world();
    scenario.faults = faults;
    Sandbox::start(scenario).await.unwrap()
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

async fn pay_card(payments: &Payments, slug_name: &str) -> Result<Outcome, Error> {
    let form = card_form(payments, &slug(slug_name)).await;
    payments.checkout(&form).credentials(visa()).send().await
}

async fn pay_stars(payments: &Payments, slug_name: &str) -> Result<Outcome, Error> {
    let form = stars_form(payments, &slug(slug_name)).await;
    payments.checkout_stars(&form).send().await
}

fn charges(sandbox: &Sandbox, user: i64, slug: &str) -> usize {
    sandbox.world().charges_of(user, slug).len()
}

fn calls(sandbox: &Sandbox, user: i64, method: &str) -> u64 {
    sandbox.world().call_count(user, method)
}

/// A flow whose quick check after a failed send is itself made to fail, so that the error
/// comes back ambiguous with its pending payment (the history read fails once).
fn fail_next_history_read(sandbox: &Sandbox, user: i64) {
    inject(
        sandbox,
        user,
        "messages.getHistory",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        1,
    );
}

// ----- no hidden re-send -----

#[tokio::test]
async fn a_lost_stars_reply_followed_by_form_expired_is_one_payment_reported_paid() {
    // Today's failure: the reply is lost, grammers re-sends, the re-send gets FORM_EXPIRED, the
    // form is fetched again and paid again: two charges, reported as one.
    let sandbox = with_faults(vec![
        FaultSpec {
            drop_connection: true,
            ..fault(SEND_STARS, ALICE)
        },
        error(SEND_STARS, ALICE, 400, "FORM_EXPIRED"),
    ])
    .await;
    let alice = flow(&sandbox, ALICE);
    let outcome = pay_stars(&alice.payments, "sticker-pack").await.unwrap();
    assert!(outcome.paid().is_some(), "{outcome:?}");
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 1);
    assert_eq!(calls(&sandbox, ALICE, SEND_STARS), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn what_a_resent_request_would_hear_is_never_taken_for_the_truth() {
    // The first request charges and its reply is lost; a re-send would hear a refusal. None is
    // sent, and the answer is the charge.
    for (method, code, name) in [
        (SEND_CARD, 400, "PAYMENT_FAILED"),
        (SEND_CARD, 400, "BOT_PRECHECKOUT_FAILED"),
        (SEND_CARD, 400, "FORM_EXPIRED"),
        (SEND_STARS, 400, "BALANCE_TOO_LOW"),
        (SEND_STARS, 400, "FORM_EXPIRED"),
        (SEND_STARS, 406, "PRECHECKOUT_FAILED"),
    ] {
        let user = if method == SEND_CARD { BOB } else { ALICE };
        let sandbox = with_faults(vec![
            FaultSpec {
                drop_connection: true,
                ..fault(method, user)
            },
            error(method, user, code, name),
        ])
        .await;
        let flow = flow(&sandbox, user);
        let (outcome, slug) = if method == SEND_CARD {
            (pay_card(&flow.payments, "ebook").await, "ebook")
        } else {
            (
                pay_stars(&flow.payments, "sticker-pack").await,
                "sticker-pack",
            )
        };
        assert!(
            matches!(&outcome, Ok(o) if o.paid().is_some()),
            "{name}: {outcome:?}"
        );
        assert_eq!(charges(&sandbox, user, slug), 1, "{name}");
        assert_eq!(calls(&sandbox, user, method), 1, "{name}: sent once");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_refusal_that_comes_after_the_charge_is_checked_and_reported_paid() {
    // Process, then answer with an error: every refusal is checked against the ledger.
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let bob = flow(&sandbox, BOB);
    let alice = flow(&sandbox, ALICE);
    let mut expected_card = 0;
    let mut expected_stars = 0;
    for (method, code, name) in [
        (SEND_CARD, 400, "PAYMENT_FAILED"),
        (SEND_CARD, 400, "BOT_PRECHECKOUT_FAILED"),
        (SEND_CARD, 400, "BOT_PRECHECKOUT_TIMEOUT"),
        (SEND_CARD, 400, "FORM_EXPIRED"),
        (SEND_CARD, 400, "INVOICE_ALREADY_PAID"),
        (SEND_CARD, 400, "FORM_SUBMIT_DUPLICATE"),
        (SEND_CARD, -503, "Timeout"),
        (SEND_CARD, 500, "INTERNAL_SERVER_ERROR"),
        (SEND_STARS, 400, "BALANCE_TOO_LOW"),
        (SEND_STARS, 400, "FORM_EXPIRED"),
        (SEND_STARS, 406, "PRECHECKOUT_FAILED"),
        (SEND_STARS, -500, "Internal"),
        (SEND_STARS, 400, "SOMETHING_NOBODY_CATALOGUED"),
    ] {
        let (user, outcome, slug) = if method == SEND_CARD {
            inject(
                &sandbox,
                BOB,
                method,
                FaultAction::ErrorAfter(RpcFail::new(code, name)),
                1,
            );
            expected_card += 1;
            (BOB, pay_card(&bob.payments, "ebook").await, "ebook")
        } else {
            inject(
                &sandbox,
                ALICE,
                method,
                FaultAction::ErrorAfter(RpcFail::new(code, name)),
                1,
            );
            expected_stars += 1;
            (
                ALICE,
                pay_stars(&alice.payments, "sticker-pack").await,
                "sticker-pack",
            )
        };
        let paid = match outcome {
            Ok(Outcome::Paid(paid)) => paid,
            other => panic!("{name} after the charge must be paid, got {other:?}"),
        };
        let expected = if user == BOB {
            expected_card
        } else {
            expected_stars
        };
        let ledger = sandbox.world().charges_of(user, slug);
        assert_eq!(ledger.len(), expected, "{name}");
        // The receipt is this attempt's charge, not an earlier identical one.
        assert_eq!(
            paid.receipt.receipt_msg_id,
            ledger.last().map(|c| c.receipt_msg_id),
            "{name}"
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_flood_wait_is_a_definite_refusal_sent_once_whatever_the_retry_policy() {
    // grammers' default policy sleeps and re-sends a FLOOD_WAIT under 60 s; a payment is not.
    let sandbox = with_faults(vec![FaultSpec {
        flood_wait_secs: Some(2),
        ..fault(SEND_STARS, ALICE)
    }])
    .await;
    let alice = flow(&sandbox, ALICE);
    let form = stars_form(&alice.payments, &slug("sticker-pack")).await;
    let err = alice
        .payments
        .checkout_stars(&form)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Telegram(PaymentError::FloodWait { seconds: 2 })),
        "{err:?}"
    );
    assert_eq!(err.recovery(), Recovery::Wait(Duration::from_secs(2)));
    assert!(err.is_not_charged());
    assert_eq!(calls(&sandbox, ALICE, SEND_STARS), 1);
    // The flood wait holds for real seconds, as Telegram's does.
    let err = alice
        .payments
        .checkout_stars(&form)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Telegram(PaymentError::FloodWait { .. })),
        "{err:?}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let outcome = alice.payments.checkout_stars(&form).send().await.unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 1);
    sandbox.shutdown().await;
}

// ----- Telegram's internal errors and slow answers -----

#[tokio::test]
async fn telegram_internal_errors_are_ambiguous_and_carry_the_payment() {
    for (method, code, name) in [
        (SEND_CARD, -503, "Timeout"),
        (SEND_CARD, 500, "INTERNAL_SERVER_ERROR"),
        (SEND_STARS, -500, "Internal"),
        (SEND_STARS, 503, "SERVICE_UNAVAILABLE"),
    ] {
        let user = if method == SEND_CARD { BOB } else { ALICE };
        let sandbox = with_faults(vec![error(method, user, code, name)]).await;
        let flow = flow(&sandbox, user);
        let result = if method == SEND_CARD {
            pay_card(&flow.payments, "ebook").await
        } else {
            pay_stars(&flow.payments, "sticker-pack").await
        };
        let err = result.unwrap_err();
        assert!(err.is_ambiguous(), "{name}: {err:?}");
        assert!(!err.is_not_charged());
        assert_eq!(err.recovery(), Recovery::Reconcile);
        let Error::Ambiguous(ambiguous) = &err else {
            unreachable!()
        };
        assert_eq!(
            ambiguous.cause,
            AmbiguityCause::ServerError {
                code,
                name: name.into()
            }
        );
        assert_eq!(ambiguous.payment.stage, Stage::Unanswered);
        // Nothing was charged, but Telegram could still finish it: not settled yet.
        let answer = flow.payments.reconcile(&ambiguous.payment).await.unwrap();
        assert!(
            matches!(
                answer,
                Reconciled::Unsettled {
                    reason: UnsettledReason::MayStillBeProcessed,
                    settles_at: Some(_)
                }
            ),
            "{name}: {answer:?}"
        );
        assert!(sandbox.world().charges().is_empty());
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn an_answer_slower_than_the_send_timeout_is_checked_not_assumed() {
    let sandbox = with_faults(vec![FaultSpec {
        delay_ms: Some(3_000),
        ..fault(SEND_STARS, ALICE)
    }])
    .await;
    let config = PaymentsConfig {
        send_timeout: Duration::from_millis(500),
        ..PaymentsConfig::default()
    };
    let alice = flow_config(&sandbox, ALICE, ConnectionParams::default(), config);
    // The request was processed; its answer comes after tgpay stopped waiting. The check finds
    // the charge.
    let outcome = pay_stars(&alice.payments, "sticker-pack").await.unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 1);
    assert_eq!(calls(&sandbox, ALICE, SEND_STARS), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_lost_request_is_unsettled_then_not_paid_once_its_form_expired() {
    let sandbox = with_faults(vec![FaultSpec {
        drop_unprocessed: true,
        ..fault(SEND_STARS, ALICE)
    }])
    .await;
    let alice = flow(&sandbox, ALICE);
    alice.payments.server_time().await.unwrap();
    let err = pay_stars(&alice.payments, "sticker-pack")
        .await
        .unwrap_err();
    let payment = err.payment().expect("the pending payment").clone();
    assert!(matches!(
        &err,
        Error::Ambiguous(a) if matches!(a.cause, AmbiguityCause::Transport { .. })
    ));
    // Until the form expires, another identical purchase is refused unsent.
    let again = pay_stars(&alice.payments, "sticker-pack")
        .await
        .unwrap_err();
    assert!(matches!(&again, Error::Unresolved { payment: p } if p.id == payment.id));
    assert_eq!(calls(&sandbox, ALICE, SEND_STARS), 1);

    sandbox.world().advance_clock(Duration::from_secs(700));
    let answer = alice.payments.reconcile(&payment).await.unwrap();
    assert!(
        matches!(
            answer,
            Reconciled::NotPaid {
                evidence: Evidence::Expired { .. }
            }
        ),
        "{answer:?}"
    );
    assert!(sandbox.world().charges().is_empty());
    // Resolved: paying again is allowed, and charges once.
    let outcome = pay_stars(&alice.payments, "sticker-pack").await.unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 1);
    sandbox.shutdown().await;
}

// ----- the classification table, row by row -----

/// Every catalogued error that a money-moving method can return, answered instead of
/// processing the request: the answer is what its class says, and the ledger agrees.
#[tokio::test]
async fn every_catalogued_error_of_the_money_methods_behaves_as_its_class_says() {
    let mut rows = 0;
    for entry in CatalogEntry::all() {
        for method in [SEND_CARD, SEND_STARS] {
            if !(entry.any_method() || entry.methods().contains(&method)) {
                continue;
            }
            rows += 1;
            check_row(entry, method).await;
        }
    }
    assert!(rows >= 40, "only {rows} rows");
}

async fn check_row(entry: &CatalogEntry, method: &str) {
    let user = if method == SEND_CARD { BOB } else { ALICE };
    let wire = entry.wire_message(1);
    let sandbox = with_faults(vec![error(method, user, entry.code(), &wire)]).await;
    let flow = flow(&sandbox, user);
    let (result, slug) = if method == SEND_CARD {
        (pay_card(&flow.payments, "ebook").await, "ebook")
    } else {
        (
            pay_stars(&flow.payments, "sticker-pack").await,
            "sticker-pack",
        )
    };
    let class = entry.error(1).money_class();
    let name = entry.name();
    match class {
        MoneyClass::Rejected => {
            let err = result.expect_err(name);
            assert!(err.is_not_charged(), "{name} on {method}: {err:?}");
            assert!(
                matches!(err, Error::Telegram(_) | Error::PriceChanged { .. }),
                "{name} on {method}: {err:?}"
            );
            assert_eq!(charges(&sandbox, user, slug), 0, "{name} on {method}");
        }
        MoneyClass::Verified => match result {
            // A Stars form that expired unprocessed is renewed and paid, once.
            Ok(outcome) => {
                assert_eq!((name, method), ("FORM_EXPIRED", SEND_STARS), "{outcome:?}");
                assert!(outcome.paid().is_some());
                assert_eq!(charges(&sandbox, user, slug), 1);
            }
            Err(err) => {
                assert!(err.is_not_charged(), "{name} on {method}: {err:?}");
                let payment = err.payment().unwrap_or_else(|| panic!("{name}: {err:?}"));
                assert_eq!(
                    payment.stage,
                    Stage::Refused {
                        error: wire.clone()
                    },
                    "{name}"
                );
                assert_eq!(charges(&sandbox, user, slug), 0, "{name} on {method}");
            }
        },
        MoneyClass::Ambiguous => {
            let err = result.expect_err(name);
            assert!(err.is_ambiguous(), "{name} on {method}: {err:?}");
            assert!(err.payment().is_some());
            assert_eq!(charges(&sandbox, user, slug), 0, "{name} on {method}");
        }
    }
    assert_eq!(
        calls(&sandbox, user, method),
        if (name, method) == ("FORM_EXPIRED", SEND_STARS) {
            2
        } else {
            1
        },
        "{name} on {method}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn too_few_stars_after_a_refusal_never_shows_a_negative_shortfall() {
    // Telegram said BALANCE_TOO_LOW, but the balance covers the price (a top-up landed): the
    // shortfall is zero, not negative, and nothing was charged.
    let sandbox = with_faults(vec![error(SEND_STARS, ALICE, 400, "BALANCE_TOO_LOW")]).await;
    let alice = flow(&sandbox, ALICE);
    let err = pay_stars(&alice.payments, "sticker-pack")
        .await
        .unwrap_err();
    let Error::InsufficientStars {
        balance,
        shortfall,
        payment,
        ..
    } = &err
    else {
        panic!("InsufficientStars expected, got {err:?}");
    };
    assert_eq!(balance.minor, 500);
    assert_eq!(shortfall.minor, 0);
    assert!(payment.is_some());
    assert!(
        !err.to_string().contains('−') && !err.to_string().contains("-"),
        "{err}"
    );
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

// ----- exact reconcile -----

#[tokio::test]
async fn reconcile_never_takes_an_earlier_identical_purchase_for_this_one() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = flow(&sandbox, ALICE);
    // One $4.99 purchase is paid…
    assert!(
        pay_card(&alice.payments, "ebook")
            .await
            .unwrap()
            .paid()
            .is_some()
    );

    // …then the same $4.99 from the same bot: a 3-D Secure payment that fails,
    let form = card_form(&alice.payments, &slug("ebook")).await;
    let Outcome::VerificationNeeded(v) = alice
        .payments
        .checkout(&form)
        .credentials(three_ds())
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    http("POST", &format!("{}/fail", v.url), true).await;
    let err = alice
        .payments
        .wait_for_verification(&v, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VerificationFailed { .. }), "{err:?}");

    // a 3-D Secure payment that is abandoned,
    let form = card_form(&alice.payments, &slug("ebook")).await;
    let Outcome::VerificationNeeded(v) = alice
        .payments
        .checkout(&form)
        .credentials(three_ds())
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    let err = alice
        .payments
        .wait_for_verification(&v, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous());
    assert!(matches!(
        alice.payments.reconcile(&v.payment).await.unwrap(),
        Reconciled::Unsettled {
            reason: UnsettledReason::VerificationOpen { .. },
            ..
        }
    ));
    // The abandoned page fails later; resolved, it stops blocking.
    http("POST", &format!("{}/fail", v.url), true).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(matches!(
        alice.payments.reconcile(&v.payment).await.unwrap(),
        Reconciled::NotPaid { .. }
    ));

    // and a card payment answered 500 and a Stars payment answered -503.
    inject(
        &sandbox,
        ALICE,
        SEND_CARD,
        FaultAction::Error(RpcFail::new(500, "INTERNAL")),
        1,
    );
    let err = pay_card(&alice.payments, "ebook").await.unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    assert!(!matches!(
        alice
            .payments
            .reconcile(err.payment().unwrap())
            .await
            .unwrap(),
        Reconciled::Paid(_)
    ));
    assert_eq!(charges(&sandbox, ALICE, "ebook"), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn reconcile_reads_back_past_many_newer_messages() {
    let sandbox = with_faults(vec![FaultSpec {
        drop_connection: true,
        ..fault(SEND_CARD, BOB)
    }])
    .await;
    let bob = flow(&sandbox, BOB);
    fail_next_history_read(&sandbox, BOB);
    let err = pay_card(&bob.payments, "ebook").await.unwrap_err();
    let payment = err.payment().expect("pending").clone();
    assert!(err.is_ambiguous(), "{err:?}");
    // 110 more purchases from the same bot push the receipt far back.
    for _ in 0..110 {
        assert!(
            pay_card(&bob.payments, "club")
                .await
                .unwrap()
                .paid()
                .is_some()
        );
    }
    let Reconciled::Paid(paid) = bob.payments.reconcile(&payment).await.unwrap() else {
        panic!("paid expected");
    };
    let charge = &sandbox.world().charges_of(BOB, "ebook")[0];
    assert_eq!(paid.receipt.receipt_msg_id, Some(charge.receipt_msg_id));
    assert!(calls(&sandbox, BOB, "messages.getHistory") >= 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn reconcile_finds_the_bot_by_its_username_when_no_access_hash_is_known() {
    let sandbox = with_faults(vec![FaultSpec {
        drop_connection: true,
        ..fault(SEND_CARD, BOB)
    }])
    .await;
    let bob = flow(&sandbox, BOB);
    fail_next_history_read(&sandbox, BOB);
    let err = pay_card(&bob.payments, "ebook").await.unwrap_err();
    let mut payment = err.payment().expect("pending").clone();
    payment.bot.access_hash = None;
    assert_eq!(payment.bot.username.as_deref(), Some("SandboxShopBot"));
    let answer = bob.payments.reconcile(&payment).await.unwrap();
    assert!(matches!(answer, Reconciled::Paid(_)), "{answer:?}");
    assert_eq!(calls(&sandbox, BOB, "contacts.resolveUsername"), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_skewed_local_clock_does_not_hide_the_receipt() {
    let sandbox = with_faults(vec![FaultSpec {
        drop_connection: true,
        ..fault(SEND_CARD, BOB)
    }])
    .await;
    // Telegram's clock is five minutes behind this machine's.
    sandbox.world().shift_clock(-300);
    let bob = flow(&sandbox, BOB);
    fail_next_history_read(&sandbox, BOB);
    let err = pay_card(&bob.payments, "ebook").await.unwrap_err();
    let payment = err.payment().expect("pending").clone();
    let answer = bob.payments.reconcile(&payment).await.unwrap();
    assert!(matches!(answer, Reconciled::Paid(_)), "{answer:?}");
    let offset = bob.payments.clock_offset().unwrap();
    assert!((-302..=-298).contains(&offset), "{offset}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn concurrent_identical_purchases_are_matched_one_receipt_each() {
    // Two identical Stars purchases at once, both replies lost and both quick checks failing:
    // two charges, two attempts, each gets its own receipt.
    let sandbox = with_faults(vec![FaultSpec {
        drop_connection: true,
        times: 2,
        ..fault(SEND_STARS, ALICE)
    }])
    .await;
    let alice = flow(&sandbox, ALICE);
    let other = flow(&sandbox, ALICE);
    inject(
        &sandbox,
        ALICE,
        "messages.getHistory",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        2,
    );
    let form_a = stars_form(&alice.payments, &slug("sticker-pack")).await;
    let form_b = stars_form(&other.payments, &slug("sticker-pack")).await;
    let (a, b) = tokio::join!(
        alice.payments.checkout_stars(&form_a).send(),
        other.payments.checkout_stars(&form_b).send()
    );
    let (a, b) = (a.unwrap_err(), b.unwrap_err());
    assert!(a.is_ambiguous() && b.is_ambiguous(), "{a:?} {b:?}");
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 2);
    let Reconciled::Paid(pa) = alice
        .payments
        .reconcile(a.payment().unwrap())
        .await
        .unwrap()
    else {
        panic!("paid expected");
    };
    let Reconciled::Paid(pb) = other
        .payments
        .reconcile(b.payment().unwrap())
        .await
        .unwrap()
    else {
        panic!("paid expected");
    };
    assert_ne!(pa.receipt.receipt_msg_id, pb.receipt.receipt_msg_id);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn two_look_alikes_and_one_charge_are_indistinguishable_until_both_settle() {
    let sandbox = with_faults(vec![
        FaultSpec {
            drop_connection: true,
            ..fault(SEND_STARS, ALICE)
        },
        FaultSpec {
            drop_unprocessed: true,
            ..fault(SEND_STARS, ALICE)
        },
    ])
    .await;
    let alice = flow(&sandbox, ALICE);
    let other = flow(&sandbox, ALICE);
    alice.payments.server_time().await.unwrap();
    other.payments.server_time().await.unwrap();
    inject(
        &sandbox,
        ALICE,
        "messages.getHistory",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        2,
    );
    let form_a = stars_form(&alice.payments, &slug("sticker-pack")).await;
    let form_b = stars_form(&other.payments, &slug("sticker-pack")).await;
    let (a, b) = tokio::join!(
        alice.payments.checkout_stars(&form_a).send(),
        other.payments.checkout_stars(&form_b).send()
    );
    let (a, b) = (a.unwrap_err(), b.unwrap_err());
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 1);
    let (pa, pb) = (a.payment().unwrap().clone(), b.payment().unwrap().clone());
    for p in [&pa, &pb] {
        let answer = alice.payments.reconcile(p).await.unwrap();
        assert!(
            matches!(
                answer,
                Reconciled::Unsettled {
                    reason: UnsettledReason::Indistinguishable {
                        attempts: 2,
                        receipts: 1
                    },
                    ..
                }
            ),
            "{answer:?}"
        );
    }
    // Once neither can go through any more, one paid and one did not: the answers add up to
    // the ledger.
    sandbox.world().advance_clock(Duration::from_secs(700));
    let answers = [
        alice.payments.reconcile(&pa).await.unwrap(),
        alice.payments.reconcile(&pb).await.unwrap(),
    ];
    let paid = answers
        .iter()
        .filter(|a| matches!(a, Reconciled::Paid(_)))
        .count();
    let not_paid = answers
        .iter()
        .filter(|a| matches!(a, Reconciled::NotPaid { .. }))
        .count();
    assert_eq!((paid, not_paid), (1, 1), "{answers:?}");
    sandbox.shutdown().await;
}

/// Two identical Stars purchases sent at once from two sessions of one account, both
/// unanswered and both quick checks failed: `charged` of them are processed (reply lost), the
/// others lost on the way. Returns the two pending payments.
async fn two_unanswered_look_alikes(
    sandbox: &Sandbox,
    alice: &Payments,
    other: &Payments,
    charged: usize,
) -> (tgpay::PendingPayment, tgpay::PendingPayment) {
    alice.server_time().await.unwrap();
    other.server_time().await.unwrap();
    inject(
        sandbox,
        ALICE,
        "messages.getHistory",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        2,
    );
    for n in 0..2 {
        let action = if n < charged {
            FaultAction::DropAfter
        } else {
            FaultAction::DropBefore
        };
        inject(sandbox, ALICE, SEND_STARS, action, 1);
    }
    let form_a = stars_form(alice, &slug("sticker-pack")).await;
    let form_b = stars_form(other, &slug("sticker-pack")).await;
    let (a, b) = tokio::join!(
        alice.checkout_stars(&form_a).send(),
        other.checkout_stars(&form_b).send()
    );
    let (a, b) = (a.unwrap_err(), b.unwrap_err());
    assert!(a.is_ambiguous() && b.is_ambiguous(), "{a:?} {b:?}");
    assert_eq!(charges(sandbox, ALICE, "sticker-pack"), charged);
    (a.payment().unwrap().clone(), b.payment().unwrap().clone())
}

#[tokio::test]
async fn a_look_alike_resolved_during_a_reconcile_does_not_lend_it_its_receipt() {
    // Two look-alikes, one charge, both settled: the receipt goes to the first sent. The second
    // one's reconcile reads the receipt while the first is unresolved, then (its Stars history
    // read is slow) the first resolves and claims it. Found by the fault campaign: the second
    // was reported paid too, with the same receipt, for one charge.
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = flow(&sandbox, ALICE);
    let other = flow(&sandbox, ALICE);
    let (pa, pb) = two_unanswered_look_alikes(&sandbox, &alice.payments, &other.payments, 1).await;
    sandbox.world().advance_clock(Duration::from_secs(700));
    // Whichever sorts first (sent, then attempt id) owns the one receipt.
    let (owner, loser) = if (pa.sent_at, pa.id) <= (pb.sent_at, pb.id) {
        (pa, pb)
    } else {
        (pb, pa)
    };
    inject(
        &sandbox,
        ALICE,
        "payments.getStarsTransactions",
        FaultAction::Delay(Duration::from_millis(1_500)),
        1,
    );
    let late = {
        let payments = other.payments.clone();
        tokio::spawn(async move { payments.reconcile(&loser).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let first = alice.payments.reconcile(&owner).await.unwrap();
    assert!(matches!(first, Reconciled::Paid(_)), "{first:?}");
    let second = late.await.unwrap().unwrap();
    assert!(
        matches!(second, Reconciled::NotPaid { .. }),
        "one charge, one paid answer: {second:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn concurrent_reconciles_of_look_alikes_name_different_receipts() {
    // Two look-alikes, both charged, reconciled at the same time (both slow to read the Stars
    // history): each is paid, each with its own receipt — never both with the first one.
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = flow(&sandbox, ALICE);
    let other = flow(&sandbox, ALICE);
    let (pa, pb) = two_unanswered_look_alikes(&sandbox, &alice.payments, &other.payments, 2).await;
    inject(
        &sandbox,
        ALICE,
        "payments.getStarsTransactions",
        FaultAction::Delay(Duration::from_millis(800)),
        2,
    );
    let (a, b) = tokio::join!(alice.payments.reconcile(&pa), other.payments.reconcile(&pb));
    let (Reconciled::Paid(a), Reconciled::Paid(b)) = (a.unwrap(), b.unwrap()) else {
        panic!("both paid expected");
    };
    assert_ne!(a.receipt.receipt_msg_id, b.receipt.receipt_msg_id);
    let ledger: Vec<_> = sandbox
        .world()
        .charges_of(ALICE, "sticker-pack")
        .iter()
        .map(|c| Some(c.receipt_msg_id))
        .collect();
    assert!(
        ledger.contains(&a.receipt.receipt_msg_id) && ledger.contains(&b.receipt.receipt_msg_id)
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_journal_read_before_a_look_alike_resolved_does_not_hide_this_attempts_receipt() {
    // Two look-alikes, both charged, both settled, one journal for both sessions. The later one's
    // reconcile reads the journal (both unresolved), then the earlier one resolves and claims
    // a receipt; the later one must still get the other receipt. Found by the fault campaign:
    // it counted the resolved look-alike as competing (from the journal read) while its receipt
    // was gone (claimed), and said "not charged" — for a charged payment.
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = flow(&sandbox, ALICE);
    let other = flow(&sandbox, ALICE);
    let journal = Arc::new(MemoryJournal::new());
    let (a, b) = (
        alice.payments.clone().with_journal(journal.clone()),
        other.payments.clone().with_journal(journal.clone()),
    );
    let (pa, pb) = two_unanswered_look_alikes(&sandbox, &a, &b, 2).await;
    sandbox.world().advance_clock(Duration::from_secs(700));
    // The one that sorts last (sent, then attempt id) reads slowly.
    let ((early, early_payments), (late, late_payments)) =
        if (pa.sent_at, pa.id) <= (pb.sent_at, pb.id) {
            ((pa, a), (pb, b))
        } else {
            ((pb, b), (pa, a))
        };
    inject(
        &sandbox,
        ALICE,
        "messages.getHistory",
        FaultAction::Delay(Duration::from_millis(1_500)),
        1,
    );
    let slow = tokio::spawn(async move { late_payments.reconcile(&late).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let first = early_payments.reconcile(&early).await.unwrap();
    let second = slow.await.unwrap().unwrap();
    let (Reconciled::Paid(first), Reconciled::Paid(second)) = (&first, &second) else {
        panic!("two charges, two paid answers: {first:?} {second:?}");
    };
    assert_ne!(first.receipt.receipt_msg_id, second.receipt.receipt_msg_id);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn reconcile_does_not_take_the_receipt_of_a_look_alike_whose_answer_is_on_its_way() {
    // The first purchase is charged and its answer is slow (but within the send timeout); the
    // second is charged and its reply lost. Reconciled while the first's answer is on its way,
    // the second must not name the first's receipt (which that answer will name): it waits.
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = flow(&sandbox, ALICE);
    let other = flow(&sandbox, ALICE);
    alice.payments.server_time().await.unwrap();
    other.payments.server_time().await.unwrap();
    inject(
        &sandbox,
        ALICE,
        SEND_STARS,
        FaultAction::Delay(Duration::from_millis(1_500)),
        1,
    );
    let first = {
        let payments = alice.payments.clone();
        tokio::spawn(async move { pay_stars(&payments, "sticker-pack").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    inject(&sandbox, ALICE, SEND_STARS, FaultAction::DropAfter, 1);
    fail_next_history_read(&sandbox, ALICE);
    let err = pay_stars(&other.payments, "sticker-pack")
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    let pending = err.payment().unwrap().clone();
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 2);
    let early = other.payments.reconcile(&pending).await.unwrap();
    let first = first.await.unwrap().unwrap();
    let first = first
        .paid()
        .expect("the slow answer is the receipt")
        .clone();
    let second = match early {
        Reconciled::Paid(paid) => paid,
        Reconciled::Unsettled { .. } => match other.payments.reconcile(&pending).await.unwrap() {
            Reconciled::Paid(paid) => paid,
            other => panic!("paid expected, got {other:?}"),
        },
        other => panic!("paid or unsettled expected, got {other:?}"),
    };
    assert_ne!(first.receipt.receipt_msg_id, second.receipt.receipt_msg_id);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_receipt_of_another_invoice_message_of_the_same_price_is_never_taken() {
    // Bob has two invoice messages for $4.99 from the same bot. The payment of the second is
    // lost on the way; the first is charged and its reply lost (its quick check fails too).
    // Found by the fault campaign: the second was reported paid with the first's receipt, and
    // the first — charged — "not paid: the invoice was paid by another payment".
    let mut scenario = Scenario::default_world();
    let mut gift = scenario
        .invoices
        .iter()
        .find(|i| i.slug == "ebook")
        .unwrap()
        .clone();
    gift.slug = "ebook-gift".into();
    gift.message_for = vec![BOB];
    scenario.invoices.push(gift);
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let bob = flow(&sandbox, BOB);
    let message = |slug: &str| {
        let (bot, msg_id, _) = sandbox
            .world()
            .invoice_messages(BOB)
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
    };
    let pay = |invoice: InvoiceRef| {
        let payments = bob.payments.clone();
        async move {
            let form = card_form(&payments, &invoice).await;
            payments.checkout(&form).credentials(visa()).send().await
        }
    };
    bob.payments.server_time().await.unwrap();
    inject(&sandbox, BOB, SEND_CARD, FaultAction::DropBefore, 1);
    let lost = pay(message("ebook")).await.unwrap_err();
    assert!(lost.is_ambiguous(), "{lost:?}");
    inject(&sandbox, BOB, SEND_CARD, FaultAction::DropAfter, 1);
    inject(
        &sandbox,
        BOB,
        "messages.getMessages",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        1,
    );
    let charged = pay(message("ebook-gift")).await.unwrap_err();
    assert!(charged.is_ambiguous(), "{charged:?}");
    let ledger = sandbox.world().charges_of(BOB, "ebook-gift");
    assert_eq!(ledger.len(), 1);
    assert_eq!(charges(&sandbox, BOB, "ebook"), 0);

    let answer = bob
        .payments
        .reconcile(lost.payment().unwrap())
        .await
        .unwrap();
    assert!(
        matches!(
            answer,
            Reconciled::Unsettled {
                reason: UnsettledReason::MayStillBeProcessed,
                ..
            }
        ),
        "the lost payment took another invoice's receipt: {answer:?}"
    );
    let answer = bob
        .payments
        .reconcile(charged.payment().unwrap())
        .await
        .unwrap();
    let Reconciled::Paid(paid) = answer else {
        panic!("the charged payment must be paid, got {answer:?}");
    };
    assert_eq!(paid.receipt.receipt_msg_id, Some(ledger[0].receipt_msg_id));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_stars_link_purchase_never_takes_the_stars_receipt_of_an_invoice_message() {
    // Alice buys the sticker pack by its link (lost on the way) and an invoice message of the
    // same bot and price (charged, reply lost, quick check failed). The Stars history shows one
    // 50 ⭐ payment to the bot and cannot say for which invoice: the link purchase must not take
    // it (the chat's receipts say which invoice each one paid).
    let mut scenario = Scenario::default_world();
    let mut gift = scenario
        .invoices
        .iter()
        .find(|i| i.slug == "sticker-pack")
        .unwrap()
        .clone();
    gift.slug = "sticker-gift".into();
    gift.message_for = vec![ALICE];
    scenario.invoices.push(gift);
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let alice = flow(&sandbox, ALICE);
    alice.payments.server_time().await.unwrap();
    inject(&sandbox, ALICE, SEND_STARS, FaultAction::DropBefore, 1);
    let lost = pay_stars(&alice.payments, "sticker-pack")
        .await
        .unwrap_err();
    assert!(lost.is_ambiguous(), "{lost:?}");

    let (bot, msg_id, _) = sandbox
        .world()
        .invoice_messages(ALICE)
        .into_iter()
        .find(|(_, _, s)| s == "sticker-gift")
        .unwrap();
    let access_hash = sandbox.world().access_hash(bot).unwrap();
    let gift = InvoiceRef::Message {
        peer: tgpay::tl::types::InputPeerUser {
            user_id: bot,
            access_hash,
        }
        .into(),
        msg_id,
    };
    inject(&sandbox, ALICE, SEND_STARS, FaultAction::DropAfter, 1);
    inject(
        &sandbox,
        ALICE,
        "messages.getMessages",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        1,
    );
    let form = stars_form(&alice.payments, &gift).await;
    let charged = alice
        .payments
        .checkout_stars(&form)
        .send()
        .await
        .unwrap_err();
    assert!(charged.is_ambiguous(), "{charged:?}");
    let ledger = sandbox.world().charges_of(ALICE, "sticker-gift");
    assert_eq!(ledger.len(), 1);

    let answer = alice
        .payments
        .reconcile(lost.payment().unwrap())
        .await
        .unwrap();
    assert!(
        matches!(
            answer,
            Reconciled::Unsettled {
                reason: UnsettledReason::MayStillBeProcessed,
                ..
            }
        ),
        "the link purchase took the invoice message's receipt: {answer:?}"
    );
    let Reconciled::Paid(paid) = alice
        .payments
        .reconcile(charged.payment().unwrap())
        .await
        .unwrap()
    else {
        panic!("the invoice message's payment must be paid");
    };
    assert_eq!(paid.receipt.receipt_msg_id, Some(ledger[0].receipt_msg_id));
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 0);
    sandbox.shutdown().await;
}

// ----- 3-D Secure waits keep the payment -----

#[tokio::test]
async fn a_verification_wait_survives_errors_and_other_payments_notifications() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let config = PaymentsConfig {
        poll_interval: Duration::from_millis(100),
        ..PaymentsConfig::default()
    };
    let alice = flow_config(&sandbox, ALICE, ConnectionParams::default(), config);
    // Another session of the same account.
    let other = flow(&sandbox, ALICE);
    let form = card_form(&alice.payments, &slug("ebook")).await;
    let Outcome::VerificationNeeded(v) = alice
        .payments
        .checkout(&form)
        .credentials(three_ds())
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    let waiter = {
        let payments = alice.payments.clone();
        let v = v.clone();
        tokio::spawn(async move {
            payments
                .wait_for_verification(&v, Duration::from_secs(20))
                .await
        })
    };
    // While it waits: the other session's order is refused at pre-checkout,
    let sold_out = card_form(&other.payments, &slug("sold-out")).await;
    let err = other
        .payments
        .checkout(&sold_out)
        .credentials(visa())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PrecheckoutRejected { .. }), "{err:?}");
    // and another verification of the account fails.
    let club = card_form(&other.payments, &slug("club")).await;
    let Outcome::VerificationNeeded(other_v) = other
        .payments
        .checkout(&club)
        .credentials(three_ds())
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    http("POST", &format!("{}/fail", other_v.url), true).await;
    // and reconcile's reads fail for a while.
    inject(
        &sandbox,
        ALICE,
        "updates.getState",
        FaultAction::Error(RpcFail::new(-503, "Timeout")),
        5,
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !waiter.is_finished(),
        "the wait ended on someone else's news"
    );

    // This payment's page is confirmed: the wait ends paid.
    let (status, _) = http("POST", &format!("{}/confirm", v.url), true).await;
    assert_eq!(status, 200);
    let paid = waiter.await.unwrap().unwrap();
    assert_eq!(paid.attempt, v.payment.id);
    assert_eq!(charges(&sandbox, ALICE, "ebook"), 1);
    assert_eq!(charges(&sandbox, ALICE, "club"), 0);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_verification_can_be_waited_on_again_and_an_endless_timeout_does_not_panic() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, &slug("ebook")).await;
    let Outcome::VerificationNeeded(v) = bob
        .payments
        .checkout(&form)
        .credentials(three_ds())
        .send()
        .await
        .unwrap()
    else {
        panic!("verification expected");
    };
    let err = bob
        .payments
        .wait_for_verification(&v, Duration::from_millis(200))
        .await
        .unwrap_err();
    let Error::Ambiguous(pending) = &err else {
        panic!("ambiguous expected, got {err:?}");
    };
    assert_eq!(pending.payment, v.payment);
    // The verification survives a round trip through JSON (a journal, another process).
    let kept: tgpay::Verification =
        serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(kept, v);
    let url = v.url.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        http("POST", &format!("{url}/confirm"), true).await
    });
    let paid = bob
        .payments
        .wait_for_verification(&kept, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(paid.total.to_string(), "$4.99");
    assert_eq!(charges(&sandbox, BOB, "ebook"), 1);
    sandbox.shutdown().await;
}

// ----- the journal -----

/// A journal that notes, for each entry, how many payment requests the sandbox had received.
struct Witness {
    inner: MemoryJournal,
    sends: Arc<dyn Fn() -> u64 + Send + Sync>,
    seen: Mutex<Vec<(String, u64)>>,
    fail: bool,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness").field("fail", &self.fail).finish()
    }
}

impl Journal for Witness {
    fn record(&self, entry: &Entry) -> std::io::Result<()> {
        if self.fail {
            return Err(std::io::Error::other("disk full"));
        }
        let kind = match entry {
            Entry::Intent { .. } => "intent",
            Entry::Update { .. } => "update",
            Entry::Resolved { .. } => "resolved",
        };
        self.seen
            .lock()
            .unwrap()
            .push((kind.into(), (self.sends)()));
        self.inner.record(entry)
    }

    fn entries(&self) -> std::io::Result<Vec<Entry>> {
        self.inner.entries()
    }
}

fn witness(sandbox: &Arc<Sandbox>, fail: bool) -> Arc<Witness> {
    let sb = Arc::clone(sandbox);
    Arc::new(Witness {
        inner: MemoryJournal::new(),
        sends: Arc::new(move || sb.world().call_count(BOB, SEND_CARD)),
        seen: Mutex::new(Vec::new()),
        fail,
    })
}

#[tokio::test]
async fn the_intent_is_recorded_before_the_request_leaves_and_the_outcome_after() {
    let sandbox = Arc::new(Sandbox::start(Scenario::default_world()).await.unwrap());
    let bob = flow(&sandbox, BOB);
    let journal = witness(&sandbox, false);
    let payments = bob.payments.clone().with_journal(journal.clone());
    let outcome = pay_card(&payments, "ebook").await.unwrap();
    let paid = outcome.paid().unwrap().clone();
    let seen = journal.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![("intent".to_owned(), 0), ("resolved".to_owned(), 1)]
    );
    let entries = journal.entries().unwrap();
    let Entry::Resolved {
        resolution: Resolution::Paid(recorded),
        ..
    } = &entries[1]
    else {
        panic!("{entries:?}");
    };
    assert_eq!(recorded, &paid);
    assert!(tgpay::journal::unresolved(&entries).is_empty());
}

#[tokio::test]
async fn a_journal_that_cannot_write_stops_the_payment_before_it_is_sent() {
    let sandbox = Arc::new(Sandbox::start(Scenario::default_world()).await.unwrap());
    let bob = flow(&sandbox, BOB);
    let payments = bob.payments.clone().with_journal(witness(&sandbox, true));
    let err = pay_card(&payments, "ebook").await.unwrap_err();
    assert!(matches!(err, Error::Journal { .. }), "{err:?}");
    assert!(err.is_not_charged());
    assert_eq!(calls(&sandbox, BOB, SEND_CARD), 0);
}

#[tokio::test]
async fn an_unresolved_journal_entry_blocks_paying_again_until_reconciled() {
    let dir = std::env::temp_dir().join(format!("tgpay-journal-{}", std::process::id()));
    let path = dir.join("blocks.jsonl");
    let _ = std::fs::remove_dir_all(&dir);
    let sandbox = with_faults(vec![error(SEND_STARS, ALICE, 400, "BALANCE_TOO_LOW")]).await;
    let alice = flow(&sandbox, ALICE);
    alice.payments.server_time().await.unwrap();
    // A refused attempt gives a real record of what a Stars purchase looks like…
    let err = pay_stars(&alice.payments, "sticker-pack")
        .await
        .unwrap_err();
    let mut other = err.payment().expect("the attempt").clone();
    // …which becomes another process's attempt, interrupted right after its intent.
    other.id = tgpay::attempt::AttemptId::random();
    other.stage = Stage::Sending;
    let journal = Arc::new(JsonlJournal::open(&path).unwrap());
    journal
        .record(&Entry::Intent {
            payment: other.clone(),
        })
        .unwrap();

    let payments = alice.payments.clone().with_journal(journal.clone());
    let err = pay_stars(&payments, "sticker-pack").await.unwrap_err();
    assert!(
        matches!(&err, Error::Unresolved { payment } if payment.id == other.id),
        "{err:?}"
    );
    assert!(err.is_not_charged());
    assert_eq!(calls(&sandbox, ALICE, SEND_STARS), 1);

    // Reconciling the journal: nothing of it was charged, but until its form expired it could
    // still have gone through.
    let results = payments.reconcile_journal().await.unwrap();
    assert_eq!(results.len(), 1);
    assert!(
        matches!(results[0].1, Ok(Reconciled::Unsettled { .. })),
        "{results:?}"
    );
    sandbox.world().advance_clock(Duration::from_secs(700));
    let results = payments.reconcile_journal().await.unwrap();
    assert!(
        matches!(
            results[0].1,
            Ok(Reconciled::NotPaid {
                evidence: Evidence::Expired { .. }
            })
        ),
        "{results:?}"
    );
    assert!(tgpay::journal::unresolved(&journal.entries().unwrap()).is_empty());
    // Resolved, the invoice can be paid again: intent, then outcome, in the file.
    let outcome = pay_stars(&payments, "sticker-pack").await.unwrap();
    assert!(outcome.paid().is_some());
    assert_eq!(charges(&sandbox, ALICE, "sticker-pack"), 1);
    let entries = journal.entries().unwrap();
    assert!(matches!(
        entries.last(),
        Some(Entry::Resolved {
            resolution: Resolution::Paid(_),
            ..
        })
    ));
    let _ = std::fs::remove_dir_all(&dir);
    sandbox.shutdown().await;
}

#[test]
fn the_jsonl_journal_is_private_and_skips_a_torn_line() {
    let dir = std::env::temp_dir().join(format!("tgpay-journal-torn-{}", std::process::id()));
    let path = dir.join("sub").join("journal.jsonl");
    let _ = std::fs::remove_dir_all(&dir);
    let journal = JsonlJournal::open(&path).unwrap();
    let resolved = Entry::Resolved {
        id: tgpay::attempt::AttemptId::random(),
        resolution: Resolution::NotPaid {
            evidence: Evidence::Rejected {
                error: "FLOOD_WAIT_3".into(),
            },
        },
    };
    journal.record(&resolved).unwrap();
    // A crash in the middle of a write leaves a torn line.
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(b"{\"entry\":\"intent\",\"paym").unwrap();
    drop(file);
    let reopened = JsonlJournal::open(&path).unwrap();
    assert_eq!(reopened.entries().unwrap(), vec![resolved]);
    assert_eq!(reopened.skipped_lines(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
