//! Invoices: which one to pay ([`InvoiceRef`], a message or a link) and what it asks for
//! ([`Invoice`]: prices, requested order info, tips; [`ShippingOption`]s), sanitized before
//! anything trusts them.
//!
//! # Which invoice
//!
//! An invoice is reached through a message that carries it (a bot's invoice message), through a
//! slug from an invoice link, or through one of the other `InputInvoice` kinds.
//! [`InvoiceRef::parse`] reads invoice links the way TDLib's `LinkManager` does:
//!
//! - `https://t.me/invoice/<slug>` and `https://t.me/$<slug>`, also on `telegram.me` and
//!   `telegram.dog`, with `http://`, `https://` or no scheme (any case), an optional `www.`, the
//!   ports 80 and 443 only, no user name. The host is case-insensitive, the path is not (`invoice`
//!   must be lower case). Extra path segments, a trailing `/`, the query string and the fragment
//!   are ignored, and leading `/s/` segments are skipped, as TDLib does;
//! - `tg://invoice?slug=<slug>` and `tg:invoice?slug=<slug>` (`tg:` in any case); the first `slug`
//!   argument counts, `+` in it is a space;
//! - the path or argument is percent-decoded; the slug must then be non-empty UTF-8, which is all
//!   TDLib asks of it (`is_valid_invoice_name`).
//!
//! Whitespace around the input is ignored. Anything else is an [`InvoiceRefError`] that quotes
//! the input and lists these forms.
//!
//! ```
//! use tgpay::invoice::InvoiceRef;
//!
//! let invoice = InvoiceRef::parse("https://t.me/invoice/ZyWyJbgH0lHhAQAAdhPkx7L8Ke4")?;
//! assert_eq!(invoice, InvoiceRef::Slug("ZyWyJbgH0lHhAQAAdhPkx7L8Ke4".into()));
//! assert_eq!(invoice.to_string(), "https://t.me/$ZyWyJbgH0lHhAQAAdhPkx7L8Ke4");
//! let input_invoice = invoice.to_input_invoice(); // for payments.getPaymentForm
//! # drop(input_invoice);
//! # Ok::<(), tgpay::invoice::InvoiceRefError>(())
//! ```
//!
//! # What it asks for
//!
//! [`Invoice::from_tl`] cleans an `invoice` up the way TDLib cleans it (`convert_invoice`
//! and `GetPaymentFormQuery` in `td/telegram/Payments.cpp`):
//!
//! | What the server sent | What the invoice (or form) holds | Rule from |
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

mod link;

pub use link::{InvoiceLinkProblem, InvoiceRef, InvoiceRefError};

use crate::currency::{Amount, AmountError, Currency, CurrencyError};
use crate::tl;

/// TDLib's bound on a sane amount of money in minor units (`check_currency_amount`).
const MAX_PLAUSIBLE_MINOR: i64 = 999_999_999_999;

/// The most suggested tips an invoice shows (TDLib `convert_invoice`, Bot API).
pub const MAX_SUGGESTED_TIPS: usize = 4;

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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tips {
    /// The largest tip; always positive.
    pub max: Amount,
    /// Suggested tips: positive, at most [`Tips::max`], strictly ascending, at most
    /// [`MAX_SUGGESTED_TIPS`].
    pub suggested: Vec<Amount>,
}

/// An invoice (`invoice`), sanitized as the module docs describe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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

/// A way to ship the order (`shippingOption`), priced in the invoice's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ShippingOption {
    /// The option's id, sent back with the payment.
    pub id: String,
    /// Its name.
    pub title: String,
    /// Its price breakdown.
    pub prices: Vec<LabeledPrice>,
    /// The sum of [`ShippingOption::prices`].
    pub total: Amount,
}

impl ShippingOption {
    /// Reads a `shippingOption` in the invoice's `currency`: every price within
    /// ±999 999 999 999 minor units and an exact total.
    pub fn from_tl(
        option: tl::enums::ShippingOption,
        currency: Currency,
    ) -> Result<Self, FormError> {
        let tl::enums::ShippingOption::Option(option) = option;
        let prices = option
            .prices
            .into_iter()
            .map(|price| LabeledPrice::from_tl(price, currency))
            .collect::<Result<Vec<_>, _>>()?;
        let total = sum_prices(currency, &prices)?;
        Ok(ShippingOption {
            id: option.id,
            title: option.title,
            prices,
            total,
        })
    }
}
