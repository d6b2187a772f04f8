//! Telegram's 2FA password check: SRP-6a with
//! `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`
//! (<https://core.telegram.org/api/srp>), the client's side, and the building blocks both sides
//! share.
//!
//! **Client side.** [`check_password`] turns an `account.password` and the user's password into the
//! `InputCheckPasswordSRP` that `account.getTmpPassword`, `auth.checkPassword` and friends expect.
//! Everything the server sent is checked as strictly as TDLib does before it is used:
//!
//! - the algorithm must be `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`;
//! - `p` must be exactly 2048 bits and a safe prime (`p` and `(p − 1) / 2` prime);
//! - `g` must be in `2..=7` and generate the subgroup of order `(p − 1) / 2` (the residue of `p`
//!   modulo `4g`);
//! - `srp_B` must satisfy `1 < B < p − 1` and `2^(2048−64) ≤ B ≤ p − 2^(2048−64)`, and so must the
//!   `g_a` we send;
//! - `u = H(g_a | g_b)` must not be zero.
//!
//! Each failed check is its own [`SrpError`] variant; nothing the server sends can make this module
//! panic. Primality is the expensive check, so validated primes are remembered process-wide
//! ([`validate_prime`], [`is_prime_cached`]); Telegram's well-known prime ([`TELEGRAM_P`]) is built
//! in.
//!
//! **Building blocks.** [`h`], [`password_hash`] (`x`), [`Group`] (a validated `(p, g)` with
//! its Montgomery parameters, `k` and the proof `M1`), the range checks [`check_g_a`] /
//! [`check_g_b`] and the scrambler [`scrambler`] are public, for servers (the sandbox's
//! `tgpay_sandbox::srp`) and tests that speak the other side.
//!
//! Secrets (the password hash `x`, the ephemeral exponents `a` and `b`, the verifier, the shared
//! secret and every intermediate value derived from them) are zeroized on drop and never appear in
//! `Debug`, `Display`, errors or logs.
//!
//! ```no_run
//! # fn demo(password: &grammers_tl_types::types::account::Password) -> Result<(), tgpay::srp::SrpError> {
//! let check = tgpay::srp::check_password(password, "correct horse battery staple".as_bytes())?;
//! // Send `check` in account.getTmpPassword / auth.checkPassword.
//! # let _ = check; Ok(()) }
//! ```

use std::sync::OnceLock;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U256, U512, U2048, Uint};
use grammers_tl_types::{enums, types};
use rand::TryRng;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

mod prime;

pub use prime::{is_prime_cached, validate_prime};

use prime::{decode_hex_256, prime_bytes};

/// Telegram's well-known 2048-bit safe prime, used with [`TELEGRAM_G`] by every Telegram data
/// centre for SRP (and for secret-chat Diffie–Hellman). Built into the prime cache: it is never
/// re-tested.
pub const TELEGRAM_P: [u8; 256] = decode_hex_256(TELEGRAM_P_HEX);

const TELEGRAM_P_HEX: &str = concat!(
    "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f",
    "48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c37",
    "20fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f64",
    "2477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4",
    "a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754",
    "fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4",
    "e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f",
    "0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
);

const TELEGRAM_P_ODD: Odd<U2048> = Odd::<U2048>::from_be_hex(TELEGRAM_P_HEX);

/// The generator Telegram uses with [`TELEGRAM_P`].
pub const TELEGRAM_G: i32 = 3;

/// PBKDF2-HMAC-SHA512 iterations of
/// `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// Length in bytes of `p`, `g_a`, `srp_B` and every other number that is hashed (2048 bits,
/// big-endian, padded).
pub const NUM_BYTES: usize = 256;

/// `g_a` and `g_b` must stay `2^(2048 − 64)` away from 0 and from `p`.
const SAFETY_MARGIN_BIT: u32 = 2048 - 64;

/// A number modulo `p` in Montgomery form.
pub type Monty = FixedMontyForm<{ U2048::LIMBS }>;
type MontyParams = FixedMontyParams<{ U2048::LIMBS }>;
/// Wide enough for `a + u·x` (< 2^2049).
type WideExponent = Uint<{ U2048::LIMBS + U256::LIMBS }>;
/// Bits of `a + u·x`: `a < 2^2048` and `u·x < 2^512`.
const WIDE_EXPONENT_BITS: u32 = 2049;

