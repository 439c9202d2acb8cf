//! The parallel driver: read, parse and hand over many files on the rayon pool.

use crate::parse::parse_within;
use crate::{
    parse_file, ErrorType, FailureEntry, IngestOptions, IngestStats, ParsedFile, Reservation,
};
use rayon::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;
use trail_discovery::{ObjectSource, SourceError, SourceErrorKind};

/// One object to ingest. `id` is the caller's, handed back with the result; `size` is the
/// object's size as listed, the most that is read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTask {
    pub id: i64,
    pub key: String,
    pub size: u64,
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
/// many at a time on a thread of their own. Either way every file holds a reservation of the
/// options' memory budget from before it is read until the sink drops it, so the files in
/// flight never hold more than the budget, whatever the bucket holds and however many threads
/// parse: a file is first given room for its object and sixteen times that for its text; one
/// that inflates to more is read again with room for the largest object allowed.
pub fn ingest<S: Sink + ?Sized>(
    source: &dyn ObjectSource,
    tasks: &[FileTask],
    opts: &IngestOptions,
    sink: &S,
    stop: &AtomicBool,
) -> Result<IngestStats, S::Error> {
    let handle = |task: &FileTask, file: ParsedFile| {
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
                if stop.load(Ordering::SeqCst) {
                    return Ok(IngestStats::default());
                }
                match read_and_parse(source, task, None, opts, stop) {
                    Some(file) => handle(task, file),
                    None => Ok(IngestStats::default()),
                }
            })
            .try_reduce(IngestStats::default, |a, b| Ok(a + b));
    }
    let objects: Vec<(String, u64)> = tasks.iter().map(|t| (t.key.clone(), t.size)).collect();
    let (tx, rx) = sync_channel::<(usize, Fetched)>(in_flight);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // Reservations taken for objects being fetched, handed over with their bytes.
            let held: RefCell<HashMap<usize, Reservation>> = RefCell::new(HashMap::new());
            // The fetch thread's wait between objects is the read time it accounts.
            let mut last = Instant::now();
            let mut admit = |i: usize, may_wait: bool| {
                if stop.load(Ordering::SeqCst) {
                    return Some(false);
                }
                let want = first_room(tasks[i].size, opts);
                let r = if may_wait {
                    match opts.budget.reserve(want, stop) {
                        Some(r) => r,
                        None => return Some(false),
                    }
                } else {
                    opts.budget.try_reserve(want)?
                };
                held.borrow_mut().insert(i, r);
                Some(true)
            };
            let mut each = |i: usize, read: Result<Vec<u8>, SourceError>| {
                let fetched = Fetched {
                    read,
                    reservation: held.borrow_mut().remove(&i),
                    read_ns: last.elapsed().as_nanos() as u64,
                };
                let ok = !stop.load(Ordering::SeqCst) && tx.send((i, fetched)).is_ok();
                last = Instant::now();
                ok
            };
            source.fetch_many(&objects, &mut admit, &mut each)
        });
        rx.into_iter()
            .par_bridge()
            .map(|(i, fetched)| {
                let task = &tasks[i];
                match read_and_parse(source, task, Some(fetched), opts, stop) {
                    Some(file) => handle(task, file),
                    None => Ok(IngestStats::default()),
                }
            })
            .try_reduce(IngestStats::default, |a, b| Ok(a + b))
    })
}

/// An object a fetch thread already read, with the room it holds.
struct Fetched {
    read: Result<Vec<u8>, SourceError>,
    reservation: Option<Reservation>,
    read_ns: u64,
}

/// The room a file is first given: its object, and sixteen times that for its text (JSON
/// rarely compresses better), within the object cap.
fn first_room(size: u64, opts: &IngestOptions) -> u64 {
    let size = size.min(opts.max_object_bytes);
    size + text_room(size, opts)
}

fn text_room(size: u64, opts: &IngestOptions) -> u64 {
    size.saturating_mul(16)
        .max(64 << 10)
        .min(opts.max_object_bytes)
}

/// Reads (unless a fetch thread did) and parses one object within the memory budget; `None`
/// when the run was stopped while it waited for room. A panic while parsing is caught and
/// becomes the file's failure entry: one bad object never ends the run.
fn read_and_parse(
    source: &dyn ObjectSource,
    task: &FileTask,
    fetched: Option<Fetched>,
    opts: &IngestOptions,
    stop: &AtomicBool,
) -> Option<ParsedFile> {
    let location = format!("s3://{}/{}", source.bucket(), task.key);
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_in_budget(source, task, fetched, &location, opts, stop)
    }));
    match attempt {
        Ok(file) => file,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Some(failed(
                &location,
                ErrorType::InternalFailure,
                format!("trailport failed on this object ({why}); it was not imported."),
            ))
        }
    }
}

fn failed(location: &str, error_type: ErrorType, message: String) -> ParsedFile {
    ParsedFile {
        failure: Some(FailureEntry {
            location: location.to_string(),
            error_type,
            error_message: message,
        }),
        ..Default::default()
    }
}

fn parse_in_budget(
    source: &dyn ObjectSource,
    task: &FileTask,
    fetched: Option<Fetched>,
    location: &str,
    opts: &IngestOptions,
    stop: &AtomicBool,
) -> Option<ParsedFile> {
    if task.size > opts.max_object_bytes {
        return Some(failed(
            location,
            ErrorType::InvalidFileFormat,
            format!(
                "The object is {} bytes, more than the {} bytes of the largest object this import takes.",
                task.size, opts.max_object_bytes
            ),
        ));
    }
    let (read, mut reservation, read_ns) = match fetched {
        Some(f) => (f.read, f.reservation, f.read_ns),
        None => {
            let reservation = opts.budget.reserve(first_room(task.size, opts), stop)?;
            let started = Instant::now();
            let read = source.read(&task.key, task.size);
            (read, Some(reservation), started.elapsed().as_nanos() as u64)
        }
    };
    let gz = match read {
        Ok(gz) => gz,
        Err(e) => {
            let message = if e.kind == SourceErrorKind::TooLarge {
                format!(
                    "{}: the object changed while it was read (it is larger than the {} bytes listed).",
                    task.key, task.size
                )
            } else {
                e.message
            };
            let mut file = failed(location, e.kind.into(), message);
            file.timings.read_ns = read_ns;
            return Some(file);
        }
    };
    if let Some(hook) = &opts.on_read {
        (hook.0)(&task.key);
    }
    let mut file = match parse_within(gz, location, opts, text_room(task.size, opts)) {
        Ok(file) => file,
        Err(too_big) => {
            // It inflates to more than it was given room for: give the room back, wait in line
            // for room for the largest object allowed (holding nothing), and read it again.
            drop(too_big);
            drop(reservation.take());
            let room = task.size + opts.max_object_bytes;
            reservation = Some(opts.budget.reserve(room, stop)?);
            match source.read(&task.key, task.size) {
                Ok(gz) => parse_file(gz, location, opts),
                Err(e) => failed(location, e.kind.into(), e.message),
            }
        }
    };
    file.timings.read_ns = read_ns;
    if let Some(mut r) = reservation {
        r.shrink_to(file.memory());
        file.reservation = Some(r);
    }
    Some(file)
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
        bytes_inflated: file.text_bytes,
        read_ns: file.timings.read_ns,
        inflate_ns: file.timings.inflate_ns,
        parse_ns: file.timings.parse_ns,
    }
}
