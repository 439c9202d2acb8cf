//! The engine: start, run, stop and retry imports.

use crate::writer::{self, BatchLimits};
use crate::{EngineError, SourceResolver};
use chrono::{DateTime, Utc};
use event_store::{
    EventDataStore, EventDataStoreStatus, ImportFilter, ImportRecord, ImportStatus, NewImport,
    Store, StoreError,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use trail_discovery::{discover, DiscoveryStats, Location, ObjectSource, TimeRange};
use trail_ingest::{ingest, FileTask, IngestOptions, IngestStats, ParsedFile, Sink};

/// Files fetched from the store per round of parallel ingest.
const FILES_PER_ROUND: usize = 4096;

/// What a new import needs.
#[derive(Debug, Clone, Default)]
pub struct ImportSpec {
    /// The destination store's ARN, or its ID.
    pub destination: String,
    /// `s3://BUCKET[/PREFIX]`.
    pub source_uri: String,
    pub bucket_region: String,
    pub role_arn: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub account: String,
    pub region: String,
}

/// Running totals of one run, reported after each commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub files_done: u64,
    pub events: u64,
    pub failed_entries: u64,
    pub bytes_read: u64,
    pub bytes_inflated: u64,
    /// Stage times in nanoseconds: read, inflate and parse summed over the parser threads,
    /// store on the writer thread.
    pub read_ns: u64,
    pub inflate_ns: u64,
    pub parse_ns: u64,
    pub store_ns: u64,
}

/// Called from the writer thread after each commit.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;
/// Called once discovery is done: what it saw, and the files and bytes left to import.
pub type DiscoveredFn = Arc<dyn Fn(&DiscoveryStats, u64, u64) + Send + Sync>;

/// How to run an import.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Drop records older than this many days. `None` keeps every record.
    pub retention_days: Option<i64>,
    /// Set to stop the run cleanly: files already committed stay, the import ends `STOPPED`.
    pub stop: Arc<AtomicBool>,
    /// Called from the writer thread after each commit.
    pub on_progress: Option<ProgressFn>,
    /// Sleep this long per file (and per folder found while `INITIALIZING`), so status
    /// transitions can be watched.
    pub pace_per_file: Option<Duration>,
    /// Called once discovery is done, with what it found.
    pub on_discovered: Option<DiscoveredFn>,
}

/// The import engine over one database file.
pub struct Engine {
    db_path: PathBuf,
    store: Mutex<Store>,
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl Engine {
    /// Opens (or creates) the database at `db_path`.
    pub fn open(db_path: impl AsRef<Path>) -> Result<Engine, EngineError> {
        let db_path = db_path.as_ref().to_path_buf();
        let store = Store::open(&db_path)?;
        Ok(Engine {
            db_path,
            store: Mutex::new(store),
            running: Mutex::new(HashMap::new()),
        })
    }

    /// The store, for reads and for the calls the engine does not wrap.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    pub fn get_import(&self, id: &str) -> Result<ImportRecord, EngineError> {
        self.store()
            .import(id)?
            .ok_or_else(|| EngineError::ImportNotFound(id.to_string()))
    }

    /// Records a new import in `INITIALIZING` after checking its destination and that no other
    /// import of the same account and Region is ongoing.
    pub fn start_import(&self, spec: &ImportSpec) -> Result<ImportRecord, EngineError> {
        Location::parse(&spec.source_uri)
            .map_err(|e| EngineError::InvalidImportSource(e.to_string()))?;
        let store = self.store();
        let eds = admit_destination(&store, &spec.destination)?;
        let ongoing = store.imports(&ImportFilter {
            account: Some(spec.account.clone()),
            region: Some(spec.region.clone()),
            ..Default::default()
        })?;
        if let Some(busy) = ongoing.iter().find(|i| i.status.is_ongoing()) {
            return Err(EngineError::AccountHasOngoingImport(busy.id.clone()));
        }
        Ok(store.create_import(&NewImport {
            account: spec.account.clone(),
            region: spec.region.clone(),
            destination: eds.arn.clone(),
            eds_num: Some(eds.num),
            source_uri: spec.source_uri.clone(),
            bucket_region: spec.bucket_region.clone(),
            role_arn: spec.role_arn.clone(),
            start_ms: spec.start.map(|t| t.timestamp_millis()),
            end_ms: spec.end.map(|t| t.timestamp_millis()),
        })?)
    }

