//! CloudTrail object keys: `[prefix/]AWSLogs/[o-org/]ACCOUNT/FOLDER/REGION/YYYY/MM/DD/FILE`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use regex::Regex;
use std::sync::LazyLock;

static KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?P<prefix>.*)/)?AWSLogs/(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>\d{12})/(?P<folder>[^/]+)/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<file>[^/]+)$",
    )
    .expect("key regex")
});

// The delivery stamp: `YYYYMMDDTHHmmZ` in log files, `YYYYMMDDTHHmmssZ` in digests. Matched
// anywhere after an `_` so names without the `_` before the unique string still parse.
static STAMP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"_(\d{8}T\d{4}(?:\d{2})?Z)").expect("stamp regex"));

/// Which sibling folder under the account a key lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFolder {
    CloudTrail,
    Digest,
    Insight,
    Other(String),
}

/// The parts of a well-formed CloudTrail object key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    /// The trail's `S3KeyPrefix`, without its trailing `/` (empty when there is none).
    pub prefix: String,
    pub org_id: Option<String>,
    pub account: String,
    pub folder: LogFolder,
    pub region: String,
    /// The delivery date of the folder.
    pub date: NaiveDate,
    pub file_name: String,
    /// The delivery instant in the file name, when it has one.
    pub delivered: Option<DateTime<Utc>>,
}

impl LogKey {
    /// Parses a key in the standard or organisation layout; `None` for anything else.
    pub fn parse(key: &str) -> Option<LogKey> {
        let c = KEY.captures(key)?;
        let num = |n: &str| c[n].parse::<u32>().ok();
        let date = NaiveDate::from_ymd_opt(c["y"].parse().ok()?, num("m")?, num("d")?)?;
        let folder = match &c["folder"] {
            "CloudTrail" => LogFolder::CloudTrail,
            "CloudTrail-Digest" => LogFolder::Digest,
            "CloudTrail-Insight" => LogFolder::Insight,
            other => LogFolder::Other(other.to_string()),
        };
        Some(LogKey {
            prefix: c.name("prefix").map_or("", |m| m.as_str()).to_string(),
            org_id: c.name("org").map(|m| m.as_str().to_string()),
            account: c["account"].to_string(),
            folder,
            region: c["region"].to_string(),
            date,
            file_name: c["file"].to_string(),
            delivered: delivery_stamp(&c["file"]),
        })
    }
}

/// The delivery instant written in a log file's name (`..._20150801T0210Z_...`), if any.
pub fn delivery_stamp(file_name: &str) -> Option<DateTime<Utc>> {
    let stamp = STAMP.captures(file_name)?.get(1)?.as_str();
    let fmt = if stamp.len() == 14 {
        "%Y%m%dT%H%MZ"
    } else {
        "%Y%m%dT%H%M%SZ"
    };
    NaiveDateTime::parse_from_str(stamp, fmt)
        .ok()
        .map(|t| t.and_utc())
}
