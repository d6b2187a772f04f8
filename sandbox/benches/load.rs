//! The sandbox under load, as a shared server sees it:
//!
//! - `load/purchases_64_clients_10k_idle`: 10 000 idle MTProto connections are held open (each
//!   made its first exchange, then stays silent) while 64 grammers clients run Stars purchases
//!   (`payments.getPaymentForm` + `payments.sendStarsForm`). Criterion reports purchases per
//!   second; the run also prints the latency of one purchase (p50, p99) and the server's
//!   resident memory per idle connection.
//! - `soak`: only when `TGPAY_SOAK_SECS` is set (e.g. 600), 64 clients make requests for that
//!   long and drop their connection at random to make a new one; resident memory is sampled
//!   every 10 s and printed, with its trend. Any failed request fails the run.
//!
//! The idle connections live in a child process (this benchmark started with
//! `TGPAY_BENCH_HOLD`), so that the server's process holds only its own ends and both stay
//! under the file descriptor limit.
//!
//! `cargo bench -p tgpay-sandbox --bench load`; `TGPAY_SOAK_SECS=600 cargo bench -p tgpay-sandbox
//! --bench load -- soak`. `TGPAY_IDLE_CONNECTIONS` changes the 10 000.

#[path = "../tests/support/raw.rs"]
mod raw;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use tgpay::tl;
use tgpay_sandbox::scenario::UserSpec;
use tgpay_sandbox::{
    Sandbox, SandboxClient, SandboxLimits, SandboxOptions, Scenario, ServerConfig,
};

const CLIENTS: usize = 64;
const FIRST_USER: i64 = 3_000_000;

