//! Where an import's bucket is read from: resolving `S3LocationUri` buckets to sources.

use crate::EngineError;
use std::path::PathBuf;
use std::sync::Arc;
use trail_discovery::{LocalDirSource, ObjectSource, SourceErrorKind};

/// Finds the source serving a bucket.
pub trait SourceResolver: Send + Sync {
    /// The source for `bucket` (in `region`, as `S3BucketRegion` says), or
    /// `InvalidImportSource` if there is none.
    fn resolve(&self, bucket: &str, region: &str) -> Result<Arc<dyn ObjectSource>, EngineError>;
}

/// Buckets as directories: bucket `B` is the directory `ROOT/B`.
#[derive(Debug, Clone)]
pub struct DirResolver {
    pub root: PathBuf,
}

impl SourceResolver for DirResolver {
    fn resolve(&self, bucket: &str, _region: &str) -> Result<Arc<dyn ObjectSource>, EngineError> {
        if bucket.is_empty() || bucket.contains(['/', '\\']) || bucket.starts_with('.') {
            return Err(EngineError::InvalidImportSource(format!(
                "{bucket:?} is not a bucket name"
            )));
        }
        match LocalDirSource::new(self.root.join(bucket)) {
            Ok(source) => Ok(Arc::new(source)),
            Err(e) if e.kind == SourceErrorKind::NoSuchBucket => Err(
                EngineError::InvalidImportSource(format!("The bucket {bucket} does not exist.")),
            ),
            Err(e) => Err(EngineError::InvalidImportSource(e.message)),
        }
    }
}

/// One bucket already opened (the command line's): it resolves its own name only.
pub struct OneBucket(pub Arc<dyn ObjectSource>);

impl SourceResolver for OneBucket {
    fn resolve(&self, bucket: &str, _region: &str) -> Result<Arc<dyn ObjectSource>, EngineError> {
        if bucket == self.0.bucket() {
            Ok(self.0.clone())
        } else {
            Err(EngineError::InvalidImportSource(format!(
                "The bucket {bucket} is not the one this command reads ({}).",
                self.0.bucket()
            )))
        }
    }
}

/// No buckets at all.
pub struct NoBuckets;

impl SourceResolver for NoBuckets {
    fn resolve(&self, bucket: &str, _region: &str) -> Result<Arc<dyn ObjectSource>, EngineError> {
        Err(EngineError::InvalidImportSource(format!(
            "The bucket {bucket} does not exist."
        )))
    }
}
