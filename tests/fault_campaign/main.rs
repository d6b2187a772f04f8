//! The fault campaign: randomized purchases against the embedded sandbox, with random faults on
//! every method they call, each answer checked against the sandbox's ledger.
//!
//! ```text
//! scripts/fault-campaign RUNS SEED [FIRST]
//! ```
//!
//! runs `RUNS` purchases (runs `FIRST`, `FIRST + 1`, …; 0 by default) planned from `SEED` (see
//! `plan.rs`): card by token, saved card with 2FA, 3-D Secure confirmed / failed / abandoned,
//! Stars, several identical purchases at once on one account, and several purchases at once of
//! look-alike invoices (invoice messages and a link of the same price from the same bot) —
//! through grammers' default retry policy, with faults from the sandbox's scripting (errors
//! before or after processing, lost replies and requests, late replies, Telegram's internal
//! errors, real flood waits) on the money-moving methods and on everything the flow and
//! reconcile read. Every answer is followed to a final word (ambiguous ones are reconciled until
//! they settle) and checked against the ledger (`check.rs`).
//!
//! Each run that disagrees with the ledger is a mismatch, printed with its seed and run number
//! (`scripts/fault-campaign 1 SEED RUN` plans that run again, on a fresh sandbox), what tgpay
//! answered and what the ledger holds. The last line is exactly
//! `N runs, M mismatches, D double charges`, and the exit status is non-zero unless both counts
//! are 0.
//!
//! Workers run concurrently (`FAULT_CAMPAIGN_WORKERS`, 16 by default), each with its own sandbox
//! and three sessions of one account sharing a payment journal; a worker runs its plans one after
//! another, so a run sees only its own faults and charges. Under `cargo test` (no arguments) it
//! runs a small campaign (`FAULT_CAMPAIGN_RUNS`, 64 by default) with a fresh seed
//! (`FAULT_CAMPAIGN_SEED`), printed first.

mod check;
mod plan;
mod run;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// Runs of the `cargo test` campaign.
const CI_RUNS: u64 = 64;
/// A run that takes longer than this hung.
const RUN_LIMIT: Duration = Duration::from_secs(180);

struct Settings {
    runs: u64,
    seed: u64,
    first: u64,
    workers: usize,
}

enum Command {
    Run(Settings),
    /// `--list` (test runners asking what is here).
    List,
    /// A test filter that does not name this campaign, or `--ignored`: nothing to run.
    Skip,
}

fn env_number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a number, got {text:?}")),
        Err(_) => Ok(None),
    }
}

fn parse(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut numbers = Vec::new();
    let mut filters = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--list" => return Ok(Command::List),
            "--ignored" => return Ok(Command::Skip),
            flag if flag.starts_with('-') => {}
            text => match text.parse::<u64>() {
                Ok(n) => numbers.push(n),
                Err(_) => filters.push(arg),
            },
        }
    }
    if !filters.is_empty()
        && !filters
            .iter()
            .any(|f| "fault_campaign".contains(f.as_str()))
    {
        return Ok(Command::Skip);
    }
    if numbers.len() > 3 {
        return Err("usage: fault-campaign RUNS SEED [FIRST]".to_owned());
    }
    let runs = match numbers.first() {
        Some(n) => *n,
        None => env_number("FAULT_CAMPAIGN_RUNS")?.unwrap_or(CI_RUNS),
    };
    let seed = match numbers.get(1) {
        Some(n) => *n,
        None => match env_number("FAULT_CAMPAIGN_SEED")? {
            Some(seed) => seed,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs() % 1_000_000),
        },
    };
    let first = numbers.get(2).copied().unwrap_or(0);
    let workers = env_number("FAULT_CAMPAIGN_WORKERS")?
        .unwrap_or(16)
        .clamp(1, 256) as usize;
    Ok(Command::Run(Settings {
        runs,
        seed,
        first,
        workers,
    }))
}

/// What came of one run.
struct Outcome {
    run: u64,
    plan: String,
    tally: Tally,
    mismatches: Vec<String>,
    double_charges: usize,
    trails: Vec<Vec<String>>,
}

/// How the answers of runs ended, and how many faults were scripted.
#[derive(Default, Clone, Copy)]
struct Tally {
    paid: u64,
    paid_after_reconcile: u64,
    not_charged: u64,
    not_charged_after_reconcile: u64,
    unsettled: u64,
    faults: u64,
}

impl Tally {
    fn of(plan: &plan::Plan, report: &run::Report) -> Self {
        let mut tally = Tally {
            faults: plan.faults.len() as u64,
            ..Tally::default()
        };
        for action in &report.actions {
            let (count, after) = match action.answer {
                run::Answer::Paid(_) => (&mut tally.paid, &mut tally.paid_after_reconcile),
                run::Answer::NotCharged(_) => (
                    &mut tally.not_charged,
                    &mut tally.not_charged_after_reconcile,
                ),
                run::Answer::Unsettled(_) => {
                    tally.unsettled += 1;
                    continue;
                }
            };
            *count += 1;
            if action.reconciled {
                *after += 1;
            }
        }
        tally
    }

