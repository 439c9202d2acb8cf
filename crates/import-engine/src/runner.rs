//! Running an import: claim it, discover its files, ingest them in parallel, commit them on one
//! writer thread, and end it; resuming imports whose run was interrupted.

use crate::clock::wall_ms;
use crate::engine::RetentionPolicy;
use crate::writer::{self, WriterEnd};
use crate::{Engine, EngineError};
use event_store::{ImportFilter, ImportRecord, ImportStatus, Store};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trail_discovery::{
    discover, DiscoveryError, DiscoveryStats, Found, Location, ObjectSource, TimeRange,
};
use trail_ingest::{
    ingest, ErrorType, FailureEntry, FileTask, IngestOptions, IngestStats, ParsedFile, Sink,
};

/// Running totals of one run: the ingest statistics of the files committed, the time the
/// parsers spent appending their gzip bytes to the run's segment, and the time the writer
/// spent committing them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub stats: IngestStats,
    /// Nanoseconds the parser threads spent appending files' bytes to the segment, summed.
    pub append_ns: u64,
    /// Nanoseconds the writer thread spent committing.
    pub store_ns: u64,
}

/// Called from the writer thread after each commit.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;
/// Called once discovery is done: what it saw, and the files and bytes left to import.
pub type DiscoveredFn = Arc<dyn Fn(&DiscoveryStats, u64, u64) + Send + Sync>;
/// Called on the writer thread after every commit with the run's stop flag; it may block (a
/// test's gate), and should return once the flag is set.
pub type CommitHook = Arc<dyn Fn(&Progress, &AtomicBool) + Send + Sync>;

/// How the caller of [`Engine::run_import`] follows and stops a run.
#[derive(Clone, Default)]
pub struct RunControl {
    /// Set to stop the run cleanly: files already committed stay, the import ends `STOPPED`.
    pub stop: Arc<AtomicBool>,
    pub on_progress: Option<ProgressFn>,
    pub on_discovered: Option<DiscoveredFn>,
}

