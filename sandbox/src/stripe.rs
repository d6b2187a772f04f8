//! The sandbox's Stripe-compatible card tokenizer, `POST /v1/tokens` on the web server, so
//! that a client tokenizes a card exactly as it would with Stripe and pays with the token.
//!
//! - The key is `Authorization: Bearer pk_test_…`; anything else is answered 401, as Stripe
//!   answers a bad key. Live keys are refused: the sandbox is test mode only.
//! - The form fields are Stripe's (`card[number]`, `card[cvc]`, `card[exp_month]`,
//!   `card[exp_year]`, `card[name]`, `card[address_*]`); an unknown field or an empty value is
//!   refused with 400 `parameter_unknown` / `parameter_invalid_empty`, as Stripe refuses them.
//! - The card is checked with [`tgpay::card`] against the world's clock: the number, the
//!   expiry and the CVC, answered 402 `card_error` with Stripe's codes (`incorrect_number`,
//!   `invalid_number`, `invalid_expiry_month`, `invalid_expiry_year`, `invalid_cvc`).
//! - A good card gets a token object (`{"id":"tok_sandbox_…","object":"token","card":{"brand":
//!   "Visa","last4":"4242",…}}`); the token is registered in the world with the outcome of
//!   [`outcome_for_card_number`]: `4000000000000002` declines and `4000002760003184` needs
//!   3-D Secure when charged by `payments.sendPaymentForm`, as Stripe's test cards do.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use zeroize::Zeroize;

use super::merchant::outcome_for_card_number;
use super::world::World;
use tgpay::card::{Brand, Card, CardError, YearMonth};

/// The fields `/v1/tokens` reads; Telegram Desktop may also send the address lines, city,
/// state and currency, which are accepted and ignored.
const KNOWN_FIELDS: [&str; 12] = [
    "card[number]",
    "card[cvc]",
    "card[exp_month]",
    "card[exp_year]",
    "card[name]",
    "card[address_country]",
    "card[address_zip]",
    "card[address_line1]",
    "card[address_line2]",
    "card[address_city]",
    "card[address_state]",
    "card[currency]",
];

/// The `/v1/tokens` route, with the world it registers tokens in.
pub(super) fn router(world: Arc<Mutex<World>>) -> Router {
    Router::new()
        .route("/v1/tokens", post(create_token))
        .with_state(world)
}

/// Form fields, wiped when dropped.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Drop for Fields {
    fn drop(&mut self) {
        for (_, value) in &mut self.0 {
            value.zeroize();
        }
    }
}

/// A Stripe error answer.
fn stripe_error(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) -> Response {
    let mut error = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn card_error(code: &str, param: &str, message: &str) -> Response {
    stripe_error(
        StatusCode::PAYMENT_REQUIRED,
        "card_error",
        Some(code),
        Some(param),
        message,
    )
}

fn invalid_request(code: Option<&str>, param: Option<&str>, message: &str) -> Response {
    stripe_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        code,
        param,
        message,
    )
}

/// Stripe's name for a brand in `card.brand`.
fn stripe_brand(brand: Brand) -> &'static str {
    match brand {
        Brand::Visa => "Visa",
        Brand::Mastercard => "MasterCard",
        Brand::AmericanExpress => "American Express",
        Brand::Discover => "Discover",
        Brand::Jcb => "JCB",
        Brand::DinersClub => "Diners Club",
        Brand::UnionPay => "UnionPay",
        _ => "Unknown",
    }
}

/// Why the request's key is refused (`None` for a test mode publishable key), as Stripe says
/// it with a 401.
fn key_refusal(headers: &HeaderMap) -> Option<&'static str> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Some(
            "You did not provide an API key. Provide your publishable key in the Authorization \
             header, using Bearer auth (Authorization: Bearer pk_test_…).",
        );
    };
    let key = value.strip_prefix("Bearer ").unwrap_or_default().trim();
    match key.strip_prefix("pk_test_") {
        Some(rest) if !rest.is_empty() => None,
        _ if key.starts_with("pk_live_") => {
            Some("The sandbox is test mode only: use a pk_test_ publishable key.")
        }
        _ => Some(
            "Invalid API Key provided: the sandbox's tokenizer takes a pk_test_ publishable key.",
        ),
    }
}

