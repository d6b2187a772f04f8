//! Fuzz target: `tgpay::fuzzing::journal` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::journal(data));
