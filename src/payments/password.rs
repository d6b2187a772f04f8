//! The temporary password that unlocks saved cards: `account.getPassword` → SRP →
//! `account.getTmpPassword`, cached as Telegram's apps cache it.

use grammers_tl_types as tl;
use zeroize::Zeroizing;

use super::Payments;
use crate::attempt::unix_now;
use crate::credentials::TmpPassword;
use crate::error::{Error, PaymentError};
use crate::secret::SecretString;

impl Payments {
    /// The temporary password for paying with saved cards: the cached one while it is valid
    /// (no request), otherwise `account.getPassword` → SRP with the 2FA `password` (never sent)
    /// → `account.getTmpPassword`, then cached ([how long](#the-cache)). A wrong password is
    /// [`Error::WrongPassword`] with the account's hint.
    ///
    /// Ask the user for the password only when [`Payments::has_tmp_password`] is `false`.
    ///
    /// # The cache
    ///
    /// A `Payments` (and its clones) keeps the last temporary password it got. A checkout with
    /// [`Credentials::Saved`](crate::Credentials::Saved) uses it; without a valid one the checkout
    /// fails before sending ([`CredentialsError::TmpPasswordRequired`]). It is used while this
    /// machine's clock is [`PaymentsConfig::tmp_password_reserve`] (10 s) or more before its
    /// `valid_until` (Telegram gives it [`PaymentsConfig::tmp_password_period`], 15 minutes), and
    /// dropped when Telegram answers `TMP_PASSWORD_INVALID`, when the saved cards are cleared
    /// ([`Payments::clear_saved_info`]), and by [`Payments::forget_tmp_password`].
    ///
    /// [`CredentialsError::TmpPasswordRequired`]: crate::credentials::CredentialsError::TmpPasswordRequired
    /// [`PaymentsConfig::tmp_password_reserve`]: super::PaymentsConfig::tmp_password_reserve
    /// [`PaymentsConfig::tmp_password_period`]: super::PaymentsConfig::tmp_password_period
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let ask_the_user = || tgpay_sandbox::scenario::ALICE_PASSWORD.to_owned();
    /// use tgpay::secret::SecretString;
    ///
    /// if !payments.has_tmp_password() {
    ///     let password = SecretString::new(ask_the_user());
    ///     let tmp = payments.get_tmp_password(&password).await?;
    ///     println!("saved cards unlocked until {}", tmp.valid_until);
    /// }
    /// assert!(payments.has_tmp_password());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn get_tmp_password(&self, password: &SecretString) -> Result<TmpPassword, Error> {
        if let Some(tmp) = self.cached_tmp_password() {
            return Ok(tmp);
        }
        let period = i32::try_from(self.inner.config.tmp_password_period.as_secs())
            .unwrap_or(TmpPassword::DEFAULT_PERIOD_SECS);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let tl::enums::account::Password::Password(params) =
                self.invoke(&tl::functions::account::GetPassword {}).await?;
            let hint = params.hint.clone();
            let secret = Zeroizing::new(password.expose().as_bytes().to_vec());
            let check = tokio::task::spawn_blocking(move || {
                crate::srp::check_password(&params, secret.as_slice())
            })
            .await
            .map_err(|_| Error::UnexpectedAnswer {
                what: "nothing (the SRP computation was cancelled)",
            })??;
            match self
                .inner
                .client
                .invoke(&tl::functions::account::GetTmpPassword {
                    password: check,
                    period,
                })
                .await
            {
                Ok(tmp) => {
                    let tmp = TmpPassword::from_tl(tmp);
                    self.state().tmp_password = Some(tmp.clone());
                    return Ok(tmp);
                }
                Err(e) => match PaymentError::from(e) {
                    PaymentError::PasswordHashInvalid => {
                        return Err(Error::WrongPassword { hint });
                    }
                    // The srp_id went stale between the two calls: fetch fresh parameters once.
                    PaymentError::SrpIdInvalid if attempts < 2 => continue,
                    other => return Err(Error::Telegram(other)),
                },
            }
        }
    }

    /// Whether a cached temporary password is valid (see *The cache* in
    /// [`Payments::get_tmp_password`]): saved cards can then be paid with without asking for
    /// the 2FA password, and
    /// [`Payments::get_tmp_password`] returns it without a request.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use tgpay::secret::SecretString;
    ///
    /// assert!(!payments.has_tmp_password());
    /// let password = SecretString::new(tgpay_sandbox::scenario::ALICE_PASSWORD.to_owned());
    /// payments.get_tmp_password(&password).await?;
    /// assert!(payments.has_tmp_password());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn has_tmp_password(&self) -> bool {
        self.cached_tmp_password().is_some()
    }

    /// Drops the cached temporary password: the next saved-card payment needs
    /// [`Payments::get_tmp_password`] with the 2FA password again.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let password = tgpay::secret::SecretString::new(tgpay_sandbox::scenario::ALICE_PASSWORD.to_owned());
    /// payments.get_tmp_password(&password).await?;
    /// payments.forget_tmp_password(); // e.g. when the user locks the app
    /// assert!(!payments.has_tmp_password());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn forget_tmp_password(&self) {
        self.state().tmp_password = None;
    }

    /// The cached temporary password, if it is still valid with the reserve (an expired one is
    /// dropped).
    pub(super) fn cached_tmp_password(&self) -> Option<TmpPassword> {
        let reserve = self.inner.config.tmp_password_reserve.as_secs() as i64;
        let now = unix_now();
        let mut state = self.state();
        match &state.tmp_password {
            Some(tmp) if tmp.is_valid_at(now, reserve) => Some(tmp.clone()),
            Some(_) => {
                state.tmp_password = None;
                None
            }
            None => None,
        }
    }
}
