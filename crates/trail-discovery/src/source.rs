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
    /// Reads one whole object of at most `limit` bytes; a larger one is a `TooLarge` error,
    /// found without reading more than `limit + 1` bytes.
    fn read(&self, key: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        // Room for the whole object and the byte that says it ends (a limit is the listed
        // size, which the caller has reserved memory for), so it is read in one go rather than
        // in growing pieces; never more than 64 MiB on a limit's word alone.
        let mut buf = Vec::with_capacity(limit.saturating_add(1).min(64 << 20) as usize);
        self.open(key)?
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| SourceError::from_io(&e, key))?;
        if buf.len() as u64 > limit {
            return Err(SourceError::too_large(key, limit));
        }
        Ok(buf)
    }
    /// How many list calls this source has answered (for tests of pruning).
    fn list_calls(&self) -> u64 {
        0
    }
    /// Writes one object (query results delivered to `DeliveryS3Uri`). Sources that cannot
    /// be written refuse with `AccessDenied`.
    fn put_object(&self, key: &str, _bytes: &[u8]) -> Result<(), SourceError> {
        Err(SourceError::new(
            SourceErrorKind::AccessDenied,
            format!("{key}: this bucket cannot be written"),
        ))
    }
    /// How many folders a walk lists at once: the one it is at and those it visits next.
    /// 1 (local sources, where a list is a directory read) lists one at a time; a remote
    /// source, where each list is a round trip, lists several (up to 64) so that a bucket of
    /// thousands of day folders is not walked one round trip after another.
    fn list_concurrency(&self) -> usize {
        1
    }
    /// How many objects to keep in flight ahead of the parsers. 0 (local sources) means the
    /// parsers read each object themselves; a remote source fetches many at once through
    /// [`ObjectSource::fetch_many`] so that latency does not idle the cores.
    fn fetch_concurrency(&self) -> usize {
        0
    }
    /// Reads every object (`(key, limit)`, as [`ObjectSource::read`]), calling `each(index,
    /// result)` as objects arrive, in any order; stops early when `each` returns `false`.
    /// Before starting object `i` it asks `admit(i, may_wait)`: `Some(true)` to go on,
    /// `Some(false)` to stop, `None` (only when `may_wait` is false) for "not yet" — the
    /// source then hands over what it already has before asking again, so an `admit` that waits
    /// for memory to be released never waits on objects the source itself holds.
    fn fetch_many(
        &self,
        objects: &[(String, u64)],
        admit: &mut dyn FnMut(usize, bool) -> Option<bool>,
        each: &mut dyn FnMut(usize, Result<Vec<u8>, SourceError>) -> bool,
    ) {
        for (i, (key, limit)) in objects.iter().enumerate() {
            if admit(i, true) != Some(true) {
                return;
            }
            if !each(i, self.read(key, *limit)) {
                return;
            }
        }
    }
}

/// A directory served as a bucket root: keys are paths relative to it, with `/` separators.
///
/// Keys are keys, never paths: one with an empty, `.` or `..` segment, a leading `/` or a NUL
/// names no object. Nothing outside the root is read: a symbolic link is followed only to a
/// regular file inside the root; one that leaves the root, dangles or loops is listed (it is a
/// name in the bucket) but reading it fails, and links to directories are not followed. Only
/// regular files are objects: FIFOs, sockets and devices are not listed, and a file is opened
/// without blocking and checked again once open, so nothing can make a read wait forever.
#[derive(Debug)]
pub struct LocalDirSource {
    root: PathBuf,
    /// The root opened as a bare handle, for opening keys beneath it (Linux).
    #[cfg(target_os = "linux")]
    root_handle: Option<RootHandle>,
    bucket: String,
    list_calls: AtomicU64,
}

