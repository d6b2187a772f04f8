//! Showing text that a bot, a server or a payment provider wrote, in a terminal.
//!
//! Titles, descriptions, merchant names, price labels, shipping options, saved-card titles,
//! pre-checkout reasons and error messages come from people tgpay does not trust. Printed as
//! they are, a few characters in them would drive the terminal instead of being read: an
//! `ESC [ 8 m` that hides everything after it (the real total, the confirmation prompt), a
//! carriage return that overwrites a line, an OSC sequence that retitles the window or plants a
//! hyperlink, a BEL, or a right-to-left override that shows `$1,000.00` as something else.
//!
//! [`sanitize`] is the one function every such string goes through before tgpay shows it to a
//! person. It keeps all text as it is, letters and symbols of every script and emoji included,
//! and shows each character of these kinds as a visible escape instead:
//!
//! | Kind | Characters | Shown as |
//! |---|---|---|
//! | C0 controls and DEL | U+0000–U+001F, U+007F (NUL, BEL, BS, TAB, LF, CR, ESC, …) | `\t`, `\n`, `\r`; others `\u{1b}` |
//! | C1 controls | U+0080–U+009F (CSI U+009B, OSC U+009D, NEL U+0085, …) | `\u{9b}` |
//! | Line and paragraph separators | U+2028, U+2029 | `\u{2028}` |
//! | Bidirectional marks, embeddings, overrides and isolates | U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 | `\u{202e}` |
//! | Zero-width and other invisible format characters | U+00AD, U+180E, U+200B–U+200D, U+2060–U+2064, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFB, tags U+E0000–U+E007F, … (Unicode's `Cf` category) | `\u{200b}` |
//!
//! The escapes are printable ASCII, so sanitizing twice changes nothing more than sanitizing
//! once. JSON output needs none of this: serde escapes control characters itself, and scripts
//! get the exact text.
//!
//! ```
//! use tgpay::text::{Escaped, sanitize};
//!
//! assert_eq!(sanitize("Hoodie 🧥"), "Hoodie 🧥");
//! assert_eq!(sanitize("Total $1.00\n\x1b[8m"), "Total $1.00\\n\\u{1b}[8m");
//! assert_eq!(sanitize("\u{202e}00.1$"), "\\u{202e}00.1$");
//! // Display with padding, for tables:
//! assert_eq!(format!("[{:<8}]", Escaped("a\rb")), "[a\\rb    ]");
//! ```

use std::borrow::Cow;
use std::fmt;

/// Whether `c` is shown escaped by [`sanitize`]: a C0 or C1 control, DEL, a line or paragraph
/// separator, a bidirectional formatting character, or an invisible format character
/// (Unicode's `Cf` category, zero-width characters among them).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// Unicode's `Cf` (format) category, as of Unicode 16: invisible characters that change how
/// the text around them is shown (bidi controls, zero-width joiners and spaces, tags, …).
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Writes the escape of one unsafe character.
fn escape(c: char, out: &mut impl fmt::Write) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c => write!(out, "\\u{{{:x}}}", u32::from(c)),
    }
}

