//! [`BrowserError`]: what went wrong in the browser relay.

use std::path::PathBuf;
use std::time::Duration;

use super::{CdpError, SandboxOff};
use crate::attempt::AmbiguousPayment;
use crate::credentials::CredentialsError;

/// What went wrong in the browser. Never contains card details or credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// No Chromium was found.
    #[error(
        "no Chromium was found (looked at $CHROME, then chromium, chromium-browser, \
         google-chrome and google-chrome-stable on PATH, then /usr/bin/chromium): install it \
         (`apt-get install chromium` on Debian and Ubuntu) or set CHROME to the browser's path"
    )]
    NotFound,
    /// A visible window was asked for, and there is no display to show it on.
    #[error(
        "a visible browser window needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is \
         set: run from a desktop session, or use a headless browser (BrowserOptions::headless)"
    )]
    NoDisplay,
    /// `CHROME` names no executable file.
    #[error(
        "CHROME is set to {value:?}, which is not an executable file: point it at Chromium or \
         Google Chrome, or unset it"
    )]
    ChromeEnvInvalid {
        /// The value of `CHROME`.
        value: String,
    },
    /// [`BrowserOptions::executable`](super::BrowserOptions::executable) is not an executable
    /// file.
    #[error("the browser {path:?} is not an executable file: give the path of Chromium")]
    ExecutableInvalid {
        /// The path given.
        path: PathBuf,
    },
    /// The sandbox was required ([`BrowserSandbox::On`](super::BrowserSandbox::On)) and cannot
    /// work here.
    #[error(
        "Chromium's sandbox cannot run here: {why}; or, knowing that the payment page then \
         runs with tgpay's own rights, turn it off (--browser-sandbox off, BrowserSandbox::Off)"
    )]
    SandboxUnavailable {
        /// Why.
        why: SandboxOff,
    },
    /// The temporary profile directory could not be made.
    #[error("could not make a private profile directory for Chromium: {source}")]
    Profile {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Chromium did not start, or did not answer on its DevTools pipe.
    #[error("Chromium ({path:?}) did not start: {reason}")]
    Launch {
        /// The browser that was run.
        path: PathBuf,
        /// Why, with the last lines Chromium printed.
        reason: String,
    },
    /// A DevTools command failed.
    #[error("the browser failed to {step} ({method}): {source}")]
    DevTools {
        /// What was being done (`open a tab`).
        step: &'static str,
        /// The command (`Target.createTarget`).
        method: String,
        /// Why.
        #[source]
        source: CdpError,
    },
    /// JavaScript run with [`Page::evaluate`](super::Page::evaluate) threw, or a key has no
    /// name.
    #[error("the script failed in the page: {message}")]
    Script {
        /// The exception (the page's own text).
        message: String,
    },
    /// No element matches a selector.
    #[error("no element matches {selector:?} on the page")]
    ElementNotFound {
        /// The CSS selector.
        selector: String,
    },
    /// The URL is not one the relay opens.
    #[error("{url} is not a payment page the browser may open: {reason}")]
    UrlRefused {
        /// The URL.
        url: String,
        /// Why (`payment pages must use https`).
        reason: &'static str,
    },
    /// The payment page went, or tried to go, to a page that is neither `https` nor on this
    /// machine (a redirect, a link, a script): the relay ended there, and nothing was sent.
    #[error(
        "the payment page went to {url}, which is not a page tgpay takes card details from \
         ({reason}): the browser relay stopped, nothing was sent and nothing was paid"
    )]
    NavigationRefused {
        /// Where it went.
        url: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The page did not load.
    #[error("the page {url} did not load: {reason}")]
    Navigation {
        /// The URL.
        url: String,
        /// Chromium's reason (`net::ERR_CONNECTION_REFUSED`).
        reason: String,
    },
    /// The window or the browser was closed before the page sent the card details: nothing
    /// was paid.
    #[error(
        "the payment window was closed before the card details were sent: nothing was paid; \
         open the payment form again to pay"
    )]
    Closed,
    /// The payment page sent no usable card details in time: nothing was paid.
    #[error(
        "the payment page sent no card details within {waited:?}: nothing was paid{}",
        rejected.as_ref().map(|e| format!("; it did post a payment_form_submit event that \
            cannot be used ({e})")).unwrap_or_default()
    )]
    Timeout {
        /// How long the page had.
        waited: Duration,
        /// The last `payment_form_submit` event the page posted that could not be read.
        rejected: Option<CredentialsError>,
    },
    /// The 3-D Secure window was closed before the bank answered.
    #[error(
        "the 3-D Secure window was closed before the bank answered: the payment may still \
         complete; call Payments::reconcile with `pending` before paying again"
    )]
    Abandoned {
        /// What to check with [`Payments::reconcile`](crate::Payments::reconcile).
        pending: Box<AmbiguousPayment>,
    },
    /// The 3-D Secure page could not be shown; the payment waits for the bank.
    #[error(
        "the 3-D Secure page could not be shown ({source}): open {url} in a browser, then call \
         Payments::reconcile with `pending` before paying again"
    )]
    VerificationNotShown {
        /// The verification page.
        url: String,
        /// What to check with [`Payments::reconcile`](crate::Payments::reconcile).
        pending: Box<AmbiguousPayment>,
        /// Why it could not be shown.
        #[source]
        source: Box<BrowserError>,
    },
    /// The payment itself failed or its outcome is unknown
    /// ([`Error::VerificationFailed`](crate::Error::VerificationFailed),
    /// [`Error::Ambiguous`](crate::Error::Ambiguous), …).
    #[error(transparent)]
    Payment(#[from] crate::Error),
}
