//! Parquet output to an S3 prefix: each file a multipart upload (a single PUT when it is
//! small) that appears whole when completed, or not at all.

use lake_parquet::{Output, PendingFile};
use s3_source::{S3Options, S3Source, Upload};
use std::io;
use std::sync::Arc;
use trail_discovery::ObjectSource;

/// S3's smallest part but the last.
const MIN_PART_BYTES: usize = 5 << 20;

/// Parts of `part_bytes` are sent while a file is written, so a file never sits whole in
/// memory.
pub struct S3Output {
    s3: Arc<S3Source>,
    part_bytes: usize,
    /// Empty, or ending in `/`.
    prefix: String,
}

impl S3Output {
    pub fn connect(
        bucket: &str,
        prefix: &str,
        opts: &S3Options,
        part_bytes: usize,
    ) -> anyhow::Result<S3Output> {
        let s3 = crate::sources::connect_s3(bucket, opts).map_err(|e| anyhow::anyhow!("{e}"))?;
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        Ok(S3Output {
            s3: Arc::new(s3),
            part_bytes: part_bytes.max(MIN_PART_BYTES),
            prefix,
        })
    }
}

fn io_error(e: trail_discovery::SourceError) -> io::Error {
    io::Error::other(e.message)
}

struct S3File {
    s3: Arc<S3Source>,
    part_bytes: usize,
    key: String,
    buf: Vec<u8>,
    upload: Option<Upload>,
}

impl io::Write for S3File {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.part_bytes {
            if self.upload.is_none() {
                self.upload = Some(self.s3.start_upload(&self.key).map_err(io_error)?);
            }
            let part = std::mem::take(&mut self.buf);
            let upload = self.upload.as_mut().expect("started above");
            upload.part(&self.s3, part).map_err(io_error)?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl PendingFile for S3File {
    fn commit(mut self: Box<Self>) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        match self.upload.take() {
            None => self.s3.put_object(&self.key, &buf).map_err(io_error),
            Some(mut upload) => {
                if !buf.is_empty() {
                    if let Err(e) = upload.part(&self.s3, buf) {
                        let _ = upload.abort(&self.s3);
                        return Err(io_error(e));
                    }
                }
                // A failed completion leaves the upload to abort (a completed one cannot be).
                let id = upload.clone();
                upload.complete(&self.s3).map_err(|e| {
                    let _ = id.abort(&self.s3);
                    io_error(e)
                })
            }
        }
    }
}

impl Drop for S3File {
    fn drop(&mut self) {
        if let Some(upload) = self.upload.take() {
            let _ = upload.abort(&self.s3);
        }
    }
}

impl Output for S3Output {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.s3.bucket(), self.prefix)
    }

    fn create(&self, rel: &str) -> io::Result<Box<dyn PendingFile>> {
        Ok(Box::new(S3File {
            s3: self.s3.clone(),
            part_bytes: self.part_bytes,
            key: format!("{}{rel}", self.prefix),
            buf: Vec::new(),
            upload: None,
        }))
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let at = format!("{}{dir}", self.prefix);
        let listing = self.s3.list(&at, "/").map_err(io_error)?;
        Ok(listing
            .objects
            .into_iter()
            .filter_map(|o| o.key.strip_prefix(&at).map(str::to_string))
            .filter(|n| !n.is_empty())
            .collect())
    }

    fn remove(&self, rel: &str) -> io::Result<()> {
        self.s3
            .delete_object(&format!("{}{rel}", self.prefix))
            .map_err(io_error)
    }
}
