//! The fuzz targets' inputs in the normal test suite: every committed seed (`fuzz/corpus/`)
//! and every input a fuzz run found a failure with (`fuzz/regressions/`, one folder per target)
//! goes through the target's entry point in `tgpay::fuzzing`, which must return.
//!
//! The seeds are the tests' real values: links, cards and JSON from the unit tests, the
//! sandbox's own answers and scenario, session files as tgpay writes them, and packets as
//! grammers' transports frame them. `TGPAY_WRITE_FUZZ_SEEDS=1 cargo test --features fuzzing
//! --test fuzz_corpus` writes them anew; without it, the test checks that the committed seeds
//! are still the ones these values give (so a changed format is noticed).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{receipt_ids, slug, stripe_token};
use grammers_crypto::DequeBuffer;
use grammers_mtproto::transport::{Abridged, Full, Intermediate, Obfuscated, Transport};
use tgpay::fuzzing;
use tgpay::tl::{self, Identifiable, Serializable};
use tgpay_sandbox::World;
use tgpay_sandbox::fuzzing::{self as sandbox_fuzzing, NOW};
use tgpay_sandbox::scenario::{ALICE, Scenario};

type Target = fn(&[u8]);

/// Each target: its name, the crate whose `fuzzing` module has its entry point, and the entry
/// point.
const TARGETS: [(&str, &str, Target); 13] = [
    ("invoice_ref", "tgpay", fuzzing::invoice_ref),
    ("credentials", "tgpay", fuzzing::credentials),
    ("card", "tgpay", fuzzing::card),
    ("amount", "tgpay", fuzzing::amount),
    ("tl_answer", "tgpay", fuzzing::tl_answer),
    ("provider_answer", "tgpay", fuzzing::provider_answer),
    (
        "session_file",
        "tgpay_cli",
        tgpay_cli::fuzzing::session_file,
    ),
    (
        "scenario_file",
        "tgpay_sandbox",
        sandbox_fuzzing::scenario_file,
    ),
    (
        "sandbox_stream",
        "tgpay_sandbox",
        sandbox_fuzzing::sandbox_stream,
    ),
    (
        "sandbox_message",
        "tgpay_sandbox",
        sandbox_fuzzing::sandbox_message,
    ),
    (
        "sandbox_http",
        "tgpay_sandbox",
        sandbox_fuzzing::sandbox_http,
    ),
    ("sanitize", "tgpay", fuzzing::sanitize),
    ("journal", "tgpay", fuzzing::journal),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file()
                && let Ok(bytes) = std::fs::read(&path)
            {
                found.insert(entry.file_name().to_string_lossy().into_owned(), bytes);
            }
        }
    }
    found
}

#[test]
fn every_target_has_a_fuzz_target_file_and_its_seeds_are_committed() {
    for (name, krate, _) in TARGETS {
        let target = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&target).unwrap_or_default();
        assert!(
            text.contains(&format!("{krate}::fuzzing::{name}(data)")),
            "{} runs {krate}::fuzzing::{name}",
            target.display()
        );
        assert!(
            !files(&fuzz_dir().join("corpus").join(name)).is_empty(),
            "{name} has seeds"
        );
    }
}

#[test]
fn seeds_and_regressions_go_through_every_target() {
    let write = std::env::var_os("TGPAY_WRITE_FUZZ_SEEDS").is_some();
    let made = seeds();
    for (name, _, run) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let expected = &made[name];
        if write {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (file, bytes) in expected {
                std::fs::write(dir.join(file), bytes).unwrap();
            }
        }
        let committed = files(&dir);
        for file in expected.keys() {
            assert!(
                committed.contains_key(file),
                "fuzz/corpus/{name}/{file} is missing: run with TGPAY_WRITE_FUZZ_SEEDS=1"
            );
        }
        for bytes in committed.values() {
            run(bytes);
        }
        for bytes in files(&fuzz_dir().join("regressions").join(name)).values() {
            run(bytes);
        }
    }
    // The sandbox seeds get past the transport and the message rules into the world.
    assert!(sandbox_fuzzing::world_calls("payments.getPaymentForm") >= 2);
    assert!(sandbox_fuzzing::world_calls("account.getPassword") >= 1);
}

// ---------------------------------------------------------------------------------------------
// The seeds

