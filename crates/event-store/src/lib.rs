//! SQLite-backed event data stores: stores, imports and their progress, failures, and events.
//!
//! [`Store`] wraps one rusqlite connection. Event data stores ([`EventDataStore`]), their tags,
//! and imports ([`ImportRecord`], with [`ImportStatus`] and [`ImportStatistics`]) are rows; an
//! import's discovered folders and files are recorded with [`Store::add_prefix`] so that a
//! resumed import knows exactly which files are left. [`Store::write_files`] commits a batch of
//! finished files ([`FileWrite`]) in one transaction: their events, their failure entries, the
//! mark that each file is done and the import's statistics move together, and only while the
//! import is still running, so an interrupted or stopped import never keeps half a file, a
//! resumed one never imports a file twice, and nothing lands after a stop was answered.
//!
//! Events are stored as each log file's original gzip bytes, kept once, plus one narrow index
//! row per event (time, id, source, name, region, account, and the byte span of the record in
//! the inflated file). [`Store::events`] returns [`StoredEvent`]s with their raw record bytes
//! exactly as they were in the file. The layout is private to this crate and changes only by
//! appending to the migrations in `schema.rs`. This crate knows nothing of parsing, S3, HTTP or
//! wire names; every timestamp it writes is the caller's `now` (epoch milliseconds).

mod eds;
mod error;
mod events;
mod imports;
mod logs;
mod queries;
mod schema;
mod segments;
mod tags;
mod write;

pub use eds::{BillingMode, EventDataStore, EventDataStoreStatus, NewEventDataStore};
pub use error::StoreError;
pub use events::{
    EventQuery, PartitionValues, PartitionedEvent, StoredEvent, TextCache, TEXT_CACHE_BYTES,
};
pub use imports::{
    FailureRecord, FailureStatus, ImportFilter, ImportRecord, ImportStatistics, ImportStatus,
    NewImport, PendingFile,
};
pub use logs::{
    LogBatch, LogEventRange, LogEventRow, LogEventScope, LogGroup, LogPosition, LogStream, LogTask,
    LogTaskBusy, LogTaskFilter, LogTaskStatus, NewLogTask, StreamOrder, FIRST_POSITION,
    LAST_POSITION,
};
pub use queries::{NewQuery, QueryFilter, QueryRecord, QueryStats, QueryStatus};
pub use segments::{stored_bytes, Segment};
pub use tags::Tag;
pub use write::{EventRow, FailureRow, FileWrite, LogBytes};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use rustc_hash::FxHashMap;
use std::path::Path;
use std::time::Duration;

/// The page cache of a store's connection, in KiB (a negative `cache_size`).
pub(crate) const CACHE_KIB: i64 = 64 << 10;

/// The page cache, in KiB, while a statement sorts much: SQLite's sorter takes its memory
/// from the cache's size, and sorts short runs and merges them faster, and in less memory,
/// than one run of every key (`Store::with_sort_cache`).
const SORT_CACHE_KIB: i64 = 2 << 10;

/// One connection to a trailport database.
pub struct Store {
    conn: Connection,
    /// Interned strings (event sources, names, regions, accounts) already in the database.
    strings: FxHashMap<String, i64>,
    /// The log files last inflated for reading records.
    texts: std::cell::RefCell<events::TextCache>,
    /// The folder of the database's log segments, beside it.
    segments: std::path::PathBuf,
    /// Whether the database predates log segments (opened read-only, never migrated).
    inline_bytes_only: bool,
    /// Segments open for reading.
    segment_files: std::cell::RefCell<Vec<(i64, std::sync::Arc<std::fs::File>)>>,
}

impl Store {
    /// Runs `f` with the page cache at [`SORT_CACHE_KIB`], then sets it back. The end of an
    /// import's index build: 0.18-0.19 s instead of 0.27-0.30 s for 716k keys; a partition-
    /// ordered export of 10 GiB: 45.8 s and 410 MB instead of 48.2 s and 458 at 16 MiB
    /// (docs/benchmarks.md).
    pub(crate) fn with_sort_cache<T>(
        &self,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn
            .pragma_update(None, "cache_size", -SORT_CACHE_KIB)?;
        let result = f();
        self.conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        result
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let mut conn = Connection::open(path)?;
        conn.busy_handler(Some(wait_for_lock))?;
        // Every transaction takes the write lock when it begins, so two writers (two processes
        // on one file) wait for each other instead of failing when a read upgrades too late.
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        // WAL: readers (GetImport while an import runs) never block the writer, and a killed
        // process loses nothing committed. NORMAL sync: a power loss may lose the last
        // transactions but never corrupts; their files are simply imported again on resume.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            inline_bytes_only: false,
            conn,
            strings: FxHashMap::default(),
            texts: Default::default(),
            segments: segments::folder_of(path),
            segment_files: Default::default(),
        })
    }

    /// Opens an existing database for reading only: it is never written, so a read-only file
    /// serves as well; where not even the WAL's shared-memory file can be made (a read-only
    /// directory), the file is read as immutable. A database of a newer schema is refused.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened = Connection::open_with_flags(path, flags).and_then(|conn| {
            // Opening is lazy: the first read shows whether the file can be read.
            conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?;
            Ok(conn)
        });
        let conn = match opened {
            Ok(conn) => conn,
            Err(_) if path.exists() => {
                let escaped = path
                    .display()
                    .to_string()
                    .replace('%', "%25")
                    .replace('?', "%3f")
                    .replace('#', "%23");
                let uri = format!("file:{escaped}?immutable=1");
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?
            }
            Err(e) => return Err(e.into()),
        };
        conn.busy_timeout(Duration::from_secs(30))?;
        let version = schema::check(&conn)?;
        Ok(Store {
            inline_bytes_only: version < schema::SEGMENTS_SCHEMA,
            conn,
            strings: FxHashMap::default(),
            texts: Default::default(),
            segments: segments::folder_of(path),
            segment_files: Default::default(),
        })
    }

    /// Leaves checkpoints to [`Store::checkpoint`] on another connection: the import writer
    /// commits without copying the write-ahead log into the database itself.
    pub fn defer_checkpoints(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copies what the write-ahead log holds into the database, as far as readers allow,
    /// without waiting for anyone (a passive checkpoint).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The schema version applied (the number of migrations).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// How long a connection waits for another's write lock before giving up (SQLITE_BUSY).
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// SQLite's busy handler: retry every millisecond until [`LOCK_WAIT`] has passed. SQLite's own
/// handler backs off to 100 ms sleeps, so a thread waiting for the import writer's lock (the
/// feeder marking the next files handed out) overslept each commit by tens of milliseconds
/// while the parsers stood idle.
fn wait_for_lock(attempt: i32) -> bool {
    const STEP: Duration = Duration::from_millis(1);
    if STEP * attempt.max(0) as u32 >= LOCK_WAIT {
        return false;
    }
    std::thread::sleep(STEP);
    true
}
