//! The single writer thread: parsed files in, one transaction per batch out.

use crate::clock::Clock;
use crate::engine::BatchLimits;
use crate::runner::Progress;
use event_store::{EventRow, FailureRow, FileWrite, LogBytes, Segment, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;
use trail_ingest::{stats_of, FileTask, IngestStats, ParsedFile};

/// A parsed file on its way to the writer.
pub(crate) struct Queued {
    pub task: FileTask,
    pub file: ParsedFile,
    /// What the file adds to the import's statistics (taken before its bytes were let go of).
    pub stats: IngestStats,
    /// Where its gzip bytes were appended, when they were (else `file.original` holds them).
    pub appended: Option<Appended>,
    /// Nanoseconds spent appending them.
    pub append_ns: u64,
}

/// A file's gzip bytes in a segment of the run.
pub(crate) struct Appended {
    pub segment: Arc<Segment>,
    pub offset: u64,
    pub len: u64,
}

impl Queued {
    /// A file whose bytes are still held.
    pub fn held(task: FileTask, file: ParsedFile) -> Queued {
        Queued {
            task,
            stats: stats_of(&file),
            file,
            appended: None,
            append_ns: 0,
        }
    }

    /// A file made ready for the queue: its text let go of and, when it has events to store
    /// and `segment` takes them, its gzip bytes appended there and let go of too (a file
    /// without events lets go of them at once: they are not stored), so a file waiting for
    /// the writer holds only its event index. Bytes that could not be appended (a full disk,
    /// say) stay held and are stored in the database instead.
    pub fn stored(task: FileTask, mut file: ParsedFile, segment: Option<&Arc<Segment>>) -> Queued {
        file.release_text();
        let stats = stats_of(&file);
        let started = Instant::now();
        let appended = match segment {
            Some(segment) if !file.events.is_empty() => {
                segment.append(&file.original).ok().map(|offset| Appended {
                    segment: segment.clone(),
                    offset,
                    len: file.original.len() as u64,
                })
            }
            _ => None,
        };
        let append_ns = started.elapsed().as_nanos() as u64;
        // A file without events keeps no bytes in the store either way.
        if appended.is_some() || file.events.is_empty() {
            file.release_original();
        }
        Queued {
            task,
            file,
            stats,
            appended,
            append_ns,
        }
    }
}

/// Which import the writer commits for.
pub(crate) struct Target<'a> {
    pub import_id: &'a str,
    /// The run that owns the import: a commit lands only while it still does.
    pub owner: &'a str,
    pub eds_num: i64,
    /// The run's stop flag: once it is set, nothing more is committed.
    pub stop: &'a AtomicBool,
}

/// How the writer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriterEnd {
    /// Every file received was committed.
    Drained,
    /// The import stopped being this run's; the batch in hand was not written.
    Refused,
    /// The run was stopped; the batch in hand was not written.
    Stopped,
}

/// Receives parsed files until the channel closes, committing them in batches; calls
/// `on_commit` after each commit with the running totals.
pub(crate) fn run(
    mut store: Store,
    target: Target<'_>,
    rx: Receiver<Queued>,
    limits: BatchLimits,
    clock: &dyn Clock,
    on_commit: &dyn Fn(&Progress),
) -> Result<WriterEnd, StoreError> {
    let mut totals = Progress::default();
    let mut batch: Vec<Queued> = Vec::new();
    let (mut events, mut bytes) = (0usize, 0usize);
    let mut oldest = Instant::now();
    loop {
        let wait = limits.latency.saturating_sub(oldest.elapsed());
        let msg = if batch.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(wait)
        };
        let closed = match msg {
            Ok(item) => {
                if batch.is_empty() {
                    oldest = Instant::now();
                }
                events += item.file.events.len();
                bytes += item.file.memory() as usize;
                batch.push(item);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        let due = batch.len() >= limits.files
            || events >= limits.events
            || bytes >= limits.bytes
            || oldest.elapsed() >= limits.latency;
        if target.stop.load(Ordering::SeqCst) {
            // Files parsed but not committed stay pending for whoever runs the import next.
            return Ok(WriterEnd::Stopped);
        }
        if !batch.is_empty() && (due || closed) {
            let started = Instant::now();
            if !commit(&mut store, &target, &batch, clock.now_ms())? {
                return Ok(WriterEnd::Refused);
            }
            totals.store_ns += started.elapsed().as_nanos() as u64;
            for q in &batch {
                totals.stats += q.stats;
                totals.append_ns += q.append_ns;
            }
            on_commit(&totals);
            batch.clear();
            (events, bytes) = (0, 0);
        }
        if closed {
            return Ok(WriterEnd::Drained);
        }
    }
}

/// The store's rows for a parsed file's events.
pub fn event_rows(f: &ParsedFile) -> Vec<EventRow> {
    f.events
        .iter()
        .map(|e| EventRow {
            offset: e.offset,
            len: e.len,
            time_ms: e.time_ms,
            source: e.event_source,
            name: e.event_name,
            region: e.aws_region,
            account: e.recipient_account_id,
        })
        .collect()
}

/// Commits a batch for `target`; `false` (nothing written) when the import is no longer its.
pub(crate) fn commit(
    store: &mut Store,
    target: &Target<'_>,
    batch: &[Queued],
    now_ms: i64,
) -> Result<bool, StoreError> {
    let rows: Vec<Vec<EventRow>> = batch.iter().map(|q| event_rows(&q.file)).collect();
    let strings: Vec<Vec<&str>> = batch
        .iter()
        .map(|q| q.file.strings.iter().map(String::as_str).collect())
        .collect();
    let writes: Vec<FileWrite> = batch
        .iter()
        .zip(&rows)
        .zip(&strings)
        .map(|((q, rows), strings)| FileWrite {
            file_no: q.task.id,
            gz: match &q.appended {
                Some(a) => LogBytes::Appended {
                    segment: &a.segment,
                    offset: a.offset,
                    len: a.len,
                },
                None => LogBytes::Held(&q.file.original),
            },
            events: rows,
            strings,
            failure: q.file.failure.as_ref().map(|x| FailureRow {
                location: &x.location,
                error_type: x.error_type.as_str(),
                error_message: &x.error_message,
            }),
        })
        .collect();
    store.write_files(
        target.import_id,
        target.owner,
        target.eds_num,
        &writes,
        now_ms,
    )
}