impl LocalDirSource {
    /// Serves `root`; the bucket is named after its last path component, made a valid S3
    /// bucket name.
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
        let root = root.canonicalize().map_err(|e| {
            SourceError::new(
                SourceErrorKind::NoSuchBucket,
                format!("{}: {e}", root.display()),
            )
        })?;
        let bucket = crate::location::bucket_name_from(
            &root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        #[cfg(target_os = "linux")]
        // The canonical path has no links: one found now was swapped in since, and refused.
        let root_handle = {
            use rustix::fs::{fstat, openat2, Mode, OFlags, ResolveFlags, CWD};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            openat2(CWD, &root, flags, Mode::empty(), ResolveFlags::NO_SYMLINKS)
                .ok()
                .and_then(|fd| {
                    let id = file_id(&fstat(&fd).ok()?);
                    Some(RootHandle { fd, id })
                })
        };
        Ok(LocalDirSource {
            root,
            #[cfg(target_os = "linux")]
            root_handle,
            bucket,
            list_calls: AtomicU64::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path a key (or a folder key ending in `/`) names under the root, if it names one.
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        key_path(key).map(|inner| match inner {
            "" => self.root.clone(),
            inner => self.root.join(inner),
        })
    }

    /// The path a key names, resolved through any links, if it stays inside the root.
    fn resolve(&self, key: &str) -> Result<PathBuf, SourceError> {
        let path = self.path_of(key).ok_or_else(|| {
            SourceError::new(
                SourceErrorKind::NoSuchKey,
                format!("{key}: not a key of this bucket"),
            )
        })?;
        let real = path.canonicalize().map_err(|e| open_error(&e, key))?;
        if !real.starts_with(&self.root) {
            return Err(SourceError::new(
                SourceErrorKind::AccessDenied,
                format!("{key}: a link to {} leaves the bucket", real.display()),
            ));
        }
        Ok(real)
    }

    /// [`ObjectSource::open`] in a few system calls, where the path check resolves the key
    /// one component at a time. The key is opened beneath the root's handle with `openat2`,
    /// which refuses any resolution that leaves the root or passes through a `/proc` magic
    /// link, as a bare handle (`O_PATH`: it opens nothing, so no device is opened) whose type
    /// is checked; then that very file is opened for reading, through `/proc/self/fd` (or, where
    /// there is no `/proc`, by its name again, and it must be the same file). `None` (the caller
    /// then resolves the path itself, and so decides every refusal and every error) off Linux,
    /// on kernels without `openat2`, when the root's path no longer names the root this source
    /// opened, and whenever this path cannot say yes: a link with an absolute target, a loop, a
    /// missing file, another type, a file that changed.
    #[cfg(target_os = "linux")]
    fn open_beneath(&self, key: &str) -> Option<std::fs::File> {
        use rustix::fd::AsRawFd;
        use rustix::fs::{fstat, openat2, stat, FileType, Mode, OFlags, ResolveFlags};
        use std::os::unix::fs::OpenOptionsExt;
        let root = self.root_handle.as_ref()?;
        let inner = key_path(key).filter(|inner| !inner.is_empty())?;
        // Renamed or replaced: the path is the root now, as `list` sees it.
        if file_id(&stat(&self.root).ok()?) != root.id {
            return None;
        }
        let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        let bare_flags = OFlags::PATH | OFlags::CLOEXEC;
        let bare = openat2(&root.fd, inner, bare_flags, Mode::empty(), how).ok()?;
        let seen = fstat(&bare).ok()?;
        let seen_id = file_id(&seen);
        if !FileType::from_raw_mode(seen.st_mode).is_file() {
            return None;
        }
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK | O_NOCTTY)
            .open(format!("/proc/self/fd/{}", bare.as_raw_fd()))
        {
            Ok(file) => file,
            Err(_) => {
                let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
                std::fs::File::from(openat2(&root.fd, inner, flags, Mode::empty(), how).ok()?)
            }
        };
        let opened = fstat(&file).ok()?;
        let same = file_id(&opened) == seen_id;
        (same && FileType::from_raw_mode(opened.st_mode).is_file()).then_some(file)
    }

    #[cfg(not(target_os = "linux"))]
    fn open_beneath(&self, _key: &str) -> Option<std::fs::File> {
        None
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
        let Some(dir) = self.path_of(dir_key) else {
            return Ok(());
        };
        // The folder must be a real directory inside the root, reached without links.
        match dir.canonicalize() {
            Ok(real) if real == dir => {}
            Ok(_) => return Ok(()),
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
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(SourceError::from_io(&e, &format!("list {dir_key}"))),
        };
        let mut names = Vec::new();
        for entry in entries {
            // An entry that vanished or cannot be read is left to the read of its key.
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(partial) {
                continue;
            }
            let Ok(file_type) = entry.file_type() else {
                names.push((name.clone(), name, false, 0));
                continue;
            };
            let (is_dir, size) = if file_type.is_dir() {
                (true, 0)
            } else if file_type.is_file() {
                (false, entry.metadata().map(|m| m.len()).unwrap_or(0))
            } else if file_type.is_symlink() {
                // Followed only to a regular file inside the root; a link to a directory is
                // not walked; one that leaves, dangles or loops is an object whose read fails.
                match entry.path().canonicalize() {
                    Ok(real) if real.starts_with(&self.root) => match std::fs::metadata(&real) {
                        Ok(m) if m.is_file() => (false, m.len()),
                        Ok(m) if m.is_dir() => continue,
                        Ok(_) => continue,
                        Err(_) => (false, 0),
                    },
                    _ => (false, 0),
                }
            } else {
                // FIFOs, sockets, devices: not objects.
                continue;
            };
            // Sort as S3 does, by the whole key: `CloudTrail-Digest/` before `CloudTrail/`.
            let sort_key = if is_dir {
                format!("{name}/")
            } else {
                name.clone()
            };
            names.push((sort_key, name, is_dir, size));
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

    /// Writes `ROOT/KEY`, making its folders; a key with `..`, an empty segment or a leading
    /// `/` is refused, and so is one whose folders lead out of the root through a link. The
    /// object appears whole or not at all (written aside, then renamed).
    fn put_object(&self, key: &str, bytes: &[u8]) -> Result<(), SourceError> {
        let path = self
            .path_of(key)
            .filter(|_| !key.ends_with('/'))
            .ok_or_else(|| {
                SourceError::new(SourceErrorKind::AccessDenied, format!("{key}: not a key"))
            })?;
        let dir = path
            .parent()
            .expect("a key has a folder: the root at least");
        std::fs::create_dir_all(dir).map_err(|e| SourceError::from_io(&e, key))?;
        let root = self
            .root
            .canonicalize()
            .map_err(|e| SourceError::from_io(&e, key))?;
        let real_dir = dir
            .canonicalize()
            .map_err(|e| SourceError::from_io(&e, key))?;
        if !real_dir.starts_with(&root) {
            return Err(SourceError::new(
                SourceErrorKind::AccessDenied,
                format!("{key}: its folder leads out of the bucket"),
            ));
        }
        let name = path.file_name().expect("a key names a file");
        let tmp = real_dir.join(format!(".{}.part", name.to_string_lossy()));
        std::fs::write(&tmp, bytes).map_err(|e| SourceError::from_io(&e, key))?;
        std::fs::rename(&tmp, real_dir.join(name)).map_err(|e| SourceError::from_io(&e, key))
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
        if let Some(file) = self.open_beneath(key) {
            return Ok(Box::new(file));
        }
        let path = self.resolve(key)?;
        let meta = std::fs::metadata(&path).map_err(|e| SourceError::from_io(&e, key))?;
        if !meta.is_file() {
            return Err(not_a_file(key));
        }
        // Opened without blocking (a FIFO swapped in after the check cannot hold the open),
        // then checked again on the handle.
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK)
            .open(&path)
            .map_err(|e| SourceError::from_io(&e, key))?;
        let meta = file.metadata().map_err(|e| SourceError::from_io(&e, key))?;
        if !meta.is_file() {
            return Err(not_a_file(key));
        }
        Ok(Box::new(file))
    }

    fn list_calls(&self) -> u64 {
        self.list_calls.load(Ordering::Relaxed)
    }
}

/// The path below the root a key (or a folder key ending in `/`) names, if it names one: `""`
/// for the root itself.
fn key_path(key: &str) -> Option<&str> {
    let inner = key.strip_suffix('/').unwrap_or(key);
    if inner.is_empty() {
        return key.is_empty().then_some("");
    }
    let ok = !key.starts_with('/')
        && !key.contains('\0')
        && inner
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    ok.then_some(inner)
}

fn not_a_file(key: &str) -> SourceError {
    SourceError::new(SourceErrorKind::Other, format!("{key}: not a regular file"))
}

/// Why a key's path could not be opened or resolved.
fn open_error(e: &std::io::Error, key: &str) -> SourceError {
    let mut err = SourceError::from_io(e, key);
    if key.contains('\u{FFFD}') && e.kind() == std::io::ErrorKind::NotFound {
        err.message = format!("{key}: the file name is not valid UTF-8, so it is no key");
    }
    err
}

/// The root of a [`LocalDirSource`], opened as a bare handle, and the file it is.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct RootHandle {
    fd: rustix::fd::OwnedFd,
    id: (u64, u64),
}

/// Which file a `stat` describes: its device and inode.
#[cfg(target_os = "linux")]
#[allow(clippy::unnecessary_cast)] // the fields' types differ between architectures
fn file_id(st: &rustix::fs::Stat) -> (u64, u64) {
    (st.st_dev as u64, st.st_ino as u64)
}

/// `O_NOCTTY` and `O_NONBLOCK` as this Linux architecture spells them.
#[cfg(target_os = "linux")]
const O_NOCTTY: i32 = rustix::fs::OFlags::NOCTTY.bits() as i32;
#[cfg(target_os = "linux")]
const O_NONBLOCK: i32 = rustix::fs::OFlags::NONBLOCK.bits() as i32;
/// `O_NONBLOCK` on the BSDs and macOS.
#[cfg(not(target_os = "linux"))]
const O_NONBLOCK: i32 = 0x0004;

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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    //! The fast open of a directory bucket: what it accepts itself, and what it leaves to the
    //! component-by-component check (`None`).
    use super::LocalDirSource;
    use std::io::Read;

