//! The `ObjectSource` trait and its local implementations: a directory, and keys in memory.

use crate::{SourceError, SourceErrorKind};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
}

/// The result of listing one prefix with a delimiter: the "folders" just below it and the objects
/// directly in it, both in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub common_prefixes: Vec<String>,
    pub objects: Vec<ObjectMeta>,
}

/// A bucket, as the import engine sees it.
///
/// `list` has S3's `ListObjectsV2` semantics: every key that starts with `prefix`; with a
/// delimiter, keys holding the delimiter after the prefix are rolled up into common prefixes
/// ending with it. Implementations walk their own pagination and return the whole listing.
pub trait ObjectSource: Send + Sync {
    /// The bucket name, for `s3://` locations in reports.
    fn bucket(&self) -> &str;
    /// Lists `prefix` with `delimiter` (`"/"`, or `""` for a flat listing).
    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, SourceError>;
    /// Opens one object for reading.
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, SourceError>;
    /// Reads one whole object.
    fn read(&self, key: &str) -> Result<Vec<u8>, SourceError> {
        let mut buf = Vec::new();
        self.open(key)?
            .read_to_end(&mut buf)
            .map_err(|e| SourceError::from_io(&e, key))?;
        Ok(buf)
    }
    /// How many list calls this source has answered (for tests of pruning).
    fn list_calls(&self) -> u64 {
        0
    }
    /// How many objects to keep in flight ahead of the parsers. 0 (local sources) means the
    /// parsers read each object themselves; a remote source fetches many at once through
    /// [`ObjectSource::fetch_many`] so that latency does not idle the cores.
    fn fetch_concurrency(&self) -> usize {
        0
    }
    /// Reads every key, calling `each(index, result)` as objects arrive, in any order; stops
    /// early when `each` returns `false`.
    fn fetch_many(
        &self,
        keys: &[String],
        each: &mut dyn FnMut(usize, Result<Vec<u8>, SourceError>) -> bool,
    ) {
        for (i, key) in keys.iter().enumerate() {
            if !each(i, self.read(key)) {
                return;
            }
        }
    }
}

/// A directory served as a bucket root: keys are paths relative to it, with `/` separators.
#[derive(Debug)]
pub struct LocalDirSource {
    root: PathBuf,
    bucket: String,
    list_calls: AtomicU64,
}

impl LocalDirSource {
    /// Serves `root`; the bucket name is its last path component.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, SourceError> {
        let root: PathBuf = root.into();
        let meta = std::fs::metadata(&root).map_err(|e| {
            SourceError::new(
                SourceErrorKind::NoSuchBucket,
                format!("{}: {e}", root.display()),
            )
        })?;
        if !meta.is_dir() {
            return Err(SourceError::new(
                SourceErrorKind::NoSuchBucket,
                format!("{} is not a directory", root.display()),
            ));
        }
        let root = root.canonicalize().unwrap_or(root);
        let bucket = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bucket".into());
        Ok(LocalDirSource {
            root,
            bucket,
            list_calls: AtomicU64::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn list_flat(&self, dir_key: &str, out: &mut Listing) -> Result<(), SourceError> {
        let mut sub = Listing::default();
        self.list_dir(dir_key, "", "/", &mut sub)?;
        out.objects.extend(sub.objects);
        for p in sub.common_prefixes {
            self.list_flat(&p, out)?;
        }
        Ok(())
    }

    /// Lists the directory `dir_key` (empty or ending in `/`), keeping names starting with
    /// `partial`, rolling sub-directories up when `delimiter` is `/`.
    fn list_dir(
        &self,
        dir_key: &str,
        partial: &str,
        delimiter: &str,
        out: &mut Listing,
    ) -> Result<(), SourceError> {
        let dir = self.path_of(dir_key);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !self.root.is_dir() {
                    return Err(SourceError::new(
                        SourceErrorKind::NoSuchBucket,
                        format!("{} no longer exists", self.root.display()),
                    ));
                }
                return Ok(());
            }
            Err(e) => return Err(SourceError::from_io(&e, &format!("list {dir_key}"))),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| SourceError::from_io(&e, &format!("list {dir_key}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(partial) {
                continue;
            }
            // Follow symlinks, as a bucket copied with `cp -s` or `ln -s` should still read.
            let meta = std::fs::metadata(entry.path())
                .map_err(|e| SourceError::from_io(&e, &format!("stat {dir_key}{name}")))?;
            // Sort as S3 does, by the whole key: `CloudTrail-Digest/` before `CloudTrail/`.
            let sort_key = if meta.is_dir() {
                format!("{name}/")
            } else {
                name.clone()
            };
            names.push((sort_key, name, meta.is_dir(), meta.len()));
        }
        names.sort();
        for (_, name, is_dir, size) in names {
            let key = format!("{dir_key}{name}");
            if is_dir {
                let p = format!("{key}/");
                if delimiter == "/" {
                    out.common_prefixes.push(p);
                } else {
                    self.list_flat(&p, out)?;
                }
            } else {
                out.objects.push(ObjectMeta { key, size });
            }
        }
        Ok(())
    }
}

impl ObjectSource for LocalDirSource {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, SourceError> {
        self.list_calls.fetch_add(1, Ordering::Relaxed);
        let (dir_key, partial) = match prefix.rfind('/') {
            Some(i) => prefix.split_at(i + 1),
            None => ("", prefix),
        };
        let mut out = Listing::default();
        self.list_dir(dir_key, partial, delimiter, &mut out)?;
        if delimiter.is_empty() {
            out.objects.sort_by(|a, b| a.key.cmp(&b.key));
        }
        Ok(out)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let file =
            std::fs::File::open(self.path_of(key)).map_err(|e| SourceError::from_io(&e, key))?;
        Ok(Box::new(file))
    }

