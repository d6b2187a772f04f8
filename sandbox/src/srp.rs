//! The server's side of Telegram's 2FA password check (SRP-6a,
//! `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`), on the building blocks
//! of [`tgpay::srp`].
//!
//! A [`PasswordRecord`] is what a server stores for an account (salts, `p`, `g` and the verifier
//! `v = g^x mod p`); [`PasswordRecord::issue`] makes a [`ServerChallenge`] (`srp_id`, `b`,
//! `srp_B = k·v + g^b mod p`), [`PasswordRecord::account_password`] the `account.password` a
//! client receives, and [`ServerChallenge::verify`] checks the client's answer in constant time.
//! Secrets (`v`, `b`, the shared secret) are zeroized on drop and never shown by `Debug`.

use std::fmt;

use crypto_bigint::ctutils::CtEq;
use crypto_bigint::{U256, U2048};
use grammers_tl_types::{enums, types};
use tgpay::srp::{
    Group, NUM_BYTES, SrpError, TELEGRAM_G, TELEGRAM_P, check_g_a, check_g_b, h, pad_256,
    password_hash, scrambler, to_bytes,
};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of the salts [`PasswordRecord::new`] draws (the lengths Telegram uses: 40 and 16 bytes).
const NEW_SALT1_LEN: usize = 40;
const NEW_SALT2_LEN: usize = 16;

/// Attempts [`PasswordRecord::issue_random`] makes before giving up on the random generator.
const ISSUE_ATTEMPTS: usize = 16;

/// What a server stores for an account with a 2FA password: the salts, `(p, g)`, the verifier `v =
/// g^x mod p` (never the password) and the hint.
///
/// `Debug` shows only public parts; `v` is zeroized on drop (it allows an offline dictionary
/// attack).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PasswordRecord {
    salt1: Vec<u8>,
    salt2: Vec<u8>,
    p: [u8; NUM_BYTES],
    g: i32,
    v: [u8; NUM_BYTES],
    hint: Option<String>,
}

impl fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordRecord")
            .field("salt1_len", &self.salt1.len())
            .field("salt2_len", &self.salt2.len())
            .field("telegram_p", &(self.p == TELEGRAM_P))
            .field("g", &self.g)
            .field("v", &"<redacted>")
            .field("has_hint", &self.hint.is_some())
            .finish()
    }
}

impl PasswordRecord {
    /// A record for `secret` with random salts (40 and 16 bytes, as Telegram uses), Telegram's
    /// prime and `g = 3`.
    pub fn new<R: rand::CryptoRng + ?Sized>(secret: &[u8], rng: &mut R) -> Self {
        let mut salt1 = vec![0u8; NEW_SALT1_LEN];
        let mut salt2 = vec![0u8; NEW_SALT2_LEN];
        rng.fill_bytes(&mut salt1);
        rng.fill_bytes(&mut salt2);
        Self::with_salts(secret, &salt1, &salt2)
    }

    /// A record for `secret` with the given salts, Telegram's prime and `g = 3` (deterministic).
    pub fn with_salts(secret: &[u8], salt1: &[u8], salt2: &[u8]) -> Self {
        Self::with_group(secret, salt1, salt2, Group::telegram())
    }

    /// A record for `secret` with the given salts and `(p, g)`, which are validated like a client
    /// validates them.
    pub fn with_params(
        secret: &[u8],
        salt1: &[u8],
        salt2: &[u8],
        p: &[u8],
        g: i32,
    ) -> Result<Self, SrpError> {
        let group = Group::new(p, g)?;
        Ok(Self::with_group(secret, salt1, salt2, &group))
    }

    fn with_group(secret: &[u8], salt1: &[u8], salt2: &[u8], group: &Group) -> Self {
        let x = password_hash(secret, salt1, salt2);
        let x = Zeroizing::new(U256::from_be_slice(&*x));
        let v = group.g_pow(&*x);
        Self {
            salt1: salt1.to_vec(),
            salt2: salt2.to_vec(),
            p: *group.p_bytes(),
            g: group.g(),
            v: to_bytes(&v.retrieve()),
            hint: None,
        }
    }

    /// Sets the password hint shown to the user (`account.password.hint`).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `salt1` as sent in `current_algo`.
    pub fn salt1(&self) -> &[u8] {
        &self.salt1
    }

    /// `salt2` as sent in `current_algo`.
    pub fn salt2(&self) -> &[u8] {
        &self.salt2
    }

    /// The prime `p`.
    pub fn p(&self) -> &[u8; 256] {
        &self.p
    }

    /// The generator `g`.
    pub fn g(&self) -> i32 {
        self.g
    }

