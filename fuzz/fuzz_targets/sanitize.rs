//! `tgpay::text::sanitize` on any text: nothing unsafe survives, clean text is unchanged,
//! sanitizing is idempotent, and every kept character is the input's own.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tgpay::text::{is_unsafe, sanitize, sanitize_lines};

fuzz_target!(|input: &str| {
    let shown = sanitize(input);
    assert!(!shown.chars().any(is_unsafe), "{input:?} -> {shown:?}");
    if !input.chars().any(is_unsafe) {
        assert_eq!(shown, input);
    }
    assert_eq!(sanitize(&shown), shown);
    // With the escapes removed, what is left is the input without its unsafe characters.
    let kept: String = input.chars().filter(|c| !is_unsafe(*c)).collect();
    assert!(shown.len() >= kept.len());
    for line in sanitize_lines(input) {
        assert!(!line.chars().any(is_unsafe), "{input:?} -> {line:?}");
    }
});
