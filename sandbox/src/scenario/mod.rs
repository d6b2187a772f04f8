//! Sandbox worlds described as data: users, merchant bots and invoices.
//!
//! A scenario is a TOML or JSON document (the same fields in both). [`Scenario::default_world`]
//! is the built-in world that exercises every payment flow; `tgpay sandbox --scenario FILE`
//! loads one from a file.
//!
//! ```toml
//! login_code = "12345"         # what auth.signIn accepts; 12345 when omitted
//!
//! [[users]]
//! id = 1000001
//! first_name = "Alice"
//! phone = "15550000001"        # what auth.sendCode takes (with or without +, spaces, dashes)
//! password = "correct horse"   # 2FA password; omit for an account without one
//! stars = 500
//!
//! [[merchants]]
//! id = 7000001
//! username = "SandboxShopBot"
//! name = "Sandbox Shop"
//!
//! [[invoices]]
//! slug = "tshirt"
//! merchant = 7000001
//! title = "T-shirt"
//! currency = "USD"
//! prices = [{ label = "T-shirt", amount = 1999 }]
//! ```

mod check;
mod default_world;

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The document is not valid TOML for a scenario.
    #[error("scenario is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// The document is not valid JSON for a scenario.
    #[error("scenario is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The document parsed but describes an impossible world.
    #[error("invalid scenario: {0}; fix the scenario file")]
    Invalid(String),
}

/// A whole sandbox world.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The paying users (each gets a pre-shared auth key).
    #[serde(default)]
    pub users: Vec<UserSpec>,
    /// The merchant bots.
    #[serde(default)]
    pub merchants: Vec<MerchantSpec>,
    /// The invoices the merchants sell.
    #[serde(default)]
    pub invoices: Vec<InvoiceSpec>,
    /// Telegram Stars top-up options (`payments.getStarsTopupOptions`).
    #[serde(default = "default_topup_options")]
    pub stars_topup_options: Vec<TopupOptionSpec>,
    /// Scripted failures: calls of a method that fail the way the scenario says.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// The login code `auth.signIn` accepts for every user (the sandbox sends no SMS):
    /// [`DEFAULT_LOGIN_CODE`] unless the scenario sets one.
    #[serde(default = "default_login_code")]
    pub login_code: String,
    /// How long a payment form stays valid, in seconds (Telegram: 600).
    #[serde(default = "default_lifetime")]
    pub form_lifetime_secs: u64,
    /// How long a 3-D Secure verification stays open, in seconds (600).
    #[serde(default = "default_lifetime")]
    pub verification_lifetime_secs: u64,
}

/// The lifetime of forms and verifications unless a scenario sets one (Telegram's: 600 s);
/// the connection file's default as well.
pub(crate) fn default_lifetime() -> u64 {
    600
}

/// A scripted failure of the next calls of a method.
///
/// ```toml
/// [[faults]]
/// method = "payments.sendPaymentForm"
/// error = "FLOOD_WAIT_3"     # the rpc_error message
/// code = 420                 # its code (400 when omitted)
/// times = 1
///
/// [[faults]]
/// method = "payments.sendStarsForm"
/// drop_connection = true     # process the call (charge), then close without answering
///
/// [[faults]]
/// method = "payments.sendPaymentForm"
/// drop_unprocessed = true    # close without processing (the request is lost)
///
/// [[faults]]
/// method = "payments.sendStarsForm"
/// error = "Timeout"
/// code = -503
/// after_processing = true    # process the call (charge), then answer with the error
///
/// [[faults]]
/// method = "messages.getHistory"
/// delay_ms = 5000            # process the call, answer only after 5 s
///
/// [[faults]]
/// method = "payments.sendStarsForm"
/// flood_wait_secs = 3        # FLOOD_WAIT_3, and FLOOD_WAIT_<left> for 3 real seconds
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// TL name of the method, e.g. `payments.sendPaymentForm`.
    pub method: String,
    /// Only for this user; every user when absent.
    #[serde(default)]
    pub user: Option<i64>,
    /// The `rpc_error` message to answer with, e.g. `FORM_EXPIRED` or `FLOOD_WAIT_3`.
    #[serde(default)]
    pub error: Option<String>,
    /// The `rpc_error` code (400 when absent).
    #[serde(default)]
    pub code: Option<i32>,
    /// Run the call, then close the connection without answering (an ambiguous failure that
    /// did charge).
    #[serde(default)]
    pub drop_connection: bool,
    /// Close the connection without running the call (an ambiguous failure that did not
    /// charge: the request was lost).
    #[serde(default)]
    pub drop_unprocessed: bool,
    /// With `error`: run the call first (charge), then answer with the error.
    #[serde(default)]
    pub after_processing: bool,
    /// Run the call, and answer only after this many milliseconds (the connection stays open).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// A flood wait of this many seconds, held for real: the call, and every call of the method
    /// by the user until then, gets `FLOOD_WAIT_<seconds left>` (code 420) unprocessed.
    #[serde(default)]
    pub flood_wait_secs: Option<u32>,
    /// How many calls are affected.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// A sandbox user (a payer).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Telegram user id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Username without `@`.
    #[serde(default)]
    pub username: Option<String>,
    /// Phone number (digits).
    #[serde(default)]
    pub phone: Option<String>,
    /// The 2FA password, if the account has one.
    #[serde(default)]
    pub password: Option<String>,
    /// The 2FA password hint.
    #[serde(default)]
    pub password_hint: Option<String>,
    /// Telegram Stars balance.
    #[serde(default)]
    pub stars: i64,
    /// Saved order info (`payments.getSavedInfo`).
    #[serde(default)]
    pub saved_info: Option<OrderInfoSpec>,
    /// Saved cards (`paymentSavedCredentialsCard`).
    #[serde(default)]
    pub saved_cards: Vec<SavedCardSpec>,
    /// The 256-byte auth key as 512 hex characters; random when absent.
    #[serde(default)]
    pub auth_key: Option<String>,
}

