//! Failure entries: bad data reported, not raised.

/// One failure entry, as `ListImportFailures` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureEntry {
    /// `s3://bucket/key` of the object.
    pub location: String,
    pub error_type: String,
    pub error_message: String,
}
