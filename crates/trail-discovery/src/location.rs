//! `s3://bucket/prefix` locations, as `S3LocationUri` spells them, and the rules a bucket name
//! and a key prefix must follow.

use crate::DiscoveryError;

/// A bucket and a key prefix inside it (empty for the bucket root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    /// Parses `s3://BUCKET[/PREFIX]`. The bucket must be a valid S3 bucket name; the prefix is
    /// kept as written (a trailing `/` is significant to S3 listing) but may not hold `.` or
    /// `..` segments, empty segments or a NUL, which no CloudTrail key holds and which could
    /// only serve to climb out of a directory bucket.
    pub fn parse(uri: &str) -> Result<Location, DiscoveryError> {
        let invalid = || DiscoveryError::InvalidLocation(uri.to_string());
        let rest = uri.strip_prefix("s3://").ok_or_else(invalid)?;
        let (bucket, prefix) = match rest.split_once('/') {
            Some((b, p)) => (b, p),
            None => (rest, ""),
        };
        if !is_bucket_name(bucket) || !is_key_prefix(prefix) {
            return Err(invalid());
        }
        Ok(Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The `s3://` form of an object key in this location's bucket.
    pub fn object_uri(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, key)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// S3's bucket naming rules: 3–63 characters of lower-case letters, digits, `.` and `-`,
/// beginning and ending with a letter or digit, no `..`, not an IPv4 address.
pub fn is_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (3..=63).contains(&b.len())
        && b.iter().all(|&c| alnum(c) || c == b'.' || c == b'-')
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// A bucket name made from any text (a directory's name): lower-cased, other characters
/// replaced by `-`, trimmed and padded to S3's rules.
pub fn bucket_name_from(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    while name.contains("..") {
        name = name.replace("..", ".");
    }
    let trimmed = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut name: String = trimmed.chars().take(63).collect();
    name = name
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if name.len() < 3 || name.parse::<std::net::Ipv4Addr>().is_ok() {
        name = format!("bucket-{name}")
            .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string();
    }
    name
}

/// Whether a key prefix is made of path-like segments: no empty, `.` or `..` segment (a
/// trailing `/` aside), no leading `/`, no NUL.
pub fn is_key_prefix(prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    let inner = prefix.strip_suffix('/').unwrap_or(prefix);
    !inner.is_empty()
        && !prefix.contains('\0')
        && inner
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}
