//! What the command line prints: an import's summary (its `--json` form is the API's own
//! encoding), and raw events.

use crate::cli::EventsArgs;
use aws_api::wire::{failure_status, import_status};
use import_engine::{Engine, EventQuery, FailureRecord, ImportRecord};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// The human summary.
pub fn print_import(r: &ImportRecord, failures: &[FailureRecord], took: Duration) {
    let s = &r.statistics;
    println!("ImportId          {}", r.id);
    println!("ImportStatus      {}", import_status(r.status));
    println!("Source            {}", r.source_uri);
    println!("PrefixesFound     {}", s.prefixes_found);
    println!("PrefixesCompleted {}", s.prefixes_completed);
    println!("FilesCompleted    {}", s.files_completed);
    println!("EventsCompleted   {}", s.events_completed);
    println!("FailedEntries     {}", s.failed_entries);
    println!("Took              {:.2}s", took.as_secs_f64());
    for f in failures {
        println!(
            "  {} {} {}: {}",
            failure_status(f.status),
            f.error_type,
            f.location,
            f.error_message
        );
    }
}

/// `trailport events`: raw records, one per line.
pub fn events(a: EventsArgs) -> anyhow::Result<ExitCode> {
    if !a.db.exists() {
        anyhow::bail!("no database at {}", a.db.display());
    }
    let engine = Engine::open_read_only(&a.db)?;
    let q = EventQuery {
        import_id: a.import_id,
        limit: a.limit,
        ..Default::default()
    };
    let found = match &a.event_id {
        Some(id) => engine.events_with_id(&q, id)?,
        None => engine.events(&q)?,
    };
    let mut out = std::io::stdout().lock();
    for e in &found {
        out.write_all(&e.raw)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if found.is_empty() && a.event_id.is_some() {
        eprintln!("no event with that eventID");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
