//! Lake queries through the engine: the golden corpus in `fixtures/lake-queries` (answers
//! computed by DuckDB from the bucket's records, by `make_golden.py`, never by trailport), and
//! the life of a query (paging, cancel, limits, expiry) on a frozen clock.

use import_engine::{
    CreateEventDataStore, DirResolver, Engine, EngineConfig, EngineError, FixedClock, ListQueries,
    QueryStatus, RetentionPolicy, RunControl, Scope, StartImport, StartQuery,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const NOW: &str = "2025-01-01T00:00:00Z";
const ROLE: &str = "arn:aws:iam::123456789012:role/import";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

struct Env {
    _dir: tempfile::TempDir,
    buckets: PathBuf,
    engine: Arc<Engine>,
    eds: String,
    eds2: String,
}

fn import(engine: &Arc<Engine>, name: &str, uri: &str) -> String {
    let mut create = CreateEventDataStore::named(scope(), name);
    create.retention_days = Some(3653);
    create.termination_protection = Some(false);
    let store = engine.create_event_data_store(create).unwrap().store;
    let import = engine
        .start_import(StartImport {
            scope: scope(),
            destination: store.arn.clone(),
            source_uri: uri.into(),
            bucket_region: "us-east-1".into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .unwrap();
    engine
        .run_import(&import.id, &RunControl::default())
        .unwrap();
    store.id
}

/// The fixture bucket in `$EDS` (339 records) and its `AWSLogs/974349055189/` files in
/// `$EDS2` (103), as `fixtures/lake-queries/README.md` says.
fn env(background: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(root().join("fixtures/trail-bucket"), buckets.join("trail"))
        .unwrap();
    let config = EngineConfig {
        clock: Arc::new(FixedClock::at(NOW).unwrap()),
        resolver: Arc::new(DirResolver {
            root: buckets.clone(),
        }),
        background: false,
        retention: RetentionPolicy::KeepAll,
        ..Default::default()
    };
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config.clone()).unwrap());
    let eds = import(&engine, "all", "s3://trail/");
    let eds2 = import(&engine, "grycap", "s3://trail/AWSLogs/974349055189/");
    drop(engine);
    let engine = Arc::new(
        Engine::open(
            dir.path().join("t.db"),
            EngineConfig {
                background,
                ..config
            },
        )
        .unwrap(),
    );
    std::fs::create_dir(buckets.join("results")).unwrap();
    Env {
        _dir: dir,
        buckets,
        engine,
        eds,
        eds2,
    }
}

fn start(env: &Env, sql: &str) -> Result<import_engine::QueryRecord, EngineError> {
    env.engine.start_query(StartQuery {
        scope: scope(),
        statement: sql.to_string(),
        delivery_uri: None,
        alias: None,
        parameters: Vec::new(),
        names: false,
    })
}

fn all_rows(env: &Env, id: &str, page: usize) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let p = env.engine.query_results(&scope(), id, after, page).unwrap();
        assert!(p.rows.len() <= page);
        after += p.rows.len() as i64;
        rows.extend(p.rows);
        match p.next {
            Some(n) => assert_eq!(n, after),
            None => break,
        }
    }
    rows
}

