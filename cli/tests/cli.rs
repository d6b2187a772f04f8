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
    // Amounts in --json are the library's serde form: the value and the currency code.
    assert_eq!(form["price"], "50 XTR");

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
    assert_eq!(paid["total"], "48.48 USD");
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

/// Starts `tgpay sandbox` with `args` (a scenario file, say).
fn sandbox_with(tag: &str, args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .arg("sandbox")
        .args(args)
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
    let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    Running { child, file, info }
}

/// What a bot could put in any text: window title (OSC 0) and BEL, clear screen, conceal,
/// a bare carriage return, a right-to-left override, a zero-width space, a C1 CSI, and an OSC 8
/// hyperlink.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[8m\r\u{202e}\u{200b}\u{9b}31m\u{1b}]8;;http://evil.test\u{1b}\\x";

/// The default world with hostile text in every field `tgpay form` and `tgpay pay` print.
fn hostile_scenario() -> PathBuf {
    use tgpay_sandbox::Scenario;
    let h = |s: &str| format!("{s} {HOSTILE}");
    let mut world = Scenario::default_world();
    for merchant in &mut world.merchants {
        merchant.name = h(&merchant.name);
        merchant.reject_reason = h(&merchant.reject_reason);
        for rule in &mut merchant.shipping {
            for option in &mut rule.options {
                option.title = h(&option.title);
                for price in &mut option.prices {
                    price.label = h(&price.label);
                }
            }
        }
    }
    for user in &mut world.users {
        for card in &mut user.saved_cards {
            card.title = h(&card.title);
        }
    }
    for invoice in &mut world.invoices {
        invoice.title = h(&invoice.title);
        invoice.description = format!("{}\n{HOSTILE}", invoice.description);
        if let Some(terms) = &mut invoice.terms_url {
            *terms = h(terms);
        }
        if let Some(reason) = &mut invoice.precheckout_reject {
            *reason = h(reason);
        }
        if invoice.slug == "hoodie" {
            // A label that pretends to be the total, then conceals what follows.
            invoice.prices = vec![
                tgpay_sandbox::scenario::PriceSpec {
                    label: "Total $1.00\n\u{1b}[8m".to_owned(),
                    amount: 95_251,
                },
                tgpay_sandbox::scenario::PriceSpec {
                    label: h("Gift wrapping"),
                    amount: 250,
                },
            ];
        }
    }
    let path = std::env::temp_dir().join(format!("tgpay-hostile-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&world).unwrap()).unwrap();
    path
}

/// A `tgpay` run in a pseudo-terminal: everything it writes, as a terminal receives it.
struct PtyRun {
    child: std::process::Child,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    input: std::fs::File,
}

impl PtyRun {
    fn start(sb: &Running, user: i64, args: &[&str]) -> PtyRun {
        let (pty, pts) = pty_process::blocking::open().expect("a pseudo-terminal");
        pty.resize(pty_process::Size::new(40, 120)).unwrap();
        let child = pty_process::blocking::Command::new(env!("CARGO_BIN_EXE_tgpay"))
            .args(args)
            .arg("--sandbox")
            .arg(&sb.file)
            .args(["--user", &user.to_string()])
            .env("TERM", "xterm-256color")
            .env("TGPAY_STRIPE_TOKEN", "tok_sandbox_visa")
            .env_remove("TGPAY_PASSWORD")
            .env_remove("TGPAY_SESSION")
            .env_remove("RUST_LOG")
            .spawn(pts)
            .expect("tgpay runs in the pseudo-terminal");
        let fd: std::os::fd::OwnedFd = pty.into();
        let input = std::fs::File::from(fd.try_clone().unwrap());
        let mut reader = std::fs::File::from(fd);
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        std::thread::spawn({
            let output = std::sync::Arc::clone(&output);
            move || {
                use std::io::Read;
                let mut buf = [0u8; 4096];
                // Reading fails (EIO) once the program has exited.
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }
        });
        PtyRun {
            child,
            output,
            input,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the output contains `needle`.
    fn expect(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{needle:?} never came: {text:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn send(&mut self, text: &str) {
        use std::io::Write;
        self.input.write_all(text.as_bytes()).unwrap();
    }

    /// Waits for the exit code, then for the last output.
    fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        (status.code(), self.text())
    }
}

/// Asserts that a terminal received no control character but line ends (CR LF), and no bidi
/// or invisible formatting character.
fn assert_inert(output: &str) {
    let chars: Vec<char> = output.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let line_end = c == '\n' || (c == '\r' && chars.get(i + 1) == Some(&'\n'));
        assert!(
            line_end || !tgpay::text::is_unsafe(c),
            "{:?} (U+{:04X}) reached the terminal at {i}: {output:?}",
            c,
            u32::from(c)
        );
    }
}

#[test]
fn hostile_bot_text_cannot_drive_the_terminal_and_the_real_total_is_asked() {
    let scenario = hostile_scenario();
    let sb = sandbox_with("hostile", &["--scenario", scenario.to_str().unwrap()]);

    // The form: every field shown, escaped.
    let run = PtyRun::start(&sb, ALICE, &["form", "hoodie"]);
    let (code, output) = run.finish();
    assert_eq!(code, Some(0), "{output}");
    assert_inert(&output);
    for shown in [
        "Sandbox Hoodie \\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[8m\\r\\u{202e}\\u{200b}\\u{9b}31m",
        "Sold by Sandbox Shop \\u{1b}]0;pwned",
        "Total $1.00\\n\\u{1b}[8m",
        "Saved card: Visa *4242 \\u{1b}]0;pwned",
    ] {
        assert!(output.contains(shown), "{shown} in {output}");
    }

    // Paying: the real total is the last line before the question, and it is what is charged.
    let mut run = PtyRun::start(
        &sb,
        ALICE,
        &[
            "pay",
            "hoodie",
            "--use-saved-info",
            "--shipping",
            "standard",
            "--stripe-token",
        ],
    );
    let before = run.expect("[y/N] ");
    assert_inert(&before);
    let lines: Vec<&str> = before
        .split("\r\n")
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        lines[lines.len() - 2..],
        ["Total: $960.00", "Pay $960.00? [y/N]"],
        "{before}"
    );
    assert!(
        before.contains("Standard (5-7 days) \\u{1b}]0;pwned"),
        "{before}"
    );
    run.send("y\n");
    let (code, output) = run.finish();
    assert_eq!(code, Some(0), "{output}");
    assert_inert(&output);
    assert!(output.contains("Paid $960.00."), "{output}");
    assert!(output.contains("Total paid"), "{output}");

    // A pre-checkout refusal: the merchant's reason, escaped, on the one error line.
    let run = PtyRun::start(&sb, ALICE, &["pay", "sold-out", "--stripe-token", "--yes"]);
    let (code, output) = run.finish();
    assert_eq!(code, Some(1), "{output}");
    assert_inert(&output);
    assert!(output.contains("\\u{1b}]0;pwned"), "{output}");

    // JSON keeps the exact text, escaped by JSON itself.
    let out = tgpay(&sb, ALICE, &["--json", "form", "hoodie"], &[]);
    let form = &json_lines(&out)[0];
    assert_eq!(form["title"], format!("Sandbox Hoodie {HOSTILE}"));
    assert_eq!(
        form["invoice"]["prices"][0]["label"],
        "Total $1.00\n\u{1b}[8m"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let _ = std::fs::remove_file(scenario);
}

/// `pid`'s parent, and whether it is still running (not a zombie).
fn proc_stat(pid: u32) -> Option<(u32, bool)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?;
    let parent = rest.next()?.parse().ok()?;
    Some((parent, state != "Z"))
}

/// `pid` and every running process descended from it.
fn process_tree(pid: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(|e| {
                    let p: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
                    let (parent, running) = proc_stat(p)?;
                    running.then_some((p, parent))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut grew = true;
    while grew {
        grew = false;
        for &(p, parent) in &all {
            if !tree.contains(&p) && tree.contains(&parent) {
                tree.push(p);
                grew = true;
            }
        }
    }
    tree
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

/// Waits until `done` holds, for up to `seconds`.
fn wait_until(seconds: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    done()
}

#[test]
fn sigterm_and_sighup_close_the_browser_and_even_sigkill_leaves_none() {
    use std::os::unix::process::ExitStatusExt;
    let sb = sandbox("signals");
    for signal in ["TERM", "HUP", "KILL"] {
        let child = Command::new(env!("CARGO_BIN_EXE_tgpay"))
            .args([
                "--json",
                "pay",
                "ebook",
                "--browser",
                "--headless",
                "--verify-timeout",
                "120",
                "--yes",
                "--sandbox",
            ])
            .arg(&sb.file)
            .args(["--user", &BOB.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The payment page is open: the browser runs a renderer.
        let tgpay_pid = child.id();
        assert!(
            wait_until(30, || process_tree(tgpay_pid)
                .iter()
                .any(|p| cmdline(*p).contains("--type=renderer"))),
            "no browser came up"
        );
        let browser: Vec<u32> = process_tree(tgpay_pid)
            .into_iter()
            .filter(|p| *p != tgpay_pid)
            .collect();
        let profile = browser
            .iter()
            .find_map(|p| {
                cmdline(*p)
                    .split(' ')
                    .find_map(|a| a.strip_prefix("--user-data-dir=").map(PathBuf::from))
            })
            .expect("the browser's profile");
        assert!(profile.exists());
        let killed = Command::new("kill")
            .args([format!("-{signal}"), tgpay_pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        if signal == "KILL" {
            assert_eq!(out.status.signal(), Some(9));
        } else {
            assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
            let lines = json_lines(&out);
            let message = lines.last().unwrap()["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("stopped by SIG{signal}")),
                "{message}"
            );
            assert!(message.contains("nothing was paid"), "{message}");
            assert!(!profile.exists(), "{} left behind", profile.display());
        }
        // No process of the browser outlives tgpay.
        assert!(
            wait_until(5, || browser
                .iter()
                .all(|p| !proc_stat(*p).is_some_and(|(_, running)| running))),
            "after SIG{signal}, still running: {:?}",
            browser
                .iter()
                .filter(|p| proc_stat(**p).is_some_and(|(_, r)| r))
                .map(|p| cmdline(*p))
                .collect::<Vec<_>>()
        );
        // A killed tgpay cannot remove its profile; the test does.
        let _ = std::fs::remove_dir_all(&profile);
    }
}

#[test]
fn sigterm_while_a_payment_waits_for_the_bank_exits_3() {
    let sb = sandbox("sigterm-3ds");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgpay"))
        .args([
            "--json",
            "pay",
            "ebook",
            "--stripe-token",
            "--verify-timeout",
            "120",
            "--yes",
            "--sandbox",
        ])
        .arg(&sb.file)
        .args(["--user", &BOB.to_string()])
        .env("TGPAY_STRIPE_TOKEN", "tok_sandbox_3ds")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("\"verification\"") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no verification step"
        );
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{rest}");
    let last: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    let message = last["error"]["message"].as_str().unwrap();
    assert_eq!(last["error"]["kind"], "ambiguous");
    assert!(message.contains("may have gone through"), "{message}");
}
