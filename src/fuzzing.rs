//! Entry points of the cargo-fuzz targets in `fuzz/` (feature `fuzzing`), one per input that
//! crosses a trust boundary. Each takes arbitrary bytes and must return without panicking,
//! whatever they are; `tests/fuzz_corpus.rs` runs each over its committed seeds and over every
//! input a fuzz run ever found, in the normal test suite.
//!
//! The sandbox's entry points run its real code without sockets: the transport's byte
//! handling ([`sandbox_stream`]), the message rules and the world's request handling
//! ([`sandbox_message`]), and the web pages ([`sandbox_http`]). They share one sandbox state
//! with fixed keys, a fixed salt secret and a fixed clock ([`NOW`]), so that a seed made once
//! stays valid.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use grammers_tl_types::{Deserializable, Identifiable};

use crate::card::{Brand, Card, CardNumber, Cvc, Expiry, YearMonth};
use crate::credentials::WebCredentials;
use crate::currency::{Amount, Currency};
use crate::form::{NativeProvider, PaymentForm};
use crate::invoice::InvoiceRef;
use crate::order::{OrderInfo, SavedInfo, ValidatedOrder};
use crate::receipt::Receipt;
use crate::sandbox::keys::{AuthKey, KeyEntry, KeyStore};
use crate::sandbox::scenario::{ALICE, Scenario};
use crate::sandbox::transport::{ServerConfig, Shared};
use crate::sandbox::world::World;
use crate::stars::{StarsStatus, StarsTransaction};
use crate::tl::{self, nesting};

/// The unix time the sandbox's message rules see in the sandbox entry points.
pub const NOW: i64 = 1_800_000_000;

/// The month card expiries are checked against.
const THIS_MONTH: (u16, u8) = (2027, 1);

fn lines(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(str::to_owned)
        .collect()
}

/// `InvoiceRef::parse` on the input as text.
pub fn invoice_ref(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(invoice) = InvoiceRef::parse(&text) {
        let _ = invoice.to_input_invoice();
        let _ = format!("{invoice:?}");
    }
}

/// Web credentials (`payment_form_submit` events) and a provider's `native_params`: the first
/// line is the provider's name, the rest is both the event and the parameters.
pub fn credentials(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (name, json) = text.split_once('\n').unwrap_or(("stripe", &text));
    if let Ok(web) = WebCredentials::from_event(json) {
        let _ = (web.title(), web.data());
    }
    for test in [false, true] {
        let params = tl::types::DataJson {
            data: json.to_owned(),
        };
        let provider = NativeProvider::from_tl(name.to_owned(), Some(params.into()), test);
        let _ = crate::tokenize::Tokenizer::from_provider(&provider);
    }
}

/// Card input: lines are the number, expiry, CVC, cardholder name, country and ZIP code.
pub fn card(data: &[u8]) {
    let fields = lines(data);
    let field = |i: usize| fields.get(i).map(String::as_str).unwrap_or_default();
    let Some(now) = YearMonth::new(THIS_MONTH.0, THIS_MONTH.1) else {
        return;
    };
    let _ = CardNumber::parse(field(0));
    let _ = Expiry::parse(field(1), now);
    for brand in [Brand::Visa, Brand::AmericanExpress, Brand::Mir] {
        let _ = Cvc::parse(field(2), brand);
    }
    let mut builder = Card::builder()
        .number(field(0))
        .expiry(field(1))
        .cvc(field(2));
    if fields.len() > 3 {
        builder = builder
            .cardholder_name(field(3))
            .country(field(4))
            .zip(field(5));
    }
    if let Ok(card) = builder.build_at(now) {
        let _ = (card.title(), format!("{card:?}"));
    }
}

/// Amounts and currencies: the first line is a currency code, the rest an amount to parse in
/// it (and without one).
pub fn amount(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (code, input) = text.split_once('\n').unwrap_or(("USD", &text));
    let _ = Amount::parse_plain(input);
    for currency in [
        Currency::from_code(code),
        Currency::from_code_or_fallback(code),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(amount) = Amount::parse(input, currency) {
            let _ = amount.to_string();
            let _ = amount.checked_add(amount);
        }
        let _ = currency.parse_amount(input);
    }
}

/// Decodes `bytes` as the answer to `F` the way tgpay does: nesting checked first, then
/// grammers' deserializer.
fn answer<F: tl::RemoteCall + Identifiable>(bytes: &[u8]) -> Option<F::Return> {
    nesting::check_answer(F::CONSTRUCTOR_ID, bytes).ok()?;
    F::Return::from_bytes(bytes).ok()
}

