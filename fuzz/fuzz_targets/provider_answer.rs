//! Fuzz target: `tgpay::fuzzing::provider_answer` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::provider_answer(data));
