//! `eventTime` parsing: CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` fast, any RFC 3339 otherwise.

use chrono::{DateTime, NaiveDate};

/// Milliseconds since the epoch of an `eventTime` value, or `None` if it is not a date-time.
pub fn parse_event_time(s: &str) -> Option<i64> {
    fast(s.as_bytes()).or_else(|| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis())
    })
}

fn fast(b: &[u8]) -> Option<i64> {
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let n = |i: usize, len: usize| -> Option<u32> {
        b[i..i + len].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(n(0, 4)? as i32, n(5, 2)?, n(8, 2)?)?;
    let t = date.and_hms_opt(n(11, 2)?, n(14, 2)?, n(17, 2)?)?;
    Some(t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::parse_event_time;

    #[test]
    fn formats() {
        assert_eq!(parse_event_time("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(
            parse_event_time("2014-03-06T21:22:54Z"),
            Some(1_394_140_974_000)
        );
        assert_eq!(
            parse_event_time("2014-03-06T21:22:54.5+00:00"),
            Some(1_394_140_974_500)
        );
        assert_eq!(parse_event_time("2014-02-30T21:22:54Z"), None);
        assert_eq!(parse_event_time("yesterday"), None);
        assert_eq!(parse_event_time(""), None);
    }
}
