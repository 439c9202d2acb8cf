//! Failure entries: bad data reported, not raised, and the one list of their `ErrorType`s.

use trail_discovery::SourceErrorKind;

/// Why an object (or a whole location) was not imported: the `ErrorType` of a failure entry.
/// Every name a failure entry can carry is here, spelled once in [`ErrorType::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorType {
    /// Not gzip, does not inflate, not UTF-8, not a JSON object with a `Records` array, or
    /// larger than the inflate cap.
    InvalidFileFormat,
    /// Records that are not valid CloudTrail events (one entry per file).
    InvalidEventRecord,
    NoSuchBucket,
    NoSuchKey,
    AccessDenied,
    /// Archived: must be restored before it can be read.
    InvalidObjectState,
    /// Any other read error that outlived its retries.
    ObjectReadError,
    /// The import's source could not be resolved at all.
    InvalidImportSource,
    /// trailport itself failed (the database, a thread).
    InternalFailure,
}

impl ErrorType {
    pub const ALL: [ErrorType; 9] = [
        Self::InvalidFileFormat,
        Self::InvalidEventRecord,
        Self::NoSuchBucket,
        Self::NoSuchKey,
        Self::AccessDenied,
        Self::InvalidObjectState,
        Self::ObjectReadError,
        Self::InvalidImportSource,
        Self::InternalFailure,
    ];

    /// The name as `ListImportFailures` reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFileFormat => "InvalidFileFormat",
            Self::InvalidEventRecord => "InvalidEventRecord",
            Self::NoSuchBucket => "NoSuchBucket",
            Self::NoSuchKey => "NoSuchKey",
            Self::AccessDenied => "AccessDenied",
            Self::InvalidObjectState => "InvalidObjectState",
            Self::ObjectReadError => "ObjectReadError",
            Self::InvalidImportSource => "InvalidImportSource",
            Self::InternalFailure => "InternalFailure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl From<SourceErrorKind> for ErrorType {
    fn from(kind: SourceErrorKind) -> Self {
        match kind {
            SourceErrorKind::NoSuchBucket => ErrorType::NoSuchBucket,
            SourceErrorKind::NoSuchKey => ErrorType::NoSuchKey,
            SourceErrorKind::AccessDenied => ErrorType::AccessDenied,
            SourceErrorKind::InvalidObjectState => ErrorType::InvalidObjectState,
            SourceErrorKind::TooLarge => ErrorType::InvalidFileFormat,
            SourceErrorKind::Other => ErrorType::ObjectReadError,
        }
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failure entry, as `ListImportFailures` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureEntry {
    /// `s3://bucket/key` of the object.
    pub location: String,
    pub error_type: ErrorType,
    pub error_message: String,
}
