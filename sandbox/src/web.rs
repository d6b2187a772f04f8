//! The sandbox's web pages on loopback HTTP: the payment provider's gateway page a card form's
//! `url` points to, and the bank's 3-D Secure verification page.
//!
//! - `GET /pay/{form_id}`: the gateway page (merchant, product, amount; name, card number,
//!   expiry, CVC). On submit its script posts the card to `POST /pay/{form_id}/tokenize`, then
//!   hands the token to the Telegram app as the web event `payment_form_submit` with
//!   `{"title":"Visa *4242","credentials":{"type":"card","token":"tok_sandbox_…"}}`, through
//!   whichever bridge the app exposes, in the order of Telegram's own web library:
//!   `window.TelegramWebviewProxy.postEvent(type, JSON.stringify(data))`, then
//!   `window.external.notify(JSON.stringify({eventType, eventData}))`, then (inside an iframe)
//!   `window.parent.postMessage(JSON.stringify({eventType, eventData}), '*')`.
//! - `POST /pay/{form_id}/tokenize`: JSON `{"name","number","expiry","cvc"}`, checked with
//!   [`tgpay::card`] against the world's clock; answers `{"token","title"}`, or
//!   `{"error":{"field","message"}}` with 400 (a bad card), 404 (unknown form) or 409 (a form
//!   that can no longer be paid). The token is registered in the world with the outcome of
//!   [`outcome_for_card_number`]: `4000 0000 0000 0002` declines and `4000 0027 6000 3184`
//!   needs 3-D Secure when `payments.sendPaymentForm` charges it.
//! - `GET /3ds/{token}`: the verification page (Confirm / Fail buttons).
//! - `POST /3ds/{token}/confirm`, `POST /3ds/{token}/fail`: what the buttons do; a script may
//!   POST directly. With `Accept: application/json` the answer is JSON.
//! - `GET /3ds/{token}/status`: `{"state":"pending"|"confirmed"|"failed"}`.
//! - `POST /v1/tokens`: a Stripe-compatible card tokenizer that issues the world's card tokens.
//!
//! The pages are plain HTML with a little script and no external resources.
//!
//! The server is meant to be shared: [`WebConfig`] caps its connections (one more is answered
//! `503`) and gives each connection a deadline for its request headers, for its body (`408`
//! when late, `413` when longer than allowed) and for its whole life.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::merchant::outcome_for_card_number;
use super::world::{GatewayState, GatewayView, Push, VerificationState, VerificationView, World};
use tgpay::card::{Card, CardError, YearMonth};

/// Delivers updates to users' sessions.
pub type Pusher = Arc<dyn Fn(Vec<Push>) + Send + Sync>;

#[derive(Clone)]
struct Web {
    world: Arc<Mutex<World>>,
    push: Pusher,
}

impl Web {
    fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> (T, Vec<Push>) {
        let mut w = match self.world.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        let value = f(&mut w);
        (value, w.take_pushes())
    }
}

/// Limits of the web server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebConfig {
    /// A request's line and headers must arrive within this time (also the next request on a
    /// kept-alive connection).
    pub header_timeout: Duration,
    /// A request's body must arrive whole within this time: `408` otherwise.
    pub body_timeout: Duration,
    /// Longest request body accepted: `413` beyond.
    pub max_body_len: usize,
    /// A connection is closed after this long, whatever it is doing.
    pub connection_lifetime: Duration,
    /// Open connections at most; one more is answered `503` and closed.
    pub max_connections: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body_len: 64 * 1024,
            connection_lifetime: Duration::from_secs(120),
            max_connections: 512,
        }
    }
}

impl WebConfig {
    /// Sets [`header_timeout`](Self::header_timeout).
    pub fn header_timeout(mut self, t: Duration) -> Self {
        self.header_timeout = t;
        self
    }

    /// Sets [`body_timeout`](Self::body_timeout).
    pub fn body_timeout(mut self, t: Duration) -> Self {
        self.body_timeout = t;
        self
    }

    /// Sets [`max_body_len`](Self::max_body_len).
    pub fn max_body_len(mut self, n: usize) -> Self {
        self.max_body_len = n;
        self
    }

