//! Stripe's card tokenizer: `POST /v1/tokens`.
//!
//! The request is the one Telegram Desktop sends (`Stripe::APIClient`, `CardParams`):
//! `Authorization: Bearer <publishable key>`, `Stripe-Version: 2015-10-12`, and the card
//! form-encoded as `card[number]`, `card[cvc]`, `card[exp_month]`, `card[exp_year]` (four
//! digits), then `card[name]`, `card[address_country]` and `card[address_zip]` when given;
//! empty fields are left out. The answer is a token object (`id`, `card.brand`,
//! `card.last4`) or an error object (`error.type`, `error.code`, `error.decline_code`,
//! `error.message`, `error.param`) with the HTTP status Stripe documents: 402 for card
//! errors, 400 for invalid requests, 401/403 for keys, 429 for rate limits, 5xx for its own
//! failures.

use std::time::Duration;

use crate::card::{Card, CardRequirements};
use crate::credentials::StripeToken;
use crate::form::NativeProvider;

use super::{
    Answer, CardRejection, Provider, Scrubber, Timeouts, TokenizeError, check_card,
    check_header_token, check_url, client, exchange, token_text, token_title,
};

const PROVIDER: Provider = Provider::Stripe;

/// Tokenizes cards with Stripe, in the style of a `reqwest` request builder.
///
/// ```no_run
/// # async fn demo(card: &tgpay::card::Card) -> Result<(), tgpay::tokenize::TokenizeError> {
/// use std::time::Duration;
/// use tgpay::tokenize::StripeTokenizer;
///
/// let token = StripeTokenizer::new("pk_test_TYooMQauvdEDq54NiTphI7jx")
///     .timeout(Duration::from_secs(15))
///     .tokenize(card)
///     .await?;
/// println!("{}", token.title); // Visa *4242
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StripeTokenizer {
    publishable_key: String,
    base_url: String,
    timeouts: Timeouts,
    requirements: CardRequirements,
}

impl StripeTokenizer {
    /// Stripe's API.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.stripe.com";

    /// The API version sent as `Stripe-Version`, the one Telegram Desktop pins.
    pub const API_VERSION: &'static str = "2015-10-12";

    /// A tokenizer with a form's publishable key (`pk_live_…` or `pk_test_…`).
    pub fn new(publishable_key: impl Into<String>) -> Self {
        StripeTokenizer {
            publishable_key: publishable_key.into(),
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            timeouts: Timeouts::default(),
            requirements: CardRequirements::default(),
        }
    }

    /// The tokenizer a form's [`NativeProvider::Stripe`] describes: its key and the billing
    /// details it asks for. `None` for other providers.
    pub fn from_provider(provider: &NativeProvider) -> Option<Self> {
        match provider {
            NativeProvider::Stripe {
                publishable_key, ..
            } => Some(
                StripeTokenizer::new(publishable_key.clone())
                    .requirements(CardRequirements::of(provider)),
            ),
            _ => None,
        }
    }