fn idle_connections() -> usize {
    std::env::var("TGPAY_IDLE_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 256]> {
    let mut out = [0u8; 256];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The child process: opens `count` connections to `addr` with the given keys, makes each
/// one's first exchange, says `ready`, and holds them until its standard input closes.
fn hold(spec: &str) {
    let mut parts = spec.split(' ');
    let addr: std::net::SocketAddr = match parts.next().and_then(|a| a.parse().ok()) {
        Some(addr) => addr,
        None => return,
    };
    let count: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let keys: Vec<[u8; 256]> = parts.filter_map(unhex).collect();
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let held = runtime.block_on(async {
        let mut held = Vec::with_capacity(count);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..count {
            let key = keys[i % keys.len()];
            tasks.spawn(async move {
                for _ in 0..5 {
                    if let Ok(raw) = raw::Raw::ready(addr, &key).await {
                        return Some(raw);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                None
            });
            if tasks.len() >= 256 {
                if let Some(Ok(Some(raw))) = tasks.join_next().await {
                    held.push(raw);
                }
            }
        }
        while let Some(result) = tasks.join_next().await {
            if let Ok(Some(raw)) = result {
                held.push(raw);
            }
        }
        held
    });
    println!("ready {}", held.len());
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(held);
}

struct Load {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    clients: Vec<SandboxClient>,
}

fn scenario() -> Scenario {
    let mut scenario = Scenario::default_world();
    let template = scenario.users[1].clone();
    for i in 0..CLIENTS as i64 {
        scenario.users.push(UserSpec {
            id: FIRST_USER + i,
            first_name: format!("Load {i}"),
            username: None,
            stars: 1_000_000_000_000,
            ..template.clone()
        });
    }
    scenario
}

fn start(idle: usize) -> Load {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let limits = SandboxLimits::default().server(
        ServerConfig::default()
            .max_connections(idle + 4 * CLIENTS + 64)
            .max_connections_per_peer(idle + 4 * CLIENTS + 64),
    );
    let (sandbox, clients) = runtime.block_on(async {
        let sandbox = Sandbox::start_with_limits(scenario(), SandboxOptions::default(), limits)
            .await
            .expect("the sandbox starts");
        let mut clients = Vec::new();
        for i in 0..CLIENTS as i64 {
            let client = sandbox.client(FIRST_USER + i).expect("a client");
            status(&client.client).await.expect("a first answer");
            clients.push(client);
        }
        (sandbox, clients)
    });
    Load {
        runtime,
        sandbox,
        clients,
    }
}

async fn status(client: &grammers_client::Client) -> Result<(), String> {
    client
        .invoke(&tl::functions::payments::GetStarsStatus {
            ton: false,
            peer: tl::enums::InputPeer::PeerSelf,
        })
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

async fn purchase(client: &grammers_client::Client) -> Result<(), String> {
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
        .map_err(|e| e.to_string())?;
    let tl::enums::payments::PaymentForm::Stars(form) = form else {
        return Err("not a Stars form".into());
    };
    client
        .invoke(&tl::functions::payments::SendStarsForm {
            form_id: form.form_id,
            invoice,
        })
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Opens the idle connections in a child process; returns it once they are all open.
fn hold_idle(load: &Load, count: usize) -> Child {
    let keys: Vec<String> = load
        .sandbox
        .users()
        .iter()
        .map(|u| hex(u.auth_key.expose_secret()))
        .collect();
    let spec = format!("{} {count} {}", load.sandbox.addr(), keys.join(" "));
    let exe = std::env::current_exe().expect("the benchmark's path");
    let mut child = Command::new(exe)
        .env("TGPAY_BENCH_HOLD", spec)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the holder starts");
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let opened: usize = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert_eq!(opened, count, "every idle connection opened");
    child
}

/// Runs `iters` purchases spread over the clients; returns the wall time and each latency.
fn purchases(load: &Load, iters: u64) -> (Duration, Vec<Duration>) {
    let per_client = iters.div_ceil(CLIENTS as u64);
    load.runtime.block_on(async {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, client) in load.clients.iter().enumerate() {
            let n = per_client.min(iters.saturating_sub(per_client * i as u64));
            let client = client.client.clone();
            tasks.spawn(async move {
                let mut latencies = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let at = Instant::now();
                    purchase(&client).await.expect("the purchase goes through");
                    latencies.push(at.elapsed());
                }
                latencies
            });
        }
        let mut all = Vec::new();
        while let Some(done) = tasks.join_next().await {
            all.extend(done.expect("a client task"));
        }
        (start.elapsed(), all)
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn load_with_idle_connections(c: &mut Criterion) {
    let idle = idle_connections();
    let load = start(idle);
    // Warm up the allocator and the world before measuring memory.
    purchases(&load, 2_000);
    let before = rss();
    let open_before = load.sandbox.stats().connections_open;
    let mut holder = hold_idle(&load, idle);
    std::thread::sleep(Duration::from_secs(1));
    let after = rss();
    let open = load.sandbox.stats().connections_open - open_before;
    let per_connection = after.saturating_sub(before) / open.max(1);
    println!(
        "idle connections: {open} open; server RSS {} MiB -> {} MiB: {:.1} KiB per idle connection",
        before >> 20,
        after >> 20,
        per_connection as f64 / 1024.0
    );

    let mut latencies = Vec::new();
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(10));
    group.sample_size(20);
    group.bench_function("purchases_64_clients_10k_idle", |b| {
        b.iter_custom(|iters| {
            let (took, mut each) = purchases(&load, iters);
            latencies.append(&mut each);
            took
        })
    });
    group.finish();
    latencies.sort();
    println!(
        "purchase latency over {} purchases with {open} idle connections: p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    let stats = load.sandbox.stats();
    println!(
        "server: {} connections accepted, {} refused, {} closed idle, {} charges",
        stats.connections_accepted,
        stats.refused_connections,
        stats.idle_closed,
        load.sandbox.world().charges().len()
    );
    drop(holder.stdin.take());
    let _ = holder.wait();
    let Load {
        runtime,
        sandbox,
        clients,
    } = load;
    drop(clients);
    runtime.block_on(sandbox.shutdown());
}

/// Requests a soak client makes, none of which leaves state behind by design.
async fn soak_request(client: &grammers_client::Client, which: u32) -> Result<(), String> {
    use tl::functions::{account, payments, updates, users};
    let result = match which % 5 {
        0 => return status(client).await,
        1 => client
            .invoke(&payments::GetStarsTopupOptions {})
            .await
            .map(drop),
        2 => client.invoke(&updates::GetState {}).await.map(drop),
        3 => client
            .invoke(&users::GetUsers {
                id: vec![tl::enums::InputUser::UserSelf],
            })
            .await
            .map(drop),
        _ => client.invoke(&account::GetPassword {}).await.map(drop),
    };
    result.map_err(|e| e.to_string())
}

fn soak(c: &mut Criterion) {
    let Some(seconds) = std::env::var("TGPAY_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
    else {
        return;
    };
    let _ = c;
    let load = start(0);
    let sandbox = &load.sandbox;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let addr = sandbox.addr();
    let users: Vec<_> = (0..CLIENTS as i64)
        .map(|i| {
            sandbox
                .user(FIRST_USER + i)
                .expect("a user")
                .auth_key
                .clone()
        })
        .collect();
    let (requests, reconnects, errors, samples) = load.runtime.block_on(async {
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let reconnects = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, key) in users.into_iter().enumerate() {
            let requests = std::sync::Arc::clone(&requests);
            let reconnects = std::sync::Arc::clone(&reconnects);
            tasks.spawn(async move {
                let connect = || {
                    let session =
                        std::sync::Arc::new(grammers_session::storages::MemorySession::from(
                            tgpay_sandbox::handle::preshared_session(2, addr, &key)
                                .expect("a session"),
                        ));
                    SandboxClient::connect(session, Default::default())
                };
                let mut client = connect();
                let mut errors = Vec::new();
                let mut n = i as u32;
                while Instant::now() < deadline {
                    n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    if n % 64 == 0 {
                        // A random disconnect: the client goes away, a new one comes.
                        client = connect();
                        reconnects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if let Err(e) = soak_request(&client.client, n >> 8).await {
                        errors.push(e);
                    }
                    requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                drop(client);
                errors
            });
        }
        let mut samples = vec![(0u64, rss())];
        let start = Instant::now();
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(10).min(deadline - Instant::now())).await;
            samples.push((start.elapsed().as_secs(), rss()));
        }
        let mut errors = Vec::new();
        while let Some(done) = tasks.join_next().await {
            errors.extend(done.unwrap_or_default());
        }
        (
            requests.load(std::sync::atomic::Ordering::Relaxed),
            reconnects.load(std::sync::atomic::Ordering::Relaxed),
            errors,
            samples,
        )
    });
    println!("soak: {seconds} s, {requests} requests, {reconnects} reconnects");
    for (at, bytes) in &samples {
        println!(
            "soak: t={at:>4} s  RSS {:.1} MiB",
            *bytes as f64 / (1 << 20) as f64
        );
    }
    // Least-squares slope after the first minute (allocator warm-up), and the spread.
    let steady: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(at, _)| *at >= 60)
        .map(|(at, bytes)| (*at as f64, *bytes as f64 / (1 << 20) as f64))
        .collect();
    if steady.len() >= 2 {
        let n = steady.len() as f64;
        let mean_t = steady.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_m = steady.iter().map(|p| p.1).sum::<f64>() / n;
        let var: f64 = steady.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
        let cov: f64 = steady.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_m)).sum();
        let (low, high) = steady
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.1), h.max(p.1)));
        println!(
            "soak: after the first minute RSS {low:.1}..{high:.1} MiB (mean {mean_m:.1}), trend \
             {:+.3} MiB/min",
            cov / var * 60.0
        );
    }
    let stats = load.sandbox.stats();
    println!(
        "soak: server accepted {} connections, {} open at the end",
        stats.connections_accepted, stats.connections_open
    );
    assert!(
        errors.is_empty(),
        "{} requests failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    let Load {
        runtime,
        sandbox,
        clients,
    } = load;
    drop(clients);
    runtime.block_on(sandbox.shutdown());
}

fn main() {
    if let Ok(spec) = std::env::var("TGPAY_BENCH_HOLD") {
        hold(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    if std::env::var_os("TGPAY_SOAK_SECS").is_some() {
        soak(&mut c);
    } else {
        load_with_idle_connections(&mut c);
    }
    c.final_summary();
}
