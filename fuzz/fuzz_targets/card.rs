//! Fuzz target: `tgpay::fuzzing::card` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::card(data));