    fn add(&mut self, other: Tally) {
        self.paid += other.paid;
        self.paid_after_reconcile += other.paid_after_reconcile;
        self.not_charged += other.not_charged;
        self.not_charged_after_reconcile += other.not_charged_after_reconcile;
        self.unsettled += other.unsettled;
        self.faults += other.faults;
    }
}

#[derive(Default)]
struct Totals {
    tally: Tally,
    runs: u64,
    mismatches: u64,
    double_charges: u64,
    trouble: Vec<String>,
}

async fn campaign(settings: &Settings) -> Totals {
    let end = settings.first.saturating_add(settings.runs);
    let next = Arc::new(AtomicU64::new(settings.first));
    let workers = settings.workers.min(settings.runs.max(1) as usize);
    // About one run in six buys an invoice message of each kind; workers take runs unevenly.
    let messages = (settings.runs as usize / workers / 3 + 24).min(2_000);
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<Outcome, String>>();
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (next, tx, seed) = (Arc::clone(&next), tx.clone(), settings.seed);
        handles.push(tokio::spawn(async move {
            let worker = match run::Worker::start(messages).await {
                Ok(worker) => worker,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    break;
                }
                let plan = plan::plan(seed, n);
                let outcome = match tokio::time::timeout(RUN_LIMIT, worker.run(&plan)).await {
                    Ok(report) => {
                        let verdict = check::check(&report);
                        Outcome {
                            run: n,
                            plan: plan.to_string(),
                            tally: Tally::of(&plan, &report),
                            mismatches: verdict.mismatches,
                            double_charges: verdict.double_charges,
                            trails: report.actions.into_iter().map(|a| a.trail).collect(),
                        }
                    }
                    Err(_) => Outcome {
                        run: n,
                        plan: plan.to_string(),
                        tally: Tally::default(),
                        mismatches: vec![format!("the run hung for {RUN_LIMIT:?}")],
                        double_charges: 0,
                        trails: Vec::new(),
                    },
                };
                if tx.send(Ok(outcome)).is_err() {
                    break;
                }
            }
            worker.shutdown().await;
        }));
    }
    drop(tx);

    let mut totals = Totals::default();
    let progress_every = (settings.runs / 10).max(1);
    while let Some(outcome) = rx.recv().await {
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => {
                totals.trouble.push(e);
                continue;
            }
        };
        totals.runs += 1;
        totals.tally.add(outcome.tally);
        if settings.runs >= 500 && totals.runs % progress_every == 0 {
            eprintln!("{} of {} runs", totals.runs, settings.runs);
        }
        if outcome.mismatches.is_empty() {
            continue;
        }
        totals.mismatches += 1;
        totals.double_charges += outcome.double_charges as u64;
        println!(
            "mismatch: seed {} run {} ({}); again: scripts/fault-campaign 1 {} {}",
            settings.seed, outcome.run, outcome.plan, settings.seed, outcome.run
        );
        for mismatch in &outcome.mismatches {
            println!("  {mismatch}");
        }
        for (i, trail) in outcome.trails.iter().enumerate() {
            println!("  purchase {i}: {}", trail.join(" → "));
        }
    }
    for handle in handles {
        if let Err(e) = handle.await {
            totals.trouble.push(format!("a worker failed: {e}"));
        }
    }
    totals
}

fn main() -> ExitCode {
    let settings = match parse(std::env::args().skip(1)) {
        Ok(Command::Run(settings)) => settings,
        Ok(Command::List) => {
            println!("fault_campaign: test");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Skip) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "fault campaign: {} runs from run {} of seed {}, {} workers",
        settings.runs, settings.first, settings.seed, settings.workers
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("no Tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let totals = runtime.block_on(campaign(&settings));
    runtime.shutdown_timeout(Duration::from_secs(1));
    for trouble in &totals.trouble {
        println!("trouble: {trouble}");
    }
    let t = totals.tally;
    println!(
        "answers: {} paid ({} after reconcile), {} not charged ({} after reconcile), {} \
         unsettled; {} faults scripted",
        t.paid,
        t.paid_after_reconcile,
        t.not_charged,
        t.not_charged_after_reconcile,
        t.unsettled,
        t.faults
    );
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "{} runs, {} mismatches, {} double charges",
        totals.runs, totals.mismatches, totals.double_charges
    );
    let complete = totals.runs == settings.runs && totals.trouble.is_empty();
    if complete && totals.mismatches == 0 && totals.double_charges == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