#[test]
fn golden_queries_agree_with_duckdb() {
    let env = env(false);
    assert_eq!(
        env.engine
            .events(&import_engine::EventQuery {
                limit: 10_000,
                ..Default::default()
            })
            .unwrap()
            .len(),
        339 + 103
    );
    let dir = root().join("fixtures/lake-queries");
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("queries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 40, "the corpus has {} queries", names.len());
    let mut failures = Vec::new();
    for path in &names {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let sql = std::fs::read_to_string(path)
            .unwrap()
            .replace("$EDS2", &env.eds2)
            .replace("$EDS", &env.eds);
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected").join(format!("{stem}.json"))).unwrap(),
        )
        .unwrap();
        let started = start(&env, &sql);
        if let Some(err) = expected.get("error").and_then(Value::as_str) {
            let got = match &started {
                Err(EngineError::InvalidQueryStatement(_)) => "InvalidQueryStatementException",
                Err(EngineError::EventDataStoreNotFound(_)) => "EventDataStoreNotFoundException",
                Err(_) => "another error",
                Ok(_) => "a query",
            };
            if got != err {
                failures.push(format!("{stem}: expected {err}, got {got}: {started:?}"));
            }
            continue;
        }
        let q = match started {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!("{stem}: refused: {e}"));
                continue;
            }
        };
        let ended = env.engine.run_query(&q.id).unwrap();
        if expected.get("status").and_then(Value::as_str) == Some("FAILED") {
            if ended.status != QueryStatus::Failed {
                failures.push(format!("{stem}: expected FAILED, got {:?}", ended.status));
            }
            continue;
        }
        if ended.status != QueryStatus::Finished {
            failures.push(format!(
                "{stem}: {:?}: {}",
                ended.status,
                ended.error_message.unwrap_or_default()
            ));
            continue;
        }
        let columns: Vec<String> = serde_json::from_value(expected["columns"].clone()).unwrap();
        if ended.columns != columns {
            failures.push(format!(
                "{stem}: columns {:?}, expected {columns:?}",
                ended.columns
            ));
        }
        let mut want: Vec<Vec<String>> = serde_json::from_value(expected["rows"].clone()).unwrap();
        let mut got = all_rows(&env, &ended.id, 1000);
        if !expected["ordered"].as_bool().unwrap() {
            want.sort();
            got.sort();
        }
        if got != want {
            let first = got
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(want.len()));
            failures.push(format!(
                "{stem}: {} rows, expected {}; first difference at row {first}:\n  got  {:?}\n  want {:?}",
                got.len(),
                want.len(),
                got.get(first),
                want.get(first)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden queries differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

#[test]
fn pages_of_any_size_give_the_same_rows_in_the_same_order() {
    let env = env(false);
    let sql = format!(
        "SELECT eventTime, eventName, eventID FROM {} ORDER BY eventTime, eventName, eventID",
        env.eds
    );
    let q = start(&env, &sql).unwrap();
    let ended = env.engine.run_query(&q.id).unwrap();
    assert_eq!(ended.status, QueryStatus::Finished);
    assert_eq!(ended.stats.results_count, 339);
    assert_eq!(ended.stats.events_scanned, 339);
    assert!(ended.stats.bytes_scanned > 0);
    let whole = all_rows(&env, &q.id, 1000);
    assert_eq!(whole.len(), 339);
    for page in [1, 7] {
        assert_eq!(all_rows(&env, &q.id, page), whole, "pages of {page}");
    }
    for bad in [0, 1001] {
        assert!(matches!(
            env.engine.query_results(&scope(), &q.id, 0, bad),
            Err(EngineError::InvalidMaxResults(_))
        ));
    }
}

#[test]
fn the_life_of_a_query() {
    let env = env(false);
    // Unknown IDs.
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        env.engine.describe_query(&scope(), unknown),
        Err(EngineError::QueryIdNotFound(_))
    ));
    // QUEUED until run; the page is empty before it ends.
    let q = start(&env, &format!("SELECT count(*) FROM {}", env.eds)).unwrap();
    assert_eq!(q.status, QueryStatus::Queued);
    let page = env.engine.query_results(&scope(), &q.id, 0, 10).unwrap();
    assert!(page.rows.is_empty() && page.next.is_none());
    // Ten active queries at most per account and Region.
    let mut active = vec![q.id.clone()];
    for _ in 0..9 {
        active.push(
            start(&env, &format!("SELECT 1 FROM {}", env.eds))
                .unwrap()
                .id,
        );
    }
    assert!(matches!(
        start(&env, &format!("SELECT 1 FROM {}", env.eds)),
        Err(EngineError::MaxConcurrentQueries(10))
    ));
    // Another scope has its own ten, and sees none of these.
    let west = Scope::new("123456789012", "us-west-2");
    assert!(matches!(
        env.engine.describe_query(&west, &q.id),
        Err(EngineError::QueryIdNotFound(_))
    ));
    // Cancel: CANCELLED at once, the run then does nothing; a second cancel is refused.
    let c = env.engine.cancel_query(&scope(), &active[9]).unwrap();
    assert_eq!(c.status, QueryStatus::Cancelled);
    let ran = env.engine.run_query(&active[9]).unwrap();
    assert_eq!(ran.status, QueryStatus::Cancelled);
    assert!(matches!(
        env.engine.cancel_query(&scope(), &active[9]),
        Err(EngineError::InactiveQuery(_))
    ));
    // Run the rest: FINISHED, and a finished query cannot be cancelled.
    for id in &active[..9] {
        let done = env.engine.run_query(id).unwrap();
        assert_eq!(done.status, QueryStatus::Finished);
    }
    let first = env.engine.query_results(&scope(), &q.id, 0, 10).unwrap();
    assert_eq!(first.rows, vec![vec!["339".to_string()]]);
    assert!(matches!(
        env.engine.cancel_query(&scope(), &q.id),
        Err(EngineError::InactiveQuery(_))
    ));
    // ListQueries: this store's queries, newest first, paged.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = env
            .engine
            .list_queries(&ListQueries {
                scope: scope(),
                eds: env.eds.clone(),
                start_ms: None,
                end_ms: None,
                status: None,
                before: before.clone(),
                limit: 3,
            })
            .unwrap();
        seen.extend(page.items.iter().map(|q| q.id.clone()));
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    let mut expected = active.clone();
    expected.sort();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    let cancelled = env
        .engine
        .list_queries(&ListQueries {
            scope: scope(),
            eds: env.eds.clone(),
            start_ms: None,
            end_ms: None,
            status: Some(QueryStatus::Cancelled),
            before: None,
            limit: 100,
        })
        .unwrap();
    assert_eq!(cancelled.items.len(), 1);
    assert_eq!(cancelled.items[0].id, active[9]);
    // The other store has none.
    let other = env
        .engine
        .list_queries(&ListQueries {
            scope: scope(),
            eds: env.eds2.clone(),
            start_ms: None,
            end_ms: None,
            status: None,
            before: None,
            limit: 100,
        })
        .unwrap();
    assert!(other.items.is_empty());
}

