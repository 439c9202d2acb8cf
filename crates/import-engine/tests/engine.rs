//! The engine end to end: real directory buckets, a real SQLite file, a frozen clock, and runs
//! stopped at exact points by a gate rather than by timing.

use chrono::{DateTime, Utc};
use import_engine::{
    AdvancedEventSelector, AdvancedFieldSelector, BatchLimits, CommitHook, CreateEventDataStore,
    DirResolver, Engine, EngineConfig, EngineError, EventQuery, FailureStatus, FixedClock,
    ImportRecord, ImportStatus, ListImports, ObjectSource, RetentionPolicy, RunControl, Scope,
    SourceResolver, StartImport, UpdateEventDataStore,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use trail_discovery::Listing;

/// The instant every test's clock stands at.
const NOW: &str = "2025-01-01T00:00:00Z";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> PathBuf {
    root().join("fixtures/trail-bucket")
}

fn expected() -> Value {
    let p = root().join("fixtures/trail-bucket.expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// How many of the fixture's stored records a store keeping `days` days keeps at `NOW`, from
/// the independently computed list of their eventTimes.
fn kept_within(days: i64) -> i64 {
    let now = DateTime::parse_from_rfc3339(NOW).unwrap();
    let cutoff = now - chrono::Duration::days(days);
    expected()["EventTimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| DateTime::parse_from_rfc3339(t.as_str().unwrap()).unwrap() >= cutoff)
        .count() as i64
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

/// A gate the writer waits at after each commit while it is held (or until the run stops).
#[derive(Default)]
struct Gate {
    held: Mutex<bool>,
    turned: Condvar,
    commits: Mutex<u64>,
}

impl Gate {
    fn hook(self: &Arc<Self>) -> CommitHook {
        let gate = self.clone();
        Arc::new(move |_, stop: &AtomicBool| {
            *gate.commits.lock().unwrap() += 1;
            gate.turned.notify_all();
            let mut held = gate.held.lock().unwrap();
            while *held && !stop.load(Ordering::SeqCst) {
                held = gate
                    .turned
                    .wait_timeout(held, Duration::from_millis(10))
                    .unwrap()
                    .0;
            }
        })
    }

    fn hold(&self) {
        *self.held.lock().unwrap() = true;
    }

    fn release(&self) {
        *self.held.lock().unwrap() = false;
        self.turned.notify_all();
    }

    /// Waits (at most 30 s) until the writer has committed `n` batches.
    fn wait_for_commits(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut commits = self.commits.lock().unwrap();
        while *commits < n {
            assert!(Instant::now() < deadline, "only {} commits", *commits);
            commits = self
                .turned
                .wait_timeout(commits, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }
}

struct Env {
    dir: tempfile::TempDir,
    engine: Arc<Engine>,
    arn: String,
    gate: Arc<Gate>,
}

/// A foreground engine on a fresh database whose buckets directory holds the fixture as
/// `trail-bucket`, and one store keeping ten years.
fn env_with(f: impl FnOnce(&mut EngineConfig)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(fixture(), buckets.join("trail-bucket")).unwrap();
    let gate = Arc::new(Gate::default());
    let mut config = EngineConfig {
        clock: Arc::new(FixedClock::at(NOW).unwrap()),
        resolver: Arc::new(DirResolver { root: buckets }),
        background: false,
        retention: RetentionPolicy::KeepAll,
        after_commit: Some(gate.hook()),
        ..Default::default()
    };
    f(&mut config);
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config).unwrap());
    let mut create = CreateEventDataStore::named(scope(), "s");
    create.retention_days = Some(3653);
    create.termination_protection = Some(false);
    let arn = engine.create_event_data_store(create).unwrap().store.arn;
    Env {
        dir,
        engine,
        arn,
        gate,
    }
}

fn env() -> Env {
    env_with(|_| {})
}

fn start(env: &Env, uri: &str) -> Result<ImportRecord, EngineError> {
    env.engine.start_import(StartImport {
        scope: scope(),
        destination: env.arn.clone(),
        source_uri: uri.to_string(),
        bucket_region: "us-east-1".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        ..Default::default()
    })
}

fn run(env: &Env, id: &str) -> ImportRecord {
    env.engine.run_import(id, &RunControl::default()).unwrap()
}

fn stats_json(r: &ImportRecord) -> Value {
    let s = r.statistics;
    serde_json::json!({
        "PrefixesFound": s.prefixes_found, "PrefixesCompleted": s.prefixes_completed,
        "FilesCompleted": s.files_completed, "EventsCompleted": s.events_completed,
        "FailedEntries": s.failed_entries,
    })
}

/// Every stored event is a record of its source file, byte for byte; returns them by key.
fn stored_records(engine: &Engine) -> BTreeMap<String, Vec<Vec<u8>>> {
    let events = engine
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
        let gz = std::fs::read(fixture().join(key)).unwrap();
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

fn stored_count(engine: &Engine) -> i64 {
    stored_records(engine).values().map(Vec::len).sum::<usize>() as i64
}

#[test]
fn fixture_import_matches_the_independent_count() {
    let env = env();
    let import = start(&env, "s3://trail-bucket/").unwrap();
    assert_eq!(import.status, ImportStatus::Initializing);
    let now = import_engine::Clock::now_ms(&FixedClock::at(NOW).unwrap());
    assert_eq!((import.created_ms, import.updated_ms), (now, now));
    let done = run(&env, &import.id);
    let want = expected();
    assert_eq!(done.status, ImportStatus::Failed);
    assert_eq!(stats_json(&done), want["ImportStatistics"]);
    let failures = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 100)
        .unwrap()
        .items;
    let mut got: Vec<Value> = failures
        .iter()
        .map(|f| serde_json::json!({"Location": f.location, "ErrorType": f.error_type}))
        .collect();
    got.sort_by_key(|v| v["Location"].as_str().unwrap().to_string());
    assert_eq!(Value::Array(got), want["Failures"]);
    assert!(failures.iter().all(|f| f.status == FailureStatus::Failed));
    let by_key = stored_records(&env.engine);
    assert_eq!(stored_count(&env.engine), done.statistics.events_completed);
    // The duplicate delivery is imported twice: no deduplication.
    let dups: Vec<usize> = by_key
        .iter()
        .filter(|(k, _)| k.contains("20140927T0645Z"))
        .map(|(_, v)| v.len())
        .collect();
    assert_eq!(dups.len(), 2);
    assert_eq!(dups[0], dups[1]);
}

#[test]
fn time_range_and_explicit_prefix() {
    let env = env();
    let t = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
    let import = env
        .engine
        .start_import(StartImport {
            scope: scope(),
            destination: env.arn.clone(),
            source_uri: "s3://trail-bucket/AWSLogs/974349055189/CloudTrail/".into(),
            start: t("2014-09-27T06:40:00Z"),
            end: t("2014-09-27T06:50:00Z"),
            ..Default::default()
        })
        .unwrap();
    let done = run(&env, &import.id);
    assert_eq!(done.status, ImportStatus::Completed);
    // Only the 06:45 file, delivered twice (the duplicate delivery).
    assert_eq!(done.statistics.files_completed, 2);
    assert_eq!(done.statistics.prefixes_found, 1);
    let keys: BTreeSet<String> = stored_records(&env.engine).into_keys().collect();
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .all(|k| k.contains("/2014/09/27/") && k.contains("_20140927T0645Z_")));
    // A start after the end is refused before anything is recorded.
    let bad = env.engine.start_import(StartImport {
        scope: scope(),
        destination: env.arn.clone(),
        source_uri: "s3://trail-bucket/".into(),
        start: t("2014-09-28T00:00:00Z"),
        end: t("2014-09-27T00:00:00Z"),
        ..Default::default()
    });
    assert!(matches!(bad, Err(EngineError::InvalidParameter(_))));
}

/// The trail's own digests, Insights and other services' logs beside its `CloudTrail/` folder
/// are not read under an explicit prefix above it: the import completes without failures.
#[test]
fn an_explicit_prefix_above_the_trail_folder_reads_only_trail_logs() {
    let env = env();
    let import = start(&env, "s3://trail-bucket/AWSLogs/123456789012/").unwrap();
    let done = run(&env, &import.id);
    let bad: i64 = expected()["Failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["Location"].as_str().unwrap().contains("/123456789012/"))
        .count() as i64;
    assert_eq!(
        done.statistics.failed_entries, bad,
        "only the day folder's bad objects"
    );
    assert!(stored_records(&env.engine)
        .keys()
        .all(|k| k.starts_with("AWSLogs/123456789012/CloudTrail/")));
}

#[test]
fn one_ongoing_import_per_account_and_region_and_bad_destinations() {
    let env = env();
    let first = start(&env, "s3://trail-bucket/").unwrap();
    match start(&env, "s3://trail-bucket/") {
        Err(EngineError::AccountHasOngoingImport(id)) => assert_eq!(id, first.id),
        other => panic!("{other:?}"),
    }
    // Another Region has its own store and its own import.
    let eu = Scope::new("123456789012", "eu-west-1");
    let eu_arn = env
        .engine
        .create_event_data_store(CreateEventDataStore::named(eu.clone(), "s"))
        .unwrap()
        .store
        .arn;
    env.engine
        .start_import(StartImport {
            scope: eu.clone(),
            destination: eu_arn,
            source_uri: "s3://trail-bucket/".into(),
            ..Default::default()
        })
        .unwrap();
    // The us-east-1 store is not found from eu-west-1.
    let from_eu = env.engine.start_import(StartImport {
        scope: eu,
        destination: env.arn.clone(),
        source_uri: "s3://trail-bucket/".into(),
        ..Default::default()
    });
    assert!(matches!(
        from_eu,
        Err(EngineError::EventDataStoreNotFound(_))
    ));
    env.engine.stop_import(&scope(), &first.id).unwrap();
    assert!(start(&env, "s3://trail-bucket/").is_ok());
    let unknown = env.engine.start_import(StartImport {
        scope: scope(),
        destination: "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/nope".into(),
        source_uri: "s3://trail-bucket/".into(),
        ..Default::default()
    });
    assert!(matches!(
        unknown,
        Err(EngineError::EventDataStoreNotFound(_))
    ));
    for bad_arn in [
        "arn:aws:cloudtrail:us-east-1:999999999999:eventdatastore/x",
        "arn:aws-cn:cloudtrail:us-east-1:123456789012:eventdatastore/x",
        "arn:nope",
        "has space",
    ] {
        let r = env.engine.get_event_data_store(&scope(), bad_arn);
        assert!(
            matches!(r, Err(EngineError::EventDataStoreArnInvalid(_))),
            "{bad_arn}: {r:?}"
        );
    }
    assert!(matches!(
        env.engine.get_import(&scope(), "nope"),
        Err(EngineError::ImportNotFound(_))
    ));
}

#[test]
fn the_source_is_checked_for_new_imports_and_retries() {
    let env = env();
    for (uri, why) in [
        ("b/x", "not s3://"),
        ("s3://missing-bucket/", "no such bucket"),
    ] {
        assert!(
            matches!(start(&env, uri), Err(EngineError::InvalidImportSource(_))),
            "{why}"
        );
    }
}

/// A store whose selectors collect no CloudTrail events cannot receive an import, for a new
/// import and a retry alike; nor can a store pending deletion.
#[test]
fn destination_checks_hold_for_retries_too() {
    let env = env();
    let import = start(&env, "s3://trail-bucket/").unwrap();
    env.engine.stop_import(&scope(), &import.id).unwrap();
    env.engine
        .delete_event_data_store(&scope(), &env.arn)
        .unwrap();
    assert!(matches!(
        env.engine.retry_import(&scope(), &import.id),
        Err(EngineError::InactiveEventDataStore(_))
    ));
    assert!(matches!(
        start(&env, "s3://trail-bucket/"),
        Err(EngineError::InactiveEventDataStore(_))
    ));
    env.engine
        .restore_event_data_store(&scope(), &env.arn)
        .unwrap();
    let insights = vec![AdvancedEventSelector {
        name: None,
        field_selectors: vec![AdvancedFieldSelector {
            field: "eventCategory".into(),
            equals: Some(vec!["Insight".into()]),
            ..Default::default()
        }],
    }];
    let mut update = UpdateEventDataStore {
        scope: scope(),
        event_data_store: env.arn.clone(),
        name: None,
        selectors: Some(insights),
        multi_region: None,
        organization: None,
        retention_days: None,
        termination_protection: None,
        kms_key_id: None,
        billing_mode: None,
    };
    env.engine.update_event_data_store(update.clone()).unwrap();
    assert!(matches!(
        env.engine.retry_import(&scope(), &import.id),
        Err(EngineError::InvalidEventDataStoreCategory(_))
    ));
    assert!(matches!(
        start(&env, "s3://trail-bucket/"),
        Err(EngineError::InvalidEventDataStoreCategory(_))
    ));
    update.selectors = Some(import_engine::default_selectors());
    env.engine.update_event_data_store(update).unwrap();
    let again = env.engine.retry_import(&scope(), &import.id).unwrap();
    assert_eq!(again.status, ImportStatus::Initializing);
}

/// A source that cannot be listed until it is told it can.
struct Unlistable {
    inner: trail_discovery::LocalDirSource,
    open: AtomicBool,
}

impl ObjectSource for Unlistable {
    fn bucket(&self) -> &str {
        "locked"
    }
    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, trail_discovery::SourceError> {
        if !self.open.load(Ordering::SeqCst) {
            return Err(trail_discovery::SourceError::new(
                trail_discovery::SourceErrorKind::AccessDenied,
                "Access Denied",
            ));
        }
        self.inner.list(prefix, delimiter)
    }
    fn open(
        &self,
        key: &str,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, trail_discovery::SourceError> {
        self.inner.open(key)
    }
}

struct Fixed(Arc<Unlistable>);

impl SourceResolver for Fixed {
    fn resolve(&self, _: &str, _: &str) -> Result<Arc<dyn ObjectSource>, EngineError> {
        Ok(self.0.clone())
    }
}

#[test]
fn a_bucket_that_cannot_be_listed_fails_the_import_with_one_entry() {
    let bucket = Arc::new(Unlistable {
        inner: trail_discovery::LocalDirSource::new(fixture()).unwrap(),
        open: AtomicBool::new(false),
    });
    let env = env_with(|c| c.resolver = Arc::new(Fixed(bucket.clone())));
    let import = start(&env, "s3://locked/").unwrap();
    let done = run(&env, &import.id);
    assert_eq!(done.status, ImportStatus::Failed);
    assert_eq!(done.statistics.failed_entries, 1);
    let f = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 10)
        .unwrap()
        .items;
    assert_eq!(
        (f[0].location.as_str(), f[0].error_type.as_str()),
        ("s3://locked/", "AccessDenied")
    );
    // A retry lists the bucket again: still denied, the same entry is FAILED again.
    let retried = env.engine.retry_import(&scope(), &import.id).unwrap();
    assert_eq!(
        retried.statistics.failed_entries, 1,
        "a retried entry counts until settled"
    );
    let again = run(&env, &import.id);
    assert_eq!(
        (again.status, again.statistics.failed_entries),
        (ImportStatus::Failed, 1)
    );
    let f = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 10)
        .unwrap()
        .items;
    assert_eq!((f.len(), f[0].status), (1, FailureStatus::Failed));
    // Once the bucket can be listed, the retried entry succeeds and the files are imported.
    bucket.open.store(true, Ordering::SeqCst);
    env.engine.retry_import(&scope(), &import.id).unwrap();
    let ok = run(&env, &import.id);
    let want = expected();
    assert_eq!(stats_json(&ok), want["ImportStatistics"]);
    let f = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 10)
        .unwrap()
        .items;
    assert_eq!(f[0].status, FailureStatus::Succeeded);
}

/// Stopped after exactly one committed batch of 10 files, on any number of cores; resumed,
/// every file is imported exactly once.
#[test]
fn stopped_import_resumes_exactly_once() {
    let env = env_with(|c| {
        c.batch = BatchLimits {
            files: 10,
            latency: Duration::from_secs(3600),
            ..BatchLimits::default()
        };
    });
    let import = start(&env, "s3://trail-bucket/").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let control = RunControl {
        stop: stop.clone(),
        on_progress: Some(Arc::new({
            let stop = stop.clone();
            move |_| stop.store(true, Ordering::SeqCst)
        })),
        ..Default::default()
    };
    let stopped = env.engine.run_import(&import.id, &control).unwrap();
    assert_eq!(stopped.status, ImportStatus::Stopped);
    assert_eq!(stopped.statistics.files_completed, 10);
    assert_eq!(
        stored_count(&env.engine),
        stopped.statistics.events_completed
    );

    // Retrying a STOPPED import resumes it.
    let again = env.engine.retry_import(&scope(), &import.id).unwrap();
    assert_eq!(again.status, ImportStatus::Initializing);
    let done = run(&env, &import.id);
    let want = expected();
    assert_eq!(stats_json(&done), want["ImportStatistics"]);
    assert_eq!(stored_count(&env.engine), done.statistics.events_completed);
    assert_eq!(done.status, ImportStatus::Failed);
}

/// A retry of a FAILED import moves no statistic when it starts; each retried entry settles as
/// its file is read again; the events are never doubled.
#[test]
fn retry_of_a_failed_import_keeps_its_statistics_consistent() {
    let env = env();
    let import = start(&env, "s3://trail-bucket/").unwrap();
    let first = run(&env, &import.id);
    assert_eq!(first.status, ImportStatus::Failed);
    let retried = env.engine.retry_import(&scope(), &import.id).unwrap();
    assert_eq!(stats_json(&retried), stats_json(&first));
    let statuses: BTreeSet<_> = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 100)
        .unwrap()
        .items
        .iter()
        .map(|f| f.status)
        .collect();
    assert_eq!(statuses, BTreeSet::from([FailureStatus::Retry]));
    // At every commit of the retry, the statistics agree with the stored events.
    let checks = Arc::new(Mutex::new(Vec::new()));
    let control = RunControl {
        on_progress: Some(Arc::new({
            let checks = checks.clone();
            let engine = Arc::downgrade(&env.engine);
            let id = import.id.clone();
            move |_| {
                let engine = engine.upgrade().unwrap();
                let r = engine.get_import(&scope(), &id).unwrap();
                checks
                    .lock()
                    .unwrap()
                    .push((r.statistics, stored_count(&engine)));
            }
        })),
        ..Default::default()
    };
    let second = env.engine.run_import(&import.id, &control).unwrap();
    for (stats, stored) in checks.lock().unwrap().iter() {
        assert_eq!(stats.events_completed, *stored);
        assert_eq!(stats.files_completed, first.statistics.files_completed);
    }
    // The bucket did not change, so the same entries fail again and the events are the same.
    assert_eq!(second.status, ImportStatus::Failed);
    assert_eq!(stats_json(&second), stats_json(&first));
    assert_eq!(stored_count(&env.engine), first.statistics.events_completed);
}

/// Once StopImport has answered, the statistics it gave are final and the stored events match
/// them, even with a batch in flight; the run ends within a second.
#[test]
fn stop_import_freezes_the_statistics_and_ends_the_run_within_a_second() {
    let env = env_with(|c| {
        c.background = true;
        c.batch.files = 5;
    });
    env.gate.hold();
    let import = start(&env, "s3://trail-bucket/").unwrap();
    env.gate.wait_for_commits(1);
    let asked = Instant::now();
    let answer = env.engine.stop_import(&scope(), &import.id).unwrap();
    assert_eq!(answer.status, ImportStatus::Stopped);
    assert_eq!(answer.statistics.files_completed, 5);
    env.gate.release();
    let deadline = Instant::now() + Duration::from_secs(1);
    while env.engine.is_running(&import.id) {
        assert!(
            Instant::now() < deadline,
            "the run did not end within a second"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(asked.elapsed() < Duration::from_secs(1));
    let later = env.engine.get_import(&scope(), &import.id).unwrap();
    assert_eq!(later.statistics, answer.statistics);
    assert_eq!(later.updated_ms, answer.updated_ms);
    assert_eq!(
        stored_count(&env.engine),
        answer.statistics.events_completed
    );
    // Stopping an import that already ended returns it unchanged.
    let again = env.engine.stop_import(&scope(), &import.id).unwrap();
    assert_eq!(again, later);
}

/// With the destination's retention, records older than it are dropped (not failed), by the
/// engine's clock.
#[test]
fn retention_comes_from_the_destination_and_the_clock() {
    for days in [3653, 3000, 366] {
        let env = env_with(|c| c.retention = RetentionPolicy::FromDestination);
        let update = UpdateEventDataStore {
            scope: scope(),
            event_data_store: env.arn.clone(),
            name: None,
            selectors: None,
            multi_region: None,
            organization: None,
            retention_days: Some(days),
            termination_protection: None,
            kms_key_id: None,
            billing_mode: None,
        };
        env.engine.update_event_data_store(update).unwrap();
        let import = start(&env, "s3://trail-bucket/").unwrap();
        let done = run(&env, &import.id);
        assert_eq!(
            done.statistics.events_completed,
            kept_within(days),
            "{days} days"
        );
        assert_eq!(done.statistics.files_completed, 84);
        assert_eq!(stored_count(&env.engine), kept_within(days));
    }
}

#[test]
fn only_stopped_or_failed_imports_are_retried() {
    let env = env();
    let import = start(&env, "s3://trail-bucket/AWSLogs/974349055189/").unwrap();
    let done = run(&env, &import.id);
    assert_eq!(done.status, ImportStatus::Completed);
    let ongoing = start(&env, "s3://trail-bucket/").unwrap();
    for id in [&done.id, &ongoing.id] {
        assert!(matches!(
            env.engine.retry_import(&scope(), id),
            Err(EngineError::OperationNotPermitted(_))
        ));
    }
}

/// One owner per import: a second engine on the same file (another process) neither resumes nor
/// runs an import whose owner is alive and renewing its claim; once that run has ended, the
/// second runs it to the end, every file exactly once. (Taking over from a killed process is
/// proved by the command line's tests.)
#[test]
fn an_import_has_one_owner_at_a_time() {
    let env = env_with(|c| {
        c.background = true;
        c.batch.files = 5;
        c.lease = Duration::from_millis(500);
    });
    env.gate.hold();
    let import = start(&env, "s3://trail-bucket/").unwrap();
    env.gate.wait_for_commits(1);
    let buckets = env.dir.path().join("buckets");
    let second = Arc::new(
        Engine::open(
            env.dir.path().join("t.db"),
            EngineConfig {
                clock: Arc::new(FixedClock::at(NOW).unwrap()),
                resolver: Arc::new(DirResolver { root: buckets }),
                retention: RetentionPolicy::KeepAll,
                lease: Duration::from_millis(500),
                background: false,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    assert_eq!(second.resume_interrupted().unwrap(), Vec::<String>::new());
    let refused = second.run_import(&import.id, &RunControl::default());
    assert!(
        matches!(refused, Err(EngineError::OperationNotPermitted(_))),
        "{refused:?}"
    );
    env.engine.stop_import(&scope(), &import.id).unwrap();
    env.gate.release();
    let again = second.retry_import(&scope(), &import.id).unwrap();
    assert_eq!(again.status, ImportStatus::Initializing);
    let done = second
        .run_import(&import.id, &RunControl::default())
        .unwrap();
    assert_eq!(stats_json(&done), expected()["ImportStatistics"]);
    assert_eq!(stored_count(&second), done.statistics.events_completed);
}

#[test]
fn list_imports_pages_newest_first_with_stable_tokens() {
    let clock = Arc::new(FixedClock::at(NOW).unwrap());
    let env = {
        let c = clock.clone();
        env_with(move |cfg| cfg.clock = c)
    };
    let mut ids = Vec::new();
    for _ in 0..5 {
        let i = start(&env, "s3://trail-bucket/AWSLogs/111111111111/").unwrap();
        run(&env, &i.id);
        ids.push(i.id);
        clock.advance(1000);
    }
    let page = |after| {
        env.engine
            .list_imports(&ListImports {
                scope: scope(),
                after,
                limit: 2,
                ..Default::default()
            })
            .unwrap()
    };
    let first = page(None);
    assert_eq!(
        first.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&ids[4], &ids[3]]
    );
    // An import started between two pages does not repeat an item.
    let newer = start(&env, "s3://trail-bucket/AWSLogs/111111111111/").unwrap();
    let second = page(first.next);
    assert_eq!(
        second.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&ids[2], &ids[1]]
    );
    let third = page(second.next);
    assert_eq!(
        third.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&ids[0]]
    );
    assert_eq!(third.next, None);
    let with_newer = page(None);
    assert_eq!(with_newer.items[0].id, newer.id);
}

/// A source over the fixture where one folder cannot be listed until it is told it can.
struct OneFolderLocked {
    inner: trail_discovery::LocalDirSource,
    folder: &'static str,
    open: AtomicBool,
}

impl ObjectSource for OneFolderLocked {
    fn bucket(&self) -> &str {
        "trail-bucket"
    }
    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, trail_discovery::SourceError> {
        if prefix == self.folder && !self.open.load(Ordering::SeqCst) {
            return Err(trail_discovery::SourceError::new(
                trail_discovery::SourceErrorKind::AccessDenied,
                "Permission denied",
            ));
        }
        self.inner.list(prefix, delimiter)
    }
    fn open(
        &self,
        key: &str,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, trail_discovery::SourceError> {
        self.inner.open(key)
    }
}

struct Locked(Arc<OneFolderLocked>);

impl SourceResolver for Locked {
    fn resolve(&self, _: &str, _: &str) -> Result<Arc<dyn ObjectSource>, EngineError> {
        Ok(self.0.clone())
    }
}

/// One folder that cannot be listed is one failure entry: every other folder is imported. A
/// retry lists that folder again and imports it once it can be listed, exactly once.
#[test]
fn an_unlistable_folder_is_one_entry_and_a_retry_lists_it_again() {
    let folder = "AWSLogs/974349055189/CloudTrail/us-east-1/2014/09/27/";
    let bucket = Arc::new(OneFolderLocked {
        inner: trail_discovery::LocalDirSource::new(fixture()).unwrap(),
        folder,
        open: AtomicBool::new(false),
    });
    let env = env_with(|c| c.resolver = Arc::new(Locked(bucket.clone())));
    let import = start(&env, "s3://trail-bucket/").unwrap();
    let first = run(&env, &import.id);
    let want = expected();
    let files_in_folder = std::fs::read_dir(fixture().join(folder)).unwrap().count() as i64;
    assert_eq!(first.status, ImportStatus::Failed);
    assert_eq!(
        first.statistics.files_completed,
        want["ImportStatistics"]["FilesCompleted"].as_i64().unwrap() - files_in_folder
    );
    assert_eq!(
        first.statistics.failed_entries, 7,
        "the six bad objects and the folder"
    );
    let entries = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 100)
        .unwrap()
        .items;
    let entry = entries
        .iter()
        .find(|f| f.location == format!("s3://trail-bucket/{folder}"))
        .expect("an entry for the folder");
    assert_eq!(entry.error_type, "AccessDenied");
    assert!(entry.error_message.contains("Permission denied"));
    // Still locked: the retry lists it again and fails the same way, nothing doubles.
    env.engine.retry_import(&scope(), &import.id).unwrap();
    let again = run(&env, &import.id);
    assert_eq!(stats_json(&again), stats_json(&first));
    // Unlocked: the folder is listed and imported; the whole bucket is in, exactly once.
    bucket.open.store(true, Ordering::SeqCst);
    env.engine.retry_import(&scope(), &import.id).unwrap();
    let done = run(&env, &import.id);
    assert_eq!(stats_json(&done), want["ImportStatistics"]);
    assert_eq!(stored_count(&env.engine), done.statistics.events_completed);
    let entries = env
        .engine
        .list_import_failures(&scope(), &import.id, None, 100)
        .unwrap()
        .items;
    assert!(entries
        .iter()
        .any(|f| f.location.ends_with(folder) && f.status == FailureStatus::Succeeded));
}
