//! Money safety from the command line: `tgpay pay` against a sandbox running in this process
//! (so the ledger can be read), with scripted faults; exit code 3 carries the pending payment;
//! the journal survives a killed `tgpay pay`; `tgpay reconcile` gives the true answer; secrets
//! never come from the command line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tgpay_sandbox::scenario::{BOB, FaultSpec};
use tgpay_sandbox::{Sandbox, Scenario};

/// A sandbox in this process, its connection file, and the journal beside it.
struct Running {
    sandbox: Sandbox,
    file: PathBuf,
}

impl Running {
    fn journal(&self) -> PathBuf {
        let mut name = self.file.clone().into_os_string();
        name.push(".journal.jsonl");
        PathBuf::from(name)
    }

    fn charges(&self, slug: &str) -> usize {
        self.sandbox.world().charges_of(BOB, slug).len()
    }

    fn sends(&self) -> u64 {
        self.sandbox
            .world()
            .call_count(BOB, "payments.sendPaymentForm")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        let _ = std::fs::remove_file(self.journal());
    }
}

fn fault(method: &str) -> FaultSpec {
    FaultSpec {
        method: method.into(),
        user: Some(BOB),
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

/// A sandbox with short form and verification lifetimes (so an unanswered payment settles in
/// seconds) and `faults`.
async fn start(tag: &str, faults: Vec<FaultSpec>) -> Running {
    let mut scenario = Scenario::default_world();
    scenario.faults = faults;
    scenario.form_lifetime_secs = 2;
    scenario.verification_lifetime_secs = 2;
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let file =
        std::env::temp_dir().join(format!("tgpay-cli-money-{}-{tag}.json", std::process::id()));
    std::fs::write(
        &file,
        serde_json::to_string(&sandbox.connection_info()).unwrap(),
    )
    .unwrap();
    Running { sandbox, file }
}

fn command(sb: &Running, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgpay"));
    cmd.args(args)
        .arg("--sandbox")
        .arg(&sb.file)
        .args(["--user", &BOB.to_string()])
        .stdin(Stdio::null())
        .env_remove("TGPAY_JOURNAL")
        .env_remove("TGPAY_STRIPE_TOKEN")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `tgpay` to completion on a blocking thread (the sandbox keeps serving meanwhile).
async fn tgpay(sb: &Running, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(sb, args, env);
    tokio::task::spawn_blocking(move || cmd.output().expect("tgpay runs"))
        .await
        .unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn show(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const VISA: [(&str, &str); 1] = [("TGPAY_STRIPE_TOKEN", "tok_sandbox_visa")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_payment_exits_3_with_the_payment_and_reconcile_settles_it() {
    let sb = start(
        "ambiguous",
        vec![FaultSpec {
            drop_unprocessed: true,
            ..fault("payments.sendPaymentForm")
        }],
    )
    .await;
    let out = tgpay(
        &sb,
        &["--json", "pay", "ebook", "--stripe-token", "--yes"],
        &VISA,
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let lines = json_lines(&out);
    let error = &lines.last().unwrap()["error"];
    assert_eq!(error["kind"], "ambiguous");
    let attempt = error["payment"]["id"]
        .as_str()
        .expect("the pending payment");
    assert_eq!(error["payment"]["total"], "4.99 USD");
    assert_eq!(error["payment"]["stage"]["stage"], "unanswered");

    // The same invoice cannot be paid again while that one is unresolved: nothing is sent.
    let out = tgpay(&sb, &["pay", "ebook", "--stripe-token", "--yes"], &VISA).await;
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unresolved"),
        "{}",
        show(&out)
    );
    assert_eq!(sb.sends(), 1);

    // Reconcile: not known until its form expired, then not charged.
    let out = tgpay(&sb, &["--json", "reconcile", "--wait", "20"], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["attempt"], attempt);
    assert_eq!(lines[0]["status"], "not_paid");
    assert_eq!(lines[0]["result"]["evidence"]["evidence"], "expired");
    assert_eq!(lines.last().unwrap()["ok"], true);
    assert_eq!(sb.charges("ebook"), 0);

    // Resolved: it can be paid now, once.
    let out = tgpay(&sb, &["pay", "ebook", "--stripe-token", "--yes"], &VISA).await;
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(sb.charges("ebook"), 1);
    let out = tgpay(&sb, &["reconcile"], &[]).await;
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No unresolved payments"),
        "{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pay_is_resolved_by_reconcile_with_the_true_answer() {
    // The payment is processed (charged) but its answer is held back; the process is killed
    // while it waits.
    let sb = start(
        "killed",
        vec![FaultSpec {
            delay_ms: Some(60_000),
            ..fault("payments.sendPaymentForm")
        }],
    )
    .await;
    let mut child = command(
        &sb,
        &["--json", "pay", "ebook", "--stripe-token", "--yes"],
        &VISA,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("tgpay starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while sb.sends() == 0 {
        assert!(Instant::now() < deadline, "the payment was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let journal = std::fs::read_to_string(sb.journal()).unwrap();
    assert!(journal.contains("\"entry\":\"intent\""), "{journal}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(sb.charges("ebook"), 1);

    let out = tgpay(&sb, &["--json", "reconcile"], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{}", show(&out));
    assert_eq!(lines[0]["status"], "paid");
    let charge = &sb.sandbox.world().charges_of(BOB, "ebook")[0];
    assert_eq!(
        lines[0]["result"]["receipt"]["receipt_msg_id"],
        charge.receipt_msg_id
    );
    // Recorded: nothing left to reconcile, and the next purchase is not blocked.
    let out = tgpay(&sb, &["--json", "reconcile"], &[]).await;
    assert_eq!(json_lines(&out)[0]["reconciled"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_verify_timeout_waits_without_panicking() {
    let sb = start("verify", Vec::new()).await;
    let mut child = command(
        &sb,
        &[
            "--json",
            "pay",
            "ebook",
            "--stripe-token",
            "--yes",
            "--verify-timeout",
            "18446744073709551615",
        ],
        &[("TGPAY_STRIPE_TOKEN", "tok_sandbox_3ds")],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("tgpay starts");
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines.next()?.ok()?;
            let value: Value = serde_json::from_str(&line).ok()?;
            if value["step"] == "verification" {
                return value["url"].as_str().map(str::to_owned);
            }
        }
    })
    .await
    .unwrap()
    .expect("a verification step");
    // Confirm on the bank's page: the wait ends paid.
    let confirm = format!("{url}/confirm");
    let status = tokio::task::spawn_blocking(move || post(&confirm))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert_eq!(sb.charges("ebook"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_never_taken_from_the_command_line() {
    let sb = start("secrets", Vec::new()).await;
    let out = tgpay(
        &sb,
        &[
            "pay",
            "ebook",
            "--stripe-token",
            "tok_sandbox_visa",
            "--yes",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let out = tgpay(&sb, &["pay", "ebook", "--stripe-token", "--yes"], &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TGPAY_STRIPE_TOKEN"));
    assert_eq!(sb.sends(), 0);
    let out = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .args(["login", "--api-id", "1", "--api-hash", "0123456789abcdef"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

/// A bare HTTP/1.1 POST on loopback; the status code.
fn post(url: &str) -> u16 {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
