//! CloudWatch Logs import tasks and log-group reads, driven by the real AWS SDK for Rust
//! (`aws-sdk-cloudwatchlogs`, and `aws-sdk-cloudtrail` for the store) against the server on a
//! loopback port. What comes back is compared with the store's records, parsed here.

use aws_sdk_cloudtrail::types::{ImportSource, ImportStatus, S3ImportSource};
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::{ImportFilter, ImportStatus as TaskStatus};
use import_engine::{DirResolver, Engine, EngineConfig, EventQuery, FixedClock, LogTask};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const NOW: &str = "2025-01-01T00:00:00Z";
const ROLE: &str = "arn:aws:iam::123456789012:role/import";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
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

    fn set(&self, held: bool) {
        *self.held.lock().unwrap() = held;
        self.turned.notify_all();
    }
}

struct Server {
    addr: SocketAddr,
    engine: Arc<Engine>,
    gate: Arc<Gate>,
    _dir: tempfile::TempDir,
}

/// A synthetic bucket (two days of 2024, many small files so many hours), made once.
fn synth_bucket() -> PathBuf {
    static MADE: Mutex<Option<(tempfile::TempDir, PathBuf)>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap();
    let (_, path) = made.get_or_insert_with(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bucket");
        let spec = trail_synth::Spec {
            size: 3 << 20,
            seed: 5,
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

/// A server whose buckets are `synth-bucket` and `trail-bucket` (the fixture), its clock at
/// `NOW`; `background`: whether tasks run on their own (else they wait, `IN_PROGRESS`, for the
/// test to run them).
async fn server(background: bool, strict: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(synth_bucket(), buckets.join("synth-bucket")).unwrap();
    std::os::unix::fs::symlink(
        root().join("fixtures/trail-bucket"),
        buckets.join("trail-bucket"),
    )
    .unwrap();
    let gate = Arc::new(Gate::default());
    let config = EngineConfig {
        clock: Arc::new(FixedClock::at(NOW).unwrap()),
        resolver: Arc::new(DirResolver { root: buckets }),
        background,
        after_log_batch: Some(gate.hook()),
        strict_log_class: strict,
        ..Default::default()
    };
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config).unwrap());
    let app = aws_api::App::new(engine.clone(), "123456789012");
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

fn credentials() -> aws_sdk_cloudwatchlogs::config::Credentials {
    aws_sdk_cloudwatchlogs::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test")
}

fn logs(addr: SocketAddr) -> aws_sdk_cloudwatchlogs::Client {
    let conf = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(credentials())
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(conf)
}

fn cloudtrail(addr: SocketAddr) -> aws_sdk_cloudtrail::Client {
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(credentials())
        .build();
    aws_sdk_cloudtrail::Client::from_conf(conf)
}

/// The error name and HTTP status of a failed call (either SDK).
fn error<R, E: ProvideErrorMetadata>(
    r: Result<R, SdkError<E, aws_sdk_cloudwatchlogs::config::http::HttpResponse>>,
) -> (String, u16) {
    match r {
        Ok(_) => ("no error".into(), 200),
        Err(e) => (
            e.code().unwrap_or("no code").to_string(),
            e.raw_response().map_or(0, |r| r.status().as_u16()),
        ),
    }
}

/// A store holding the import of `bucket` (the store's ARN), imported through CloudTrail's
/// API; on a foreground server the test runs the import itself.
async fn store_with(s: &Server, name: &str, bucket: &str) -> String {
    let ct = cloudtrail(s.addr);
    let arn = ct
        .create_event_data_store()
        .name(name)
        .retention_period(3653)
        .termination_protection_enabled(false)
        .send()
        .await
        .unwrap()
        .event_data_store_arn
        .unwrap();
    let import = ct
        .start_import()
        .destinations(&arn)
        .import_source(
            ImportSource::builder()
                .s3(S3ImportSource::builder()
                    .s3_location_uri(format!("s3://{bucket}/"))
                    .s3_bucket_region("us-east-1")
                    .s3_bucket_access_role_arn(ROLE)
                    .build()
                    .unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    let engine = s.engine.clone();
    let id = import.clone();
    tokio::task::spawn_blocking(move || {
        engine
            .run_import(&id, &import_engine::RunControl::default())
            .unwrap()
    })
    .await
    .unwrap();
    // The fixture holds bad files on purpose: its import ends FAILED, with every good record.
    let got = ct.get_import().import_id(&import).send().await.unwrap();
    let ended = [ImportStatus::Completed, ImportStatus::Failed];
    assert!(
        ended.contains(got.import_status.as_ref().unwrap()),
        "{got:?}"
    );
    arn
}

fn group_of(arn: &str) -> String {
    format!("aws/cloudtrail/{}", arn.rsplit('/').next().unwrap())
}

/// The store's records as (stream, eventTime ms, bytes), sorted, for those `keep` says.
fn records(s: &Server, keep: impl Fn(i64) -> bool) -> Vec<(String, i64, String)> {
    let mut out: Vec<(String, i64, String)> = s
        .engine
        .events(&EventQuery {
            limit: usize::MAX >> 1,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| {
            let raw = String::from_utf8(e.raw).unwrap();
            let v: Value = serde_json::from_str(&raw).unwrap();
            let field = |k: &str, d: &str| {
                v[k].as_str()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(d)
                    .to_string()
            };
            let stream = format!(
                "{}_CloudTrail_{}",
                field("recipientAccountId", "123456789012"),
                field("awsRegion", "us-east-1")
            );
            let t = ms(v["eventTime"].as_str().unwrap());
            (stream, t, raw)
        })
        .filter(|(_, t, _)| keep(*t))
        .collect();
    out.sort();
    out
}

/// Polls DescribeImportTasks until the task ends.
async fn wait_task(
    c: &aws_sdk_cloudwatchlogs::Client,
    id: &str,
) -> aws_sdk_cloudwatchlogs::types::Import {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = c
            .describe_import_tasks()
            .import_id(id)
            .send()
            .await
            .unwrap();
        let task = out.imports().first().cloned().expect("the task is listed");
        if task.import_status() != Some(&TaskStatus::InProgress) {
            return task;
        }
        assert!(Instant::now() < deadline, "the task never ended");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every event of the group through FilterLogEvents, following nextToken until it is absent.
async fn filter_all(
    c: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    start: Option<i64>,
    end: Option<i64>,
    pattern: Option<&str>,
) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10_000 {
        let page = c
            .filter_log_events()
            .log_group_name(group)
            .set_start_time(start)
            .set_end_time(end)
            .set_filter_pattern(pattern.map(str::to_string))
            .limit(300)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        for e in page.events() {
            assert_eq!(e.ingestion_time(), Some(ms(NOW)));
            assert!(e.event_id().unwrap().parse::<i64>().is_ok());
            out.push((
                e.log_stream_name().unwrap().to_string(),
                e.timestamp().unwrap(),
                e.message().unwrap().to_string(),
            ));
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
    panic!("FilterLogEvents never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_through_the_sdks() {
    let s = server(true, false).await;
    let arn = store_with(&s, "round-trip", "synth-bucket").await;
    let c = logs(s.addr);
    let want = records(&s, |_| true);
    assert!(want.len() > 1000);

    let created = c
        .create_import_task()
        .import_source_arn(&arn)
        .import_role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let group = group_of(&arn);
    assert_eq!(
        created.import_destination_arn(),
        Some(format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}").as_str())
    );
    assert_eq!(created.creation_time(), Some(ms(NOW)));
    let id = created.import_id().unwrap().to_string();
    let task = wait_task(&c, &id).await;
    assert_eq!(task.import_status(), Some(&TaskStatus::Completed));
    let bytes: i64 = want.iter().map(|r| r.2.len() as i64).sum();
    assert_eq!(
        task.import_statistics().unwrap().bytes_imported(),
        Some(bytes)
    );
    assert_eq!(task.import_source_arn(), Some(arn.as_str()));
    assert!(task.import_filter().is_none());

    // Batches: one per hour holding events, all COMPLETED, ten a page by default.
    let hours: std::collections::BTreeSet<i64> =
        want.iter().map(|r| r.1.div_euclid(3_600_000)).collect();
    let mut batches = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .describe_import_task_batches()
            .import_id(&id)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.import_batches().len() <= 10);
        assert_eq!(page.import_source_arn(), Some(arn.as_str()));
        batches.extend(page.import_batches().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(batches.len(), hours.len());
    assert!(batches.iter().all(|b| b.status() == &TaskStatus::Completed));

    // The group, its streams, and every event through GetLogEvents and FilterLogEvents.
    let groups = c
        .describe_log_groups()
        .log_group_name_prefix("aws/cloudtrail/")
        .send()
        .await
        .unwrap();
    let g = &groups.log_groups()[0];
    assert_eq!(g.log_group_name(), Some(group.as_str()));
    assert_eq!(g.stored_bytes(), Some(bytes));
    assert_eq!(
        g.log_group_class(),
        Some(&aws_sdk_cloudwatchlogs::types::LogGroupClass::InfrequentAccess)
    );
    assert_eq!(g.arn().map(|a| a.ends_with(":*")), Some(true));
    let mut per_stream: BTreeMap<String, usize> = BTreeMap::new();
    for r in &want {
        *per_stream.entry(r.0.clone()).or_default() += 1;
    }
    let streams = c
        .describe_log_streams()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let names: Vec<String> = streams
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap().to_string())
        .collect();
    assert_eq!(names, per_stream.keys().cloned().collect::<Vec<_>>());
    let mut got = Vec::new();
    for name in &names {
        // Forward from the head until the forward token repeats.
        let mut token: Option<String> = None;
        let mut n = 0;
        for _ in 0..10_000 {
            let page = c
                .get_log_events()
                .log_group_identifier(&group)
                .log_stream_name(name)
                .start_from_head(true)
                .limit(250)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            n += page.events().len();
            for e in page.events() {
                got.push((
                    name.clone(),
                    e.timestamp().unwrap(),
                    e.message().unwrap().to_string(),
                ));
            }
            let next = page.next_forward_token().unwrap().to_string();
            assert!(next.starts_with("f/"));
            assert!(page.next_backward_token().unwrap().starts_with("b/"));
            if token.as_deref() == Some(next.as_str()) {
                assert!(page.events().is_empty());
                break;
            }
            token = Some(next);
        }
        assert_eq!(n, per_stream[name], "{name}");
    }
    got.sort();
    assert_eq!(
        got, want,
        "GetLogEvents reads back every record byte for byte"
    );
    let mut filtered = filter_all(&c, &group, None, None, None).await;
    assert!(filtered.windows(2).all(|w| w[0].1 <= w[1].1), "time order");
    filtered.sort();
    assert_eq!(filtered, want, "FilterLogEvents too");

    // A JSON pattern selects what a reading of the JSON selects.
    let pattern = r#"{ ($.errorCode = "AccessDenied") && ($.userIdentity.type = "AssumedRole") }"#;
    let picked: Vec<_> = want
        .iter()
        .filter(|r| {
            let v: Value = serde_json::from_str(&r.2).unwrap();
            v["errorCode"] == "AccessDenied" && v["userIdentity"]["type"] == "AssumedRole"
        })
        .cloned()
        .collect();
    assert!(!picked.is_empty());
    let mut matched = filter_all(&c, &group, None, None, Some(pattern)).await;
    matched.sort();
    assert_eq!(matched, picked);

    // A sub-range task, after the group is deleted: exactly the records in range, bounds
    // included; the group is created again.
    c.delete_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let (lo, hi) = (want[want.len() / 3].1, want[want.len() / 2].1);
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let sub = c
        .create_import_task()
        .import_source_arn(&arn)
        .import_role_arn(ROLE)
        .import_filter(
            ImportFilter::builder()
                .start_event_time(lo)
                .end_event_time(hi)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let task = wait_task(&c, sub.import_id().unwrap()).await;
    assert_eq!(task.import_status(), Some(&TaskStatus::Completed));
    let filter = task.import_filter().unwrap();
    assert_eq!(
        (filter.start_event_time(), filter.end_event_time()),
        (Some(lo), Some(hi))
    );
    let in_range = records(&s, |t| t >= lo && t <= hi);
    let mut got = filter_all(&c, &group, None, None, None).await;
    got.sort();
    assert_eq!(got, in_range);
    // FilterLogEvents' own bounds are inclusive too.
    let at_lo = in_range.iter().filter(|r| r.1 == lo).count();
    assert_eq!(
        filter_all(&c, &group, Some(lo), Some(lo), None).await.len(),
        at_lo
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_right_after_create_and_mid_run() {
    let s = server(true, false).await;
    let arn = store_with(&s, "cancel", "synth-bucket").await;
    let c = logs(s.addr);
    // Right after create: the run is held at its first batch, the cancel lands.
    s.gate.set(true);
    let id = c
        .create_import_task()
        .import_source_arn(&arn)
        .import_role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .import_id()
        .unwrap()
        .to_string();
    let cancelled = c.cancel_import_task().import_id(&id).send().await.unwrap();
    assert_eq!(cancelled.import_status(), Some(&TaskStatus::Cancelled));
    assert_eq!(cancelled.last_updated_time(), Some(ms(NOW)));
    let frozen = cancelled.import_statistics().unwrap().bytes_imported();
    s.gate.set(false);
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.engine.is_running(&id) {
        assert!(Instant::now() < deadline, "the run never ended");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let task = wait_task(&c, &id).await;
    assert_eq!(task.import_status(), Some(&TaskStatus::Cancelled));
    assert_eq!(task.import_statistics().unwrap().bytes_imported(), frozen);
    let in_progress = c
        .describe_import_task_batches()
        .import_id(&id)
        .batch_import_status(TaskStatus::InProgress)
        .send()
        .await
        .unwrap();
    assert!(in_progress.import_batches().is_empty());
    let cancelled_batches = c
        .describe_import_task_batches()
        .import_id(&id)
        .batch_import_status(TaskStatus::Cancelled)
        .limit(50)
        .send()
        .await
        .unwrap();
    assert!(!cancelled_batches.import_batches().is_empty());
    // What the group holds is what bytesImported says.
    let held: i64 = filter_all(&c, &group_of(&arn), None, None, None)
        .await
        .iter()
        .map(|r| r.2.len() as i64)
        .sum();
    assert_eq!(Some(held), frozen);
    // Cancelling it again, or a finished task, is an InvalidOperationException.
    assert_eq!(
        error(c.cancel_import_task().import_id(&id).send().await),
        ("InvalidOperationException".into(), 400)
    );
    let done = c
        .create_import_task()
        .import_source_arn(&arn)
        .import_role_arn(ROLE)
        .import_filter(ImportFilter::builder().end_event_time(0).build())
        .send()
        .await
        .unwrap();
    let task = wait_task(&c, done.import_id().unwrap()).await;
    assert_eq!(task.import_status(), Some(&TaskStatus::Completed));
    assert_eq!(task.import_statistics().unwrap().bytes_imported(), Some(0));
    assert_eq!(
        error(
            c.cancel_import_task()
                .import_id(done.import_id().unwrap())
                .send()
                .await
        ),
        ("InvalidOperationException".into(), 400)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_of_the_spec() {
    // Tasks wait IN_PROGRESS here until the test runs them.
    let s = server(false, true).await;
    let arn = store_with(&s, "errors", "trail-bucket").await;
    let c = logs(s.addr);
    let ct = cloudtrail(s.addr);
    let invalid = ("InvalidParameterException".to_string(), 400);
    let not_found = ("ResourceNotFoundException".to_string(), 400);
    let create = |source: &str, role: &str| {
        c.create_import_task()
            .import_source_arn(source)
            .import_role_arn(role)
    };
    // InvalidParameterException: start > end, a source that is no store, a bad role, a bad
    // limit, a foreign token, exclusive members together, an unsupported pattern.
    assert_eq!(
        error(
            create(&arn, ROLE)
                .import_filter(
                    ImportFilter::builder()
                        .start_event_time(2)
                        .end_event_time(1)
                        .build()
                )
                .send()
                .await
        ),
        invalid
    );
    assert_eq!(
        error(
            create("arn:aws:cloudtrail:us-east-1:123456789012:trail/t", ROLE)
                .send()
                .await
        ),
        invalid
    );
    assert_eq!(
        error(
            create(&arn, "arn:aws:iam::123456789012:user/u")
                .send()
                .await
        ),
        invalid
    );
    let limit = c.describe_import_tasks().limit(51).send().await;
    assert_eq!(
        limit.as_ref().err().and_then(|e| e.message()),
        Some("1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50")
    );
    assert_eq!(error(limit), invalid);
    assert_eq!(
        error(c.describe_import_tasks().next_token("bogus").send().await),
        invalid
    );
    assert_eq!(
        error(
            c.get_log_events()
                .log_group_name(group_of(&arn))
                .log_group_identifier(group_of(&arn))
                .log_stream_name("x")
                .send()
                .await
        ),
        invalid
    );
    // ResourceNotFoundException: unknown task, unknown store, unknown group and stream.
    assert_eq!(
        error(
            c.describe_import_task_batches()
                .import_id("nope")
                .send()
                .await
        ),
        not_found
    );
    assert_eq!(
        error(c.cancel_import_task().import_id("nope").send().await),
        not_found
    );
    assert_eq!(
        error(
            create(
                "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/00000000-0000-0000-0000-000000000000",
                ROLE
            )
            .send()
            .await
        ),
        not_found
    );
    let no_group = c
        .get_log_events()
        .log_group_name("aws/cloudtrail/none")
        .log_stream_name("x")
        .send()
        .await;
    assert_eq!(
        no_group.as_ref().err().and_then(|e| e.message()),
        Some("The specified log group does not exist.")
    );
    assert_eq!(error(no_group), not_found);
    assert_eq!(
        error(c.describe_import_tasks().import_id("nope").send().await),
        ("no error".into(), 200),
        "an unknown ID filter gives an empty list"
    );

    // One task in progress: a second one for the store is a ConflictException; the store
    // cannot be deleted, nor the group.
    let first = create(&arn, ROLE).send().await.unwrap();
    let first_id = first.import_id().unwrap().to_string();
    assert_eq!(
        error(create(&arn, ROLE).send().await),
        ("ConflictException".into(), 400)
    );
    let deleting = ct
        .delete_event_data_store()
        .event_data_store(&arn)
        .send()
        .await;
    assert_eq!(
        deleting.err().and_then(|e| e.code().map(str::to_string)),
        Some("EventDataStoreHasOngoingImportException".into())
    );
    assert_eq!(
        error(
            c.delete_log_group()
                .log_group_name(group_of(&arn))
                .send()
                .await
        ),
        ("OperationAbortedException".into(), 400)
    );
    // InvalidOperationException: a fourth task in progress, a store not ENABLED or
    // STOPPED_INGESTION, FilterLogEvents on an INFREQUENT_ACCESS group with
    // --strict-log-class.
    let mut others = Vec::new();
    for i in 0..3 {
        others.push(
            ct.create_event_data_store()
                .name(format!("other-{i}"))
                .termination_protection_enabled(false)
                .send()
                .await
                .unwrap()
                .event_data_store_arn
                .unwrap(),
        );
    }
    create(&others[0], ROLE).send().await.unwrap();
    create(&others[1], ROLE).send().await.unwrap();
    assert_eq!(
        error(create(&others[2], ROLE).send().await),
        ("InvalidOperationException".into(), 400)
    );
    ct.delete_event_data_store()
        .event_data_store(&others[2])
        .send()
        .await
        .unwrap();
    assert_eq!(
        error(create(&others[2], ROLE).send().await),
        ("InvalidOperationException".into(), 400)
    );
    let strict = c
        .filter_log_events()
        .log_group_name(group_of(&arn))
        .send()
        .await;
    assert_eq!(
        strict.as_ref().err().and_then(|e| e.message()).map(str::to_string),
        Some(format!(
            "The log group {} is of log-group-class INFREQUENT_ACCESS. FilterLogEvents is not supported for this log class.",
            group_of(&arn)
        ))
    );
    assert_eq!(error(strict), ("InvalidOperationException".into(), 400));
    // Once the task has run, the group can go.
    let engine = s.engine.clone();
    let ran = tokio::task::spawn_blocking(move || {
        engine
            .run_log_task(&first_id, &import_engine::TaskControl::default())
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(ran.status, import_engine::LogTaskStatus::Completed);
    c.delete_log_group()
        .log_group_name(group_of(&arn))
        .send()
        .await
        .unwrap();
}

/// Raw HTTP, for what the SDK hides.
fn raw(addr: SocketAddr, target: &str, body: &str) -> (u16, String) {
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
    (
        head.split(' ').nth(1).unwrap().parse().unwrap(),
        body.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_wire() {
    let s = server(false, false).await;
    // Errors carry a lower-case `message`; CloudTrail's an upper-case one.
    let (status, body) = raw(
        s.addr,
        "Logs_20140328.CancelImportTask",
        r#"{"importId":"nope"}"#,
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "ResourceNotFoundException");
    assert!(
        v["message"].is_string() && v.get("Message").is_none(),
        "{body}"
    );
    let (_, body) = raw(
        s.addr,
        "CloudTrail_20131101.GetImport",
        r#"{"ImportId":"nope"}"#,
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["Message"].is_string(), "{body}");
    // A member that is required, and a bound the SDKs do not check.
    let (status, body) = raw(s.addr, "Logs_20140328.CancelImportTask", "{}");
    assert_eq!(status, 400);
    assert!(
        body.contains("Value null at 'importId' failed to satisfy constraint"),
        "{body}"
    );
    let (_, body) = raw(
        s.addr,
        "Logs_20140328.DescribeImportTaskBatches",
        r#"{"importId":"x","limit":0}"#,
    );
    assert!(
        body.contains("Member must have value greater than or equal to 1"),
        "{body}"
    );
    // Patterns must match the whole value.
    let (_, body) = raw(
        s.addr,
        "Logs_20140328.CancelImportTask",
        r#"{"importId":"not valid!"}"#,
    );
    assert!(body.contains("InvalidParameterException"), "{body}");
    // Operations of the model this server does not serve, and foreign targets.
    let (status, body) = raw(s.addr, "Logs_20140328.PutLogEvents", "{}");
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    let (_, body) = raw(s.addr, "Logs_20140328.NoSuchOp", "{}");
    assert!(body.contains("UnknownOperationException"), "{body}");
    // Times are epoch milliseconds (integers).
    let (status, body) = raw(s.addr, "Logs_20140328.DescribeImportTasks", "{}");
    assert_eq!((status, body.as_str()), (200, r#"{"imports":[]}"#));
}
