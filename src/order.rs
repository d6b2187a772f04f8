//! Order information (name, phone, email, shipping address), its local checks, and the
//! validated order that `payments.validateRequestedInfo` answers with.
//!
//! # Local checks
//!
//! [`OrderInfo::check`] runs before any request and answers with the same [`PaymentError`]
//! variants `payments.validateRequestedInfo` uses. The server is the authority: the checks only
//! refuse what is certainly wrong, and follow what Telegram Desktop's order form enforces
//! (`Form::informationErrorLocal` in `payments_form.cpp` and the field limits of
//! `payments_edit_information.cpp`). Only requested fields are checked, in Telegram Desktop's
//! order (address, name, email, phone), and the first problem is reported:
//!
//! | Field | Refused when | Error |
//! |---|---|---|
//! | address | requested but absent | [`PaymentError::AddressStreetLine1Invalid`] |
//! | street line 1 | blank, or over 64 characters | [`PaymentError::AddressStreetLine1Invalid`] |
//! | street line 2 | over 64 characters | [`PaymentError::AddressStreetLine2Invalid`] |
//! | city | blank, under 2 or over 64 characters | [`PaymentError::AddressCityInvalid`] |
//! | state | (only the control-character rule) | [`PaymentError::AddressStateInvalid`] |
//! | country | not an ISO 3166-1 alpha-2 code, upper case (`US`) | [`PaymentError::AddressCountryInvalid`] |
//! | post code | over 10 characters | [`PaymentError::AddressPostcodeInvalid`] |
//! | name | blank, or over 64 characters | [`PaymentError::ReqInfoNameInvalid`] |
//! | email | blank, over 128 characters, or not `local@domain` (one `@` unless quoted, no spaces) | [`PaymentError::ReqInfoEmailInvalid`] |
//! | phone | no digits, over 15 digits, or other characters than digits, one leading `+`, spaces, `-`, `(`, `)`, `.` | [`PaymentError::ReqInfoPhoneInvalid`] |
//!
//! Any field containing a control character (a line break, a NUL) is refused with that field's
//! error. Lengths are counted in characters; Telegram Desktop counts UTF-16 units, which is
//! never fewer. An empty post code is accepted: several countries have none, and Telegram
//! Desktop does not require one on submit. A blank field is one that is empty or only
//! whitespace.

pub use crate::invoice::ShippingOption;

use crate::currency::Currency;
use crate::invoice::{FormError, RequestedInfo};
use crate::rpc_error::{OrderField, PaymentError};
use crate::tl;

/// Telegram Desktop's limit on the street lines (`kMaxStreetSize`).
const MAX_STREET_CHARS: usize = 64;
/// Telegram Desktop's limits on the city (`kMinCitySize`, `kMaxCitySize`).
const MIN_CITY_CHARS: usize = 2;
const MAX_CITY_CHARS: usize = 64;
/// Telegram Desktop's limit on the post code (`kMaxPostcodeSize`).
const MAX_POSTCODE_CHARS: usize = 10;
/// Telegram Desktop's limit on the name (`kMaxNameSize`).
const MAX_NAME_CHARS: usize = 64;
/// Telegram Desktop's limit on the email address (`kMaxEmailSize`).
const MAX_EMAIL_CHARS: usize = 128;
/// E.164's limit on the digits of a phone number (Telegram Desktop's `kMaxPhoneSize` of 16
/// is these and the `+`).
const MAX_PHONE_DIGITS: usize = 15;

/// A shipping address (`postAddress`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ShippingAddress {
    /// The first street line.
    pub street_line1: String,
    /// The second street line; may be empty.
    pub street_line2: String,
    /// The city.
    pub city: String,
    /// The state or region; may be empty.
    pub state: String,
    /// The ISO 3166-1 alpha-2 country code, upper case (`"US"`).
    pub country_iso2: String,
    /// The post code; may be empty.
    pub post_code: String,
}

impl ShippingAddress {
    /// Reads a `postAddress`.
    pub fn from_tl(address: tl::enums::PostAddress) -> Self {
        let tl::enums::PostAddress::Address(address) = address;
        ShippingAddress {
            street_line1: address.street_line1,
            street_line2: address.street_line2,
            city: address.city,
            state: address.state,
            country_iso2: address.country_iso2,
            post_code: address.post_code,
        }
    }

    /// The `postAddress`.
    pub fn to_tl(&self) -> tl::enums::PostAddress {
        tl::enums::PostAddress::Address(tl::types::PostAddress {
            street_line1: self.street_line1.clone(),
            street_line2: self.street_line2.clone(),
            city: self.city.clone(),
            state: self.state.clone(),
            country_iso2: self.country_iso2.clone(),
            post_code: self.post_code.clone(),
        })
    }

