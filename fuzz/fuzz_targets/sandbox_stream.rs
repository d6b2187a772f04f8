//! Fuzz target: `tgpay::fuzzing::sandbox_stream` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::sandbox_stream(data));
