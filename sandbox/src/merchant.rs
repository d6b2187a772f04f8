//! Scripted merchant and payment-provider behaviour: order-info checks, shipping options by
//! country, pre-checkout decisions, and what a card token does when charged.

use std::collections::HashMap;

use grammers_tl_types as tl;
use zeroize::Zeroizing;

use super::scenario::{CardOutcome, InvoiceSpec, MerchantSpec, OrderInfoSpec, ShippingOptionSpec};
use tgpay::country;

/// Card tokens every sandbox accepts without tokenizing first.
pub const TEST_TOKENS: [(&str, CardOutcome, &str); 3] = [
    ("tok_sandbox_visa", CardOutcome::Success, "Visa *4242"),
    ("tok_sandbox_declined", CardOutcome::Decline, "Visa *0002"),
    ("tok_sandbox_3ds", CardOutcome::ThreeDSecure, "Visa *3184"),
];

/// The credentials of a `sendPaymentForm`, as the provider understood them.
pub(crate) enum Credentials {
    /// A new card or wallet payment.
    New {
        outcome: CardOutcome,
        title: String,
        save: bool,
    },
    /// A saved card with the tmp password that unlocks it.
    Saved {
        id: String,
        tmp_password: Zeroizing<Vec<u8>>,
    },
}

/// Compares two byte strings without an early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads `inputPaymentCredentials*` the way the sandbox's provider does.
///
/// - `inputPaymentCredentials` JSON: `{"type":"card","id":"tok_…"}` (Stripe) or
///   `{"type":"card","token":"…"}` (SmartGlocal and the sandbox's gateway page); the token must
///   be a [`TEST_TOKENS`] entry or one the sandbox issued.
/// - Apple Pay / Google Pay: any JSON object; `{"sandbox_outcome":"decline"|"3ds"}` picks the
///   outcome.
/// - `inputPaymentCredentialsSaved`: the card id and the tmp password, checked by the world.
pub(crate) fn parse_credentials(
    credentials: &tl::enums::InputPaymentCredentials,
    issued: &HashMap<String, (CardOutcome, String)>,
) -> Result<Credentials, &'static str> {
    const INVALID: &str = "PAYMENT_CREDENTIALS_INVALID";
    match credentials {
        tl::enums::InputPaymentCredentials::Saved(s) => Ok(Credentials::Saved {
            id: s.id.clone(),
            tmp_password: Zeroizing::new(s.tmp_password.clone()),
        }),
        tl::enums::InputPaymentCredentials::Credentials(c) => {
            let tl::enums::DataJson::Json(data) = &c.data;
            let json: serde_json::Value = serde_json::from_str(&data.data).map_err(|_| INVALID)?;
            let token = json
                .get("id")
                .or_else(|| json.get("token"))
                .and_then(|t| t.as_str())
                .ok_or(INVALID)?;
            if json
                .get("type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| t != "card")
            {
                return Err(INVALID);
            }
            let (outcome, title) = TEST_TOKENS
                .iter()
                .find(|(t, ..)| *t == token)
                .map(|(_, o, title)| (*o, (*title).to_owned()))
                .or_else(|| issued.get(token).cloned())
                .ok_or(INVALID)?;
            Ok(Credentials::New {
                outcome,
                title,
                save: c.save,
            })
        }
        tl::enums::InputPaymentCredentials::ApplePay(a) => {
            let tl::enums::DataJson::Json(data) = &a.payment_data;
            wallet(&data.data, "Apple Pay")
        }
        tl::enums::InputPaymentCredentials::GooglePay(g) => {
            let tl::enums::DataJson::Json(data) = &g.payment_token;
            wallet(&data.data, "Google Pay")
        }
    }
}

fn wallet(data: &str, title: &str) -> Result<Credentials, &'static str> {
    let json: serde_json::Value =
        serde_json::from_str(data).map_err(|_| "PAYMENT_CREDENTIALS_INVALID")?;
    if !json.is_object() {
        return Err("PAYMENT_CREDENTIALS_INVALID");
    }
    let outcome = match json.get("sandbox_outcome").and_then(|o| o.as_str()) {
        Some("decline") => CardOutcome::Decline,
        Some("3ds") => CardOutcome::ThreeDSecure,
        _ => CardOutcome::Success,
    };
    Ok(Credentials::New {
        outcome,
        title: title.to_owned(),
        save: false,
    })
}

