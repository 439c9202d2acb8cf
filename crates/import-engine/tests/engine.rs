//! The import lifecycle end to end: real directory buckets, a real SQLite file.

use chrono::{DateTime, Utc};
use import_engine::{
    Engine, EngineError, EventQuery, FailureStatus, ImportSpec, ImportStatus, NewEventDataStore,
    Progress, RunOptions,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use trail_discovery::LocalDirSource;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/trail-bucket")
}

fn expected() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/trail-bucket.expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

struct Env {
    _dir: tempfile::TempDir,
    engine: Engine,
    arn: String,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path().join("t.db")).unwrap();
    let arn = engine
        .store()
        .create_event_data_store(&NewEventDataStore::with_defaults(
            "s",
            "us-east-1",
            "123456789012",
        ))
        .unwrap()
        .arn;
    Env {
        _dir: dir,
        engine,
        arn,
    }
}

fn spec(arn: &str, uri: &str) -> ImportSpec {
    ImportSpec {
        destination: arn.to_string(),
        source_uri: uri.to_string(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        ..Default::default()
    }
}

fn stats_json(r: &import_engine::ImportRecord) -> Value {
    let s = r.statistics;
    serde_json::json!({
        "PrefixesFound": s.prefixes_found, "PrefixesCompleted": s.prefixes_completed,
        "FilesCompleted": s.files_completed, "EventsCompleted": s.events_completed,
        "FailedEntries": s.failed_entries,
    })
}

/// Every stored event is a record of its source file, byte for byte; returns them by key.
fn stored_records(engine: &Engine, root: &Path) -> BTreeMap<String, Vec<Vec<u8>>> {
    let events = engine
        .store()
        .events(&EventQuery {
            limit: usize::MAX >> 1,
            ..Default::default()
        })
        .unwrap();
    let mut by_key: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for e in events {
        by_key.entry(e.key).or_default().push(e.raw);
    }
    for (key, raws) in &by_key {
        let gz = std::fs::read(root.join(key)).unwrap();
        let mut text = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(gz.as_slice()),
            &mut text,
        )
        .unwrap();
        let mut at = 0;
        for raw in raws {
            let pos = text[at..]
                .windows(raw.len())
                .position(|w| w == raw.as_slice());
            assert!(
                pos.is_some(),
                "{key}: stored record not found in order in the file"
            );
            at += pos.unwrap() + raw.len();
            let v: Value = serde_json::from_slice(raw).unwrap();
            assert!(v.is_object());
        }
    }
    by_key
}

#[test]
fn fixture_import_matches_the_independent_count() {
    let env = env();
    let source = LocalDirSource::new(fixture()).unwrap();
    let import = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .unwrap();
    assert_eq!(import.status, ImportStatus::Initializing);
    let done = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    let want = expected();
    assert_eq!(done.status.as_str(), want["ImportStatus"]);
    assert_eq!(stats_json(&done), want["ImportStatistics"]);
    let failures = env.engine.store().failures(&import.id, 0, 100).unwrap();
    let mut got: Vec<Value> = failures
        .iter()
        .map(|f| serde_json::json!({"Location": f.location, "ErrorType": f.error_type}))
        .collect();
    got.sort_by_key(|v| v["Location"].as_str().unwrap().to_string());
    assert_eq!(Value::Array(got), want["Failures"]);
    assert!(failures.iter().all(|f| f.status == FailureStatus::Failed));
    let by_key = stored_records(&env.engine, &fixture());
    let total: usize = by_key.values().map(Vec::len).sum();
    assert_eq!(total as i64, done.statistics.events_completed);
    // The duplicate delivery is imported twice: no deduplication.
    let dups: Vec<usize> = by_key
        .iter()
        .filter(|(k, _)| k.contains("20140927T0645Z"))
        .map(|(_, v)| v.len())
        .collect();
    assert_eq!(dups.len(), 2);
    assert_eq!(dups[0], dups[1]);
    assert!(done.created_ms <= done.updated_ms);
}