impl std::fmt::Debug for UserSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSpec")
            .field("id", &self.id)
            .field("first_name", &self.first_name)
            .field("has_password", &self.password.is_some())
            .field("stars", &self.stars)
            .field("saved_cards", &self.saved_cards.len())
            .finish_non_exhaustive()
    }
}

/// Order info as stored by Telegram (`paymentRequestedInfo`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OrderInfoSpec {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Shipping address.
    #[serde(default)]
    pub shipping_address: Option<AddressSpec>,
}

/// A postal address (`postAddress`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AddressSpec {
    /// First line.
    pub street_line1: String,
    /// Second line.
    #[serde(default)]
    pub street_line2: String,
    /// City.
    pub city: String,
    /// State or region.
    #[serde(default)]
    pub state: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_iso2: String,
    /// Postal code.
    pub post_code: String,
}

/// A card saved with the payment provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SavedCardSpec {
    /// Identifier the client sends back in `inputPaymentCredentialsSaved`.
    pub id: String,
    /// What the user sees, e.g. `Visa *4242`.
    pub title: String,
    /// What a charge on this card does.
    #[serde(default)]
    pub outcome: CardOutcome,
}

/// What the simulated payment provider does with a card.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CardOutcome {
    /// The charge succeeds.
    #[default]
    Success,
    /// The bank declines the charge (`PAYMENT_FAILED`).
    Decline,
    /// The bank asks for 3-D Secure (`payments.paymentVerificationNeeded`).
    ThreeDSecure,
}

/// A merchant bot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MerchantSpec {
    /// The bot's user id.
    pub id: i64,
    /// The bot's username without `@`.
    pub username: String,
    /// The bot's display name.
    pub name: String,
    /// Payment provider id reported in forms and receipts.
    #[serde(default = "default_provider_id")]
    pub provider_id: i64,
    /// `native_provider` of card forms (`stripe`, `smartglocal`), or none for web-only.
    #[serde(default)]
    pub native_provider: Option<String>,
    /// `native_params` of card forms, as a JSON object.
    #[serde(default)]
    pub native_params: Option<serde_json::Value>,
    /// Whether the provider lets users save cards.
    #[serde(default = "yes")]
    pub can_save_credentials: bool,
    /// Shipping options by destination country (flexible invoices).
    #[serde(default)]
    pub shipping: Vec<ShippingRuleSpec>,
    /// Pre-checkout: reject orders shipped to these countries.
    #[serde(default)]
    pub reject_countries: Vec<String>,
    /// Pre-checkout: the human reason sent when rejecting.
    #[serde(default = "default_reject_reason")]
    pub reject_reason: String,
}

/// Shipping options a merchant offers for some countries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShippingRuleSpec {
    /// ISO 3166-1 alpha-2 codes; `*` matches every country.
    pub countries: Vec<String>,
    /// The options offered.
    pub options: Vec<ShippingOptionSpec>,
}

/// One shipping option (`shippingOption`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShippingOptionSpec {
    /// Identifier sent back in `sendPaymentForm`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Price components.
    pub prices: Vec<PriceSpec>,
}

/// A price component (`labeledPrice`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    /// Label.
    pub label: String,
    /// Amount in the currency's smallest unit.
    pub amount: i64,
}