/// Everything that can go wrong in an SRP check, on either side.
///
/// None of the variants carries a secret. Variants about the `account.password` the server sent
/// mean the server is broken or hostile: do not retry with the same parameters, fetch
/// `account.getPassword` again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SrpError {
    /// `account.password.has_password` is false: the account has no 2FA password.
    #[error(
        "the account has no 2FA password (has_password is false): send inputCheckPasswordEmpty or set a password first"
    )]
    NoPassword,
    /// `has_password` is set but `current_algo` is missing.
    #[error(
        "account.password has has_password set but no current_algo: fetch account.getPassword again"
    )]
    MissingAlgorithm,
    /// `current_algo` is not `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`
    /// (for instance `passwordKdfAlgoUnknown`).
    #[error(
        "unsupported password KDF algorithm: only passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow \
         is implemented (update tgpay, or the server is misbehaving)"
    )]
    UnsupportedAlgorithm,
    /// `has_password` is set but `srp_B` is missing.
    #[error("account.password has has_password set but no srp_B: fetch account.getPassword again")]
    MissingSrpB,
    /// `has_password` is set but `srp_id` is missing.
    #[error("account.password has has_password set but no srp_id: fetch account.getPassword again")]
    MissingSrpId,
    /// `p` is not exactly 256 bytes with the top bit set (a 2048-bit number).
    #[error(
        "the SRP prime p must be a 2048-bit number in 256 bytes, got {len} bytes holding {bits} bits: refusing it"
    )]
    PrimeWrongSize {
        /// Length of `p` in bytes as sent.
        len: usize,
        /// Bit length of the number `p`.
        bits: usize,
    },
    /// `g` is not in `2..=7`.
    #[error("the SRP generator g must be in 2..=7, got {g}: refusing it")]
    GeneratorOutOfRange {
        /// The generator as sent.
        g: i32,
    },
    /// `g` does not generate the subgroup of prime order `(p − 1) / 2`: the residue of `p` modulo
    /// `4g` is wrong (g = 2: p mod 8 = 7; g = 3: p mod 3 = 2; g = 5: p mod 5 ∈ {1, 4}; g = 6: p mod
    /// 24 ∈ {19, 23}; g = 7: p mod 7 ∈ {3, 5, 6}).
    #[error(
        "the SRP generator g = {g} does not generate the prime-order subgroup mod p (bad p mod 4g): refusing it"
    )]
    GeneratorResidue {
        /// The generator as sent.
        g: i32,
    },
    /// `p` is composite.
    #[error("the SRP modulus p is not a prime number: refusing it")]
    PrimeNotPrime,
    /// `p` is prime but `(p − 1) / 2` is not: `p` is not a safe prime.
    #[error("the SRP prime p is not a safe prime ((p - 1) / 2 is composite): refusing it")]
    PrimeNotSafe,
    /// `srp_B` is longer than 256 bytes.
    #[error("srp_B must fit in 256 bytes, got {len} bytes: refusing it")]
    SrpBWrongLength {
        /// Length of `srp_B` in bytes as sent.
        len: usize,
    },
    /// `srp_B` is not in `1 < B < p − 1` (this includes `B = 0`, `B = 1`, `B = p − 1`, `B ≥ p`).
    #[error("srp_B is not in 1 < B < p - 1: refusing it")]
    SrpBOutOfRange,
    /// `srp_B` is within `2^(2048−64)` of 0 or of `p`.
    #[error("srp_B is not in 2^1984 <= B <= p - 2^1984: refusing it")]
    SrpBTooCloseToBounds,
    /// The client's `A` (`g_a`) is longer than 256 bytes (server side).
    #[error("A (g_a) must fit in 256 bytes, got {len} bytes")]
    GaWrongLength {
        /// Length of `A` in bytes as received.
        len: usize,
    },
    /// `g_a` is not in `1 < g_a < p − 1`: on the client, the random `a` was degenerate; on the
    /// server, the client sent a bad `A`.
    #[error("A (g_a) is not in 1 < g_a < p - 1")]
    GaOutOfRange,
    /// `g_a` is within `2^(2048−64)` of 0 or of `p`.
    #[error("A (g_a) is not in 2^1984 <= g_a <= p - 2^1984")]
    GaTooCloseToBounds,
    /// `u = H(g_a | g_b)` is zero, which would make the proof independent of the password.
    #[error("u = H(g_a | g_b) is zero: pick a new random a (client) or b (server) and retry")]
    ZeroU,
    /// The operating system's random generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Rng(rand::rngs::SysError),
    /// The `srp_id` in the check is not the one the server issued (server side; Telegram:
    /// `SRP_ID_INVALID`).
    #[error(
        "srp_id {got} does not match the issued srp_id {expected}: fetch account.getPassword again"
    )]
    SrpIdMismatch {
        /// The `srp_id` the server issued.
        expected: i64,
        /// The `srp_id` the client sent.
        got: i64,
    },
    /// The client sent `inputCheckPasswordEmpty` but the account has a password (server side).
    #[error(
        "inputCheckPasswordEmpty was sent but the account has a 2FA password: send an SRP check instead"
    )]
    EmptyPasswordCheck,
    /// `M1` is not 32 bytes (server side).
    #[error("M1 must be 32 bytes, got {len} bytes")]
    M1WrongLength {
        /// Length of `M1` in bytes as received.
        len: usize,
    },
    /// `M1` does not match: the password is wrong (server side; Telegram: `PASSWORD_HASH_INVALID`).
    #[error("wrong 2FA password (M1 does not match): ask the user to enter the password again")]
    PasswordMismatch,
}

