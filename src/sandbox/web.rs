//! The sandbox's web pages on loopback HTTP: the 3-D Secure verification page, and the
//! payment gateway page a card form's `url` points to.
//!
//! - `GET /3ds/{token}`: the verification page (Confirm / Fail buttons).
//! - `POST /3ds/{token}/confirm`, `POST /3ds/{token}/fail`: what the buttons do; a script may
//!   POST directly. With `Accept: application/json` the answer is JSON.
//! - `GET /3ds/{token}/status`: `{"state":"pending"|"confirmed"|"failed"}`.
//! - `GET /pay/{form_id}`: the gateway page.
//! - `POST /v1/tokens`: a Stripe-compatible card tokenizer that issues the world's card tokens.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use super::world::{Push, VerificationState, VerificationView, World};

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

/// Serves the pages on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, world: Arc<Mutex<World>>, push: Pusher) {
    let app = Router::new()
        .route("/3ds/{token}", get(verification_page))
        .route("/3ds/{token}/status", get(verification_status))
        .route("/3ds/{token}/confirm", post(confirm))
        .route("/3ds/{token}/fail", post(fail))
        .route("/pay/{form_id}", get(gateway_page))
        .with_state(Web {
            world: Arc::clone(&world),
            push,
        })
        .merge(super::stripe::router(world));
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!(error = %e, "sandbox web server stopped");
    }
}

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

fn amount_text(view: &VerificationView) -> String {
    match crate::currency::Currency::from_code_or_fallback(&view.currency) {
        Ok(currency) => currency.amount(view.total_amount).to_string(),
        Err(_) => format!("{} {}", view.total_amount, view.currency),
    }
}

const STYLE: &str = "body{font-family:-apple-system,Segoe UI,Roboto,sans-serif;background:#f1f3f6;\
margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}\
.card{background:#fff;border-radius:14px;box-shadow:0 6px 24px rgba(0,0,0,.08);padding:28px 32px;\
width:340px}h1{font-size:19px;margin:0 0 4px}.muted{color:#707579;font-size:14px}\
.amount{font-size:30px;font-weight:600;margin:18px 0 6px}.row{display:flex;gap:10px;margin-top:22px}\
button{flex:1;border:0;border-radius:10px;padding:12px;font-size:15px;font-weight:600;cursor:pointer}\
.ok{background:#3390ec;color:#fff}.no{background:#eef1f4;color:#d14e4e}\
.badge{display:inline-block;background:#e8f3e8;color:#2e7d32;border-radius:8px;padding:3px 8px;\
font-size:12px;font-weight:600}.bad{background:#fbeaea;color:#c62828}";

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style>\
         </head><body><div class=\"card\">{body}</div></body></html>",
        escape(title)
    ))
}

async fn verification_page(State(web): State<Web>, Path(token): Path<String>) -> Response {
    let (view, _) = web.with_world(|w| w.verification(&token));
    let Some(view) = view else {
        return (
            StatusCode::NOT_FOUND,
            page(
                "Unknown verification",
                "<h1>Unknown verification</h1><p class=\"muted\">This link is not valid.</p>",
            ),
        )
            .into_response();
    };
    let token = escape(&token);
    let action = match view.state {
        VerificationState::Pending => format!(
            "<div class=\"row\"><form method=\"post\" action=\"/3ds/{token}/fail\" style=\"flex:1;display:flex\">\
             <button class=\"no\" id=\"fail\" type=\"submit\">Fail</button></form>\
             <form method=\"post\" action=\"/3ds/{token}/confirm\" style=\"flex:1;display:flex\">\
             <button class=\"ok\" id=\"confirm\" type=\"submit\">Confirm</button></form></div>"
        ),
        VerificationState::Confirmed => "<p><span class=\"badge\">Confirmed</span></p>".to_owned(),
        VerificationState::Failed => "<p><span class=\"badge bad\">Failed</span></p>".to_owned(),
    };
    page(
        "3-D Secure verification",
        &format!(
            "<p class=\"muted\">3-D Secure · Sandbox Bank</p><h1>Confirm your payment</h1>\
             <p class=\"muted\">to {}</p><div class=\"amount\">{}</div>\
             <p class=\"muted\">{} · {}</p>{action}",
            escape(&view.merchant),
            escape(&amount_text(&view)),
            escape(&view.title),
            escape(&view.credentials_title),
        ),
    )
    .into_response()
}

async fn verification_status(State(web): State<Web>, Path(token): Path<String>) -> Response {
    let (view, _) = web.with_world(|w| w.verification(&token));
    match view {
        Some(v) => axum::Json(serde_json::json!({ "state": state_name(v.state) })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "error": "unknown verification" })),
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
            axum::Json(serde_json::json!({
                "ok": done,
                "state": state.map(state_name),
            })),
        )
            .into_response();
    }
    let body = match (done, confirm) {
        (true, true) => {
            "<h1>Payment confirmed</h1><p><span class=\"badge\">Confirmed</span></p>\
                         <p class=\"muted\">You can return to Telegram.</p>"
        }
        (true, false) => {
            "<h1>Payment failed</h1><p><span class=\"badge bad\">Failed</span></p>\
                          <p class=\"muted\">Nothing was charged.</p>"
        }
        (false, _) => {
            "<h1>Nothing to do</h1><p class=\"muted\">This verification is already \
                       finished, expired, or unknown.</p>"
        }
    };
    (status, page("3-D Secure verification", body)).into_response()
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

async fn gateway_page(Path(form_id): Path<String>) -> Response {
    page(
        "Sandbox payment gateway",
        &format!(
            "<p class=\"muted\">Sandbox Gateway</p><h1>Card payment</h1>\
             <p class=\"muted\">Form {}. Pay with a card token such as \
             <code>tok_sandbox_visa</code> through <code>payments.sendPaymentForm</code>.</p>",
            escape(&form_id)
        ),
    )
    .into_response()
}
