//! The one parser of CloudTrail keys, segment by segment as the walk meets them:
//! `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/FILE`.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};

/// The folder segment under an account that holds trail log files.
pub const CLOUDTRAIL_SEGMENT: &str = "CloudTrail";
/// The folder segment CloudTrail writes every account's logs under.
pub const AWSLOGS_SEGMENT: &str = "AWSLogs";

/// The delivery instant written in a log file's name (`..._20150801T0210Z_...`), if any:
/// `YYYYMMDDTHHmmZ` in log files, `YYYYMMDDTHHmmssZ` in digests. Matched after any `_`, so names
/// without the `_` before the unique string (as in one AWS documentation example) still parse.
pub fn delivery_stamp(file_name: &str) -> Option<DateTime<Utc>> {
    let b = file_name.as_bytes();
    b.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'_')
        .find_map(|(i, _)| stamp_at(&b[i + 1..]))
}

/// A stamp at the start of `b`.
fn stamp_at(b: &[u8]) -> Option<DateTime<Utc>> {
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|s| s.iter().all(u8::is_ascii_digit))
            .map(|_| r)
    };
    digits(0..8)?;
    if b.get(8) != Some(&b'T') {
        return None;
    }
    digits(9..13)?;
    let (text, fmt) = match b.get(13) {
        Some(b'Z') => (&b[..14], "%Y%m%dT%H%MZ"),
        _ => {
            digits(13..15)?;
            if b.get(15) != Some(&b'Z') {
                return None;
            }
            (&b[..16], "%Y%m%dT%H%M%SZ")
        }
    };
    let text = std::str::from_utf8(text).ok()?;
    NaiveDateTime::parse_from_str(text, fmt)
        .ok()
        .map(|t| t.and_utc())
}

/// The days a folder ending in `YYYY/`, `YYYY/MM/` or `YYYY/MM/DD/` covers, as `[first, next)`;
/// `None` for a folder of any other shape, or one that looks like a date but is not (`2024/13/`).
pub fn folder_days(folder: &str) -> Option<(NaiveDate, NaiveDate)> {
    let segs: Vec<&str> = folder.trim_end_matches('/').rsplit('/').take(3).collect();
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    // Innermost first: try DD/MM/YYYY, then MM/YYYY, then YYYY.
    if let [d, m, y] = segs[..] {
        if let (Some(y), Some(m), Some(d)) = (num(y, 4), num(m, 2), num(d, 2)) {
            let lo = NaiveDate::from_ymd_opt(y as i32, m, d)?;
            return Some((lo, lo.succ_opt()?));
        }
    }
    if let [m, y, ..] = segs[..] {
        if let (Some(y), Some(m)) = (num(y, 4), num(m, 2)) {
            let lo = NaiveDate::from_ymd_opt(y as i32, m, 1)?;
            return Some((lo, lo.checked_add_months(Months::new(1))?));
        }
    }
    let y = num(segs.first()?, 4)?;
    let lo = NaiveDate::from_ymd_opt(y as i32, 1, 1)?;
    Some((lo, NaiveDate::from_ymd_opt(lo.year() + 1, 1, 1)?))
}

/// The last segment of a folder key ending in `/`.
pub(crate) fn last_segment(folder: &str) -> &str {
    folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

/// Whether a folder is `.../AWSLogs/ACCOUNT/` or `.../AWSLogs/o-ORG/ACCOUNT/`: below it, only
/// `CloudTrail/` holds trail logs.
pub(crate) fn is_account_folder(folder: &str) -> bool {
    let segs: Vec<&str> = folder.trim_end_matches('/').split('/').collect();
    let n = segs.len();
    let account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if n >= 2 && account(segs[n - 1]) && segs[n - 2] == AWSLOGS_SEGMENT {
        return true;
    }
    n >= 3
        && account(segs[n - 1])
        && segs[n - 2].starts_with("o-")
        && segs[n - 3] == AWSLOGS_SEGMENT
}

/// Whether any `/`-separated segment of `key` is exactly `segment`.
pub(crate) fn has_segment(key: &str, segment: &str) -> bool {
    key.split('/').any(|s| s == segment)
}
