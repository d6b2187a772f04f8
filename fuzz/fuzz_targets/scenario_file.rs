//! Fuzz target: `tgpay_sandbox::fuzzing::scenario_file` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay_sandbox::fuzzing::scenario_file(data));
