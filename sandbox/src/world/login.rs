//! Login: guest keys, `auth.sendCode`, `auth.signIn`, `auth.checkPassword` and `auth.logOut`.

use super::*;

/// How long a login code stays valid after `auth.sendCode`.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(300);

/// Logins in progress and the users auth keys were bound to by logging in or out.
pub(super) struct Logins {
    code: String,
    /// auth_key_id → the user the key acts as since it logged in ([`UNBOUND_USER`] after
    /// logging out); keys not listed act as the user they were registered with.
    bindings: HashMap<i64, i64>,
    /// auth_key_id → the login in progress on that key.
    pending: HashMap<i64, PendingLogin>,
}

enum PendingLogin {
    /// `auth.sendCode` issued a code; `auth.signIn` must bring it.
    Code {
        phone: String,
        user: i64,
        phone_code_hash: String,
        sent_at: i64,
    },
    /// The code was right and the account has a 2FA password: `auth.checkPassword` is next.
    Password { user: i64 },
}

impl Logins {
    pub(super) fn new(code: &str) -> Self {
        Self {
            code: code.to_owned(),
            bindings: HashMap::new(),
            pending: HashMap::new(),
        }
    }
}

/// The digits of a phone number written with or without `+`, spaces, dashes, dots or
/// parentheses; `None` unless 5 to 15 digits remain (E.164 numbers have at most 15).
fn phone_digits(phone: &str) -> Option<String> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let valid = (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(digits)
}

fn unregistered() -> RpcFail {
    RpcFail::new(401, "AUTH_KEY_UNREGISTERED")
}

impl World {
    /// The user an auth key acts as: the user it logged in as with `auth.signIn` /
    /// `auth.checkPassword`, [`UNBOUND_USER`] after `auth.logOut`, otherwise `registered` (the
    /// user the key was registered with in the [`KeyStore`](crate::KeyStore)).
    pub fn key_user(&self, auth_key_id: i64, registered: i64) -> i64 {
        self.login
            .bindings
            .get(&auth_key_id)
            .copied()
            .unwrap_or(registered)
    }

    /// The code `auth.signIn` accepts (the scenario's `login_code`).
    pub fn login_code(&self) -> &str {
        &self.login.code
    }

    /// The user whose 2FA password the login on `auth_key_id` waits for, if it does.
    pub fn login_password_user(&self, auth_key_id: i64) -> Option<i64> {
        match self.login.pending.get(&auth_key_id) {
            Some(PendingLogin::Password { user }) => Some(*user),
            _ => None,
        }
    }

    pub(super) fn phone_owner(&self, digits: &str) -> Option<i64> {
        self.users
            .values()
            .find(|a| a.phone.as_deref().and_then(phone_digits).as_deref() == Some(digits))
            .map(|a| a.id)
    }

    pub(super) fn authorization(&self, user: i64) -> RpcResult<tl::enums::auth::Authorization> {
        let user = self.user_tl(user, user).ok_or_else(unregistered)?;
        Ok(tl::types::auth::Authorization {
            setup_password_required: false,
            otherwise_relogin_days: None,
            tmp_sessions: None,
            future_auth_token: None,
            user,
        }
        .into())
    }

    pub(super) fn bind_key(&mut self, auth_key_id: i64, user: i64) {
        self.login.pending.remove(&auth_key_id);
        self.login.bindings.insert(auth_key_id, user);
    }

