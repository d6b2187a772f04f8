//! Payment credentials: what pays for a card form, converted to `InputPaymentCredentials`.
//!
//! | Kind | Comes from | Sent as |
//! |---|---|---|
//! | [`WebCredentials`] | the provider's payment page (`payment_form_submit` event) | `inputPaymentCredentials` |
//! | [`StripeToken`] | Stripe's tokenizer | `inputPaymentCredentials` `{"type":"card","id":"tok_…"}` |
//! | [`SmartGlocalToken`] | SmartGlocal's tokenizer | `inputPaymentCredentials` `{"token":"…","type":"card"}` |
//! | [`ApplePay`] | Apple Pay's payment data | `inputPaymentCredentialsApplePay` |
//! | [`GooglePay`] | Google Pay's payment token | `inputPaymentCredentialsGooglePay` |
//! | [`SavedCard`] | the form's `saved_credentials`, with a [`TmpPassword`] | `inputPaymentCredentialsSaved` |
//!
//! Card tokens, wallet payloads, web credentials and temporary passwords are held in
//! [`Secret`](crate::secret::Secret)s: they never appear in `Debug`, `Display` or errors.

mod saved;
mod smartglocal;
mod stripe;
mod wallet;
mod web;

pub use saved::{SavedCard, TmpPassword};
pub use smartglocal::SmartGlocalToken;
pub use stripe::StripeToken;
pub use wallet::{ApplePay, GooglePay};
pub use web::WebCredentials;

use crate::tl;

/// What was wrong with payment credentials, found before anything was sent. Never contains
/// the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A saved card needs a valid temporary password, and there is none or it has expired.
    #[error(
        "paying with a saved card needs a valid temporary password{expired}: call \
         Payments::get_tmp_password with the account's 2FA password first",
        expired = match valid_until {
            Some(until) => format!(" (the one given expired at unix time {until})"),
            None => String::new(),
        }
    )]
    TmpPasswordRequired {
        /// When the temporary password given expired (unix time); `None` if none was given.
        valid_until: Option<i64>,
    },
    /// `save` was asked for credentials that Telegram cannot save.
    #[error("{kind} credentials cannot be saved on the server: send them with save = false")]
    SaveNotSupported {
        /// The kind of credentials (`"Apple Pay"`, `"saved card"`).
        kind: &'static str,
    },
    /// A token or id is empty.
    #[error("the {kind} is empty: pass the value the tokenizer returned")]
    Empty {
        /// What is empty (`"Stripe token id"`).
        kind: &'static str,
    },
    /// A JSON document that does not parse.
    #[error(
        "the {what} is not valid JSON ({category} error at line {line}, column {column}); \
         pass the document exactly as it was received"
    )]
    NotJson {
        /// What was being parsed (`"payment_form_submit event"`).
        what: &'static str,
        /// The kind of JSON error (`"syntax"`, `"eof"`, `"data"`, `"io"`).
        category: &'static str,
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1.
        column: usize,
    },
    /// A JSON document that parses but is not an object.
    #[error("the {what} must be a JSON object")]
    NotObject {
        /// What is not an object (`"payment_form_submit event"`, `"credentials"`,
        /// `"Apple Pay payment data"`).
        what: &'static str,
    },
}

impl CredentialsError {
    /// A JSON syntax error, without the text that was parsed.
    pub(crate) fn not_json(what: &'static str, error: &serde_json::Error) -> Self {
        let category = match error.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        CredentialsError::NotJson {
            what,
            category,
            line: error.line(),
            column: error.column(),
        }
    }
}

/// Credentials that pay for a card form.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// From the provider's payment page.
    Web(WebCredentials),
    /// A Stripe card token.
    Stripe(StripeToken),
    /// A SmartGlocal card token.
    SmartGlocal(SmartGlocalToken),
    /// Apple Pay.
    ApplePay(ApplePay),
    /// Google Pay.
    GooglePay(GooglePay),
    /// A card saved on the server.
    Saved(SavedCard),
}