impl SrpError {
    /// The RPC error a Telegram server answers with when a server's check fails this way
    /// (`PASSWORD_HASH_INVALID`, `SRP_ID_INVALID`, `SRP_A_INVALID`); `None` for the client-side
    /// checks.
    pub fn rpc_error_name(&self) -> Option<&'static str> {
        match self {
            Self::PasswordMismatch
            | Self::EmptyPasswordCheck
            | Self::M1WrongLength { .. }
            | Self::ZeroU => Some("PASSWORD_HASH_INVALID"),
            Self::SrpIdMismatch { .. } => Some("SRP_ID_INVALID"),
            Self::GaWrongLength { .. } | Self::GaOutOfRange | Self::GaTooCloseToBounds => {
                Some("SRP_A_INVALID")
            }
            _ => None,
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Prime validation and cache
// -------------------------------------------------------------------------------------------------

/// `H(parts[0] | parts[1] | …)` with SHA-256.
pub fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// `SH(data, salt) := H(salt | data | salt)`.
fn sh(data: &[u8], salt: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(h(&[salt, data, salt]))
}

/// `x := PH2(password, salt1, salt2) := SH(pbkdf2(sha512, PH1(password, salt1, salt2), salt1,
/// 100000), salt2)` with `PH1(password, salt1, salt2) := SH(SH(password, salt1), salt2)`.
pub fn password_hash(secret: &[u8], salt1: &[u8], salt2: &[u8]) -> Zeroizing<[u8; 32]> {
    let ph1 = sh(&*sh(secret, salt1), salt2);
    let mut derived = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2_hmac::<Sha512>(&*ph1, salt1, PBKDF2_ITERATIONS, &mut *derived);
    sh(&*derived, salt2)
}

/// A number left-padded to 256 bytes, or `None` if it does not fit.
pub fn pad_256(bytes: &[u8]) -> Option<[u8; NUM_BYTES]> {
    let start = NUM_BYTES.checked_sub(bytes.len())?;
    let mut out = [0u8; NUM_BYTES];
    out.get_mut(start..)?.copy_from_slice(bytes);
    Some(out)
}

/// A 2048-bit number as 256 big-endian bytes.
pub fn to_bytes(n: &U2048) -> [u8; NUM_BYTES] {
    let mut out = [0u8; NUM_BYTES];
    out.copy_from_slice(n.to_be_bytes().as_ref());
    out
}

/// How a public value `y` (`g_a` or `g_b`) fails the range checks.
enum RangeViolation {
    /// Not in `1 < y < p − 1`.
    OutOfRange,
    /// Not in `2^(2048−64) ≤ y ≤ p − 2^(2048−64)`.
    TooCloseToBounds,
}

fn check_range(y: &U2048, p: &U2048) -> Result<(), RangeViolation> {
    let p_minus_1 = p.wrapping_sub(&U2048::ONE);
    if y <= &U2048::ONE || y >= &p_minus_1 {
        return Err(RangeViolation::OutOfRange);
    }
    let margin = U2048::ONE.shl_vartime(SAFETY_MARGIN_BIT);
    if y < &margin || y > &p.wrapping_sub(&margin) {
        return Err(RangeViolation::TooCloseToBounds);
    }
    Ok(())
}

/// Checks `srp_B` (`g_b`): `1 < g_b < p − 1`, and `2^(2048−64)` away from both bounds.
pub fn check_g_b(g_b: &U2048, p: &U2048) -> Result<(), SrpError> {
    check_range(g_b, p).map_err(|violation| match violation {
        RangeViolation::OutOfRange => SrpError::SrpBOutOfRange,
        RangeViolation::TooCloseToBounds => SrpError::SrpBTooCloseToBounds,
    })
}

/// Checks `A` (`g_a`) like [`check_g_b`] checks `srp_B`.
pub fn check_g_a(g_a: &U2048, p: &U2048) -> Result<(), SrpError> {
    check_range(g_a, p).map_err(|violation| match violation {
        RangeViolation::OutOfRange => SrpError::GaOutOfRange,
        RangeViolation::TooCloseToBounds => SrpError::GaTooCloseToBounds,
    })
}

/// `u := H(g_a | g_b)`, which must not be zero.
pub fn scrambler(g_a: &[u8; NUM_BYTES], g_b: &[u8; NUM_BYTES]) -> Result<U256, SrpError> {
    nonzero_u(h(&[g_a, g_b]))
}

fn nonzero_u(hash: [u8; 32]) -> Result<U256, SrpError> {
    if hash == [0u8; 32] {
        return Err(SrpError::ZeroU);
    }
    Ok(U256::from_be_slice(&hash))
}

/// A validated `(p, g)` with its Montgomery parameters and the hashes that depend only on them.
#[derive(Clone)]
pub struct Group {
    p_bytes: [u8; NUM_BYTES],
    p: U2048,
    params: MontyParams,
    g: i32,
    /// `g` in Montgomery form.
    g_monty: Monty,
    /// `k := H(p | g)` in Montgomery form.
    k_monty: Monty,
    /// `H(p) xor H(g)`.
    p_xor_g: [u8; 32],
}

impl Group {
    /// Telegram's group ([`TELEGRAM_P`], [`TELEGRAM_G`]), built once.
    pub fn telegram() -> &'static Group {
        static GROUP: OnceLock<Group> = OnceLock::new();
        GROUP.get_or_init(|| Group::from_parts(TELEGRAM_P, TELEGRAM_P_ODD, TELEGRAM_G))
    }

    /// `p` as 256 big-endian bytes.
    pub fn p_bytes(&self) -> &[u8; NUM_BYTES] {
        &self.p_bytes
    }

    /// `p`.
    pub fn p(&self) -> &U2048 {
        &self.p
    }

    /// `g`.
    pub fn g(&self) -> i32 {
        self.g
    }

    /// `k := H(p | g)` in Montgomery form.
    pub fn k(&self) -> &Monty {
        &self.k_monty
    }

    /// Validates `(p, g)` (through the prime cache) and precomputes what depends only on them.
    pub fn new(p: &[u8], g: i32) -> Result<Self, SrpError> {
        validate_prime(p, g)?;
        let p_bytes = *prime_bytes(p)?;
        // A validated prime is odd; the error branch is unreachable but costs nothing to handle.
        let odd = Odd::new(U2048::from_be_slice(&p_bytes))
            .into_option()
            .ok_or(SrpError::PrimeNotPrime)?;
        Ok(Self::from_parts(p_bytes, odd, g))
    }

    /// Precomputes the Montgomery parameters and hashes of an already validated `(p, g)`.
    fn from_parts(p_bytes: [u8; NUM_BYTES], p: Odd<U2048>, g: i32) -> Self {
        let params = MontyParams::new_vartime(p);
        let g_uint = U2048::from_u32(g.unsigned_abs());
        let g_bytes = to_bytes(&g_uint);
        let k = U256::from_be_slice(&h(&[&p_bytes, &g_bytes]));
        let h_p = h(&[&p_bytes]);
        let h_g = h(&[&g_bytes]);
        let mut p_xor_g = [0u8; 32];
        for ((out, a), b) in p_xor_g.iter_mut().zip(h_p).zip(h_g) {
            *out = a ^ b;
        }
        Self {
            p_bytes,
            p: p.get(),
            params,
            g,
            g_monty: Monty::new(&g_uint, &params),
            k_monty: Monty::new(&k.resize(), &params),
            p_xor_g,
        }
    }

    /// `n` in Montgomery form modulo `p`.
    pub fn monty(&self, n: &U2048) -> Monty {
        Monty::new(n, &self.params)
    }

    /// `g^e mod p` (constant time in `e`).
    pub fn g_pow<const L: usize>(&self, e: &Uint<L>) -> Zeroizing<Monty> {
        Zeroizing::new(self.g_monty.pow(e))
    }

    /// `M1 := H(H(p) xor H(g) | H(salt1) | H(salt2) | g_a | g_b | k_a)` with `k_a := H(s)`.
    pub fn proof(
        &self,
        salt1: &[u8],
        salt2: &[u8],
        g_a: &[u8; NUM_BYTES],
        g_b: &[u8; NUM_BYTES],
        s: &Monty,
    ) -> Zeroizing<[u8; 32]> {
        let s_bytes = Zeroizing::new(to_bytes(&s.retrieve()));
        let k_a = Zeroizing::new(h(&[&*s_bytes]));
        Zeroizing::new(h(&[
            &self.p_xor_g,
            &h(&[salt1]),
            &h(&[salt2]),
            g_a,
            g_b,
            &*k_a,
        ]))
    }
}

// -------------------------------------------------------------------------------------------------
// Client side
// -------------------------------------------------------------------------------------------------

/// The parts of an `account.password` the client needs, validated.
struct ServerParams<'a> {
    salt1: &'a [u8],
    salt2: &'a [u8],
    group: Group,
    g_b: U2048,
    g_b_bytes: [u8; NUM_BYTES],
    srp_id: i64,
}

