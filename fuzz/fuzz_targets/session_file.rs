//! Fuzz target: `tgpay_cli::fuzzing::session_file` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay_cli::fuzzing::session_file(data));