    /// The local checks of the module docs, in order: street line 1, street line 2, city,
    /// state, country, post code.
    pub fn check(&self) -> Result<(), PaymentError> {
        check_text(
            &self.street_line1,
            1,
            MAX_STREET_CHARS,
            PaymentError::AddressStreetLine1Invalid,
        )?;
        check_text(
            &self.street_line2,
            0,
            MAX_STREET_CHARS,
            PaymentError::AddressStreetLine2Invalid,
        )?;
        check_text(
            &self.city,
            MIN_CITY_CHARS,
            MAX_CITY_CHARS,
            PaymentError::AddressCityInvalid,
        )?;
        check_text(
            &self.state,
            0,
            usize::MAX,
            PaymentError::AddressStateInvalid,
        )?;
        if !crate::country::is_valid(&self.country_iso2) {
            return Err(PaymentError::AddressCountryInvalid);
        }
        check_text(
            &self.post_code,
            0,
            MAX_POSTCODE_CHARS,
            PaymentError::AddressPostcodeInvalid,
        )
    }
}

/// Order information (`paymentRequestedInfo`). Each field is present only if given; empty
/// strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OrderInfo {
    /// The payer's name.
    pub name: Option<String>,
    /// The payer's phone number.
    pub phone: Option<String>,
    /// The payer's email address.
    pub email: Option<String>,
    /// Where to ship the order.
    pub shipping_address: Option<ShippingAddress>,
}

/// The result of [`OrderInfo::autofill`]: the order information to send and the requested
/// fields nobody has given yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Autofill {
    /// The requested fields that were given or saved.
    pub info: OrderInfo,
    /// The requested fields still missing, in the order name, phone, email, shipping address.
    pub missing: Vec<OrderField>,
}

impl Autofill {
    /// Whether every requested field is filled in.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

impl OrderInfo {
    /// Reads a `paymentRequestedInfo`; empty strings become `None`.
    pub fn from_tl(info: tl::enums::PaymentRequestedInfo) -> Self {
        let tl::enums::PaymentRequestedInfo::Info(info) = info;
        OrderInfo {
            name: non_empty(info.name),
            phone: non_empty(info.phone),
            email: non_empty(info.email),
            shipping_address: info.shipping_address.map(ShippingAddress::from_tl),
        }
    }

    /// The `paymentRequestedInfo`; a field is sent only if present and not empty, as TDLib
    /// does.
    pub fn to_tl(&self) -> tl::enums::PaymentRequestedInfo {
        let text = |field: &Option<String>| field.clone().filter(|text| !text.is_empty());
        tl::enums::PaymentRequestedInfo::Info(tl::types::PaymentRequestedInfo {
            name: text(&self.name),
            phone: text(&self.phone),
            email: text(&self.email),
            shipping_address: self.shipping_address.as_ref().map(ShippingAddress::to_tl),
        })
    }

    /// The order information to send for an invoice requesting `requested`: each requested
    /// field comes from `given` if it is there (not blank), otherwise from `saved` (the form's
    /// `saved_info` or `payments.getSavedInfo`); fields that are not requested are left out.
    /// The shipping address is taken whole from one side, never mixed line by line.
    pub fn autofill(
        requested: &RequestedInfo,
        saved: Option<&OrderInfo>,
        given: &OrderInfo,
    ) -> Autofill {
        let sources: &[&OrderInfo] = match saved {
            Some(saved) => &[given, saved],
            None => &[given],
        };
        let pick = |wanted: bool, get: fn(&OrderInfo) -> &Option<String>| -> Option<String> {
            if !wanted {
                return None;
            }
            sources
                .iter()
                .find_map(|info| get(info).as_ref().filter(|text| !is_blank(text)).cloned())
        };
        let shipping_address = if requested.shipping_address {
            sources
                .iter()
                .find_map(|info| info.shipping_address.as_ref())
                .cloned()
        } else {
            None
        };
        let info = OrderInfo {
            name: pick(requested.name, |info| &info.name),
            phone: pick(requested.phone, |info| &info.phone),
            email: pick(requested.email, |info| &info.email),
            shipping_address,
        };
        Autofill {
            missing: info.missing(requested),
            info,
        }
    }

    /// The fields `requested` asks for that this order information lacks (blank text counts
    /// as absent), in the order name, phone, email, shipping address. [`OrderInfo::autofill`]
    /// reports these for the order it fills.
    pub fn missing(&self, requested: &RequestedInfo) -> Vec<OrderField> {
        let text = |value: &Option<String>| value.as_deref().is_some_and(|text| !is_blank(text));
        [
            (requested.name && !text(&self.name), OrderField::Name),
            (requested.phone && !text(&self.phone), OrderField::Phone),
            (requested.email && !text(&self.email), OrderField::Email),
            (
                requested.shipping_address && self.shipping_address.is_none(),
                OrderField::ShippingAddress,
            ),
        ]
        .into_iter()
        .filter_map(|(missing, field)| missing.then_some(field))
        .collect()
    }

