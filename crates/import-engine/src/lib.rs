//! The CloudTrail Lake import lifecycle, joining discovery, ingest and the store.
//!
//! An [`Engine`] owns the database. [`Engine::start_import`] checks the destination and the
//! one-ongoing-import rule and records a new import as `INITIALIZING`; [`Engine::run_import`]
//! drives it: discovery records every folder and file (so a resume knows what is left), the
//! status moves to `IN_PROGRESS`, files are parsed on the rayon pool and handed to a single
//! writer thread that commits them in large transactions, and the import ends `COMPLETED`,
//! `FAILED` (some failure entries) or `STOPPED` ([`Engine::stop_import`], or the caller's stop
//! flag). [`Engine::retry_import`] sends a `STOPPED` or `FAILED` import round again: it resumes
//! where it stopped and re-tries its failed entries. [`count_only`] runs discovery and ingest
//! without a store, for dry runs.

mod engine;
mod error;
mod sources;
mod writer;

pub use engine::{count_only, DiscoveredFn, Engine, ImportSpec, Progress, ProgressFn, RunOptions};
pub use error::EngineError;
pub use event_store::{
    EventDataStore, EventDataStoreStatus, EventQuery, FailureRecord, FailureStatus, ImportFilter,
    ImportRecord, ImportStatistics, ImportStatus, NewEventDataStore, StoredEvent,
};
pub use sources::{DirResolver, SourceResolver};
pub use trail_discovery::{Location, ObjectSource};
pub use writer::event_rows;