    fn read(&self, key: &str) -> Result<Vec<u8>, SourceError> {
        std::fs::read(self.path_of(key)).map_err(|e| SourceError::from_io(&e, key))
    }

    fn list_calls(&self) -> u64 {
        self.list_calls.load(Ordering::Relaxed)
    }
}

/// A bucket held in memory, with exact S3 listing semantics (keys ending in `/` included).
/// Used by tests and benchmarks that need keys no file system can hold.
#[derive(Debug, Default)]
pub struct MemorySource {
    bucket: String,
    objects: BTreeMap<String, Vec<u8>>,
    list_calls: AtomicU64,
    /// How many times each key was opened.
    reads: std::sync::Mutex<BTreeMap<String, u64>>,
}

impl MemorySource {
    pub fn new(bucket: impl Into<String>) -> Self {
        MemorySource {
            bucket: bucket.into(),
            ..Default::default()
        }
    }

    pub fn put(&mut self, key: impl Into<String>, body: impl Into<Vec<u8>>) {
        self.objects.insert(key.into(), body.into());
    }

    /// How many times each key was opened (for tests of the readers).
    pub fn reads(&self) -> BTreeMap<String, u64> {
        self.reads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl ObjectSource for MemorySource {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, SourceError> {
        self.list_calls.fetch_add(1, Ordering::Relaxed);
        let mut out = Listing::default();
        for (key, body) in self.objects.range(prefix.to_string()..) {
            let Some(rest) = key.strip_prefix(prefix) else {
                break;
            };
            match (!delimiter.is_empty())
                .then(|| rest.find(delimiter))
                .flatten()
            {
                Some(i) => {
                    let common = format!("{prefix}{}", &rest[..i + delimiter.len()]);
                    if out.common_prefixes.last() != Some(&common) {
                        out.common_prefixes.push(common);
                    }
                }
                None => out.objects.push(ObjectMeta {
                    key: key.clone(),
                    size: body.len() as u64,
                }),
            }
        }
        Ok(out)
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        *self
            .reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default() += 1;
        match self.objects.get(key) {
            Some(body) => Ok(Box::new(body.as_slice())),
            None => Err(SourceError::new(SourceErrorKind::NoSuchKey, key)),
        }
    }

    fn list_calls(&self) -> u64 {
        self.list_calls.load(Ordering::Relaxed)
    }
}