async fn create_token(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    if let Some(message) = key_refusal(&headers) {
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            None,
            message,
        );
    }
    let fields = match form {
        Ok(Form(fields)) => Fields(fields),
        Err(_) => {
            return invalid_request(
                None,
                None,
                "The request body must be form-encoded (application/x-www-form-urlencoded).",
            );
        }
    };
    if let Some((key, _)) = fields
        .0
        .iter()
        .find(|(k, _)| !KNOWN_FIELDS.contains(&k.as_str()))
    {
        return invalid_request(
            Some("parameter_unknown"),
            Some(key),
            &format!("Received unknown parameter: {key}"),
        );
    }
    if let Some((key, _)) = fields.0.iter().find(|(_, v)| v.is_empty()) {
        return invalid_request(
            Some("parameter_invalid_empty"),
            Some(key),
            &format!(
                "You passed an empty string for '{key}'. We assume empty values are an attempt \
                 to unset a parameter; however '{key}' cannot be unset. You should remove \
                 '{key}' from your request or supply a non-empty value."
            ),
        );
    }
    for required in ["card[number]", "card[exp_month]", "card[exp_year]"] {
        if fields.get(required).is_none() {
            return invalid_request(
                Some("parameter_missing"),
                Some(required),
                &format!("Missing required param: {required}."),
            );
        }
    }
    let Some(month) = fields
        .get("card[exp_month]")
        .and_then(|m| m.trim().parse::<u32>().ok())
    else {
        return card_error(
            "invalid_expiry_month",
            "exp_month",
            "Your card's expiration month is invalid.",
        );
    };
    let Some(year) = fields
        .get("card[exp_year]")
        .and_then(|y| y.trim().parse::<u32>().ok())
    else {
        return card_error(
            "invalid_expiry_year",
            "exp_year",
            "Your card's expiration year is invalid.",
        );
    };
    let year = if year < 100 { 2000 + year } else { year };

    let (now, unix_now) = {
        let w = match world.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        let unix = w.now();
        (YearMonth::from_unix(u64::try_from(unix).unwrap_or(0)), unix)
    };
    let mut builder = Card::builder()
        .number(fields.get("card[number]").unwrap_or_default())
        .expiry_month_year(month, year)
        .cvc(fields.get("card[cvc]").unwrap_or_default());
    if let Some(name) = fields.get("card[name]") {
        builder = builder.cardholder_name(name);
    }
    if let Some(country) = fields.get("card[address_country]") {
        builder = builder.country(country);
    }
    if let Some(zip) = fields.get("card[address_zip]") {
        builder = builder.zip(zip);
    }
    let card = match builder.build_at(now) {
        Ok(card) => card,
        Err(error) => return refusal(&error, now),
    };
    let title = card.title();
    let token = {
        let mut w = match world.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        w.register_card_token(outcome_for_card_number(card.number().expose()), &title)
    };
    tracing::debug!(card = %title, "sandbox tokenized a card");
    let mut card_id = [0u8; 12];
    rand::fill(&mut card_id[..]);
    let card_id = hex::encode(card_id);
    axum::Json(json!({
        "id": token,
        "object": "token",
        "card": {
            "id": format!("card_sandbox_{card_id}"),
            "object": "card",
            "brand": stripe_brand(card.brand()),
            "last4": card.last4(),
            "exp_month": card.expiry().month(),
            "exp_year": card.expiry().year(),
            "funding": "credit",
            "country": "US",
            "name": card.cardholder_name(),
            "address_country": card.country(),
            "address_zip": card.zip(),
            "cvc_check": "unchecked",
        },
        "client_ip": "127.0.0.1",
        "created": unix_now,
        "livemode": false,
        "type": "card",
        "used": false,
    }))
    .into_response()
}

/// Stripe's answer to a card that fails a check.
fn refusal(error: &CardError, now: YearMonth) -> Response {
    match error {
        CardError::NumberChecksum { .. } => card_error(
            "incorrect_number",
            "number",
            "Your card number is incorrect.",
        ),
        CardError::NumberMissing
        | CardError::NumberCharacter { .. }
        | CardError::NumberLength { .. } => card_error(
            "invalid_number",
            "number",
            "Your card number is not a valid card number.",
        ),
        CardError::ExpiryMonth { .. } => card_error(
            "invalid_expiry_month",
            "exp_month",
            "Your card's expiration month is invalid.",
        ),
        CardError::Expired { year, .. } if *year == now.year() => card_error(
            "invalid_expiry_month",
            "exp_month",
            "Your card's expiration month is invalid.",
        ),
        CardError::ExpiryYear { .. } | CardError::Expired { .. } => card_error(
            "invalid_expiry_year",
            "exp_year",
            "Your card's expiration year is invalid.",
        ),
        CardError::CvcMissing { .. } | CardError::CvcCharacter | CardError::CvcLength { .. } => {
            card_error(
                "invalid_cvc",
                "cvc",
                "Your card's security code is invalid.",
            )
        }
        CardError::CountryInvalid { .. } => invalid_request(
            None,
            Some("card[address_country]"),
            "Invalid country: use a two-letter ISO 3166-1 code.",
        ),
        other => invalid_request(None, None, &other.to_string()),
    }
}
