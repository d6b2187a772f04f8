//! The Stripe and SmartGlocal tokenizers against a local HTTP server that records the exact
//! request and answers as the provider does, for success and each error; local refusals that
//! send nothing; connection failures, hang-ups and timeouts; and no card data in errors or log
//! lines.

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tgpay::card::{Card, CardError, CardRequirements, YearMonth};
use tgpay::credentials::Credentials;
use tgpay::form::{NativeProvider, SMARTGLOCAL_TEST_TOKENIZE_URL, SMARTGLOCAL_TOKENIZE_URL};
use tgpay::tl;
use tgpay::tokenize::{
    CardRejection, Provider, SmartGlocalTokenizer, StripeTokenizer, TokenizeError, Tokenizer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server read it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    /// Header names in lower case, in order.
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The form fields, decoded, in order.
    fn form(&self) -> Vec<(String, String)> {
        self.body
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (decode(key), decode(value))
            })
            .collect()
    }
}

/// `application/x-www-form-urlencoded` decoding.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// What the server does with a request.
#[derive(Clone)]
enum Reply {
    /// Answers with a status, extra headers and a body.
    Answer(u16, Vec<(&'static str, String)>, String),
    /// Closes the connection after reading the request.
    HangUp,
    /// Reads the request and never answers.
    Silence,
}

fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply::Answer(status, Vec::new(), body.to_string())
}

/// A loopback HTTP/1.1 server that records requests and answers each with `reply`.
struct Server {
    base: String,
    requests: Arc<Mutex<Vec<Request>>>,
    connections: Arc<Mutex<u32>>,
}

impl Server {
    async fn start(reply: Reply) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (recorded, counted) = (Arc::clone(&requests), Arc::clone(&connections));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                *counted.lock().unwrap() += 1;
                let (recorded, reply) = (Arc::clone(&recorded), reply.clone());
                tokio::spawn(serve(stream, recorded, reply));
            }
        });
        Server {
            base,
            requests,
            connections,
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn only_request(&self) -> Request {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests.into_iter().next().unwrap()
    }

    fn connections(&self) -> u32 {
        *self.connections.lock().unwrap()
    }
}

async fn serve(mut stream: TcpStream, recorded: Arc<Mutex<Vec<Request>>>, reply: Reply) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap().split(' ');
    let (method, path) = (
        request_line.next().unwrap().to_owned(),
        request_line.next().unwrap().to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    recorded.lock().unwrap().push(Request {
        method,
        path,
        headers,
        body: String::from_utf8(body).unwrap(),
    });
    match reply {
        Reply::Answer(status, extra, body) => {
            let mut response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n",
                body.len()
            );
            for (name, value) in extra {
                write!(response, "{name}: {value}\r\n").unwrap();
            }
            response.push_str("\r\n");
            response.push_str(&body);
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Reply::HangUp => {}
        Reply::Silence => tokio::time::sleep(Duration::from_secs(30)).await,
    }
}

/// A year safely ahead of the system clock.
fn future_year() -> u16 {
    YearMonth::current().year() + 4
}

fn visa() -> Card {
    Card::builder()
        .number("4242 4242 4242 4242")
        .expiry_month_year(3, u32::from(future_year()))
        .cvc("987")
        .build()
        .unwrap()
}

fn stripe_token_json(id: &str, brand: &str, last4: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "object": "token",
        "card": {
            "id": "card_1N3T00LkdIwHu7ixRdxpVI1Q",
            "object": "card",
            "brand": brand,
            "last4": last4,
            "exp_month": 3,
            "exp_year": future_year(),
            "funding": "credit",
        },
        "livemode": false,
        "type": "card",
        "used": false,
    })
}

fn stripe(server: &Server) -> StripeTokenizer {
    StripeTokenizer::new("pk_test_TYooMQauvdEDq54NiTphI7jx").base_url(&server.base)
}

/// The `inputPaymentCredentials` JSON for credentials.
fn credentials_json(credentials: Credentials) -> String {
    match credentials.to_tl(false, None).unwrap() {
        tl::enums::InputPaymentCredentials::Credentials(c) => {
            let tl::enums::DataJson::Json(data) = c.data;
            data.data
        }
        other => panic!("new card credentials expected, got {other:?}"),
    }
}

