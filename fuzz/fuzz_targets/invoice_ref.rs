//! Fuzz target: `tgpay::fuzzing::invoice_ref` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tgpay::fuzzing::invoice_ref(data));
