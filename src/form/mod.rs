//! Payment forms: what `payments.getPaymentForm` returns, sanitized before it is trusted.
//!
//! [`PaymentForm::from_tl`] turns a `payments.PaymentForm` into a [`CardForm`] (paid by card or
//! wallet through a payment provider), a [`StarsForm`] (paid in Telegram Stars) or a
//! [`StarGiftForm`]. Its [`Invoice`] is cleaned up the way TDLib cleans it (see
//! [`crate::invoice`]); the bot and provider ids are checked as TDLib's `GetPaymentFormQuery` does
//! ([`FormError::InvalidUserId`]).

mod provider;

pub use crate::invoice::{
    FormError, Invoice, LabeledPrice, MAX_SUGGESTED_TIPS, RequestedInfo, Tips, TotalError,
};
pub use provider::{
    NativeProvider, SMARTGLOCAL_TEST_TOKENIZE_URL, SMARTGLOCAL_TOKENIZE_URL,
    is_smartglocal_tokenizer,
};

use std::time::{Duration, Instant};

use crate::credentials::SavedCard;
use crate::currency::Amount;
use crate::invoice::InvoiceRef;
use crate::order::OrderInfo;
use crate::tl;

/// About how long Telegram accepts a payment form after it was fetched; an older one is
/// refused with `FORM_EXPIRED` and must be fetched again.
pub const FORM_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// A user the form names (the seller bot, the payment provider), from the form's `users`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FormUser {
    /// The user id.
    pub id: i64,
    /// The first and last name, joined by a space.
    pub name: String,
    /// The @username, without the `@`.
    pub username: Option<String>,
    /// The access hash the form gave for this user, needed to address it.
    pub access_hash: Option<i64>,
}

impl FormUser {
    /// The user as an `InputPeer`, if the form gave its access hash.
    pub fn input_peer(&self) -> Option<tl::enums::InputPeer> {
        self.access_hash.map(|access_hash| {
            tl::types::InputPeerUser {
                user_id: self.id,
                access_hash,
            }
            .into()
        })
    }

    /// The user with this id among `users`, if the form included it.
    fn find(users: &[tl::enums::User], id: i64) -> Option<FormUser> {
        users.iter().find_map(|user| match user {
            tl::enums::User::User(user) if user.id == id => {
                let name = [user.first_name.as_deref(), user.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let username = user
                    .username
                    .clone()
                    .or_else(|| {
                        user.usernames.as_ref().and_then(|names| {
                            names.iter().find_map(|name| {
                                let tl::enums::Username::Username(name) = name;
                                name.active.then(|| name.username.clone())
                            })
                        })
                    })
                    .filter(|username| !username.is_empty());
                Some(FormUser {
                    id,
                    name,
                    username,
                    access_hash: user.access_hash,
                })
            }
            _ => None,
        })
    }
}

/// TDLib's `UserId::is_valid`: positive and below 2^40.
fn check_user_id(role: &'static str, id: i64) -> Result<i64, FormError> {
    if 0 < id && id < (1_i64 << 40) {
        Ok(id)
    } else {
        Err(FormError::InvalidUserId { role, id })
    }
}

/// The URL of a form's product photo (`webDocument` or `webDocumentNoProxy`).
fn photo_url(photo: Option<tl::enums::WebDocument>) -> Option<String> {
    let url = match photo? {
        tl::enums::WebDocument::Document(document) => document.url,
        tl::enums::WebDocument::NoProxy(document) => document.url,
    };
    (!url.is_empty()).then_some(url)
}

/// Another way to pay offered by the form (`paymentFormMethod`), opened in a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PaymentMethod {
    /// The page to open.
    pub url: String,
    /// Its name.
    pub title: String,
}

