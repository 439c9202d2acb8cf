//! The server driven by the real AWS SDK for Rust over a loopback port, as users drive it.

use aws_sdk_cloudtrail::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, EventDataStoreStatus, ImportFailureStatus,
    ImportSource, ImportStatus, S3ImportSource, Tag,
};
use aws_sdk_cloudtrail::Client;
use import_engine::{CommitHook, DirResolver, Engine, EngineConfig, EventQuery, FixedClock};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The instant the server's clock stands at.
const NOW: &str = "2025-01-01T00:00:00Z";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixture's expected statistics (computed independently by fixtures/make_fixtures.py) as
/// a server import reports them into a store that keeps `retention_days` at `NOW`: records
/// older than that are dropped, counted from the committed list of stored eventTimes.
fn expected_with_retention(retention_days: i64) -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let cutoff =
        chrono::DateTime::parse_from_rfc3339(NOW).unwrap() - chrono::Duration::days(retention_days);
    let kept = v["EventTimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap()).unwrap() >= cutoff)
        .count();
    v["ImportStatistics"]["EventsCompleted"] = kept.into();
    v
}

fn expected() -> Value {
    expected_with_retention(3653)
}

/// A gate the import's writer waits at after each commit while it is held (or until the run
/// is stopped), so a test can look at an import mid-way on any machine.
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

    fn commits(&self) -> u64 {
        *self.commits.lock().unwrap()
    }

    /// Waits (at most 30 s) until the writer has committed `n` batches in all.
    async fn wait_for_commits(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.commits() < n {
            assert!(Instant::now() < deadline, "only {} commits", self.commits());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

struct Server {
    addr: SocketAddr,
    engine: Arc<Engine>,
    gate: Arc<Gate>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Waits (at most 30 s) until no run of `id` goes on in the server.
    async fn wait_idle(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.engine.is_running(id) {
            assert!(Instant::now() < deadline, "the run of {id} never ended");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Events stored, all stores.
    fn stored(&self) -> i64 {
        self.engine
            .events(&EventQuery {
                limit: usize::MAX >> 1,
                ..Default::default()
            })
            .unwrap()
            .len() as i64
    }
}

/// A server on a free loopback port, with `trail-bucket` (the fixture) as its one bucket, its
/// clock at `NOW`, committing at most `batch_files` files at a time.
async fn server(batch_files: usize) -> Server {
    server_with(batch_files, aws_api::ServeLimits::default()).await
}

async fn server_with(batch_files: usize, limits: aws_api::ServeLimits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(
        root().join("fixtures/trail-bucket"),
        buckets.join("trail-bucket"),
    )
    .unwrap();
    let gate = Arc::new(Gate::default());
    let mut config = EngineConfig {
        clock: Arc::new(FixedClock::at(NOW).unwrap()),
        resolver: Arc::new(DirResolver { root: buckets }),
        after_commit: Some(gate.hook()),
        ..Default::default()
    };
    config.batch.files = batch_files;
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config).unwrap());
    let mut app = aws_api::App::new(engine.clone(), "123456789012");
    app.limits = limits;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(aws_api::serve(
        listener,
        Arc::new(app),
        std::future::pending(),
    ));
    Server {
        addr,
        engine,
        gate,
        _dir: dir,
    }
}

fn client(addr: SocketAddr, region: &str) -> Client {
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .build();
    Client::from_conf(conf)
}

/// The error code of a failed call.
fn code<E: ProvideErrorMetadata, R>(r: Result<R, E>) -> String {
    match r {
        Ok(_) => "no error".into(),
        Err(e) => e.code().unwrap_or("no code").to_string(),
    }
}

fn source(uri: &str) -> ImportSource {
    ImportSource::builder()
        .s3(S3ImportSource::builder()
            .s3_location_uri(uri)
            .s3_bucket_region("us-east-1")
            .s3_bucket_access_role_arn("arn:aws:iam::123456789012:role/import")
            .build()
            .unwrap())
        .build()
}

/// A store keeping the longest retention there is (ten years).
async fn create_store(c: &Client, name: &str) -> String {
    c.create_event_data_store()
        .name(name)
        .retention_period(3653)
        .send()
        .await
        .unwrap()
        .event_data_store_arn
        .unwrap()
}

/// Polls GetImport until the import ends; returns every status seen, in order, deduplicated.
async fn wait(
    c: &Client,
    id: &str,
) -> (
    Vec<ImportStatus>,
    aws_sdk_cloudtrail::operation::get_import::GetImportOutput,
) {
    let started = Instant::now();
    // What StartImport answered counts as seen.
    let mut seen: Vec<ImportStatus> = vec![ImportStatus::Initializing];
    loop {
        let out = c.get_import().import_id(id).send().await.unwrap();
        let status = out.import_status.clone().unwrap();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if matches!(
            status,
            ImportStatus::Completed | ImportStatus::Failed | ImportStatus::Stopped
        ) {
            return (seen, out);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "import never ended: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn stats_json(s: &aws_sdk_cloudtrail::types::ImportStatistics) -> Value {
    serde_json::json!({
        "PrefixesFound": s.prefixes_found, "PrefixesCompleted": s.prefixes_completed,
        "FilesCompleted": s.files_completed, "EventsCompleted": s.events_completed,
        "FailedEntries": s.failed_entries,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_data_store_lifecycle() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "eu-west-1");
    let created = c
        .create_event_data_store()
        .name("lake-1")
        .retention_period(90)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status, Some(EventDataStoreStatus::Created));
    assert_eq!(created.retention_period, Some(90));
    assert_eq!(created.termination_protection_enabled, Some(true));
    assert_eq!(created.multi_region_enabled, Some(true));
    assert_eq!(
        created.billing_mode.as_ref().map(|b| b.as_str()),
        Some("EXTENDABLE_RETENTION_PRICING")
    );
    let selectors = created.advanced_event_selectors.unwrap();
    assert_eq!(
        selectors[0].name.as_deref(),
        Some("Default management events")
    );
    let arn = created.event_data_store_arn.unwrap();
    assert!(
        arn.starts_with("arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/"),
        "{arn}"
    );
    let id = arn.rsplit('/').next().unwrap().to_string();
    let ts = created.created_timestamp.unwrap();
    assert_eq!(ts.secs(), 1_735_689_600, "the server's clock");

    // Get by ARN and by ID; ENABLED once created.
    for key in [&arn, &id] {
        let got = c
            .get_event_data_store()
            .event_data_store(key)
            .send()
            .await
            .unwrap();
        assert_eq!(got.status, Some(EventDataStoreStatus::Enabled));
        assert_eq!(got.name.as_deref(), Some("lake-1"));
    }
    // Regions are separate.
    let other = client(s.addr, "us-west-2");
    assert_eq!(
        code(
            other
                .get_event_data_store()
                .event_data_store(&id)
                .send()
                .await
        ),
        "EventDataStoreNotFoundException"
    );
    assert!(other
        .list_event_data_stores()
        .send()
        .await
        .unwrap()
        .event_data_stores
        .unwrap()
        .is_empty());

    assert_eq!(
        code(c.create_event_data_store().name("lake-1").send().await),
        "EventDataStoreAlreadyExistsException"
    );
    assert_eq!(
        code(c.create_event_data_store().name("x").send().await),
        "InvalidParameterException"
    );
    assert_eq!(
        code(
            c.create_event_data_store()
                .name("lake-2")
                .retention_period(5000)
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    assert_eq!(
        code(
            c.get_event_data_store()
                .event_data_store("arn:aws:cloudtrail:eu-west-1:123456789012:trail/x")
                .send()
                .await
        ),
        "EventDataStoreARNInvalidException"
    );
    assert_eq!(
        code(
            c.get_event_data_store()
                .event_data_store("arn:aws:cloudtrail:eu-west-1:999999999999:eventdatastore/abc")
                .send()
                .await
        ),
        "EventDataStoreARNInvalidException"
    );
    assert_eq!(
        code(
            c.get_event_data_store()
                .event_data_store("00000000-0000-0000-0000-000000000000")
                .send()
                .await
        ),
        "EventDataStoreNotFoundException"
    );

    let updated = c
        .update_event_data_store()
        .event_data_store(&arn)
        .name("lake-one")
        .retention_period(120)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_deref(), updated.retention_period),
        (Some("lake-one"), Some(120))
    );

    // Ingestion: stop, stop again (wrong status), start.
    c.stop_event_data_store_ingestion()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();
    let got = c
        .get_event_data_store()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status, Some(EventDataStoreStatus::StoppedIngestion));
    assert_eq!(
        code(
            c.stop_event_data_store_ingestion()
                .event_data_store(&arn)
                .send()
                .await
        ),
        "InvalidEventDataStoreStatusException"
    );
    c.start_event_data_store_ingestion()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();

    // Delete: protected first; then pending deletion, restorable.
    assert_eq!(
        code(
            c.delete_event_data_store()
                .event_data_store(&arn)
                .send()
                .await
        ),
        "EventDataStoreTerminationProtectedException"
    );
    c.update_event_data_store()
        .event_data_store(&arn)
        .termination_protection_enabled(false)
        .send()
        .await
        .unwrap();
    c.delete_event_data_store()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();
    let got = c
        .get_event_data_store()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status, Some(EventDataStoreStatus::PendingDeletion));
    assert_eq!(
        code(
            c.delete_event_data_store()
                .event_data_store(&arn)
                .send()
                .await
        ),
        "InactiveEventDataStoreException"
    );
    assert_eq!(
        code(
            c.update_event_data_store()
                .event_data_store(&arn)
                .retention_period(30)
                .send()
                .await
        ),
        "InactiveEventDataStoreException"
    );
    let restored = c
        .restore_event_data_store()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status, Some(EventDataStoreStatus::Enabled));
    assert_eq!(
        code(
            c.restore_event_data_store()
                .event_data_store(&arn)
                .send()
                .await
        ),
        "InvalidEventDataStoreStatusException"
    );

    // Listing: only ARN and name, paginated; the quota is 10 per Region.
    for i in 2..=10 {
        create_store(&c, &format!("lake-{i}")).await;
    }
    assert_eq!(
        code(c.create_event_data_store().name("lake-11").send().await),
        "EventDataStoreMaxLimitExceededException"
    );
    let page = c
        .list_event_data_stores()
        .max_results(4)
        .send()
        .await
        .unwrap();
    assert_eq!(page.event_data_stores.as_ref().unwrap().len(), 4);
    let mut names: Vec<String> = page
        .event_data_stores
        .unwrap()
        .into_iter()
        .map(|e| e.name.unwrap())
        .collect();
    let mut token = page.next_token;
    while let Some(t) = token {
        let p = c
            .list_event_data_stores()
            .max_results(4)
            .next_token(t)
            .send()
            .await
            .unwrap();
        names.extend(
            p.event_data_stores
                .unwrap()
                .into_iter()
                .map(|e| e.name.unwrap()),
        );
        token = p.next_token;
    }
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "lake-one");
    assert_eq!(
        code(c.list_event_data_stores().max_results(0).send().await),
        "InvalidMaxResultsException"
    );
    assert_eq!(
        code(
            c.list_event_data_stores()
                .next_token("garbage-token")
                .send()
                .await
        ),
        "InvalidNextTokenException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_runs_in_the_background_with_exact_statistics_and_failures() {
    let s = server(5).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "imports").await;
    // Hold the import after its first commit, to see it IN_PROGRESS on any machine.
    s.gate.hold();
    let started = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.import_status, Some(ImportStatus::Initializing));
    assert_eq!(started.destinations.as_deref(), Some(&[arn.clone()][..]));
    assert_eq!(
        started
            .import_source
            .as_ref()
            .unwrap()
            .s3
            .as_ref()
            .unwrap()
            .s3_location_uri,
        "s3://trail-bucket/"
    );
    let id = started.import_id.unwrap();
    assert_eq!(id.len(), 36);

    // One import at a time per account and Region.
    let again = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await;
    assert_eq!(code(again), "AccountHasOngoingImportException");

    s.gate.wait_for_commits(1).await;
    let mid = c.get_import().import_id(&id).send().await.unwrap();
    assert_eq!(mid.import_status, Some(ImportStatus::InProgress));
    assert_eq!(mid.import_statistics.unwrap().files_completed, Some(5));
    s.gate.release();
    let (seen, done) = wait(&c, &id).await;
    assert_eq!(
        seen,
        [
            ImportStatus::Initializing,
            ImportStatus::InProgress,
            ImportStatus::Failed
        ]
    );
    let want = expected();
    assert_eq!(
        stats_json(done.import_statistics.as_ref().unwrap()),
        want["ImportStatistics"]
    );
    // Records older than the store's ten years are dropped, not failed: the 2014 ones.
    assert!(
        want["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
            < expected_with_retention(100_000)["ImportStatistics"]["EventsCompleted"]
                .as_i64()
                .unwrap()
    );
    assert!(
        done.updated_timestamp.unwrap().as_secs_f64()
            >= done.created_timestamp.unwrap().as_secs_f64()
    );

    // Failures, two at a time.
    let failures = all_failures(&c, &id, 2).await;
    let mut got: Vec<Value> = failures
        .iter()
        .map(|f| serde_json::json!({"Location": f.location, "ErrorType": f.error_type}))
        .collect();
    got.sort_by_key(|v| v["Location"].as_str().unwrap().to_string());
    assert_eq!(Value::Array(got), want["Failures"]);
    assert!(failures
        .iter()
        .all(|f| f.status == Some(ImportFailureStatus::Failed) && f.last_updated_time.is_some()));

    // Retry: no statistic moves when it starts; entries go RETRY, then (the bucket did not
    // change) FAILED again, one file at a time; nothing doubles.
    s.gate.hold();
    let commits = s.gate.commits();
    let retried = c.start_import().import_id(&id).send().await.unwrap();
    assert_eq!(retried.import_status, Some(ImportStatus::Initializing));
    let right_after = c.get_import().import_id(&id).send().await.unwrap();
    assert_eq!(
        stats_json(right_after.import_statistics.as_ref().unwrap()),
        want["ImportStatistics"]
    );
    // The six failed files are read again, five per batch: after the first batch one entry is
    // still RETRY, and the statistics still agree with the stored events.
    s.gate.wait_for_commits(commits + 1).await;
    let during = all_failures(&c, &id, 1000).await;
    let retrying = during
        .iter()
        .filter(|f| f.status == Some(ImportFailureStatus::Retry))
        .count();
    assert_eq!(retrying, 1, "{during:?}");
    let mid = c.get_import().import_id(&id).send().await.unwrap();
    assert_eq!(
        stats_json(mid.import_statistics.as_ref().unwrap()),
        want["ImportStatistics"]
    );
    assert_eq!(
        s.stored(),
        want["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
    );
    s.gate.release();
    let (_, after) = wait(&c, &id).await;
    assert_eq!(after.import_status, Some(ImportStatus::Failed));
    assert_eq!(
        stats_json(after.import_statistics.as_ref().unwrap()),
        want["ImportStatistics"]
    );
    let after_failures = all_failures(&c, &id, 1000).await;
    assert_eq!(after_failures.len(), failures.len());
    assert!(after_failures
        .iter()
        .all(|f| f.status == Some(ImportFailureStatus::Failed)));

    // ListImports: filters and pages.
    let clean = c
        .start_import()
        .destinations(arn.rsplit('/').next().unwrap())
        .import_source(source("s3://trail-bucket/AWSLogs/974349055189/CloudTrail/"))
        .start_event_time(DateTime::from_secs(1_411_776_000))
        .end_event_time(DateTime::from_secs(1_411_862_399))
        .send()
        .await
        .unwrap();
    assert_eq!(
        clean.destinations.as_deref(),
        Some(&[arn.clone()][..]),
        "an ID destination is echoed as the ARN"
    );
    assert_eq!(clean.start_event_time.unwrap().secs(), 1_411_776_000);
    let (_, clean_done) = wait(&c, clean.import_id.as_ref().unwrap()).await;
    assert_eq!(clean_done.import_status, Some(ImportStatus::Completed));
    assert_eq!(
        code(
            c.start_import()
                .import_id(clean.import_id.as_ref().unwrap())
                .send()
                .await
        ),
        "OperationNotPermittedException"
    );
    let all = c.list_imports().send().await.unwrap().imports.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].import_id, clean.import_id, "newest first");
    let failed = c
        .list_imports()
        .import_status(ImportStatus::Failed)
        .send()
        .await
        .unwrap()
        .imports
        .unwrap();
    assert_eq!(
        failed
            .iter()
            .map(|i| i.import_id.as_deref().unwrap())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );
    let by_dest = c
        .list_imports()
        .destination(&arn)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(by_dest.imports.unwrap().len(), 1);
    let next = c
        .list_imports()
        .destination(&arn)
        .max_results(1)
        .next_token(by_dest.next_token.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        next.imports.unwrap()[0].import_id.as_deref(),
        Some(id.as_str())
    );
    assert!(next.next_token.is_none());
    let wrong = c
        .list_imports()
        .max_results(1)
        .next_token(by_dest.next_token.unwrap())
        .send()
        .await;
    assert_eq!(code(wrong), "InvalidNextTokenException");
    assert_eq!(
        code(
            c.list_imports()
                .destination("arn:aws:s3:::bucket")
                .send()
                .await
        ),
        "EventDataStoreARNInvalidException"
    );
    assert!(client(s.addr, "eu-west-1")
        .list_imports()
        .send()
        .await
        .unwrap()
        .imports
        .unwrap()
        .is_empty());
}

