//! The written layout: Hive partition folders, file names, and the stable split into shards.
//!
//! `account=<recipientAccountId>/region=<awsRegion>/date=<YYYY-MM-DD of eventTime, UTC>/`.
//! A value is written as Hive writes partition values: a missing one is
//! `__HIVE_DEFAULT_PARTITION__`, and every byte outside `[A-Za-z0-9_-]` (a `.` included, so a
//! value is never `..`) is `%XX`, so that no record's text can name a folder outside the
//! output or split one value into two folders; a value whose escaped form is longer than 64
//! bytes is written as `long-<FNV-1a of the value>`, so no name is too long for a file system
//! or an S3 key.

use chrono::{DateTime, Utc};
use std::fmt::Write;

/// What Hive and Trino call a missing partition value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// One partition of the output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    pub account: Option<String>,
    pub region: Option<String>,
    /// Days since 1970-01-01 of the eventTime (UTC).
    pub day: i64,
}

impl Partition {
    pub fn of(account: Option<&str>, region: Option<&str>, time_ms: i64) -> Partition {
        Partition {
            account: account.map(str::to_string),
            region: region.map(str::to_string),
            day: Partition::day_of(time_ms),
        }
    }

    /// The UTC day (days since 1970-01-01) of a time in ms.
    pub fn day_of(time_ms: i64) -> i64 {
        time_ms.div_euclid(86_400_000)
    }

    /// Whether an event of these values belongs to this partition (without building one).
    pub fn holds(&self, account: Option<&str>, region: Option<&str>, time_ms: i64) -> bool {
        self.day == Partition::day_of(time_ms)
            && self.account.as_deref() == account
            && self.region.as_deref() == region
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        DateTime::<Utc>::from_timestamp(self.day * 86_400, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| DEFAULT_PARTITION.to_string())
    }

    /// The partition's folder, relative to the output root, ending in `/`.
    pub fn dir(&self) -> String {
        format!(
            "account={}/region={}/date={}/",
            escape(self.account.as_deref()),
            escape(self.region.as_deref()),
            self.date()
        )
    }
}

/// A partition value as a folder name.
pub fn escape(value: Option<&str>) -> String {
    let Some(v) = value else {
        return DEFAULT_PARTITION.to_string();
    };
    if v.is_empty() {
        return DEFAULT_PARTITION.to_string();
    }
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.len() > MAX_VALUE_BYTES {
        // Far longer than any account or Region: a folder name that file systems (255
        // bytes) and S3 keys (1,024) still take, the same for the same value.
        return format!("long-{:016x}", stable_hash(v));
    }
    out
}

/// The longest partition value written as itself (escaped).
pub const MAX_VALUE_BYTES: usize = 64;

/// FNV-1a, 64 bits: a hash fixed by its definition, so that every process, version and machine
/// puts a folder in the same shard.
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A share of the folders of a bucket: folder `p` belongs to shard `index` of `count` when
/// `stable_hash(p) % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `I/N`, with `0 <= I < N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected I/N (such as 0/4), got {s:?}"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("not a shard index: {i:?}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("not a shard count: {n:?}"))?;
        if count == 0 || index >= count {
            return Err(format!("expected 0 <= I < N, got {index}/{count}"));
        }
        Ok(Shard { index, count })
    }

    /// Whether the folder (a day folder's key, such as
    /// `AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/`) is this shard's. A folder
    /// below a day folder goes with that day folder (one shard walks and takes it); any other
    /// folder by its own key.
    pub fn owns(&self, folder: &str) -> bool {
        stable_hash(owning_folder(folder)) % self.count as u64 == self.index as u64
    }
}

/// Whether `folder` is a day folder (`…/YYYY/MM/DD/`).
pub fn is_day_folder(folder: &str) -> bool {
    trail_discovery::folder_days(folder)
        .is_some_and(|(lo, hi)| hi.signed_duration_since(lo).num_days() == 1)
}

/// The nearest day folder (`…/YYYY/MM/DD/`) at or above `folder`, else `folder` itself.
pub fn owning_folder(folder: &str) -> &str {
    let mut end = folder.len();
    loop {
        let candidate = &folder[..end];
        if is_day_folder(candidate) {
            return candidate;
        }
        // The folder above: up to and including the previous '/'.
        match folder[..end.saturating_sub(1)].rfind('/') {
            Some(i) => end = i + 1,
            None => return folder,
        }
    }
}

