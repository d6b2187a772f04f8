//! What can be done about an error ([`Recovery`]), and the order fields errors name
//! ([`OrderField`]).

use std::fmt;
use std::time::Duration;
/// What the caller (or the person paying) can do about an error.
///
/// The closed set of the catalog's `recovery` column (tokens in `tl/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recovery {
    /// Fetch the payment form again (`payments.getPaymentForm`) and start over with the new one.
    RefetchForm,
    /// Buy more Telegram Stars, then pay again.
    TopUpStars,
    /// Ask for the 2FA password again and redo the SRP check (`account.getPassword` first).
    ReenterPassword,
    /// Correct one field of the order (order info, shipping choice, or missing payment
    /// credentials).
    OrderField(OrderField),
    /// The card (or wallet, or saved card) was declined or cannot be used: pay with another
    /// card or payment method. Nothing was charged by the refused attempt.
    OtherPaymentMethod,
    /// Wait this long, then send the same request again.
    Wait(Duration),
    /// Only the merchant (the bot or its payment provider) can fix this.
    ContactMerchant,
    /// This client is too old for the request; a newer tgpay (newer layer) is needed.
    UpdateClient,
    /// Money may have moved: reconcile the pending payment (`Payments::reconcile`) before
    /// paying again.
    Reconcile,
    /// Retrying will not help: the request itself is wrong or the outcome is final.
    None,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RefetchForm => f.write_str("fetch the payment form again"),
            Self::TopUpStars => f.write_str("top up your Telegram Stars balance"),
            Self::ReenterPassword => f.write_str("re-enter your 2FA password"),
            Self::OrderField(field) => write!(f, "correct the {field}"),
            Self::OtherPaymentMethod => f.write_str("pay with another card or payment method"),
            Self::Wait(duration) => {
                write!(f, "wait {} seconds before trying again", duration.as_secs())
            }
            Self::ContactMerchant => f.write_str("contact the merchant"),
            Self::UpdateClient => f.write_str("update the client"),
            Self::Reconcile => f.write_str("reconcile the payment before paying again"),
            Self::None => f.write_str("retrying will not help"),
        }
    }
}

/// A field of the order that an error names as wrong.
///
/// The names follow the TL fields they stand for (`paymentRequestedInfo`, `postAddress`,
/// `payments.sendPaymentForm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum OrderField {
    /// `paymentRequestedInfo.name`.
    Name,
    /// `paymentRequestedInfo.phone`.
    Phone,
    /// `paymentRequestedInfo.email`.
    Email,
    /// `postAddress.street_line1`.
    StreetLine1,
    /// `postAddress.street_line2`.
    StreetLine2,
    /// `postAddress.city`.
    City,
    /// `postAddress.state`.
    State,
    /// `postAddress.country_iso2`.
    CountryIso2,
    /// `postAddress.post_code`.
    PostCode,
    /// The shipping address as a whole (`paymentRequestedInfo.shipping_address`).
    ShippingAddress,
    /// The chosen shipping option (`payments.sendPaymentForm.shipping_option_id`).
    ShippingOption,
    /// The payment credentials (`payments.sendPaymentForm.credentials`): the card or wallet.
    Credentials,
}

impl OrderField {
    /// Every field, in declaration order.
    pub const ALL: [Self; 12] = [
        Self::Name,
        Self::Phone,
        Self::Email,
        Self::StreetLine1,
        Self::StreetLine2,
        Self::City,
        Self::State,
        Self::CountryIso2,
        Self::PostCode,
        Self::ShippingAddress,
        Self::ShippingOption,
        Self::Credentials,
    ];

    /// The token used after `fix_field:` in the catalog's `recovery` column.
    pub fn token(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::StreetLine1 => "street_line1",
            Self::StreetLine2 => "street_line2",
            Self::City => "city",
            Self::State => "state",
            Self::CountryIso2 => "country_iso2",
            Self::PostCode => "post_code",
            Self::ShippingAddress => "shipping_address",
            Self::ShippingOption => "shipping_option",
            Self::Credentials => "credentials",
        }
    }

    /// The field a catalog token names, if any.
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.token() == token)
    }
}

impl fmt::Display for OrderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Name => "name",
            Self::Phone => "phone number",
            Self::Email => "email address",
            Self::StreetLine1 => "first street line of the shipping address",
            Self::StreetLine2 => "second street line of the shipping address",
            Self::City => "city of the shipping address",
            Self::State => "state of the shipping address",
            Self::CountryIso2 => "country of the shipping address",
            Self::PostCode => "post code of the shipping address",
            Self::ShippingAddress => "shipping address",
            Self::ShippingOption => "shipping option",
            Self::Credentials => "payment credentials",
        })
    }
}