#[tokio::test]
async fn stripe_request_is_exactly_what_stripe_expects() {
    let server = Server::start(json(
        200,
        stripe_token_json("tok_1N3T00LkdIwHu7ixt44h1F8k", "Visa", "4242"),
    ))
    .await;
    let token = stripe(&server).tokenize(&visa()).await.unwrap();
    assert_eq!(token.id.expose(), "tok_1N3T00LkdIwHu7ixt44h1F8k");
    assert_eq!(token.title, "Visa *4242");
    assert_eq!(
        credentials_json(token.into()),
        r#"{"type":"card","id":"tok_1N3T00LkdIwHu7ixt44h1F8k"}"#
    );

    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/tokens");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer pk_test_TYooMQauvdEDq54NiTphI7jx")
    );
    assert_eq!(request.header("stripe-version"), Some("2015-10-12"));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    let year = future_year().to_string();
    assert_eq!(
        request.form(),
        vec![
            ("card[number]".to_owned(), "4242424242424242".to_owned()),
            ("card[cvc]".to_owned(), "987".to_owned()),
            ("card[exp_month]".to_owned(), "3".to_owned()),
            ("card[exp_year]".to_owned(), year.clone()),
        ]
    );
    assert_eq!(
        request.body,
        format!(
            "card%5Bnumber%5D=4242424242424242&card%5Bcvc%5D=987&card%5Bexp_month%5D=3&\
             card%5Bexp_year%5D={year}"
        )
    );
}

#[tokio::test]
async fn stripe_billing_details_are_sent_when_present_and_empty_ones_never() {
    let server = Server::start(json(
        200,
        stripe_token_json("tok_amex", "American Express", "0005"),
    ))
    .await;
    let card = Card::builder()
        .number("3782 822463 10005")
        .expiry_month_year(11, u32::from(future_year()))
        .cvc("9876")
        .cardholder_name("Ada Lovelace")
        .country("gb")
        .zip("SW1A 1AA")
        .build()
        .unwrap();
    let token = stripe(&server).tokenize(&card).await.unwrap();
    assert_eq!(token.title, "American Express *0005");
    let form = server.only_request().form();
    assert_eq!(
        form[4..],
        [
            ("card[name]".to_owned(), "Ada Lovelace".to_owned()),
            ("card[address_country]".to_owned(), "GB".to_owned()),
            ("card[address_zip]".to_owned(), "SW1A 1AA".to_owned()),
        ]
    );

    // Blank details are not sent at all.
    let server = Server::start(json(200, stripe_token_json("tok_x", "Visa", "4242"))).await;
    let card = Card::builder()
        .number("4242424242424242")
        .expiry_month_year(1, u32::from(future_year()))
        .cvc("123")
        .cardholder_name("   ")
        .country("")
        .zip("")
        .build()
        .unwrap();
    stripe(&server).tokenize(&card).await.unwrap();
    let form = server.only_request().form();
    assert_eq!(form.len(), 4, "{form:?}");
    assert!(form.iter().all(|(_, v)| !v.is_empty()));
}

#[tokio::test]
async fn stripe_titles_follow_the_brand_stripe_reports() {
    let server = Server::start(json(200, stripe_token_json("tok_mc", "MasterCard", "4444"))).await;
    let card = Card::builder()
        .number("5555 5555 5555 4444")
        .expiry_month_year(1, u32::from(future_year()))
        .cvc("123")
        .build()
        .unwrap();
    let token = stripe(&server).tokenize(&card).await.unwrap();
    assert_eq!(token.title, "Mastercard *4444");
}

fn stripe_error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Reply {
    let mut error = serde_json::json!({ "type": kind, "message": message });
    if let Some(code) = code {
        error["code"] = code.into();
        error["param"] = "number".into();
    }
    json(status, serde_json::json!({ "error": error }))
}