    /// `auth.sendCode` on the key `auth_key_id`: the phone must belong to a user of the
    /// scenario (the sandbox cannot sign up new accounts). The "sent" code is the scenario's
    /// `login_code`; a new `auth.sendCode` replaces the key's previous login.
    pub fn send_code(
        &mut self,
        auth_key_id: i64,
        req: &tl::functions::auth::SendCode,
    ) -> RpcResult<tl::enums::auth::SentCode> {
        if req.api_id <= 0 || req.api_hash.trim().is_empty() {
            return Err(RpcFail::bad("API_ID_INVALID"));
        }
        let phone_invalid = || RpcFail::new(406, "PHONE_NUMBER_INVALID");
        let phone = phone_digits(&req.phone_number).ok_or_else(phone_invalid)?;
        let user = self.phone_owner(&phone).ok_or_else(phone_invalid)?;
        let phone_code_hash = random_hex(9);
        let sent_at = self.now();
        self.login.pending.insert(
            auth_key_id,
            PendingLogin::Code {
                phone,
                user,
                phone_code_hash: phone_code_hash.clone(),
                sent_at,
            },
        );
        Ok(tl::types::auth::SentCode {
            r#type: tl::types::auth::SentCodeTypeApp {
                length: i32::try_from(self.login.code.len()).unwrap_or(i32::MAX),
            }
            .into(),
            phone_code_hash,
            next_type: Some(tl::enums::auth::CodeType::Sms),
            timeout: Some(to_i32(LOGIN_CODE_LIFETIME.as_secs() as i64)),
        }
        .into())
    }

    /// `auth.signIn` on the key `auth_key_id`. The right code binds the key to the user and
    /// returns `auth.authorization`, unless the account has a 2FA password: then
    /// `401 SESSION_PASSWORD_NEEDED`, and `account.getPassword` / `auth.checkPassword` finish
    /// the login.
    pub fn sign_in(
        &mut self,
        auth_key_id: i64,
        req: &tl::functions::auth::SignIn,
    ) -> RpcResult<tl::enums::auth::Authorization> {
        if req.phone_code_hash.is_empty() {
            return Err(RpcFail::bad("PHONE_CODE_HASH_EMPTY"));
        }
        let now = self.now();
        let (phone, user, sent_at) = match self.login.pending.get(&auth_key_id) {
            Some(PendingLogin::Code {
                phone,
                user,
                phone_code_hash,
                sent_at,
            }) if *phone_code_hash == req.phone_code_hash => (phone.clone(), *user, *sent_at),
            _ => return Err(RpcFail::bad("PHONE_CODE_EXPIRED")),
        };
        if now - sent_at > LOGIN_CODE_LIFETIME.as_secs() as i64 {
            self.login.pending.remove(&auth_key_id);
            return Err(RpcFail::bad("PHONE_CODE_EXPIRED"));
        }
        if phone_digits(&req.phone_number).as_deref() != Some(phone.as_str()) {
            return Err(RpcFail::new(406, "PHONE_NUMBER_INVALID"));
        }
        let code = req.phone_code.as_deref().unwrap_or_default();
        if code.is_empty() {
            return Err(RpcFail::bad("PHONE_CODE_EMPTY"));
        }
        if code != self.login.code {
            return Err(RpcFail::bad("PHONE_CODE_INVALID"));
        }
        if self.account(user)?.password.is_some() {
            self.login
                .pending
                .insert(auth_key_id, PendingLogin::Password { user });
            return Err(RpcFail::new(401, "SESSION_PASSWORD_NEEDED"));
        }
        let authorization = self.authorization(user)?;
        self.bind_key(auth_key_id, user);
        Ok(authorization)
    }

    /// `auth.checkPassword` on the key `auth_key_id`, after `auth.signIn` answered
    /// `SESSION_PASSWORD_NEEDED`: verifies the SRP proof against the challenge of the last
    /// `account.getPassword` (server-side SRP) and binds the key to the user.
    ///
    /// Every check spends the challenge, right or wrong: after a wrong password
    /// (`PASSWORD_HASH_INVALID`) the client fetches a new one with `account.getPassword`. After
    /// [`WRONG_PASSWORDS_BEFORE_WAIT`] wrong passwords in a row, checks are refused with
    /// `FLOOD_WAIT_X` for [`WRONG_PASSWORD_WAIT`] (also `account.getTmpPassword`'s).
    pub fn check_password(
        &mut self,
        auth_key_id: i64,
        req: &tl::functions::auth::CheckPassword,
    ) -> RpcResult<tl::enums::auth::Authorization> {
        let user = self
            .login_password_user(auth_key_id)
            .ok_or_else(unregistered)?;
        let now = self.now();
        let account = self.account_mut(user)?;
        let Some(state) = &mut account.password else {
            return Err(RpcFail::bad("PASSWORD_HASH_INVALID"));
        };
        state.check(now, &req.password)?;
        let authorization = self.authorization(user)?;
        self.bind_key(auth_key_id, user);
        Ok(authorization)
    }

    /// `auth.logOut` on the key `auth_key_id`, which acts as `user`: the key is bound to no
    /// user any more (it stays registered, as a guest key).
    pub fn log_out(
        &mut self,
        auth_key_id: i64,
        user: i64,
    ) -> RpcResult<tl::enums::auth::LoggedOut> {
        if user == UNBOUND_USER {
            return Err(unregistered());
        }
        self.bind_key(auth_key_id, UNBOUND_USER);
        Ok(tl::types::auth::LoggedOut {
            future_auth_token: None,
        }
        .into())
    }
}