    #[test]
    fn opening_beneath_the_root_takes_only_what_it_can_vouch_for() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("bucket");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("good"), b"good").unwrap();
        std::os::unix::fs::symlink("good", root.join("relative")).unwrap();
        std::os::unix::fs::symlink("../good", root.join("sub/up")).unwrap();
        std::os::unix::fs::symlink(root.join("good"), root.join("absolute")).unwrap();
        std::os::unix::fs::symlink("../../outside", root.join("sub/out")).unwrap();
        std::fs::write(dir.path().join("outside"), b"secret").unwrap();
        std::os::unix::fs::symlink("sub", root.join("dir")).unwrap();
        assert!(std::process::Command::new("mkfifo")
            .arg(root.join("fifo"))
            .status()
            .unwrap()
            .success());
        let src = LocalDirSource::new(&root).unwrap();
        let read = |key: &str| {
            src.open_beneath(key).map(|mut f| {
                let mut s = String::new();
                f.read_to_string(&mut s).unwrap();
                s
            })
        };
        assert_eq!(read("good").as_deref(), Some("good"));
        assert_eq!(read("relative").as_deref(), Some("good"));
        assert_eq!(read("sub/up").as_deref(), Some("good"));
        // Left to the check: an absolute link, a way out, a directory, a FIFO, nothing.
        for key in [
            "absolute",
            "sub/out",
            "dir",
            "sub",
            "fifo",
            "missing",
            "../outside",
        ] {
            assert!(read(key).is_none(), "{key}");
        }
        // `/proc` magic links are refused, even to a file this process could read.
        let proc = LocalDirSource::new("/proc").unwrap();
        assert!(proc.open_beneath("self/status").is_some());
        let via_root = format!("self/root{}", root.join("good").display());
        assert!(proc.open_beneath(&via_root).is_none(), "{via_root}");
        // The root renamed and another folder put in its place: the path is the root now.
        std::fs::rename(&root, dir.path().join("moved")).unwrap();
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("good"), b"new").unwrap();
        assert!(read("good").is_none());
    }
}