    /// Sets [`connection_lifetime`](Self::connection_lifetime).
    pub fn connection_lifetime(mut self, t: Duration) -> Self {
        self.connection_lifetime = t;
        self
    }

    /// Sets [`max_connections`](Self::max_connections).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
}

/// The pages' routes, with the world they read and change. [`serve`] runs them behind the
/// limits; this is the bare router (for tests that drive it without sockets).
pub fn router(world: Arc<Mutex<World>>, push: Pusher, config: &WebConfig) -> Router {
    Router::new()
        .route("/3ds/{token}", get(verification_page))
        .route("/3ds/{token}/status", get(verification_status))
        .route("/3ds/{token}/confirm", post(confirm))
        .route("/3ds/{token}/fail", post(fail))
        .route("/pay/{form_id}", get(gateway_page))
        .route("/pay/{form_id}/tokenize", post(tokenize))
        .with_state(Web {
            world: Arc::clone(&world),
            push,
        })
        .merge(super::stripe::router(world))
        .layer(axum::middleware::from_fn_with_state(
            (config.body_timeout, config.max_body_len),
            read_body,
        ))
}

/// Reads the whole body within the deadline and the size limit before any route sees it.
async fn read_body(
    State((deadline, max)): State<(Duration, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body is longer than {max} bytes."),
        )
            .into_response()
    };
    if announced.is_some_and(|len| len > max as u64) {
        return too_large();
    }
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, max)).await {
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "The request body did not arrive within {} seconds.",
                deadline.as_secs_f32()
            ),
        )
            .into_response(),
        Ok(Err(_)) => too_large(),
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

/// Serves the pages on `listener` with the default [`WebConfig`] until the task is aborted.
pub async fn serve(listener: TcpListener, world: Arc<Mutex<World>>, push: Pusher) {
    serve_with(listener, world, push, WebConfig::default()).await;
}

/// Serves the pages on `listener` within `config`'s limits until the task is aborted.
pub async fn serve_with(
    listener: TcpListener,
    world: Arc<Mutex<World>>,
    push: Pusher,
    config: WebConfig,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    if let Ok(addr) = listener.local_addr()
        && !addr.ip().is_loopback()
    {
        tracing::warn!(
            %addr,
            "the sandbox's web pages listen on a non-loopback address: anyone who can reach \
             them can confirm 3-D Secure payments and tokenize cards in this sandbox"
        );
    }
    let app = router(world, push, &config);
    let permits = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "sandbox web server: accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::debug!("sandbox web server: too many connections; answering 503");
            // One attempt, never waiting: a full socket buffer just gets the close.
            let _ = stream.try_write(TOO_MANY_CONNECTIONS);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let (header_timeout, lifetime) = (config.header_timeout, config.connection_lifetime);
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(lifetime, connection).await;
            drop(permit);
        });
    }
}

const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: 57\r\n\r\n\
The sandbox's web server has too many connections; retry.";

