//! Helpers for reading a [`Response`]: status class, headers, JSON body and `Retry-After`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{error, ProvisionError, Response};

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; an empty body is `null`. A body that is not JSON is a `permanent`
    /// error quoting its start.
    pub fn json(&self) -> Result<serde_json::Value, ProvisionError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            let text = self.text();
            let start: String = text.chars().take(80).collect();
            error::permanent(format!(
                "the HTTP {} response is not JSON ({e}): {start}",
                self.status
            ))
            .with_status(self.status)
        })
    }

    /// The `Retry-After` hint in milliseconds from now: delta seconds or an HTTP-date (a date
    /// in the past is 0); none when absent or unreadable.
    pub fn retry_after_ms(&self) -> Option<u64> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        parse_retry_after(self.header("retry-after")?, now)
    }
}

/// A `Retry-After` value in milliseconds after `now` (Unix seconds): delta seconds, or an
/// IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn parse_retry_after(value: &str, now: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = parse_http_date(value)?;
    Some(at.saturating_sub(now).saturating_mul(1000))
}

/// Unix seconds of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(value: &str) -> Option<u64> {
    let (_, rest) = value.split_once(", ")?;
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if year < 1970 || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn headers_are_found_in_any_case() {
        let r = response(201, &[("Location", "/users/1")], "");
        assert!(r.is_success());
        assert_eq!(r.header("location"), Some("/users/1"));
        assert_eq!(r.header("etag"), None);
        assert!(!response(302, &[], "").is_success());
    }

    #[test]
    fn json_bodies_parse_and_empty_is_null() {
        assert_eq!(
            response(200, &[], r#"{"id":"x"}"#).json().unwrap()["id"],
            "x"
        );
        assert_eq!(
            response(204, &[], "").json().unwrap(),
            serde_json::Value::Null
        );
        let err = response(200, &[], "<html>").json().unwrap_err();
        assert!(err.detail().message.contains("not JSON"), "{err:?}");
        assert!(err.detail().message.contains("<html>"));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        // 1994-11-06T08:49:37Z is 784111777.
        let at = 784_111_777;
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(at));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at - 30),
            Some(30_000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at + 5),
            Some(0)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", 0), None);
        assert_eq!(response(429, &[], "").retry_after_ms(), None);
    }
}
