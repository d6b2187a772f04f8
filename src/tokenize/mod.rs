//! Card tokenizers (feature `stripe`): the card goes to the payment provider, and only the
//! token it returns goes to Telegram, as Telegram's own apps do for forms whose
//! `native_provider` is `stripe` or `smartglocal`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use tgpay::card::Card;
//! use tgpay::credentials::Credentials;
//! use tgpay::tokenize::StripeTokenizer;
//!
//! let card = Card::new("4242 4242 4242 4242", "12/34", "123")?;
//! let token = StripeTokenizer::new("pk_test_…")
//!     .timeout(Duration::from_secs(20))
//!     .tokenize(&card)
//!     .await?;
//! assert_eq!(token.title, "Visa *4242");
//! let credentials = Credentials::from(token); // for payments.sendPaymentForm
//! # Ok(())
//! # }
//! ```
//!
//! [`Tokenizer::from_provider`] picks the tokenizer a payment form names.
//!
//! Every tokenizer:
//!
//! - checks the card's expiry against the current month and the billing details the provider
//!   asks for before any network call ([`TokenizeError::Card`]);
//! - sends the card only over HTTPS, or plain HTTP to a loopback address (tests, the sandbox);
//!   a URL with a user name, query or fragment is refused ([`TokenizeError::InvalidUrl`]);
//! - follows no redirects;
//! - retries once, after [`CONNECT_RETRY_DELAY`], when the connection could not be made (so
//!   nothing was sent), and never once the request may have been sent;
//! - gives up after its timeout ([`DEFAULT_TIMEOUT`] for the whole exchange,
//!   [`DEFAULT_CONNECT_TIMEOUT`] to connect);
//! - keeps the card number and the CVC out of every log line and error: a provider's message
//!   that repeats either is dropped.

mod error;
mod smartglocal;
mod stripe;

pub use error::{CardRejection, Provider, TokenizeError};
pub use smartglocal::SmartGlocalTokenizer;
pub use stripe::StripeTokenizer;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use crate::card::{Card, CardError, CardRequirements, YearMonth};
use crate::credentials::Credentials;
use crate::form::NativeProvider;

/// How long a tokenization may take, from connecting to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause before the one retry after a failed connection.
pub const CONNECT_RETRY_DELAY: Duration = Duration::from_millis(200);

/// The largest answer read from a tokenizer.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 300;

/// A tokenizer for whichever provider a payment form names.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Tokenizer {
    /// Stripe.
    Stripe(StripeTokenizer),
    /// SmartGlocal.
    SmartGlocal(SmartGlocalTokenizer),
}

impl Tokenizer {
    /// The tokenizer for a form's native provider, with its key, URL and billing
    /// requirements; `None` for providers that are paid through their web page.
    pub fn from_provider(provider: &NativeProvider) -> Option<Tokenizer> {
        StripeTokenizer::from_provider(provider)
            .map(Tokenizer::Stripe)
            .or_else(|| SmartGlocalTokenizer::from_provider(provider).map(Tokenizer::SmartGlocal))
    }

    /// Sets the time allowed for the whole exchange.
    pub fn timeout(self, timeout: Duration) -> Self {
        match self {
            Tokenizer::Stripe(t) => Tokenizer::Stripe(t.timeout(timeout)),
            Tokenizer::SmartGlocal(t) => Tokenizer::SmartGlocal(t.timeout(timeout)),
        }
    }

    /// Tokenizes `card`; the credentials pay for the form with `payments.sendPaymentForm`.
    pub async fn tokenize(&self, card: &Card) -> Result<Credentials, TokenizeError> {
        match self {
            Tokenizer::Stripe(t) => t.tokenize(card).await.map(Credentials::from),
            Tokenizer::SmartGlocal(t) => t.tokenize(card).await.map(Credentials::from),
        }
    }
}

/// Timeouts shared by the tokenizers.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    total: Duration,
    connect: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            total: DEFAULT_TIMEOUT,
            connect: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// The checks every tokenizer makes before the network.
