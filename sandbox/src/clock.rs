//! The wall clock in unix seconds, as the sandbox's message rules and world use it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the unix epoch (0 if the system clock is before it).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