    /// The local checks of the module docs for the fields in `requested`; fields that are not
    /// requested are not looked at.
    pub fn check(&self, requested: &RequestedInfo) -> Result<(), PaymentError> {
        if requested.shipping_address {
            match &self.shipping_address {
                Some(address) => address.check()?,
                None => return Err(PaymentError::AddressStreetLine1Invalid),
            }
        }
        if requested.name {
            check_text(
                self.name.as_deref().unwrap_or(""),
                1,
                MAX_NAME_CHARS,
                PaymentError::ReqInfoNameInvalid,
            )?;
        }
        if requested.email {
            check_email(self.email.as_deref().unwrap_or(""))?;
        }
        if requested.phone {
            check_phone(self.phone.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }
}

/// `None` for an empty string.
fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.is_empty())
}

/// Empty or only whitespace.
fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A text field: no control characters, and (blank counting as zero) between `min` and `max`
/// characters long.
fn check_text(text: &str, min: usize, max: usize, error: PaymentError) -> Result<(), PaymentError> {
    let length = if is_blank(text) {
        0
    } else {
        text.chars().count()
    };
    if text.chars().any(char::is_control) || length < min || length > max {
        Err(error)
    } else {
        Ok(())
    }
}

/// An email address: `local@domain`, both sides non-empty, no `@` in the local part unless it
/// is quoted, no whitespace or control characters, at most 128 characters.
fn check_email(email: &str) -> Result<(), PaymentError> {
    let email_ok = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.rsplit_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && (!local.contains('@') || is_quoted(local))
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if email_ok {
        Ok(())
    } else {
        Err(PaymentError::ReqInfoEmailInvalid)
    }
}

/// A local part in double quotes (`"a@b"@example.com`), where RFC 5322 allows an `@`.
fn is_quoted(local: &str) -> bool {
    local.len() >= 2 && local.starts_with('"') && local.ends_with('"')
}

/// A phone number: 1 to 15 digits, optionally one leading `+`, and the separators people type
/// (spaces, `-`, `(`, `)`, `.`).
fn check_phone(phone: &str) -> Result<(), PaymentError> {
    let trimmed = phone.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'));
    if allowed && (1..=MAX_PHONE_DIGITS).contains(&digits) {
        Ok(())
    } else {
        Err(PaymentError::ReqInfoPhoneInvalid)
    }
}

/// Order information the server has accepted (`payments.validatedRequestedInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ValidatedOrder {
    /// The id of the validated information, sent back with the payment
    /// (`requested_info_id`); `None` when nothing was requested.
    pub id: Option<String>,
    /// The ways to ship, for flexible invoices; one must be chosen.
    pub shipping_options: Vec<ShippingOption>,
    /// The information that was validated.
    pub info: OrderInfo,
    /// Whether the server was asked to save it for later purchases.
    pub save: bool,
}

impl ValidatedOrder {
    /// Reads the answer to `payments.validateRequestedInfo` for `info` (sent with `save`),
    /// pricing the shipping options in the invoice's `currency`.
    pub fn from_tl(
        validated: tl::enums::payments::ValidatedRequestedInfo,
        info: OrderInfo,
        save: bool,
        currency: Currency,
    ) -> Result<Self, FormError> {
        let tl::enums::payments::ValidatedRequestedInfo::Info(validated) = validated;
        let shipping_options = validated
            .shipping_options
            .unwrap_or_default()
            .into_iter()
            .map(|option| ShippingOption::from_tl(option, currency))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ValidatedOrder {
            id: non_empty(validated.id),
            shipping_options,
            info,
            save,
        })
    }

    /// The shipping option with this id.
    pub fn shipping_option(&self, id: &str) -> Option<&ShippingOption> {
        self.shipping_options.iter().find(|option| option.id == id)
    }
}

/// What `payments.getSavedInfo` returns: the saved order info and whether a card is saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SavedInfo {
    /// The saved order info.
    pub info: Option<OrderInfo>,
    /// A card is saved (pay with it through the form's `saved_credentials`).
    pub has_saved_credentials: bool,
}

impl SavedInfo {
    /// Reads `payments.savedInfo`.
    pub fn from_tl(saved: tl::enums::payments::SavedInfo) -> Self {
        let tl::enums::payments::SavedInfo::Info(saved) = saved;
        SavedInfo {
            info: saved.saved_info.map(OrderInfo::from_tl),
            has_saved_credentials: saved.has_saved_credentials,
        }
    }
}
