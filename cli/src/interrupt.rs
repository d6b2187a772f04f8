//! Ctrl-C, SIGTERM and SIGHUP: each ends the command the same way. The command's future is
//! dropped, which closes the browser (the relay kills Chromium and removes its profile when
//! dropped), and the outcome is reported: exit 3 when a payment may be in flight (sent and not
//! yet answered, or waiting for 3-D Secure), exit 1 with "nothing was paid" otherwise.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::Failure;

static PAYMENT_IN_FLIGHT: AtomicBool = AtomicBool::new(false);

/// Marks a payment as in flight from now until this guard is dropped (its outcome known).
pub struct InFlight(());

impl InFlight {
    /// A payment request is about to be sent.
    pub fn start() -> InFlight {
        PAYMENT_IN_FLIGHT.store(true, Ordering::SeqCst);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        PAYMENT_IN_FLIGHT.store(false, Ordering::SeqCst);
    }
}

/// Resolves with the signal's name when Ctrl-C (SIGINT), SIGTERM or SIGHUP arrives; never if
/// they cannot be watched.
pub async fn signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        result = tokio::signal::ctrl_c() => match result {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        },
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}

/// What to report after the command was stopped by `signal`.
pub fn failure(signal: &str) -> Failure {
    if PAYMENT_IN_FLIGHT.load(Ordering::SeqCst) {
        Failure::AmbiguousText(format!(
            "stopped by {signal} while a payment was in flight: it may have gone through; it is \
             in the payment journal: run `tgpay reconcile` before paying again"
        ))
    } else {
        Failure::Failed(format!("stopped by {signal}: nothing was paid"))
    }
}