/// Checks requested order info the way Telegram does before asking the bot; the error is the
/// RPC error name.
pub(crate) fn check_order_info(
    invoice: &InvoiceSpec,
    info: &OrderInfoSpec,
) -> Result<(), &'static str> {
    if invoice.name_requested {
        let name = info.name.as_deref().unwrap_or_default().trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err("REQ_INFO_NAME_INVALID");
        }
    }
    if invoice.phone_requested || invoice.phone_to_provider {
        let phone = info.phone.as_deref().unwrap_or_default();
        let digits = phone.bytes().filter(u8::is_ascii_digit).count();
        let clean = phone
            .bytes()
            .all(|b| b.is_ascii_digit() || b" +-()".contains(&b));
        if !clean || !(5..=15).contains(&digits) {
            return Err("REQ_INFO_PHONE_INVALID");
        }
    }
    if invoice.email_requested || invoice.email_to_provider {
        let email = info.email.as_deref().unwrap_or_default();
        if !plausible_email(email) {
            return Err("REQ_INFO_EMAIL_INVALID");
        }
    }
    if invoice.shipping_address_requested || invoice.flexible {
        let Some(a) = &info.shipping_address else {
            return Err("ADDRESS_STREET_LINE1_INVALID");
        };
        let fits = |s: &str, max: usize| s.chars().count() <= max;
        if a.street_line1.trim().is_empty() || !fits(&a.street_line1, 64) {
            return Err("ADDRESS_STREET_LINE1_INVALID");
        }
        if !fits(&a.street_line2, 64) {
            return Err("ADDRESS_STREET_LINE2_INVALID");
        }
        if a.city.trim().is_empty() || !fits(&a.city, 64) {
            return Err("ADDRESS_CITY_INVALID");
        }
        if !country::is_valid(&a.country_iso2) {
            return Err("ADDRESS_COUNTRY_INVALID");
        }
        if (a.country_iso2 == "US" && a.state.trim().is_empty()) || !fits(&a.state, 64) {
            return Err("ADDRESS_STATE_INVALID");
        }
        let post = a.post_code.trim();
        if post.is_empty()
            || post.len() > 12
            || !post
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
        {
            return Err("ADDRESS_POSTCODE_INVALID");
        }
    }
    Ok(())
}

fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The shipping options a merchant offers for a country (first matching rule wins).
pub(crate) fn shipping_options(merchant: &MerchantSpec, country: &str) -> Vec<ShippingOptionSpec> {
    merchant
        .shipping
        .iter()
        .find(|rule| rule.countries.iter().any(|c| c == "*" || c == country))
        .map(|rule| rule.options.clone())
        .unwrap_or_default()
}

/// The merchant's pre-checkout answer: `Some(reason)` rejects.
pub(crate) fn precheckout(
    merchant: &MerchantSpec,
    invoice: &InvoiceSpec,
    info: &Option<OrderInfoSpec>,
) -> Option<String> {
    if let Some(reason) = &invoice.precheckout_reject {
        return Some(reason.clone());
    }
    let country = info
        .as_ref()
        .and_then(|i| i.shipping_address.as_ref())
        .map(|a| a.country_iso2.as_str())?;
    merchant
        .reject_countries
        .iter()
        .any(|c| c == country)
        .then(|| merchant.reject_reason.clone())
}