    /// Another API base (`http://127.0.0.1:8080` for a local server); `/v1/tokens` is
    /// appended. HTTPS, or plain HTTP to a loopback address.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The time allowed for the whole exchange ([`DEFAULT_TIMEOUT`](super::DEFAULT_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.total = timeout;
        self
    }

    /// The time allowed to connect
    /// ([`DEFAULT_CONNECT_TIMEOUT`](super::DEFAULT_CONNECT_TIMEOUT)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The billing details the card must carry (the form's `need_*` flags).
    pub fn requirements(mut self, requirements: CardRequirements) -> Self {
        self.requirements = requirements;
        self
    }

    /// The endpoint the card is sent to.
    pub fn endpoint(&self) -> String {
        format!("{}/v1/tokens", self.base_url.trim_end_matches('/'))
    }

    /// Sends the card to Stripe and returns the token, titled `Visa *4242` from the brand and
    /// last four digits Stripe reports.
    pub async fn tokenize(&self, card: &Card) -> Result<StripeToken, TokenizeError> {
        check_card(card, self.requirements)?;
        if !self.publishable_key.starts_with("pk_") {
            check_header_token(PROVIDER, &self.publishable_key)?;
            return Err(TokenizeError::InvalidKey {
                provider: PROVIDER,
                reason: "a Stripe publishable key starts with pk_ (secret keys are never used \
                         for tokenizing)",
            });
        }
        check_header_token(PROVIDER, &self.publishable_key)?;
        let url = check_url(PROVIDER, &self.endpoint())?;
        let client = client(self.timeouts)?;

        let exp_month = card.expiry().month().to_string();
        let exp_year = card.expiry().year().to_string();
        let mut fields: Vec<(&str, &str)> = vec![
            ("card[number]", card.number().expose()),
            ("card[cvc]", card.cvc().expose()),
            ("card[exp_month]", &exp_month),
            ("card[exp_year]", &exp_year),
        ];
        let optional = [
            ("card[name]", card.cardholder_name()),
            ("card[address_country]", card.country()),
            ("card[address_zip]", card.zip()),
        ];
        fields.extend(
            optional
                .into_iter()
                .filter_map(|(key, value)| Some((key, value.filter(|v| !v.is_empty())?))),
        );

        tracing::debug!(provider = %PROVIDER, %url, card = %card.number(), "tokenizing a card");
        let answer = exchange(PROVIDER, self.timeouts, || {
            client
                .post(url.clone())
                .bearer_auth(&self.publishable_key)
                .header("Stripe-Version", Self::API_VERSION)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&fields)
        })
        .await?;
        read_answer(card, answer)
    }
}

/// A token or the error Stripe answered.
pub(super) fn read_answer(card: &Card, answer: Answer) -> Result<StripeToken, TokenizeError> {
    let Answer {
        status,
        retry_after,
        json,
    } = answer;
    let scrub = Scrubber::new(card);
    if (200..300).contains(&status) {
        let Some(json) = json.filter(serde_json::Value::is_object) else {
            return Err(TokenizeError::BadResponse {
                provider: PROVIDER,
                status,
                problem: "the answer is not a JSON object",
            });
        };
        let id = token_text(PROVIDER, status, json.get("id").and_then(|v| v.as_str()))?;
        let details = json.get("card");
        let text = |key| details.and_then(|c| c.get(key)).and_then(|v| v.as_str());
        let title = token_title(card, text("brand"), text("last4"));
        return Ok(StripeToken::new(id, title));
    }
    let error = json.as_ref().and_then(|json| json.get("error"));
    let kind = error.and_then(|e| e.get("type")).and_then(|v| v.as_str());
    let code = scrub.field(error, "code");
    let message = scrub.field(error, "message");
    let param = scrub.field(error, "param");
    if status == 401 || status == 403 || kind == Some("authentication_error") {
        return Err(TokenizeError::Unauthorized {
            provider: PROVIDER,
            status,
            message,
        });
    }
    if status == 429 || code.as_deref() == Some("rate_limit") || kind == Some("rate_limit_error") {
        return Err(TokenizeError::RateLimited {
            provider: PROVIDER,
            retry_after,
        });
    }
    let reason = code
        .as_deref()
        .map_or(CardRejection::Other, CardRejection::from_stripe_code);
    if kind == Some("card_error") || reason != CardRejection::Other {
        return Err(TokenizeError::CardRejected {
            provider: PROVIDER,
            reason,
            code,
            decline_code: scrub.field(error, "decline_code"),
            message,
        });
    }
    if status >= 500 || kind == Some("api_error") {
        return Err(TokenizeError::ProviderFailed {
            provider: PROVIDER,
            status,
            message,
        });
    }
    if error.is_none() {
        return Err(TokenizeError::BadResponse {
            provider: PROVIDER,
            status,
            problem: "an error status without a Stripe error object",
        });
    }
    Err(TokenizeError::Refused {
        provider: PROVIDER,
        status,
        code,
        param,
        message,
    })
}
