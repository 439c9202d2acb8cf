//! The single writer thread: parsed files in, one transaction per batch out.

use crate::engine::Progress;
use event_store::{EventRow, FailureRow, FileWrite, Store};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use trail_ingest::{FileTask, ParsedFile};

/// When a batch is committed: whichever limit is reached first.
pub(crate) struct BatchLimits {
    pub events: usize,
    pub bytes: usize,
    pub latency: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            events: 100_000,
            bytes: 64 << 20,
            latency: Duration::from_millis(250),
        }
    }
}

/// Receives parsed files until the channel closes, committing them in batches; calls
/// `on_commit` after each commit with the running totals.
pub(crate) fn run(
    mut store: Store,
    import_id: &str,
    eds_num: i64,
    rx: Receiver<(FileTask, ParsedFile)>,
    limits: BatchLimits,
    on_commit: &dyn Fn(&Progress),
) -> Result<Progress, event_store::StoreError> {
    let mut totals = Progress::default();
    let mut batch: Vec<(FileTask, ParsedFile)> = Vec::new();
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
                events += item.1.events.len();
                bytes += item.1.text.len();
                batch.push(item);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        let due =
            events >= limits.events || bytes >= limits.bytes || oldest.elapsed() >= limits.latency;
        if !batch.is_empty() && (due || closed) {
            let started = Instant::now();
            commit(&mut store, import_id, eds_num, &batch)?;
            totals.store_ns += started.elapsed().as_nanos() as u64;
            for (_, f) in &batch {
                totals.read_ns += f.timings.read_ns;
                totals.inflate_ns += f.timings.inflate_ns;
                totals.parse_ns += f.timings.parse_ns;
                totals.files_done += 1;
                totals.events += f.events.len() as u64;
                totals.failed_entries += u64::from(f.failure.is_some());
                totals.bytes_read += f.original.len() as u64;
                totals.bytes_inflated += f.text.len() as u64;
            }
            on_commit(&totals);
            batch.clear();
            (events, bytes) = (0, 0);
        }
        if closed {
            return Ok(totals);
        }
    }
}

/// The store's rows for a parsed file's events.
pub fn event_rows(f: &ParsedFile) -> Vec<EventRow<'_>> {
    f.events
        .iter()
        .map(|e| EventRow {
            offset: e.offset,
            len: e.len,
            time_ms: e.time_ms,
            event_id: f.field(&e.event_id),
            source: e.event_source,
            name: e.event_name,
            region: e.aws_region,
            account: e.recipient_account_id,
        })
        .collect()
}

fn commit(
    store: &mut Store,
    import_id: &str,
    eds_num: i64,
    batch: &[(FileTask, ParsedFile)],
) -> Result<(), event_store::StoreError> {
    let rows: Vec<Vec<EventRow>> = batch.iter().map(|(_, f)| event_rows(f)).collect();
    let strings: Vec<Vec<&str>> = batch
        .iter()
        .map(|(_, f)| f.strings.iter().map(String::as_str).collect())
        .collect();
    let writes: Vec<FileWrite> = batch
        .iter()
        .zip(&rows)
        .zip(&strings)
        .map(|(((task, f), rows), strings)| FileWrite {
            file_no: task.id,
            key: &task.key,
            gz: &f.original,
            events: rows,
            strings,
            failure: f.failure.as_ref().map(|x| FailureRow {
                location: &x.location,
                error_type: &x.error_type,
                error_message: &x.error_message,
            }),
        })
        .collect();
    store.write_files(import_id, eds_num, &writes)
}
