//! A Stripe card token.

use serde::Serialize;

use crate::secret::SecretString;

use super::CredentialsError;

/// A card token from Stripe's tokenizer (`POST https://api.stripe.com/v1/tokens` with the
/// form's [`NativeProvider::Stripe`](crate::form::NativeProvider::Stripe) publishable key).
///
/// Sent as `{"type":"card","id":"tok_…"}`, the JSON Telegram Desktop (`Form::validateCard`)
/// and Telegram iOS send.
#[derive(Debug, Clone)]
pub struct StripeToken {
    /// The token id (`tok_…`).
    pub id: SecretString,
    /// What the payer sees for the card; Telegram Desktop writes the brand in lower case, a
    /// space, `*` and the last four digits (`Visa *4242`), as the server titles saved cards.
    pub title: String,
}

#[derive(Serialize)]
struct StripeJson<'a> {
    r#type: &'a str,
    id: &'a str,
}

impl StripeToken {
    /// A token and the card's title.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        let title = title.into();
        StripeToken {
            id: SecretString::with_hint(id.into(), title.clone()),
            title,
        }
    }

    /// The JSON sent in `inputPaymentCredentials.data`.
    pub(crate) fn to_json(&self) -> Result<String, CredentialsError> {
        if self.id.expose().is_empty() {
            return Err(CredentialsError::Empty {
                kind: "Stripe token id",
            });
        }
        let json = StripeJson {
            r#type: "card",
            id: self.id.expose(),
        };
        serde_json::to_string(&json)
            .map_err(|error| CredentialsError::not_json("Stripe token", &error))
    }
}
