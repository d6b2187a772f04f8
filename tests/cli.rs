//! The `tgpay` command line against a running `tgpay sandbox`: every subcommand, in text and
//! JSON, its exit codes, and secrets passed through the environment never echoed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A `tgpay sandbox` process and the file holding its connection line.
struct Running {
    child: Child,
    file: PathBuf,
    info: Value,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.file);
        let mut journal = self.file.clone().into_os_string();
        journal.push(".journal.jsonl");
        let _ = std::fs::remove_file(journal);
    }
}

fn sandbox(tag: &str) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .arg("sandbox")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tgpay sandbox starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("the connection line");
    let file = std::env::temp_dir().join(format!("tgpay-cli-{}-{tag}.json", std::process::id()));
    std::fs::write(&file, &line).expect("write the connection line");
    let info = serde_json::from_str(&line).expect("JSON");
    Running { child, file, info }
}

/// Runs `tgpay ARGS --sandbox FILE --user USER` with `env`, stdin closed.
fn tgpay(sb: &Running, user: i64, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgpay"));
    cmd.args(args)
        .arg("--sandbox")
        .arg(&sb.file)
        .args(["--user", &user.to_string()])
        .stdin(Stdio::null())
        .env_remove("TGPAY_CARD_NUMBER")
        .env_remove("TGPAY_CARD_EXP")
        .env_remove("TGPAY_CARD_CVC")
        .env_remove("TGPAY_PASSWORD")
        .env_remove("TGPAY_SESSION")
        .env_remove("TGPAY_JOURNAL")
        .env("TGPAY_STRIPE_TOKEN", "tok_sandbox_visa");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("tgpay runs")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Whether `text` contains `number` with no digit right before or after it.
fn has_number(text: &str, number: &str) -> bool {
    text.match_indices(number).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + number.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Whether `cvc` appears as a number shortly after a CVC-like field name.
fn cvc_shown(text: &str, cvc: &str) -> bool {
    text.match_indices(cvc).any(|(i, _)| {
        let start = text[..i]
            .char_indices()
            .rev()
            .nth(24)
            .map_or(0, |(at, _)| at);
        let before = text[start..i].to_ascii_lowercase();
        has_number(&text[i..], cvc)
            && ["cvc", "cvv", "security", "csc"]
                .iter()
                .any(|k| before.contains(k))
    })
}

/// Asserts exit code 2 with exactly one line on stderr mentioning `needle`.
fn bad_input(output: &Output, needle: &str) {
    let (stdout, stderr) = text(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("tgpay: "), "{stderr}");
    assert!(lines[0].contains(needle), "{needle:?} not in {stderr}");
}

const ALICE: i64 = 1_000_001;
const BOB: i64 = 1_000_002;
const CARD: [(&str, &str); 3] = [
    ("TGPAY_CARD_NUMBER", "4242424242424242"),
    ("TGPAY_CARD_EXP", "12/39"),
    ("TGPAY_CARD_CVC", "987"),
];

#[test]
fn form_in_text_and_json() {
    let sb = sandbox("form");
    let out = tgpay(&sb, ALICE, &["form", "https://t.me/$hoodie"], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Sandbox Hoodie") && stdout.contains("$42.49"),
        "{stdout}"
    );
    assert!(stdout.contains("Asks for: name, phone, email, shipping address"));

    let out = tgpay(&sb, ALICE, &["--json", "form", "sticker-pack"], &[]);
    let form = &json_lines(&out)[0];
    assert_eq!(form["kind"], "stars");
    assert_eq!(form["price"]["formatted"], "50 ⭐");

    // The invoice message, by @bot and message id.
    let out = tgpay(&sb, ALICE, &["--json", "form", "@SandboxShopBot", "1"], &[]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(json_lines(&out)[0]["kind"], "card");
}

#[test]
fn a_card_payment_with_order_info_shipping_and_tip_never_echoes_the_card() {
    let sb = sandbox("card");
    let out = tgpay(
        &sb,
        BOB,
        &[
            "--json",
            "pay",
            "hoodie",
            "--card",
            "--name",
            "Bob B",
            "--phone",
            "+15550000002",
            "--email",
            "bob@example.com",
            "--street",
            "1 Main St",
            "--city",
            "Springfield",
            "--state",
            "IL",
            "--country",
            "us",
            "--post-code",
            "62701",
            "--shipping",
            "standard",
            "--tip",
            "1.00",
            "--max-total",
            "60.00",
            "--yes",
        ],
        &[CARD[0], CARD[1], CARD[2], ("RUST_LOG", "trace")],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // Even with every log level on (RUST_LOG=trace), neither the number nor the CVC appears.
    // A three-digit CVC can occur by chance in ids and durations, so it counts as leaked when it
    // stands next to a field name that would carry it.
    for output in [&stdout, &stderr] {
        assert!(
            !has_number(output, "4242424242424242"),
            "the card number leaked: {output}"
        );
        assert!(!cvc_shown(output, "987"), "the CVC leaked: {output}");
    }
    let lines = json_lines(&out);
    let steps: Vec<&str> = lines.iter().filter_map(|l| l["step"].as_str()).collect();
    assert_eq!(steps, ["form", "order", "shipping", "total", "paid"]);
    let paid = lines.last().unwrap();
    assert_eq!(paid["total"]["formatted"], "$48.48");
    assert_eq!(paid["receipt"]["credentials_title"], "Visa *4242");

    // The receipt, by the receipt message.
    let msg_id = paid["receipt_msg_id"].as_i64().unwrap().to_string();
    let out = tgpay(&sb, BOB, &["receipt", "@SandboxShopBot", &msg_id], &[]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(
        stdout.contains("Total paid") && stdout.contains("$48.48"),
        "{stdout}"
    );
}

#[test]
fn saved_card_and_stars_and_saved_info_and_history() {
    let sb = sandbox("saved");
    let password = "correct horse battery staple";
    let out = tgpay(
        &sb,
        ALICE,
        &["pay", "ebook", "--saved-card", "card_alice_visa", "--yes"],
        &[("TGPAY_PASSWORD", password)],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Paid $4.99"), "{stdout}");
    assert!(!stdout.contains(password) && !stderr.contains(password));

    let out = tgpay(
        &sb,
        ALICE,
        &["--json", "pay", "sticker-pack", "--stars", "--yes"],
        &[],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(json_lines(&out).last().unwrap()["kind"], "stars");

    let out = tgpay(&sb, ALICE, &["--json", "stars", "balance"], &[]);
    assert_eq!(json_lines(&out)[0]["balance"], 450);
    let out = tgpay(&sb, ALICE, &["stars", "balance"], &[]);
    assert_eq!(text(&out).0.trim(), "Balance: 450 ⭐");
    let out = tgpay(&sb, ALICE, &["--json", "stars", "topup-options"], &[]);
    assert_eq!(json_lines(&out)[0]["options"].as_array().unwrap().len(), 5);
    let out = tgpay(&sb, ALICE, &["stars", "history"], &[]);
    assert!(
        text(&out).0.contains("−50 ⭐  Sticker Pack"),
        "{:?}",
        text(&out)
    );
    let out = tgpay(
        &sb,
        ALICE,
        &["--json", "stars", "history", "--limit", "1"],
        &[],
    );
    assert_eq!(
        json_lines(&out)[0]["transactions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let out = tgpay(&sb, ALICE, &["saved-info", "show"], &[]);
    assert!(text(&out).0.contains("Alice Sandbox"));
    let out = tgpay(
        &sb,
        ALICE,
        &["--json", "saved-info", "clear", "--info"],
        &[],
    );
    assert_eq!(json_lines(&out)[0]["cleared"]["info"], true);
    let out = tgpay(&sb, ALICE, &["--json", "saved-info", "show"], &[]);
    let shown = &json_lines(&out)[0];
    assert!(shown["info"].is_null());
    assert_eq!(shown["has_saved_credentials"], true);
}

#[test]
fn refused_payments_exit_1_and_unfinished_verification_exits_3() {
    let sb = sandbox("refused");
    let declined = [
        ("TGPAY_CARD_NUMBER", "4000 0000 0000 0002"),
        ("TGPAY_CARD_EXP", "12/39"),
        ("TGPAY_CARD_CVC", "123"),
    ];
    let out = tgpay(&sb, BOB, &["pay", "ebook", "--card", "--yes"], &declined);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert!(text(&out).1.contains("PAYMENT_FAILED"));

    let out = tgpay(
        &sb,
        BOB,
        &["pay", "sold-out", "--stripe-token", "--yes"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("sold out"), "{:?}", text(&out));

    let out = tgpay(&sb, BOB, &["pay", "golden-frame", "--stars", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("top up"), "{:?}", text(&out));

    let three_ds = [
        ("TGPAY_CARD_NUMBER", "4000002760003184"),
        ("TGPAY_CARD_EXP", "12/39"),
        ("TGPAY_CARD_CVC", "123"),
    ];
    let out = tgpay(
        &sb,
        BOB,
        &[
            "--json",
            "pay",
            "ebook",
            "--card",
            "--yes",
            "--verify-timeout",
            "1",
        ],
        &three_ds,
    );
    assert_eq!(out.status.code(), Some(3), "{:?}", text(&out));
    let lines = json_lines(&out);
    assert!(lines.iter().any(|l| l["step"] == "verification"));
    assert_eq!(lines.last().unwrap()["error"]["kind"], "ambiguous");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let sb = sandbox("bad");
    bad_input(
        &tgpay(
            &sb,
            BOB,
            &["form", "https://example.com/not/an/invoice"],
            &[],
        ),
        "invoice",
    );
    bad_input(
        &tgpay(
            &sb,
            BOB,
            &[
                "pay",
                "ebook",
                "--stripe-token",
                "--max-total",
                "1.2.3",
                "--yes",
            ],
            &[],
        ),
        "--max-total",
    );
    bad_input(
        &tgpay(
            &sb,
            BOB,
            &["pay", "ebook", "--stripe-token", "--tip", "1.234", "--yes"],
            &[],
        ),
        "--tip",
    );
    bad_input(
        &tgpay(
            &sb,
            BOB,
            &[
                "pay",
                "hoodie",
                "--stripe-token",
                "--yes",
                "--use-saved-info",
            ],
            &[],
        ),
        "the order info lacks",
    );
    bad_input(
        &tgpay(&sb, BOB, &["pay", "ebook", "--yes"], &[]),
        "choose how to pay",
    );
    bad_input(
        &tgpay(
            &sb,
            BOB,
            &[
                "pay",
                "ebook",
                "--stripe-token",
                "--max-total",
                "4.00",
                "--yes",
            ],
            &[],
        ),
        "spend limit",
    );
    bad_input(
        &tgpay(&sb, BOB, &["pay", "ebook", "--card", "--yes"], &[]),
        "TGPAY_CARD_NUMBER",
    );
    bad_input(
        &tgpay(
            &sb,
            BOB,
            &["pay", "ebook", "--card", "--yes"],
            &[
                ("TGPAY_CARD_NUMBER", "4242424242424241"),
                ("TGPAY_CARD_EXP", "12/39"),
                ("TGPAY_CARD_CVC", "123"),
            ],
        ),
        "card number",
    );
    bad_input(
        &tgpay(&sb, BOB, &["pay", "ebook", "--stripe-token"], &[]),
        "--yes",
    );
    // JSON mode: the error is a JSON object on stdout, with the same exit code.
    let out = tgpay(&sb, BOB, &["--json", "pay", "ebook", "--yes"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_lines(&out)[0]["error"]["kind"], "bad_input");
    assert!(sb.info["users"].is_array());
}

#[test]
fn a_payment_page_nobody_fills_in_times_out_and_charges_nothing() {
    let sb = sandbox("browser");
    let out = tgpay(
        &sb,
        BOB,
        &[
            "--json",
            "pay",
            "ebook",
            "--browser",
            "--headless",
            "--verify-timeout",
            "2",
            "--yes",
        ],
        // Even at trace level, the browser's protocol traffic (what the page sends) stays out.
        &[("RUST_LOG", "trace,chromiumoxide=trace")],
    );
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    let stderr = text(&out).1;
    assert!(
        !stderr.contains("chromiumoxide") && !stderr.contains("\"method\":\""),
        "browser protocol traffic logged: {stderr}"
    );
    let lines = json_lines(&out);
    assert!(lines.iter().any(|l| l["step"] == "payment_page"));
    let error = lines.last().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("nothing was paid"), "{error}");
    // Nothing was charged: the balance of receipts is untouched (no paid step).
    assert!(!lines.iter().any(|l| l["step"] == "paid"));
}

#[test]
fn card_token_prints_the_credentials_for_telegram() {
    let sb = sandbox("token");
    let web = sb.info["web_base_url"].as_str().unwrap().to_owned();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgpay"));
    let out = cmd
        .args([
            "--json",
            "card-token",
            "--provider",
            "stripe",
            "--key",
            "pk_test_tgpay_sandbox",
            "--base-url",
            &web,
        ])
        .envs(CARD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let token = &json_lines(&out)[0];
    assert_eq!(token["credentials"]["type"], "card");
    assert!(
        token["credentials"]["id"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );
    assert_eq!(token["title"], "Visa *4242");
    assert!(!has_number(&stdout, "4242424242424242") && !cvc_shown(&stdout, "987"));
}

#[test]
fn the_demo_runs_every_step_and_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .args(["--json", "demo"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let steps: Vec<String> = json_lines(&out)
        .iter()
        .map(|l| {
            assert_eq!(l["ok"], true, "{l}");
            l["step"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        steps,
        [
            "card_with_shipping",
            "saved_card",
            "three_d_secure",
            "declined_card",
            "precheckout_rejected",
            "stars",
            "web_payment_page"
        ]
    );
    let human = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .arg("demo")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, _) = text(&human);
    assert!(human.status.success());
    assert!(
        stdout.contains("Total: $59.98") && stdout.contains("All 7 steps behaved"),
        "{stdout}"
    );
    assert!(stdout.contains("Confirmed in the browser"), "{stdout}");
}

/// Runs `tgpay ARGS` with `env` only (no --sandbox/--user added).
fn tgpay_raw(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgpay"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env_remove("TGPAY_PASSWORD")
        .env_remove("TGPAY_CODE")
        .env_remove("TGPAY_SESSION")
        .env_remove("TGPAY_API_ID")
        .env_remove("TGPAY_API_HASH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("tgpay runs")
}

#[test]
fn login_keeps_a_session_file_that_the_other_commands_use() {
    let sb = sandbox("login");
    let file = sb.file.to_str().unwrap().to_owned();
    let dir = std::env::temp_dir().join(format!("tgpay-cli-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bob_session = dir.join("bob.session");
    let bob_session = bob_session.to_str().unwrap();

    // A wrong code.
    let out = tgpay_raw(
        &[
            "login",
            "--sandbox",
            &file,
            "--phone",
            "+1 555 000 0002",
            "--session",
            bob_session,
        ],
        &[("TGPAY_CODE", "00000")],
    );
    bad_input(&out, "login code");

    let out = tgpay_raw(
        &[
            "--json",
            "login",
            "--sandbox",
            &file,
            "--phone",
            "+1 555 000 0002",
            "--session",
            bob_session,
        ],
        &[("TGPAY_CODE", "12345")],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(json_lines(&out)[0]["user_id"], BOB);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(bob_session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = tgpay_raw(
        &["--json", "form", "ebook", "--session", bob_session],
        &[("TGPAY_API_ID", "4")],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(json_lines(&out)[0]["kind"], "card");

    // Alice has a 2FA password: wrong, then right; the password is never echoed.
    let alice_session = dir.join("alice.session");
    let alice_session = alice_session.to_str().unwrap();
    let login = |password: &str| {
        tgpay_raw(
            &[
                "login",
                "--sandbox",
                &file,
                "--guest-key",
                "1",
                "--phone",
                "15550000001",
                "--session",
                alice_session,
            ],
            &[("TGPAY_CODE", "12345"), ("TGPAY_PASSWORD", password)],
        )
    };
    let out = login("tr0ub4dor&3");
    bad_input(&out, "four common words");
    assert!(!text(&out).1.contains("tr0ub4dor"));
    let out = login("correct horse battery staple");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("Logged in as Alice Sandbox"), "{stdout}");
    assert!(!stdout.contains("correct horse") && !stderr.contains("correct horse"));
    let out = tgpay_raw(
        &["stars", "balance", "--session", alice_session],
        &[("TGPAY_API_ID", "4")],
    );
    assert_eq!(text(&out).0.trim(), "Balance: 500 ⭐", "{:?}", text(&out));

    // Without a session, or without an API id, the commands say what to do.
    bad_input(
        &tgpay_raw(
            &["form", "ebook", "--session", "/nonexistent/tgpay.session"],
            &[],
        ),
        "tgpay login",
    );
    bad_input(
        &tgpay_raw(&["form", "ebook", "--session", bob_session], &[]),
        "TGPAY_API_ID",
    );
    bad_input(
        &tgpay_raw(
            &["login", "--phone", "+15550000002", "--session", bob_session],
            &[],
        ),
        "my.telegram.org",
    );
    let _ = std::fs::remove_dir_all(dir);
}
