//! Fuzz target: `tgpay::fuzzing::credentials` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::credentials(data));