fn state_name(state: VerificationState) -> &'static str {
    match state {
        VerificationState::Pending => "pending",
        VerificationState::Confirmed => "confirmed",
        VerificationState::Failed => "failed",
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn format_amount(currency: &str, amount: i64) -> String {
    match tgpay::currency::Currency::from_code_or_fallback(currency) {
        Ok(currency) => currency.amount(amount).to_string(),
        Err(_) => format!("{amount} {currency}"),
    }
}

const STYLE: &str = "*{box-sizing:border-box}\
body{font-family:-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;\
background:linear-gradient(160deg,#eef2f7 0%,#dfe7f1 100%);color:#1a2233;margin:0;\
display:flex;min-height:100vh;align-items:center;justify-content:center;padding:24px}\
.sheet{background:#fff;border-radius:16px;box-shadow:0 10px 40px rgba(26,34,51,.12);\
width:420px;max-width:100%;overflow:hidden}\
.top{display:flex;align-items:center;justify-content:space-between;padding:16px 24px;\
border-bottom:1px solid #edf0f4}\
.brand{display:flex;align-items:center;gap:8px;font-weight:700;font-size:15px}\
.brand svg{display:block}\
.test{font-size:11px;font-weight:700;letter-spacing:.06em;color:#b35c00;background:#fff1e0;\
border-radius:6px;padding:3px 7px}\
.order{padding:20px 24px 18px;border-bottom:1px solid #edf0f4}\
.merchant{color:#6b7588;font-size:13px;font-weight:600;margin:0 0 6px}\
h1{font-size:18px;margin:0 0 4px;font-weight:650}\
.desc{color:#6b7588;font-size:13px;margin:0}\
.amount{font-size:32px;font-weight:700;margin:14px 0 0;letter-spacing:-.01em}\
form,.panel{padding:20px 24px 24px}\
label{display:block;font-size:13px;font-weight:600;color:#3b4457;margin:0 0 6px}\
.field{margin-bottom:14px}\
input{width:100%;font:inherit;font-size:16px;padding:11px 12px;border:1px solid #cfd6e1;\
border-radius:10px;outline:none;background:#fff;color:#1a2233}\
input:focus{border-color:#3390ec;box-shadow:0 0 0 3px rgba(51,144,236,.18)}\
input.bad{border-color:#d93f3f;box-shadow:0 0 0 3px rgba(217,63,63,.14)}\
.with-brand{position:relative}\
.card-brand{position:absolute;right:10px;top:50%;transform:translateY(-50%);font-size:11px;\
font-weight:800;letter-spacing:.04em;color:#1a1f71;background:#f3f5f9;border-radius:5px;\
padding:3px 6px}\
.row{display:flex;gap:12px}.row .field{flex:1}\
.error{display:none;color:#c62828;background:#fdecec;border-radius:10px;padding:10px 12px;\
font-size:14px;margin:0 0 14px}\
.error.shown{display:block}\
button{width:100%;border:0;border-radius:10px;padding:13px;font:inherit;font-size:16px;\
font-weight:650;cursor:pointer}\
button:disabled{opacity:.6;cursor:default}\
.pay,.ok{background:#3390ec;color:#fff}.pay:hover,.ok:hover{background:#2a7fd4}\
.no{background:#f1f3f6;color:#c62828}.no:hover{background:#e8ebf0}\
.note{color:#6b7588;font-size:12px;margin:14px 0 0;line-height:1.5}\
.note code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11.5px;\
background:#f3f5f9;border-radius:4px;padding:1px 4px}\
.done{display:none;text-align:center;padding:28px 24px 30px}\
.done.shown{display:block}\
.tick{width:52px;height:52px;border-radius:50%;background:#e6f4ea;color:#2e7d32;\
display:flex;align-items:center;justify-content:center;margin:0 auto 12px}\
.facts{margin:0;padding:0 24px}\
.facts div{display:flex;justify-content:space-between;font-size:14px;padding:9px 0;\
border-bottom:1px solid #f1f3f6}\
.facts dt{color:#6b7588}.facts dd{margin:0;font-weight:600}\
.buttons{display:flex;gap:12px}.buttons form{flex:1;padding:0;display:flex}\
.badge{display:inline-block;background:#e6f4ea;color:#2e7d32;border-radius:8px;\
padding:4px 10px;font-size:13px;font-weight:700}.badge.bad{background:#fdecec;color:#c62828}";

const LOCK: &str = "<svg width=\"18\" height=\"18\" viewBox=\"0 0 24 24\" fill=\"none\" \
stroke=\"#3390ec\" stroke-width=\"2.2\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
aria-hidden=\"true\"><rect x=\"4\" y=\"11\" width=\"16\" height=\"10\" rx=\"2\"/>\
<path d=\"M8 11V7a4 4 0 0 1 8 0v4\"/></svg>";

const SHIELD: &str = "<svg width=\"18\" height=\"18\" viewBox=\"0 0 24 24\" fill=\"none\" \
stroke=\"#2e7d32\" stroke-width=\"2.2\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
aria-hidden=\"true\"><path d=\"M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z\"/>\
<path d=\"M8.5 12l2.5 2.5 4.5-5\"/></svg>";

const TICK: &str = "<svg width=\"26\" height=\"26\" viewBox=\"0 0 24 24\" fill=\"none\" \
stroke=\"currentColor\" stroke-width=\"2.6\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
aria-hidden=\"true\"><path d=\"M5 12.5l4.5 4.5L19 7.5\"/></svg>";

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style>\
         </head><body><main class=\"sheet\">{body}</main></body></html>",
        escape(title)
    ))
}

