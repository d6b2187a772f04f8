//! Cards saved on the server, and the temporary password that unlocks them.

use crate::secret::SecretBytes;
use crate::tl;

use super::CredentialsError;

/// A card saved on the server (`paymentSavedCredentialsCard`), from a form's
/// [`saved_credentials`](crate::form::CardForm::saved_credentials).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SavedCard {
    /// The server's id of the card.
    pub id: String,
    /// What the payer sees (`Visa *4242`).
    pub title: String,
}

impl SavedCard {
    /// Reads a `paymentSavedCredentialsCard`.
    pub fn from_tl(card: tl::enums::PaymentSavedCredentials) -> Self {
        let tl::enums::PaymentSavedCredentials::Card(card) = card;
        SavedCard {
            id: card.id,
            title: card.title,
        }
    }

    /// `inputPaymentCredentialsSaved`, if `tmp_password` is valid at the unix time `now` for
    /// at least [`TmpPassword::RESERVE_SECS`] more seconds.
    pub(crate) fn to_tl_at(
        &self,
        tmp_password: Option<&TmpPassword>,
        now: i64,
    ) -> Result<tl::enums::InputPaymentCredentials, CredentialsError> {
        let password = match tmp_password {
            Some(password) if password.is_valid_at(now, TmpPassword::RESERVE_SECS) => password,
            Some(password) => {
                return Err(CredentialsError::TmpPasswordRequired {
                    valid_until: Some(password.valid_until),
                });
            }
            None => return Err(CredentialsError::TmpPasswordRequired { valid_until: None }),
        };
        Ok(tl::enums::InputPaymentCredentials::Saved(
            tl::types::InputPaymentCredentialsSaved {
                id: self.id.clone(),
                tmp_password: password.secret.expose().clone(),
            },
        ))
    }
}

/// A temporary payment password (`account.tmpPassword`): proves the 2FA password for a while,
/// so that saved cards can be charged without asking for it again.
#[derive(Debug, Clone)]
pub struct TmpPassword {
    /// The password.
    pub secret: SecretBytes,
    /// When it stops being valid (unix time).
    pub valid_until: i64,
}

impl TmpPassword {
    /// How long before `valid_until` a temporary password is no longer used, so that it does
    /// not expire on the way (Telegram Desktop's `kTmpPasswordReserveTime`).
    pub const RESERVE_SECS: i64 = 10;

    /// The validity to ask `account.getTmpPassword` for, in seconds (Telegram Desktop's
    /// `kPasswordPeriod`, 15 minutes).
    pub const DEFAULT_PERIOD_SECS: i32 = 15 * 60;

    /// Reads an `account.tmpPassword`.
    pub fn from_tl(password: tl::enums::account::TmpPassword) -> Self {
        let tl::enums::account::TmpPassword::Password(password) = password;
        TmpPassword {
            secret: SecretBytes::new(password.tmp_password),
            valid_until: i64::from(password.valid_until),
        }
    }

    /// Whether the password can still be used at the unix time `now`, keeping `reserve_secs`
    /// in hand: `valid_until >= now + reserve_secs`, as Telegram Desktop checks. An empty
    /// password is never valid.
    pub fn is_valid_at(&self, now: i64, reserve_secs: i64) -> bool {
        !self.secret.expose().is_empty() && self.valid_until >= now.saturating_add(reserve_secs)
    }
}