/// An invoice a merchant sells.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSpec {
    /// Deep-link slug (`t.me/$slug`); every invoice has one.
    pub slug: String,
    /// The merchant bot's id.
    pub merchant: i64,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Photo URL.
    #[serde(default)]
    pub photo_url: Option<String>,
    /// ISO 4217 currency, or `XTR` for Telegram Stars.
    pub currency: String,
    /// Price components.
    pub prices: Vec<PriceSpec>,
    /// The user's name is requested.
    #[serde(default)]
    pub name_requested: bool,
    /// The user's phone is requested.
    #[serde(default)]
    pub phone_requested: bool,
    /// The user's e-mail is requested.
    #[serde(default)]
    pub email_requested: bool,
    /// A shipping address is requested.
    #[serde(default)]
    pub shipping_address_requested: bool,
    /// The price depends on the shipping option.
    #[serde(default)]
    pub flexible: bool,
    /// Phone is passed to the provider.
    #[serde(default)]
    pub phone_to_provider: bool,
    /// E-mail is passed to the provider.
    #[serde(default)]
    pub email_to_provider: bool,
    /// Maximum tip, in the currency's smallest unit.
    #[serde(default)]
    pub max_tip_amount: Option<i64>,
    /// Suggested tips.
    #[serde(default)]
    pub suggested_tip_amounts: Vec<i64>,
    /// Recurring payment.
    #[serde(default)]
    pub recurring: bool,
    /// Terms of service URL (recurring payments).
    #[serde(default)]
    pub terms_url: Option<String>,
    /// Test invoice.
    #[serde(default)]
    pub test: bool,
    /// Pre-checkout always rejects this invoice with this reason.
    #[serde(default)]
    pub precheckout_reject: Option<String>,
    /// Users who get this invoice as a message in their chat with the merchant.
    #[serde(default)]
    pub message_for: Vec<i64>,
}

/// A Stars top-up option.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TopupOptionSpec {
    /// Stars bought.
    pub stars: i64,
    /// Currency paid.
    pub currency: String,
    /// Amount paid in the currency's smallest unit.
    pub amount: i64,
}

fn yes() -> bool {
    true
}

/// The login code of the default world (and of every scenario that does not set one).
pub const DEFAULT_LOGIN_CODE: &str = "12345";

fn default_login_code() -> String {
    DEFAULT_LOGIN_CODE.to_owned()
}

fn default_provider_id() -> i64 {
    1_744_374_395
}

fn default_reject_reason() -> String {
    "Sorry, we can't deliver there.".to_owned()
}

fn default_topup_options() -> Vec<TopupOptionSpec> {
    [(50, 99), (100, 199), (250, 499), (500, 999), (1000, 1999)]
        .into_iter()
        .map(|(stars, amount)| TopupOptionSpec {
            stars,
            currency: "USD".to_owned(),
            amount,
        })
        .collect()
}

/// The id of the default world's user with a password, saved info, a saved card and Stars.
pub const ALICE: i64 = 1_000_001;
/// The id of the default world's user without a 2FA password.
pub const BOB: i64 = 1_000_002;
/// The 2FA password of [`ALICE`] in the default world.
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
/// The default world's card merchant.
pub const SHOP_BOT: i64 = 7_000_001;
/// The default world's Stars merchant.
pub const STARS_BOT: i64 = 7_000_002;

impl Scenario {
    /// Parses a scenario from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Parses a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = serde_json::from_str(text)?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Loads a scenario file: `.json` files as JSON, anything else as TOML.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_world_is_valid_and_round_trips_through_toml_and_json() {
        let world = Scenario::default_world();
        world.check().unwrap();
        let toml_text = toml::to_string(&world).unwrap();
        assert_eq!(Scenario::from_toml(&toml_text).unwrap(), world);
        let json_text = serde_json::to_string(&world).unwrap();
        assert_eq!(Scenario::from_json(&json_text).unwrap(), world);
    }

    #[test]
    fn dangling_references_are_refused() {
        let mut world = Scenario::default_world();
        world.invoices[0].merchant = 42;
        let err = world.check().unwrap_err().to_string();
        assert!(err.contains("merchant 42"), "{err}");

        let mut world = Scenario::default_world();
        world.invoices[1].slug = world.invoices[0].slug.clone();
        assert!(
            world
                .check()
                .unwrap_err()
                .to_string()
                .contains("used twice")
        );

        let mut world = Scenario::default_world();
        world.users[0].auth_key = Some("abc".to_owned());
        assert!(world.check().unwrap_err().to_string().contains("512 hex"));
    }

    #[test]
    fn login_code_defaults_and_must_be_digits() {
        let scenario = Scenario::from_toml("[[users]]\nid = 1\nfirst_name = \"A\"\n").unwrap();
        assert_eq!(scenario.login_code, DEFAULT_LOGIN_CODE);
        let custom = Scenario::from_toml("login_code = \"24680\"\n").unwrap();
        assert_eq!(custom.login_code, "24680");
        let err = Scenario::from_toml("login_code = \"12a45\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("login_code"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Scenario::from_toml("[[users]]\nid = 1\nfirst_name = \"A\"\npasword = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pasword"), "{err}");
    }
}
