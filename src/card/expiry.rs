//! [`YearMonth`] and [`Expiry`]: calendar months and expiry dates.

use std::fmt;

use super::{CardError, MAX_YEARS_AHEAD};

/// A calendar month: the "now" that expiry dates are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: u16,
    month: u8,
}

impl YearMonth {
    /// `month` (1–12) of `year`; `None` if the month is out of range.
    pub fn new(year: u16, month: u8) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// The current month by the system clock, in UTC.
    pub fn current() -> YearMonth {
        YearMonth::of(jiff::Timestamp::now())
    }

    /// The month (UTC) of a unix time.
    pub fn from_unix(secs: u64) -> YearMonth {
        let time = i64::try_from(secs)
            .ok()
            .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
            .unwrap_or(jiff::Timestamp::MAX);
        YearMonth::of(time)
    }

    /// The month (UTC) of a point in time.
    fn of(time: jiff::Timestamp) -> YearMonth {
        let date = jiff::tz::Offset::UTC.to_datetime(time).date();
        YearMonth {
            year: u16::try_from(date.year()).unwrap_or(0),
            month: u8::try_from(date.month()).unwrap_or(1),
        }
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for YearMonth {
    /// `05/2026`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{}", self.month, self.year)
    }
}

/// A card's expiry date: the card is good through the last day of this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(YearMonth);

impl Expiry {
    /// The expiry `month` (1–12) of `year` (with its century), checked against `now`: not
    /// before the current month, at most [`MAX_YEARS_AHEAD`] years ahead.
    pub fn new(month: u32, year: u32, now: YearMonth) -> Result<Expiry, CardError> {
        let Some(month) = u8::try_from(month).ok().filter(|m| (1..=12).contains(m)) else {
            return Err(CardError::ExpiryMonth { month });
        };
        let latest = now.year.saturating_add(MAX_YEARS_AHEAD);
        let Some(year) = u16::try_from(year).ok().filter(|y| *y <= latest) else {
            return Err(CardError::ExpiryYear { year, latest });
        };
        let expiry = YearMonth { year, month };
        if expiry < now {
            return Err(CardError::Expired { month, year, now });
        }
        Ok(Expiry(expiry))
    }

    /// Reads an expiry date (`MM/YY`, `MM/YYYY`, `M/YY`, `MM-YY`, `MM / YY`, `MMYY`,
    /// `MMYYYY`) and checks it against `now` as [`Expiry::new`] does. A two-digit year is the
    /// one within 50 years of `now`.
    pub fn parse(text: &str, now: YearMonth) -> Result<Expiry, CardError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(CardError::ExpiryMissing);
        }
        let (month, year) = match compact.split_once(['/', '-']) {
            Some((month, year)) => (month, year),
            None if compact.len() == 4 || compact.len() == 6 => {
                compact.split_at_checked(2).ok_or(CardError::ExpiryFormat)?
            }
            None => return Err(CardError::ExpiryFormat),
        };
        let digits = |part: &str, lengths: &[usize]| {
            (lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
                .ok_or(CardError::ExpiryFormat)
        };
        let month_value = digits(month, &[1, 2])?;
        let year_value = digits(year, &[2, 4])?;
        let year_value = if year.len() == 2 {
            two_digit_year(year_value, now.year)
        } else {
            year_value
        };
        Expiry::new(month_value, year_value, now)
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.0.month
    }

    /// The year, with its century.
    pub fn year(self) -> u16 {
        self.0.year
    }

    /// Whether the card has expired by `now` (the expiry month is before it).
    pub fn is_expired_at(self, now: YearMonth) -> bool {
        self.0 < now
    }
}

impl fmt::Display for Expiry {
    /// `09/2029`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The year ending in `yy` that is within 50 years of `current`.
fn two_digit_year(yy: u32, current: u16) -> u32 {
    let current = u32::from(current);
    let candidate = current / 100 * 100 + yy;
    if candidate > current + 50 {
        candidate.saturating_sub(100)
    } else if candidate + 50 < current {
        candidate + 100
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_months_from_unix_time() {
        let at = |secs| {
            let m = YearMonth::from_unix(secs);
            (m.year(), m.month())
        };
        assert_eq!(at(0), (1970, 1));
        // 2000-02-29T23:59:59Z and the next second.
        assert_eq!(at(951_868_799), (2000, 2));
        assert_eq!(at(951_868_800), (2000, 3));
        // 2026-12-31T23:59:59Z and 2027-01-01T00:00:00Z.
        assert_eq!(at(1_798_761_599), (2026, 12));
        assert_eq!(at(1_798_761_600), (2027, 1));
    }

    #[test]
    fn two_digit_years_stay_within_fifty_years() {
        assert_eq!(two_digit_year(34, 2026), 2034);
        assert_eq!(two_digit_year(76, 2026), 2076);
        assert_eq!(two_digit_year(77, 2026), 1977);
        assert_eq!(two_digit_year(5, 2090), 2105);
    }
}
