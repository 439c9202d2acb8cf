//! Log segments: the files beside the database where an import run appends the gzip bytes of
//! the log files it stores, so those bytes are written once, by the parser threads, instead of
//! twice (log, then checkpoint) through SQLite's pages by the one writer.
//!
//! A segment belongs to one run of one import: only that run appends to it, at offsets it
//! hands out itself, so two runs (one of them a run that lost its claim) never write the same
//! bytes. Bytes are appended before the transaction that names them and made durable before it
//! commits ([`crate::Store::write_files`] syncs every segment a batch names), so a committed log
//! file's bytes are on disk whenever its row is. Bytes whose transaction never committed (a
//! crash, a stop, a refused batch) stay in the segment, named by no row.

use crate::{Store, StoreError};
use rusqlite::params;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A segment open for appending, shared by the threads of one import run.
#[derive(Debug)]
pub struct Segment {
    num: i64,
    path: PathBuf,
    file: File,
    /// Where the next append goes.
    end: AtomicU64,
}

impl Segment {
    /// The segment's number (its row in `log_segments`).
    pub fn num(&self) -> i64 {
        self.num
    }

    /// Appends `bytes` and returns where they begin. Safe from many threads at once: each
    /// append gets its own range.
    pub fn append(&self, bytes: &[u8]) -> io::Result<u64> {
        let at = self.end.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.file.write_all_at(bytes, at)?;
        Ok(at)
    }

    /// Makes every append so far durable.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::Segment(self.path.display().to_string(), e))
    }
}

/// The folder of a database's segments: `<db>-logs`, beside SQLite's own `-wal` and `-shm`
/// (beside the file a link to the database leads to, as those are).
pub(crate) fn folder_of(db: &Path) -> PathBuf {
    let db = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    let mut name = db.into_os_string();
    name.push("-logs");
    PathBuf::from(name)
}

/// The bytes a database keeps on disk: its file and its log segments.
pub fn stored_bytes(db: &Path) -> u64 {
    let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let segments: u64 = std::fs::read_dir(folder_of(db)).map_or(0, |dir| {
        dir.filter_map(Result::ok).map(|e| len(&e.path())).sum()
    });
    len(db) + segments
}

fn file_name(num: i64) -> String {
    format!("{num:08}.seg")
}

/// What a segment begins with: its database row's token, so that a segment left by another
/// database (deleted without its folder, then replaced by a copy of a third) is refused
/// instead of read.
fn header(token: &str) -> Vec<u8> {
    format!("trailport log segment {token}\n").into_bytes()
}

impl Store {
    /// A new segment for a run of `import_id`: recorded in the database, then created holding
    /// its header, its name made durable before any bytes are appended to it.
    pub fn new_segment(&self, import_id: &str, now_ms: i64) -> Result<Arc<Segment>, StoreError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.conn.execute(
            "INSERT INTO log_segments (import_id, token, created_ms) VALUES (?1, ?2, ?3)",
            params![import_id, token, now_ms],
        )?;
        let num = self.conn.last_insert_rowid();
        let folder = &self.segments;
        let path = folder.join(file_name(num));
        let head = header(&token);
        // A file already there is left from a database this one replaced (deleted without its
        // folder): no row of this database names it, since its number was just taken.
        let created = std::fs::create_dir_all(folder).and_then(|()| {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)?;
            file.write_all_at(&head, 0)?;
            file.sync_data()?;
            // The file's name, and the folder's, survive a power loss before any row names them.
            File::open(folder)?.sync_all()?;
            if let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(parent)?.sync_all()?;
            }
            Ok(file)
        });
        let file = created.map_err(|e| StoreError::Segment(path.display().to_string(), e))?;
        Ok(Arc::new(Segment {
            num,
            path,
            file,
            end: AtomicU64::new(head.len() as u64),
        }))
    }

    /// `len` bytes at `offset` of segment `num`.
    pub(crate) fn segment_bytes(
        &self,
        num: i64,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let path = || self.segments.join(file_name(num));
        let mut files = self.segment_files.borrow_mut();
        let file = match files.iter().find(|(n, _)| *n == num) {
            Some((_, f)) => f.clone(),
            None => {
                let f = Arc::new(File::open(path()).map_err(|e| {
                    let hint = if e.kind() == io::ErrorKind::NotFound {
                        " (a database's log segments are in the folder beside it named after it \
                         with -logs; copy or move them with it)"
                    } else {
                        ""
                    };
                    StoreError::Segment(format!("{}{hint}", path().display()), e)
                })?);
                let token: String = self.conn.query_row(
                    "SELECT token FROM log_segments WHERE num = ?1",
                    [num],
                    |r| r.get(0),
                )?;
                let want = header(&token);
                let mut found = vec![0; want.len()];
                if f.read_exact_at(&mut found, 0).is_err() || found != want {
                    return Err(StoreError::Segment(
                        path().display().to_string(),
                        io::Error::other("this log segment belongs to another database"),
                    ));
                }
                // A few segments are open at a time (one per import run).
                if files.len() >= 16 {
                    files.remove(0);
                }
                files.push((num, f.clone()));
                f
            }
        };
        drop(files);
        // A range the file does not hold (a damaged row) is an error, never an allocation of
        // whatever length the row says. (Segments only grow, so the length is looked at now.)
        let size = file
            .metadata()
            .map_err(|e| StoreError::Segment(path().display().to_string(), e))?
            .len();
        if offset.checked_add(len as u64).is_none_or(|end| end > size) {
            return Err(StoreError::Segment(
                path().display().to_string(),
                io::Error::other(format!("bytes {offset}+{len} lie past its end ({size})")),
            ));
        }
        let mut bytes = vec![0; len];
        file.read_exact_at(&mut bytes, offset)
            .map_err(|e| StoreError::Segment(path().display().to_string(), e))?;
        Ok(bytes)
    }
}
