//! Counts that add up across threads.

use std::ops::{Add, AddAssign};

/// What an ingest did. `Default + Add`, so per-file results merge with a reduce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Files read to the end (whether or not they held bad records).
    pub files: u64,
    /// Files that yielded a failure entry.
    pub files_with_failures: u64,
    /// Valid events handed to the sink.
    pub events: u64,
    /// Records not imported because they are not valid events.
    pub invalid_records: u64,
    /// Valid records dropped because they are older than the store's retention.
    pub expired_records: u64,
    /// Failure entries produced.
    pub failed_entries: u64,
    pub bytes_read: u64,
    pub bytes_inflated: u64,
    /// Stage times, summed over threads (see [`crate::StageTimes`]).
    pub read_ns: u64,
    pub inflate_ns: u64,
    pub parse_ns: u64,
}

impl Add for IngestStats {
    type Output = IngestStats;
    fn add(self, o: IngestStats) -> IngestStats {
        IngestStats {
            files: self.files + o.files,
            files_with_failures: self.files_with_failures + o.files_with_failures,
            events: self.events + o.events,
            invalid_records: self.invalid_records + o.invalid_records,
            expired_records: self.expired_records + o.expired_records,
            failed_entries: self.failed_entries + o.failed_entries,
            bytes_read: self.bytes_read + o.bytes_read,
            bytes_inflated: self.bytes_inflated + o.bytes_inflated,
            read_ns: self.read_ns + o.read_ns,
            inflate_ns: self.inflate_ns + o.inflate_ns,
            parse_ns: self.parse_ns + o.parse_ns,
        }
    }
}

impl AddAssign for IngestStats {
    fn add_assign(&mut self, o: IngestStats) {
        *self = *self + o;
    }
}
