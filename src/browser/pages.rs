//! The two pages of a web payment: the provider's payment page, which posts the card details
//! ([`PaymentPage`], [`Submission`]), and the bank's 3-D Secure page ([`VerificationPage`]).

use std::time::Duration;

use super::page::{Signal, Tab};
use super::{ABANDON_GRACE, Bridge, BrowserError, Page};
use crate::attempt::{AmbiguityCause, AmbiguousPayment, Paid, Verification};
use crate::credentials::WebCredentials;
use crate::payments::Payments;
use crate::text::Escaped;

/// Card details a payment page sent.
#[derive(Debug)]
pub struct Submission {
    /// The credentials and the card's title (`Visa *4242`), for
    /// [`Credentials::Web`](crate::Credentials::Web).
    pub credentials: WebCredentials,
    /// The bridge the page used.
    pub bridge: Bridge,
}

/// The pending payment behind a verification.
fn pending_of(verification: &Verification) -> AmbiguousPayment {
    AmbiguousPayment {
        payment: verification.payment.clone(),
        cause: AmbiguityCause::VerificationPending {
            url: verification.url.clone(),
        },
    }
}

pub(super) fn not_shown(verification: &Verification, error: BrowserError) -> BrowserError {
    BrowserError::VerificationNotShown {
        url: verification.url.clone(),
        pending: Box::new(pending_of(verification)),
        source: Box::new(error),
    }
}

/// A provider's payment page open in the browser, with the webview bridge in place.
pub struct PaymentPage {
    pub(super) tab: Tab,
}

impl std::fmt::Debug for PaymentPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentPage")
            .field("target", &self.tab.page.target_id())
            .finish_non_exhaustive()
    }
}

impl PaymentPage {
    /// The page, for driving it programmatically (tests, kiosks).
    pub fn page(&self) -> &Page {
        &self.tab.page
    }

    /// Waits up to `timeout` for the page's `payment_form_submit` event, then closes the tab.
    ///
    /// Other events are ignored; a `payment_form_submit` whose data cannot be read is logged
    /// (without its data) and the wait goes on, as in Telegram Desktop, and
    /// [`BrowserError::Timeout`] names it if nothing better comes. Events from other frames or
    /// origins never arrive here (see the module docs); a page that leaves the https-or-loopback
    /// rule ends the wait with [`BrowserError::NavigationRefused`].
    pub async fn wait(mut self, timeout: Duration) -> Result<Submission, BrowserError> {
        let deadline = crate::payments::deadline_after(timeout);
        let mut rejected = None;
        let result = loop {
            tokio::select! {
                signal = self.tab.next() => match signal {
                    Signal::Closed => break Err(BrowserError::Closed),
                    Signal::Refused { url, reason } => {
                        break Err(BrowserError::NavigationRefused { url, reason });
                    }
                    Signal::Loaded => {}
                    Signal::Web(event) => {
                        if event.event_type != WebCredentials::EVENT_TYPE {
                            tracing::debug!(event = %Escaped(&event.event_type), bridge = %event.bridge, "web event ignored");
                            continue;
                        }
                        match WebCredentials::from_event(&event.data) {
                            Ok(credentials) => {
                                tracing::debug!(card = %Escaped(credentials.title()), bridge = %event.bridge, "payment page sent the card");
                                break Ok(Submission { credentials, bridge: event.bridge });
                            }
                            Err(error) => {
                                tracing::warn!(%error, bridge = %event.bridge, "payment page posted payment_form_submit that cannot be used");
                                rejected = Some(error);
                            }
                        }
                    }
                },
                () = tokio::time::sleep_until(deadline) => {
                    break Err(BrowserError::Timeout { waited: timeout, rejected });
                }
            }
        };
        if result.is_ok() {
            self.tab.linger().await;
        }
        self.tab.close().await;
        result
    }
}

/// A 3-D Secure page open in the browser.
pub struct VerificationPage {
    pub(super) tab: Tab,
}

impl std::fmt::Debug for VerificationPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationPage")
            .field("target", &self.tab.page.target_id())
            .finish_non_exhaustive()
    }
}

impl VerificationPage {
    /// The page, for driving it programmatically (tests, kiosks).
    pub fn page(&self) -> &Page {
        &self.tab.page
    }

    /// Waits with [`Payments::wait_for_verification`] (up to `timeout`) until the payment is
    /// made or fails, or until the person closes the window ([`BrowserError::Abandoned`]),
    /// then closes the tab. A bank page that leaves the https-or-loopback rule is closed at
    /// once ([`BrowserError::VerificationNotShown`]); the payment is left to reconcile.
    pub async fn wait(
        mut self,
        payments: &Payments,
        verification: Verification,
        timeout: Duration,
    ) -> Result<Paid, BrowserError> {
        let pending = pending_of(&verification);
        let url = verification.url.clone();
        let outcome = payments.wait_for_verification(&verification, timeout);
        tokio::pin!(outcome);
        let result = loop {
            tokio::select! {
                result = &mut outcome => break result.map_err(BrowserError::from),
                signal = self.tab.next() => match signal {
                    Signal::Closed => {
                        break match tokio::time::timeout(ABANDON_GRACE, &mut outcome).await {
                            Ok(result) => result.map_err(BrowserError::from),
                            Err(_) => Err(BrowserError::Abandoned { pending: Box::new(pending) }),
                        };
                    }
                    Signal::Refused { url: went, reason } => {
                        break Err(BrowserError::VerificationNotShown {
                            url,
                            pending: Box::new(pending),
                            source: Box::new(BrowserError::NavigationRefused { url: went, reason }),
                        });
                    }
                    Signal::Loaded | Signal::Web(_) => {}
                },
            }
        };
        self.tab.linger().await;
        self.tab.close().await;
        result
    }
}