/// A server's answer: the first byte picks the method, the rest is its answer; it is decoded
/// as tgpay decodes answers and sanitized into the value the library hands out.
pub fn tl_answer(data: &[u8]) {
    use tl::functions::{messages, payments};
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let usd = Currency::from_code("USD").ok();
    match which % 8 {
        0 => {
            if let Some(form) = answer::<payments::GetPaymentForm>(bytes)
                && let Ok(invoice) = InvoiceRef::parse("https://t.me/$sandbox")
            {
                let _ = PaymentForm::from_tl(form, invoice);
            }
        }
        1 => {
            if let Some(receipt) = answer::<payments::GetPaymentReceipt>(bytes) {
                let _ = Receipt::from_tl(receipt);
            }
        }
        2 => {
            if let Some(status) = answer::<payments::GetStarsStatus>(bytes) {
                let _ = StarsStatus::from_tl(&status);
            }
        }
        3 => {
            if let Some(tl::enums::payments::StarsStatus::Status(status)) =
                answer::<payments::GetStarsTransactions>(bytes)
            {
                for tx in status.history.iter().flatten() {
                    let _ = StarsTransaction::from_tl(tx);
                }
            }
        }
        4 => {
            if let (Some(validated), Some(usd)) =
                (answer::<payments::ValidateRequestedInfo>(bytes), usd)
            {
                let _ = ValidatedOrder::from_tl(validated, OrderInfo::default(), true, usd);
            }
        }
        5 => {
            if let Some(saved) = answer::<payments::GetSavedInfo>(bytes) {
                let _ = SavedInfo::from_tl(saved);
            }
        }
        6 => {
            let _ = answer::<payments::SendPaymentForm>(bytes);
        }
        _ => {
            let _ = answer::<messages::GetHistory>(bytes);
        }
    }
}

/// A payment provider's HTTP answer to tokenizing a card: the first two bytes are the status
/// code (big-endian), the rest the body, read as Stripe's and as SmartGlocal's.
pub fn provider_answer(data: &[u8]) {
    let status = match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]) % 600,
        _ => 200,
    };
    let body = data.get(2..).unwrap_or_default();
    let Some(now) = YearMonth::new(THIS_MONTH.0, THIS_MONTH.1) else {
        return;
    };
    if let Ok(card) = Card::builder()
        .number("4242 4242 4242 4242")
        .expiry("12/30")
        .cvc("123")
        .build_at(now)
    {
        let _ = crate::tokenize::read_answers(&card, status, body);
    }
}

/// A session file's bytes.
pub fn session_file(data: &[u8]) {
    let _ = crate::session::decode(data);
}

/// A scenario file: TOML, or JSON when it starts with `{`. One that parses is checked, and a
/// world is made from it (without 2FA passwords, whose key derivation is slow on purpose).
pub fn scenario_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = if text.trim_start().starts_with('{') {
        Scenario::from_json(&text)
    } else {
        Scenario::from_toml(&text)
    };
    let Ok(mut scenario) = parsed else {
        return;
    };
    if scenario.check().is_err() {
        return;
    }
    for user in &mut scenario.users {
        user.password = None;
    }
    let _ = World::new(&scenario, "http://127.0.0.1:1");
}

/// The auth key the sandbox entry points know for Alice: fixed, so seeds can be encrypted.
pub fn fuzz_key() -> AuthKey {
    let mut bytes = [0u8; 256];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    AuthKey::from_bytes(bytes)
}

/// The server salt valid at [`NOW`] for [`fuzz_key`].
pub fn fuzz_salt() -> i64 {
    let sandbox = sandbox();
    sandbox.shared.salts.current(sandbox.key.key_id, NOW)
}

/// How many times Alice called `method` in the sandbox entry points' world since it was last
/// made anew (for checking that seeds reach the world).
pub fn world_calls(method: &str) -> u64 {
    let world = Arc::clone(&sandbox().world);
    world
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .call_count(ALICE, method)
}

