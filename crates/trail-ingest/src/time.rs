//! `eventTime` parsing: exactly what CloudTrail writes, `YYYY-MM-DDTHH:MM:SSZ`, optionally
//! with a fraction of a second; anything else is not a CloudTrail event time.

use chrono::NaiveDate;

/// Milliseconds since the epoch of an `eventTime` value (a fraction beyond milliseconds is
/// cut off), or `None` if it is not a time as CloudTrail writes them.
pub fn parse_event_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let n = |i: usize, len: usize| -> Option<u32> {
        b[i..i + len].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let millis = match b.len() {
        20 => 0,
        // `.f` to `.fffffffff`.
        22..=30 if b[19] == b'.' => {
            let frac = &b[20..b.len() - 1];
            if !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            frac.iter()
                .chain(std::iter::repeat(&b'0'))
                .take(3)
                .fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0'))
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(n(0, 4)? as i32, n(5, 2)?, n(8, 2)?)?;
    let t = date.and_hms_opt(n(11, 2)?, n(14, 2)?, n(17, 2)?)?;
    Some(t.and_utc().timestamp_millis() + millis)
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
            parse_event_time("2014-03-06T21:22:54.5Z"),
            Some(1_394_140_974_500)
        );
        assert_eq!(
            parse_event_time("2014-03-06T21:22:54.123456789Z"),
            Some(1_394_140_974_123)
        );
        for bad in [
            "2014-02-30T21:22:54Z",
            "2014-03-06T21:22:54.5+00:00",
            "2014-03-06T21:22:54+00:00",
            "2014-03-06 21:22:54Z",
            "2014-03-06t21:22:54z",
            "2014-03-06T21:22:54.Z",
            "2014-03-06T21:22:54.1234567890Z",
            "2014-03-06T21:22:54.12aZ",
            "2014-03-06T24:00:00Z",
            "+2014-03-06T21:22:54Z",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }
}
