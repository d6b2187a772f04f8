//! The cost of tgpay over the RPCs it makes, side by side against the sandbox over TCP:
//! - the card flow (`payments.getPaymentForm` → `payments.validateRequestedInfo` →
//!   `payments.sendPaymentForm`, with saved order info, a shipping option and a Stripe token)
//!   through [`Payments`] and as three hand-written `invoke`s of the same requests;
//! - the Stars flow (`payments.getPaymentForm` → `payments.sendStarsForm`) both ways.
//!
//! The hand-written sequence does only what the requests need: no sanitizing, no spend guard,
//! no record of the attempt, no nesting check. Run with `cargo bench --bench flow`. Target:
//! tgpay ≤ 1.05 × the hand-written sequence (README records the figures). Criterion times each
//! variant; after it, the bench prints the ratio measured in pairs (both variants back to back,
//! in random order), which drift in the machine's load between criterion's windows does not
//! move.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use grammers_tl_types as tl;
use tgpay::credentials::StripeToken;
use tgpay::payments::SaveInfo;
use tgpay::{Credentials, InvoiceRef, OrderInfo, PaymentForm, Payments};
use tgpay_sandbox::scenario::ALICE;
use tgpay_sandbox::{Sandbox, SandboxClient, Scenario};
use tokio::runtime::Runtime;

const TOKEN: &str = "tok_sandbox_visa";

/// A runtime with one worker thread.
fn runtime() -> Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => panic!("runtime: {err}"),
    }
}

/// A sandbox serving on `server` (as Telegram would, away from the client's threads), with
/// Alice logged in on `client`, her pushed updates drained (nobody reads them in either
/// variant), and Stars enough for every iteration.
fn setup(server: &Runtime, client: &Runtime) -> (Sandbox, SandboxClient) {
    let sandbox = match server.block_on(Sandbox::start(Scenario::default_world())) {
        Ok(sandbox) => sandbox,
        Err(err) => panic!("sandbox: {err}"),
    };
    client.block_on(async {
        let mut alice = match sandbox.client(ALICE) {
            Ok(alice) => alice,
            Err(err) => panic!("client: {err}"),
        };
        if let Some(mut updates) = alice.updates.take() {
            tokio::spawn(async move { while updates.recv().await.is_some() {} });
        }
        sandbox.with_world(|w| w.top_up_stars(ALICE, 1_000_000_000));
        (sandbox, alice)
    })
}

async fn tgpay_card(payments: &Payments, invoice: &InvoiceRef) {
    let Ok(PaymentForm::Card(form)) = payments.get_payment_form(invoice).await else {
        panic!("the hoodie's card form");
    };
    let filled = OrderInfo::autofill(
        &form.invoice.requested,
        form.saved_info.as_ref(),
        &OrderInfo::default(),
    );
    let order = match payments
        .validate_requested_info(&form, &filled.info, SaveInfo::DontSave)
        .await
    {
        Ok(order) => order,
        Err(err) => panic!("validate: {err}"),
    };
    let outcome = payments
        .checkout(&form)
        .order(&order)
        .shipping_option(&order.shipping_options[0])
        .credentials(Credentials::Stripe(StripeToken::new(TOKEN, "Visa *4242")))
        .send()
        .await;
    assert!(matches!(outcome, Ok(o) if o.paid().is_some()));
}

