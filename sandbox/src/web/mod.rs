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

mod gateway;
mod html;
mod verification;

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

use gateway::*;
use html::*;
use verification::*;

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
