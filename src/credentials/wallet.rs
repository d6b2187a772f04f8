//! Apple Pay and Google Pay.

use crate::secret::SecretString;

use super::{CredentialsError, parse_object};

/// Apple Pay: the payment data of a `PKPaymentToken`, a JSON object, sent as it is in
/// `inputPaymentCredentialsApplePay.payment_data`.
#[derive(Debug, Clone)]
pub struct ApplePay {
    payment_data: SecretString,
}

impl ApplePay {
    /// What the payer sees for Apple Pay.
    pub const TITLE: &'static str = "Apple Pay";

    /// Wraps Apple Pay's payment data, which must be a JSON object.
    pub fn new(payment_data: impl Into<String>) -> Result<Self, CredentialsError> {
        let payment_data = SecretString::with_hint(payment_data.into(), Self::TITLE);
        parse_object(payment_data.expose(), "Apple Pay payment data")?;
        Ok(ApplePay { payment_data })
    }

    /// The payment data.
    pub fn payment_data(&self) -> &SecretString {
        &self.payment_data
    }
}

/// Google Pay: the payment token, a JSON object, sent as it is in
/// `inputPaymentCredentialsGooglePay.payment_token`.
#[derive(Debug, Clone)]
pub struct GooglePay {
    payment_token: SecretString,
}

impl GooglePay {
    /// What the payer sees for Google Pay.
    pub const TITLE: &'static str = "Google Pay";

    /// Wraps Google Pay's payment token, which must be a JSON object.
    pub fn new(payment_token: impl Into<String>) -> Result<Self, CredentialsError> {
        let payment_token = SecretString::with_hint(payment_token.into(), Self::TITLE);
        parse_object(payment_token.expose(), "Google Pay payment token")?;
        Ok(GooglePay { payment_token })
    }

    /// The payment token.
    pub fn payment_token(&self) -> &SecretString {
        &self.payment_token
    }
}
