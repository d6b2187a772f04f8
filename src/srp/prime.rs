//! Checking `(p, g)`: a 2048-bit safe prime and a generator of its large subgroup, with the
//! verdicts of the primality tests remembered process-wide.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock, PoisonError};

use crypto_bigint::U2048;
use crypto_primes::Flavor;

use super::{NUM_BYTES, SrpError, TELEGRAM_P};

/// At most this many safe primes are remembered besides Telegram's (64 KiB), and at most this many
/// rejected numbers, so a hostile server cannot grow the cache without bound.
const SAFE_PRIME_CACHE_CAPACITY: usize = 256;
const REJECTED_PRIME_CACHE_CAPACITY: usize = 64;

/// What the primality tests said about a 2048-bit `p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrimeVerdict {
    Safe,
    NotPrime,
    NotSafe,
}

impl PrimeVerdict {
    fn into_result(self) -> Result<(), SrpError> {
        match self {
            Self::Safe => Ok(()),
            Self::NotPrime => Err(SrpError::PrimeNotPrime),
            Self::NotSafe => Err(SrpError::PrimeNotSafe),
        }
    }
}

/// Verdicts remembered so far. Safe primes and rejected numbers have separate budgets, so numbers a
/// hostile server made up cannot crowd out the real primes.
#[derive(Default)]
struct PrimeCache {
    safe: HashSet<[u8; NUM_BYTES]>,
    rejected: HashMap<[u8; NUM_BYTES], PrimeVerdict>,
}

fn prime_cache() -> &'static Mutex<PrimeCache> {
    static CACHE: OnceLock<Mutex<PrimeCache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(PrimeCache::default()))
}

fn cached_verdict(p: &[u8; NUM_BYTES]) -> Option<PrimeVerdict> {
    if *p == TELEGRAM_P {
        return Some(PrimeVerdict::Safe);
    }
    let cache = prime_cache().lock().unwrap_or_else(PoisonError::into_inner);
    if cache.safe.contains(p) {
        Some(PrimeVerdict::Safe)
    } else {
        cache.rejected.get(p).copied()
    }
}

fn remember_verdict(p: &[u8; NUM_BYTES], verdict: PrimeVerdict) {
    let mut cache = prime_cache().lock().unwrap_or_else(PoisonError::into_inner);
    match verdict {
        PrimeVerdict::Safe if cache.safe.len() < SAFE_PRIME_CACHE_CAPACITY => {
            cache.safe.insert(*p);
        }
        PrimeVerdict::NotPrime | PrimeVerdict::NotSafe
            if cache.rejected.len() < REJECTED_PRIME_CACHE_CAPACITY =>
        {
            cache.rejected.insert(*p, verdict);
        }
        _ => {}
    }
}

/// `p` as exactly 256 bytes with the top bit set, or [`SrpError::PrimeWrongSize`].
pub(super) fn prime_bytes(p: &[u8]) -> Result<&[u8; NUM_BYTES], SrpError> {
    match <&[u8; NUM_BYTES]>::try_from(p) {
        Ok(bytes) if bytes[0] & 0x80 != 0 => Ok(bytes),
        _ => Err(SrpError::PrimeWrongSize {
            len: p.len(),
            bits: bit_length(p),
        }),
    }
}

/// Bit length of a big-endian number.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        Some(first) => {
            let significant = bytes.len() - first;
            let top = bytes.get(first).copied().unwrap_or(0);
            significant * 8 - top.leading_zeros() as usize
        }
        None => 0,
    }
}

/// `n mod m` for a big-endian number and a small modulus.
fn small_mod(bytes: &[u8], m: u32) -> u32 {
    bytes
        .iter()
        .fold(0u32, |r, &b| (r * 256 + u32::from(b)) % m)
}

