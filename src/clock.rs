//! This machine's clock.

/// The system clock, in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}
