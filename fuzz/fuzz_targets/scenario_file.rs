//! Fuzz target: `tgpay::fuzzing::scenario_file` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::scenario_file(data));