/// Whether `g` generates the subgroup of prime order `(p − 1) / 2`, by quadratic reciprocity on `p
/// mod 4g`.
fn residue_ok(p: &[u8], g: i32) -> bool {
    match g {
        2 => small_mod(p, 8) == 7,
        3 => small_mod(p, 3) == 2,
        4 => true,
        5 => matches!(small_mod(p, 5), 1 | 4),
        6 => matches!(small_mod(p, 24), 19 | 23),
        7 => matches!(small_mod(p, 7), 3 | 5 | 6),
        _ => false,
    }
}

/// The checks that need no primality test: size of `p`, range of `g`, residue of `p` modulo `4g`.
fn check_shape(p: &[u8], g: i32) -> Result<&[u8; NUM_BYTES], SrpError> {
    let p = prime_bytes(p)?;
    if !(2..=7).contains(&g) {
        return Err(SrpError::GeneratorOutOfRange { g });
    }
    if !residue_ok(p, g) {
        return Err(SrpError::GeneratorResidue { g });
    }
    Ok(p)
}

/// Runs the primality tests (Miller–Rabin base 2 plus a strong Lucas test, i.e. BPSW, from
/// `crypto-primes`) on `p` and `(p − 1) / 2`, bypassing the cache.
fn test_primality(p: &[u8; NUM_BYTES]) -> PrimeVerdict {
    let n = U2048::from_be_slice(p);
    if !crypto_primes::is_prime(Flavor::Any, &n) {
        PrimeVerdict::NotPrime
    } else if !crypto_primes::is_prime(Flavor::Any, &n.shr_vartime(1)) {
        PrimeVerdict::NotSafe
    } else {
        PrimeVerdict::Safe
    }
}

/// Checks that `(p, g)` are acceptable SRP (or Diffie–Hellman) parameters, as strictly as TDLib
/// does: `p` is a 2048-bit safe prime (256 bytes, top bit set) and `g ∈ 2..=7` generates the
/// subgroup of order `(p − 1) / 2`.
///
/// The verdict of the primality tests is remembered process-wide, so each prime is tested once (the
/// first test of a 2048-bit safe prime takes some tens of milliseconds); Telegram's [`TELEGRAM_P`]
/// is known without a test.
pub fn validate_prime(p: &[u8], g: i32) -> Result<(), SrpError> {
    let p = check_shape(p, g)?;
    if let Some(verdict) = cached_verdict(p) {
        return verdict.into_result();
    }
    let verdict = test_primality(p);
    tracing::debug!(?verdict, g, "tested a new SRP prime");
    remember_verdict(p, verdict);
    verdict.into_result()
}

/// Whether [`validate_prime`]`(p, g)` would succeed without running a primality test: `p` and `g`
/// have the right shape and `p` is Telegram's prime or was already found to be a safe prime in this
/// process.
pub fn is_prime_cached(p: &[u8], g: i32) -> bool {
    match check_shape(p, g) {
        Ok(p) => cached_verdict(p) == Some(PrimeVerdict::Safe),
        Err(_) => false,
    }
}

// -------------------------------------------------------------------------------------------------
// Shared primitives
// -------------------------------------------------------------------------------------------------

/// Decodes 512 hex digits at compile time.
pub(super) const fn decode_hex_256(hex: &str) -> [u8; NUM_BYTES] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("invalid hex digit"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * NUM_BYTES, "expected 512 hex digits");
    let mut out = [0u8; NUM_BYTES];
    let mut i = 0;
    while i < NUM_BYTES {
        out[i] = digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srp::TELEGRAM_G;

    #[test]
    fn telegram_prime_is_a_safe_prime_with_g3() {
        assert_eq!(test_primality(&TELEGRAM_P), PrimeVerdict::Safe);
        assert!(residue_ok(&TELEGRAM_P, TELEGRAM_G));
        assert_eq!(bit_length(&TELEGRAM_P), 2048);
        assert!(is_prime_cached(&TELEGRAM_P, TELEGRAM_G));
    }

    #[test]
    fn bit_length_and_small_mod() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(small_mod(&[1, 0], 7), 256 % 7);
        assert_eq!(small_mod(&TELEGRAM_P, 3), 2);
    }
}
