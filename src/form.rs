//! Payment forms: what `payments.getPaymentForm` returns, sanitized before it is trusted.
//!
//! [`PaymentForm::from_tl`] turns a `payments.PaymentForm` into a [`CardForm`] (paid by card or
//! wallet through a payment provider), a [`StarsForm`] (paid in Telegram Stars) or a
//! [`StarGiftForm`]. Its [`Invoice`] is cleaned up the way TDLib cleans it (`convert_invoice`
//! and `GetPaymentFormQuery` in `td/telegram/Payments.cpp`) before anything relies on it:
//!
//! | What the server sent | What the form holds | Rule from |
//! |---|---|---|
//! | `phone_to_provider` | the phone number is requested | TDLib `convert_invoice` |
//! | `email_to_provider` | the email address is requested | TDLib `convert_invoice` |
//! | `flexible` | the shipping address is requested | TDLib `convert_invoice` |
//! | `max_tip_amount` < 0 or beyond ±999 999 999 999 | 0: no tips | TDLib `convert_invoice` |
//! | a suggested tip ≤ 0 or above the maximum | dropped | TDLib `process_input_message_invoice`, Bot API |
//! | suggested tips out of order, repeated | sorted ascending, repeats dropped | Bot API (“strictly increased order”) |
//! | more than 4 suggested tips | the 4 smallest kept | TDLib `convert_invoice` |
//! | a price beyond ±999 999 999 999 | [`FormError::PriceOutOfRange`] | TDLib `convert_labeled_price` |
//! | a Stars (`XTR`) invoice without exactly one price | [`FormError::StarsPriceCount`] | TDLib `GetPaymentFormQuery` |
//! | `subscription_period` ≤ 0 | no subscription | TDLib `convert_invoice` |
//! | an invalid bot or provider user id | [`FormError::InvalidUserId`] | TDLib `GetPaymentFormQuery` |
//!
//! TDLib keeps the first four suggested tips in the server's order; the Bot API makes bots send
//! them in increasing order, so keeping the four smallest is the same for every well-formed
//! invoice and stays deterministic for the others.
//!
//! TDLib replaces an out-of-range price by ±2^40 and carries on; a payment library must not
//! show or charge a price it cannot trust, so here such a form is refused.
//!
//! Totals are exact: [`Invoice::subtotal`] adds the prices, [`Invoice::total`] adds a shipping
//! option and a tip after checking the tip against the invoice's limits.

use std::time::{Duration, Instant};

use crate::credentials::SavedCard;
use crate::currency::{Amount, AmountError, Currency, CurrencyError};
use crate::invoice::InvoiceRef;
use crate::order::{OrderInfo, ShippingOption};
use crate::tl;

/// TDLib's bound on a sane amount of money in minor units (`check_currency_amount`).
const MAX_PLAUSIBLE_MINOR: i64 = 999_999_999_999;

/// The most suggested tips an invoice shows (TDLib `convert_invoice`, Bot API).
pub const MAX_SUGGESTED_TIPS: usize = 4;

/// The production SmartGlocal card tokenizer, used unless the form names another one
/// (TDLib `convert_payment_provider`, Telegram Desktop `SmartGlocal::APIClient`).
pub const SMARTGLOCAL_TOKENIZE_URL: &str = "https://tgb.smart-glocal.com/cds/v1/tokenize/card";

/// The SmartGlocal card tokenizer for test invoices (`invoice.test`), used unless the form
/// names another one (TDLib `convert_payment_provider`, Telegram Desktop
/// `SmartGlocal::APIClient`).
pub const SMARTGLOCAL_TEST_TOKENIZE_URL: &str =
    "https://tgb-playground.smart-glocal.com/cds/v1/tokenize/card";

