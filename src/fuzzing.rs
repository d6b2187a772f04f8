//! Entry points of the cargo-fuzz targets in `fuzz/` (feature `fuzzing`), one per input of the
//! library that crosses a trust boundary. Each takes arbitrary bytes and must return without
//! panicking, whatever they are; `tests/fuzz_corpus.rs` runs each over its committed seeds and
//! over every input a fuzz run ever found, in the normal test suite. The sandbox's and the
//! command line's entry points are in `tgpay_sandbox::fuzzing` and `tgpay_cli::fuzzing`.

use grammers_tl_types::Identifiable;

use crate::card::{Brand, Card, CardNumber, Cvc, Expiry, YearMonth};
use crate::credentials::WebCredentials;
use crate::currency::{Amount, Currency};
use crate::form::{NativeProvider, PaymentForm};
use crate::invoice::InvoiceRef;
use crate::order::{OrderInfo, SavedInfo, ValidatedOrder};
use crate::receipt::Receipt;
use crate::stars::{StarsStatus, StarsTransaction};
use crate::tl::{self, nesting};

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
        let provider = NativeProvider::from_tl(name.to_owned(), Some(params.clone().into()), test);
        let _ = crate::tokenize::Tokenizer::from_provider(&provider);
        // The fast Stripe path says only what the general one says.
        if name == "stripe" {
            let general =
                NativeProvider::from_tl_general(name.to_owned(), Some(params.into()), test);
            assert_eq!(
                provider, general,
                "the fast Stripe path disagrees on {json:?}"
            );
        }
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

/// Decodes `bytes` as the answer to `F` the way tgpay does (nesting checked first, unless the
/// schema bounds it, then grammers' deserializer), and checks that bound against the walk.
fn answer<F: tl::RemoteCall + Identifiable>(bytes: &[u8]) -> Option<F::Return> {
    if let Some(bound) = nesting::answer_depth_bound(F::CONSTRUCTOR_ID)
        && let Ok(depth) = nesting::answer_nesting(F::CONSTRUCTOR_ID, bytes)
    {
        assert!(
            depth <= bound,
            "an answer nests {depth} levels, over its bound {bound}"
        );
    }
    nesting::decode_answer::<F>(bytes).ok()
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
