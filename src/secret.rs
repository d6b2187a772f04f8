//! [`Secret`]: a value that never shows itself and is wiped from memory when dropped.
//!
//! Temporary payment passwords, 2FA passwords, payment-credential JSON and card data are held
//! in a `Secret`. Its `Debug` and `Display` print `[REDACTED]`, or `[REDACTED: <hint>]` when the
//! owner supplied a hint that is safe to show (a card's brand and last four digits, say);
//! [`Secret::expose`] is the one way to read the value. On drop the value is overwritten with
//! zeros ([`zeroize`]).
//!
//! ```
//! use tgpay::secret::SecretString;
//!
//! let password = SecretString::new("hunter2".to_owned());
//! assert_eq!(format!("{password:?}"), "[REDACTED]");
//! assert_eq!(password.to_string(), "[REDACTED]");
//! assert_eq!(password.expose(), "hunter2");
//!
//! let card = SecretString::with_hint("4242424242424242".to_owned(), "visa *4242");
//! assert_eq!(format!("{card:?}"), "[REDACTED: visa *4242]");
//! ```
//!
//! Copies the program makes on the way in (a `&str` the caller parsed, the TL request that
//! finally carries the value to Telegram) are outside the wrapper's reach: keep them short-lived.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A value that prints as `[REDACTED]` and is zeroized on drop.
pub struct Secret<T: Zeroize> {
    value: T,
    hint: Option<String>,
}

/// A secret text: a password, a JSON document with payment credentials.
pub type SecretString = Secret<String>;

/// Secret bytes: a temporary payment password, key material.
pub type SecretBytes = Secret<Vec<u8>>;

impl<T: Zeroize> Secret<T> {
    /// Wraps `value`; it prints as `[REDACTED]`.
    pub fn new(value: T) -> Self {
        Secret { value, hint: None }
    }

    /// Wraps `value` with a hint that is safe to show (`visa *4242`); it prints as
    /// `[REDACTED: visa *4242]`. The hint must not reveal the secret.
    pub fn with_hint(value: T, hint: impl Into<String>) -> Self {
        Secret {
            value,
            hint: Some(hint.into()),
        }
    }

    /// The secret value. Do not log it.
    pub fn expose(&self) -> &T {
        &self.value
    }

    /// The hint shown instead of the value, if the owner supplied one.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    /// [`Secret::new`].
    fn from(value: T) -> Self {
        Secret::new(value)
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    /// A second copy of the secret, zeroized on its own drop.
    fn clone(&self) -> Self {
        Secret {
            value: self.value.clone(),
            hint: self.hint.clone(),
        }
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl<T: Zeroize> ZeroizeOnDrop for Secret<T> {}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    /// `[REDACTED]` or `[REDACTED: <hint>]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    /// `[REDACTED]` or `[REDACTED: <hint>]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.hint {
            Some(hint) => write!(f, "[REDACTED: {hint}]"),
            None => f.write_str("[REDACTED]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_in_debug_display_and_nested_debug() {
        let bytes = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(format!("{bytes:?}"), "[REDACTED]");
        assert_eq!(format!("{bytes:#?}"), "[REDACTED]");
        assert_eq!(bytes.expose(), &[1, 2, 3]);

        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            password: SecretString,
        }
        let holder = Holder {
            password: "correct horse".to_owned().into(),
        };
        let shown = format!("{holder:?}");
        assert!(!shown.contains("correct"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
    }

    #[test]
    fn hint_is_shown_and_clone_keeps_it() {
        let card = SecretString::with_hint("4000056655665556".to_owned(), "visa *5556");
        let copy = card.clone();
        assert_eq!(copy.to_string(), "[REDACTED: visa *5556]");
        assert_eq!(copy.hint(), Some("visa *5556"));
        assert_eq!(copy.expose(), card.expose());
    }
}