/// About how long Telegram accepts a payment form after it was fetched; an older one is
/// refused with `FORM_EXPIRED` and must be fetched again.
pub const FORM_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// What was wrong with a payment form (or with the shipping options of a validated order) as
/// the server sent it. Fetching the form again is the only remedy; if it persists, the
/// merchant's invoice is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// The invoice's currency is not a three-letter code.
    #[error("the invoice's currency {code:?} is not a three-letter ISO 4217 code")]
    InvalidCurrency {
        /// The code as sent (the first 16 characters).
        code: String,
    },
    /// A price is beyond TDLib's sanity bound of ±999 999 999 999 minor units.
    #[error(
        "the price {label:?} of {minor} minor units is beyond the ±999999999999 bound of a sane \
         amount; the form cannot be trusted"
    )]
    PriceOutOfRange {
        /// The price's label.
        label: String,
        /// The amount as sent.
        minor: i64,
    },
    /// The prices do not add up within 64 bits.
    #[error("the {currency} prices add up to more than 64 bits of minor units")]
    PricesOverflow {
        /// The currency.
        currency: Currency,
    },
    /// A Telegram Stars invoice has no price or more than one.
    #[error("a Telegram Stars invoice has exactly one price, but this one has {count}")]
    StarsPriceCount {
        /// How many prices it has.
        count: usize,
    },
    /// A Telegram Stars price is negative.
    #[error("the Telegram Stars price is negative ({minor})")]
    NegativeStarsPrice {
        /// The price as sent.
        minor: i64,
    },
    /// A Telegram Stars form whose invoice is not in Stars.
    #[error("a Telegram Stars form has an invoice in {currency} instead of XTR")]
    StarsCurrency {
        /// The invoice's currency.
        currency: Currency,
    },
    /// The seller bot's or the payment provider's user id is not a valid user id.
    #[error("the {role} user id {id} is not a valid user id")]
    InvalidUserId {
        /// `"bot"` or `"provider"`.
        role: &'static str,
        /// The id as sent.
        id: i64,
    },
}

/// A part of a price: `labeledPrice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledPrice {
    /// What the part is for (`"Subtotal"`, `"Tax"`, `"Shipping"`).
    pub label: String,
    /// The amount; negative for discounts.
    pub amount: Amount,
}

impl LabeledPrice {
    /// Reads a `labeledPrice` in `currency`, refusing an amount beyond ±999 999 999 999 minor
    /// units (TDLib `convert_labeled_price`).
    pub fn from_tl(price: tl::enums::LabeledPrice, currency: Currency) -> Result<Self, FormError> {
        let tl::enums::LabeledPrice::Price(price) = price;
        let amount = currency.amount(price.amount);
        if !amount.is_plausible() {
            return Err(FormError::PriceOutOfRange {
                label: price.label,
                minor: price.amount,
            });
        }
        Ok(LabeledPrice {
            label: price.label,
            amount,
        })
    }

    /// The `labeledPrice`.
    pub fn to_tl(&self) -> tl::enums::LabeledPrice {
        tl::enums::LabeledPrice::Price(tl::types::LabeledPrice {
            label: self.label.clone(),
            amount: self.amount.minor,
        })
    }
}

/// Which order information the merchant asks for, implied flags applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RequestedInfo {
    /// The payer's name (`name_requested`).
    pub name: bool,
    /// The payer's phone number (`phone_requested`, or `phone_to_provider`).
    pub phone: bool,
    /// The payer's email address (`email_requested`, or `email_to_provider`).
    pub email: bool,
    /// A shipping address (`shipping_address_requested`, or `flexible`).
    pub shipping_address: bool,
}

impl RequestedInfo {
    /// Whether anything at all is requested.
    pub fn any(&self) -> bool {
        self.name || self.phone || self.email || self.shipping_address
    }
}

/// The tips an invoice accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tips {
    /// The largest tip; always positive.
    pub max: Amount,
    /// Suggested tips: positive, at most [`Tips::max`], strictly ascending, at most
    /// [`MAX_SUGGESTED_TIPS`].
    pub suggested: Vec<Amount>,
}

/// An invoice (`invoice`), sanitized as the module docs describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The currency of every amount of the invoice.
    pub currency: Currency,
    /// The price breakdown.
    pub prices: Vec<LabeledPrice>,
    /// The order information the merchant asks for.
    pub requested: RequestedInfo,
    /// The final price depends on the shipping address (the merchant answers with shipping
    /// options).
    pub flexible: bool,
    /// The phone number is passed to the payment provider.
    pub phone_to_provider: bool,
    /// The email address is passed to the payment provider.
    pub email_to_provider: bool,
    /// A test invoice: no real money moves.
    pub test: bool,
    /// A recurring payment: the payer agrees to be charged again ([`Invoice::terms_url`]).
    pub recurring: bool,
    /// The terms of service the payer accepts by paying (of the recurring payment if
    /// [`Invoice::recurring`]).
    pub terms_url: Option<String>,
    /// The tips the invoice accepts; `None` when it accepts none.
    pub tips: Option<Tips>,
    /// The subscription period in seconds, for subscriptions.
    pub subscription_period: Option<i32>,
}

