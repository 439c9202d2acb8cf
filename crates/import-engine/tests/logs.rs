//! CloudWatch Logs import tasks and the log-group reads, through the engine: a real SQLite
//! file, real buckets (the fixture and synthetic ones), a frozen clock, runs stopped at exact
//! batches by a gate. Expected answers come from the records themselves, parsed here with
//! serde_json (their `eventTime`, `recipientAccountId`, `awsRegion`), never from the SQL
//! under test.

use chrono::DateTime;
use import_engine::{
    CreateEventDataStore, CreateLogTask, DescribeLogGroups, DescribeLogStreams, DescribeLogTasks,
    DirResolver, Engine, EngineConfig, EngineError, EventQuery, FilterLogEvents, FixedClock,
    GetLogEvents, LogCursor, LogTask, LogTaskStatus, RetentionPolicy, RunControl, Scope,
    StartImport, StreamOrder, StreamSelection, TaskControl, FIRST_IMPORTABLE_MS,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const NOW: &str = "2025-01-01T00:00:00Z";
const ROLE: &str = "arn:aws:iam::123456789012:role/import";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

fn ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// A stored record as this test reads it: its bytes and what it says of itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Record {
    time_ms: i64,
    stream: String,
    raw: Vec<u8>,
}

fn record(raw: &[u8]) -> Record {
    let v: Value = serde_json::from_slice(raw).unwrap();
    let s = |k: &str, default: &str| {
        v[k].as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or(default)
            .to_string()
    };
    Record {
        time_ms: ms(v["eventTime"].as_str().unwrap()),
        stream: format!(
            "{}_CloudTrail_{}",
            s("recipientAccountId", "123456789012"),
            s("awsRegion", "us-east-1")
        ),
        raw: raw.to_vec(),
    }
}

/// A gate a task's run waits at after each batch while it is held.
#[derive(Default)]
struct Gate {
    held: Mutex<bool>,
    turned: Condvar,
    batches: Mutex<u64>,
}

impl Gate {
    fn hook(self: &Arc<Self>) -> import_engine::BatchHook {
        let gate = self.clone();
        Arc::new(move |_: &LogTask| {
            *gate.batches.lock().unwrap() += 1;
            gate.turned.notify_all();
            // A bound on a test that forgets to release it (its own waits fail first).
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut held = gate.held.lock().unwrap();
            while *held && Instant::now() < deadline {
                held = gate
                    .turned
                    .wait_timeout(held, Duration::from_millis(10))
                    .unwrap()
                    .0;
            }
        })
    }

