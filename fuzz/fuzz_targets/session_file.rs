//! Fuzz target: `tgpay::fuzzing::session_file` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::session_file(data));