impl<'a> ServerParams<'a> {
    fn from_password(password: &'a types::account::Password) -> Result<Self, SrpError> {
        if !password.has_password {
            return Err(SrpError::NoPassword);
        }
        let algo = match &password.current_algo {
            None => return Err(SrpError::MissingAlgorithm),
            Some(enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
                algo,
            )) => algo,
            Some(_) => return Err(SrpError::UnsupportedAlgorithm),
        };
        let srp_b = password.srp_b.as_deref().ok_or(SrpError::MissingSrpB)?;
        let srp_id = password.srp_id.ok_or(SrpError::MissingSrpId)?;

        let group = Group::new(&algo.p, algo.g)?;
        let g_b_bytes = pad_256(srp_b).ok_or(SrpError::SrpBWrongLength { len: srp_b.len() })?;
        let g_b = U2048::from_be_slice(&g_b_bytes);
        check_g_b(&g_b, &group.p)?;
        Ok(Self {
            salt1: &algo.salt1,
            salt2: &algo.salt2,
            group,
            g_b,
            g_b_bytes,
            srp_id,
        })
    }
}

/// What the client computes from `a` alone (no password needed).
struct ClientEphemeral {
    g_a_bytes: [u8; NUM_BYTES],
    u: U256,
}

fn client_ephemeral(params: &ServerParams<'_>, a: &U2048) -> Result<ClientEphemeral, SrpError> {
    let g_a = params.group.g_pow(a).retrieve();
    check_g_a(&g_a, &params.group.p)?;
    let g_a_bytes = to_bytes(&g_a);
    let u = scrambler(&g_a_bytes, &params.g_b_bytes)?;
    Ok(ClientEphemeral { g_a_bytes, u })
}

