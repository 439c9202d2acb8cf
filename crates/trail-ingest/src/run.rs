//! The parallel driver: read, parse and hand over many files on the rayon pool.

use crate::{parse_file, FailureEntry, IngestOptions, IngestStats, ParsedFile};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;
use trail_discovery::{ObjectSource, SourceError};

/// One object to ingest. `id` is the caller's, handed back with the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTask {
    pub id: i64,
    pub key: String,
}

/// Where parsed files go. Called from many threads at once, once per file, in no set order.
pub trait Sink: Sync {
    type Error: Send;
    fn file(&self, task: &FileTask, file: ParsedFile) -> Result<(), Self::Error>;
}

/// A sink that only counts, for dry runs and benchmarks.
#[derive(Debug, Default)]
pub struct CountingSink {
    pub events: AtomicU64,
    pub bytes: AtomicU64,
}

impl Sink for CountingSink {
    type Error = std::convert::Infallible;
    fn file(&self, _: &FileTask, file: ParsedFile) -> Result<(), Self::Error> {
        self.events
            .fetch_add(file.events.len() as u64, Ordering::Relaxed);
        let bytes: u64 = file.events.iter().map(|e| u64::from(e.len)).sum();
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }
}

/// Reads, parses and sinks every task in parallel; stops picking up new files once `stop` is
/// set. Returns the summed statistics of the files handed to the sink. Local sources are read
/// by the parsers themselves; remote ones (see [`ObjectSource::fetch_concurrency`]) are fetched
/// many at a time on a thread of their own, through a bounded channel, so memory stays bounded.
pub fn ingest<S: Sink + ?Sized>(
    source: &dyn ObjectSource,
    tasks: &[FileTask],
    opts: &IngestOptions,
    sink: &S,
    stop: &AtomicBool,
) -> Result<IngestStats, S::Error> {
    let handle = |task: &FileTask, read: Result<Vec<u8>, SourceError>, read_ns: u64| {
        let mut file = parse_read(source.bucket(), &task.key, read, opts);
        file.timings.read_ns = read_ns;
        let stats = stats_of(&file);
        sink.file(task, file)?;
        Ok(stats)
    };
    let in_flight = source.fetch_concurrency();
    if in_flight == 0 {
        return tasks
            .par_iter()
            .with_max_len(1)
            .map(|task| {
                if stop.load(Ordering::Relaxed) {
                    return Ok(IngestStats::default());
                }
                let started = Instant::now();
                let read = source.read(&task.key);
                handle(task, read, started.elapsed().as_nanos() as u64)
            })
            .try_reduce(IngestStats::default, |a, b| Ok(a + b));
    }
    let keys: Vec<String> = tasks.iter().map(|t| t.key.clone()).collect();
    let (tx, rx) = sync_channel::<(usize, Result<Vec<u8>, SourceError>, u64)>(in_flight);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // The fetch thread's wait between objects is the read time it accounts.
            let mut last = Instant::now();
            source.fetch_many(&keys, &mut |i, read| {
                let waited = last.elapsed().as_nanos() as u64;
                let ok = !stop.load(Ordering::Relaxed) && tx.send((i, read, waited)).is_ok();
                last = Instant::now();
                ok
            })
        });
        rx.into_iter()
            .par_bridge()
            .map(|(i, read, ns)| handle(&tasks[i], read, ns))
            .try_reduce(IngestStats::default, |a, b| Ok(a + b))
    })
}

/// Parses what reading one object gave; a read error becomes the file's failure entry.
fn parse_read(
    bucket: &str,
    key: &str,
    read: Result<Vec<u8>, SourceError>,
    opts: &IngestOptions,
) -> ParsedFile {
    let location = format!("s3://{bucket}/{key}");
    match read {
        Ok(bytes) => parse_file(bytes, &location, opts),
        Err(e) => ParsedFile {
            failure: Some(FailureEntry {
                location,
                error_type: e.kind.into(),
                error_message: e.message,
            }),
            ..Default::default()
        },
    }
}

/// The statistics one parsed file contributes.
pub fn stats_of(file: &ParsedFile) -> IngestStats {
    let failed = u64::from(file.failure.is_some());
    IngestStats {
        files: 1,
        files_with_failures: failed,
        events: file.events.len() as u64,
        invalid_records: file.invalid_records,
        expired_records: file.expired_records,
        failed_entries: failed,
        bytes_read: file.original.len() as u64,
        bytes_inflated: file.text.len() as u64,
        read_ns: file.timings.read_ns,
        inflate_ns: file.timings.inflate_ns,
        parse_ns: file.timings.parse_ns,
    }
}
