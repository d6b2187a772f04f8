//! [`PaymentsConfig`]: the tunables of [`Payments`](super::Payments), with Telegram's own
//! figures as defaults.

use std::time::Duration;

use crate::credentials::TmpPassword;

/// Tunables of [`Payments`](super::Payments). The defaults are Telegram's own figures where it
/// has them:
///
/// | Field | Default | What |
/// |---|---|---|
/// | [`tmp_password_period`](Self::tmp_password_period) | 15 min | validity asked for a temporary password |
/// | [`tmp_password_reserve`](Self::tmp_password_reserve) | 10 s | a cached temporary password is not used closer to its expiry |
/// | [`precheckout_reason_wait`](Self::precheckout_reason_wait) | 1 s | wait for the merchant's reason after a pre-checkout refusal |
/// | [`poll_interval`](Self::poll_interval) | 3 s | reconcile this often while waiting for 3-D Secure |
/// | [`send_timeout`](Self::send_timeout) | 60 s | a payment request unanswered this long is ambiguous |
/// | [`form_lifetime`](Self::form_lifetime) | 10 min | how long Telegram keeps a payment form valid |
/// | [`verification_lifetime`](Self::verification_lifetime) | 10 min | how long a 3-D Secure page stays open |
/// | [`settle_margin`](Self::settle_margin) | 60 s | added to the two lifetimes before an unanswered attempt counts as settled |
/// | [`clock_tolerance`](Self::clock_tolerance) | 5 s | how much earlier than its attempt a receipt may be dated |
/// | [`history_limit`](Self::history_limit) | 10 000 | messages of the chat with the bot reconcile reads back at most |
///
/// Change a few with struct update syntax:
///
/// ```
/// use std::time::Duration;
///
/// let config = tgpay::PaymentsConfig {
///     poll_interval: Duration::from_secs(1),
///     ..tgpay::PaymentsConfig::default()
/// };
/// assert_eq!(config.send_timeout, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// How long a temporary password is asked for (Telegram Desktop: 15 minutes).
    pub tmp_password_period: Duration,
    /// A cached temporary password is not used this close to its expiry (10 s, Telegram
    /// Desktop's reserve).
    pub tmp_password_reserve: Duration,
    /// After a pre-checkout rejection, how long to wait for the merchant's reason to arrive as
    /// a forwarded service notification (1 s).
    pub precheckout_reason_wait: Duration,
    /// While waiting for a 3-D Secure verification, how often to reconcile when no forwarded
    /// update has said anything (3 s).
    pub poll_interval: Duration,
    /// How long a money-moving request may wait for its answer before it counts as unanswered
    /// (ambiguous) (60 s).
    pub send_timeout: Duration,
    /// How long Telegram keeps a payment form valid (10 minutes): a request it never answered
    /// cannot charge after its form expired.
    pub form_lifetime: Duration,
    /// How long a 3-D Secure verification stays open (10 minutes).
    pub verification_lifetime: Duration,
    /// Added to the two lifetimes above before an unanswered attempt counts as settled (1
    /// minute): covers Telegram finishing a request it already took.
    pub settle_margin: Duration,
    /// How much earlier than the attempt (by Telegram's clock, as measured) its receipt may be
    /// dated: the error of the clock measurement (5 s).
    pub clock_tolerance: Duration,
    /// How many messages of the chat with the bot reconcile reads back at most (10 000).
    pub history_limit: usize,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            tmp_password_period: Duration::from_secs(TmpPassword::DEFAULT_PERIOD_SECS as u64),
            tmp_password_reserve: Duration::from_secs(TmpPassword::RESERVE_SECS as u64),
            precheckout_reason_wait: Duration::from_secs(1),
            poll_interval: Duration::from_secs(3),
            send_timeout: Duration::from_secs(60),
            form_lifetime: Duration::from_secs(600),
            verification_lifetime: Duration::from_secs(600),
            settle_margin: Duration::from_secs(60),
            clock_tolerance: Duration::from_secs(5),
            history_limit: 10_000,
        }
    }
}