/// Computes the `InputCheckPasswordSRP` for `secret` (the user's 2FA password, UTF-8 bytes as
/// typed) against the `account.password` the server sent, with a fresh 2048-bit `a` from the
/// operating system's random generator.
///
/// Every parameter from the server is validated first (see the [module docs](self)); any failure is
/// an [`SrpError`]. Costs one PBKDF2-HMAC-SHA512 with 100 000 iterations plus a few 2048-bit
/// exponentiations (the one that does not depend on the password runs on a second thread while
/// PBKDF2 runs), and the first time a new prime is seen, its primality test. This blocks for tens
/// of milliseconds: from async code, call it inside `tokio::task::spawn_blocking`.
pub fn check_password(
    password: &types::account::Password,
    secret: &[u8],
) -> Result<enums::InputCheckPasswordSrp, SrpError> {
    let mut a = Zeroizing::new([0u8; NUM_BYTES]);
    rand::rngs::SysRng
        .try_fill_bytes(&mut *a)
        .map_err(SrpError::Rng)?;
    check_password_with_random(password, secret, &a)
}

/// [`check_password`] with a caller-chosen `a` (256 bytes, big-endian): deterministic, for tests
/// and cross-checks. Never reuse an `a` with a real server.
pub fn check_password_with_random(
    password: &types::account::Password,
    secret: &[u8],
    a: &[u8; 256],
) -> Result<enums::InputCheckPasswordSrp, SrpError> {
    let params = ServerParams::from_password(password)?;
    let a = Zeroizing::new(U2048::from_be_slice(a));

    // g_a and u do not depend on the password: compute them while PBKDF2 runs.
    let (ephemeral, x) = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("tgpay-srp".into())
            .spawn_scoped(scope, || client_ephemeral(&params, &a));
        let x = password_hash(secret, params.salt1, params.salt2);
        let ephemeral = match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| client_ephemeral(&params, &a)),
            // No thread available: do it here.
            Err(_) => client_ephemeral(&params, &a),
        };
        (ephemeral, x)
    });
    let ephemeral = ephemeral?;

    let group = &params.group;
    let x = Zeroizing::new(U256::from_be_slice(&*x));
    // v := g^x, k_v := k·v, t := (g_b − k_v) mod p.
    let v = group.g_pow(&*x);
    let kv = Zeroizing::new(group.k_monty.mul(&v));
    let t = Zeroizing::new(group.monty(&params.g_b).sub(&kv));
    // s_a := t^(a + u·x) mod p.
    let ux: Zeroizing<U512> = Zeroizing::new(ephemeral.u.concatenating_mul(&*x));
    let exponent: Zeroizing<WideExponent> = Zeroizing::new(a.resize().wrapping_add(&ux.resize()));
    let s = Zeroizing::new(t.pow_bounded_exp(&*exponent, WIDE_EXPONENT_BITS));
    let m1 = group.proof(
        params.salt1,
        params.salt2,
        &ephemeral.g_a_bytes,
        &params.g_b_bytes,
        &s,
    );

    Ok(enums::InputCheckPasswordSrp::Srp(
        types::InputCheckPasswordSrp {
            srp_id: params.srp_id,
            a: ephemeral.g_a_bytes.to_vec(),
            m1: m1.to_vec(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_u_is_rejected() {
        assert_eq!(nonzero_u([0u8; 32]), Err(SrpError::ZeroU));
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(nonzero_u(one), Ok(U256::ONE));
    }

    #[test]
    fn pad_256_rejects_long_input() {
        assert!(pad_256(&[0u8; 257]).is_none());
        let padded = pad_256(&[1, 2]).unwrap_or([9; 256]);
        assert_eq!(&padded[254..], &[1, 2]);
        assert!(padded[..254].iter().all(|&b| b == 0));
    }
}
