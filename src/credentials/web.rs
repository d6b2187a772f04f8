//! Credentials from the payment provider's web page.

use crate::secret::SecretString;

use super::{CredentialsError, parse_object};

/// Credentials the provider's payment page ([`CardForm::url`](crate::form::CardForm::url))
/// hands back when the payer submits it.
///
/// The page posts the event `payment_form_submit` through `TelegramWebviewProxy.postEvent`;
/// its data is a JSON object `{"title": "…", "credentials": {…}}`. As in Telegram Desktop
/// (`CheckoutProcess::panelWebviewMessage`) and Telegram Android, `credentials` must be a JSON
/// object and is sent to Telegram in `inputPaymentCredentials.data`, re-encoded compactly;
/// `title` is what the payer sees for the card, and is empty when it is missing or not a
/// string.
#[derive(Debug, Clone)]
pub struct WebCredentials {
    title: String,
    data: SecretString,
}

impl WebCredentials {
    /// The event type the payment page posts.
    pub const EVENT_TYPE: &'static str = "payment_form_submit";

    /// Reads the data of a `payment_form_submit` event.
    ///
    /// ```
    /// use tgpay::credentials::WebCredentials;
    ///
    /// let web = WebCredentials::from_event(
    ///     r#"{"title":"Visa *1111","credentials":{"token":"pm_123","type":"card"}}"#,
    /// )?;
    /// assert_eq!(web.title(), "Visa *1111");
    /// assert_eq!(web.data().expose(), r#"{"token":"pm_123","type":"card"}"#);
    /// assert!(!format!("{web:?}").contains("pm_123"));
    /// # Ok::<(), tgpay::credentials::CredentialsError>(())
    /// ```
    pub fn from_event(json: &str) -> Result<Self, CredentialsError> {
        let mut event = parse_object(json, "payment_form_submit event")?;
        let title = match event.remove("title") {
            Some(serde_json::Value::String(title)) => title,
            _ => String::new(),
        };
        let credentials = match event.remove("credentials") {
            Some(credentials @ serde_json::Value::Object(_)) => credentials,
            _ => {
                return Err(CredentialsError::NotObject {
                    what: "credentials",
                });
            }
        };
        let data = serde_json::to_string(&credentials)
            .map_err(|error| CredentialsError::not_json("credentials", &error))?;
        Ok(WebCredentials {
            data: SecretString::with_hint(data, title.clone()),
            title,
        })
    }

    /// What the payer sees for the card (`Visa *1111`); may be empty.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The credentials JSON object sent to Telegram.
    pub fn data(&self) -> &SecretString {
        &self.data
    }
}