type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn seeds() -> Seeds {
    let mut all: Seeds = BTreeMap::new();
    let mut put = |target: &'static str, name: &str, bytes: Vec<u8>| {
        all.entry(target)
            .or_default()
            .insert(name.to_owned(), bytes);
    };
    let text = |s: &str| s.as_bytes().to_vec();

    for (i, link) in [
        "https://t.me/$7o4oKHUmUVQ2AQAASmbNoQ",
        "t.me/invoice/sandbox-hoodie",
        "tg://invoice?slug=ebook",
        "https://telegram.me/invoice/club?x=1",
        "https://telegram.dog/$abc",
        "hoodie",
        "tg://resolve?domain=SandboxShopBot",
        "@SandboxShopBot 42",
        "https://t.me/$sticker-pack#frag",
    ]
    .iter()
    .enumerate()
    {
        put("invoice_ref", &format!("link-{i}"), text(link));
    }

    for (i, input) in [
        "stripe\n{\"publishable_key\":\"pk_test_sandbox\",\"need_country\":true,\"need_zip\":false,\"need_cardholder_name\":true}",
        "smartglocal\n{\"public_token\":\"sg_public_test\",\"tokenize_url\":\"https://tgb.smart-glocal.com/cds/v1/tokenize/card\"}",
        "stripe\n{\"title\":\"Visa *4242\",\"credentials\":{\"type\":\"card\",\"token\":\"tok_sandbox_visa\"}}",
        "paymaster\n{\"eventType\":\"payment_form_submit\",\"eventData\":{\"title\":\"Mir *1234\",\"credentials\":{\"token\":\"x\"}}}",
        "stripe\n{\"credentials\":{},\"title\":\"\"}",
    ]
    .iter()
    .enumerate()
    {
        put("credentials", &format!("json-{i}"), text(input));
    }

    for (i, input) in [
        "4242 4242 4242 4242\n12/30\n123\nAlice Sandbox\nUS\n94103",
        "3782 822463 10005\n09 / 29\n1234",
        "4000 0027 6000 3184\n1230\n999\n\nFR\n75001",
        "2200 0000 0000 0004\n01/27\n000\nИван",
        "4000000000000002\n13/30\n12",
    ]
    .iter()
    .enumerate()
    {
        put("card", &format!("card-{i}"), text(input));
    }

    for (i, input) in [
        "USD\n4.99",
        "EUR\n1 234,56",
        "XTR\n50",
        "JPY\n1000",
        "BHD\n0.125",
        "USD\n-999999999999.99",
    ]
    .iter()
    .enumerate()
    {
        put("amount", &format!("amount-{i}"), text(input));
    }

    for (name, bytes) in tl_answers() {
        put("tl_answer", &name, bytes);
    }

    for (name, status, body) in [
        (
            "stripe-token",
            200u16,
            r#"{"id":"tok_1N3T00LkdIwHu7ix","object":"token","card":{"brand":"Visa","last4":"4242","exp_month":12,"exp_year":2030}}"#,
        ),
        (
            "stripe-declined",
            402,
            r#"{"error":{"type":"card_error","code":"incorrect_number","message":"Your card number is incorrect."}}"#,
        ),
        ("stripe-empty", 200, r#"{"object":"token"}"#),
        (
            "smartglocal-token",
            200,
            r#"{"status":"ok","data":{"token":"card-token-7f3a"}}"#,
        ),
        (
            "smartglocal-error",
            400,
            r#"{"status":"error","error":{"code":"card_number_invalid","description":"bad"}}"#,
        ),
        ("rate-limited", 429, "Too Many Requests"),
    ] {
        let mut bytes = status.to_be_bytes().to_vec();
        bytes.extend_from_slice(body.as_bytes());
        put("provider_answer", name, bytes);
    }

    for (name, bytes) in session_files() {
        put("session_file", &name, bytes);
    }

    for (i, hostile) in [
        "Sandbox Hoodie",
        "Total $1.00\n\u{1b}[8m",
        "\u{1b}]0;pwned\u{7}title",
        "\u{1b}]8;;https://evil.test\u{1b}\\link\u{1b}]8;;\u{1b}\\",
        "abc\rXYZ",
        "\u{202e}gnp.exe\u{202c} \u{200b}zero\u{2066}width\u{2069}",
        "\u{9b}31m C1 \u{85} next line \u{2028}",
        "50 ⭐ ñ 日本 👍🏽",
    ]
    .iter()
    .enumerate()
    {
        put("sanitize", &format!("text-{i}"), text(hostile));
    }

    for (name, bytes) in journals() {
        put("journal", &name, bytes);
    }

    let mut small = Scenario::default_world();
    small.invoices.truncate(2);
    put(
        "scenario_file",
        "default.toml",
        toml_text(&Scenario::default_world()),
    );
    put(
        "scenario_file",
        "small.json",
        serde_json::to_vec(&small).unwrap_or_default(),
    );
    put(
        "scenario_file",
        "faults.toml",
        text(
            "[[users]]\nid = 5\nfirst_name = \"Eve\"\nstars = 3\n\n[[faults]]\nmethod = \"payments.sendPaymentForm\"\nerror = \"FLOOD_WAIT_3\"\ncode = 420\n",
        ),
    );

    for (name, bytes) in messages() {
        put("sandbox_message", &name, bytes);
    }
    for (name, bytes) in streams() {
        put("sandbox_stream", &name, bytes);
    }

    for (i, request) in [
        "GET /pay/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "POST /pay/1/tokenize HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 70\r\n\r\n{\"name\":\"A\",\"number\":\"4242424242424242\",\"expiry\":\"12/30\",\"cvc\":\"123\"}",
        "POST /v1/tokens HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer pk_test_sandbox\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 80\r\n\r\ncard[number]=4242424242424242&card[cvc]=123&card[exp_month]=12&card[exp_year]=30",
        "GET /3ds/abc/status HTTP/1.1\r\nHost: a\r\n\r\nPOST /3ds/abc/confirm HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nContent-Length: 0\r\n\r\n",
        "GET /3ds/abc HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ]
    .iter()
    .enumerate()
    {
        put("sandbox_http", &format!("request-{i}"), text(request));
    }
    all
}

fn toml_text(scenario: &Scenario) -> Vec<u8> {
    toml::to_string(scenario).unwrap_or_default().into_bytes()
}

/// Answers of the sandbox's world to the payment methods, each after the byte that picks
/// its method in `fuzzing::tl_answer`.
fn tl_answers() -> Vec<(String, Vec<u8>)> {
    use tl::functions::{messages, payments};
    let mut out = Vec::new();
    let Ok(mut w) = World::new(&Scenario::default_world(), "http://127.0.0.1:1") else {
        return out;
    };
    let mut add = |name: &str, which: u8, bytes: Vec<u8>| {
        let mut seed = vec![which];
        seed.extend(bytes);
        out.push((name.to_owned(), seed));
    };
    let form = |slug_: &str| payments::GetPaymentForm {
        invoice: slug(slug_),
        theme_params: None,
    };
    for invoice in ["hoodie", "ebook", "sticker-pack"] {
        if let Ok(form) = w.get_payment_form(ALICE, &form(invoice)) {
            add(&format!("form-{invoice}"), 0, form.to_bytes());
        }
    }
    let info: tl::enums::PaymentRequestedInfo = tl::types::PaymentRequestedInfo {
        name: Some("Alice Sandbox".into()),
        phone: Some("15550000001".into()),
        email: Some("alice@example.com".into()),
        shipping_address: Some(
            tl::types::PostAddress {
                street_line1: "1 Infinite Loop".into(),
                street_line2: String::new(),
                city: "Cupertino".into(),
                state: "CA".into(),
                country_iso2: "US".into(),
                post_code: "95014".into(),
            }
            .into(),
        ),
    }
    .into();
    if let Ok(validated) = w.validate_requested_info(
        ALICE,
        &payments::ValidateRequestedInfo {
            save: false,
            invoice: slug("hoodie"),
            info,
        },
    ) {
        add("validated-hoodie", 4, validated.to_bytes());
    }
    if let Ok(tl::enums::payments::PaymentForm::Form(card)) =
        w.get_payment_form(ALICE, &form("ebook"))
        && let Ok(paid) = w.send_payment_form(
            ALICE,
            &payments::SendPaymentForm {
                form_id: card.form_id,
                invoice: slug("ebook"),
                requested_info_id: None,
                shipping_option_id: None,
                credentials: stripe_token("tok_sandbox_visa"),
                tip_amount: None,
            },
        )
    {
        add("paid-ebook", 6, paid.to_bytes());
        if let tl::enums::payments::PaymentResult::Result(result) = &paid
            && let tl::enums::Updates::Updates(updates) = &result.updates
            && let (Some(receipt_id), _) = receipt_ids(&updates.updates)
        {
            let bot = card.bot_id;
            let peer: tl::enums::InputPeer = tl::types::InputPeerUser {
                user_id: bot,
                access_hash: w.access_hash(bot).unwrap_or_default(),
            }
            .into();
            if let Ok(receipt) = w.get_payment_receipt(
                ALICE,
                &payments::GetPaymentReceipt {
                    peer: peer.clone(),
                    msg_id: receipt_id,
                },
            ) {
                add("receipt-ebook", 1, receipt.to_bytes());
            }
            if let Ok(history) = w.get_history(
                ALICE,
                &messages::GetHistory {
                    peer,
                    offset_id: 0,
                    offset_date: 0,
                    add_offset: 0,
                    limit: 10,
                    max_id: 0,
                    min_id: 0,
                    hash: 0,
                },
            ) {
                add("history-shop", 7, history.to_bytes());
            }
        }
    }
    if let Ok(tl::enums::payments::PaymentForm::Stars(stars)) =
        w.get_payment_form(ALICE, &form("sticker-pack"))
        && let Ok(paid) = w.send_stars_form(
            ALICE,
            &payments::SendStarsForm {
                form_id: stars.form_id,
                invoice: slug("sticker-pack"),
            },
        )
    {
        add("paid-stars", 6, paid.to_bytes());
    }
    let me = tl::enums::InputPeer::PeerSelf;
    if let Ok(status) = w.get_stars_status(
        ALICE,
        &payments::GetStarsStatus {
            ton: false,
            peer: me.clone(),
        },
    ) {
        add("stars-status", 2, status.to_bytes());
    }
    if let Ok(history) = w.get_stars_transactions(
        ALICE,
        &payments::GetStarsTransactions {
            inbound: false,
            outbound: false,
            ascending: false,
            ton: false,
            subscription_id: None,
            peer: me,
            offset: String::new(),
            limit: 10,
        },
    ) {
        add("stars-history", 3, history.to_bytes());
    }
    if let Ok(saved) = w.get_saved_info(ALICE) {
        add("saved-info", 5, saved.to_bytes());
    }
    out
}

/// Journal files as `JsonlJournal` writes them: an intent, its updates and outcomes, a torn
/// line.
fn journals() -> Vec<(String, Vec<u8>)> {
    use tgpay::attempt::{
        AttemptId, BotRef, Evidence, MoneyMethod, Paid, PaymentKind, PendingPayment, Stage,
    };
    use tgpay::journal::{Entry, Resolution};
    let payment =
        |invoice: tgpay::InvoiceRef, kind: PaymentKind, total: tgpay::Amount| PendingPayment {
            id: AttemptId::from_hex("0123456789abcdef0123456789abcdef").unwrap(),
            account: Some(ALICE),
            method: match kind {
                PaymentKind::Card => MoneyMethod::SendPaymentForm,
                PaymentKind::Stars => MoneyMethod::SendStarsForm,
            },
            invoice,
            form_id: 5_184_448_115_163_859_652,
            kind,
            total,
            bot: BotRef {
                id: 7_000_001,
                access_hash: Some(3_637_408_106_199_636_823),
                username: Some("SandboxShopBot".into()),
            },
            form_fetched_at: 1_796_284_460,
            sent_at: 1_796_284_461,
            clock_offset: Some(-2),
            stage: Stage::Sending,
        };
    let usd = tgpay::Currency::from_code("USD").unwrap();
    let card = payment(
        tgpay::InvoiceRef::Slug("ebook".into()),
        PaymentKind::Card,
        usd.amount(499),
    );
    let stars = payment(
        tgpay::InvoiceRef::Message {
            peer: tl::types::InputPeerUser {
                user_id: 7_000_002,
                access_hash: 42,
            }
            .into(),
            msg_id: 3,
        },
        PaymentKind::Stars,
        tgpay::Currency::XTR.amount(50),
    );
    let mut verifying = card.clone();
    verifying.stage = Stage::Verifying {
        url: "http://127.0.0.1:1/3ds/abc".into(),
        since: 1_796_284_462,
    };
    let mut unanswered = stars.clone();
    unanswered.stage = Stage::Unanswered;
    let line = |entry: &Entry| {
        let mut bytes = serde_json::to_vec(entry).unwrap();
        bytes.push(b'\n');
        bytes
    };
    let paid = Entry::Resolved {
        id: card.id,
        resolution: Resolution::Paid(Paid {
            receipt: tgpay::ReceiptRef {
                bot_id: 7_000_001,
                peer: card.bot.input_peer(),
                receipt_msg_id: Some(12),
                invoice_msg_id: None,
            },
            total: card.total,
            kind: PaymentKind::Card,
            attempt: card.id,
        }),
    };
    let not_paid = Entry::Resolved {
        id: stars.id,
        resolution: Resolution::NotPaid {
            evidence: Evidence::Expired {
                expired_at: 1_796_285_122,
            },
        },
    };
    let mut card_file = line(&Entry::Intent {
        payment: card.clone(),
    });
    card_file.extend(line(&Entry::Update { payment: verifying }));
    card_file.extend(line(&paid));
    let mut stars_file = line(&Entry::Intent { payment: stars });
    stars_file.extend(line(&Entry::Update {
        payment: unanswered,
    }));
    stars_file.extend(line(&not_paid));
    stars_file.extend(b"{\"entry\":\"intent\",\"paym");
    vec![
        ("card-paid.jsonl".into(), card_file),
        ("stars-expired-torn.jsonl".into(), stars_file),
    ]
}

fn session_files() -> Vec<(String, Vec<u8>)> {
    let dir = std::env::temp_dir().join(format!("tgpay-fuzz-seeds-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut out = Vec::new();
    for (name, data) in [
        ("production.json", tgpay_cli::session::production()),
        ("test-dcs.json", tgpay_cli::session::test_dcs()),
    ] {
        let path = dir.join(name);
        if tgpay_cli::session::FileSession::create(&path, data).is_ok()
            && let Ok(bytes) = std::fs::read(&path)
        {
            out.push((name.to_owned(), bytes));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Message bodies the sandbox handles, as `fuzzing::sandbox_message` takes them: the
/// plaintext after the salt.
fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    use tl::functions::{account, help, payments, updates};
    let init = tl::functions::InvokeWithLayer {
        layer: tl::LAYER,
        query: tl::functions::InitConnection {
            api_id: 4,
            device_model: "fuzz".into(),
            system_version: "1".into(),
            app_version: "1".into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: Some(
                tl::types::JsonObject {
                    value: vec![
                        tl::types::JsonObjectValue {
                            key: "tz_offset".into(),
                            value: tl::types::JsonNumber { value: 3600.0 }.into(),
                        }
                        .into(),
                    ],
                }
                .into(),
            ),
            query: help::GetConfig {},
        },
    };
    let mut gzip = 0x3072_cfa1u32.to_bytes();
    gzip_bytes(&payments::GetStarsTopupOptions {}.to_bytes()).serialize(&mut gzip);
    vec![
        ("ping", tl::functions::Ping { ping_id: 1 }.to_bytes()),
        ("init-connection", init.to_bytes()),
        (
            "get-form",
            payments::GetPaymentForm {
                invoice: slug("hoodie"),
                theme_params: None,
            }
            .to_bytes(),
        ),
        (
            "send-stars",
            payments::SendStarsForm {
                form_id: 1,
                invoice: slug("sticker-pack"),
            }
            .to_bytes(),
        ),
        ("get-password", account::GetPassword {}.to_bytes()),
        ("get-state", updates::GetState {}.to_bytes()),
        ("gzip", gzip),
        (
            "msgs-ack",
            tl::enums::MsgsAck::Ack(tl::types::MsgsAck {
                msg_ids: vec![NOW << 32],
            })
            .to_bytes(),
        ),
        (
            "future-salts",
            tl::functions::GetFutureSalts { num: 3 }.to_bytes(),
        ),
        (
            "destroy-session",
            tl::functions::DestroySession { session_id: 5 }.to_bytes(),
        ),
    ]
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// `session_id msg_id seqno length body padding` of one message.
fn message(session_id: i64, msg_id: i64, seqno: i32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    session_id.serialize(&mut out);
    msg_id.serialize(&mut out);
    seqno.serialize(&mut out);
    (body.len() as i32).serialize(&mut out);
    out.extend_from_slice(body);
    out.extend_from_slice(&[0u8; 12]);
    out
}

fn messages() -> Vec<(String, Vec<u8>)> {
    let base = NOW << 32;
    // Each seed in a session of its own: the sandbox remembers msg_ids per session.
    let mut out: Vec<(String, Vec<u8>)> = bodies()
        .into_iter()
        .enumerate()
        .map(|(i, (name, body))| (name.to_owned(), message(100 + i as i64, base + 4, 1, &body)))
        .collect();
    // A container of two queries.
    let mut container = 0x73f1_f8dcu32.to_bytes();
    2i32.serialize(&mut container);
    for (i, (_, body)) in bodies().into_iter().take(3).skip(1).enumerate() {
        (base + 4 + 4 * i as i64).serialize(&mut container);
        (1 + 2 * i as i32).serialize(&mut container);
        (body.len() as i32).serialize(&mut container);
        container.extend_from_slice(&body);
    }
    out.push((
        "container".to_owned(),
        message(99, base + 16, 4, &container),
    ));
    out
}

/// Whole connections: a packet of each transport (and obfuscated ones) carrying encrypted
/// messages for the fuzzing key, after the byte that sets the read size.
fn streams() -> Vec<(String, Vec<u8>)> {
    let key = grammers_crypto::AuthKey::from_bytes(*sandbox_fuzzing::fuzz_key().expose_secret());
    let salt = sandbox_fuzzing::fuzz_salt();
    let payload = |body: &[u8], session_id: i64, msg_id: i64, seqno: i32| {
        let mut plaintext = salt.to_le_bytes().to_vec();
        plaintext.extend_from_slice(&message(session_id, msg_id, seqno, body)[..body.len() + 24]);
        let mut buffer = DequeBuffer::with_capacity(plaintext.len() + 64, 64);
        buffer.extend(&plaintext);
        grammers_crypto::encrypt_data_v2(&mut buffer, &key);
        buffer.as_ref().to_vec()
    };
    let base = NOW << 32;
    let bodies = bodies();
    let mut out = Vec::new();
    let mut session_id = 1000;
    let mut pack = |name: &str, transport: &mut dyn Transport, cut: u8| {
        let mut stream = vec![cut];
        session_id += 1;
        for (i, (_, body)) in bodies.iter().enumerate().take(3) {
            let mut buffer = DequeBuffer::with_capacity(0, 128);
            let i = i as i64;
            buffer.extend(&payload(
                body,
                session_id,
                base + 4 * (i + 1),
                2 * i as i32 + 1,
            ));
            transport.pack(&mut buffer);
            stream.extend_from_slice(buffer.as_ref());
        }
        out.push((name.to_owned(), stream));
    };
    pack("abridged", &mut Abridged::new(), 255);
    pack("intermediate", &mut Intermediate::new(), 0);
    pack("full", &mut Full::new(), 3);
    pack(
        "obfuscated-abridged",
        &mut Obfuscated::new(Abridged::new()),
        255,
    );
    pack(
        "obfuscated-intermediate",
        &mut Obfuscated::new(Intermediate::new()),
        7,
    );
    let mut padded = vec![255u8, 0xdd, 0xdd, 0xdd, 0xdd];
    let p = payload(&bodies[2].1, 2000, base + 4, 1);
    ((p.len() + 3) as u32).serialize(&mut padded);
    padded.extend_from_slice(&p);
    padded.extend_from_slice(&[1, 2, 3]);
    out.push(("padded-intermediate".to_owned(), padded));
    out.push(("unknown-key".to_owned(), {
        let mut s = vec![255u8, 0xee, 0xee, 0xee, 0xee];
        (40u32).serialize(&mut s);
        s.extend_from_slice(&[9u8; 40]);
        s
    }));
    let _ = tl::types::Pong::CONSTRUCTOR_ID;
    out
}