    /// Sends a `STOPPED` or `FAILED` import round again: failed entries go to `RETRY`, their
    /// files become pending, and the import is `INITIALIZING` until [`Engine::run_import`].
    pub fn retry_import(&self, id: &str) -> Result<ImportRecord, EngineError> {
        let store = self.store();
        let import = store
            .import(id)?
            .ok_or_else(|| EngineError::ImportNotFound(id.to_string()))?;
        if !matches!(import.status, ImportStatus::Stopped | ImportStatus::Failed) {
            return Err(EngineError::OperationNotPermitted(format!(
                "Import {id} is {}; only a STOPPED or FAILED import can be retried.",
                import.status.as_str()
            )));
        }
        let ongoing = store.imports(&ImportFilter {
            account: Some(import.account.clone()),
            region: Some(import.region.clone()),
            ..Default::default()
        })?;
        if let Some(busy) = ongoing.iter().find(|i| i.status.is_ongoing()) {
            return Err(EngineError::AccountHasOngoingImport(busy.id.clone()));
        }
        drop(store);
        // A stopped run may still be committing its last batch: let it finish first.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while self.is_running(id) {
            if std::time::Instant::now() > deadline {
                return Err(EngineError::OperationNotPermitted(format!(
                    "Import {id} is still stopping; retry it in a moment."
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let store = self.store();
        store.prepare_retry(id)?;
        store.transition_import(
            id,
            &[ImportStatus::Stopped, ImportStatus::Failed],
            ImportStatus::Initializing,
        )?;
        drop(store);
        self.get_import(id)
    }

    /// Stops an ongoing import: it is `STOPPED` at once, and its run (if any) stops picking up
    /// files; what was committed stays.
    pub fn stop_import(&self, id: &str) -> Result<ImportRecord, EngineError> {
        let import = self.get_import(id)?;
        if import.status.is_ongoing() {
            self.store().transition_import(
                id,
                &[ImportStatus::Initializing, ImportStatus::InProgress],
                ImportStatus::Stopped,
            )?;
            if let Some(flag) = self.running().get(id) {
                flag.store(true, Ordering::SeqCst);
            }
        }
        self.get_import(id)
    }

    /// Whether a run of this import is going on in this process.
    pub fn is_running(&self, id: &str) -> bool {
        self.running().contains_key(id)
    }

    fn running(&self) -> MutexGuard<'_, HashMap<String, Arc<AtomicBool>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs an import to its end on a background thread, reading the bucket its
    /// `S3LocationUri` names through `resolver`. A bucket that cannot be resolved, or an
    /// infrastructure error, ends the import `FAILED` with a failure entry saying why.
    pub fn spawn_run(
        self: &Arc<Self>,
        id: &str,
        resolver: Arc<dyn SourceResolver>,
        opts: RunOptions,
    ) -> std::thread::JoinHandle<()> {
        let engine = self.clone();
        let id = id.to_string();
        std::thread::Builder::new()
            .name(format!("import-{}", &id[..8.min(id.len())]))
            .spawn(move || {
                let Ok(import) = engine.get_import(&id) else {
                    return;
                };
                let location = Location::parse(&import.source_uri);
                let source = location
                    .as_ref()
                    .map_err(|e| EngineError::InvalidImportSource(e.to_string()))
                    .and_then(|l| resolver.resolve(&l.bucket, &import.bucket_region));
                let result = source.and_then(|s| engine.run_import(&id, s.as_ref(), &opts));
                if let Err(e) = result {
                    let error_type = match e {
                        EngineError::InvalidImportSource(_) => "InvalidImportSource",
                        _ => "InternalFailure",
                    };
                    let store = engine.store();
                    let recorded = store
                        .add_import_failure(&id, &import.source_uri, error_type, &e.to_string())
                        .and_then(|()| {
                            store.transition_import(
                                &id,
                                &[ImportStatus::Initializing, ImportStatus::InProgress],
                                ImportStatus::Failed,
                            )
                        });
                    if let Err(e2) = recorded {
                        eprintln!("import {id}: {e}; and recording it failed: {e2}");
                    }
                }
            })
            .expect("spawn an import thread")
    }

    /// Starts a background run of every import left `INITIALIZING` or `IN_PROGRESS` (by a
    /// stop of the process), as a server does when it starts. Returns their IDs.
    pub fn resume_interrupted(
        self: &Arc<Self>,
        resolver: Arc<dyn SourceResolver>,
        opts: impl Fn(&ImportRecord) -> RunOptions,
    ) -> Result<Vec<String>, EngineError> {
        let ongoing: Vec<ImportRecord> = self
            .store()
            .imports(&ImportFilter::default())?
            .into_iter()
            .filter(|i| i.status.is_ongoing() && !self.is_running(&i.id))
            .collect();
        for import in &ongoing {
            self.spawn_run(&import.id, resolver.clone(), opts(import));
        }
        Ok(ongoing.into_iter().map(|i| i.id).collect())
    }

    /// Runs an `INITIALIZING` or `IN_PROGRESS` import to its end on `source`, which must serve
    /// the bucket its `S3LocationUri` names. Returns the final record.
    pub fn run_import(
        &self,
        id: &str,
        source: &dyn ObjectSource,
        opts: &RunOptions,
    ) -> Result<ImportRecord, EngineError> {
        let import = self.get_import(id)?;
        if !import.status.is_ongoing() {
            return Ok(import);
        }
        let stop = opts.stop.clone();
        self.running().insert(id.to_string(), stop.clone());
        let result = self.run_inner(&import, source, opts, &stop);
        self.running().remove(id);
        let stopped = stop.load(Ordering::SeqCst);
        match result {
            Ok(()) => {
                let record = self.get_import(id)?;
                let end = if stopped {
                    ImportStatus::Stopped
                } else if record.statistics.failed_entries > 0 {
                    ImportStatus::Failed
                } else {
                    ImportStatus::Completed
                };
                self.store().transition_import(
                    id,
                    &[ImportStatus::Initializing, ImportStatus::InProgress],
                    end,
                )?;
                self.get_import(id)
            }
            Err(e) => Err(e),
        }
    }

    fn run_inner(
        &self,
        import: &ImportRecord,
        source: &dyn ObjectSource,
        opts: &RunOptions,
        stop: &Arc<AtomicBool>,
    ) -> Result<(), EngineError> {
        let id = import.id.as_str();
        let location = Location::parse(&import.source_uri)
            .map_err(|e| EngineError::InvalidImportSource(e.to_string()))?;
        let eds_num = import
            .eds_num
            .ok_or_else(|| EngineError::EventDataStoreNotFound(import.destination.clone()))?;
        if !import.discovered {
            let range = TimeRange::new(
                import.start_ms.and_then(DateTime::from_timestamp_millis),
                import.end_ms.and_then(DateTime::from_timestamp_millis),
            );
            self.store().reset_discovery(id)?;
            let found = discover(source, &location.prefix, &range, |p| {
                if stop.load(Ordering::SeqCst) {
                    return Err("stopped".to_string());
                }
                if let Some(p) = opts.pace_per_file {
                    std::thread::sleep(p);
                }
                let files: Vec<(String, u64)> =
                    p.objects.into_iter().map(|o| (o.key, o.size)).collect();
                self.store()
                    .add_prefix(id, &p.prefix, &files)
                    .map_err(|e| e.to_string())
            });
            let stats = match found {
                Ok(stats) => stats,
                Err(_) if stop.load(Ordering::SeqCst) => return Ok(()),
                // The bucket cannot be listed: one failure entry for the location, and the
                // import ends FAILED; a retry lists it again.
                Err(trail_discovery::DiscoveryError::List { source: e, .. }) => {
                    self.store().add_import_failure(
                        id,
                        &location.to_string(),
                        e.kind.error_type(),
                        &e.message,
                    )?;
                    return Ok(());
                }
                Err(e) => return Err(EngineError::InvalidImportSource(e.to_string())),
            };
            self.store().finish_discovery(id)?;
            if let Some(cb) = &opts.on_discovered {
                let (files, bytes) = self.store().pending_totals(id)?;
                cb(&stats, files as u64, bytes as u64);
            }
        } else if let Some(cb) = &opts.on_discovered {
            let (files, bytes) = self.store().pending_totals(id)?;
            cb(&DiscoveryStats::default(), files as u64, bytes as u64);
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.store().transition_import(
            id,
            &[ImportStatus::Initializing],
            ImportStatus::InProgress,
        )?;

        let ingest_opts = IngestOptions::with_retention_days(opts.retention_days);
        let writer_store = Store::open(&self.db_path)?;
        let threads = rayon::current_num_threads();
        let (tx, rx) = sync_channel::<(FileTask, ParsedFile)>(threads * 2);
        let on_progress = opts.on_progress.clone();
        let import_id = id.to_string();
        std::thread::scope(|scope| -> Result<(), EngineError> {
            let writer = std::thread::Builder::new()
                .name("writer".into())
                .spawn_scoped(scope, move || {
                    let report = |p: &crate::Progress| {
                        if let Some(cb) = &on_progress {
                            cb(p);
                        }
                    };
                    writer::run(
                        writer_store,
                        &import_id,
                        eds_num,
                        rx,
                        BatchLimits::default(),
                        &report,
                    )
                })
                .map_err(|e| EngineError::Writer(e.to_string()))?;
            let sink = ChannelSink {
                tx,
                pace: opts.pace_per_file,
            };
            let mut after = -1;
            let fed: Result<(), EngineError> = loop {
                if stop.load(Ordering::SeqCst) {
                    break Ok(());
                }
                let files = match self.store().pending_files(id, after, FILES_PER_ROUND) {
                    Ok(f) => f,
                    Err(e) => break Err(e.into()),
                };
                let Some(last) = files.last() else {
                    break Ok(());
                };
                after = last.file_no;
                let tasks: Vec<FileTask> = files
                    .into_iter()
                    .map(|f| FileTask {
                        id: f.file_no,
                        key: f.key,
                    })
                    .collect();
                if ingest(source, &tasks, &ingest_opts, &sink, stop).is_err() {
                    break Ok(()); // the writer hung up; its own error is reported below
                }
            };
            drop(sink);
            let written = writer
                .join()
                .map_err(|_| EngineError::Writer("panicked".into()))?;
            written.map_err(|e: StoreError| EngineError::Writer(e.to_string()))?;
            fed
        })
    }
}

/// The sink handing parsed files to the writer thread; blocks when the writer is behind.
struct ChannelSink {
    tx: std::sync::mpsc::SyncSender<(FileTask, ParsedFile)>,
    pace: Option<Duration>,
}

impl Sink for ChannelSink {
    type Error = ();
    fn file(&self, task: &FileTask, file: ParsedFile) -> Result<(), ()> {
        if let Some(p) = self.pace {
            std::thread::sleep(p);
        }
        self.tx.send((task.clone(), file)).map_err(|_| ())
    }
}

/// The destination of a new import, if it may receive one.
fn admit_destination(store: &Store, destination: &str) -> Result<EventDataStore, EngineError> {
    let eds = store
        .event_data_store(destination)?
        .ok_or_else(|| EngineError::EventDataStoreNotFound(destination.to_string()))?;
    match eds.status {
        EventDataStoreStatus::Enabled
        | EventDataStoreStatus::StoppedIngestion
        | EventDataStoreStatus::Created => Ok(eds),
        EventDataStoreStatus::PendingDeletion => Err(EngineError::InactiveEventDataStore(eds.arn)),
        other => Err(EngineError::InvalidEventDataStoreStatus(
            eds.arn,
            other.as_str().to_string(),
        )),
    }
}

/// Discovery and ingest without a store: what an import would find and count.
pub fn count_only(
    source: &dyn ObjectSource,
    prefix: &str,
    range: &TimeRange,
    opts: &IngestOptions,
    stop: &AtomicBool,
) -> Result<(DiscoveryStats, IngestStats), EngineError> {
    let mut tasks = Vec::new();
    let stats = discover(source, prefix, range, |p| {
        for o in p.objects {
            tasks.push(FileTask {
                id: tasks.len() as i64,
                key: o.key,
            });
        }
        Ok(())
    })
    .map_err(|e| EngineError::InvalidImportSource(e.to_string()))?;
    let sink = trail_ingest::CountingSink::default();
    let counted = ingest(source, &tasks, opts, &sink, stop).unwrap_or_default();
    Ok((stats, counted))
}