/// Why a total could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotalError {
    /// A shipping option or a tip in another currency than the invoice's.
    #[error(
        "the {what} is in {found}, but the invoice is in {expected}: use the invoice's currency"
    )]
    CurrencyMismatch {
        /// `"shipping option"` or `"tip"`.
        what: &'static str,
        /// The invoice's currency.
        expected: Currency,
        /// The currency given.
        found: Currency,
    },
    /// A tip for an invoice that accepts none.
    #[error("the invoice accepts no tips, but a tip of {tip} was given: leave the tip out")]
    TipsNotAccepted {
        /// The tip given.
        tip: Amount,
    },
    /// A tip above the invoice's maximum.
    #[error(
        "the tip of {tip} is more than the most this invoice accepts, {max}: tip at most {max}"
    )]
    TipTooLarge {
        /// The tip given.
        tip: Amount,
        /// The invoice's maximum tip.
        max: Amount,
    },
    /// A negative tip.
    #[error("the tip of {tip} is negative: a tip is zero or more")]
    NegativeTip {
        /// The tip given.
        tip: Amount,
    },
    /// The total does not fit in 64 bits of minor units.
    #[error("the {currency} total does not fit in 64 bits of minor units")]
    Overflow {
        /// The currency.
        currency: Currency,
    },
}

impl Invoice {
    /// Reads and sanitizes an `invoice` (see the module docs for every rule).
    pub fn from_tl(invoice: tl::enums::Invoice) -> Result<Invoice, FormError> {
        let tl::enums::Invoice::Invoice(invoice) = invoice;
        let currency = Currency::from_code_or_fallback(&invoice.currency).map_err(|error| {
            let code = match error {
                CurrencyError::InvalidCode { code } | CurrencyError::Unknown { code } => code,
            };
            FormError::InvalidCurrency { code }
        })?;

        let prices = invoice
            .prices
            .into_iter()
            .map(|price| LabeledPrice::from_tl(price, currency))
            .collect::<Result<Vec<_>, _>>()?;
        // The subtotal must be exact, so that `subtotal` and `total` only fail on what the
        // caller adds.
        sum_prices(currency, &prices)?;
        // TDLib `GetPaymentFormQuery`: a Stars price is exactly one `labeledPrice`.
        if currency.is_stars() {
            match prices.as_slice() {
                [price] if price.amount.is_negative() => {
                    return Err(FormError::NegativeStarsPrice {
                        minor: price.amount.minor,
                    });
                }
                [_] => {}
                _ => {
                    return Err(FormError::StarsPriceCount {
                        count: prices.len(),
                    });
                }
            }
        }

        let requested = RequestedInfo {
            name: invoice.name_requested,
            // TDLib `convert_invoice`: what goes to the provider has to be asked for.
            phone: invoice.phone_requested || invoice.phone_to_provider,
            email: invoice.email_requested || invoice.email_to_provider,
            // TDLib `convert_invoice`: a flexible price depends on the shipping address.
            shipping_address: invoice.shipping_address_requested || invoice.flexible,
        };

        Ok(Invoice {
            currency,
            prices,
            requested,
            flexible: invoice.flexible,
            phone_to_provider: invoice.phone_to_provider,
            email_to_provider: invoice.email_to_provider,
            test: invoice.test,
            recurring: invoice.recurring,
            terms_url: invoice.terms_url.filter(|url| !url.is_empty()),
            tips: sanitize_tips(
                currency,
                invoice.max_tip_amount,
                invoice.suggested_tip_amounts.unwrap_or_default(),
            ),
            // TDLib `convert_invoice`: `max(subscription_period, 0)`, 0 meaning none.
            subscription_period: invoice.subscription_period.filter(|period| *period > 0),
        })
    }

    /// Whether this is a Telegram Stars invoice (`XTR`).
    pub fn is_stars(&self) -> bool {
        self.currency.is_stars()
    }

    /// The sum of the prices, exactly.
    pub fn subtotal(&self) -> Result<Amount, FormError> {
        sum_prices(self.currency, &self.prices)
    }

