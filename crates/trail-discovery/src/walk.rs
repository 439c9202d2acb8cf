//! The walk: which folders are scanned, which are pruned by date, which files are kept.

use crate::key::delivery_stamp;
use crate::{DiscoveryError, ObjectMeta, ObjectSource};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use regex::Regex;
use std::sync::LazyLock;

/// How deep the default scope looks for a `CloudTrail` folder before giving up on a branch.
const MAX_DEPTH_TO_CLOUDTRAIL: usize = 12;

static DATE_DIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|/)(\d{4})/(?:(\d{2})/(?:(\d{2})/)?)?$").expect("date dir regex")
});

/// An inclusive time range; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl TimeRange {
    pub fn new(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Self {
        TimeRange { start, end }
    }

    pub fn is_bounded(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    /// Whether `[lo, hi)` meets the range.
    fn overlaps(&self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| hi > s) && self.end.is_none_or(|e| lo <= e)
    }

    /// Whether a file named `file_name` is attempted: always without a range; with one, only
    /// when its delivery stamp lies inside it.
    pub fn admits_file(&self, file_name: &str) -> bool {
        if !self.is_bounded() {
            return true;
        }
        delivery_stamp(file_name).is_some_and(|t| self.contains(t))
    }

    /// Whether a folder ending in `YYYY/`, `YYYY/MM/` or `YYYY/MM/DD/` can hold files in range.
    /// Folders of any other shape are never pruned.
    pub fn admits_folder(&self, folder: &str) -> bool {
        if !self.is_bounded() {
            return true;
        }
        let Some(c) = DATE_DIR.captures(folder) else {
            return true;
        };
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let year = num(1).unwrap_or(0) as i32;
        let (lo, span) = match (num(2), num(3)) {
            (Some(m), Some(d)) => (NaiveDate::from_ymd_opt(year, m, d), Span::Day),
            (Some(m), None) => (NaiveDate::from_ymd_opt(year, m, 1), Span::Month),
            _ => (NaiveDate::from_ymd_opt(year, 1, 1), Span::Year),
        };
        // A folder that looks like a date but is not one (month 13) is not pruned.
        let Some(lo) = lo else { return true };
        let hi = match span {
            Span::Day => lo.succ_opt(),
            Span::Month => lo.checked_add_months(Months::new(1)),
            Span::Year => NaiveDate::from_ymd_opt(lo.year() + 1, 1, 1),
        };
        let Some(hi) = hi else { return true };
        let at_midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        self.overlaps(at_midnight(lo), at_midnight(hi))
    }
}

enum Span {
    Day,
    Month,
    Year,
}

/// One folder that holds log files to import: a day folder (`.../REGION/YYYY/MM/DD/`) in the
/// standard layout, or any folder with files under an explicit prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredPrefix {
    /// The folder's key, ending in `/` (empty for the bucket root).
    pub prefix: String,
    /// Its files that survived the filters, in key order.
    pub objects: Vec<ObjectMeta>,
}

/// What a walk saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoveryStats {
    pub list_calls: u64,
    /// Folders handed to the caller (`PrefixesFound`).
    pub prefixes_found: u64,
    pub files_found: u64,
    pub bytes_found: u64,
    /// Files in scope whose name put them outside the time range.
    pub files_out_of_range: u64,
    /// Zero-byte folder markers (keys ending in `/`) skipped.
    pub folder_markers: u64,
}

/// Walks `source` from `prefix` and calls `on_prefix` for every folder holding files to import.
///
/// With an empty `prefix` only what lies under a path segment exactly `CloudTrail` is scanned
/// (`AWSLogs/[o-org/]ACCOUNT/CloudTrail/...`); siblings such as `CloudTrail-Digest`,
/// `CloudTrail-Insight` or other services' folders are never listed. A non-empty `prefix` names
/// a folder (a `/` is added if missing) and everything under it is a candidate. Folders whose
/// date lies outside `range` are pruned without being listed, then files are kept by the
/// delivery stamp in their names. Keys ending in `/` are skipped.
pub fn discover<F>(
    source: &dyn ObjectSource,
    prefix: &str,
    range: &TimeRange,
    mut on_prefix: F,
) -> Result<DiscoveryStats, DiscoveryError>
where
    F: FnMut(DiscoveredPrefix) -> Result<(), String>,
{
    let explicit = !prefix.is_empty();
    let root = if explicit && !prefix.ends_with('/') {
        format!("{prefix}/")
    } else {
        prefix.to_string()
    };
    let mut stats = DiscoveryStats::default();
    // Depth-first in key order: a stack of (folder, in scope, depth).
    let mut stack = vec![(root, explicit, 0usize)];
    while let Some((folder, in_scope, depth)) = stack.pop() {
        let listing = source
            .list(&folder, "/")
            .map_err(|source_err| DiscoveryError::List {
                bucket: source.bucket().to_string(),
                prefix: folder.clone(),
                source: source_err,
            })?;
        stats.list_calls += 1;
        if in_scope {
            let mut kept = Vec::new();
            for obj in listing.objects {
                if obj.key.ends_with('/') {
                    stats.folder_markers += 1;
                } else if range.admits_file(file_name(&obj.key)) {
                    stats.files_found += 1;
                    stats.bytes_found += obj.size;
                    kept.push(obj);
                } else {
                    stats.files_out_of_range += 1;
                }
            }
            if !kept.is_empty() {
                stats.prefixes_found += 1;
                on_prefix(DiscoveredPrefix {
                    prefix: folder.clone(),
                    objects: kept,
                })
                .map_err(DiscoveryError::Callback)?;
            }
        }
        let account_folder = is_account_folder(&folder);
        for child in listing.common_prefixes.into_iter().rev() {
            let child_in_scope = in_scope || last_segment(&child) == "CloudTrail";
            if !child_in_scope && (account_folder || depth >= MAX_DEPTH_TO_CLOUDTRAIL) {
                continue;
            }
            if child_in_scope && !range.admits_folder(&child) {
                continue;
            }
            stack.push((child, child_in_scope, depth + 1));
        }
    }
    Ok(stats)
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// The last segment of a folder key ending in `/`.
fn last_segment(folder: &str) -> &str {
    folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

/// `.../AWSLogs/ACCOUNT/` or `.../AWSLogs/o-ORG/ACCOUNT/`: below it only `CloudTrail/` is scanned.
fn is_account_folder(folder: &str) -> bool {
    let segs: Vec<&str> = folder.trim_end_matches('/').split('/').collect();
    let n = segs.len();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if n >= 2 && digits(segs[n - 1]) && segs[n - 2] == "AWSLogs" {
        return true;
    }
    n >= 3 && digits(segs[n - 1]) && segs[n - 2].starts_with("o-") && segs[n - 3] == "AWSLogs"
}
