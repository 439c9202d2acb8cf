//! The engine: one database, one clock, the buckets it can read, and the runs going on.

use crate::clock::{Clock, SystemClock};
use crate::runner::{CommitHook, RunRegistry};
use crate::{EngineError, SourceResolver};
use event_store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use trail_ingest::Budget;

/// Which records an import keeps by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetentionPolicy {
    /// As CloudTrail Lake: records older than the destination store's retention period are
    /// dropped.
    #[default]
    FromDestination,
    /// Records older than this many days are dropped, whatever the store says.
    Days(i64),
    /// Every record is kept (offline replays).
    KeepAll,
}

/// When the writer commits a batch: whichever limit is reached first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub files: usize,
    pub events: usize,
    pub bytes: usize,
    pub latency: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            files: usize::MAX,
            events: 25_000,
            bytes: 64 << 20,
            latency: Duration::from_millis(250),
        }
    }
}

/// How an engine behaves.
#[derive(Clone)]
pub struct EngineConfig {
    pub clock: Arc<dyn Clock>,
    /// Where imports read their buckets.
    pub resolver: Arc<dyn SourceResolver>,
    pub retention: RetentionPolicy,
    /// Whether `start_import` and `retry_import` start the run on a thread of their own (a
    /// server); otherwise the caller runs it with `run_import` (the command line).
    pub background: bool,
    /// Slow every file down by this much, so clients can watch an import's statuses.
    pub pace_per_file: Option<Duration>,
    pub batch: BatchLimits,
    /// Called on the writer thread after every commit (a test's gate, say).
    pub after_commit: Option<CommitHook>,
    /// How long a run's claim on an import holds without being renewed; it is renewed five
    /// times as often. A run left by a process that died is taken over after this long.
    pub lease: Duration,
    /// The largest object an import reads, compressed or inflated; larger ones are failure
    /// entries. Every run of the engine shares a memory budget of twice this and change.
    pub max_object_bytes: u64,
    /// Called with each object's key before it is parsed (tests that crash on one object).
    pub read_hook: Option<trail_ingest::ReadHook>,
    /// Slow every batch of a Logs import task down by this much, so clients can watch and
    /// cancel it.
    pub pace_per_batch: Option<Duration>,
    /// Called on the task's thread after every batch a Logs import task writes (a test's
    /// gate).
    pub after_log_batch: Option<crate::BatchHook>,
    /// Refuse FilterLogEvents on `INFREQUENT_ACCESS` groups, as AWS does (trailport serves it
    /// by default, so imported events can be read).
    pub strict_log_class: bool,
    /// A Lake query still running after this long ends TIMED_OUT, keeping the rows found.
    pub query_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            clock: Arc::new(SystemClock),
            resolver: Arc::new(crate::sources::NoBuckets),
            retention: RetentionPolicy::default(),
            background: true,
            pace_per_file: None,
            batch: BatchLimits::default(),
            after_commit: None,
            lease: Duration::from_secs(15),
            max_object_bytes: trail_ingest::DEFAULT_MAX_OBJECT_BYTES,
            read_hook: None,
            pace_per_batch: None,
            after_log_batch: None,
            strict_log_class: false,
            query_timeout: Duration::from_secs(3600),
        }
    }
}

/// One page of a listing, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// The engine over one database file: every rule and every operation.
pub struct Engine {
    pub(crate) db_path: PathBuf,
    store: Mutex<Store>,
    pub(crate) config: EngineConfig,
    pub(crate) runs: RunRegistry,
    /// The memory every run's files in flight share.
    pub(crate) budget: Arc<Budget>,
    /// Events scanned so far by each Lake query this process is running.
    pub(crate) scans: Mutex<std::collections::HashMap<String, Arc<std::sync::atomic::AtomicU64>>>,
}

impl Engine {
    /// Opens (or creates) the database at `db_path`.
    pub fn open(db_path: impl AsRef<Path>, config: EngineConfig) -> Result<Engine, EngineError> {
        let db_path = db_path.as_ref().to_path_buf();
        let store = Store::open(&db_path)?;
        let budget = Budget::new(trail_ingest::budget_for(config.max_object_bytes));
        Ok(Engine {
            db_path,
            store: Mutex::new(store),
            config,
            runs: RunRegistry::default(),
            budget,
            scans: Mutex::default(),
        })
    }

    /// Opens an existing database for reading only (a read-only file serves); operations that
    /// write fail with a storage error.
    pub fn open_read_only(db_path: impl AsRef<Path>) -> Result<Engine, EngineError> {
        let db_path = db_path.as_ref().to_path_buf();
        let store = Store::open_read_only(&db_path)?;
        Ok(Engine {
            db_path,
            store: Mutex::new(store),
            config: EngineConfig::default(),
            runs: RunRegistry::default(),
            budget: Budget::new(1),
            scans: Mutex::default(),
        })
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Now, by the engine's clock.
    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// The most memory the files in flight of this engine's runs have held at once.
    pub fn peak_memory(&self) -> u64 {
        self.budget.peak()
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}
