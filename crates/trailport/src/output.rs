//! What the command line prints: the GetImport-shaped result, and raw events.

use crate::cli::EventsArgs;
use event_store::{EventQuery, Store};
use import_engine::{FailureRecord, ImportRecord};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// Epoch seconds with millisecond precision, as the CloudTrail wire writes timestamps.
fn epoch_seconds(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// The import as `GetImport` returns it.
pub fn import_json(r: &ImportRecord) -> Value {
    let mut m = Map::new();
    m.insert("ImportId".into(), json!(r.id));
    m.insert("Destinations".into(), json!([r.destination]));
    m.insert(
        "ImportSource".into(),
        json!({"S3": {
            "S3LocationUri": r.source_uri,
            "S3BucketRegion": r.bucket_region,
            "S3BucketAccessRoleArn": r.role_arn,
        }}),
    );
    if let Some(s) = r.start_ms {
        m.insert("StartEventTime".into(), epoch_seconds(s));
    }
    if let Some(e) = r.end_ms {
        m.insert("EndEventTime".into(), epoch_seconds(e));
    }
    m.insert("ImportStatus".into(), json!(r.status.as_str()));
    m.insert("CreatedTimestamp".into(), epoch_seconds(r.created_ms));
    m.insert("UpdatedTimestamp".into(), epoch_seconds(r.updated_ms));
    let s = &r.statistics;
    m.insert(
        "ImportStatistics".into(),
        json!({
            "PrefixesFound": s.prefixes_found,
            "PrefixesCompleted": s.prefixes_completed,
            "FilesCompleted": s.files_completed,
            "EventsCompleted": s.events_completed,
            "FailedEntries": s.failed_entries,
        }),
    );
    Value::Object(m)
}

/// The human summary.
pub fn print_import(r: &ImportRecord, failures: &[FailureRecord], took: Duration) {
    let s = &r.statistics;
    println!("ImportId          {}", r.id);
    println!("ImportStatus      {}", r.status.as_str());
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
            f.status.as_str(),
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
    let store = Store::open(&a.db)?;
    let found = store.events(&EventQuery {
        event_id: a.event_id.clone(),
        import_id: a.import_id,
        limit: a.limit,
        ..Default::default()
    })?;
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
