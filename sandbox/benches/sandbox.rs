//! Sandbox throughput with 64 grammers clients connected over loopback TCP at once:
//! - `rpc_64_clients`: `payments.getStarsStatus` calls per second across all clients;
//! - `stars_purchase_64_clients`: Stars purchases per second (`payments.getPaymentForm` +
//!   `payments.sendStarsForm`, each a charge in the world's ledger).
//!
//! Run with `cargo bench -p tgpay-sandbox --bench sandbox`. Criterion reports elements/s:
//! one element is one RPC, or one purchase.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tgpay::tl;
use tgpay_sandbox::scenario::UserSpec;
use tgpay_sandbox::{Sandbox, SandboxClient, Scenario};

const CLIENTS: usize = 64;

struct Bench {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    clients: Vec<SandboxClient>,
}

fn setup() -> Bench {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut scenario = Scenario::default_world();
    let template = scenario.users[1].clone();
    for i in 0..CLIENTS as i64 {
        scenario.users.push(UserSpec {
            id: 3_000_000 + i,
            first_name: format!("Bench {i}"),
            username: None,
            stars: 1_000_000_000_000,
            ..template.clone()
        });
    }
    let (sandbox, clients) = runtime.block_on(async {
        let sandbox = Sandbox::start(scenario).await.expect("the sandbox starts");
        let mut clients = Vec::new();
        for i in 0..CLIENTS as i64 {
            let client = sandbox.client(3_000_000 + i).expect("a client");
            status(&client.client).await;
            clients.push(client);
        }
        (sandbox, clients)
    });
    Bench {
        runtime,
        sandbox,
        clients,
    }
}

async fn status(client: &grammers_client::Client) {
    client
        .invoke(&tl::functions::payments::GetStarsStatus {
            ton: false,
            peer: tl::enums::InputPeer::PeerSelf,
        })
        .await
        .expect("getStarsStatus answers");
}

async fn purchase(client: &grammers_client::Client) {
    let invoice: tl::enums::InputInvoice = tl::types::InputInvoiceSlug {
        slug: "sticker-pack".into(),
    }
    .into();
    let form = client
        .invoke(&tl::functions::payments::GetPaymentForm {
            invoice: invoice.clone(),
            theme_params: None,
        })
        .await
        .expect("a form");
    let tl::enums::payments::PaymentForm::Stars(form) = form else {
        panic!("a Stars form");
    };
    client
        .invoke(&tl::functions::payments::SendStarsForm {
            form_id: form.form_id,
            invoice,
        })
        .await
        .expect("the purchase goes through");
}

/// Runs `iters` operations spread over all clients at once; returns the wall time.
fn spread<F, Fut>(bench: &Bench, iters: u64, op: F) -> Duration
where
    F: Fn(grammers_client::Client) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let per_client = iters.div_ceil(CLIENTS as u64);
    bench.runtime.block_on(async {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, client) in bench.clients.iter().enumerate() {
            let n = per_client.min(iters.saturating_sub(per_client * i as u64));
            let client = client.client.clone();
            tasks.spawn(async move {
                for _ in 0..n {
                    op(client.clone()).await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        start.elapsed()
    })
}

fn sandbox_throughput(c: &mut Criterion) {
    let bench = setup();
    let mut group = c.benchmark_group("sandbox");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("rpc_64_clients", |b| {
        b.iter_custom(|iters| spread(&bench, iters, |client| async move { status(&client).await }))
    });
    group.bench_function("stars_purchase_64_clients", |b| {
        b.iter_custom(|iters| {
            spread(
                &bench,
                iters,
                |client| async move { purchase(&client).await },
            )
        })
    });
    group.finish();
    let charges = bench.sandbox.world().charges().len();
    println!("charges recorded during the run: {charges}");
    let Bench {
        runtime,
        sandbox,
        clients,
    } = bench;
    drop(clients);
    runtime.block_on(sandbox.shutdown());
}

criterion_group!(benches, sandbox_throughput);
criterion_main!(benches);