/// The header of the gateway's pages.
fn gateway_top() -> String {
    format!(
        "<div class=\"top\"><div class=\"brand\">{LOCK}Sandbox Pay</div>\
         <span class=\"test\">TEST MODE</span></div>"
    )
}

/// The header of the bank's pages.
fn bank_top() -> String {
    format!(
        "<div class=\"top\"><div class=\"brand\">{SHIELD}Sandbox Bank</div>\
         <span class=\"test\">3-D SECURE</span></div>"
    )
}

// ----- 3-D Secure -----

async fn verification_page(State(web): State<Web>, Path(token): Path<String>) -> Response {
    let (view, _) = web.with_world(|w| w.verification(&token));
    let Some(view) = view else {
        return (
            StatusCode::NOT_FOUND,
            page(
                "Unknown verification",
                &format!(
                    "{}<div class=\"panel\"><h1>Unknown verification</h1>\
                     <p class=\"desc\">This link is not valid.</p></div>",
                    bank_top()
                ),
            ),
        )
            .into_response();
    };
    let token = escape(&token);
    let action = match view.state {
        VerificationState::Pending => format!(
            "<p class=\"note\" style=\"margin:0 0 16px\">Sandbox Bank asks you to confirm this \
             payment. In the sandbox, <b>Confirm</b> approves it and <b>Fail</b> declines it; \
             nothing real is charged.</p>\
             <div class=\"buttons\"><form method=\"post\" action=\"/3ds/{token}/fail\">\
             <button class=\"no\" id=\"fail\" type=\"submit\">Fail</button></form>\
             <form method=\"post\" action=\"/3ds/{token}/confirm\">\
             <button class=\"ok\" id=\"confirm\" type=\"submit\">Confirm</button></form></div>"
        ),
        VerificationState::Confirmed => "<p><span class=\"badge\">Confirmed</span></p>".to_owned(),
        VerificationState::Failed => "<p><span class=\"badge bad\">Failed</span></p>".to_owned(),
    };
    page(
        "3-D Secure verification",
        &format!(
            "{top}<div class=\"order\"><p class=\"merchant\">Confirm your payment</p>\
             <div class=\"amount\" style=\"margin-top:4px\">{amount}</div>\
             <p class=\"desc\">to {merchant}</p></div>\
             <dl class=\"facts\"><div><dt>Merchant</dt><dd>{merchant}</dd></div>\
             <div><dt>Order</dt><dd>{title}</dd></div>\
             <div><dt>Card</dt><dd>{card}</dd></div></dl>\
             <div class=\"panel\">{action}</div>",
            top = bank_top(),
            merchant = escape(&view.merchant),
            title = escape(&view.title),
            amount = escape(&amount_text(&view)),
            card = escape(&view.credentials_title),
        ),
    )
    .into_response()
}

fn amount_text(view: &VerificationView) -> String {
    format_amount(&view.currency, view.total_amount)
}

async fn verification_status(State(web): State<Web>, Path(token): Path<String>) -> Response {
    let (view, _) = web.with_world(|w| w.verification(&token));
    match view {
        Some(v) => axum::Json(json!({ "state": state_name(v.state) })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "unknown verification" })),
        )
            .into_response(),
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

