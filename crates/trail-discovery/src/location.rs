//! `s3://bucket/prefix` locations, as `S3LocationUri` spells them.

use crate::DiscoveryError;

/// A bucket and a key prefix inside it (empty for the bucket root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    /// Parses `s3://BUCKET[/PREFIX]`. The prefix is kept as written (a trailing `/` is significant
    /// to S3 listing, so `s3://b/AWSLogs` also matches `AWSLogs-old/`).
    pub fn parse(uri: &str) -> Result<Location, DiscoveryError> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| DiscoveryError::InvalidLocation(uri.to_string()))?;
        let (bucket, prefix) = match rest.split_once('/') {
            Some((b, p)) => (b, p),
            None => (rest, ""),
        };
        if !valid_bucket_name(bucket) {
            return Err(DiscoveryError::InvalidLocation(uri.to_string()));
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

/// A bucket name: 1–255 characters, no `/`, no whitespace. Local directories used as buckets
/// need not follow S3's stricter rules; the API checks those where AWS does.
fn valid_bucket_name(name: &str) -> bool {
    (1..=255).contains(&name.len()) && !name.chars().any(|c| c == '/' || c.is_whitespace())
}
