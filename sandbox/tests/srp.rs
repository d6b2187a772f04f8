//! 2FA SRP: known-answer vectors from an independent implementation
//! (`tests/data/srp/gen_vectors.py`), a cross-check against grammers-crypto, client ⇄ server round
//! trips, and every malicious parameter rejected with its own error.

use grammers_tl_types::{enums, types};
use serde_json::Value;
use tgpay::srp::{
    self, SrpError, TELEGRAM_G, TELEGRAM_P, check_password, check_password_with_random,
    is_prime_cached, validate_prime,
};
use tgpay_sandbox::srp::PasswordRecord;

const VECTORS: &str = include_str!("data/srp/vectors.json");

fn data() -> Value {
    serde_json::from_str(VECTORS).expect("vectors.json is valid JSON")
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn field(v: &Value, name: &str) -> Vec<u8> {
    unhex(
        v[name]
            .as_str()
            .unwrap_or_else(|| panic!("missing field {name}")),
    )
}

fn arr256(bytes: &[u8]) -> [u8; 256] {
    bytes.try_into().expect("256 bytes")
}

/// A small deterministic generator for test inputs (not for secrets).
struct TestRng(u64);

impl TestRng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn array256(&mut self) -> [u8; 256] {
        arr256(&self.bytes(256))
    }
}

impl rand::TryRng for TestRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next() as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for byte in dst {
            *byte = self.next() as u8;
        }
        Ok(())
    }
}

impl rand::TryCryptoRng for TestRng {}

fn account_password(
    salt1: &[u8],
    salt2: &[u8],
    p: &[u8],
    g: i32,
    srp_b: &[u8],
    srp_id: i64,
) -> types::account::Password {
    let algo = enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
        types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
            salt1: salt1.to_vec(),
            salt2: salt2.to_vec(),
            g,
            p: p.to_vec(),
        },
    );
    types::account::Password {
        has_recovery: false,
        has_secure_values: false,
        has_password: true,
        current_algo: Some(algo.clone()),
        srp_b: Some(srp_b.to_vec()),
        srp_id: Some(srp_id),
        hint: None,
        email_unconfirmed_pattern: None,
        new_algo: algo,
        new_secure_algo: enums::SecurePasswordKdfAlgo::Unknown,
        secure_random: vec![0; 32],
        pending_reset_date: None,
        login_email_pattern: None,
    }
}

fn vector_password(v: &Value) -> types::account::Password {
    account_password(
        &field(v, "salt1"),
        &field(v, "salt2"),
        &field(v, "p"),
        v["g"].as_i64().expect("g") as i32,
        &field(v, "srp_B"),
        v["srp_id"].as_i64().expect("srp_id"),
    )
}

fn srp_check(result: enums::InputCheckPasswordSrp) -> types::InputCheckPasswordSrp {
    match result {
        enums::InputCheckPasswordSrp::Srp(check) => check,
        enums::InputCheckPasswordSrp::InputCheckPasswordEmpty => panic!("expected an SRP check"),
    }
}

/// The first vector (ASCII password, Telegram's prime): a valid `account.password` to corrupt.
fn base() -> (types::account::Password, Vec<u8>, [u8; 256]) {
    let d = data();
    let v = &d["vectors"][0];
    (
        vector_password(v),
        field(v, "password_hex"),
        arr256(&field(v, "a")),
    )
}

fn set_algo(password: &mut types::account::Password, p: &[u8], g: i32) {
    if let Some(enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) =
        password.current_algo.as_mut()
    {
        algo.p = p.to_vec();
        algo.g = g;
    } else {
        panic!("base vector has the SRP algorithm");
    }
}

fn client_err(password: &types::account::Password, secret: &[u8], a: &[u8; 256]) -> SrpError {
    match check_password_with_random(password, secret, a) {
        Ok(_) => panic!("expected an error"),
        Err(err) => err,
    }
}

/// Big-endian add/subtract on 256-byte numbers (the tests need p ± small, p − 2^1984, …).
fn add_small(n: &[u8; 256], k: u8) -> [u8; 256] {
    let mut out = *n;
    let mut carry = u16::from(k);
    for byte in out.iter_mut().rev() {
        let sum = u16::from(*byte) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "overflow");
    out
}

