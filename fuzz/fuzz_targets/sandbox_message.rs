//! Fuzz target: `tgpay::fuzzing::sandbox_message` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::sandbox_message(data));
