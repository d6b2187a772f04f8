//! The 2FA password (server-side SRP): `account.getPassword` and `account.getTmpPassword`.

use super::*;

impl PasswordState {
    /// Spends the open challenge on one check of `input` (right or wrong, a challenge serves
    /// once), refusing checks while the account waits after too many wrong passwords.
    pub(super) fn check(
        &mut self,
        now: i64,
        input: &tl::enums::InputCheckPasswordSrp,
    ) -> RpcResult<()> {
        if now < self.blocked_until {
            return Err(RpcFail::new(
                420,
                &format!("FLOOD_WAIT_{}", self.blocked_until - now),
            ));
        }
        let Some(challenge) = self.challenge.take() else {
            return Err(RpcFail::bad("SRP_ID_INVALID"));
        };
        match challenge.verify(&self.record, input) {
            Ok(()) => {
                self.wrong = 0;
                Ok(())
            }
            Err(e) => {
                let name = e.rpc_error_name().unwrap_or("SRP_A_INVALID");
                if name == "PASSWORD_HASH_INVALID" {
                    self.wrong += 1;
                    if self.wrong >= WRONG_PASSWORDS_BEFORE_WAIT {
                        self.wrong = 0;
                        self.blocked_until = now + WRONG_PASSWORD_WAIT.as_secs() as i64;
                    }
                }
                Err(RpcFail::bad(name))
            }
        }
    }
}

impl World {
    /// The 2FA record of the account `user`, if it has a password: for computing an
    /// `account.getPassword` challenge outside the world's lock (see
    /// [`offer_password_challenge`](Self::offer_password_challenge)).
    pub fn password_record(&self, user: i64) -> Option<srp::PasswordRecord> {
        let state = self.users.get(&user)?.password.as_ref()?;
        Some(state.record.clone())
    }

    /// Keeps a challenge issued from `record` (outside the lock) for the next
    /// `account.getPassword` of `user`, unless the account's password changed meanwhile.
    pub fn offer_password_challenge(
        &mut self,
        user: i64,
        record: &srp::PasswordRecord,
        challenge: srp::ServerChallenge,
    ) {
        if let Some(state) = self.users.get_mut(&user).and_then(|a| a.password.as_mut())
            && state.record.algo() == record.algo()
        {
            state.prepared = Some(challenge);
        }
    }

    /// `account.getPassword`: a fresh SRP challenge (new `srp_id`) on every call; the previous
    /// one stops being accepted.
    pub fn get_password(&mut self, user: i64) -> RpcResult<tl::enums::account::Password> {
        let account = self.account_mut(user)?;
        let mut secure_random = vec![0u8; 32];
        rand::fill(&mut secure_random[..]);
        let mut secure_salt = vec![0u8; 8];
        rand::fill(&mut secure_salt[..]);
        let new_secure_algo: tl::enums::SecurePasswordKdfAlgo =
            tl::types::SecurePasswordKdfAlgoPbkdf2Hmacsha512iter100000 { salt: secure_salt }.into();
        let password = match &mut account.password {
            Some(state) => {
                let challenge = match state.prepared.take() {
                    Some(challenge) => challenge,
                    None => state
                        .record
                        .issue_random(rand::random::<i64>(), &mut rand::rng())
                        .map_err(|_| RpcFail::new(500, "INTERNAL_SERVER_ERROR"))?,
                };
                let mut view = state.record.account_password(&challenge);
                view.new_secure_algo = new_secure_algo;
                view.secure_random = secure_random;
                state.challenge = Some(challenge);
                view
            }
            None => tl::types::account::Password {
                has_recovery: false,
                has_secure_values: false,
                has_password: false,
                current_algo: None,
                srp_b: None,
                srp_id: None,
                hint: None,
                email_unconfirmed_pattern: None,
                // Only the parameters: no key derivation (100 000 rounds of PBKDF2) for an
                // account that has no password, and none under the world's lock.
                new_algo:
                    tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                        salt1: Vec::new(),
                        salt2: Vec::new(),
                        g: tgpay::srp::TELEGRAM_G,
                        p: tgpay::srp::TELEGRAM_P.to_vec(),
                    }
                    .into(),
                new_secure_algo,
                secure_random,
                pending_reset_date: None,
                login_email_pattern: None,
            },
        };
        Ok(password.into())
    }

    /// `account.getTmpPassword`.
    pub fn get_tmp_password(
        &mut self,
        user: i64,
        req: &tl::functions::account::GetTmpPassword,
    ) -> RpcResult<tl::enums::account::TmpPassword> {
        let now = self.now();
        let account = self.account_mut(user)?;
        let Some(state) = &mut account.password else {
            return Err(RpcFail::bad("PASSWORD_MISSING"));
        };
        if !TMP_PASSWORD_PERIOD.contains(&req.period) {
            return Err(RpcFail::bad("TMP_PASSWORD_INVALID"));
        }
        state.check(now, &req.password)?;
        let mut secret = Zeroizing::new(vec![0u8; 32]);
        rand::fill(&mut secret[..]);
        let valid_until = now + i64::from(req.period);
        let answer = tl::types::account::TmpPassword {
            tmp_password: secret.to_vec(),
            valid_until: to_i32(valid_until),
        };
        account.tmp_passwords.retain(|t| t.valid_until > now);
        account.tmp_passwords.push(TmpPassword {
            secret,
            valid_until,
        });
        Ok(answer.into())
    }
}