async fn raw_card(client: &grammers_client::Client) {
    use tl::enums::payments as answers;
    let invoice = tl::enums::InputInvoice::Slug(tl::types::InputInvoiceSlug {
        slug: "hoodie".to_owned(),
    });
    let form = client
        .invoke(&tl::functions::payments::GetPaymentForm {
            invoice: invoice.clone(),
            theme_params: None,
        })
        .await;
    let Ok(answers::PaymentForm::Form(form)) = form else {
        panic!("the hoodie's card form");
    };
    let Some(info) = form.saved_info else {
        panic!("Alice's saved order info");
    };
    let validated = client
        .invoke(&tl::functions::payments::ValidateRequestedInfo {
            save: false,
            invoice: invoice.clone(),
            info,
        })
        .await;
    let Ok(answers::ValidatedRequestedInfo::Info(validated)) = validated else {
        panic!("validate");
    };
    let Some(tl::enums::ShippingOption::Option(shipping)) = validated
        .shipping_options
        .as_ref()
        .and_then(|options| options.first())
    else {
        panic!("a shipping option");
    };
    let sent = client
        .invoke(&tl::functions::payments::SendPaymentForm {
            form_id: form.form_id,
            invoice,
            requested_info_id: validated.id.clone(),
            shipping_option_id: Some(shipping.id.clone()),
            credentials: tl::enums::InputPaymentCredentials::Credentials(
                tl::types::InputPaymentCredentials {
                    save: false,
                    data: tl::enums::DataJson::Json(tl::types::DataJson {
                        data: format!(r#"{{"type":"card","id":"{TOKEN}"}}"#),
                    }),
                },
            ),
            tip_amount: None,
        })
        .await;
    assert!(matches!(sent, Ok(answers::PaymentResult::Result(_))));
}

async fn tgpay_stars(payments: &Payments, invoice: &InvoiceRef) {
    let Ok(PaymentForm::Stars(form)) = payments.get_payment_form(invoice).await else {
        panic!("the sticker pack's Stars form");
    };
    let outcome = payments.checkout_stars(&form).send().await;
    assert!(matches!(outcome, Ok(o) if o.paid().is_some()));
}

async fn raw_stars(client: &grammers_client::Client) {
    use tl::enums::payments as answers;
    let invoice = tl::enums::InputInvoice::Slug(tl::types::InputInvoiceSlug {
        slug: "sticker-pack".to_owned(),
    });
    let form = client
        .invoke(&tl::functions::payments::GetPaymentForm {
            invoice: invoice.clone(),
            theme_params: None,
        })
        .await;
    let Ok(answers::PaymentForm::Stars(form)) = form else {
        panic!("the sticker pack's Stars form");
    };
    let sent = client
        .invoke(&tl::functions::payments::SendStarsForm {
            form_id: form.form_id,
            invoice,
        })
        .await;
    assert!(matches!(sent, Ok(answers::PaymentResult::Result(_))));
}

/// How many pairs the paired ratio runs.
const PAIRS: usize = 6000;

/// `a`'s time over `b`'s, over `pairs` pairs run back to back in random order: the ratio of
/// the means and the ratio of the medians (which a rare stall of the machine or the sandbox
/// does not move).
fn paired_ratio(pairs: usize, a: &dyn Fn(), b: &dyn Fn()) -> (f64, f64) {
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let (mut ta, mut tb) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for _ in 0..pairs {
        if rand::random::<bool>() {
            ta.push(time(a));
            tb.push(time(b));
        } else {
            tb.push(time(b));
            ta.push(time(a));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let means = mean(&ta) / mean(&tb);
    (means, median(&mut ta) / median(&mut tb))
}

fn flows(c: &mut Criterion) {
    // The sandbox stands in for Telegram: it serves from a runtime of its own, and the client
    // (grammers' sender and the flow) runs on another, as they would in two processes.
    let server = runtime();
    let rt = runtime();
    let hoodie = InvoiceRef::Slug("hoodie".to_owned());
    let sticker = InvoiceRef::Slug("sticker-pack".to_owned());
    let (sandbox, alice) = setup(&server, &rt);
    let payments = alice.payments();

    // Both variants run against one sandbox, interleaved: every timed run of one variant goes
    // with an untimed run of the other, before or after it at random, so both see the same
    // server state (its ledger and chats grow with every purchase, and a growing table's
    // occasional resize lands on either at random) and the same machine load.
    let interleaved = |iters: u64, other: &dyn Fn(), timed: &dyn Fn()| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let other_first = rand::random::<bool>();
            if other_first {
                other();
            }
            let start = Instant::now();
            timed();
            total += start.elapsed();
            if !other_first {
                other();
            }
        }
        total
    };
    let card_tgpay = || rt.block_on(tgpay_card(black_box(&payments), &hoodie));
    let card_raw = || rt.block_on(raw_card(black_box(&alice.client)));
    let stars_tgpay = || rt.block_on(tgpay_stars(black_box(&payments), &sticker));
    let stars_raw = || rt.block_on(raw_stars(black_box(&alice.client)));

    let mut group = c.benchmark_group("card flow");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("tgpay", |b| {
        b.iter_custom(|iters| interleaved(iters, &card_raw, &card_tgpay))
    });
    group.bench_function("raw invokes", |b| {
        b.iter_custom(|iters| interleaved(iters, &card_tgpay, &card_raw))
    });
    group.finish();

    let mut group = c.benchmark_group("Stars flow");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("tgpay", |b| {
        b.iter_custom(|iters| interleaved(iters, &stars_raw, &stars_tgpay))
    });
    group.bench_function("raw invokes", |b| {
        b.iter_custom(|iters| interleaved(iters, &stars_tgpay, &stars_raw))
    });
    group.finish();

    // Criterion times each variant in its own ten seconds, and on a shared machine those
    // windows differ in load. The ratio is measured in pairs as well: each pair runs both
    // variants back to back, in random order, so both see the same moments.
    if std::env::args().any(|arg| arg == "--bench") {
        for (name, tgpay, raw) in [
            (
                "card flow",
                &card_tgpay as &dyn Fn(),
                &card_raw as &dyn Fn(),
            ),
            ("Stars flow", &stars_tgpay, &stars_raw),
        ] {
            let (means, medians) = paired_ratio(PAIRS, tgpay, raw);
            println!(
                "{name}: tgpay / raw invokes = {means:.3} (means), {medians:.3} (medians), over {PAIRS} pairs"
            );
        }
    }
    drop(payments);
    drop(alice);
    server.block_on(sandbox.shutdown());
}

criterion_group!(benches, flows);
criterion_main!(benches);