    /// The amount to pay: the prices, the chosen shipping option's total and the tip, exactly.
    ///
    /// The tip must be in the invoice's currency, not negative, and at most the invoice's
    /// maximum; an invoice without tips accepts only no tip or a zero tip. The shipping
    /// option must be in the invoice's currency.
    pub fn total(
        &self,
        shipping: Option<&ShippingOption>,
        tip: Option<Amount>,
    ) -> Result<Amount, TotalError> {
        let overflow = |_: AmountError| TotalError::Overflow {
            currency: self.currency,
        };
        let mut total = self.subtotal().map_err(|_| TotalError::Overflow {
            currency: self.currency,
        })?;
        if let Some(option) = shipping {
            if option.total.currency != self.currency {
                return Err(TotalError::CurrencyMismatch {
                    what: "shipping option",
                    expected: self.currency,
                    found: option.total.currency,
                });
            }
            total = total.checked_add(option.total).map_err(overflow)?;
        }
        if let Some(tip) = tip {
            self.check_tip(tip)?;
            total = total.checked_add(tip).map_err(overflow)?;
        }
        Ok(total)
    }

    /// Checks a tip against the invoice: its currency, not negative, at most the maximum.
    pub fn check_tip(&self, tip: Amount) -> Result<(), TotalError> {
        if tip.currency != self.currency {
            return Err(TotalError::CurrencyMismatch {
                what: "tip",
                expected: self.currency,
                found: tip.currency,
            });
        }
        if tip.is_negative() {
            return Err(TotalError::NegativeTip { tip });
        }
        if tip.is_zero() {
            return Ok(());
        }
        match &self.tips {
            None => Err(TotalError::TipsNotAccepted { tip }),
            Some(tips) if tip.minor > tips.max.minor => {
                Err(TotalError::TipTooLarge { tip, max: tips.max })
            }
            Some(_) => Ok(()),
        }
    }
}

/// The exact sum of `prices` in `currency`.
fn sum_prices(currency: Currency, prices: &[LabeledPrice]) -> Result<Amount, FormError> {
    Amount::checked_sum(currency, prices.iter().map(|price| price.amount))
        .map_err(|_| FormError::PricesOverflow { currency })
}

/// Applies the tip rules of the module docs; `None` when no tip is accepted.
fn sanitize_tips(currency: Currency, max: Option<i64>, suggested: Vec<i64>) -> Option<Tips> {
    // TDLib `convert_invoice`: a negative or implausible maximum becomes 0, and 0 means no tips.
    let max = max.unwrap_or(0);
    if max <= 0 || max > MAX_PLAUSIBLE_MINOR {
        return None;
    }
    // Suggested tips are positive and at most the maximum (TDLib
    // `process_input_message_invoice`, Bot API), strictly increasing (Bot API), at most four
    // (TDLib `convert_invoice`).
    let mut suggested: Vec<i64> = suggested
        .into_iter()
        .filter(|tip| *tip > 0 && *tip <= max)
        .collect();
    suggested.sort_unstable();
    suggested.dedup();
    suggested.truncate(MAX_SUGGESTED_TIPS);
    Some(Tips {
        max: currency.amount(max),
        suggested: suggested
            .into_iter()
            .map(|tip| currency.amount(tip))
            .collect(),
    })
}

/// A user the form names (the seller bot, the payment provider), from the form's `users`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
pub struct PaymentMethod {
    /// The page to open.
    pub url: String,
    /// Its name.
    pub title: String,
}

/// A payment provider whose card form the app can show itself instead of the provider's web
/// page (`native_provider` + `native_params`).
///
/// Parameters that are not what the provider needs (malformed JSON, missing or mistyped
/// fields) give [`NativeProvider::Other`] rather than an error, as in TDLib and Telegram
/// Desktop: the form stays payable through its web page ([`CardForm::url`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NativeProvider {
    /// Stripe (`"stripe"`); TDLib `paymentProviderStripe`.
    Stripe {
        /// The key for Stripe's tokenizer.
        publishable_key: String,
        /// The billing country is asked for.
        need_country: bool,
        /// The billing post code is asked for.
        need_zip: bool,
        /// The cardholder's name is asked for.
        need_cardholder_name: bool,
    },
    /// SmartGlocal (`"smartglocal"`); TDLib `paymentProviderSmartGlocal`.
    SmartGlocal {
        /// The token for SmartGlocal's tokenizer (`X-PUBLIC-TOKEN`).
        public_token: String,
        /// Where to send the card: the form's `tokenize_url` if it is a SmartGlocal tokenizer,
        /// otherwise [`SMARTGLOCAL_TOKENIZE_URL`] or, for test invoices,
        /// [`SMARTGLOCAL_TEST_TOKENIZE_URL`].
        tokenize_url: String,
    },
    /// Any other provider, or parameters this crate cannot use.
    Other {
        /// The provider's name as sent.
        name: String,
        /// The parameters; `Null` when they were absent or not JSON.
        params: serde_json::Value,
    },
}