/// The unit, followed by its time range when it has one (runs over different ranges of one
/// store or folder write different files), as `unit_stem` takes it.
pub fn unit_with_range(unit: &str, start_ms: Option<i64>, end_ms: Option<i64>) -> String {
    match (start_ms, end_ms) {
        (None, None) => unit.to_string(),
        (s, e) => format!(
            "{unit} {}..{}",
            s.map_or(String::new(), |v| v.to_string()),
            e.map_or(String::new(), |v| v.to_string())
        ),
    }
}

/// The stem of the files one unit of work writes (`part-<16 hex digits>`): a unit is a bucket
/// folder for `convert`, a store for `export` (with the run's time range, if any). A rerun of
/// the unit writes the same names.
pub fn unit_stem(unit: &str) -> String {
    format!("part-{:016x}", stable_hash(unit))
}

/// The name of the `n`th file of a unit in one partition.
pub fn file_name(stem: &str, n: u32) -> String {
    format!("{stem}-{n:05}.parquet")
}

/// The number of a finished file of the unit with this stem (`None`: another unit's file,
/// or not a finished file).
pub fn file_number(stem: &str, name: &str) -> Option<u32> {
    name.strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".parquet"))
        .filter(|n| n.len() >= 5 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_leave_their_folder() {
        assert_eq!(escape(Some("111122223333")), "111122223333");
        assert_eq!(escape(Some("us-east-1")), "us-east-1");
        assert_eq!(escape(Some("..")), "%2E%2E");
        assert_eq!(escape(Some("a/b=c")), "a%2Fb%3Dc");
        assert_eq!(escape(None), DEFAULT_PARTITION);
        assert_eq!(escape(Some("")), DEFAULT_PARTITION);
        let long = "a".repeat(300);
        assert_eq!(
            escape(Some(&long)),
            format!("long-{:016x}", stable_hash(&long))
        );
        assert_eq!(escape(Some(&".".repeat(400))).len(), 21);
        let p = Partition::of(Some("1"), None, 1_706_745_600_000 + 3_600_000);
        assert_eq!(
            p.dir(),
            "account=1/region=__HIVE_DEFAULT_PARTITION__/date=2024-02-01/"
        );
        let before_1970 = Partition::of(Some("1"), Some("r"), -1);
        assert_eq!(before_1970.date(), "1969-12-31");
    }

    #[test]
    fn the_hash_is_fnv1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(stable_hash(""), 0xcbf29ce484222325);
        assert_eq!(stable_hash("a"), 0xaf63dc4c8601ec8c);
        assert_eq!(stable_hash("foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn a_folder_below_a_day_goes_with_the_day() {
        let day = "AWSLogs/1/CloudTrail/r/2024/02/01/";
        assert_eq!(owning_folder(day), day);
        assert_eq!(owning_folder(&format!("{day}sub/deeper/")), day);
        assert_eq!(
            owning_folder("AWSLogs/1/CloudTrail/r/2024/02/"),
            "AWSLogs/1/CloudTrail/r/2024/02/"
        );
        assert_eq!(owning_folder("other/"), "other/");
        assert_eq!(owning_folder(""), "");
    }

    #[test]
    fn shards() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        assert!(Shard::parse("3/3").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").is_err());
        let folders: Vec<String> = (0..300)
            .map(|d| format!("AWSLogs/1/CloudTrail/r/{d}/"))
            .collect();
        for f in &folders {
            let owners = (0..3)
                .filter(|&i| Shard { index: i, count: 3 }.owns(f))
                .count();
            assert_eq!(owners, 1, "{f}");
        }
        assert_eq!(file_number("part-00ff", "part-00ff-00001.parquet"), Some(1));
        assert_eq!(
            file_number("part-00ff", &file_name("part-00ff", 123_456)),
            Some(123_456)
        );
        assert_eq!(file_number("part-00ff", "part-00ff-1.parquet"), None);
        assert_eq!(file_number("part-00ff", "part-00ffaa-00001.parquet"), None);
        assert_eq!(
            file_number("part-00ff", "_part-00ff-00001.parquet.tmp"),
            None
        );
    }
}