struct FuzzSandbox {
    world: Arc<Mutex<World>>,
    shared: Arc<Shared>,
    key: Arc<KeyEntry>,
    runs: u64,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

/// Runs before a world's state grows large: the world is made anew every so many inputs.
const RUNS_PER_WORLD: u64 = 20_000;

fn sandbox() -> MutexGuard<'static, FuzzSandbox> {
    static SANDBOX: OnceLock<Mutex<FuzzSandbox>> = OnceLock::new();
    let mut guard = SANDBOX
        .get_or_init(|| {
            let world = Arc::new(Mutex::new(new_world()));
            let keys = KeyStore::new();
            let key = fuzz_key();
            let _ = keys.register(ALICE, key.clone());
            let entry = keys.get(key.key_id()).unwrap_or_else(|| {
                Arc::new(KeyEntry {
                    key_id: key.key_id(),
                    user_id: ALICE,
                    key,
                })
            });
            let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
            let handler = crate::sandbox::handle::world_handler(Arc::clone(&world), keys.clone());
            let shared = Shared::new(
                keys,
                Box::new(handler),
                ServerConfig::default(),
                shutdown_rx,
                crate::sandbox::session::Salts::with_secret([42; 32]),
                Some(NOW),
            );
            Mutex::new(FuzzSandbox {
                world,
                shared,
                key: entry,
                runs: 0,
                _shutdown: shutdown,
            })
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    guard.runs += 1;
    if guard.runs % RUNS_PER_WORLD == 0 {
        let fresh = new_world();
        *guard.world.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
    }
    guard
}

fn new_world() -> World {
    let mut scenario = Scenario::default_world();
    // Alice keeps a password (so 2FA requests reach the SRP code) with a cheap record.
    for user in &mut scenario.users {
        if user.id != ALICE {
            user.password = None;
        }
    }
    match World::new(&scenario, "http://127.0.0.1:1") {
        Ok(world) => world,
        Err(_) => World::new(&Scenario::default_world(), "http://127.0.0.1:1")
            .unwrap_or_else(|_| unreachable_world()),
    }
}

#[cold]
fn unreachable_world() -> World {
    // The default world is checked by the sandbox's own tests; an empty scenario cannot fail.
    match World::new(&Scenario::default(), "http://127.0.0.1:1") {
        Ok(world) => world,
        Err(error) => panic!("the empty world cannot be made: {error}"),
    }
}

/// Raw bytes a client sends on a new connection to the sandbox's MTProto server (any
/// transport, plain or obfuscated). The first byte sets how the rest is cut into reads.
pub fn sandbox_stream(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let size = usize::from(cut) * 16 + 1;
    let chunks: Vec<&[u8]> = rest.chunks(size).collect();
    let shared = Arc::clone(&sandbox().shared);
    let _ = crate::sandbox::transport::feed(&shared, &chunks);
}

/// A decrypted MTProto message from Alice's key, after its salt: `session_id`, `msg_id`,
/// `seqno`, length, the message (a query, a container, a service message…) and padding. The
/// server salt valid at [`NOW`] is put in front.
pub fn sandbox_message(data: &[u8]) {
    let guard = sandbox();
    let shared = Arc::clone(&guard.shared);
    let key = Arc::clone(&guard.key);
    drop(guard);
    let mut plaintext = shared.salts.current(key.key_id, NOW).to_le_bytes().to_vec();
    plaintext.extend_from_slice(data);
    crate::sandbox::mtproto::fuzz_process(&shared, &key, &plaintext);
}

/// An HTTP/1.1 request (or several) to the sandbox's web pages.
pub fn sandbox_http(data: &[u8]) {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    let Some(runtime) = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
    else {
        return;
    };
    let world = Arc::clone(&sandbox().world);
    let config = crate::sandbox::web::WebConfig::default();
    let app = crate::sandbox::web::router(world, Arc::new(|_| {}), &config);
    runtime.block_on(async move {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (mut client, server) = tokio::io::duplex(256 * 1024);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(server), TowerToHyperService::new(app));
        let served = tokio::spawn(connection);
        let talk = async {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answer = Vec::new();
            let _ = client.read_to_end(&mut answer).await;
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), talk).await;
        served.abort();
    });
}

/// [`crate::text::sanitize`] on the input as text: nothing unsafe survives, clean text is
/// unchanged, sanitizing is idempotent, and every line of [`crate::text::sanitize_lines`] is
/// clean.
pub fn sanitize(data: &[u8]) {
    use crate::text::{is_unsafe, sanitize, sanitize_lines};
    let input = String::from_utf8_lossy(data);
    let shown = sanitize(&input);
    assert!(!shown.chars().any(is_unsafe), "{input:?} -> {shown:?}");
    if !input.chars().any(is_unsafe) {
        assert_eq!(shown, input);
    }
    assert_eq!(sanitize(&shown), shown);
    for line in sanitize_lines(&input) {
        assert!(!line.chars().any(is_unsafe), "{input:?} -> {line:?}");
    }
}

/// A payment journal file (JSON lines, as `JsonlJournal` reads it): every line that parses is
/// an entry whose unresolved attempts and claimed receipts can be worked out.
pub fn journal(data: &[u8]) {
    let mut entries = Vec::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(entry) = serde_json::from_slice::<crate::journal::Entry>(line) {
            let _ = serde_json::to_vec(&entry);
            entries.push(entry);
        }
    }
    for payment in crate::journal::unresolved(&entries) {
        let _ = (
            payment.to_string(),
            payment.slug(),
            payment.invoice_msg_id(),
        );
    }
    let _ = crate::journal::claimed_receipts(&entries);
}