    fn wait_for_batches(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut batches = self.batches.lock().unwrap();
        while *batches < n {
            assert!(Instant::now() < deadline, "only {} batches", *batches);
            batches = self
                .turned
                .wait_timeout(batches, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }
}

struct Env {
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
    arn: String,
    gate: Arc<Gate>,
}

/// A foreground engine whose one store holds the import of `bucket` (a directory).
fn env_with(bucket: &Path, f: impl FnOnce(&mut EngineConfig)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(bucket, buckets.join("trail")).unwrap();
    let gate = Arc::new(Gate::default());
    let mut config = EngineConfig {
        clock: Arc::new(FixedClock::at(NOW).unwrap()),
        resolver: Arc::new(DirResolver { root: buckets }),
        background: false,
        retention: RetentionPolicy::KeepAll,
        after_log_batch: Some(gate.hook()),
        ..Default::default()
    };
    f(&mut config);
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config).unwrap());
    let mut create = CreateEventDataStore::named(scope(), "s");
    create.retention_days = Some(3653);
    create.termination_protection = Some(false);
    let arn = engine.create_event_data_store(create).unwrap().store.arn;
    let import = engine
        .start_import(StartImport {
            scope: scope(),
            destination: arn.clone(),
            source_uri: "s3://trail/".into(),
            bucket_region: "us-east-1".into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .unwrap();
    engine
        .run_import(&import.id, &RunControl::default())
        .unwrap();
    Env {
        _dir: dir,
        engine,
        arn,
        gate,
    }
}

fn fixture_env() -> Env {
    env_with(&root().join("fixtures/trail-bucket"), |_| {})
}

/// A synthetic bucket of about `size` bytes over two days of 2024, made once per process.
fn synth_bucket(size: u64) -> PathBuf {
    static MADE: Mutex<BTreeMap<u64, (tempfile::TempDir, PathBuf)>> = Mutex::new(BTreeMap::new());
    let mut made = MADE.lock().unwrap();
    let (_, path) = made.entry(size).or_insert_with(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bucket");
        let spec = trail_synth::Spec {
            size,
            seed: 11,
            days: 2,
            records_per_file: (20, 60),
            awkward: false,
            ..Default::default()
        };
        trail_synth::generate(&path, &spec).unwrap();
        (dir, path)
    });
    path.clone()
}

fn synth_env(f: impl FnOnce(&mut EngineConfig)) -> Env {
    env_with(&synth_bucket(3 << 20), f)
}

fn stored(engine: &Engine) -> Vec<Record> {
    let mut all: Vec<Record> = engine
        .events(&EventQuery {
            limit: usize::MAX >> 1,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .map(|e| record(&e.raw))
        .collect();
    all.sort();
    all
}

fn create(env: &Env, start_ms: Option<i64>, end_ms: Option<i64>) -> Result<LogTask, EngineError> {
    env.engine.create_log_task(CreateLogTask {
        scope: scope(),
        source_arn: env.arn.clone(),
        role_arn: ROLE.into(),
        start_ms,
        end_ms,
    })
}

fn run(env: &Env, id: &str) -> LogTask {
    env.engine
        .run_log_task(id, &TaskControl::default())
        .unwrap()
}

fn group_name(env: &Env) -> String {
    format!("aws/cloudtrail/{}", env.arn.rsplit('/').next().unwrap())
}

/// Every event of the group, through FilterLogEvents pages of `limit`, as records.
fn read_back(env: &Env, limit: usize) -> Vec<Record> {
    let mut out = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = env
            .engine
            .filter_log_events(
                &scope(),
                &FilterLogEvents {
                    group: group_name(env),
                    streams: StreamSelection::All,
                    start_ms: None,
                    end_ms: None,
                    pattern: String::new(),
                    limit,
                    after,
                },
            )
            .unwrap();
        pages += 1;
        assert!(pages < 100_000);
        for e in &page.events {
            let r = record(&e.message);
            assert_eq!(
                r.stream, e.stream,
                "the stream of a record is its account and Region"
            );
            assert_eq!(r.time_ms, e.timestamp_ms, "timestamp is eventTime");
            assert_eq!(e.ingestion_ms, ms(NOW));
            out.push(r);
        }
        match page.next {
            Some(p) => after = Some(p),
            None => return out,
        }
    }
}

/// Every event of a FilterLogEvents query, page after page until no token comes back; no
/// page holds more than 1 MiB of messages.
fn filter_all(
    env: &Env,
    streams: StreamSelection,
    pattern: &str,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
) -> Vec<import_engine::LogEventRow> {
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..100_000 {
        let page = env
            .engine
            .filter_log_events(
                &scope(),
                &FilterLogEvents {
                    group: group_name(env),
                    streams: streams.clone(),
                    start_ms,
                    end_ms,
                    pattern: pattern.into(),
                    limit: 500,
                    after,
                },
            )
            .unwrap();
        let bytes: usize = page.events.iter().map(|e| e.message.len()).sum();
        assert!(bytes <= import_engine::MAX_PAGE_BYTES);
        out.extend(page.events);
        match page.next {
            Some(p) => after = Some(p),
            None => return out,
        }
    }
    panic!("FilterLogEvents never ended");
}

fn hours(records: &[Record]) -> usize {
    records
        .iter()
        .map(|r| r.time_ms.div_euclid(3_600_000))
        .collect::<BTreeSet<_>>()
        .len()
}

fn bytes(records: &[Record]) -> i64 {
    records.iter().map(|r| r.raw.len() as i64).sum()
}

#[test]
fn the_fixture_goes_in_from_2023_on_byte_for_byte() {
    let env = fixture_env();
    // The fixture's own list of eventTimes (computed by make_fixtures.py) says which records
    // are from 2023 on.
    let text = std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap();
    let listed: Value = serde_json::from_str(&text).unwrap();
    let recent = listed["EventTimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| ms(t.as_str().unwrap()) >= FIRST_IMPORTABLE_MS)
        .count();
    let want: Vec<Record> = stored(&env.engine)
        .into_iter()
        .filter(|r| r.time_ms >= FIRST_IMPORTABLE_MS)
        .collect();
    assert_eq!(want.len(), recent);
    assert!(recent > 0);

    let task = create(&env, None, None).unwrap();
    assert_eq!(task.status, LogTaskStatus::InProgress);
    assert_eq!(task.created_ms, ms(NOW));
    assert_eq!(
        task.destination_arn,
        format!(
            "arn:aws:logs:us-east-1:123456789012:log-group:{}",
            group_name(&env)
        )
    );
    let done = run(&env, &task.id);
    assert_eq!(done.status, LogTaskStatus::Completed);
    assert_eq!(done.bytes_imported, bytes(&want));
    let (_, batches) = env
        .engine
        .log_task_batches(&scope(), &task.id, &[], None, 1000)
        .unwrap();
    assert_eq!(batches.items.len(), hours(&want));
    assert!(batches
        .items
        .iter()
        .all(|b| b.status == LogTaskStatus::Completed));

    let mut got = read_back(&env, 5);
    got.sort();
    assert_eq!(
        got, want,
        "the group holds exactly the records from 2023 on"
    );

    let groups = env
        .engine
        .describe_log_groups(
            &scope(),
            &DescribeLogGroups {
                limit: 50,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(groups.items.len(), 1);
    let g = &groups.items[0];
    assert_eq!(g.name, group_name(&env));
    assert_eq!(g.class, "INFREQUENT_ACCESS");
    assert_eq!(g.stored_bytes, bytes(&want));
}

#[test]
fn a_synthetic_store_round_trips_and_streams_agree() {
    let env = synth_env(|_| {});
    let want = stored(&env.engine);
    assert!(want.len() > 1000, "{}", want.len());
    let task = create(&env, None, None).unwrap();
    let done = run(&env, &task.id);
    assert_eq!(done.status, LogTaskStatus::Completed);
    assert_eq!(done.bytes_imported, bytes(&want));
    let mut got = read_back(&env, 777);
    // Pages come in time order.
    assert!(got.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    got.sort();
    assert_eq!(got, want);

    // Streams: one per account and Region, with their counts and first and last events.
    let mut per_stream: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &want {
        per_stream
            .entry(r.stream.clone())
            .or_default()
            .push(r.time_ms);
    }
    let (_, streams) = env
        .engine
        .describe_log_streams(
            &scope(),
            &group_name(&env),
            &DescribeLogStreams {
                prefix: String::new(),
                order: StreamOrder::Name,
                descending: false,
                after: None,
                limit: 50,
            },
        )
        .unwrap();
    let names: Vec<&str> = streams.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        per_stream.keys().map(String::as_str).collect::<Vec<_>>()
    );
    for s in &streams.items {
        let times = &per_stream[&s.name];
        assert_eq!(s.first_event_ms, times.iter().min().copied());
        assert_eq!(s.last_event_ms, times.iter().max().copied());
        // GetLogEvents forward from the head, in pages of 100, reads the stream exactly.
        let mut cursor = None;
        let mut read = Vec::new();
        loop {
            let page = env
                .engine
                .get_log_events(
                    &scope(),
                    &GetLogEvents {
                        group: group_name(&env),
                        stream: s.name.clone(),
                        start_ms: None,
                        end_ms: None,
                        limit: 100,
                        from_head: true,
                        cursor,
                    },
                )
                .unwrap();
            if page.events.is_empty() {
                // At the end the token sent comes back.
                assert_eq!(Some(page.forward), cursor);
                break;
            }
            read.extend(page.events.iter().map(|e| e.timestamp_ms));
            cursor = Some(page.forward);
        }
        assert_eq!(read.len(), times.len(), "{}", s.name);
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(read, sorted);
    }
}

#[test]
fn get_log_events_from_the_tail_backward_and_within_bounds() {
    let env = synth_env(|_| {});
    let task = create(&env, None, None).unwrap();
    run(&env, &task.id);
    let want = stored(&env.engine);
    let stream = want[0].stream.clone();
    let times: Vec<i64> = want
        .iter()
        .filter(|r| r.stream == stream)
        .map(|r| r.time_ms)
        .collect();
    let get = |cursor, from_head, start_ms, end_ms, limit| {
        env.engine
            .get_log_events(
                &scope(),
                &GetLogEvents {
                    group: group_name(&env),
                    stream: stream.clone(),
                    start_ms,
                    end_ms,
                    limit,
                    from_head,
                    cursor,
                },
            )
            .unwrap()
    };
    // Without a token and not from the head: the newest page, oldest first.
    let tail = get(None, false, None, None, 10);
    let got: Vec<i64> = tail.events.iter().map(|e| e.timestamp_ms).collect();
    assert_eq!(got, times[times.len() - 10..]);
    // Backward pages then read the rest, newest pages first.
    let mut back = got.clone();
    let mut cursor = Some(tail.backward);
    loop {
        let page = get(cursor, false, None, None, 64);
        if page.events.is_empty() {
            assert_eq!(Some(page.backward), cursor);
            break;
        }
        let mut older: Vec<i64> = page.events.iter().map(|e| e.timestamp_ms).collect();
        older.extend(back);
        back = older;
        cursor = Some(page.backward);
    }
    assert_eq!(back, times);
    // startTime inclusive, endTime exclusive, on exact event times.
    let (lo, hi) = (times[5], times[times.len() - 5]);
    let mut inside = Vec::new();
    let mut cursor = None;
    loop {
        let page = get(cursor, true, Some(lo), Some(hi), 10_000);
        let bytes: usize = page.events.iter().map(|e| e.message.len()).sum();
        assert!(bytes <= import_engine::MAX_PAGE_BYTES);
        if page.events.is_empty() {
            break;
        }
        inside.extend(page.events.iter().map(|e| e.timestamp_ms));
        cursor = Some(page.forward);
    }
    let want_inside: Vec<i64> = times
        .iter()
        .copied()
        .filter(|t| *t >= lo && *t < hi)
        .collect();
    assert_eq!(inside.len(), want_inside.len());
    assert_eq!(inside, want_inside);
    // A forward token past the end repeats; a backward token before the start too.
    assert!(matches!(tail.forward, LogCursor::Forward(_)));
    let end = get(Some(tail.forward), false, None, None, 10);
    assert!(end.events.is_empty());
    assert_eq!(end.forward, tail.forward);
}

#[test]
fn a_sub_range_imports_exactly_the_records_in_it_bounds_included() {
    let env = synth_env(|_| {});
    let all = stored(&env.engine);
    // Bounds on exact event times, so inclusiveness shows.
    let (start, end) = (all[all.len() / 4].time_ms, all[all.len() / 2].time_ms);
    let want: Vec<Record> = all
        .iter()
        .filter(|r| r.time_ms >= start && r.time_ms <= end)
        .cloned()
        .collect();
    let task = create(&env, Some(start), Some(end)).unwrap();
    let done = run(&env, &task.id);
    assert_eq!(done.status, LogTaskStatus::Completed);
    assert_eq!((done.start_ms, done.end_ms), (Some(start), Some(end)));
    assert_eq!(done.bytes_imported, bytes(&want));
    let mut got = read_back(&env, 10_000);
    got.sort();
    assert_eq!(got, want);

    // FilterLogEvents bounds are both inclusive.
    let at_start = want.iter().filter(|r| r.time_ms == start).count();
    assert!(at_start >= 1);
    let got = filter_all(&env, StreamSelection::All, "", Some(start), Some(start));
    assert_eq!(got.len(), at_start);
}

#[test]
fn retention_and_2023_clamp_the_range_and_a_range_before_them_imports_nothing() {
    // The store keeps 700 days at NOW: 2023-01-02 is the cut-off, later than 2023-01-01.
    let env = env_with(&root().join("fixtures/trail-bucket"), |c| {
        c.retention = RetentionPolicy::FromDestination
    });
    let cutoff = ms(NOW) - 700 * 86_400_000;
    env.engine
        .update_event_data_store(import_engine::UpdateEventDataStore {
            scope: scope(),
            event_data_store: env.arn.clone(),
            retention_days: Some(700),
            ..Default::default()
        })
        .unwrap();
    let want: Vec<Record> = stored(&env.engine)
        .into_iter()
        .filter(|r| r.time_ms >= cutoff.max(FIRST_IMPORTABLE_MS))
        .collect();
    // AWS's own sample asks from 2022: the part before the limits is skipped, not refused.
    let task = create(&env, Some(ms("2022-01-01T00:00:00Z")), None).unwrap();
    let done = run(&env, &task.id);
    assert_eq!(done.status, LogTaskStatus::Completed);
    assert_eq!(done.bytes_imported, bytes(&want));
    assert_eq!(read_back(&env, 10_000).len(), want.len());

    let before = create(
        &env,
        Some(ms("2014-01-01T00:00:00Z")),
        Some(ms("2022-12-31T23:59:59Z")),
    )
    .unwrap();
    let done = run(&env, &before.id);
    assert_eq!(
        (done.status, done.bytes_imported),
        (LogTaskStatus::Completed, 0)
    );
    let (_, batches) = env
        .engine
        .log_task_batches(&scope(), &before.id, &[], None, 10)
        .unwrap();
    assert!(batches.items.is_empty());
    // A later task appends to the same group: no deduplication.
    assert_eq!(read_back(&env, 10_000).len(), want.len());
}

#[test]
fn every_refusal_of_create_cancel_and_delete() {
    let env = fixture_env();
    let e = &env.engine;
    let new = |source: &str, role: &str, start, end| {
        e.create_log_task(CreateLogTask {
            scope: scope(),
            source_arn: source.into(),
            role_arn: role.into(),
            start_ms: start,
            end_ms: end,
        })
    };
    let id = env.arn.rsplit('/').next().unwrap().to_string();
    assert!(matches!(
        new(&env.arn, ROLE, Some(2), Some(1)),
        Err(EngineError::InvalidParameter(_))
    ));
    assert!(matches!(
        new(&env.arn, "arn:aws:iam::123456789012:user/x", None, None),
        Err(EngineError::InvalidParameter(_))
    ));
    for not_a_store in [
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
        "arn:aws:s3:::bucket",
        id.as_str(),
    ] {
        assert!(
            matches!(
                new(not_a_store, ROLE, None, None),
                Err(EngineError::InvalidParameter(_))
            ),
            "{not_a_store}"
        );
    }
    for elsewhere in [
        format!("arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/{id}"),
        format!("arn:aws:cloudtrail:us-east-1:210987654321:eventdatastore/{id}"),
        "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/nope".to_string(),
    ] {
        assert!(
            matches!(
                new(&elsewhere, ROLE, None, None),
                Err(EngineError::EventDataStoreNotFound(_))
            ),
            "{elsewhere}"
        );
    }
    // A store that stopped ingestion can be exported; one pending deletion cannot.
    e.set_ingestion(&scope(), &env.arn, false).unwrap();
    let task = create(&env, None, None).unwrap();
    // One task in progress per store (checked first), and the store cannot go meanwhile.
    assert!(matches!(
        create(&env, None, None),
        Err(EngineError::ImportTaskConflict { .. })
    ));
    assert!(matches!(
        e.delete_event_data_store(&scope(), &env.arn),
        Err(EngineError::EventDataStoreHasOngoingImport(_))
    ));
    assert!(matches!(
        e.delete_log_group(&scope(), &group_name(&env)),
        Err(EngineError::LogGroupBusy(_))
    ));
    // Cancel lands at once; the run then writes nothing.
    let cancelled = e.cancel_log_task(&scope(), &task.id).unwrap();
    assert_eq!(cancelled.status, LogTaskStatus::Cancelled);
    assert_eq!(cancelled.updated_ms, ms(NOW));
    let after = run(&env, &task.id);
    assert_eq!(
        (after.status, after.bytes_imported),
        (LogTaskStatus::Cancelled, 0)
    );
    let (_, batches) = e
        .log_task_batches(&scope(), &task.id, &[], None, 1000)
        .unwrap();
    assert!(!batches.items.is_empty());
    assert!(batches
        .items
        .iter()
        .all(|b| b.status == LogTaskStatus::Cancelled));
    assert!(read_back(&env, 100).is_empty());
    assert!(matches!(
        e.cancel_log_task(&scope(), &task.id),
        Err(EngineError::ImportTaskNotInProgress(_))
    ));
    assert!(matches!(
        e.cancel_log_task(&scope(), "no-such-task"),
        Err(EngineError::ImportTaskNotFound(_))
    ));
    assert!(matches!(
        e.cancel_log_task(&Scope::new("123456789012", "eu-west-1"), &task.id),
        Err(EngineError::ImportTaskNotFound(_))
    ));
    // The group can go now, and the store.
    e.delete_log_group(&scope(), &group_name(&env)).unwrap();
    assert!(matches!(
        e.delete_log_group(&scope(), &group_name(&env)),
        Err(EngineError::LogGroupNotFound(_))
    ));
    e.delete_event_data_store(&scope(), &env.arn).unwrap();
    assert!(matches!(
        create(&env, None, None),
        Err(EngineError::InactiveEventDataStore(_))
    ));

    // At most three tasks in progress per account and Region.
    let mut stores = Vec::new();
    for i in 0..4 {
        let mut c = CreateEventDataStore::named(scope(), format!("more-{i}"));
        c.termination_protection = Some(false);
        stores.push(e.create_event_data_store(c).unwrap().store.arn);
    }
    for arn in &stores[..3] {
        new(arn, ROLE, None, None).unwrap();
    }
    assert!(matches!(
        new(&stores[3], ROLE, None, None),
        Err(EngineError::ImportTaskLimitExceeded(3))
    ));
    // Another Region has its own three.
    let west = Scope::new("123456789012", "eu-west-1");
    let west_store = e
        .create_event_data_store(CreateEventDataStore::named(west.clone(), "w"))
        .unwrap()
        .store
        .arn;
    e.create_log_task(CreateLogTask {
        scope: west,
        source_arn: west_store,
        role_arn: ROLE.into(),
        start_ms: None,
        end_ms: None,
    })
    .unwrap();
}

#[test]
fn a_cancel_mid_run_stops_at_the_next_batch_and_freezes_the_statistics() {
    let env = synth_env(|_| {});
    let task = create(&env, None, None).unwrap();
    let (_, all_batches) = env
        .engine
        .log_task_batches(&scope(), &task.id, &[], None, 1000)
        .unwrap();
    assert!(all_batches.items.len() >= 3, "{}", all_batches.items.len());
    *env.gate.held.lock().unwrap() = true;
    let runner = {
        let engine = env.engine.clone();
        let id = task.id.clone();
        std::thread::spawn(move || engine.run_log_task(&id, &TaskControl::default()).unwrap())
    };
    env.gate.wait_for_batches(1);
    let cancelled = env.engine.cancel_log_task(&scope(), &task.id).unwrap();
    assert_eq!(cancelled.status, LogTaskStatus::Cancelled);
    *env.gate.held.lock().unwrap() = false;
    env.gate.turned.notify_all();
    let ended = runner.join().unwrap();
    assert_eq!(ended.status, LogTaskStatus::Cancelled);
    assert_eq!(ended.bytes_imported, cancelled.bytes_imported);
    assert_eq!(ended.updated_ms, cancelled.updated_ms);
    // The first hour was written, nothing after it.
    let first_hour = all_batches.items[0].hour_ms;
    let want: Vec<Record> = stored(&env.engine)
        .into_iter()
        .filter(|r| r.time_ms.div_euclid(3_600_000) * 3_600_000 == first_hour)
        .collect();
    assert_eq!(cancelled.bytes_imported, bytes(&want));
    let mut got = read_back(&env, 10_000);
    got.sort();
    assert_eq!(got, want);
    let (_, batches) = env
        .engine
        .log_task_batches(&scope(), &task.id, &[], None, 1000)
        .unwrap();
    let statuses: Vec<LogTaskStatus> = batches.items.iter().map(|b| b.status).collect();
    assert_eq!(statuses[0], LogTaskStatus::Completed);
    assert!(statuses[1..].iter().all(|s| *s == LogTaskStatus::Cancelled));
    let (_, only_in_progress) = env
        .engine
        .log_task_batches(&scope(), &task.id, &[LogTaskStatus::InProgress], None, 1000)
        .unwrap();
    assert!(only_in_progress.items.is_empty());
}

#[test]
fn tasks_list_newest_first_with_filters_and_pages() {
    let env = fixture_env();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = create(&env, None, None).unwrap();
        run(&env, &t.id);
        ids.push(t.id);
    }
    let list = |id: Option<&str>, status, source: Option<&str>, after, limit| {
        env.engine
            .describe_log_tasks(&DescribeLogTasks {
                scope: scope(),
                id: id.map(str::to_string),
                status,
                source_arn: source.map(str::to_string),
                after,
                limit,
            })
            .unwrap()
    };
    let first = list(None, None, None, None, 2);
    assert_eq!(
        first
            .items
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        [ids[2].as_str(), ids[1].as_str()]
    );
    let second = list(None, None, None, first.next, 2);
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].id, ids[0]);
    assert_eq!(second.next, None);
    assert_eq!(list(Some(&ids[1]), None, None, None, 50).items.len(), 1);
    assert_eq!(list(Some("nope"), None, None, None, 50).items.len(), 0);
    assert_eq!(
        list(None, Some(LogTaskStatus::Completed), None, None, 50)
            .items
            .len(),
        3
    );
    assert_eq!(
        list(None, Some(LogTaskStatus::Failed), None, None, 50)
            .items
            .len(),
        0
    );
    assert_eq!(list(None, None, Some(&env.arn), None, 50).items.len(), 3);
    assert_eq!(list(None, None, Some("arn:x"), None, 50).items.len(), 0);
}

#[test]
fn filter_patterns_select_exactly_what_a_json_reading_selects() {
    let env = synth_env(|_| {});
    let task = create(&env, None, None).unwrap();
    run(&env, &task.id);
    let all = stored(&env.engine);
    let parsed: Vec<Value> = all
        .iter()
        .map(|r| serde_json::from_slice(&r.raw).unwrap())
        .collect();
    type Pick = fn(&Value) -> bool;
    let cases: [(&str, Pick); 5] = [
        (r#"{ $.eventName = "GetObject" }"#, |v| {
            v["eventName"] == "GetObject"
        }),
        (
            r#"{ ($.errorCode = "AccessDenied") && ($.userIdentity.type = "AssumedRole") }"#,
            |v| v["errorCode"] == "AccessDenied" && v["userIdentity"]["type"] == "AssumedRole",
        ),
        (r#"{ $.errorCode NOT EXISTS }"#, |v| {
            v.get("errorCode").is_none()
        }),
        (
            r#"{ $.eventSource = "s3.*" || $.readOnly IS FALSE }"#,
            |v| v["eventSource"].as_str().unwrap().starts_with("s3.") || v["readOnly"] == false,
        ),
        ("?AccessDenied ?ThrottlingException", |v| {
            let t = v.to_string();
            t.contains("AccessDenied") || t.contains("ThrottlingException")
        }),
    ];
    for (pattern, pick) in cases {
        let want = parsed.iter().filter(|v| pick(v)).count();
        let got = filter_all(&env, StreamSelection::All, pattern, None, None).len();
        assert_eq!(got, want, "{pattern}");
        assert!(want > 0, "{pattern}");
    }
    // One stream only, by name and by prefix.
    let stream = all[0].stream.clone();
    let in_stream = all.iter().filter(|r| r.stream == stream).count();
    for streams in [
        StreamSelection::Names(vec![stream.clone(), "no-such-stream".into()]),
        StreamSelection::Prefix(stream.clone()),
    ] {
        let got = filter_all(&env, streams, "", None, None);
        assert_eq!(got.len(), in_stream);
        assert!(got.iter().all(|e| e.stream == stream));
    }
    for bad in ["[ip, user]", "%regex%", "{ $.x = }", "\"unclosed"] {
        let r = env.engine.filter_log_events(
            &scope(),
            &FilterLogEvents {
                group: group_name(&env),
                streams: StreamSelection::All,
                start_ms: None,
                end_ms: None,
                pattern: bad.into(),
                limit: 10,
                after: None,
            },
        );
        assert!(matches!(r, Err(EngineError::InvalidParameter(_))), "{bad}");
    }
}