/// Every failure entry of an import, paged `page` at a time.
async fn all_failures(
    c: &Client,
    id: &str,
    page: i32,
) -> Vec<aws_sdk_cloudtrail::types::ImportFailureListItem> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let p = c
            .list_import_failures()
            .import_id(id)
            .max_results(page)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        let items = p.failures.unwrap();
        assert!(items.len() <= page as usize);
        out.extend(items);
        token = p.next_token;
        if token.is_none() {
            return out;
        }
    }
}

/// Once StopImport has answered, GetImport returns exactly the statistics it gave, and the
/// stored events match them: a batch in flight is not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_mid_import_freezes_the_statistics() {
    let s = server(5).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "stops").await;
    s.gate.hold();
    let id = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    s.gate.wait_for_commits(1).await;
    let asked = Instant::now();
    let stopped = c.stop_import().import_id(&id).send().await.unwrap();
    assert_eq!(stopped.import_status, Some(ImportStatus::Stopped));
    let frozen = stats_json(stopped.import_statistics.as_ref().unwrap());
    assert_eq!(frozen["FilesCompleted"], 5);
    // Let the writer go: the batch it was about to commit must not land.
    s.gate.release();
    s.wait_idle(&id).await;
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    let later = c.get_import().import_id(&id).send().await.unwrap();
    assert_eq!(later.import_status, Some(ImportStatus::Stopped));
    assert_eq!(
        stats_json(later.import_statistics.as_ref().unwrap()),
        frozen
    );
    assert_eq!(later.updated_timestamp, stopped.updated_timestamp);
    assert_eq!(Value::from(s.stored()), frozen["EventsCompleted"]);
    // Stopping again returns it unchanged.
    let again = c.stop_import().import_id(&id).send().await.unwrap();
    assert_eq!(
        stats_json(again.import_statistics.as_ref().unwrap()),
        frozen
    );
    // The retry resumes it to the end, with exactly the fixture's statistics.
    c.start_import().import_id(&id).send().await.unwrap();
    let (_, done) = wait(&c, &id).await;
    assert_eq!(
        stats_json(done.import_statistics.as_ref().unwrap()),
        expected()["ImportStatistics"]
    );
    assert_eq!(
        Value::from(s.stored()),
        expected()["ImportStatistics"]["EventsCompleted"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_start_import_error() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "errors").await;
    let new = || {
        c.start_import()
            .destinations(&arn)
            .import_source(source("s3://trail-bucket/"))
    };
    assert_eq!(
        code(c.start_import().destinations(&arn).send().await),
        "InvalidParameterException"
    );
    assert_eq!(
        code(
            c.start_import()
                .import_id("00000000-0000-0000-0000-000000000000")
                .send()
                .await
        ),
        "ImportNotFoundException"
    );
    assert_eq!(
        code(
            c.start_import()
                .import_id("NOT-A-UUID-00000000000000000000000000")
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    assert_eq!(
        code(
            c.get_import()
                .import_id("00000000-0000-0000-0000-000000000000")
                .send()
                .await
        ),
        "ImportNotFoundException"
    );
    assert_eq!(
        code(
            c.stop_import()
                .import_id("00000000-0000-0000-0000-000000000000")
                .send()
                .await
        ),
        "ImportNotFoundException"
    );
    let none = c
        .list_import_failures()
        .import_id("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap();
    assert!(none.failures.unwrap().is_empty());
    let missing = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://no-such-bucket/"))
        .send()
        .await;
    assert_eq!(code(missing), "InvalidImportSourceException");
    let not_s3 = c
        .start_import()
        .destinations(&arn)
        .import_source(source("https://example.com/x"))
        .send()
        .await;
    assert_eq!(code(not_s3), "InvalidImportSourceException");
    let reversed = new()
        .start_event_time(DateTime::from_secs(2_000_000_000))
        .end_event_time(DateTime::from_secs(1_000_000_000))
        .send()
        .await;
    assert_eq!(code(reversed), "InvalidParameterException");
    let unknown = c.start_import().destinations("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/00000000-0000-0000-0000-000000000000").import_source(source("s3://trail-bucket/")).send().await;
    assert_eq!(code(unknown), "EventDataStoreNotFoundException");
    let bad_arn = c
        .start_import()
        .destinations("arn:aws:cloudtrail:us-east-1:123456789012:trail/t")
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await;
    assert_eq!(code(bad_arn), "EventDataStoreARNInvalidException");
    // A store that does not take CloudTrail events.
    let audit = c
        .create_event_data_store()
        .name("audit-logs")
        .advanced_event_selectors(selector(&[(
            "eventCategory",
            "Equals",
            &["ActivityAuditLog"],
        )]))
        .send()
        .await
        .unwrap()
        .event_data_store_arn
        .unwrap();
    let wrong = c
        .start_import()
        .destinations(&audit)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await;
    assert_eq!(code(wrong), "InvalidEventDataStoreCategoryException");
    // A store pending deletion.
    c.update_event_data_store()
        .event_data_store(&audit)
        .termination_protection_enabled(false)
        .send()
        .await
        .unwrap();
    c.delete_event_data_store()
        .event_data_store(&audit)
        .send()
        .await
        .unwrap();
    let inactive = c
        .start_import()
        .destinations(&audit)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await;
    assert_eq!(code(inactive), "InactiveEventDataStoreException");
    // A store with an ongoing import cannot be updated or deleted.
    s.gate.hold();
    let running = new().send().await.unwrap().import_id.unwrap();
    assert_eq!(
        code(
            c.update_event_data_store()
                .event_data_store(&arn)
                .retention_period(30)
                .send()
                .await
        ),
        "EventDataStoreHasOngoingImportException"
    );
    c.stop_import().import_id(&running).send().await.unwrap();
    s.gate.release();
}

/// A retry passes the same destination checks as a new import: a stopped import whose store
/// was deleted since cannot write into it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_checks_its_destination_again() {
    let s = server(5).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "retry-dest").await;
    s.gate.hold();
    let id = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    s.gate.wait_for_commits(1).await;
    c.stop_import().import_id(&id).send().await.unwrap();
    s.gate.release();
    s.wait_idle(&id).await;
    let before = s.stored();
    c.update_event_data_store()
        .event_data_store(&arn)
        .termination_protection_enabled(false)
        .send()
        .await
        .unwrap();
    c.delete_event_data_store()
        .event_data_store(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(c.start_import().import_id(&id).send().await),
        "InactiveEventDataStoreException"
    );
    let still = c.get_import().import_id(&id).send().await.unwrap();
    assert_eq!(still.import_status, Some(ImportStatus::Stopped));
    assert_eq!(s.stored(), before, "nothing written into the deleted store");
}

/// One advanced event selector from (field, operator, values) conditions.
fn selector(conditions: &[(&str, &str, &[&str])]) -> AdvancedEventSelector {
    let mut b = AdvancedEventSelector::builder();
    for (field, op, values) in conditions {
        let mut f = AdvancedFieldSelector::builder().field(*field);
        for v in *values {
            f = match *op {
                "Equals" => f.equals(*v),
                "StartsWith" => f.starts_with(*v),
                "EndsWith" => f.ends_with(*v),
                "NotEquals" => f.not_equals(*v),
                "NotStartsWith" => f.not_starts_with(*v),
                _ => f.not_ends_with(*v),
            };
        }
        b = b.field_selectors(f.build().unwrap());
    }
    b.build().unwrap()
}

/// Selectors follow the rules AWS documents for event data stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advanced_event_selectors_are_validated() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "us-east-1");
    let ok: Vec<Vec<(&str, &str, &[&str])>> = vec![
        vec![
            ("eventCategory", "Equals", &["Management"]),
            ("readOnly", "Equals", &["false"]),
        ],
        vec![
            ("eventCategory", "Equals", &["Data"]),
            ("resources.type", "Equals", &["AWS::S3::Object"]),
            ("resources.ARN", "StartsWith", &["arn:aws:s3:::bucket/"]),
            ("eventName", "NotEquals", &["GetObject"]),
        ],
        vec![
            ("eventCategory", "Equals", &["NetworkActivity"]),
            ("eventSource", "Equals", &["ec2.amazonaws.com"]),
            ("errorCode", "Equals", &["VpceAccessDenied"]),
        ],
        vec![
            ("eventCategory", "Equals", &["Management"]),
            ("eventSource", "NotEquals", &["kms.amazonaws.com"]),
        ],
        vec![("eventCategory", "Equals", &["ConfigurationItem"])],
    ];
    for (i, conds) in ok.iter().enumerate() {
        let r = c
            .create_event_data_store()
            .name(format!("ok-{i}"))
            .advanced_event_selectors(selector(conds))
            .send()
            .await;
        assert!(
            r.is_ok(),
            "{conds:?}: {:?}",
            r.err().map(|e| e.into_service_error())
        );
    }
    let bad: Vec<Vec<(&str, &str, &[&str])>> = vec![
        // An unknown field, and a field of another category.
        vec![
            ("eventCategory", "Equals", &["Management"]),
            ("eventTime", "Equals", &["x"]),
        ],
        vec![
            ("eventCategory", "Equals", &["Management"]),
            ("resources.type", "Equals", &["AWS::S3::Object"]),
        ],
        // Operators a field does not allow.
        vec![("eventCategory", "StartsWith", &["Manage"])],
        vec![
            ("eventCategory", "Equals", &["Management"]),
            ("readOnly", "NotEquals", &["true"]),
        ],
        vec![
            ("eventCategory", "Equals", &["Data"]),
            ("resources.type", "StartsWith", &["AWS::S3::"]),
        ],
        // Values outside the documented set.
        vec![("eventCategory", "Equals", &["Everything"])],
        vec![
            ("eventCategory", "Equals", &["Management"]),
            ("readOnly", "Equals", &["yes"]),
        ],
        vec![
            ("eventCategory", "Equals", &["Data"]),
            ("resources.type", "Equals", &["S3 objects"]),
        ],
        // A data selector without its resource type; no eventCategory at all.
        vec![("eventCategory", "Equals", &["Data"])],
        vec![("readOnly", "Equals", &["true"])],
    ];
    for (i, conds) in bad.iter().enumerate() {
        let r = c
            .create_event_data_store()
            .name(format!("bad-{i}"))
            .advanced_event_selectors(selector(conds))
            .send()
            .await;
        assert_eq!(code(r), "InvalidEventSelectorsException", "{conds:?}");
    }
    // Categories of two kinds of store cannot mix; on Update too.
    let mixed = c
        .create_event_data_store()
        .name("mixed")
        .advanced_event_selectors(selector(&[("eventCategory", "Equals", &["Management"])]))
        .advanced_event_selectors(selector(&[("eventCategory", "Equals", &["Insight"])]))
        .send()
        .await;
    assert_eq!(code(mixed), "InvalidEventSelectorsException");
    let ok_arn = c
        .list_event_data_stores()
        .send()
        .await
        .unwrap()
        .event_data_stores
        .unwrap()[0]
        .event_data_store_arn
        .clone()
        .unwrap();
    let update = c
        .update_event_data_store()
        .event_data_store(&ok_arn)
        .advanced_event_selectors(selector(&[("eventCategory", "Equals", &["Nope"])]))
        .send()
        .await;
    assert_eq!(code(update), "InvalidEventSelectorsException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_needs_a_change_and_partitions_follow_the_region() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "nothing").await;
    assert_eq!(
        code(
            c.update_event_data_store()
                .event_data_store(&arn)
                .send()
                .await
        ),
        "InvalidParameterException"
    );
    for (region, partition) in [
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("eu-west-3", "aws"),
    ] {
        let rc = client(s.addr, region);
        let arn = create_store(&rc, "partitioned").await;
        assert!(
            arn.starts_with(&format!(
                "arn:{partition}:cloudtrail:{region}:123456789012:eventdatastore/"
            )),
            "{arn}"
        );
        let got = rc
            .get_event_data_store()
            .event_data_store(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(got.event_data_store_arn.as_deref(), Some(arn.as_str()));
        let id = rc
            .start_import()
            .destinations(&arn)
            .import_source(source("s3://trail-bucket/AWSLogs/974349055189/"))
            .send()
            .await
            .unwrap()
            .import_id
            .unwrap();
        let (_, done) = wait(&rc, &id).await;
        assert_eq!(done.destinations.as_deref(), Some(&[arn.clone()][..]));
        // Another partition's spelling of the ARN is not this account's.
        let wrong = arn.replacen(&format!("arn:{partition}:"), "arn:aws-iso:", 1);
        assert_eq!(
            code(
                rc.get_event_data_store()
                    .event_data_store(&wrong)
                    .send()
                    .await
            ),
            "EventDataStoreARNInvalidException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_on_event_data_stores() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "us-east-1");
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    let created = c
        .create_event_data_store()
        .name("tagged")
        .tags_list(tag("team", "sec"))
        .tags_list(tag("env", "test"))
        .send()
        .await
        .unwrap();
    let arn = created.event_data_store_arn.unwrap();
    let echoed: Vec<(String, Option<String>)> = created
        .tags_list
        .unwrap()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    assert_eq!(
        echoed,
        [
            ("team".to_string(), Some("sec".to_string())),
            ("env".to_string(), Some("test".to_string()))
        ]
    );
    c.add_tags()
        .resource_id(&arn)
        .tags_list(tag("env", "prod"))
        .tags_list(Tag::builder().key("bare").build().unwrap())
        .send()
        .await
        .unwrap();
    c.remove_tags()
        .resource_id(&arn)
        .tags_list(tag("team", "whatever the value"))
        .send()
        .await
        .unwrap();
    let plain = create_store(&c, "plain").await;
    let listed = c
        .list_tags()
        .resource_id_list(&arn)
        .resource_id_list(&plain)
        .send()
        .await
        .unwrap();
    assert!(listed.next_token.is_none());
    let list = listed.resource_tag_list.unwrap();
    assert_eq!(list.len(), 2, "one entry per resource, even untagged");
    assert_eq!(list[0].resource_id.as_deref(), Some(arn.as_str()));
    let tags: Vec<(String, Option<String>)> = list[0]
        .tags_list
        .clone()
        .unwrap()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    assert_eq!(
        tags,
        [
            ("env".to_string(), Some("prod".to_string())),
            ("bare".to_string(), None)
        ]
    );
    assert_eq!(list[1].tags_list.as_deref(), Some(&[][..]));
    // Errors.
    let dup = c
        .add_tags()
        .resource_id(&arn)
        .tags_list(tag("k", "1"))
        .tags_list(tag("k", "2"))
        .send()
        .await;
    assert_eq!(code(dup), "InvalidTagParameterException");
    let mut many = c.add_tags().resource_id(&arn);
    for i in 0..49 {
        many = many.tags_list(tag(&format!("k{i}"), "v"));
    }
    assert_eq!(code(many.send().await), "TagsLimitExceededException");
    let other_account = arn.replace("123456789012", "999999999999");
    assert_eq!(
        code(c.list_tags().resource_id_list(&other_account).send().await),
        "CloudTrailARNInvalidException"
    );
    assert_eq!(
        code(
            c.add_tags()
                .resource_id("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/00000000-0000-0000-0000-000000000000")
                .tags_list(tag("a", "b"))
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            c.list_tags()
                .resource_id_list("arn:aws:cloudtrail:us-east-1:123456789012:trail/t")
                .send()
                .await
        ),
        "ResourceTypeNotSupportedException"
    );
    assert_eq!(
        code(c.list_tags().resource_id_list("not an arn").send().await),
        "CloudTrailARNInvalidException"
    );
}

/// A trail with an S3 key prefix: naming the folder above `AWSLogs/...` reads the trail's
/// logs only, not its digests, Insights or other services' logs beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_prefix_reads_only_trail_logs_below_awslogs() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "prefixed").await;
    let id = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/AWSLogs/123456789012/"))
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    let (_, done) = wait(&c, &id).await;
    let failures = all_failures(&c, &id, 1000).await;
    let all = expected();
    let want: Vec<&str> = all["Failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Location"].as_str().unwrap())
        .filter(|l| l.contains("/123456789012/"))
        .collect();
    let mut got: Vec<String> = failures.into_iter().map(|f| f.location.unwrap()).collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(
        done.import_statistics.unwrap().failed_entries,
        Some(want.len() as i64)
    );
}

/// List tokens are keyset positions: an import started between two pages repeats nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tokens_are_stable_under_new_imports() {
    let s = server(usize::MAX).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "pages").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = c
            .start_import()
            .destinations(&arn)
            .import_source(source("s3://trail-bucket/AWSLogs/974349055189/"))
            .send()
            .await
            .unwrap()
            .import_id
            .unwrap();
        wait(&c, &id).await;
        ids.push(id);
    }
    let first = c.list_imports().max_results(2).send().await.unwrap();
    let newer = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/AWSLogs/974349055189/"))
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    let second = c
        .list_imports()
        .max_results(2)
        .next_token(first.next_token.unwrap())
        .send()
        .await
        .unwrap();
    let mut seen: Vec<String> = first
        .imports
        .unwrap()
        .into_iter()
        .chain(second.imports.unwrap())
        .map(|i| i.import_id.unwrap())
        .collect();
    assert!(second.next_token.is_none());
    seen.sort();
    ids.sort();
    assert_eq!(
        seen, ids,
        "each of the first three exactly once; the newer one not yet"
    );
    assert!(!seen.contains(&newer));
    wait(&c, &newer).await;
}

