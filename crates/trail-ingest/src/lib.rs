//! Gunzips, parses and validates CloudTrail log files in parallel and hands their events to a sink.
//!
//! [`parse_file`] turns one object's bytes into a [`ParsedFile`]: the original bytes, the
//! inflated text, an [`Event`] index entry for every valid record (its byte span in the text
//! plus the indexed fields) and at most one [`FailureEntry`] for the file. [`ingest`] runs that
//! over many [`FileTask`]s on the rayon pool, reading each object from an
//! [`trail_discovery::ObjectSource`], and passes every result to a [`Sink`]; it returns the
//! summed [`IngestStats`]. Bad data is never an `Err`: a file that is not gzip, does not inflate
//! or is not `{"Records":[...]}` becomes an `InvalidFileFormat` entry, bad records one
//! `InvalidEventRecord` entry for their file, and every good record around them is kept.
//! This crate knows nothing of where events go: the store implements [`Sink`] elsewhere.

mod budget;
mod error;
mod parse;
mod run;
mod scan;
mod stats;
mod time;

pub use budget::{Budget, Reservation};
pub use error::{ErrorType, FailureEntry};
pub use parse::{
    budget_for, parse_file, Event, IngestOptions, ParsedFile, ReadHook, StageTimes,
    DEFAULT_MAX_OBJECT_BYTES,
};
pub use run::{ingest, stats_of, CountingSink, FileTask, Sink};
pub use stats::IngestStats;
pub use time::parse_event_time;

/// The CloudTrail Lake event size quota: larger records are not imported.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;
