//! A SmartGlocal card token.

use serde::Serialize;

use crate::secret::SecretString;

use super::CredentialsError;

/// A card token from SmartGlocal's tokenizer (the form's
/// [`NativeProvider::SmartGlocal`](crate::form::NativeProvider::SmartGlocal) `tokenize_url`,
/// with its public token).
///
/// Sent as `{"token":"…","type":"card"}`, the JSON Telegram Desktop (`Form::validateCard`)
/// sends.
#[derive(Debug, Clone)]
pub struct SmartGlocalToken {
    /// The token (`data.token` of the tokenizer's answer).
    pub token: SecretString,
    /// What the payer sees for the card: the brand, a space, `*` and the last four digits
    /// (`Visa *4242`, as [`Card::title`](crate::card::Card::title) writes it).
    pub title: String,
}

#[derive(Serialize)]
struct SmartGlocalJson<'a> {
    token: &'a str,
    r#type: &'a str,
}

impl SmartGlocalToken {
    /// A token and the card's title.
    pub fn new(token: impl Into<String>, title: impl Into<String>) -> Self {
        let title = title.into();
        SmartGlocalToken {
            token: SecretString::with_hint(token.into(), title.clone()),
            title,
        }
    }

    /// The JSON sent in `inputPaymentCredentials.data`.
    pub(crate) fn to_json(&self) -> Result<String, CredentialsError> {
        if self.token.expose().is_empty() {
            return Err(CredentialsError::Empty {
                kind: "SmartGlocal token",
            });
        }
        let json = SmartGlocalJson {
            token: self.token.expose(),
            r#type: "card",
        };
        serde_json::to_string(&json)
            .map_err(|error| CredentialsError::not_json("SmartGlocal token", &error))
    }
}