async fn finish(web: Web, token: String, headers: HeaderMap, confirm: bool) -> Response {
    let (done, pushes) = web.with_world(|w| {
        if confirm {
            w.confirm_verification(&token).is_some()
        } else {
            w.fail_verification(&token)
        }
    });
    (web.push)(pushes);
    let (view, _) = web.with_world(|w| w.verification(&token));
    let state = view.map(|v| v.state);
    let status = match (done, state) {
        (true, _) => StatusCode::OK,
        (false, None) => StatusCode::NOT_FOUND,
        (false, Some(_)) => StatusCode::CONFLICT,
    };
    if wants_json(&headers) {
        return (
            status,
            axum::Json(json!({
                "ok": done,
                "state": state.map(state_name),
            })),
        )
            .into_response();
    }
    let body = match (done, confirm) {
        (true, true) => format!(
            "<div class=\"done shown\"><div class=\"tick\">{TICK}</div>\
             <h1>Payment confirmed</h1><p><span class=\"badge\">Confirmed</span></p>\
             <p class=\"desc\">You can return to Telegram.</p></div>"
        ),
        (true, false) => "<div class=\"panel\"><h1>Payment failed</h1>\
                          <p><span class=\"badge bad\">Failed</span></p>\
                          <p class=\"desc\">Nothing was charged.</p></div>"
            .to_owned(),
        (false, _) => "<div class=\"panel\"><h1>Nothing to do</h1><p class=\"desc\">This \
                       verification is already finished, expired, or unknown.</p></div>"
            .to_owned(),
    };
    (
        status,
        page("3-D Secure verification", &format!("{}{body}", bank_top())),
    )
        .into_response()
}

async fn confirm(
    State(web): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    finish(web, token, headers, true).await
}

async fn fail(State(web): State<Web>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    finish(web, token, headers, false).await
}

// ----- the gateway -----

/// What the page says instead of the card fields when the form cannot be paid.
fn closed_reason(state: GatewayState) -> Option<&'static str> {
    match state {
        GatewayState::Open => None,
        GatewayState::Verifying => Some(
            "A payment with this form is waiting for 3-D Secure: finish it on your bank's \
             page.",
        ),
        GatewayState::Paid => Some("This order is already paid."),
        GatewayState::Closed => Some(
            "This payment form has expired or was closed: go back to Telegram and open the \
             invoice again.",
        ),
    }
}

async fn gateway_page(State(web): State<Web>, Path(form_id): Path<String>) -> Response {
    let view = form_id
        .parse::<i64>()
        .ok()
        .and_then(|id| web.with_world(|w| w.gateway(id)).0);
    let Some(view) = view else {
        return (
            StatusCode::NOT_FOUND,
            page(
                "Unknown payment",
                &format!(
                    "{}<div class=\"panel\"><h1>Unknown payment</h1><p class=\"desc\">This \
                     payment link is not valid: open the invoice in Telegram again.</p></div>",
                    gateway_top()
                ),
            ),
        )
            .into_response();
    };
    page(
        &format!("Pay {} · Sandbox Pay", view.merchant),
        &gateway_body(&form_id, &view),
    )
    .into_response()
}

fn gateway_body(form_id: &str, view: &GatewayView) -> String {
    let amount = escape(&format_amount(&view.currency, view.total_amount));
    let order = format!(
        "<div class=\"order\"><p class=\"merchant\">{merchant}</p><h1>{title}</h1>{desc}\
         <div class=\"amount\" id=\"amount\">{amount}</div></div>",
        merchant = escape(&view.merchant),
        title = escape(&view.title),
        desc = if view.description.is_empty() {
            String::new()
        } else {
            format!("<p class=\"desc\">{}</p>", escape(&view.description))
        },
    );
    if let Some(reason) = closed_reason(view.state) {
        return format!(
            "{}{order}<div class=\"panel\"><p class=\"error shown\" id=\"error\" \
             role=\"alert\">{reason}</p></div>",
            gateway_top()
        );
    }
    let tokenize = format!("/pay/{}/tokenize", escape(form_id));
    format!(
        "{top}{order}\
<form id=\"card-form\" novalidate data-tokenize=\"{tokenize}\">\
<div class=\"field\"><label for=\"name\">Name on card</label>\
<input id=\"name\" name=\"name\" autocomplete=\"cc-name\" placeholder=\"Alice Sandbox\"></div>\
<div class=\"field\"><label for=\"number\">Card number</label><div class=\"with-brand\">\
<input id=\"number\" name=\"number\" inputmode=\"numeric\" autocomplete=\"cc-number\" \
placeholder=\"1234 1234 1234 1234\" maxlength=\"23\">\
<span class=\"card-brand\" id=\"brand\" hidden></span></div></div>\
<div class=\"row\"><div class=\"field\"><label for=\"expiry\">Expiry</label>\
<input id=\"expiry\" name=\"expiry\" inputmode=\"numeric\" autocomplete=\"cc-exp\" \
placeholder=\"MM / YY\" maxlength=\"7\"></div>\
<div class=\"field\"><label for=\"cvc\">CVC</label>\
<input id=\"cvc\" name=\"cvc\" inputmode=\"numeric\" autocomplete=\"cc-csc\" placeholder=\"123\" \
maxlength=\"4\"></div></div>\
<p class=\"error\" id=\"error\" role=\"alert\"></p>\
<button class=\"pay\" id=\"pay\" type=\"submit\">Pay {amount}</button>\
<p class=\"note\">Card details go to Sandbox Pay only, never to the merchant or Telegram.<br>\
Test cards: <code>4242 4242 4242 4242</code> paid · <code>4000 0027 6000 3184</code> 3-D Secure \
· <code>4000 0000 0000 0002</code> declined; any future expiry and any CVC.</p>\
</form>\
<div class=\"done\" id=\"done\" role=\"status\"><div class=\"tick\">{TICK}</div>\
<h1>Card details sent</h1><p class=\"desc\" id=\"done-title\"></p>\
<p class=\"desc\">Return to Telegram to finish the payment.</p></div>\
<script>{GATEWAY_SCRIPT}</script>",
        top = gateway_top(),
    )
}