/// A form paid by card or wallet through a payment provider (`payments.paymentForm`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CardForm {
    /// The form id, sent back with the payment.
    pub form_id: i64,
    /// The seller bot's user id.
    pub bot_id: i64,
    /// The seller bot, if the form included it in `users`.
    pub bot: Option<FormUser>,
    /// The product's name.
    pub title: String,
    /// The product's description.
    pub description: String,
    /// The product photo's URL.
    pub photo_url: Option<String>,
    /// The invoice.
    pub invoice: Invoice,
    /// The payment provider's user id.
    pub provider_id: i64,
    /// The payment provider, if the form included it in `users`.
    pub provider: Option<FormUser>,
    /// The provider's payment page, where card details are entered when the app does not
    /// show a card form itself.
    pub url: String,
    /// Other ways to pay, each a page to open.
    pub additional_methods: Vec<PaymentMethod>,
    /// The provider whose card form the app may show itself.
    pub native_provider: Option<NativeProvider>,
    /// The order information saved on the server from an earlier purchase.
    pub saved_info: Option<OrderInfo>,
    /// Cards saved on the server (`saved_credentials`), paid with a temporary password.
    pub saved_credentials: Vec<SavedCard>,
    /// New credentials may be saved on the server for later purchases.
    pub can_save_credentials: bool,
    /// Saving credentials needs a 2FA password, and the account has none.
    pub password_missing: bool,
    /// The invoice this form was fetched for.
    pub invoice_ref: InvoiceRef,
    /// When the form was converted (not serialized).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub fetched_at: Instant,
}

/// A form paid in Telegram Stars (`payments.paymentFormStars`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StarsForm {
    /// The form id, sent back with the payment.
    pub form_id: i64,
    /// The seller bot's user id.
    pub bot_id: i64,
    /// The seller bot, if the form included it in `users`.
    pub bot: Option<FormUser>,
    /// The product's name.
    pub title: String,
    /// The product's description.
    pub description: String,
    /// The product photo's URL.
    pub photo_url: Option<String>,
    /// The invoice, in `XTR`.
    pub invoice: Invoice,
    /// The price in Stars: the invoice's one price.
    pub price: Amount,
    /// The invoice this form was fetched for.
    pub invoice_ref: InvoiceRef,
    /// When the form was converted (not serialized).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub fetched_at: Instant,
}

/// A form for a star gift (`payments.paymentFormStarGift`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StarGiftForm {
    /// The form id, sent back with the payment.
    pub form_id: i64,
    /// The invoice, in `XTR`.
    pub invoice: Invoice,
    /// The price in Stars: the invoice's one price.
    pub price: Amount,
    /// The invoice this form was fetched for.
    pub invoice_ref: InvoiceRef,
    /// When the form was converted (not serialized).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub fetched_at: Instant,
}

/// A payment form, sanitized (see the module docs).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum PaymentForm {
    /// Paid by card or wallet through a payment provider (boxed: it is the largest kind).
    Card(Box<CardForm>),
    /// Paid in Telegram Stars.
    Stars(StarsForm),
    /// A star gift, paid in Telegram Stars.
    StarGift(StarGiftForm),
}