#[test]
fn a_background_query_can_be_cancelled_while_it_scans() {
    let env = env(true);
    // A cross join of every event with every event, three times over: long enough to cancel.
    let sql = format!(
        "SELECT count(*) FROM {e} a, {e} b, {e} c WHERE a.eventName <> c.eventName",
        e = env.eds
    );
    let q = start(&env, &sql).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let d = env.engine.describe_query(&scope(), &q.id).unwrap();
        if d.status == QueryStatus::Running {
            break;
        }
        assert_eq!(d.status, QueryStatus::Queued, "{d:?}");
        assert!(std::time::Instant::now() < deadline, "the query never ran");
        std::thread::yield_now();
    }
    // Its progress shows while it scans (what `trailport query` prints).
    while env.engine.query_scanned(&q.id).unwrap_or(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::yield_now();
    }
    let c = env.engine.cancel_query(&scope(), &q.id).unwrap();
    assert_eq!(c.status, QueryStatus::Cancelled);
    // The run stops: the engine forgets it.
    while env.engine.is_running(&q.id) {
        assert!(std::time::Instant::now() < deadline, "the run did not stop");
        std::thread::yield_now();
    }
    let d = env.engine.describe_query(&scope(), &q.id).unwrap();
    assert_eq!(d.status, QueryStatus::Cancelled);
    assert_eq!(env.engine.query_scanned(&q.id), None);
}