/// The gateway page's script: field formatting, tokenizing, and the `payment_form_submit`
/// event through the app's bridge, in the order Telegram's web library tries them.
const GATEWAY_SCRIPT: &str = r#"(function () {
  'use strict';
  var form = document.getElementById('card-form');
  var number = document.getElementById('number');
  var expiry = document.getElementById('expiry');
  var cvc = document.getElementById('cvc');
  var nameField = document.getElementById('name');
  var brand = document.getElementById('brand');
  var error = document.getElementById('error');
  var pay = document.getElementById('pay');
  var fields = { name: nameField, number: number, expiry: expiry, cvc: cvc };

  function digits(text, max) { return text.replace(/\D/g, '').slice(0, max); }
  function brandOf(d) {
    if (/^4/.test(d)) return 'VISA';
    if (/^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/.test(d)) return 'MASTERCARD';
    if (/^3[47]/.test(d)) return 'AMEX';
    if (/^(6011|65|64[4-9])/.test(d)) return 'DISCOVER';
    if (/^35/.test(d)) return 'JCB';
    if (/^62/.test(d)) return 'UNIONPAY';
    return '';
  }
  function clearError() {
    error.textContent = '';
    error.classList.remove('shown');
    Object.keys(fields).forEach(function (k) { fields[k].classList.remove('bad'); });
  }
  function showError(message, field) {
    error.textContent = message;
    error.classList.add('shown');
    if (field && fields[field]) { fields[field].classList.add('bad'); fields[field].focus(); }
  }

  number.addEventListener('input', function () {
    var d = digits(number.value, 19);
    var groups = /^3[47]/.test(d) ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], at = 0;
    for (var i = 0; i < groups.length && at < d.length; i++) {
      out.push(d.slice(at, at + groups[i]));
      at += groups[i];
    }
    number.value = out.join(' ');
    var b = brandOf(d);
    brand.textContent = b;
    brand.hidden = !b;
  });
  expiry.addEventListener('input', function () {
    var d = digits(expiry.value, 4);
    expiry.value = d.length > 2 ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
  });
  cvc.addEventListener('input', function () { cvc.value = digits(cvc.value, 4); });
  Object.keys(fields).forEach(function (k) { fields[k].addEventListener('input', clearError); });

  function postEvent(eventType, eventData) {
    if (window.TelegramWebviewProxy !== undefined) {
      window.TelegramWebviewProxy.postEvent(eventType, JSON.stringify(eventData));
      return true;
    }
    if (window.external && 'notify' in window.external) {
      window.external.notify(JSON.stringify({ eventType: eventType, eventData: eventData }));
      return true;
    }
    if (window.parent != null && window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType: eventType, eventData: eventData }), '*');
      return true;
    }
    return false;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearError();
    pay.disabled = true;
    var body = JSON.stringify({
      name: nameField.value, number: number.value, expiry: expiry.value, cvc: cvc.value
    });
    fetch(form.getAttribute('data-tokenize'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: body
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (!result.ok || !result.answer.token) {
        var e = result.answer.error || {};
        showError(e.message || 'The card was not accepted.', e.field);
        pay.disabled = false;
        return;
      }
      var data = { title: result.answer.title, credentials: { type: 'card', token: result.answer.token } };
      var sent = false;
      try { sent = postEvent('payment_form_submit', data); } catch (e) { sent = false; }
      if (!sent) {
        showError('No Telegram app is listening: open this page from Telegram.');
        pay.disabled = false;
        return;
      }
      number.value = ''; cvc.value = ''; expiry.value = '';
      form.style.display = 'none';
      document.getElementById('done-title').textContent = result.answer.title;
      document.getElementById('done').classList.add('shown');
    }).catch(function () {
      showError('Sandbox Pay could not be reached: check the connection and try again.');
      pay.disabled = false;
    });
  });
})();"#;