/// The runs going on in this process (imports and Logs import tasks), by ID, with their stop
/// flags.
#[derive(Default)]
pub(crate) struct RunRegistry {
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl RunRegistry {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AtomicBool>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stop(&self, id: &str) {
        if let Some(flag) = self.lock().get(id) {
            flag.store(true, Ordering::SeqCst);
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }
}

impl Engine {
    /// Whether a run of this import (or Logs import task) is going on in this process.
    pub fn is_running(&self, id: &str) -> bool {
        self.runs.contains(id)
    }

    /// Starts a run of an import on a thread of its own.
    pub fn spawn_run(self: &Arc<Self>, id: &str) -> std::thread::JoinHandle<()> {
        let engine = self.clone();
        let id = id.to_string();
        std::thread::Builder::new()
            .name(format!("import-{}", &id[..8.min(id.len())]))
            .spawn(move || {
                if let Err(e) = engine.run_import(&id, &RunControl::default()) {
                    eprintln!("import {id}: {e}");
                }
            })
            .expect("spawn an import thread")
    }

    /// Starts a run of every import left `INITIALIZING` or `IN_PROGRESS` whose owner is gone
    /// (its process stopped), as a server does when it starts; an import another live process
    /// is running is left to it. Returns the IDs resumed.
    pub fn resume_interrupted(self: &Arc<Self>) -> Result<Vec<String>, EngineError> {
        let now = wall_ms();
        let mut resumed = Vec::new();
        let imports = self
            .store()
            .imports(&ImportFilter::default(), None, usize::MAX)?;
        for import in imports.iter().rev() {
            if !import.status.is_ongoing() || self.is_running(&import.id) {
                continue;
            }
            let owned = self.store().import_owner(&import.id)?;
            if owned.is_some_and(|(owner, until)| until >= now && !crate::owner::is_gone(&owner)) {
                continue;
            }
            self.spawn_run(&import.id);
            resumed.push(import.id.clone());
        }
        Ok(resumed)
    }

    /// Runs an `INITIALIZING` or `IN_PROGRESS` import to its end, reading the bucket its
    /// `S3LocationUri` names through the engine's resolver, and returns the final record. The
    /// run first claims the import, so two processes never run one import: while another live
    /// run holds it this waits for that claim to lapse, then refuses. A source that cannot be
    /// resolved, or an infrastructure error, ends the import `FAILED` with a failure entry
    /// saying why.
    pub fn run_import(&self, id: &str, control: &RunControl) -> Result<ImportRecord, EngineError> {
        let Some(import) = self.store().import(id)? else {
            return Err(EngineError::ImportNotFound(id.to_string()));
        };
        if !import.status.is_ongoing() {
            return Ok(import);
        }
        let owner = crate::owner::new_owner();
        if !self.claim(id, &owner)? {
            return self
                .store()
                .import(id)?
                .ok_or(EngineError::ImportNotFound(id.to_string()));
        }
        let stop = control.stop.clone();
        self.runs.lock().insert(id.to_string(), stop.clone());
        // A renewal refused (the import was stopped, or taken over after this process
        // stalled) stops the run.
        let renew = |until| matches!(self.store().renew_import_lease(id, &owner, until), Ok(true));
        let result = crate::lease::with_heartbeat(self.config.lease, &stop, renew, || {
            self.run_claimed(&import, &owner, control)
        })
        .and_then(|r| r);
        self.runs.lock().remove(id);
        let outcome = result.and_then(|()| self.finish(id, &owner, &stop));
        if let Err(e) = &outcome {
            self.record_run_error(&import, &owner, e)?;
        }
        let store = self.store();
        store.release_import(id, &owner)?;
        store
            .import(id)?
            .ok_or(EngineError::ImportNotFound(id.to_string()))
    }

    /// Claims an import for `owner`; waits while another run's claim is still valid, unless
    /// that run's process has certainly ended. Returns `false` if the import ended meanwhile.
    fn claim(&self, id: &str, owner: &str) -> Result<bool, EngineError> {
        let lease = self.config.lease;
        let deadline = Instant::now() + lease + lease / 5;
        loop {
            let now = wall_ms();
            let until = now + lease.as_millis() as i64;
            let store = self.store();
            if store.claim_import(id, owner, now, until)? {
                return Ok(true);
            }
            if let Some((previous, _)) = store.import_owner(id)? {
                if crate::owner::is_gone(&previous)
                    && store.take_over_import(id, &previous, owner, until)?
                {
                    return Ok(true);
                }
            }
            if !store.import(id)?.is_some_and(|i| i.status.is_ongoing()) {
                return Ok(false);
            }
            drop(store);
            if Instant::now() > deadline {
                return Err(EngineError::OperationNotPermitted(format!(
                    "Import {id} is being run by another process."
                )));
            }
            std::thread::sleep((lease / 50).max(Duration::from_millis(10)));
        }
    }

    /// Ends a run: `STOPPED` if it was stopped here, else `FAILED` with failure entries or
    /// `COMPLETED`. Nothing changes if the import is no longer this run's (a `StopImport`
    /// already ended it).
    fn finish(&self, id: &str, owner: &str, stop: &AtomicBool) -> Result<(), EngineError> {
        let store = self.store();
        let Some(record) = store.import(id)? else {
            return Ok(());
        };
        let ours = store.import_owner(id)?.is_some_and(|(o, _)| o == owner);
        let stopped = stop.load(Ordering::SeqCst);
        // The run ended on its own terms (or by a StopImport): no file was left half read.
        if ours || record.status == ImportStatus::Stopped {
            store.clear_dispatched(id)?;
        }
        if !ours {
            return Ok(());
        }
        // The entries of a run that could not go on before are settled once one went through.
        if !stopped {
            store.settle_run_entries(id, self.now_ms())?;
        }
        let record = store.import(id)?.unwrap_or(record);
        let end = if stopped {
            ImportStatus::Stopped
        } else if record.statistics.failed_entries > 0 {
            ImportStatus::Failed
        } else {
            ImportStatus::Completed
        };
        store.transition_import(
            id,
            &[ImportStatus::Initializing, ImportStatus::InProgress],
            end,
            Some(owner),
            self.now_ms(),
        )?;
        Ok(())
    }

    /// A run that could not go on: one failure entry for the import's location, and `FAILED`.
    fn record_run_error(
        &self,
        import: &ImportRecord,
        owner: &str,
        e: &EngineError,
    ) -> Result<(), EngineError> {
        let error_type = match e {
            EngineError::InvalidImportSource(_) => ErrorType::InvalidImportSource,
            _ => ErrorType::InternalFailure,
        };
        let now = self.now_ms();
        let store = self.store();
        store.clear_dispatched(&import.id)?;
        store.add_import_failure(
            &import.id,
            &import.source_uri,
            error_type.as_str(),
            &e.to_string(),
            now,
        )?;
        store.transition_import(
            &import.id,
            &[ImportStatus::Initializing, ImportStatus::InProgress],
            ImportStatus::Failed,
            Some(owner),
            now,
        )?;
        Ok(())
    }

    /// The cut-off below which records are dropped for age, by the engine's policy.
    fn retention_cutoff(&self, import: &ImportRecord) -> Result<Option<i64>, EngineError> {
        let days = match self.config.retention {
            RetentionPolicy::KeepAll => None,
            RetentionPolicy::Days(d) => Some(d),
            RetentionPolicy::FromDestination => self
                .store()
                .event_data_store(&import.destination)?
                .map(|e| e.retention_days),
        };
        Ok(days.map(|d| self.now_ms() - d * 86_400_000))
    }

    fn run_claimed(
        &self,
        import: &ImportRecord,
        owner: &str,
        control: &RunControl,
    ) -> Result<(), EngineError> {
        let id = import.id.as_str();
        let stop = &control.stop;
        let location = Location::parse(&import.source_uri)
            .map_err(|e| EngineError::InvalidImportSource(e.to_string()))?;
        let eds_num = import
            .eds_num
            .ok_or_else(|| EngineError::EventDataStoreNotFound(import.destination.clone()))?;
        let source = self
            .config
            .resolver
            .resolve(&location.bucket, &import.bucket_region)?;
        let source = source.as_ref();
        let range = TimeRange::new(
            import
                .start_ms
                .and_then(chrono::DateTime::from_timestamp_millis),
            import
                .end_ms
                .and_then(chrono::DateTime::from_timestamp_millis),
        );
        let stats = if import.discovered {
            // A retry lists again the folders that could not be listed.
            let folders = self.store().retried_folders(id)?;
            for (num, folder) in folders {
                match self.walk(id, owner, &folder, &range, source, stop)? {
                    Walk::Done(_) => self.store().settle_entry(id, num, None, self.now_ms())?,
                    Walk::Unlistable(e) => {
                        let kind = ErrorType::from(e.kind);
                        let msg = format!("The folder could not be listed: {}", e.message);
                        self.store().settle_entry(
                            id,
                            num,
                            Some((kind.as_str(), &msg)),
                            self.now_ms(),
                        )?
                    }
                    Walk::Ended => return Ok(()),
                }
            }
            DiscoveryStats::default()
        } else {
            self.store().reset_discovery(id)?;
            match self.walk(id, owner, &location.prefix, &range, source, stop)? {
                Walk::Done(stats) => {
                    if !self.store().finish_discovery(id, owner, self.now_ms())? {
                        return Ok(());
                    }
                    stats
                }
                // The bucket cannot be listed: one failure entry for the location, and the
                // import ends FAILED; a retry lists it again.
                Walk::Unlistable(e) => {
                    self.store().add_import_failure(
                        id,
                        &location.to_string(),
                        ErrorType::from(e.kind).as_str(),
                        &e.message,
                        self.now_ms(),
                    )?;
                    return Ok(());
                }
                Walk::Ended => return Ok(()),
            }
        };
        if let Some(cb) = &control.on_discovered {
            let (files, bytes) = self.store().pending_totals(id)?;
            cb(&stats, files as u64, bytes as u64);
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let moved = self.store().transition_import(
            id,
            &[ImportStatus::Initializing],
            ImportStatus::InProgress,
            Some(owner),
            self.now_ms(),
        )?;
        if !moved
            && !self
                .store()
                .import(id)?
                .is_some_and(|i| i.status == ImportStatus::InProgress)
        {
            return Ok(());
        }
        let ingest_opts = IngestOptions {
            retention_cutoff_ms: self.retention_cutoff(import)?,
            max_object_bytes: self.config.max_object_bytes,
            budget: self.budget.clone(),
            on_read: self.config.read_hook.clone(),
            ..IngestOptions::default()
        };
        self.ingest_pending(id, owner, eds_num, source, &ingest_opts, control)
    }

    /// Walks `prefix` and records every folder it finds and its files (so a resumed import
    /// knows exactly what is left) and, as a failure entry, every folder below it that cannot
    /// be listed.
    fn walk(
        &self,
        id: &str,
        owner: &str,
        prefix: &str,
        range: &TimeRange,
        source: &dyn ObjectSource,
        stop: &AtomicBool,
    ) -> Result<Walk, EngineError> {
        let walked = discover(source, prefix, range, |found| {
            if stop.load(Ordering::SeqCst) {
                return ControlFlow::Break(Ok(()));
            }
            if let Some(pace) = self.config.pace_per_file {
                std::thread::sleep(pace);
            }
            let recorded = match found {
                Found::Folder(p) => {
                    let files: Vec<(String, u64)> =
                        p.objects.into_iter().map(|o| (o.key, o.size)).collect();
                    self.store()
                        .add_prefix(id, owner, &p.prefix, &files, self.now_ms())
                }
                Found::Unlistable { prefix, error } => self
                    .store()
                    .add_folder_failure(
                        id,
                        &prefix,
                        &format!("s3://{}/{prefix}", source.bucket()),
                        ErrorType::from(error.kind).as_str(),
                        &format!("The folder could not be listed: {}", error.message),
                        self.now_ms(),
                    )
                    .map(|()| true),
            };
            match recorded {
                Ok(true) => ControlFlow::Continue(()),
                Ok(false) => ControlFlow::Break(Ok(())),
                Err(e) => ControlFlow::Break(Err(e)),
            }
        });
        let walked = match walked {
            Ok(w) => w,
            Err(DiscoveryError::List { source: e, .. }) => return Ok(Walk::Unlistable(e)),
            Err(e) => return Err(EngineError::InvalidImportSource(e.to_string())),
        };
        match walked.stopped {
            Some(Err(e)) => Err(e.into()),
            Some(Ok(())) => Ok(Walk::Ended),
            None => Ok(Walk::Done(walked.stats)),
        }
    }

    /// Reads every pending file on the rayon pool and commits them on one writer thread. A
    /// file that was being read alone when the process ended before becomes a failure entry
    /// without being read again; files a run that did not end cleanly may have been reading
    /// are read first, one at a time, each marked before it is read; then the rest, in
    /// parallel, each chunk recorded as handed out before it is.
    fn ingest_pending(
        &self,
        id: &str,
        owner: &str,
        eds_num: i64,
        source: &dyn ObjectSource,
        opts: &IngestOptions,
        control: &RunControl,
    ) -> Result<(), EngineError> {
        // An import that at least doubles the store makes the indexes of `events` once at its
        // end rather than keeping them up event by event.
        let (files, _) = self.store().pending_totals(id)?;
        if self.store().bulk_import_pays(files)? {
            self.store().suspend_event_indexes()?;
        }
        let ingested = self.ingest_claimed(id, owner, eds_num, source, opts, control);
        // Also made again when an earlier import suspended them and never ended.
        let restored = self.store().restore_event_indexes();
        ingested.and(restored.map_err(Into::into))
    }

    fn ingest_claimed(
        &self,
        id: &str,
        owner: &str,
        eds_num: i64,
        source: &dyn ObjectSource,
        opts: &IngestOptions,
        control: &RunControl,
    ) -> Result<(), EngineError> {
        let stop = &control.stop;
        let writer_store = Store::open(&self.db_path)?;
        // The writer is the import's one serial stage: the write-ahead log is copied into the
        // database by a checkpointer thread of its own after each commit, not by the writer.
        writer_store.defer_checkpoints()?;
        let checkpointer_store = Store::open(&self.db_path)?;
        // Where the parsers append the gzip bytes of the files they queue, so the writer
        // writes only rows.
        let segment = match writer_store.pending_totals(id)? {
            (0, _) => None,
            _ => Some(writer_store.new_segment(id, self.now_ms())?),
        };
        let (committed, commits) = sync_channel::<()>(1);
        let finished = AtomicBool::new(false);
        let threads = rayon::current_num_threads();
        // Deep enough that the parsers go on while the writer commits (a file waiting holds
        // its event index, or its object's bytes when they could not be appended; the run's
        // memory budget bounds them all).
        let (tx, rx) = sync_channel::<writer::Queued>(2048.max(threads * 4));
        // After every commit, the writer's or a file committed alone: a checkpoint, the
        // caller's progress, then the engine's hook.
        let on_commit = |p: &Progress| {
            // Full: a checkpoint is already due.
            let _ = committed.try_send(());
            if let Some(cb) = &control.on_progress {
                cb(p);
            }
            if let Some(hook) = &self.config.after_commit {
                hook(p, stop);
            }
        };
        let on_commit = &on_commit;
        std::thread::scope(|scope| -> Result<(), EngineError> {
            let finished = &finished;
            std::thread::Builder::new()
                .name("checkpointer".into())
                .spawn_scoped(scope, move || {
                    for () in commits {
                        // A checkpoint that cannot run now runs after the next commit.
                        let _ = checkpointer_store.checkpoint();
                        if finished.load(Ordering::SeqCst) {
                            break;
                        }
                    }
                })
                .map_err(|e| EngineError::Run(e.to_string()))?;
            let ran = (|| -> Result<(), EngineError> {
                let writer = std::thread::Builder::new()
                    .name("writer".into())
                    .spawn_scoped(scope, move || {
                        writer::run(
                            writer_store,
                            writer::Target {
                                import_id: id,
                                owner,
                                eds_num,
                                stop,
                            },
                            rx,
                            self.config.batch,
                            self.config.clock.as_ref(),
                            on_commit,
                        )
                    })
                    .map_err(|e| EngineError::Run(e.to_string()))?;
                let sink = ChannelSink {
                    tx,
                    pace: self.config.pace_per_file,
                    segment,
                };
                let fed = self.feed(id, owner, eds_num, source, opts, &sink, stop, on_commit);
                drop(sink);
                let written = writer
                    .join()
                    .map_err(|_| EngineError::Run("the writer thread panicked".into()))??;
                if written == WriterEnd::Refused {
                    // The import is no longer this run's: a StopImport answered, or another
                    // run took over. Nothing more is written.
                    stop.store(true, Ordering::SeqCst);
                }
                fed
            })();
            // The checkpointer's last round; then it ends, and so can the scope.
            finished.store(true, Ordering::SeqCst);
            let _ = committed.send(());
            ran
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn feed(
        &self,
        id: &str,
        owner: &str,
        eds_num: i64,
        source: &dyn ObjectSource,
        opts: &IngestOptions,
        sink: &ChannelSink,
        stop: &AtomicBool,
        on_commit: &(dyn Fn(&Progress) + Sync),
    ) -> Result<(), EngineError> {
        let tasks_of = |files: Vec<event_store::PendingFile>| -> Vec<FileTask> {
            files
                .into_iter()
                .map(|f| FileTask {
                    id: f.file_no,
                    key: f.key,
                    size: f.size.max(0) as u64,
                })
                .collect()
        };
        // Read alone when the process ended: not read again. (Each list is taken before its
        // loop, so the store is not locked while the loop runs.)
        let trying = tasks_of(self.store().trying_files(id)?);
        for task in trying {
            let location = format!("s3://{}/{}", source.bucket(), task.key);
            let file = ParsedFile {
                failure: Some(FailureEntry {
                    location,
                    error_type: ErrorType::InternalFailure,
                    error_message: "The import process ended twice while reading this object; \
                                    it was not read again."
                        .into(),
                }),
                ..Default::default()
            };
            if sink.file(&task, file).is_err() {
                return Ok(());
            }
        }
        // Maybe being read when a run ended: one at a time, each marked first and committed
        // before the next is marked, so a crash marks no file but the one that caused it.
        let suspects = tasks_of(self.store().suspect_files(id)?);
        for task in suspects {
            if stop.load(Ordering::SeqCst) || !self.store().mark_trying(id, owner, task.id)? {
                return Ok(());
            }
            let one = OneFile::default();
            let _ = ingest(source, std::slice::from_ref(&task), opts, &one, stop);
            let Some(file) = one.0.into_inner().unwrap_or_else(|e| e.into_inner()) else {
                return Ok(()); // stopped
            };
            let target = writer::Target {
                import_id: id,
                owner,
                eds_num,
                stop,
            };
            let batch = [writer::Queued::held(task, file)];
            let progress = Progress {
                stats: batch[0].stats,
                ..Progress::default()
            };
            if !writer::commit(&mut self.store(), &target, &batch, self.now_ms())? {
                stop.store(true, Ordering::SeqCst);
                return Ok(());
            }
            on_commit(&progress);
        }
        let chunk = (threads_now() * 16).max(256);
        // The next chunk, recorded as handed out: `None` when the import is no longer this
        // run's. The mark waits for the writer's lock, so each chunk is marked while the one
        // before it is read, never with the parsers standing idle.
        let next_chunk =
            |after: i64| -> Result<Option<Vec<event_store::PendingFile>>, EngineError> {
                // At least `chunk` files and CHUNK_BYTES of objects: reading a chunk must
                // outlast a commit, or the next mark would still wait for the writer's lock.
                let mut files = self.store().pending_files(id, after, chunk)?;
                let mut bytes: i64 = files.iter().map(|f| f.size).sum();
                while bytes < CHUNK_BYTES {
                    let Some(last) = files.last().map(|f| f.file_no) else {
                        break;
                    };
                    let more = self.store().pending_files(id, last, chunk)?;
                    if more.is_empty() {
                        break;
                    }
                    bytes += more.iter().map(|f| f.size).sum::<i64>();
                    files.extend(more);
                }
                Ok(match files.last() {
                    None => Some(files),
                    Some(last) => self
                        .store()
                        .set_dispatched(id, owner, last.file_no)?
                        .then_some(files),
                })
            };
        let Some(mut files) = next_chunk(-1)? else {
            return Ok(());
        };
        // Parsing is CPU work: more parser threads than cores only take CPU from the writer
        // (16 on 2 cores starved it, then stood waiting for memory in bursts: 20–30% slower).
        let parsers = parser_pool()?;
        loop {
            let Some(last) = files.last() else {
                return Ok(());
            };
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let after = last.file_no;
            let tasks = tasks_of(files);
            let (ingested, upcoming) = std::thread::scope(|scope| {
                let marker = scope.spawn(|| next_chunk(after));
                let ingested = parsers.install(|| ingest(source, &tasks, opts, sink, stop));
                (ingested, marker.join())
            });
            if ingested.is_err() {
                return Ok(()); // the writer hung up; its own answer is read by the caller
            }
            let upcoming = upcoming
                .map_err(|_| EngineError::Run("the thread marking files panicked".into()))??;
            let Some(next) = upcoming else {
                return Ok(());
            };
            files = next;
        }
    }
}

/// How a walk ended.
enum Walk {
    Done(DiscoveryStats),
    /// Its start could not be listed.
    Unlistable(trail_discovery::SourceError),
    /// Stopped, or the import is no longer this run's.
    Ended,
}

/// The least a chunk of files handed to the parsers holds, in object bytes (~130 MB of text,
/// 0.1–0.3 s of parsing on two cores): reading a chunk outlasts the writer's commits, which
/// the next chunk's mark waits for.
const CHUNK_BYTES: i64 = 16 << 20;

fn threads_now() -> usize {
    rayon::current_num_threads()
}

/// The import's parser threads: as many as the global pool has (`RAYON_NUM_THREADS`), but
/// no more than the machine's cores.
fn parser_pool() -> Result<rayon::ThreadPool, EngineError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads_now().min(cores))
        .thread_name(|i| format!("parser-{i}"))
        .build()
        .map_err(|e| EngineError::Run(e.to_string()))
}

/// A sink that keeps the one file it is given.
#[derive(Default)]
struct OneFile(Mutex<Option<ParsedFile>>);

impl Sink for OneFile {
    type Error = ();
    fn file(&self, _: &FileTask, file: ParsedFile) -> Result<(), ()> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
        Ok(())
    }
}

/// The sink handing parsed files to the writer thread; blocks when the writer is behind.
struct ChannelSink {
    tx: std::sync::mpsc::SyncSender<writer::Queued>,
    pace: Option<Duration>,
    /// The run's segment, where each file's gzip bytes are appended on the parser's thread.
    segment: Option<Arc<event_store::Segment>>,
}

impl Sink for ChannelSink {
    type Error = ();
    fn file(&self, task: &FileTask, file: ParsedFile) -> Result<(), ()> {
        if let Some(p) = self.pace {
            std::thread::sleep(p);
        }
        let queued = writer::Queued::stored(task.clone(), file, self.segment.as_ref());
        self.tx.send(queued).map_err(|_| ())
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
    let walked = discover(source, prefix, range, |found| {
        if let Found::Folder(p) = found {
            for o in p.objects {
                tasks.push(FileTask {
                    id: tasks.len() as i64,
                    key: o.key,
                    size: o.size,
                });
            }
        }
        ControlFlow::<()>::Continue(())
    })
    .map_err(|e| EngineError::InvalidImportSource(e.to_string()))?;
    let sink = trail_ingest::CountingSink::default();
    let counted = ingest(source, &tasks, opts, &sink, stop).unwrap_or_default();
    Ok((walked.stats, counted))
}
