//! Errors of the discovery crate: bad locations and sources that cannot be read.

use std::fmt;

/// What went wrong reading one object or listing one prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// The bucket itself does not exist.
    NoSuchBucket,
    /// The object vanished between list and get.
    NoSuchKey,
    /// The caller may not read it.
    AccessDenied,
    /// The object is archived and must be restored first.
    InvalidObjectState,
    /// The object is larger than the reader may take.
    TooLarge,
    /// Anything else: I/O, network, a server error that outlived its retries.
    Other,
}

/// An error from an [`crate::ObjectSource`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    pub kind: SourceErrorKind,
    pub message: String,
}

impl SourceError {
    pub fn new(kind: SourceErrorKind, message: impl fmt::Display) -> Self {
        SourceError {
            kind,
            message: message.to_string(),
        }
    }

    /// An object over the size a reader takes.
    pub fn too_large(key: &str, limit: u64) -> Self {
        SourceError::new(
            SourceErrorKind::TooLarge,
            format!("{key}: the object is larger than {limit} bytes"),
        )
    }

    /// Maps an I/O error on `what` to the closest kind.
    pub fn from_io(err: &std::io::Error, what: &str) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => SourceErrorKind::NoSuchKey,
            std::io::ErrorKind::PermissionDenied => SourceErrorKind::AccessDenied,
            _ => SourceErrorKind::Other,
        };
        SourceError::new(kind, format!("{what}: {err}"))
    }
}

/// Errors that stop discovery as a whole.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("invalid location {0:?}: expected s3://BUCKET[/PREFIX]")]
    InvalidLocation(String),
    #[error("cannot list s3://{bucket}/{prefix}: {source}")]
    List {
        bucket: String,
        prefix: String,
        source: SourceError,
    },
}