#[test]
fn strict_log_class_refuses_filtering_as_aws_does() {
    let env = env_with(&root().join("fixtures/trail-bucket"), |c| {
        c.strict_log_class = true
    });
    let task = create(&env, None, None).unwrap();
    run(&env, &task.id);
    let r = env.engine.filter_log_events(
        &scope(),
        &FilterLogEvents {
            group: group_name(&env),
            streams: StreamSelection::All,
            start_ms: None,
            end_ms: None,
            pattern: String::new(),
            limit: 10,
            after: None,
        },
    );
    match r {
        Err(e @ EngineError::LogClassNotSupported(_)) => assert_eq!(
            e.to_string(),
            format!(
                "The log group {} is of log-group-class INFREQUENT_ACCESS. FilterLogEvents is not supported for this log class.",
                group_name(&env)
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_task_has_one_run_at_a_time() {
    let env = synth_env(|_| {});
    let want = stored(&env.engine);
    let task = create(&env, None, None).unwrap();
    // A first run is held after its first batch ...
    *env.gate.held.lock().unwrap() = true;
    let engine = env.engine.clone();
    let id = task.id.clone();
    let first = std::thread::spawn(move || {
        let control = TaskControl::default();
        engine.run_log_task(&id, &control)
    });
    env.gate.wait_for_batches(1);
    // ... while another run cannot take the task from the live one.
    let meanwhile = env
        .engine
        .run_log_task(&task.id, &TaskControl::default())
        .unwrap();
    assert_eq!(meanwhile.status, LogTaskStatus::InProgress);
    *env.gate.held.lock().unwrap() = false;
    env.gate.turned.notify_all();
    let done = first.join().unwrap().unwrap();
    assert_eq!(done.status, LogTaskStatus::Completed);
    assert_eq!(done.bytes_imported, bytes(&want));
    let mut got = read_back(&env, 10_000);
    got.sort();
    assert_eq!(got, want);
}
