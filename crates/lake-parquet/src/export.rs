//! `export`: a store's events in the Parquet layout.
//!
//! The engine hands the events over already in the layout's order (account, Region,
//! eventTime), so each partition's rows stream into its files with nothing to sort and
//! nothing held but the chunk being converted. The files are named after the store, so
//! exporting it again to the same place replaces them.

use crate::layout::{unit_stem, unit_with_range, Partition};
use crate::output::Output;
use crate::writer::{WriteError, WriteOptions, Writer, WrittenFile};
use import_engine::{Engine, EngineError, Scope};
use std::sync::Arc;

/// What an export did.
#[derive(Debug, Default, Clone)]
pub struct ExportSummary {
    /// The store's ID.
    pub store: String,
    pub events: u64,
    pub files: Vec<WrittenFile>,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Write(#[from] WriteError),
    #[error("a stored record is not UTF-8")]
    NotUtf8,
}

/// Which events to export, and how to write them.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The store: its name, ID or ARN.
    pub store: String,
    /// Only events with eventTime in `[start_ms, end_ms]` (either end open).
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub write: WriteOptions,
}

/// Exports a store's events into `output`. `progress` is told the events written so far,
/// every 65,536 events.
pub fn export(
    engine: &Engine,
    scope: &Scope,
    opts: &ExportOptions,
    output: Arc<dyn Output>,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportSummary, ExportError> {
    let (store, start_ms, end_ms) = (opts.store.as_str(), opts.start_ms, opts.end_ms);
    let (id, _) = engine.resolve_event_data_store(scope, store)?;
    let mut writer = Writer::new(
        output,
        unit_stem(&unit_with_range(&format!("store/{id}"), start_ms, end_ms)),
        opts.write.clone(),
    )?;
    let mut events = 0u64;
    let mut current: Option<(Partition, String)> = None;
    let result = engine.export_events(scope, store, start_ms, end_ms, |ev| {
        if !current
            .as_ref()
            .is_some_and(|(p, _)| p.holds(ev.account, ev.region, ev.time_ms))
        {
            let partition = Partition::of(ev.account, ev.region, ev.time_ms);
            let dir = partition.dir();
            current = Some((partition, dir));
        }
        let dir = &current.as_ref().expect("set above").1;
        let text = std::str::from_utf8(ev.raw).map_err(|_| ExportError::NotUtf8)?;
        writer.push(dir, text)?;
        events += 1;
        if events.is_multiple_of(65_536) {
            progress(events);
        }
        Ok::<(), ExportError>(())
    })?;
    result?;
    let files = writer.finish()?;
    Ok(ExportSummary {
        store: id,
        events,
        files,
    })
}