/// Card numbers the sandbox's tokenizer treats specially (as Stripe's test cards do); every
/// other number that passes the Luhn check succeeds.
pub fn outcome_for_card_number(number: &str) -> CardOutcome {
    match number {
        "4000000000000002" | "4000000000009995" => CardOutcome::Decline,
        "4000002760003184" | "4000000000003220" => CardOutcome::ThreeDSecure,
        _ => CardOutcome::Success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{AddressSpec, Scenario};

    fn hoodie() -> (MerchantSpec, InvoiceSpec) {
        let world = Scenario::default_world();
        let invoice = world.invoices.iter().find(|i| i.slug == "hoodie").unwrap();
        let merchant = world
            .merchants
            .iter()
            .find(|m| m.id == invoice.merchant)
            .unwrap();
        (merchant.clone(), invoice.clone())
    }

    fn good_info() -> OrderInfoSpec {
        OrderInfoSpec {
            name: Some("Alice".into()),
            phone: Some("+1 555 000 0001".into()),
            email: Some("a@example.com".into()),
            shipping_address: Some(AddressSpec {
                street_line1: "1 Main St".into(),
                street_line2: String::new(),
                city: "Springfield".into(),
                state: "IL".into(),
                country_iso2: "US".into(),
                post_code: "62701".into(),
            }),
        }
    }

    #[test]
    fn order_info_errors_name_the_field() {
        let (_, invoice) = hoodie();
        assert_eq!(check_order_info(&invoice, &good_info()), Ok(()));
        type Case = (fn(&mut OrderInfoSpec), &'static str);
        let cases: Vec<Case> = vec![
            (|i| i.name = Some("  ".into()), "REQ_INFO_NAME_INVALID"),
            (|i| i.phone = Some("12ab".into()), "REQ_INFO_PHONE_INVALID"),
            (|i| i.phone = Some("123".into()), "REQ_INFO_PHONE_INVALID"),
            (|i| i.email = Some("nope".into()), "REQ_INFO_EMAIL_INVALID"),
            (|i| i.email = Some("a@b".into()), "REQ_INFO_EMAIL_INVALID"),
            (
                |i| i.shipping_address = None,
                "ADDRESS_STREET_LINE1_INVALID",
            ),
            (
                |i| i.shipping_address.as_mut().unwrap().city = String::new(),
                "ADDRESS_CITY_INVALID",
            ),
            (
                |i| i.shipping_address.as_mut().unwrap().country_iso2 = "UK".into(),
                "ADDRESS_COUNTRY_INVALID",
            ),
            (
                |i| i.shipping_address.as_mut().unwrap().state = String::new(),
                "ADDRESS_STATE_INVALID",
            ),
            (
                |i| i.shipping_address.as_mut().unwrap().post_code = "!!".into(),
                "ADDRESS_POSTCODE_INVALID",
            ),
        ];
        for (mutate, expected) in cases {
            let mut info = good_info();
            mutate(&mut info);
            assert_eq!(check_order_info(&invoice, &info), Err(expected));
        }
    }

    #[test]
    fn shipping_and_precheckout_follow_the_script() {
        let (merchant, invoice) = hoodie();
        assert_eq!(shipping_options(&merchant, "US").len(), 2);
        assert_eq!(shipping_options(&merchant, "DE").len(), 1);
        assert!(shipping_options(&merchant, "JP").is_empty());
        assert_eq!(precheckout(&merchant, &invoice, &Some(good_info())), None);
        let mut french = good_info();
        french.shipping_address.as_mut().unwrap().country_iso2 = "FR".into();
        assert_eq!(
            precheckout(&merchant, &invoice, &Some(french)),
            Some(merchant.reject_reason.clone())
        );
    }

    #[test]
    fn credentials_are_read_per_provider_shape() {
        let issued = HashMap::new();
        let json = |s: &str| -> tl::enums::InputPaymentCredentials {
            tl::types::InputPaymentCredentials {
                save: true,
                data: tl::types::DataJson { data: s.into() }.into(),
            }
            .into()
        };
        let Ok(Credentials::New { outcome, save, .. }) =
            parse_credentials(&json(r#"{"type":"card","id":"tok_sandbox_3ds"}"#), &issued)
        else {
            panic!("stripe shape refused");
        };
        assert_eq!(outcome, CardOutcome::ThreeDSecure);
        assert!(save);
        assert!(matches!(
            parse_credentials(
                &json(r#"{"type":"card","token":"tok_sandbox_declined"}"#),
                &issued
            ),
            Ok(Credentials::New {
                outcome: CardOutcome::Decline,
                ..
            })
        ));
        for bad in [r#"{"type":"card","id":"tok_unknown"}"#, "not json", "{}"] {
            assert!(parse_credentials(&json(bad), &issued).is_err(), "{bad}");
        }
        let apple: tl::enums::InputPaymentCredentials =
            tl::types::InputPaymentCredentialsApplePay {
                payment_data: tl::types::DataJson {
                    data: r#"{"sandbox_outcome":"decline"}"#.into(),
                }
                .into(),
            }
            .into();
        assert!(matches!(
            parse_credentials(&apple, &issued),
            Ok(Credentials::New {
                outcome: CardOutcome::Decline,
                ..
            })
        ));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
