//! Where buckets are read from: directories, and S3 (or an S3-compatible store).

use import_engine::{DirResolver, EngineError, ObjectSource, SourceResolver};
use s3_source::{S3Options, S3Source};
use std::sync::Arc;
use trail_discovery::SourceErrorKind;

/// The server's buckets: a directory under `--buckets-dir` wins; otherwise, with an S3
/// endpoint configured, the bucket is read over S3 in the Region `S3BucketRegion` names.
pub struct ServerResolver {
    pub dirs: DirResolver,
    pub s3: Option<S3Options>,
}

impl SourceResolver for ServerResolver {
    fn resolve(&self, bucket: &str, region: &str) -> Result<Arc<dyn ObjectSource>, EngineError> {
        let from_dir = self.dirs.resolve(bucket, region);
        let Some(opts) = &self.s3 else {
            return from_dir;
        };
        if from_dir.is_ok() {
            return from_dir;
        }
        let mut opts = opts.clone();
        if !region.is_empty() {
            opts.region = Some(region.to_string());
        }
        Ok(Arc::new(connect_s3(bucket, &opts)?))
    }
}

/// Connects to a bucket and checks that it can be listed; a bucket that does not exist or
/// cannot be listed is `InvalidImportSource`, with the reason.
pub fn connect_s3(bucket: &str, opts: &S3Options) -> Result<S3Source, EngineError> {
    let source =
        S3Source::connect(bucket, opts).map_err(|e| EngineError::InvalidImportSource(e.message))?;
    source.check().map_err(|e| {
        EngineError::InvalidImportSource(match e.kind {
            SourceErrorKind::NoSuchBucket => format!("The bucket {bucket} does not exist."),
            SourceErrorKind::AccessDenied => {
                format!("Access to the bucket {bucket} was denied: {}", e.message)
            }
            _ => e.message,
        })
    })?;
    Ok(source)
}
