//! The engine: every rule and every operation of trailport's event data stores and imports,
//! joining discovery, ingest and the store.
//!
//! An [`Engine`] owns one database, a [`Clock`], the buckets it can read (a
//! [`SourceResolver`]) and the runs going on. Each operation takes one input and returns domain
//! types or an [`EngineError`] named for the refusal: event data stores
//! ([`Engine::create_event_data_store`], get, list, update, delete, restore, start and stop
//! ingestion, and their tags, with the advanced event selector rules of `selectors.rs`) and
//! imports ([`Engine::start_import`], [`Engine::retry_import`], [`Engine::stop_import`], get,
//! list, list failures). A run ([`Engine::run_import`], on a thread of its own for a server)
//! claims its import, so one process at a time runs it; discovery records every folder and file
//! (so a resume knows what is left), files are parsed on the rayon pool and committed by a
//! single writer thread in large transactions that land only while the run still owns the
//! import, and the import ends `COMPLETED`, `FAILED` (some failure entries) or `STOPPED`.
//! [`Engine::resume_interrupted`] restarts the runs a stopped process left behind, and
//! [`count_only`] runs discovery and ingest without a store, for dry runs.
//!
//! The command line and the server call the same operations, so they cannot disagree; the
//! wire spellings of everything here live in the API crate.

mod clock;
mod eds;
mod engine;
mod error;
mod export;
mod filter_pattern;
mod imports;
mod lease;
mod log_groups;
mod log_tasks;
mod owner;
mod queries;
mod runner;
mod scope;
mod selectors;
mod sources;
mod writer;

pub use clock::{wall_ms, Clock, FixedClock, SystemClock};
pub use eds::{
    CreateEventDataStore, CreatedEventDataStore, EventDataStore, ResourceTags,
    UpdateEventDataStore, MAX_EVENT_DATA_STORES, MAX_RETENTION_DAYS, MAX_TAGS,
};
pub use engine::{BatchLimits, Engine, EngineConfig, Page, RetentionPolicy};
pub use error::EngineError;
pub use event_store::stored_bytes;
pub use event_store::{
    BillingMode, EventDataStoreStatus, EventQuery, FailureRecord, FailureStatus, ImportRecord,
    ImportStatistics, ImportStatus, LogBatch, LogEventRow, LogGroup, LogPosition, LogStream,
    LogTask, LogTaskStatus, PartitionValues, PartitionedEvent, StoredEvent, StreamOrder, Tag,
};
pub use event_store::{QueryRecord, QueryStats, QueryStatus};
pub use filter_pattern::{FilterPattern, PatternError};
pub use imports::{ImportCursor, ListImports, StartImport};
pub use log_groups::{
    DescribeLogGroups, DescribeLogStreams, FilterLogEvents, FilterPage, GetLogEvents, LogCursor,
    LogEventsPage, StreamSelection, MAX_PAGE_BYTES, MAX_PAGE_EVENTS, MAX_SCANNED_PER_PAGE,
};
pub use log_tasks::{
    imported_log_group_name, BatchFn, BatchHook, CreateLogTask, DescribeLogTasks, TaskControl,
    FIRST_IMPORTABLE_MS, IMPORTED_LOG_GROUP_CLASS, MAX_TASKS_IN_PROGRESS,
};
pub use queries::{
    csv_record, ListQueries, QueryResults, StartQuery, MAX_ACTIVE_QUERIES, MAX_QUERY_RESULTS,
    QUERY_RETENTION_MS,
};
pub use runner::{count_only, CommitHook, DiscoveredFn, Progress, ProgressFn, RunControl};
pub use scope::{partition_of, CloudTrailArn, Scope, PARTITIONS};
pub use selectors::{default_selectors, AdvancedEventSelector, AdvancedFieldSelector};
pub use sources::{DirResolver, NoBuckets, OneBucket, SourceResolver};
pub use trail_discovery::{Location, ObjectSource};
pub use trail_ingest::{ErrorType, IngestStats, ReadHook};
pub use writer::event_rows;

impl Engine {
    /// Stored events, raw records byte for byte.
    pub fn events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, EngineError> {
        Ok(self.store().events(q)?)
    }

    /// Stored events matching `q` whose `eventID` is `event_id`, read from each record as a
    /// Lake query reads it (the store keeps no copy of it), in storage order; at most
    /// `q.limit`. Looks at every event `q` selects.
    pub fn events_with_id(
        &self,
        q: &EventQuery,
        event_id: &str,
    ) -> Result<Vec<StoredEvent>, EngineError> {
        use lake_sql::record::json;
        let mut found = Vec::new();
        if q.limit == 0 {
            return Ok(found);
        }
        let mut page = EventQuery {
            limit: 1000,
            ..q.clone()
        };
        loop {
            let events = self.store().events(&page)?;
            let Some(last) = events.last() else {
                return Ok(found);
            };
            page.after_num = last.num;
            for e in events {
                // The record's own member, matched as a query matches it (no copy of the
                // record, no index of its other members).
                let id = std::str::from_utf8(&e.raw)
                    .ok()
                    .and_then(|raw| json::get_ci(raw, "eventID"));
                if id.is_some_and(|v| v.starts_with('"') && json::decode_str(v) == event_id) {
                    found.push(e);
                    if found.len() >= q.limit {
                        return Ok(found);
                    }
                }
            }
        }
    }
}
