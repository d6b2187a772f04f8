//! Fuzz target: `tgpay::fuzzing::tl_answer` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::tl_answer(data));