#[test]
fn conditions_on_indexed_columns_use_the_store_indexes() {
    let env = env(false);
    let plan = |sql: String| env.engine.explain_query(&scope(), &sql).unwrap().join("\n");
    // A time range walks the eventTime index: no full scan of the events.
    let p = plan(format!(
        "SELECT eventName FROM {} WHERE eventTime > '2024-01-01' AND eventTime < '2024-02-01'",
        env.eds
    ));
    assert!(p.contains("events_by_time"), "{p}");
    // Grouping by eventName walks the name index in order: no sort of the names.
    let p = plan(format!(
        "SELECT eventName, count(*) FROM {} GROUP BY 1",
        env.eds
    ));
    assert!(p.contains("events_by_name"), "{p}");
    assert!(!p.contains("TEMP B-TREE FOR GROUP BY"), "{p}");
}

#[test]
fn results_are_delivered_as_gzip_csv() {
    use std::io::Read;
    let env = env(false);
    let golden = root().join("fixtures/lake-queries");
    let sql = std::fs::read_to_string(golden.join("queries/003-doc3-api-count.sql"))
        .unwrap()
        .replace("$EDS", &env.eds);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(golden.join("expected/003-doc3-api-count.json")).unwrap(),
    )
    .unwrap();
    let q = env
        .engine
        .start_query(StartQuery {
            scope: scope(),
            statement: sql,
            delivery_uri: Some("s3://results/lake/".into()),
            alias: None,
            parameters: Vec::new(),
            names: false,
        })
        .unwrap();
    assert_eq!(q.delivery_status.as_deref(), Some("PENDING"));
    let ended = env.engine.run_query(&q.id).unwrap();
    assert_eq!(ended.delivery_status.as_deref(), Some("SUCCESS"));
    let file = env.buckets.join(format!(
        "results/lake/AWSLogs/123456789012/CloudTrail-Lake/Query/2025/01/01/{}/result_1.csv.gz",
        q.id
    ));
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut want = vec!["eventSource,eventName,apiCount".to_string()];
    for row in expected["rows"].as_array().unwrap() {
        let cells: Vec<&str> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        want.push(cells.join(","));
    }
    assert_eq!(text.lines().collect::<Vec<_>>(), want);
    // A bucket the server does not have is refused at once.
    let refused = env.engine.start_query(StartQuery {
        scope: scope(),
        statement: format!("SELECT 1 FROM {}", env.eds),
        delivery_uri: Some("s3://no-such-bucket/x".into()),
        alias: None,
        parameters: Vec::new(),
        names: false,
    });
    assert!(matches!(refused, Err(EngineError::S3BucketDoesNotExist(_))));
}

#[test]
fn query_parameters_fill_the_placeholders() {
    let env = env(false);
    let q = env
        .engine
        .start_query(StartQuery {
            scope: scope(),
            statement: format!(
                "SELECT count(*) FROM {} WHERE eventName = ? AND eventSource = ?",
                env.eds
            ),
            delivery_uri: None,
            alias: None,
            parameters: vec!["ConsoleLogin".into(), "signin.amazonaws.com".into()],
            names: false,
        })
        .unwrap();
    let ended = env.engine.run_query(&q.id).unwrap();
    assert_eq!(ended.status, QueryStatus::Finished);
    // The fixture's ConsoleLogin records, counted from the golden corpus (query 011 lists the
    // ones without MFA, 010 the failures; 061 counts them all by user and outcome).
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("fixtures/lake-queries/expected/061-cte-two-levels.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let total: i64 = golden["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[2].as_str().unwrap().parse::<i64>().unwrap())
        .sum();
    let page = env.engine.query_results(&scope(), &q.id, 0, 10).unwrap();
    assert_eq!(page.rows, vec![vec![total.to_string()]]);
    // More values than placeholders.
    assert!(matches!(
        env.engine.start_query(StartQuery {
            scope: scope(),
            statement: format!("SELECT 1 FROM {} WHERE eventName = ?", env.eds),
            delivery_uri: None,
            alias: None,
            parameters: vec!["a".into(), "b".into()],
            names: false,
        }),
        Err(EngineError::InvalidParameter(_))
    ));
}