/// `text` as it may be shown in a terminal: unchanged when it holds nothing unsafe (see
/// [`is_unsafe`] and the module docs), otherwise with every unsafe character replaced by a
/// visible escape (`\n`, `\r`, `\t`, `\u{1b}`, `\u{202e}`, …).
pub fn sanitize(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(is_unsafe) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if is_unsafe(c) {
            // Writing to a String cannot fail.
            let _ = escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Untrusted multi-line text (an invoice's description) as lines to show: split at line
/// breaks (`\n`, `\r\n`), each line [`sanitize`]d, blank lines at either end dropped. A
/// carriage return or any other control inside a line stays escaped.
pub fn sanitize_lines(text: &str) -> Vec<Cow<'_, str>> {
    let mut lines: Vec<Cow<'_, str>> = text
        .split('\n')
        .map(|line| sanitize(line.strip_suffix('\r').unwrap_or(line)))
        .collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let blank = lines.iter().take_while(|l| l.trim().is_empty()).count();
    lines.drain(..blank);
    lines
}

/// Untrusted text for `format!`: displays as [`sanitize`] shows it, honouring width, fill and
/// alignment (`{:<28}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&sanitize(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers: what each kind of hostile string is shown as.
    #[test]
    fn known_answers() {
        for (input, shown) in [
            ("", ""),
            ("Sandbox Hoodie", "Sandbox Hoodie"),
            (
                "Füße, 価格, цена, 🧥👍🏽, ⭐️, 1 234,56 €",
                "Füße, 価格, цена, 🧥👍🏽, ⭐️, 1 234,56 €",
            ),
            ("Total $1.00\n\x1b[8m", "Total $1.00\\n\\u{1b}[8m"),
            ("\x1b]0;pwned\x07", "\\u{1b}]0;pwned\\u{7}"),
            (
                "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\",
                "\\u{1b}]8;;https://evil.test\\u{1b}\\click\\u{1b}]8;;\\u{1b}\\",
            ),
            ("paid\rPAID $0.01", "paid\\rPAID $0.01"),
            ("a\tb\0c\x7f", "a\\tb\\u{0}c\\u{7f}"),
            ("\u{9b}31m\u{9d}0;x\u{85}", "\\u{9b}31m\\u{9d}0;x\\u{85}"),
            ("\u{202e}00.1$\u{202c}", "\\u{202e}00.1$\\u{202c}"),
            (
                "\u{2066}x\u{2069}\u{2067}\u{2068}",
                "\\u{2066}x\\u{2069}\\u{2067}\\u{2068}",
            ),
            ("\u{200e}\u{200f}\u{061c}", "\\u{200e}\\u{200f}\\u{61c}"),
            (
                "pa\u{200b}y\u{200c}\u{200d}\u{2060}\u{feff}",
                "pa\\u{200b}y\\u{200c}\\u{200d}\\u{2060}\\u{feff}",
            ),
            ("line\u{2028}sep\u{2029}", "line\\u{2028}sep\\u{2029}"),
            ("soft\u{ad}hyphen\u{e0041}", "soft\\u{ad}hyphen\\u{e0041}"),
        ] {
            assert_eq!(sanitize(input), shown, "{input:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("Visa *4242"), Cow::Borrowed(_)));
        assert!(matches!(sanitize("Visa\x1b*4242"), Cow::Owned(_)));
    }

    #[test]
    fn every_control_and_format_character_is_escaped() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let shown = sanitize(c.encode_utf8(&mut [0; 4])).into_owned();
            if is_unsafe(c) {
                assert!(shown.starts_with('\\'), "{:x}", u32::from(c));
                assert!(shown.chars().all(|s| s.is_ascii_graphic()), "{shown}");
            } else {
                assert_eq!(shown, c.to_string());
            }
        }
        for c in [
            '\x1b', '\x07', '\x08', '\r', '\u{9b}', '\u{202e}', '\u{2069}', '\u{200b}',
        ] {
            assert!(is_unsafe(c), "{:x}", u32::from(c));
        }
        for c in ['a', ' ', '€', '⭐', '\u{fe0f}', '\u{a0}', '\u{202f}', '🧥'] {
            assert!(!is_unsafe(c), "{:x}", u32::from(c));
        }
    }

    #[test]
    fn sanitizing_twice_is_sanitizing_once() {
        let hostile = "\x1b[2J\u{202e}Total\r\n$0\u{200b}\u{9b}";
        let once = sanitize(hostile).into_owned();
        assert_eq!(sanitize(&once), once);
        assert!(!once.chars().any(is_unsafe));
    }

    #[test]
    fn lines_are_split_and_each_sanitized() {
        assert_eq!(
            sanitize_lines("\nFirst line\r\nSecond\x1b[8m line\n\n"),
            ["First line", "Second\\u{1b}[8m line"]
        );
        assert_eq!(sanitize_lines("a\rb"), ["a\\rb"]);
        assert!(sanitize_lines(" \n ").is_empty());
    }

    #[test]
    fn escaped_pads_what_is_shown() {
        assert_eq!(format!("{:<6}|", Escaped("ab")), "ab    |");
        assert_eq!(format!("{:>8}|", Escaped("\x07x")), "  \\u{7}x|");
        assert_eq!(Escaped("\u{202e}").to_string(), "\\u{202e}");
    }
}