    /// The password hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow` describing this
    /// record.
    pub fn algo(&self) -> enums::PasswordKdfAlgo {
        enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                salt1: self.salt1.clone(),
                salt2: self.salt2.clone(),
                g: self.g,
                p: self.p.to_vec(),
            },
        )
    }

    fn group(&self) -> Result<Group, SrpError> {
        if self.p == TELEGRAM_P && self.g == TELEGRAM_G {
            return Ok(Group::telegram().clone());
        }
        Group::new(&self.p, self.g)
    }

    /// Starts a check: `srp_B := (k·v + g^b) mod p` for the secret `b` (256 bytes, big-endian)
    /// under `srp_id`.
    ///
    /// Fails with [`SrpError::SrpBOutOfRange`] or [`SrpError::SrpBTooCloseToBounds`] if this `b`
    /// yields a `srp_B` a client would refuse (vanishingly rare for a random `b`).
    pub fn issue(&self, srp_id: i64, b: &[u8; 256]) -> Result<ServerChallenge, SrpError> {
        let group = self.group()?;
        let b = Zeroizing::new(U2048::from_be_slice(b));
        let v = Zeroizing::new(group.monty(&U2048::from_be_slice(&self.v)));
        let kv = Zeroizing::new(group.k().mul(&v));
        let g_b = kv.add(&group.g_pow(&*b)).retrieve();
        check_g_b(&g_b, group.p())?;
        Ok(ServerChallenge {
            srp_id,
            b,
            g_b: to_bytes(&g_b),
        })
    }

    /// [`issue`](Self::issue) with a random `b` drawn from `rng`.
    pub fn issue_random<R: rand::CryptoRng + ?Sized>(
        &self,
        srp_id: i64,
        rng: &mut R,
    ) -> Result<ServerChallenge, SrpError> {
        let mut b = Zeroizing::new([0u8; NUM_BYTES]);
        let mut last = SrpError::SrpBTooCloseToBounds;
        for _ in 0..ISSUE_ATTEMPTS {
            rng.fill_bytes(&mut *b);
            match self.issue(srp_id, &b) {
                Ok(challenge) => return Ok(challenge),
                Err(err @ (SrpError::SrpBOutOfRange | SrpError::SrpBTooCloseToBounds)) => {
                    last = err
                }
                Err(err) => return Err(err),
            }
        }
        Err(last)
    }

    /// The `account.password` a client receives for this record and `challenge`: `has_password`,
    /// `current_algo`, `srp_B`, `srp_id` and `hint` from them; `new_algo` with the same parameters
    /// (clients append their own random bytes to `salt1`); `new_secure_algo` is
    /// `securePasswordKdfAlgoUnknown`, `secure_random` is `H(srp_B)`. The other fields are empty;
    /// set them on the returned value as needed.
    pub fn account_password(&self, challenge: &ServerChallenge) -> types::account::Password {
        types::account::Password {
            has_recovery: false,
            has_secure_values: false,
            has_password: true,
            current_algo: Some(self.algo()),
            srp_b: Some(challenge.g_b.to_vec()),
            srp_id: Some(challenge.srp_id),
            hint: self.hint.clone(),
            email_unconfirmed_pattern: None,
            new_algo: self.algo(),
            new_secure_algo: enums::SecurePasswordKdfAlgo::Unknown,
            secure_random: h(&[&challenge.g_b]).to_vec(),
            pending_reset_date: None,
            login_email_pattern: None,
        }
    }
}

/// One issued SRP check: `srp_id`, the secret `b` and the public `srp_B`. Verifies the client's
/// answer against the [`PasswordRecord`] it was issued from.
///
/// `b` is zeroized on drop and never shown by `Debug`.
pub struct ServerChallenge {
    srp_id: i64,
    b: Zeroizing<U2048>,
    g_b: [u8; NUM_BYTES],
}

impl fmt::Debug for ServerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerChallenge")
            .field("srp_id", &self.srp_id)
            .field("b", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ServerChallenge {
    /// The `srp_id` this check was issued under.
    pub fn srp_id(&self) -> i64 {
        self.srp_id
    }

    /// `srp_B` (256 bytes, big-endian).
    pub fn srp_b(&self) -> &[u8; 256] {
        &self.g_b
    }

    /// Checks a client's `InputCheckPasswordSRP` against `record` (the record this challenge was
    /// issued from): the `srp_id` must match, `A` must pass the same range checks as `srp_B`, and
    /// `M1` must equal the expected proof (compared in constant time).
    ///
    /// Errors: [`SrpError::EmptyPasswordCheck`] for `inputCheckPasswordEmpty`,
    /// [`SrpError::SrpIdMismatch`], [`SrpError::GaWrongLength`] / [`SrpError::GaOutOfRange`] /
    /// [`SrpError::GaTooCloseToBounds`] / [`SrpError::M1WrongLength`] for a malformed check,
    /// [`SrpError::ZeroU`], and [`SrpError::PasswordMismatch`] for a wrong password.
    /// [`SrpError::rpc_error_name`] gives the matching Telegram RPC error.
    pub fn verify(
        &self,
        record: &PasswordRecord,
        input: &enums::InputCheckPasswordSrp,
    ) -> Result<(), SrpError> {
        let check = match input {
            enums::InputCheckPasswordSrp::InputCheckPasswordEmpty => {
                return Err(SrpError::EmptyPasswordCheck);
            }
            enums::InputCheckPasswordSrp::Srp(check) => check,
        };
        if check.srp_id != self.srp_id {
            return Err(SrpError::SrpIdMismatch {
                expected: self.srp_id,
                got: check.srp_id,
            });
        }
        let group = record.group()?;
        let g_a_bytes = pad_256(&check.a).ok_or(SrpError::GaWrongLength { len: check.a.len() })?;
        let g_a = U2048::from_be_slice(&g_a_bytes);
        check_g_a(&g_a, group.p())?;
        let m1: &[u8; 32] =
            check
                .m1
                .as_slice()
                .try_into()
                .map_err(|_| SrpError::M1WrongLength {
                    len: check.m1.len(),
                })?;
        let u = scrambler(&g_a_bytes, &self.g_b)?;

        // s := (A·v^u)^b mod p.
        let v = Zeroizing::new(group.monty(&U2048::from_be_slice(&record.v)));
        let base = Zeroizing::new(group.monty(&g_a).mul(&v.pow(&u)));
        let s = Zeroizing::new(base.pow(&*self.b));
        let expected = group.proof(&record.salt1, &record.salt2, &g_a_bytes, &self.g_b, &s);
        if expected.ct_eq(m1).to_bool() {
            Ok(())
        } else {
            Err(SrpError::PasswordMismatch)
        }
    }
}