impl Credentials {
    /// What the payer sees for these credentials, and what a receipt shows: the card title the
    /// tokenizer or page gave (`Visa *4242`), `Apple Pay`, `Google Pay`, or the saved card's
    /// title.
    pub fn title(&self) -> &str {
        match self {
            Credentials::Web(web) => web.title(),
            Credentials::Stripe(token) => &token.title,
            Credentials::SmartGlocal(token) => &token.title,
            Credentials::ApplePay(_) => ApplePay::TITLE,
            Credentials::GooglePay(_) => GooglePay::TITLE,
            Credentials::Saved(card) => &card.title,
        }
    }

    /// The `InputPaymentCredentials` for `payments.sendPaymentForm`.
    ///
    /// `save` asks the server to keep new card credentials (web, Stripe, SmartGlocal) for later
    /// purchases; only do so when the form's `can_save_credentials` is set. Wallets and saved
    /// cards cannot be saved. A saved card needs `tmp_password`, valid for at least
    /// [`TmpPassword::RESERVE_SECS`] more seconds by the system clock; the other kinds ignore it.
    pub fn to_tl(
        &self,
        save: bool,
        tmp_password: Option<&TmpPassword>,
    ) -> Result<tl::enums::InputPaymentCredentials, CredentialsError> {
        self.to_tl_at(save, tmp_password, crate::clock::unix_now())
    }

    /// [`Credentials::to_tl`] at the unix time `now`.
    pub fn to_tl_at(
        &self,
        save: bool,
        tmp_password: Option<&TmpPassword>,
        now: i64,
    ) -> Result<tl::enums::InputPaymentCredentials, CredentialsError> {
        let refuse_save = |kind| {
            if save {
                Err(CredentialsError::SaveNotSupported { kind })
            } else {
                Ok(())
            }
        };
        match self {
            Credentials::Web(web) => Ok(new_credentials(web.data().expose().clone(), save)),
            Credentials::Stripe(token) => Ok(new_credentials(token.to_json()?, save)),
            Credentials::SmartGlocal(token) => Ok(new_credentials(token.to_json()?, save)),
            Credentials::ApplePay(apple) => {
                refuse_save("Apple Pay")?;
                Ok(tl::enums::InputPaymentCredentials::ApplePay(
                    tl::types::InputPaymentCredentialsApplePay {
                        payment_data: data_json(apple.payment_data().expose().clone()),
                    },
                ))
            }
            Credentials::GooglePay(google) => {
                refuse_save("Google Pay")?;
                Ok(tl::enums::InputPaymentCredentials::GooglePay(
                    tl::types::InputPaymentCredentialsGooglePay {
                        payment_token: data_json(google.payment_token().expose().clone()),
                    },
                ))
            }
            Credentials::Saved(card) => {
                refuse_save("saved card")?;
                card.to_tl_at(tmp_password, now)
            }
        }
    }
}

impl From<WebCredentials> for Credentials {
    fn from(credentials: WebCredentials) -> Self {
        Credentials::Web(credentials)
    }
}

impl From<StripeToken> for Credentials {
    fn from(token: StripeToken) -> Self {
        Credentials::Stripe(token)
    }
}

impl From<SmartGlocalToken> for Credentials {
    fn from(token: SmartGlocalToken) -> Self {
        Credentials::SmartGlocal(token)
    }
}

impl From<ApplePay> for Credentials {
    fn from(apple: ApplePay) -> Self {
        Credentials::ApplePay(apple)
    }
}

impl From<GooglePay> for Credentials {
    fn from(google: GooglePay) -> Self {
        Credentials::GooglePay(google)
    }
}

impl From<SavedCard> for Credentials {
    fn from(card: SavedCard) -> Self {
        Credentials::Saved(card)
    }
}

/// A `dataJSON`.
fn data_json(data: String) -> tl::enums::DataJson {
    tl::enums::DataJson::Json(tl::types::DataJson { data })
}

/// `inputPaymentCredentials` with new card credentials.
fn new_credentials(data: String, save: bool) -> tl::enums::InputPaymentCredentials {
    tl::enums::InputPaymentCredentials::Credentials(tl::types::InputPaymentCredentials {
        save,
        data: data_json(data),
    })
}

/// Parses `json` as a JSON object, for the credentials kinds that wrap one.
fn parse_object(
    json: &str,
    what: &'static str,
) -> Result<serde_json::Map<String, serde_json::Value>, CredentialsError> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(CredentialsError::NotObject { what }),
        Err(error) => Err(CredentialsError::not_json(what, &error)),
    }
}