#[tokio::test]
async fn stripe_card_errors_are_typed() {
    let cases = [
        ("incorrect_number", CardRejection::IncorrectNumber),
        ("invalid_number", CardRejection::InvalidNumber),
        ("invalid_expiry_month", CardRejection::InvalidExpiryMonth),
        ("invalid_expiry_year", CardRejection::InvalidExpiryYear),
        ("invalid_cvc", CardRejection::InvalidCvc),
        ("incorrect_cvc", CardRejection::IncorrectCvc),
        ("expired_card", CardRejection::ExpiredCard),
        ("incorrect_zip", CardRejection::IncorrectZip),
        ("card_declined", CardRejection::CardDeclined),
        ("processing_error", CardRejection::ProcessingError),
        ("card_velocity_exceeded", CardRejection::Other),
    ];
    for (code, reason) in cases {
        let server = Server::start(stripe_error(
            402,
            "card_error",
            Some(code),
            "Your card has a problem.",
        ))
        .await;
        let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
        match &error {
            TokenizeError::CardRejected {
                provider: Provider::Stripe,
                reason: got,
                code: Some(got_code),
                message: Some(message),
                ..
            } => {
                assert_eq!((*got, got_code.as_str()), (reason, code));
                assert_eq!(message, "Your card has a problem.");
            }
            other => panic!("{code}: {other:?}"),
        }
        let text = error.to_string();
        assert!(
            text.starts_with("Stripe refused the card: ") && text.contains(code),
            "{text}"
        );
        assert_eq!(server.connections(), 1);
    }

    // A decline with the issuer's reason.
    let server = Server::start(json(
        402,
        serde_json::json!({"error": {
            "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."
        }}),
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            TokenizeError::CardRejected {
                reason: CardRejection::CardDeclined,
                decline_code: Some(d),
                ..
            } if d == "insufficient_funds"
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "Stripe refused the card: the card was declined: use another card or ask the bank why \
         (card_declined), decline code insufficient_funds; Stripe says: Your card has \
         insufficient funds."
    );
}

#[tokio::test]
async fn stripe_request_auth_rate_and_server_errors_are_typed() {
    // A bad key.
    let server = Server::start(stripe_error(
        401,
        "invalid_request_error",
        None,
        "Invalid API Key provided: pk_test_****I7jx",
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            TokenizeError::Unauthorized {
                status: 401,
                message: Some(m),
                ..
            } if m.starts_with("Invalid API Key")
        ),
        "{error:?}"
    );
    // A key without the permission.
    let server = Server::start(stripe_error(403, "invalid_request_error", None, "No.")).await;
    assert!(matches!(
        stripe(&server).tokenize(&visa()).await,
        Err(TokenizeError::Unauthorized { status: 403, .. })
    ));
    // Rate limited, with Retry-After.
    let server = Server::start(Reply::Answer(
        429,
        vec![("Retry-After", "3".to_owned())],
        serde_json::json!({"error": {"type": "invalid_request_error", "code": "rate_limit",
            "message": "Too many requests hit the API too quickly."}})
        .to_string(),
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(
            error,
            TokenizeError::RateLimited {
                retry_after: Some(d),
                ..
            } if d == Duration::from_secs(3)
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "Stripe is rate limiting requests: try again in 3 s"
    );
    // An invalid request that is not about the card.
    let server = Server::start(json(
        400,
        serde_json::json!({"error": {"type": "invalid_request_error", "code": "parameter_unknown",
            "param": "card[foo]", "message": "Received unknown parameter: card[foo]"}}),
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            TokenizeError::Refused {
                status: 400,
                code: Some(c),
                param: Some(p),
                ..
            } if c == "parameter_unknown" && p == "card[foo]"
        ),
        "{error:?}"
    );
    // Stripe's own failures.
    let server = Server::start(stripe_error(
        500,
        "api_error",
        None,
        "Something went wrong.",
    ))
    .await;
    assert!(matches!(
        stripe(&server).tokenize(&visa()).await,
        Err(TokenizeError::ProviderFailed { status: 500, .. })
    ));
    let server = Server::start(Reply::Answer(502, Vec::new(), "<html>bad gateway".into())).await;
    assert!(matches!(
        stripe(&server).tokenize(&visa()).await,
        Err(TokenizeError::ProviderFailed { status: 502, .. })
    ));
    // Answers that are not Stripe's.
    for (status, body) in [
        (200, "not json"),
        (200, "[]"),
        (200, r#"{"object":"token"}"#),
        (200, r#"{"id":""}"#),
        (418, "teapot"),
    ] {
        let server = Server::start(Reply::Answer(status, Vec::new(), body.into())).await;
        let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
        assert!(
            matches!(error, TokenizeError::BadResponse { status: s, .. } if s == status),
            "{body}: {error:?}"
        );
    }
}

#[tokio::test]
async fn redirects_are_not_followed_with_card_data() {
    let elsewhere = Server::start(json(200, stripe_token_json("tok_x", "Visa", "4242"))).await;
    let server = Server::start(Reply::Answer(
        307,
        vec![("Location", format!("{}/v1/tokens", elsewhere.base))],
        String::new(),
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(error, TokenizeError::BadResponse { status: 307, .. }),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(elsewhere.connections(), 0);
}

#[tokio::test]
async fn provider_messages_repeating_card_data_are_dropped() {
    let server = Server::start(stripe_error(
        402,
        "card_error",
        Some("incorrect_number"),
        "The number 4242 4242 4242 4242 is incorrect.",
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(error, TokenizeError::CardRejected { message: None, .. }),
        "{error:?}"
    );
    let server = Server::start(stripe_error(
        402,
        "card_error",
        Some("incorrect_cvc"),
        "CVC 987 is wrong.",
    ))
    .await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(error, TokenizeError::CardRejected { message: None, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn local_refusals_send_nothing() {
    let server = Server::start(json(200, stripe_token_json("tok_x", "Visa", "4242"))).await;

    // An expired card (built when it was still good).
    let old = Card::builder()
        .number("4242424242424242")
        .expiry("01/21")
        .cvc("123")
        .build_at(YearMonth::new(2020, 6).unwrap())
        .unwrap();
    assert!(matches!(
        stripe(&server).tokenize(&old).await,
        Err(TokenizeError::Card(CardError::Expired {
            month: 1,
            year: 2021,
            ..
        }))
    ));
    // Billing details the form asks for.
    let tokenizer = stripe(&server).requirements(CardRequirements {
        cardholder_name: false,
        country: false,
        zip: true,
    });
    assert!(matches!(
        tokenizer.tokenize(&visa()).await,
        Err(TokenizeError::Card(CardError::ZipMissing))
    ));
    // Keys.
    for key in ["", "sk_test_secret", "rk_live_x", "pk_test_with space"] {
        let error = StripeTokenizer::new(key)
            .base_url(&server.base)
            .tokenize(&visa())
            .await
            .unwrap_err();
        assert!(
            matches!(error, TokenizeError::InvalidKey { .. }),
            "{key}: {error:?}"
        );
    }
    // URLs.
    for url in [
        "http://api.stripe.com",
        "https://user:pass@api.stripe.com",
        "file:///etc",
    ] {
        let error = StripeTokenizer::new("pk_test_x")
            .base_url(url)
            .tokenize(&visa())
            .await
            .unwrap_err();
        assert!(
            matches!(error, TokenizeError::InvalidUrl { .. }),
            "{url}: {error:?}"
        );
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn stripe_from_a_forms_native_provider() {
    let provider = NativeProvider::from_tl(
        "stripe".to_owned(),
        Some(tl::enums::DataJson::Json(tl::types::DataJson {
            data: r#"{"publishable_key":"pk_test_form","need_country":true,"need_zip":false,"need_cardholder_name":false}"#
                .to_owned(),
        })),
        true,
    );
    let tokenizer = StripeTokenizer::from_provider(&provider).unwrap();
    assert_eq!(tokenizer.endpoint(), "https://api.stripe.com/v1/tokens");
    assert!(SmartGlocalTokenizer::from_provider(&provider).is_none());

    let server = Server::start(json(200, stripe_token_json("tok_form", "Visa", "4242"))).await;
    let Some(Tokenizer::Stripe(tokenizer)) = Tokenizer::from_provider(&provider) else {
        panic!("a Stripe tokenizer");
    };
    let tokenizer = tokenizer.base_url(format!("{}/", server.base));
    assert!(matches!(
        tokenizer.tokenize(&visa()).await,
        Err(TokenizeError::Card(CardError::CountryMissing))
    ));
    let card = Card::builder()
        .number("4242424242424242")
        .expiry_month_year(1, u32::from(future_year()))
        .cvc("123")
        .country("US")
        .build()
        .unwrap();
    let credentials = Tokenizer::Stripe(tokenizer).tokenize(&card).await.unwrap();
    assert_eq!(credentials.title(), "Visa *4242");
    assert_eq!(
        credentials_json(credentials),
        r#"{"type":"card","id":"tok_form"}"#
    );
    let request = server.only_request();
    assert_eq!(request.path, "/v1/tokens");
    assert_eq!(request.header("authorization"), Some("Bearer pk_test_form"));
}

#[tokio::test]
async fn a_closed_port_is_tried_twice_then_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let error = StripeTokenizer::new("pk_test_x")
        .base_url(format!("http://127.0.0.1:{port}"))
        .tokenize(&visa())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TokenizeError::Connect {
                provider: Provider::Stripe,
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_hang_up_after_sending_is_not_retried() {
    let server = Server::start(Reply::HangUp).await;
    let error = stripe(&server).tokenize(&visa()).await.unwrap_err();
    assert!(matches!(error, TokenizeError::Network { .. }), "{error:?}");
    assert_eq!(server.connections(), 1);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_silent_provider_times_out_without_a_retry() {
    let server = Server::start(Reply::Silence).await;
    let error = stripe(&server)
        .timeout(Duration::from_millis(300))
        .tokenize(&visa())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TokenizeError::Timeout { timeout, .. } if timeout == Duration::from_millis(300)),
        "{error:?}"
    );
    assert_eq!(server.connections(), 1);
}

fn smartglocal(server: &Server) -> SmartGlocalTokenizer {
    SmartGlocalTokenizer::new("sg_public_1234")
        .tokenize_url(format!("{}/cds/v1/tokenize/card", server.base))
}

#[tokio::test]
async fn smartglocal_request_is_exactly_what_smartglocal_expects() {
    let server = Server::start(json(
        200,
        serde_json::json!({
            "status": "ok",
            "data": {
                "token": "card-token-7f3a",
                "info": {
                    "card_network": "visa",
                    "card_type": "debit",
                    "masked_card_number": "424242******4242",
                }
            }
        }),
    ))
    .await;
    let card = visa();
    let token = smartglocal(&server).tokenize(&card).await.unwrap();
    assert_eq!(token.token.expose(), "card-token-7f3a");
    assert_eq!(token.title, "Visa *4242");
    assert_eq!(
        credentials_json(token.into()),
        r#"{"token":"card-token-7f3a","type":"card"}"#
    );

    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/cds/v1/tokenize/card");
    assert_eq!(request.header("x-public-token"), Some("sg_public_1234"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("authorization"), None);
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"card": {
            "number": "4242424242424242",
            "expiration_month": "03",
            "expiration_year": format!("{:02}", future_year() % 100),
            "security_code": "987",
        }})
    );
}

#[tokio::test]
async fn smartglocal_errors_are_typed() {
    let error_body = |code: &str, description: &str| serde_json::json!({"status": "error", "error": {"code": code, "description": description}});
    let server = Server::start(json(
        400,
        error_body("invalid_card", "Card number is invalid"),
    ))
    .await;
    let error = smartglocal(&server).tokenize(&visa()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            TokenizeError::Refused {
                provider: Provider::SmartGlocal,
                status: 400,
                code: Some(c),
                message: Some(m),
                ..
            } if c == "invalid_card" && m == "Card number is invalid"
        ),
        "{error:?}"
    );
    // An error with a 200 status is still an error.
    let server = Server::start(json(200, error_body("declined", "Declined"))).await;
    assert!(matches!(
        smartglocal(&server).tokenize(&visa()).await,
        Err(TokenizeError::Refused { status: 200, .. })
    ));
    let server = Server::start(json(401, error_body("unauthorized", "Bad token"))).await;
    assert!(matches!(
        smartglocal(&server).tokenize(&visa()).await,
        Err(TokenizeError::Unauthorized { status: 401, .. })
    ));
    let server = Server::start(json(429, error_body("too_many", "Slow down"))).await;
    assert!(matches!(
        smartglocal(&server).tokenize(&visa()).await,
        Err(TokenizeError::RateLimited { .. })
    ));
    let server = Server::start(json(503, error_body("unavailable", "Later"))).await;
    assert!(matches!(
        smartglocal(&server).tokenize(&visa()).await,
        Err(TokenizeError::ProviderFailed { status: 503, .. })
    ));
    for body in [
        serde_json::json!({"status": "ok"}),
        serde_json::json!({"status": "ok", "data": {"token": ""}}),
        serde_json::json!({"status": "pending"}),
    ] {
        let server = Server::start(json(200, body.clone())).await;
        assert!(
            matches!(
                smartglocal(&server).tokenize(&visa()).await,
                Err(TokenizeError::BadResponse { status: 200, .. })
            ),
            "{body}"
        );
    }
}

#[test]
fn smartglocal_urls_come_from_the_form_or_the_test_flag() {
    let provider = NativeProvider::from_tl(
        "smartglocal".to_owned(),
        Some(tl::enums::DataJson::Json(tl::types::DataJson {
            data: r#"{"public_token":"pub","tokenize_url":"https://tgb-eu.smart-glocal.com/cds/v1/tokenize/card"}"#
                .to_owned(),
        })),
        false,
    );
    let tokenizer = SmartGlocalTokenizer::from_provider(&provider).unwrap();
    assert_eq!(
        tokenizer.endpoint(),
        "https://tgb-eu.smart-glocal.com/cds/v1/tokenize/card"
    );
    assert!(matches!(
        Tokenizer::from_provider(&provider),
        Some(Tokenizer::SmartGlocal(_))
    ));
    assert!(StripeTokenizer::from_provider(&provider).is_none());
    assert_eq!(
        SmartGlocalTokenizer::new("pub").endpoint(),
        SMARTGLOCAL_TOKENIZE_URL
    );
    assert_eq!(
        SmartGlocalTokenizer::new("pub").test(true).endpoint(),
        SMARTGLOCAL_TEST_TOKENIZE_URL
    );
    let other = NativeProvider::from_tl("paypal".to_owned(), None, false);
    assert!(Tokenizer::from_provider(&other).is_none());
}

/// A `tracing` subscriber that keeps every event's fields as text.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        write!(self.0, "{}={:?} ", field.name(), value).unwrap();
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = String::new();
        span.record(&mut Fields(&mut text));
        self.0.lock().unwrap().push(text);
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut text = String::new();
        values.record(&mut Fields(&mut text));
        self.0.lock().unwrap().push(text);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = String::new();
        event.record(&mut Fields(&mut text));
        self.0.lock().unwrap().push(text);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn no_log_line_or_error_carries_the_card_number_or_cvc() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _guard = tracing::subscriber::set_default(Capture(Arc::clone(&lines)));
    let card = visa();
    let mut errors = Vec::new();
    let mut bases = Vec::new();
    let ok = Server::start(json(200, stripe_token_json("tok_log", "Visa", "4242"))).await;
    bases.push(ok.base.clone());
    let token = stripe(&ok).tokenize(&card).await.unwrap();
    errors.push(format!("{token:?}"));
    for reply in [
        stripe_error(402, "card_error", Some("card_declined"), "Declined."),
        stripe_error(400, "invalid_request_error", Some("x"), "4242424242424242"),
        Reply::HangUp,
    ] {
        let server = Server::start(reply).await;
        bases.push(server.base.clone());
        let error = stripe(&server).tokenize(&card).await.unwrap_err();
        errors.push(error.to_string());
        errors.push(format!("{error:?}"));
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            errors.push(inner.to_string());
            source = inner.source();
        }
    }
    let sg = Server::start(json(
        500,
        serde_json::json!({"error": {"code": "x", "description": "987"}}),
    ))
    .await;
    bases.push(sg.base.clone());
    let error = smartglocal(&sg).tokenize(&card).await.unwrap_err();
    errors.push(format!("{error:?}"));

    let lines = lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("tokenizing a card") && l.contains("Visa *4242")),
        "{lines:?}"
    );
    for text in lines.iter().chain(&errors) {
        // The servers' addresses (their port numbers) are not card data, whether written as a
        // URL or, as hyper logs them, as `("http", 127.0.0.1:PORT)`.
        let text = bases.iter().fold(text.clone(), |text, base| {
            let authority = base.trim_start_matches("http://").trim_end_matches('/');
            text.replace(base.as_str(), "<server>")
                .replace(authority, "<server>")
        });
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        assert!(!digits.contains("424242424242"), "{text}");
        assert!(!text.contains("987"), "{text}");
    }
}

/// Through the sandbox: its Stripe-compatible `/v1/tokens` tokenizes with the same tokenizer,
/// and the token pays (or declines, or asks for 3-D Secure) in `payments.sendPaymentForm`.
mod sandbox {
    use super::*;
    use crate::common::{call, card_form, get_form, rpc_name, send_form, slug, verification_url};
    use tgpay_sandbox::scenario::ALICE;
    use tgpay_sandbox::{Sandbox, Scenario};

    async fn start() -> Sandbox {
        Sandbox::start(Scenario::default_world())
            .await
            .expect("the default world starts")
    }

    fn card(number: &str) -> Card {
        Card::builder()
            .number(number)
            .expiry(&format!("12/{}", future_year() % 100))
            .cvc("123")
            .build()
            .unwrap()
    }

    /// The tokenizer the ebook's payment form names, pointed at the sandbox.
    async fn form_tokenizer(
        sandbox: &Sandbox,
        client: &grammers_client::Client,
    ) -> (i64, Tokenizer) {
        let form = card_form(call(client, &get_form(slug("ebook"))).await.unwrap());
        let tl::enums::Invoice::Invoice(invoice) = &form.invoice;
        let provider = NativeProvider::from_tl(
            form.native_provider.clone().expect("a native provider"),
            form.native_params.clone(),
            invoice.test,
        );
        let Some(Tokenizer::Stripe(stripe)) = Tokenizer::from_provider(&provider) else {
            panic!("the sandbox's card forms name Stripe: {provider:?}");
        };
        (
            form.form_id,
            Tokenizer::Stripe(stripe.base_url(sandbox.web_base_url())),
        )
    }

    #[tokio::test]
    async fn a_tokenized_card_pays_declines_or_needs_3ds_through_send_payment_form() {
        let sandbox = start().await;
        let alice = sandbox.client(ALICE).unwrap();

        // 4242 4242 4242 4242 pays.
        let (form_id, tokenizer) = form_tokenizer(&sandbox, &alice.client).await;
        let credentials = tokenizer
            .tokenize(&card("4242 4242 4242 4242"))
            .await
            .unwrap();
        assert_eq!(credentials.title(), "Visa *4242");
        let data = credentials_json(credentials.clone());
        assert!(
            data.starts_with(r#"{"type":"card","id":"tok_sandbox_"#),
            "{data}"
        );
        let send = send_form(
            form_id,
            slug("ebook"),
            credentials.to_tl(false, None).unwrap(),
        );
        let result = call(&alice.client, &send).await.unwrap();
        assert!(
            matches!(result, tl::enums::payments::PaymentResult::Result(_)),
            "{result:?}"
        );
        {
            let world = sandbox.world();
            let charges = world.charges();
            assert_eq!(charges.len(), 1);
            assert_eq!(charges[0].invoice_slug, "ebook");
            assert_eq!(charges[0].credentials_title, "Visa *4242");
            assert_eq!(charges[0].total_amount, 499);
        }

        // 4000 0000 0000 0002 tokenizes, and is declined when charged.
        let (form_id, tokenizer) = form_tokenizer(&sandbox, &alice.client).await;
        let declined = tokenizer
            .tokenize(&card("4000 0000 0000 0002"))
            .await
            .unwrap();
        assert_eq!(declined.title(), "Visa *0002");
        let send = send_form(form_id, slug("ebook"), declined.to_tl(false, None).unwrap());
        assert_eq!(rpc_name(call(&alice.client, &send).await), "PAYMENT_FAILED");

        // 4000 0027 6000 3184 needs 3-D Secure.
        let (form_id, tokenizer) = form_tokenizer(&sandbox, &alice.client).await;
        let three_ds = tokenizer
            .tokenize(&card("4000 0027 6000 3184"))
            .await
            .unwrap();
        let send = send_form(form_id, slug("ebook"), three_ds.to_tl(false, None).unwrap());
        let url = verification_url(call(&alice.client, &send).await.unwrap());
        assert!(
            url.starts_with(&format!("{}/3ds/", sandbox.web_base_url())),
            "{url}"
        );

        assert_eq!(sandbox.world().charges().len(), 1);
        sandbox.shutdown().await;
    }

    /// A raw request and Stripe's answer: key, fields, status, `error.type`, `error.code`.
    type RawCase<'a> = (
        Option<&'a str>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
        Option<&'a str>,
    );

    /// Posts a raw form to the sandbox's `/v1/tokens`; returns the status and the JSON.
    async fn post(
        sandbox: &Sandbox,
        key: Option<&str>,
        fields: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let client = reqwest::Client::new();
        let mut request = client
            .post(format!("{}/v1/tokens", sandbox.web_base_url()))
            .form(fields);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    #[tokio::test]
    async fn the_sandbox_answers_like_stripe() {
        let sandbox = start().await;
        let year = future_year().to_string();
        let good = [
            ("card[number]", "5555555555554444"),
            ("card[cvc]", "123"),
            ("card[exp_month]", "7"),
            ("card[exp_year]", year.as_str()),
        ];
        let (status, token) = post(&sandbox, Some("pk_test_tgpay_sandbox"), &good).await;
        assert_eq!(status, 200, "{token}");
        assert_eq!(token["object"], "token");
        assert_eq!(token["livemode"], false);
        assert_eq!(token["card"]["brand"], "MasterCard");
        assert_eq!(token["card"]["last4"], "4444");
        assert_eq!(token["card"]["exp_month"], 7);
        assert!(token["id"].as_str().unwrap().starts_with("tok_sandbox_"));

        let with = |key: &'static str, value: &'static str| {
            let mut fields: Vec<(&str, &str)> = good.to_vec();
            match fields.iter_mut().find(|(k, _)| *k == key) {
                Some(field) => field.1 = value,
                None => fields.push((key, value)),
            }
            fields
        };
        let cases: Vec<RawCase> = vec![
            (None, good.to_vec(), 401, "invalid_request_error", None),
            (
                Some("sk_test_x"),
                good.to_vec(),
                401,
                "invalid_request_error",
                None,
            ),
            (
                Some("pk_live_x"),
                good.to_vec(),
                401,
                "invalid_request_error",
                None,
            ),
            (
                Some("pk_test_x"),
                with("card[number]", "5555555555554445"),
                402,
                "card_error",
                Some("incorrect_number"),
            ),
            (
                Some("pk_test_x"),
                with("card[number]", "555555555555444"),
                402,
                "card_error",
                Some("invalid_number"),
            ),
            (
                Some("pk_test_x"),
                with("card[exp_month]", "13"),
                402,
                "card_error",
                Some("invalid_expiry_month"),
            ),
            (
                Some("pk_test_x"),
                with("card[exp_year]", "2020"),
                402,
                "card_error",
                Some("invalid_expiry_year"),
            ),
            (
                Some("pk_test_x"),
                with("card[cvc]", "12"),
                402,
                "card_error",
                Some("invalid_cvc"),
            ),
            (
                Some("pk_test_x"),
                with("card[name]", ""),
                400,
                "invalid_request_error",
                Some("parameter_invalid_empty"),
            ),
            (
                Some("pk_test_x"),
                with("card[pin]", "1234"),
                400,
                "invalid_request_error",
                Some("parameter_unknown"),
            ),
            (
                Some("pk_test_x"),
                good[1..].to_vec(),
                400,
                "invalid_request_error",
                Some("parameter_missing"),
            ),
        ];
        for (key, fields, status, kind, code) in cases {
            let (got, body) = post(&sandbox, key, &fields).await;
            assert_eq!(got, status, "{key:?} {fields:?}: {body}");
            assert_eq!(body["error"]["type"], kind, "{body}");
            assert_eq!(body["error"]["code"].as_str(), code, "{body}");
            assert!(body["error"]["message"].is_string(), "{body}");
            assert!(!body.to_string().contains("555555555555"), "{body}");
        }

        // The tokenizer reads those answers into typed errors.
        let error = StripeTokenizer::new("pk_live_x")
            .base_url(sandbox.web_base_url())
            .tokenize(&card("4242424242424242"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, TokenizeError::Unauthorized { status: 401, .. }),
            "{error:?}"
        );
        sandbox.shutdown().await;
    }
}