impl NativeProvider {
    /// Reads a form's `native_provider` and `native_params`; `test` is the invoice's test
    /// flag, which picks the default SmartGlocal tokenizer.
    pub fn from_tl(name: String, params: Option<tl::enums::DataJson>, test: bool) -> Self {
        let params = params
            .and_then(|params| {
                let tl::enums::DataJson::Json(params) = params;
                serde_json::from_str::<serde_json::Value>(&params.data).ok()
            })
            .unwrap_or(serde_json::Value::Null);
        let parsed = match (name.as_str(), params.as_object()) {
            ("stripe", Some(object)) => Self::stripe(object),
            ("smartglocal", Some(object)) => Self::smartglocal(object, test),
            _ => None,
        };
        parsed.unwrap_or(NativeProvider::Other { name, params })
    }

    /// TDLib `convert_payment_provider`: all four fields, with these types; Telegram Desktop
    /// also wants a non-empty key.
    fn stripe(object: &serde_json::Map<String, serde_json::Value>) -> Option<Self> {
        let flag = |key: &str| object.get(key).and_then(serde_json::Value::as_bool);
        let publishable_key = object
            .get("publishable_key")
            .and_then(serde_json::Value::as_str)
            .filter(|key| !key.is_empty())?;
        Some(NativeProvider::Stripe {
            publishable_key: publishable_key.to_owned(),
            need_country: flag("need_country")?,
            need_zip: flag("need_zip")?,
            need_cardholder_name: flag("need_cardholder_name")?,
        })
    }

    /// TDLib `convert_payment_provider`: a `public_token` string and an optional
    /// `tokenize_url`.
    fn smartglocal(
        object: &serde_json::Map<String, serde_json::Value>,
        test: bool,
    ) -> Option<Self> {
        let public_token = object
            .get("public_token")
            .and_then(serde_json::Value::as_str)
            .filter(|token| !token.is_empty())?;
        let default = if test {
            SMARTGLOCAL_TEST_TOKENIZE_URL
        } else {
            SMARTGLOCAL_TOKENIZE_URL
        };
        let tokenize_url = object
            .get("tokenize_url")
            .and_then(serde_json::Value::as_str)
            .filter(|url| is_smartglocal_tokenizer(url))
            .unwrap_or(default);
        Some(NativeProvider::SmartGlocal {
            public_token: public_token.to_owned(),
            tokenize_url: tokenize_url.to_owned(),
        })
    }
}

/// Whether `url` is a SmartGlocal card tokenizer: `https://<host>/cds/v1/tokenize/card` where
/// the host is a subdomain of `smart-glocal.com`, written in lower-case letters, digits, `-`
/// and `.`, with no user name, port, query or fragment.
///
/// TDLib only checks the prefix `https://` and the suffix
/// `.smart-glocal.com/cds/v1/tokenize/card`, which `https://evil.example/?.smart-glocal.com/…`
/// also has; this check accepts a subset of what TDLib accepts, and only plain URLs of that one
/// shape, so that no URL parser's leniency can redirect card numbers elsewhere.
pub fn is_smartglocal_tokenizer(url: &str) -> bool {
    const SUFFIX: &str = ".smart-glocal.com";
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let Some((host, path)) = rest.split_once('/') else {
        return false;
    };
    let Some(subdomain) = host.strip_suffix(SUFFIX) else {
        return false;
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    };
    path == "cds/v1/tokenize/card" && subdomain.split('.').all(label_ok)
}

/// A form paid by card or wallet through a payment provider (`payments.paymentForm`).
#[derive(Debug, Clone, PartialEq)]
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
    /// When the form was converted.
    pub fetched_at: Instant,
}

/// A form paid in Telegram Stars (`payments.paymentFormStars`).
#[derive(Debug, Clone, PartialEq)]
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
    /// When the form was converted.
    pub fetched_at: Instant,
}

/// A form for a star gift (`payments.paymentFormStarGift`).
#[derive(Debug, Clone, PartialEq)]
pub struct StarGiftForm {
    /// The form id, sent back with the payment.
    pub form_id: i64,
    /// The invoice, in `XTR`.
    pub invoice: Invoice,
    /// The price in Stars: the invoice's one price.
    pub price: Amount,
    /// The invoice this form was fetched for.
    pub invoice_ref: InvoiceRef,
    /// When the form was converted.
    pub fetched_at: Instant,
}

/// A payment form, sanitized (see the module docs).
#[derive(Debug, Clone, PartialEq)]
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