impl PaymentForm {
    /// Converts and sanitizes what `payments.getPaymentForm` returned for `invoice_ref`, and
    /// records the time of conversion.
    pub fn from_tl(
        form: tl::enums::payments::PaymentForm,
        invoice_ref: InvoiceRef,
    ) -> Result<PaymentForm, FormError> {
        let fetched_at = Instant::now();
        match form {
            tl::enums::payments::PaymentForm::Form(form) => {
                let bot_id = check_user_id("bot", form.bot_id)?;
                let provider_id = check_user_id("provider", form.provider_id)?;
                let invoice = Invoice::from_tl(form.invoice)?;
                let native_provider = form
                    .native_provider
                    .map(|name| NativeProvider::from_tl(name, form.native_params, invoice.test));
                Ok(PaymentForm::Card(Box::new(CardForm {
                    form_id: form.form_id,
                    bot_id,
                    bot: FormUser::find(&form.users, bot_id),
                    title: form.title,
                    description: form.description,
                    photo_url: photo_url(form.photo),
                    invoice,
                    provider_id,
                    provider: FormUser::find(&form.users, provider_id),
                    url: form.url,
                    additional_methods: form
                        .additional_methods
                        .unwrap_or_default()
                        .into_iter()
                        .map(|method| {
                            let tl::enums::PaymentFormMethod::Method(method) = method;
                            PaymentMethod {
                                url: method.url,
                                title: method.title,
                            }
                        })
                        .collect(),
                    native_provider,
                    saved_info: form.saved_info.map(OrderInfo::from_tl),
                    saved_credentials: form
                        .saved_credentials
                        .unwrap_or_default()
                        .into_iter()
                        .map(SavedCard::from_tl)
                        .collect(),
                    can_save_credentials: form.can_save_credentials,
                    password_missing: form.password_missing,
                    invoice_ref,
                    fetched_at,
                })))
            }
            tl::enums::payments::PaymentForm::Stars(form) => {
                let bot_id = check_user_id("bot", form.bot_id)?;
                let (invoice, price) = stars_invoice(form.invoice)?;
                Ok(PaymentForm::Stars(StarsForm {
                    form_id: form.form_id,
                    bot_id,
                    bot: FormUser::find(&form.users, bot_id),
                    title: form.title,
                    description: form.description,
                    photo_url: photo_url(form.photo),
                    invoice,
                    price,
                    invoice_ref,
                    fetched_at,
                }))
            }
            tl::enums::payments::PaymentForm::StarGift(form) => {
                let (invoice, price) = stars_invoice(form.invoice)?;
                Ok(PaymentForm::StarGift(StarGiftForm {
                    form_id: form.form_id,
                    invoice,
                    price,
                    invoice_ref,
                    fetched_at,
                }))
            }
        }
    }

    /// The form id.
    pub fn form_id(&self) -> i64 {
        match self {
            PaymentForm::Card(form) => form.form_id,
            PaymentForm::Stars(form) => form.form_id,
            PaymentForm::StarGift(form) => form.form_id,
        }
    }

    /// The invoice.
    pub fn invoice(&self) -> &Invoice {
        match self {
            PaymentForm::Card(form) => &form.invoice,
            PaymentForm::Stars(form) => &form.invoice,
            PaymentForm::StarGift(form) => &form.invoice,
        }
    }

    /// The invoice this form was fetched for.
    pub fn invoice_ref(&self) -> &InvoiceRef {
        match self {
            PaymentForm::Card(form) => &form.invoice_ref,
            PaymentForm::Stars(form) => &form.invoice_ref,
            PaymentForm::StarGift(form) => &form.invoice_ref,
        }
    }

    /// The product's name; empty for star gifts, whose form has none.
    pub fn title(&self) -> &str {
        match self {
            PaymentForm::Card(form) => &form.title,
            PaymentForm::Stars(form) => &form.title,
            PaymentForm::StarGift(_) => "",
        }
    }

    /// When the form was converted by [`PaymentForm::from_tl`].
    pub fn fetched_at(&self) -> Instant {
        match self {
            PaymentForm::Card(form) => form.fetched_at,
            PaymentForm::Stars(form) => form.fetched_at,
            PaymentForm::StarGift(form) => form.fetched_at,
        }
    }

    /// How long ago the form was converted.
    pub fn age(&self) -> Duration {
        self.fetched_at().elapsed()
    }

    /// Whether the form is older than [`FORM_LIFETIME`], so that Telegram would answer
    /// `FORM_EXPIRED`: fetch it again before paying.
    pub fn is_expired(&self) -> bool {
        self.age() >= FORM_LIFETIME
    }
}

/// A Stars invoice and its one price.
fn stars_invoice(invoice: tl::enums::Invoice) -> Result<(Invoice, Amount), FormError> {
    let invoice = Invoice::from_tl(invoice)?;
    if !invoice.is_stars() {
        return Err(FormError::StarsCurrency {
            currency: invoice.currency,
        });
    }
    // `Invoice::from_tl` has checked that a Stars invoice has exactly one price.
    let price = match invoice.prices.as_slice() {
        [price] => price.amount,
        prices => {
            return Err(FormError::StarsPriceCount {
                count: prices.len(),
            });
        }
    };
    Ok((invoice, price))
}
