//! SmartGlocal's card tokenizer.
//!
//! The request is the one Telegram Desktop sends (`SmartGlocal::APIClient`): `POST` to the
//! form's tokenize URL with `Content-Type: application/json`, `X-PUBLIC-TOKEN: <public
//! token>` and the body `{"card":{"number":"…","expiration_month":"MM",
//! "expiration_year":"YY","security_code":"…"}}` (month and year as two digits each). The
//! answer is `{"status":"ok","data":{"token":"…","info":{"card_type":…,
//! "card_network":…,"masked_card_number":…}}}`, or an `error` object with `code` and
//! `description`.

use std::time::Duration;

use crate::card::Card;
use crate::credentials::SmartGlocalToken;
use crate::form::{NativeProvider, SMARTGLOCAL_TEST_TOKENIZE_URL, SMARTGLOCAL_TOKENIZE_URL};

use super::{
    Answer, Provider, Scrubber, Timeouts, TokenizeError, check_card, check_header_token, check_url,
    client, exchange, token_text, token_title,
};

const PROVIDER: Provider = Provider::SmartGlocal;

/// Tokenizes cards with SmartGlocal, in the style of a `reqwest` request builder.
///
/// ```no_run
/// # async fn demo(card: &tgpay::card::Card) -> Result<(), tgpay::tokenize::TokenizeError> {
/// use tgpay::tokenize::SmartGlocalTokenizer;
///
/// let token = SmartGlocalTokenizer::new("the form's public_token")
///     .test(true)
///     .tokenize(card)
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SmartGlocalTokenizer {
    public_token: String,
    tokenize_url: String,
    timeouts: Timeouts,
}

impl SmartGlocalTokenizer {
    /// A tokenizer with a form's public token, sending to the production tokenizer
    /// ([`SMARTGLOCAL_TOKENIZE_URL`]).
    pub fn new(public_token: impl Into<String>) -> Self {
        SmartGlocalTokenizer {
            public_token: public_token.into(),
            tokenize_url: SMARTGLOCAL_TOKENIZE_URL.to_owned(),
            timeouts: Timeouts::default(),
        }
    }

    /// The tokenizer a form's [`NativeProvider::SmartGlocal`] describes: its public token and
    /// its (already checked) tokenize URL. `None` for other providers.
    pub fn from_provider(provider: &NativeProvider) -> Option<Self> {
        match provider {
            NativeProvider::SmartGlocal {
                public_token,
                tokenize_url,
            } => Some(SmartGlocalTokenizer::new(public_token.clone()).tokenize_url(tokenize_url)),
            _ => None,
        }
    }

    /// Sends to the playground tokenizer ([`SMARTGLOCAL_TEST_TOKENIZE_URL`]) for test
    /// invoices, or the production one.
    pub fn test(self, test: bool) -> Self {
        self.tokenize_url(if test {
            SMARTGLOCAL_TEST_TOKENIZE_URL
        } else {
            SMARTGLOCAL_TOKENIZE_URL
        })
    }

    /// Another tokenizer URL (the whole URL). HTTPS, or plain HTTP to a loopback address.
    pub fn tokenize_url(mut self, url: impl Into<String>) -> Self {
        self.tokenize_url = url.into();
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

    /// The endpoint the card is sent to.
    pub fn endpoint(&self) -> &str {
        &self.tokenize_url
    }

    /// Sends the card to SmartGlocal and returns the token, titled `Visa *4242` from the card
    /// network and masked number SmartGlocal reports.
    pub async fn tokenize(&self, card: &Card) -> Result<SmartGlocalToken, TokenizeError> {
        check_card(card, Default::default())?;
        check_header_token(PROVIDER, &self.public_token)?;
        let url = check_url(PROVIDER, &self.tokenize_url)?;
        let client = client(self.timeouts)?;
        let body = serde_json::json!({
            "card": {
                "number": card.number().expose(),
                "expiration_month": format!("{:02}", card.expiry().month()),
                "expiration_year": format!("{:02}", card.expiry().year() % 100),
                "security_code": card.cvc().expose(),
            }
        });
        tracing::debug!(provider = %PROVIDER, %url, card = %card.number(), "tokenizing a card");
        let answer = exchange(PROVIDER, self.timeouts, || {
            client
                .post(url.clone())
                .header("X-PUBLIC-TOKEN", &self.public_token)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
        })
        .await;
        drop(body);
        read_answer(card, answer?)
    }
}

/// A token or the error SmartGlocal answered.
pub(super) fn read_answer(card: &Card, answer: Answer) -> Result<SmartGlocalToken, TokenizeError> {
    let Answer {
        status,
        retry_after,
        json,
    } = answer;
    let scrub = Scrubber::new(card);
    let json = json.filter(serde_json::Value::is_object);
    let ok = json
        .as_ref()
        .and_then(|j| j.get("status"))
        .and_then(|s| s.as_str())
        == Some("ok");
    if (200..300).contains(&status) && ok {
        let data = json.as_ref().and_then(|j| j.get("data"));
        let token = token_text(
            PROVIDER,
            status,
            data.and_then(|d| d.get("token")).and_then(|t| t.as_str()),
        )?;
        let info = data.and_then(|d| d.get("info"));
        let text = |key| info.and_then(|i| i.get(key)).and_then(|v| v.as_str());
        let brand = text("card_network").or(text("card_type"));
        let last4 = text("masked_card_number").and_then(|masked| {
            masked
                .len()
                .checked_sub(4)
                .and_then(|start| masked.get(start..))
        });
        return Ok(SmartGlocalToken::new(
            token,
            token_title(card, brand, last4),
        ));
    }
    let error = json.as_ref().and_then(|j| j.get("error"));
    let code = scrub.field(error, "code");
    let message = scrub.field(error, "description");
    match status {
        401 | 403 => Err(TokenizeError::Unauthorized {
            provider: PROVIDER,
            status,
            message,
        }),
        429 => Err(TokenizeError::RateLimited {
            provider: PROVIDER,
            retry_after,
        }),
        500.. => Err(TokenizeError::ProviderFailed {
            provider: PROVIDER,
            status,
            message,
        }),
        _ if error.is_some() => Err(TokenizeError::Refused {
            provider: PROVIDER,
            status,
            code,
            param: None,
            message,
        }),
        _ => Err(TokenizeError::BadResponse {
            provider: PROVIDER,
            status,
            problem: "neither status \"ok\" with a token nor an error object",
        }),
    }
}