/// Raw HTTP, for what the SDK hides: both target spellings, the headers, the error body.
fn raw(addr: SocketAddr, target: &str, body: &str) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_details() {
    let s = server(usize::MAX).await;
    let addr = s.addr;
    tokio::task::spawn_blocking(move || {
        for target in [
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListEventDataStores",
            "CloudTrail_20131101.ListEventDataStores",
        ] {
            let (status, head, body) = raw(addr, target, "{}");
            assert_eq!(status, 200, "{target}");
            assert!(head.contains("content-type: application/x-amz-json-1.1"), "{head}");
            assert!(head.contains("x-amzn-requestid: "), "{head}");
            assert_eq!(body, r#"{"EventDataStores":[]}"#);
        }
        let cases = [
            ("CloudTrail_20131101.ListEventDataStores", "{not json", "SerializationException"),
            ("CloudTrail_20131101.ListEventDataStores", "[1]", "SerializationException"),
            ("CloudTrail_20131101.ListImports", r#"{"MaxResults":"ten"}"#, "SerializationException"),
            ("CloudTrail_20131101.DescribeEverything", "{}", "UnknownOperationException"),
            ("Logs_20140328.PutLogEvents", "{}", "UnknownOperationException"),
            ("CloudTrail_20131101.GetImport", "{}", "InvalidParameterException"),
            ("CloudTrail_20131101.ListImports", r#"{"ImportStatus":"DONE"}"#, "InvalidParameterException"),
            ("CloudTrail_20131101.ListImports", r#"{"NextToken":"abc"}"#, "InvalidParameterException"),
        ];
        for (target, body, want) in cases {
            let (status, head, body) = raw(addr, target, body);
            assert_eq!(status, 400, "{target} {body}");
            assert!(head.contains("x-amzn-requestid: "));
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["__type"], want, "{target}: {body}");
            // Logs spells the member `message`.
            let message = v.get("Message").or(v.get("message"));
            assert!(!message.and_then(Value::as_str).unwrap().is_empty());
        }
        let (_, _, body) = raw(addr, "CloudTrail_20131101.GetImport", r#"{"ImportId":"ABCDEFAB-0000-0000-0000-000000000000"}"#);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["Message"],
            "1 validation error detected: Value 'ABCDEFAB-0000-0000-0000-000000000000' at 'importId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-f0-9\\-]+$"
        );
        // Epoch seconds in, epoch seconds out.
        let (_, _, body) = raw(addr, "CloudTrail_20131101.CreateEventDataStore", r#"{"Name":"wire"}"#);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["CreatedTimestamp"].is_number(), "{body}");
    })
    .await
    .unwrap();
}

/// Nothing outside the buckets directory can be named: a location that climbs out, an absolute
/// path, or a bucket name S3 would refuse is `InvalidImportSourceException`, and nothing is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_cannot_leave_the_buckets_directory() {
    let s = server(usize::MAX).await;
    // A bucket beside the buckets directory that a climbing location would reach.
    let outside = s
        ._dir
        .path()
        .join("outside/AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(
        root().join("fixtures/trail-bucket/AWSLogs/111111111111/CloudTrail/eu-central-1/2017/12/11/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz"),
        outside.join("111122223333_CloudTrail_us-east-1_20240201T0100Z_x.json.gz"),
    )
    .unwrap();
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "sandbox").await;
    for uri in [
        "s3://trail-bucket/../outside/",
        "s3://trail-bucket/../../outside/",
        "s3://trail-bucket//abs/path/",
        "s3://trail-bucket/AWSLogs/../../outside/",
        "s3://Trail-Bucket/",
        "s3://trail_bucket/",
        "s3://../outside/",
        "s3://outside/",
    ] {
        let r = c
            .start_import()
            .destinations(&arn)
            .import_source(source(uri))
            .send()
            .await;
        assert_eq!(code(r), "InvalidImportSourceException", "{uri}");
    }
    assert!(c
        .list_imports()
        .send()
        .await
        .unwrap()
        .imports
        .unwrap()
        .is_empty());
    assert_eq!(s.stored(), 0);
}

/// Raw bytes to the server; what it answers (empty when it closed the connection).
async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Slow and hostile clients are shed while the others are served: a request's headers and
/// body have deadlines, a body has a size cap, connections a cap; GetImport keeps answering
/// while a thousand slow clients hold connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sheds_slow_clients_and_keeps_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = aws_api::ServeLimits {
        max_connections: 1100,
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        max_body_bytes: 1 << 20,
    };
    let s = server_with(usize::MAX, limits).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "busy").await;
    let id = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/AWSLogs/974349055189/"))
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    wait(&c, &id).await;

    // A thousand clients that send one byte of headers and then nothing.
    let mut slow = Vec::new();
    for _ in 0..1000 {
        let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        stream.write_all(b"P").await.unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    for _ in 0..20 {
        let got = c.get_import().import_id(&id).send().await.unwrap();
        assert_eq!(got.import_status, Some(ImportStatus::Completed));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Their header deadline passes: the server closes every one of them.
    let deadline = Instant::now() + Duration::from_secs(20);
    for mut stream in slow {
        let mut buf = [0u8; 64];
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(_)) | Ok(Err(_))),
            "a slow client was not shed"
        );
    }
    // A body that never comes: 408; a body over the cap: 413; both AWS-shaped.
    let head = |len: usize| {
        format!("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: CloudTrail_20131101.ListImports\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {len}\r\n\r\n")
    };
    let late = send_raw(s.addr, format!("{}{{", head(10)).as_bytes()).await;
    assert!(late.starts_with("HTTP/1.1 408"), "{late}");
    assert!(late.contains("RequestTimeoutException"), "{late}");
    let mut big = head(2 << 20).into_bytes();
    big.extend(std::iter::repeat_n(b' ', 2 << 20));
    let too_big = send_raw(s.addr, &big).await;
    assert!(too_big.starts_with("HTTP/1.1 413"), "{too_big}");
    assert!(
        too_big.contains("RequestEntityTooLargeException"),
        "{too_big}"
    );
    // Still answering.
    c.get_import().import_id(&id).send().await.unwrap();
}

/// Connections beyond the cap are closed as soon as they are accepted; the ones within it are
/// served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed() {
    use tokio::io::AsyncReadExt;
    let limits = aws_api::ServeLimits {
        max_connections: 5,
        header_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let s = server_with(usize::MAX, limits).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(tokio::net::TcpStream::connect(s.addr).await.unwrap());
    }
    let mut extra = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(10), extra.read(&mut buf))
        .await
        .expect("closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0, "the sixth connection is closed");
    drop(held);
    // Once they are gone, new clients are served again.
    let deadline = Instant::now() + Duration::from_secs(10);
    let c = client(s.addr, "us-east-1");
    loop {
        if c.list_event_data_stores().send().await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "never served again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