fn sub(n: &[u8; 256], m: &[u8; 256]) -> [u8; 256] {
    let mut out = [0u8; 256];
    let mut borrow = 0i16;
    for i in (0..256).rev() {
        let mut diff = i16::from(n[i]) - i16::from(m[i]) - borrow;
        borrow = 0;
        if diff < 0 {
            diff += 256;
            borrow = 1;
        }
        out[i] = diff as u8;
    }
    assert_eq!(borrow, 0, "underflow");
    out
}

fn small(k: u8) -> [u8; 256] {
    let mut out = [0u8; 256];
    out[255] = k;
    out
}

/// 2^(2048 − 64) as 256 bytes.
fn margin() -> [u8; 256] {
    let mut out = [0u8; 256];
    out[255 - 1984 / 8] = 1;
    out
}

// -------------------------------------------------------------------------------------------------
// Known answers
// -------------------------------------------------------------------------------------------------

#[test]
fn known_answer_vectors_client_and_server() {
    let d = data();
    let vectors = d["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 6);
    for v in vectors {
        let name = v["name"].as_str().expect("name");
        let password = vector_password(v);
        let secret = field(v, "password_hex");
        let a = arr256(&field(v, "a"));
        let b = arr256(&field(v, "b"));
        let srp_id = v["srp_id"].as_i64().expect("srp_id");

        // Client: g_a and M1 exactly.
        let check = srp_check(
            check_password_with_random(&password, &secret, &a)
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        assert_eq!(check.srp_id, srp_id, "{name}");
        assert_eq!(check.a, field(v, "g_a"), "{name}: g_a");
        assert_eq!(check.m1, field(v, "m1"), "{name}: M1");

        // Server: the same record issues the same srp_B and accepts the client's check.
        let g = v["g"].as_i64().expect("g") as i32;
        let record = PasswordRecord::with_params(
            &secret,
            &field(v, "salt1"),
            &field(v, "salt2"),
            &field(v, "p"),
            g,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let challenge = record
            .issue(srp_id, &b)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            challenge.srp_b().to_vec(),
            field(v, "srp_B"),
            "{name}: srp_B"
        );
        assert_eq!(challenge.srp_id(), srp_id);
        challenge
            .verify(&record, &enums::InputCheckPasswordSrp::Srp(check.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        // The account.password the server would send is what the vector describes.
        let sent = record.account_password(&challenge);
        assert_eq!(sent.current_algo, password.current_algo, "{name}");
        assert_eq!(sent.srp_b, password.srp_b, "{name}");
        assert_eq!(sent.srp_id, password.srp_id, "{name}");
        assert!(sent.has_password);

        // And grammers-crypto computes the same on the same inputs.
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &field(v, "salt1"),
            &field(v, "salt2"),
            &field(v, "p"),
            &g,
            field(v, "srp_B"),
            a.to_vec(),
            &secret,
        );
        assert_eq!(m1.to_vec(), check.m1, "{name}: grammers M1");
        assert_eq!(g_a.to_vec(), check.a, "{name}: grammers g_a");
    }
}

#[test]
fn vectors_cover_the_edge_cases() {
    let d = data();
    let names: Vec<&str> = d["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for wanted in ["empty-password", "utf8", "empty-salts", "other-prime-g5"] {
        assert!(names.contains(&wanted), "missing vector {wanted}");
    }
    let utf8 = d["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|v| v["name"] == "utf8")
        .expect("utf8 vector");
    let secret = field(utf8, "password_hex");
    assert!(!std::str::from_utf8(&secret).expect("UTF-8").is_ascii());
    assert_eq!(field(&d, "telegram_p"), TELEGRAM_P.to_vec());
}

#[test]
fn matches_grammers_on_random_inputs() {
    let mut rng = TestRng(0x5eed);
    let record = PasswordRecord::new(b"grammers cross-check", &mut rng);
    let challenge = record.issue_random(42, &mut rng).expect("issue");
    let password = record.account_password(&challenge);
    let a = rng.array256();
    let ours = srp_check(
        check_password_with_random(&password, b"grammers cross-check", &a).expect("check"),
    );
    let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
        record.salt1(),
        record.salt2(),
        record.p(),
        &record.g(),
        challenge.srp_b().to_vec(),
        a.to_vec(),
        b"grammers cross-check",
    );
    assert_eq!(ours.m1, m1.to_vec());
    assert_eq!(ours.a, g_a.to_vec());
    challenge
        .verify(&record, &enums::InputCheckPasswordSrp::Srp(ours))
        .expect("verify");
}

// -------------------------------------------------------------------------------------------------
// Round trips
// -------------------------------------------------------------------------------------------------

#[test]
fn round_trip_with_os_randomness_and_wrong_password() {
    let mut rng = TestRng(7);
    let record = PasswordRecord::new("pässwörd".as_bytes(), &mut rng).with_hint("umlauts");
    assert_eq!(record.hint(), Some("umlauts"));
    assert_eq!((record.salt1().len(), record.salt2().len()), (40, 16));
    assert_eq!((record.p(), record.g()), (&TELEGRAM_P, TELEGRAM_G));
    let challenge = record.issue_random(1234, &mut rng).expect("issue");
    let password = record.account_password(&challenge);
    assert_eq!(password.hint.as_deref(), Some("umlauts"));

    let good = check_password(&password, "pässwörd".as_bytes()).expect("check");
    challenge
        .verify(&record, &good)
        .expect("right password accepted");

    // Two checks use different random a.
    let again = srp_check(check_password(&password, "pässwörd".as_bytes()).expect("check"));
    assert_ne!(srp_check(good).a, again.a);

    let bad = check_password(&password, "passwörd".as_bytes()).expect("check");
    let err = challenge
        .verify(&record, &bad)
        .expect_err("wrong password rejected");
    assert_eq!(err, SrpError::PasswordMismatch);
    assert_eq!(err.rpc_error_name(), Some("PASSWORD_HASH_INVALID"));
}

#[test]
fn server_rejects_bad_checks() {
    let mut rng = TestRng(99);
    let record = PasswordRecord::with_salts(b"secret", b"salt one", b"salt two");
    let challenge = record.issue(5, &rng.array256()).expect("issue");
    let password = record.account_password(&challenge);
    let check = srp_check(
        check_password_with_random(&password, b"secret", &rng.array256()).expect("check"),
    );
    challenge
        .verify(&record, &enums::InputCheckPasswordSrp::Srp(check.clone()))
        .expect("valid check");

    let verify = |c: types::InputCheckPasswordSrp| {
        challenge.verify(&record, &enums::InputCheckPasswordSrp::Srp(c))
    };

    // srp_id mismatch.
    let err = verify(types::InputCheckPasswordSrp {
        srp_id: 6,
        ..check.clone()
    })
    .expect_err("srp_id");
    assert_eq!(
        err,
        SrpError::SrpIdMismatch {
            expected: 5,
            got: 6
        }
    );
    assert_eq!(err.rpc_error_name(), Some("SRP_ID_INVALID"));

    // A malformed or out of range.
    let p = TELEGRAM_P;
    let p_minus_1 = sub(&p, &small(1));
    let cases: Vec<(Vec<u8>, SrpError)> = vec![
        (vec![], SrpError::GaOutOfRange),
        (vec![1], SrpError::GaOutOfRange),
        (vec![0; 300], SrpError::GaWrongLength { len: 300 }),
        (p.to_vec(), SrpError::GaOutOfRange),
        (p_minus_1.to_vec(), SrpError::GaOutOfRange),
        (vec![3], SrpError::GaTooCloseToBounds),
        (sub(&p, &small(2)).to_vec(), SrpError::GaTooCloseToBounds),
        (vec![0xff; 256], SrpError::GaOutOfRange),
    ];
    for (a, expected) in cases {
        let err = verify(types::InputCheckPasswordSrp {
            a: a.clone(),
            ..check.clone()
        })
        .expect_err("bad A");
        assert_eq!(err, expected, "A of {} bytes", a.len());
        assert_eq!(err.rpc_error_name(), Some("SRP_A_INVALID"));
    }

    // M1 of the wrong length, or flipped.
    for len in [0, 31, 33, 64] {
        let err = verify(types::InputCheckPasswordSrp {
            m1: vec![0; len],
            ..check.clone()
        })
        .expect_err("M1 length");
        assert_eq!(err, SrpError::M1WrongLength { len });
    }
    let mut flipped = check.m1.clone();
    flipped[0] ^= 1;
    assert_eq!(
        verify(types::InputCheckPasswordSrp {
            m1: flipped,
            ..check.clone()
        }),
        Err(SrpError::PasswordMismatch)
    );

    // inputCheckPasswordEmpty for an account with a password.
    let err = challenge
        .verify(
            &record,
            &enums::InputCheckPasswordSrp::InputCheckPasswordEmpty,
        )
        .expect_err("empty");
    assert_eq!(err, SrpError::EmptyPasswordCheck);

    // A check issued for another challenge (new b, same srp_id) does not verify.
    let other = record.issue(5, &rng.array256()).expect("issue");
    assert_eq!(
        other.verify(&record, &enums::InputCheckPasswordSrp::Srp(check)),
        Err(SrpError::PasswordMismatch)
    );
}

// -------------------------------------------------------------------------------------------------
// Malicious account.password
// -------------------------------------------------------------------------------------------------

#[test]
fn rejects_wrong_shape_of_account_password() {
    let (password, secret, a) = base();

    let mut p = password.clone();
    p.has_password = false;
    assert_eq!(client_err(&p, &secret, &a), SrpError::NoPassword);

    let mut p = password.clone();
    p.current_algo = None;
    assert_eq!(client_err(&p, &secret, &a), SrpError::MissingAlgorithm);

    let mut p = password.clone();
    p.current_algo = Some(enums::PasswordKdfAlgo::Unknown);
    assert_eq!(client_err(&p, &secret, &a), SrpError::UnsupportedAlgorithm);

    let mut p = password.clone();
    p.srp_b = None;
    assert_eq!(client_err(&p, &secret, &a), SrpError::MissingSrpB);

    let mut p = password.clone();
    p.srp_id = None;
    assert_eq!(client_err(&p, &secret, &a), SrpError::MissingSrpId);

    // check_password (random a) fails the same way.
    let mut p = password;
    p.has_password = false;
    assert_eq!(check_password(&p, &secret), Err(SrpError::NoPassword));
}

#[test]
fn rejects_bad_primes() {
    let d = data();
    let (password, secret, a) = base();
    let with_p = |p: &[u8], g: i32| {
        let mut pw = password.clone();
        set_algo(&mut pw, p, g);
        client_err(&pw, &secret, &a)
    };

    // Wrong size (TELEGRAM_P[1] = 0x1c, so dropping the first byte leaves 2037 bits).
    assert_eq!(with_p(&[], 3), SrpError::PrimeWrongSize { len: 0, bits: 0 });
    assert_eq!(
        with_p(&TELEGRAM_P[1..], 3),
        SrpError::PrimeWrongSize {
            len: 255,
            bits: 2037
        }
    );
    let mut long = vec![0u8];
    long.extend_from_slice(&TELEGRAM_P);
    assert_eq!(
        with_p(&long, 3),
        SrpError::PrimeWrongSize {
            len: 257,
            bits: 2048
        }
    );
    let mut top_clear = TELEGRAM_P;
    top_clear[0] &= 0x7f;
    assert!(matches!(
        with_p(&top_clear, 3),
        SrpError::PrimeWrongSize {
            len: 256,
            bits: 2047
        }
    ));
    let mut huge = vec![0xffu8; 4096];
    huge[0] = 0x80;
    assert!(matches!(
        with_p(&huge, 3),
        SrpError::PrimeWrongSize { len: 4096, .. }
    ));

    // Composite, and prime but not safe (both pass the g = 3 residue rule, so primality is what
    // fails).
    let composite = field(&d, "composite_p_g3");
    assert_eq!(with_p(&composite, 3), SrpError::PrimeNotPrime);
    assert_eq!(validate_prime(&composite, 3), Err(SrpError::PrimeNotPrime));
    let not_safe = field(&d, "prime_not_safe_p_g3");
    assert_eq!(with_p(&not_safe, 3), SrpError::PrimeNotSafe);
    assert_eq!(validate_prime(&not_safe, 3), Err(SrpError::PrimeNotSafe));
    assert!(!is_prime_cached(&composite, 3));
    assert!(!is_prime_cached(&not_safe, 3));
}

#[test]
fn rejects_bad_generators() {
    let (password, secret, a) = base();
    let with_p = |p: &[u8], g: i32| {
        let mut pw = password.clone();
        set_algo(&mut pw, p, g);
        client_err(&pw, &secret, &a)
    };

    for g in [i32::MIN, -3, 0, 1, 8, 256, i32::MAX] {
        assert_eq!(with_p(&TELEGRAM_P, g), SrpError::GeneratorOutOfRange { g });
        assert_eq!(
            validate_prime(&TELEGRAM_P, g),
            Err(SrpError::GeneratorOutOfRange { g })
        );
    }

    // Telegram's prime: p mod 8 = 3, p mod 5 = 3, p mod 24 = 11 — so g = 2, 5, 6 are wrong for it.
    for g in [2, 5, 6] {
        assert_eq!(with_p(&TELEGRAM_P, g), SrpError::GeneratorResidue { g });
        assert!(!is_prime_cached(&TELEGRAM_P, g));
    }
    // No safe prime fails the g = 3 rule and ours pass g = 7, so use p + 2 (≡ 1 mod 3, ≡ 1 mod 7):
    // the residue check comes before the primality test.
    let p_plus_2 = add_small(&TELEGRAM_P, 2);
    assert_eq!(with_p(&p_plus_2, 3), SrpError::GeneratorResidue { g: 3 });
    assert_eq!(with_p(&p_plus_2, 7), SrpError::GeneratorResidue { g: 7 });

    // The valid generators for Telegram's prime pass.
    for g in [3, 4, 7] {
        assert_eq!(validate_prime(&TELEGRAM_P, g), Ok(()));
        assert!(is_prime_cached(&TELEGRAM_P, g));
    }
}

#[test]
fn rejects_bad_srp_b() {
    let (password, secret, a) = base();
    let with_b = |b: &[u8]| {
        let mut pw = password.clone();
        pw.srp_b = Some(b.to_vec());
        check_password_with_random(&pw, &secret, &a)
    };
    let p = TELEGRAM_P;
    let m = margin();

    let mut too_long = vec![0u8];
    too_long.extend_from_slice(&password.srp_b.clone().expect("srp_B"));
    let out_of_range: Vec<(&str, Vec<u8>, SrpError)> = vec![
        ("empty", vec![], SrpError::SrpBOutOfRange),
        ("0", vec![0], SrpError::SrpBOutOfRange),
        ("0 padded", vec![0; 256], SrpError::SrpBOutOfRange),
        ("1", vec![1], SrpError::SrpBOutOfRange),
        (
            "p - 1",
            sub(&p, &small(1)).to_vec(),
            SrpError::SrpBOutOfRange,
        ),
        ("p", p.to_vec(), SrpError::SrpBOutOfRange),
        ("p + 1", add_small(&p, 1).to_vec(), SrpError::SrpBOutOfRange),
        ("2^2048 - 1", vec![0xff; 256], SrpError::SrpBOutOfRange),
        (
            "257 bytes",
            too_long,
            SrpError::SrpBWrongLength { len: 257 },
        ),
        ("2", vec![2], SrpError::SrpBTooCloseToBounds),
        (
            "2^1984 - 1",
            sub(&m, &small(1)).to_vec(),
            SrpError::SrpBTooCloseToBounds,
        ),
        (
            "p - 2^1984 + 1",
            add_small(&sub(&p, &m), 1).to_vec(),
            SrpError::SrpBTooCloseToBounds,
        ),
        (
            "p - 2",
            sub(&p, &small(2)).to_vec(),
            SrpError::SrpBTooCloseToBounds,
        ),
    ];
    for (name, b, expected) in out_of_range {
        assert_eq!(with_b(&b).err(), Some(expected), "srp_B = {name}");
    }

    // The bounds themselves are allowed, also without padding.
    assert!(with_b(&m).is_ok(), "srp_B = 2^1984");
    assert!(
        with_b(&m[255 - 1984 / 8..]).is_ok(),
        "srp_B = 2^1984 unpadded"
    );
    assert!(with_b(&sub(&p, &m)).is_ok(), "srp_B = p - 2^1984");
}

#[test]
fn rejects_degenerate_a() {
    let (password, secret, _) = base();
    // a = 0 gives g_a = 1; a = (p − 1) / 2 gives g_a = 1 as g = 3 generates the subgroup of that
    // order.
    assert_eq!(
        client_err(&password, &secret, &[0u8; 256]),
        SrpError::GaOutOfRange
    );
    let mut q = [0u8; 256];
    let mut carry = 0u8;
    for (out, byte) in q.iter_mut().zip(TELEGRAM_P) {
        *out = (carry << 7) | (byte >> 1);
        carry = byte & 1;
    }
    assert_eq!(client_err(&password, &secret, &q), SrpError::GaOutOfRange);
    // a = 1 gives g_a = 3: in range but far too small.
    assert_eq!(
        client_err(&password, &secret, &small(1)),
        SrpError::GaTooCloseToBounds
    );
}

#[test]
fn never_panics_on_garbage() {
    let (password, secret, a) = base();
    let mut rng = TestRng(2024);
    for round in 0..64 {
        let mut pw = password.clone();
        let len = |rng: &mut TestRng| match rng.next() % 4 {
            0 => 0,
            1 => (rng.next() % 300) as usize,
            2 => 256,
            _ => 255,
        };
        let p_len = len(&mut rng);
        let mut p = rng.bytes(p_len);
        if round % 3 == 0 && p.len() == 256 {
            p = TELEGRAM_P.to_vec();
        }
        let g = (rng.next() % 10) as i32 - 1;
        set_algo(&mut pw, &p, g);
        let b_len = len(&mut rng);
        pw.srp_b = Some(rng.bytes(b_len));
        if let Some(enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            algo,
        )) = pw.current_algo.as_mut()
        {
            let (l1, l2) = (len(&mut rng), len(&mut rng));
            algo.salt1 = rng.bytes(l1);
            algo.salt2 = rng.bytes(l2);
        }
        // Any outcome but a panic is fine; the only way to succeed is Telegram's prime with a good
        // g and srp_B.
        if let Ok(check) = check_password_with_random(&pw, &secret, &a) {
            assert_eq!(p, TELEGRAM_P.to_vec());
            assert_eq!(srp_check(check).m1.len(), 32);
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Prime cache
// -------------------------------------------------------------------------------------------------

#[test]
fn prime_cache_remembers_a_new_safe_prime() {
    let d = data();
    // This prime is used by no other test, so nothing has cached it yet.
    let p = field(&d, "cache_test_safe_p");
    assert!(!is_prime_cached(&p, 3));
    assert_eq!(validate_prime(&p, 3), Ok(()));
    assert!(is_prime_cached(&p, 3));
    // The verdict is about p; any g with the right residue is served from the cache too.
    assert!(is_prime_cached(&p, 4));
    // Residue rules still apply (p mod 8 = 3 rules out g = 2; p mod 5 = 3 rules out g = 5).
    assert!(!is_prime_cached(&p, 2));
    assert_eq!(
        validate_prime(&p, 2),
        Err(SrpError::GeneratorResidue { g: 2 })
    );
    assert_eq!(
        validate_prime(&p, 5),
        Err(SrpError::GeneratorResidue { g: 5 })
    );
    // Second validation: served from the cache, same answer.
    assert_eq!(validate_prime(&p, 3), Ok(()));

    // Telegram's prime is built in.
    assert!(is_prime_cached(&TELEGRAM_P, TELEGRAM_G));
    // Wrong shapes are never "cached".
    assert!(!is_prime_cached(&p[1..], 3));
    assert!(!is_prime_cached(&p, 9));
}

// -------------------------------------------------------------------------------------------------
// Secrets stay out of Debug and errors
// -------------------------------------------------------------------------------------------------

#[test]
fn debug_output_redacts_secrets() {
    let d = data();
    let v = &d["vectors"][0];
    let secret = field(v, "password_hex");
    let b = arr256(&field(v, "b"));
    let verifier = field(v, "v");
    let record = PasswordRecord::with_salts(&secret, &field(v, "salt1"), &field(v, "salt2"));
    let challenge = record.issue(1, &b).expect("issue");

    let shown = format!("{record:?} {challenge:?}");
    assert!(shown.contains("redacted"));
    let secret_text = String::from_utf8(secret.clone()).expect("ASCII password");
    for needle in [
        secret_text.clone(),
        format!("{secret:?}"),
        format!("{:?}", &verifier[..8]),
        format!("{:?}", &b[..8]),
        v["v"].as_str().expect("v")[..16].to_string(),
    ] {
        assert!(!shown.contains(&needle), "Debug leaks {needle}");
    }

    // Errors carry no secret either.
    let err = challenge
        .verify(
            &record,
            &check_password(&record.account_password(&challenge), b"wrong").expect("check"),
        )
        .expect_err("wrong password");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&secret_text) && !text.contains("wrong\""));
}

#[test]
fn srp_module_constants() {
    assert_eq!(srp::PBKDF2_ITERATIONS, 100_000);
    assert_eq!(TELEGRAM_G, 3);
    assert_eq!(TELEGRAM_P[0], 0xc7);
    assert_eq!(TELEGRAM_P[255], 0x5b);
}