fn check_card(card: &Card, requirements: CardRequirements) -> Result<(), TokenizeError> {
    let now = YearMonth::current();
    if card.expiry().is_expired_at(now) {
        return Err(CardError::Expired {
            month: card.expiry().month(),
            year: card.expiry().year(),
            now,
        }
        .into());
    }
    card.check_requirements(requirements)?;
    Ok(())
}

/// A key or token usable in an HTTP header: printable ASCII, no spaces.
fn check_header_token(provider: Provider, value: &str) -> Result<(), TokenizeError> {
    if value.is_empty() {
        return Err(TokenizeError::InvalidKey {
            provider,
            reason: "it is empty",
        });
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenizeError::InvalidKey {
            provider,
            reason: "it has characters other than printable ASCII",
        });
    }
    Ok(())
}

/// Parses a tokenizer URL: HTTPS, or HTTP to a loopback address; no user name, password,
/// query or fragment.
fn check_url(provider: Provider, url: &str) -> Result<reqwest::Url, TokenizeError> {
    let invalid = |reason| TokenizeError::InvalidUrl { provider, reason };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("it is not a URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("it has a user name or password"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it has a query or a fragment"));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        "http" => {
            return Err(invalid(
                "card data goes only over HTTPS (plain HTTP is allowed to loopback addresses)",
            ));
        }
        _ => return Err(invalid("it is neither https nor http")),
    }
    if parsed.host().is_none() {
        return Err(invalid("it has no host"));
    }
    Ok(parsed)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// The HTTP client for one tokenization: rustls, no redirects, the timeouts given.
