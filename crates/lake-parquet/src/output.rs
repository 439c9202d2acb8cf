//! Where files go: a directory here, or (through the command line's S3 client) a bucket.
//!
//! A file is written under a temporary name and only [`PendingFile::commit`] makes it visible
//! under its own, replacing any file of that name: a rename on a file system, the completion of
//! an upload on S3. A reader therefore never sees half a file, and a worker that dies leaves
//! only temporary names behind (starting with `_`, which Hive, Trino, Spark and Athena skip).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A place to write the partitioned files.
pub trait Output: Send + Sync {
    /// Where the files go, for messages and DDL: a path or `s3://bucket/prefix`.
    fn location(&self) -> String;
    /// Starts the file `rel` (`account=…/region=…/date=…/name.parquet`); nothing is visible
    /// under that name until the file is committed.
    fn create(&self, rel: &str) -> io::Result<Box<dyn PendingFile>>;
    /// The names of the finished files in the folder `dir` (relative, ending in `/`); none
    /// when it does not exist.
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// Removes the finished file `rel`.
    fn remove(&self, rel: &str) -> io::Result<()>;
}

/// A file being written.
pub trait PendingFile: Write + Send {
    /// Makes the file visible under its name, replacing any file of that name.
    fn commit(self: Box<Self>) -> io::Result<()>;
}

/// A directory as the output root.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// The directory `root`, made if missing.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<LocalDir> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(LocalDir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The temporary name of a file being written: hidden from query engines by its leading `_`,
/// and unique to this process so that two workers never write one temporary file.
pub fn temp_name(name: &str) -> String {
    format!("_{name}.{}.tmp", std::process::id())
}

struct LocalFile {
    temp: PathBuf,
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl Write for LocalFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open until committed").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until committed").flush()
    }
}

impl PendingFile for LocalFile {
    fn commit(mut self: Box<Self>) -> io::Result<()> {
        let file = self.file.take().expect("committed once");
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&self.temp, &self.path)
    }
}

impl Drop for LocalFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

impl Output for LocalDir {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn create(&self, rel: &str) -> io::Result<Box<dyn PendingFile>> {
        let path = self.root.join(rel);
        let dir = path.parent().expect("a file under the root");
        fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a file name");
        let temp = dir.join(temp_name(name));
        let file = File::create(&temp)?;
        Ok(Box::new(LocalFile {
            temp,
            path,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        }))
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        let entries = match fs::read_dir(self.root.join(dir)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(names),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn remove(&self, rel: &str) -> io::Result<()> {
        fs::remove_file(self.root.join(rel))
    }
}
