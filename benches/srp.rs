//! 2FA SRP client cost, side by side on the same inputs:
//! - `tgpay::srp::check_password_with_random` with Telegram's (cached) prime;
//! - `grammers_crypto::two_factor_auth::calculate_2fa`;
//! - a bare PBKDF2-HMAC-SHA512 with 100 000 iterations (the floor: every SRP client must pay it).
//!
//! Run with `cargo bench --bench srp`. Targets: tgpay ≤ grammers and tgpay ≤ 1.10 × bare PBKDF2.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use grammers_tl_types::enums;
use sha2::Sha512;
use tgpay::srp::{self, TELEGRAM_G, TELEGRAM_P};
use tgpay_sandbox::srp::PasswordRecord;

const SECRET: &[u8] = b"correct horse battery staple";

fn inputs() -> (grammers_tl_types::types::account::Password, [u8; 256]) {
    let salt1: Vec<u8> = (0u8..40)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let salt2: Vec<u8> = (0u8..16)
        .map(|i| i.wrapping_mul(91).wrapping_add(5))
        .collect();
    let record = PasswordRecord::with_salts(SECRET, &salt1, &salt2);
    let mut b = [0u8; 256];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(167).wrapping_add(3);
    }
    let challenge = match record.issue(7, &b) {
        Ok(challenge) => challenge,
        Err(err) => panic!("benchmark inputs: {err}"),
    };
    let mut a = [0u8; 256];
    for (i, byte) in a.iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(113).wrapping_add(29);
    }
    (record.account_password(&challenge), a)
}

fn bench_srp(c: &mut Criterion) {
    let (password, a) = inputs();
    assert!(
        srp::is_prime_cached(&TELEGRAM_P, TELEGRAM_G),
        "Telegram's prime is built into the cache"
    );
    let Some(enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) =
        password.current_algo.clone()
    else {
        panic!("benchmark inputs: unexpected algorithm");
    };
    let g_b = password.srp_b.clone().unwrap_or_default();

    // Same inputs give the same answer on both implementations.
    if let Ok(enums::InputCheckPasswordSrp::Srp(ours)) =
        srp::check_password_with_random(&password, SECRET, &a)
    {
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &algo.salt1,
            &algo.salt2,
            &algo.p,
            &algo.g,
            g_b.clone(),
            a.to_vec(),
            SECRET,
        );
        assert_eq!(ours.m1, m1.to_vec());
        assert_eq!(ours.a, g_a.to_vec());
    } else {
        panic!("benchmark inputs rejected");
    }

    let mut group = c.benchmark_group("srp");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(12));
    group.warm_up_time(Duration::from_secs(2));

    group.bench_function("tgpay_check_password_with_random", |bench| {
        bench.iter(|| {
            srp::check_password_with_random(black_box(&password), black_box(SECRET), black_box(&a))
        })
    });
    group.bench_function("grammers_calculate_2fa", |bench| {
        bench.iter(|| {
            grammers_crypto::two_factor_auth::calculate_2fa(
                black_box(&algo.salt1),
                black_box(&algo.salt2),
                black_box(&algo.p),
                black_box(&algo.g),
                g_b.clone(),
                a.to_vec(),
                black_box(SECRET),
            )
        })
    });
    group.bench_function("pbkdf2_hmac_sha512_100000", |bench| {
        let key = [0x5au8; 32];
        bench.iter(|| {
            let mut out = [0u8; 64];
            pbkdf2::pbkdf2_hmac::<Sha512>(
                black_box(&key),
                black_box(&algo.salt1),
                100_000,
                &mut out,
            );
            out
        })
    });
    group.finish();
}

criterion_group!(benches, bench_srp);
criterion_main!(benches);