fn client(timeouts: Timeouts) -> Result<reqwest::Client, TokenizeError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .user_agent(concat!("tgpay/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(TokenizeError::Client)
}

/// Sends a request made by `attempt`, once more after [`CONNECT_RETRY_DELAY`] if the first
/// connection failed (nothing was sent then), never after a later failure. On failure, the
/// error and the number of attempts.
async fn send_with_connect_retry<F, Fut>(
    provider: Provider,
    mut attempt: F,
) -> Result<reqwest::Response, (reqwest::Error, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<reqwest::Response, reqwest::Error>>,
{
    match attempt().await {
        Err(error) if error.is_connect() => {
            tracing::debug!(%provider, "connection failed before sending; retrying once");
            tokio::time::sleep(CONNECT_RETRY_DELAY).await;
            attempt().await.map_err(|error| (error, 2))
        }
        result => result.map_err(|error| (error, 1)),
    }
}

/// The error for a request that got no answer.
fn transport_error(
    provider: Provider,
    error: reqwest::Error,
    attempts: u32,
    timeouts: Timeouts,
) -> TokenizeError {
    if error.is_connect() {
        TokenizeError::Connect {
            provider,
            attempts,
            source: error,
        }
    } else if error.is_timeout() {
        TokenizeError::Timeout {
            provider,
            timeout: timeouts.total,
        }
    } else {
        TokenizeError::Network {
            provider,
            source: error,
        }
    }
}

/// An answer: status, `Retry-After`, and the body parsed as JSON (`None` if empty or not
/// JSON).
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    json: Option<serde_json::Value>,
}

/// Reads `body`, answered with `status`, as Stripe's and as SmartGlocal's answer to
/// tokenizing `card`, as [`exchange`] and the tokenizers do (for fuzzing, without HTTP).
#[cfg(feature = "fuzzing")]
pub(crate) fn read_answers(card: &Card, status: u16, body: &[u8]) -> [bool; 2] {
    let answer = || Answer {
        status,
        retry_after: None,
        json: serde_json::from_slice::<serde_json::Value>(body).ok(),
    };
    [
        stripe::read_answer(card, answer()).is_ok(),
        smartglocal::read_answer(card, answer()).is_ok(),
    ]
}

/// Sends `request` (retrying a failed connection once) and reads the answer, at most
/// [`MAX_BODY_BYTES`].
async fn exchange(
    provider: Provider,
    timeouts: Timeouts,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, TokenizeError> {
    let mut response = send_with_connect_retry(provider, || request().send())
        .await
        .map_err(|(error, attempts)| transport_error(provider, error, attempts, timeouts))?;
    let status = response.status().as_u16();
    tracing::debug!(%provider, status, "tokenizer answered");
    if response.status().is_redirection() {
        return Err(TokenizeError::BadResponse {
            provider,
            status,
            problem: "a redirect, which is not followed with card data",
        });
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(TokenizeError::BadResponse {
                        provider,
                        status,
                        problem: "the answer is larger than 64 KiB",
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => return Err(transport_error(provider, error, 1, timeouts)),
        }
    }
    let json = serde_json::from_slice::<serde_json::Value>(&body).ok();
    Ok(Answer {
        status,
        retry_after,
        json,
    })
}

/// Cleans text from a provider before it goes into an error: control characters become
/// spaces, it is cut to [`MAX_MESSAGE_CHARS`], and it is dropped if it repeats the card
/// number or the CVC.
struct Scrubber<'a> {
    number: &'a str,
    cvc: &'a str,
}

impl<'a> Scrubber<'a> {
    fn new(card: &'a Card) -> Self {
        Scrubber {
            number: card.number().expose(),
            cvc: card.cvc().expose(),
        }
    }

    fn clean(&self, text: Option<&str>) -> Option<String> {
        let text = text?.trim();
        if text.is_empty() {
            return None;
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if !self.number.is_empty() && digits.contains(self.number) {
            return None;
        }
        if !self.cvc.is_empty()
            && text
                .split(|c: char| !c.is_ascii_digit())
                .any(|run| run == self.cvc)
        {
            return None;
        }
        Some(
            text.chars()
                .take(MAX_MESSAGE_CHARS)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    }

    /// A string field of a JSON object, cleaned.
    fn field(&self, object: Option<&serde_json::Value>, key: &str) -> Option<String> {
        self.clean(object?.get(key)?.as_str())
    }
}

/// The title of a tokenized card: the provider's brand and last four digits where it gave
/// them, else the card's own; `Visa *4242`.
fn token_title(card: &Card, brand: Option<&str>, last4: Option<&str>) -> String {
    let brand = brand
        .and_then(crate::card::Brand::from_provider_name)
        .unwrap_or(card.brand());
    let last4 = last4
        .filter(|l| l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or(card.last4());
    format!("{} *{last4}", brand.name())
}

/// A token as the provider sent it: non-empty, printable ASCII, at most 255 bytes.
fn token_text(
    provider: Provider,
    status: u16,
    token: Option<&str>,
) -> Result<String, TokenizeError> {
    match token {
        Some(token)
            if !token.is_empty()
                && token.len() <= 255
                && token.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(token.to_owned())
        }
        Some(_) => Err(TokenizeError::BadResponse {
            provider,
            status,
            problem: "the token is empty, too long or not printable ASCII",
        }),
        None => Err(TokenizeError::BadResponse {
            provider,
            status,
            problem: "no token in the answer",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A port nothing listens on.
    async fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        port
    }

    /// Answers `connections` requests with 200 and counts them.
    async fn server(respond: bool) -> (u16, tokio::task::JoinHandle<u32>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut seen = 0;
            while let Ok(Ok((mut stream, _))) =
                tokio::time::timeout(Duration::from_secs(2), listener.accept()).await
            {
                seen += 1;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                if respond {
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                        )
                        .await;
                }
                // Otherwise hang up after the request arrived.
            }
            seen
        });
        (port, task)
    }

    fn plain_client() -> reqwest::Client {
        client(Timeouts::default()).unwrap()
    }

    #[tokio::test]
    async fn a_failed_connection_is_retried_once_and_can_succeed() {
        let dead = closed_port().await;
        let (live, served) = server(true).await;
        let client = plain_client();
        let mut urls = vec![
            format!("http://127.0.0.1:{live}/"),
            format!("http://127.0.0.1:{dead}/"),
        ];
        let mut calls = 0;
        let result = send_with_connect_retry(Provider::Stripe, || {
            calls += 1;
            client.get(urls.pop().unwrap()).send()
        })
        .await;
        assert_eq!(calls, 2);
        assert_eq!(result.unwrap().status(), 200);
        drop(client);
        assert_eq!(served.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn two_failed_connections_give_up() {
        let dead = closed_port().await;
        let client = plain_client();
        let mut calls = 0;
        let result = send_with_connect_retry(Provider::Stripe, || {
            calls += 1;
            client.get(format!("http://127.0.0.1:{dead}/")).send()
        })
        .await;
        let (error, attempts) = result.unwrap_err();
        assert!(error.is_connect());
        assert_eq!((calls, attempts), (2, 2));
    }

    #[tokio::test]
    async fn a_failure_after_sending_is_not_retried() {
        let (port, served) = server(false).await;
        let client = plain_client();
        let mut calls = 0;
        let result = send_with_connect_retry(Provider::Stripe, || {
            calls += 1;
            client
                .post(format!("http://127.0.0.1:{port}/v1/tokens"))
                .body("card%5Bnumber%5D=4242424242424242")
                .send()
        })
        .await;
        let (error, attempts) = result.unwrap_err();
        assert!(!error.is_connect(), "{error:?}");
        assert_eq!((calls, attempts), (1, 1));
        drop(client);
        assert_eq!(served.await.unwrap(), 1);
    }

    #[test]
    fn urls_must_be_https_or_loopback() {
        for ok in [
            "https://api.stripe.com",
            "http://127.0.0.1:8080",
            "http://127.8.9.10/",
            "http://[::1]:99/x",
            "http://localhost:1234",
        ] {
            assert!(check_url(Provider::Stripe, ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.stripe.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://user:pw@api.stripe.com",
            "https://api.stripe.com/?x=1",
            "https://api.stripe.com/#f",
            "not a url",
            "http://localhost.evil.example",
        ] {
            assert!(
                matches!(
                    check_url(Provider::Stripe, bad),
                    Err(TokenizeError::InvalidUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn scrubber_drops_messages_that_repeat_secrets() {
        let now = YearMonth::new(2026, 1).unwrap();
        let card = Card::builder()
            .number("4242424242424242")
            .expiry("12/30")
            .cvc("987")
            .build_at(now)
            .unwrap();
        let scrub = Scrubber::new(&card);
        assert_eq!(
            scrub.clean(Some("Your card was declined.")).as_deref(),
            Some("Your card was declined.")
        );
        assert_eq!(scrub.clean(Some("number 4242 4242 4242 4242 bad")), None);
        assert_eq!(scrub.clean(Some("cvc 987 wrong")), None);
        assert_eq!(
            scrub.clean(Some("line\nbreak")).as_deref(),
            Some("line break")
        );
        assert_eq!(scrub.clean(Some("   ")), None);
        let long = "x".repeat(1000);
        assert_eq!(
            scrub.clean(Some(&long)).map(|m| m.chars().count()),
            Some(MAX_MESSAGE_CHARS)
        );
    }

    #[test]
    fn titles_prefer_the_providers_brand_and_last_four() {
        let now = YearMonth::new(2026, 1).unwrap();
        let card = Card::builder()
            .number("4242424242424242")
            .expiry("12/30")
            .cvc("123")
            .build_at(now)
            .unwrap();
        assert_eq!(
            token_title(&card, Some("MasterCard"), Some("4444")),
            "Mastercard *4444"
        );
        assert_eq!(
            token_title(&card, Some("Unknown"), Some("12")),
            "Visa *4242"
        );
        assert_eq!(token_title(&card, None, None), "Visa *4242");
    }
}
