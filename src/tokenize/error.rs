//! What a tokenization can fail with: [`TokenizeError`], the provider's [`CardRejection`], and
//! which [`Provider`] said so.

use std::fmt;
use std::time::Duration;

use crate::card::CardError;

/// A card tokenization service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// Stripe.
    Stripe,
    /// SmartGlocal.
    SmartGlocal,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Stripe => "Stripe",
            Provider::SmartGlocal => "SmartGlocal",
        })
    }
}

/// Why a provider refused a card (Stripe's card error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardRejection {
    /// `incorrect_number`: the number is not a card's.
    IncorrectNumber,
    /// `invalid_number`: the number is not a valid card number.
    InvalidNumber,
    /// `invalid_expiry_month`.
    InvalidExpiryMonth,
    /// `invalid_expiry_year`.
    InvalidExpiryYear,
    /// `invalid_cvc`: the security code is malformed.
    InvalidCvc,
    /// `incorrect_cvc`: the security code is wrong.
    IncorrectCvc,
    /// `expired_card`.
    ExpiredCard,
    /// `incorrect_zip`: the post code failed the check.
    IncorrectZip,
    /// `card_declined`: the issuer refused the card.
    CardDeclined,
    /// `processing_error`: the card could not be processed.
    ProcessingError,
    /// Another card error; its code is in the error.
    Other,
}

impl CardRejection {
    /// The rejection for one of Stripe's error codes; [`CardRejection::Other`] for codes that
    /// are not about the card data.
    pub fn from_stripe_code(code: &str) -> CardRejection {
        match code {
            "incorrect_number" => CardRejection::IncorrectNumber,
            "invalid_number" => CardRejection::InvalidNumber,
            "invalid_expiry_month" => CardRejection::InvalidExpiryMonth,
            "invalid_expiry_year" => CardRejection::InvalidExpiryYear,
            "invalid_cvc" => CardRejection::InvalidCvc,
            "incorrect_cvc" => CardRejection::IncorrectCvc,
            "expired_card" => CardRejection::ExpiredCard,
            "incorrect_zip" => CardRejection::IncorrectZip,
            "card_declined" => CardRejection::CardDeclined,
            "processing_error" => CardRejection::ProcessingError,
            _ => CardRejection::Other,
        }
    }
}

impl fmt::Display for CardRejection {
    /// What happened and what to do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CardRejection::IncorrectNumber => "the card number is incorrect: check it",
            CardRejection::InvalidNumber => "the card number is not valid: check it",
            CardRejection::InvalidExpiryMonth => "the expiry month is wrong: check it",
            CardRejection::InvalidExpiryYear => "the expiry year is wrong: check it",
            CardRejection::InvalidCvc => "the security code (CVC) is not valid: check it",
            CardRejection::IncorrectCvc => "the security code (CVC) is incorrect: check it",
            CardRejection::ExpiredCard => "the card has expired: use another card",
            CardRejection::IncorrectZip => {
                "the billing ZIP or post code does not match the card: check it"
            }
            CardRejection::CardDeclined => {
                "the card was declined: use another card or ask the bank why"
            }
            CardRejection::ProcessingError => {
                "the card could not be processed: try again in a moment"
            }
            CardRejection::Other => "the card was refused",
        })
    }
}

/// Why a card could not be tokenized. Never contains the card number or the CVC.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenizeError {
    /// The card failed a local check; nothing was sent.
    #[error(transparent)]
    Card(#[from] CardError),
    /// The provider's key or token cannot be used; nothing was sent.
    #[error("the {provider} key cannot be used: {reason}")]
    InvalidKey {
        /// The provider.
        provider: Provider,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The tokenizer URL cannot be used; nothing was sent.
    #[error("the {provider} tokenizer URL cannot be used: {reason}")]
    InvalidUrl {
        /// The provider.
        provider: Provider,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The provider refused the card.
    #[error(
        "{provider} refused the card: {reason}{code}{decline}{message}",
        code = code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(),
        decline = decline_code.as_deref().map(|c| format!(", decline code {c}")).unwrap_or_default(),
        message = message.as_deref().map(|m| format!("; {provider} says: {m}")).unwrap_or_default()
    )]
    CardRejected {
        /// The provider.
        provider: Provider,
        /// Why, as far as this crate understands the code.
        reason: CardRejection,
        /// The provider's error code (`card_declined`).
        code: Option<String>,
        /// The issuer's decline code, for declines (`insufficient_funds`).
        decline_code: Option<String>,
        /// The provider's message, meant for the payer.
        message: Option<String>,
    },
    /// The provider does not accept the key (HTTP 401 or 403).
    #[error(
        "{provider} refused the key (HTTP {status}){message}: the form's key is wrong or revoked; \
         fetch the payment form again",
        message = message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    Unauthorized {
        /// The provider.
        provider: Provider,
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: Option<String>,
    },
    /// Too many requests (HTTP 429).
    #[error(
        "{provider} is rate limiting requests: try again{after}",
        after = retry_after.map(|d| format!(" in {} s", d.as_secs().max(1))).unwrap_or_else(|| " later".to_owned())
    )]
    RateLimited {
        /// The provider.
        provider: Provider,
        /// How long the provider asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// The provider refused the request for another reason than the card.
    #[error(
        "{provider} refused the request (HTTP {status}){code}{param}{message}",
        code = code.as_deref().map(|c| format!(", code {c}")).unwrap_or_default(),
        param = param.as_deref().map(|p| format!(", parameter {p}")).unwrap_or_default(),
        message = message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    Refused {
        /// The provider.
        provider: Provider,
        /// The HTTP status.
        status: u16,
        /// The provider's error code.
        code: Option<String>,
        /// The request parameter concerned.
        param: Option<String>,
        /// The provider's message.
        message: Option<String>,
    },
    /// The provider failed (HTTP 5xx, Stripe `api_error`).
    #[error(
        "{provider} failed (HTTP {status}){message}: try again later",
        message = message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    ProviderFailed {
        /// The provider.
        provider: Provider,
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: Option<String>,
    },
    /// The connection could not be made; nothing was sent.
    #[error(
        "could not connect to {provider} ({attempts} attempts): check the network and try again"
    )]
    Connect {
        /// The provider.
        provider: Provider,
        /// How many connections were tried.
        attempts: u32,
        /// The last failure.
        #[source]
        source: reqwest::Error,
    },
    /// No answer in time. The card may or may not have been tokenized; tokenizing again is
    /// harmless (an unused token is never charged).
    #[error(
        "{provider} did not answer within {} s: try again",
        timeout.as_secs_f64()
    )]
    Timeout {
        /// The provider.
        provider: Provider,
        /// The time allowed.
        timeout: Duration,
    },
    /// The connection failed after the request may have been sent; not retried. Tokenizing
    /// again is harmless.
    #[error("the connection to {provider} failed: try again")]
    Network {
        /// The provider.
        provider: Provider,
        /// The failure.
        #[source]
        source: reqwest::Error,
    },
    /// The answer is not what the provider sends.
    #[error("{provider} sent an unexpected answer (HTTP {status}): {problem}")]
    BadResponse {
        /// The provider.
        provider: Provider,
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        problem: &'static str,
    },
    /// The HTTP client could not be set up.
    #[error("the HTTP client could not be set up")]
    Client(#[source] reqwest::Error),
}
