//! Wall-clock helpers: epoch milliseconds and Salesforce's date-time format.

use std::time::{SystemTime, UNIX_EPOCH};

use ::time::format_description::BorrowedFormatItem;
use ::time::macros::format_description;
use ::time::UtcDateTime;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Salesforce's date-time format: UTC, milliseconds, and a `+0000` offset without a colon.
const SALESFORCE_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000");

/// Epoch milliseconds of `9999-12-31T23:59:59.999Z`.
const LAST_MS: u64 = 253_402_300_799_999;

/// Formats epoch milliseconds the way the REST API does: `2013-05-20T20:49:32.000+0000`.
///
/// Instants after the last one a four-digit year can carry (`9999-12-31T23:59:59.999+0000`) are
/// shown as that one.
pub fn format_datetime(ms: u64) -> String {
    let ms = ms.min(LAST_MS);
    UtcDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .expect("a clamped timestamp is in range")
        .format(SALESFORCE_FORMAT)
        .expect("every field of the format is available on a UTC date-time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_salesforce() {
        assert_eq!(
            format_datetime(1_369_082_972_000),
            "2013-05-20T20:49:32.000+0000"
        );
        assert_eq!(format_datetime(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(
            format_datetime(951_782_400_123),
            "2000-02-29T00:00:00.123+0000"
        );
        assert_eq!(
            format_datetime(253_402_300_799_999),
            "9999-12-31T23:59:59.999+0000"
        );
        assert_eq!(format_datetime(u64::MAX), "9999-12-31T23:59:59.999+0000");
    }
}