/// The card the gateway page posts; wiped when dropped.
#[derive(serde::Deserialize, Zeroize, ZeroizeOnDrop)]
struct CardFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
}

fn field_error(status: StatusCode, field: Option<&str>, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "field": field, "message": message } })),
    )
        .into_response()
}

/// The form field a card check is about.
fn field_of(error: &CardError) -> Option<&'static str> {
    match error {
        CardError::NumberMissing
        | CardError::NumberCharacter { .. }
        | CardError::NumberLength { .. }
        | CardError::NumberChecksum { .. } => Some("number"),
        CardError::ExpiryMissing
        | CardError::ExpiryFormat
        | CardError::ExpiryMonth { .. }
        | CardError::ExpiryYear { .. }
        | CardError::Expired { .. } => Some("expiry"),
        CardError::CvcMissing { .. } | CardError::CvcCharacter | CardError::CvcLength { .. } => {
            Some("cvc")
        }
        CardError::CardholderNameMissing | CardError::ControlCharacters { .. } => Some("name"),
        _ => None,
    }
}

/// A sentence for the page: the card check's message, capitalized, with a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

async fn tokenize(
    State(web): State<Web>,
    Path(form_id): Path<String>,
    body: Result<axum::Json<CardFields>, JsonRejection>,
) -> Response {
    let Some((form_id, view)) = form_id
        .parse::<i64>()
        .ok()
        .and_then(|id| web.with_world(|w| w.gateway(id)).0.map(|v| (id, v)))
    else {
        return field_error(
            StatusCode::NOT_FOUND,
            None,
            "This payment link is not valid: open the invoice in Telegram again.",
        );
    };
    if let Some(reason) = closed_reason(view.state) {
        return field_error(StatusCode::CONFLICT, None, reason);
    }
    let Ok(axum::Json(card)) = body else {
        return field_error(
            StatusCode::BAD_REQUEST,
            None,
            "The card details must be sent as a JSON object with name, number, expiry and cvc.",
        );
    };
    let (now, _) = web.with_world(|w| YearMonth::from_unix(u64::try_from(w.now()).unwrap_or(0)));
    let mut builder = Card::builder()
        .number(&card.number)
        .expiry(&card.expiry)
        .cvc(&card.cvc);
    if !card.name.trim().is_empty() {
        builder = builder.cardholder_name(card.name.trim());
    }
    let checked = match builder.build_at(now) {
        Ok(checked) => checked,
        Err(error) => {
            return field_error(
                StatusCode::BAD_REQUEST,
                field_of(&error),
                &sentence(&error.to_string()),
            );
        }
    };
    let title = checked.title();
    let outcome = outcome_for_card_number(checked.number().expose());
    let (token, _) = web.with_world(|w| w.register_card_token(outcome, &title));
    tracing::debug!(form_id, card = %title, "sandbox gateway tokenized a card");
    axum::Json(json!({ "token": token, "title": title })).into_response()
}