#[test]
fn time_range_and_explicit_prefix() {
    let env = env();
    let source = LocalDirSource::new(fixture()).unwrap();
    let t = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
    let mut s = spec(
        &env.arn,
        "s3://trail-bucket/AWSLogs/974349055189/CloudTrail/",
    );
    s.start = t("2014-09-27T06:40:00Z");
    s.end = t("2014-09-27T06:50:00Z");
    let import = env.engine.start_import(&s).unwrap();
    let done = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    assert_eq!(done.status, ImportStatus::Completed);
    // Only the 06:45 file, delivered twice (the duplicate delivery).
    assert_eq!(done.statistics.files_completed, 2);
    assert_eq!(done.statistics.prefixes_found, 1);
    let keys: BTreeSet<String> = stored_records(&env.engine, &fixture())
        .into_keys()
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .all(|k| k.contains("/2014/09/27/") && k.contains("_20140927T0645Z_")));
}

#[test]
fn one_ongoing_import_per_account_and_region_and_bad_destinations() {
    let env = env();
    let first = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .unwrap();
    match env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
    {
        Err(EngineError::AccountHasOngoingImport(id)) => assert_eq!(id, first.id),
        other => panic!("{other:?}"),
    }
    let mut elsewhere = spec(&env.arn, "s3://trail-bucket/");
    elsewhere.region = "eu-west-1".into();
    assert!(env.engine.start_import(&elsewhere).is_ok());
    env.engine.stop_import(&first.id).unwrap();
    assert!(env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .is_ok());
    assert!(matches!(
        env.engine.start_import(&spec(
            "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/nope",
            "s3://b/"
        )),
        Err(EngineError::EventDataStoreNotFound(_))
    ));
    assert!(matches!(
        env.engine.start_import(&spec(&env.arn, "b/x")),
        Err(EngineError::InvalidImportSource(_))
    ));
    let id = env
        .engine
        .store()
        .event_data_store(&env.arn)
        .unwrap()
        .unwrap()
        .id;
    env.engine
        .store()
        .set_event_data_store_status(&id, import_engine::EventDataStoreStatus::PendingDeletion)
        .unwrap();
    let mut other = spec(&env.arn, "s3://b/");
    other.region = "ap-south-1".into();
    assert!(matches!(
        env.engine.start_import(&other),
        Err(EngineError::InactiveEventDataStore(_))
    ));
    assert!(matches!(
        env.engine.get_import("nope"),
        Err(EngineError::ImportNotFound(_))
    ));
}

#[test]
fn a_bucket_that_cannot_be_listed_fails_the_import_with_one_entry() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let source = LocalDirSource::new(dir.path()).unwrap();
    std::fs::remove_dir(dir.path()).unwrap();
    let import = env
        .engine
        .start_import(&spec(&env.arn, "s3://gone/"))
        .unwrap();
    let done = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    assert_eq!(done.status, ImportStatus::Failed);
    assert_eq!(done.statistics.failed_entries, 1);
    let f = env.engine.store().failures(&import.id, 0, 10).unwrap();
    assert_eq!(
        (f[0].location.as_str(), f[0].error_type.as_str()),
        ("s3://gone/", "NoSuchBucket")
    );
    // A retry lists the bucket again: still missing, the same entry is FAILED again.
    env.engine.retry_import(&import.id).unwrap();
    let again = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    assert_eq!(
        (again.status, again.statistics.failed_entries),
        (ImportStatus::Failed, 1)
    );
    let f = env.engine.store().failures(&import.id, 0, 10).unwrap();
    assert_eq!((f.len(), f[0].status), (1, FailureStatus::Failed));
    // Once the bucket is back, the retried entry succeeds and the import completes.
    std::fs::create_dir(dir.path()).unwrap();
    env.engine.retry_import(&import.id).unwrap();
    let ok = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    assert_eq!(
        (ok.status, ok.statistics.failed_entries),
        (ImportStatus::Completed, 0)
    );
    let f = env.engine.store().failures(&import.id, 0, 10).unwrap();
    assert_eq!((f.len(), f[0].status), (1, FailureStatus::Succeeded));
}

