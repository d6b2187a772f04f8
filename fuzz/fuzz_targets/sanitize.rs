//! Fuzz target: `tgpay::fuzzing::sanitize` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::sanitize(data));