#[test]
fn stopped_import_resumes_exactly_once() {
    let env = env();
    let source = LocalDirSource::new(fixture()).unwrap();
    let import = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let opts = RunOptions {
        stop: stop.clone(),
        // Stop after the first committed batch; pace the files so the run is still going.
        on_progress: Some(Arc::new({
            let stop = stop.clone();
            let commits = commits.clone();
            move |_: &Progress| {
                commits.fetch_add(1, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
        })),
        pace_per_file: Some(std::time::Duration::from_millis(20)),
        ..Default::default()
    };
    let stopped = env.engine.run_import(&import.id, &source, &opts).unwrap();
    assert_eq!(stopped.status, ImportStatus::Stopped);
    let partial = stopped.statistics.files_completed;
    let want = expected();
    let total_files = want["ImportStatistics"]["FilesCompleted"].as_i64().unwrap();
    assert!(
        partial > 0 && partial < total_files,
        "stopped after {partial} files"
    );
    assert_eq!(
        env.engine.store().event_count(None).unwrap(),
        stopped.statistics.events_completed
    );

    // Retrying a STOPPED import resumes it; COMPLETED cannot be retried.
    let again = env.engine.retry_import(&import.id).unwrap();
    assert_eq!(again.status, ImportStatus::Initializing);
    let done = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    assert_eq!(stats_json(&done), want["ImportStatistics"]);
    assert_eq!(
        env.engine.store().event_count(None).unwrap(),
        done.statistics.events_completed
    );
    let by_key = stored_records(&env.engine, &fixture());
    assert_eq!(
        by_key.values().map(Vec::len).sum::<usize>() as i64,
        done.statistics.events_completed
    );
    assert_eq!(done.status, ImportStatus::Failed);
}

#[test]
fn retry_of_a_failed_import_retries_its_entries_without_doubling_events() {
    let env = env();
    let source = LocalDirSource::new(fixture()).unwrap();
    let import = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .unwrap();
    let first = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    assert_eq!(first.status, ImportStatus::Failed);
    let retried = env.engine.retry_import(&import.id).unwrap();
    assert_eq!(retried.statistics.failed_entries, 0);
    let statuses: BTreeSet<_> = env
        .engine
        .store()
        .failures(&import.id, 0, 100)
        .unwrap()
        .iter()
        .map(|f| f.status)
        .collect();
    assert_eq!(statuses, BTreeSet::from([FailureStatus::Retry]));
    let second = env
        .engine
        .run_import(&import.id, &source, &RunOptions::default())
        .unwrap();
    // The bucket did not change, so the same entries fail again and the events are the same.
    assert_eq!(second.status, ImportStatus::Failed);
    assert_eq!(stats_json(&second), stats_json(&first));
    assert_eq!(
        env.engine.store().event_count(None).unwrap(),
        first.statistics.events_completed
    );
}

#[test]
fn stop_import_from_another_thread_stops_within_a_second() {
    let env = env();
    let source = LocalDirSource::new(fixture()).unwrap();
    let import = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .unwrap();
    let opts = RunOptions {
        pace_per_file: Some(std::time::Duration::from_millis(50)),
        ..Default::default()
    };
    std::thread::scope(|s| {
        let runner = s.spawn(|| env.engine.run_import(&import.id, &source, &opts));
        while env.engine.get_import(&import.id).unwrap().status != ImportStatus::InProgress {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let asked = std::time::Instant::now();
        let now = env.engine.stop_import(&import.id).unwrap();
        assert_eq!(now.status, ImportStatus::Stopped);
        let end = runner.join().unwrap().unwrap();
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
        assert_eq!(end.status, ImportStatus::Stopped);
        assert!(!env.engine.is_running(&import.id));
    });
}

#[test]
fn retention_drops_old_events() {
    let env = env();
    let source = LocalDirSource::new(fixture()).unwrap();
    let import = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/AWSLogs/974349055189/"))
        .unwrap();
    let opts = RunOptions {
        retention_days: Some(365),
        ..Default::default()
    };
    let done = env.engine.run_import(&import.id, &source, &opts).unwrap();
    // Every record of that account is from 2014 or 2018.
    assert_eq!(done.statistics.events_completed, 0);
    assert!(done.statistics.files_completed > 0);
    assert_eq!(done.status, ImportStatus::Completed);
    // Only STOPPED or FAILED imports can be retried.
    assert!(matches!(
        env.engine.retry_import(&import.id),
        Err(EngineError::OperationNotPermitted(_))
    ));
    let ongoing = env
        .engine
        .start_import(&spec(&env.arn, "s3://trail-bucket/"))
        .unwrap();
    assert!(matches!(
        env.engine.retry_import(&ongoing.id),
        Err(EngineError::OperationNotPermitted(_))
    ));
}
