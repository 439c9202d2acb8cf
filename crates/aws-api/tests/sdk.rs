//! The server driven by the real AWS SDK for Rust over a loopback port, as users drive it.

use aws_sdk_cloudtrail::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, EventDataStoreStatus, ImportFailureStatus,
    ImportSource, ImportStatus, S3ImportSource,
};
use aws_sdk_cloudtrail::Client;
use import_engine::{DirResolver, Engine};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixture's expected statistics as a server import reports them into a store that keeps
/// `retention_days`: the committed figures, with EventsCompleted recounted here independently
/// (valid records whose eventTime is within the retention period; the rest are dropped).
fn expected_with_retention(retention_days: i64) -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let cutoff = chrono::Utc::now() - chrono::Duration::days(retention_days);
    let mut events = 0;
    let mut stack = vec![root().join("fixtures/trail-bucket")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if !path.to_string_lossy().contains("/CloudTrail/") {
                continue;
            }
            let mut text = Vec::new();
            let gz = std::fs::read(&path).unwrap();
            if flate2::read::MultiGzDecoder::new(gz.as_slice())
                .read_to_end(&mut text)
                .is_err()
            {
                continue;
            }
            let Ok(file) = serde_json::from_slice::<Value>(&text) else {
                continue;
            };
            for r in file["Records"].as_array().into_iter().flatten() {
                let ok = |k: &str| r[k].as_str().is_some_and(|s| !s.is_empty());
                let time = r["eventTime"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                let small = r.to_string().len() < 256 * 1024;
                if ok("eventVersion")
                    && ok("eventSource")
                    && ok("eventName")
                    && small
                    && time.is_some_and(|t| t >= cutoff)
                {
                    events += 1;
                }
            }
        }
    }
    v["ImportStatistics"]["EventsCompleted"] = events.into();
    v
}

fn expected() -> Value {
    expected_with_retention(3653)
}

struct Server {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// A server on a free loopback port, with `trail-bucket` (the fixture) as its one bucket.
async fn server(pace_ms: Option<u64>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(
        root().join("fixtures/trail-bucket"),
        buckets.join("trail-bucket"),
    )
    .unwrap();
    let engine = Arc::new(Engine::open(dir.path().join("t.db")).unwrap());
    let app = Arc::new(aws_api::App {
        engine,
        resolver: Arc::new(DirResolver { root: buckets }),
        account: "123456789012".into(),
        pace_per_file: pace_ms.map(Duration::from_millis),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, aws_api::router(app)).await });
    Server { addr, _dir: dir }
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
    let s = server(None).await;
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
    assert!(ts.secs() > 1_700_000_000);

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
    let s = server(Some(10)).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "imports").await;
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
    // Records older than ten years are dropped, not failed: the fixture's 2014 ones.
    let all_events = expected_with_retention(100_000)["ImportStatistics"]["EventsCompleted"]
        .as_i64()
        .unwrap();
    assert!(
        want["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
            < all_events
    );
    assert!(
        done.updated_timestamp.unwrap().as_secs_f64()
            >= done.created_timestamp.unwrap().as_secs_f64()
    );

    // Failures, two at a time.
    let mut failures = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_import_failures()
            .import_id(&id)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        let items = page.failures.unwrap();
        assert!(items.len() <= 2);
        failures.extend(items);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let mut got: Vec<Value> = failures
        .iter()
        .map(|f| serde_json::json!({"Location": f.location, "ErrorType": f.error_type}))
        .collect();
    got.sort_by_key(|v| v["Location"].as_str().unwrap().to_string());
    assert_eq!(Value::Array(got), want["Failures"]);
    assert!(failures
        .iter()
        .all(|f| f.status == Some(ImportFailureStatus::Failed) && f.last_updated_time.is_some()));

    // Retry: entries go RETRY, then FAILED again (the bucket did not change); nothing doubles.
    let retried = c.start_import().import_id(&id).send().await.unwrap();
    assert_eq!(retried.import_status, Some(ImportStatus::Initializing));
    let during = c
        .list_import_failures()
        .import_id(&id)
        .send()
        .await
        .unwrap()
        .failures
        .unwrap();
    assert!(
        during
            .iter()
            .any(|f| f.status == Some(ImportFailureStatus::Retry)),
        "{during:?}"
    );
    let (_, after) = wait(&c, &id).await;
    assert_eq!(after.import_status, Some(ImportStatus::Failed));
    assert_eq!(
        stats_json(after.import_statistics.as_ref().unwrap()),
        want["ImportStatistics"]
    );
    let after_failures = c
        .list_import_failures()
        .import_id(&id)
        .send()
        .await
        .unwrap()
        .failures
        .unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_mid_import_and_every_start_import_error() {
    let s = server(Some(40)).await;
    let c = client(s.addr, "us-east-1");
    let arn = create_store(&c, "stops").await;
    let id = c
        .start_import()
        .destinations(&arn)
        .import_source(source("s3://trail-bucket/"))
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    loop {
        let now = c.get_import().import_id(&id).send().await.unwrap();
        if now.import_statistics.unwrap().files_completed.unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asked = Instant::now();
    let stopped = c.stop_import().import_id(&id).send().await.unwrap();
    assert_eq!(stopped.import_status, Some(ImportStatus::Stopped));
    let files_then = stopped.import_statistics.unwrap().files_completed.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = c.get_import().import_id(&id).send().await.unwrap();
    assert_eq!(later.import_status, Some(ImportStatus::Stopped));
    let files_later = later.import_statistics.unwrap().files_completed.unwrap();
    assert!(
        files_later < 84 && files_later <= files_then + 4,
        "{files_then} then, {files_later} later"
    );
    assert!(asked.elapsed() < Duration::from_secs(1));
    // Stopping again returns it unchanged.
    assert_eq!(
        c.stop_import()
            .import_id(&id)
            .send()
            .await
            .unwrap()
            .import_status,
        Some(ImportStatus::Stopped)
    );
    // The retry resumes it to the end, with exactly the fixture's statistics.
    c.start_import().import_id(&id).send().await.unwrap();
    let (_, done) = wait(&c, &id).await;
    assert_eq!(
        stats_json(done.import_statistics.as_ref().unwrap()),
        expected()["ImportStatistics"]
    );

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
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("eventCategory")
                        .equals("ActivityAuditLog")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
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
    let s = server(None).await;
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
            ("Logs_20140328.DescribeImportTasks", "{}", "UnknownOperationException"),
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
            assert!(!v["Message"].as_str().unwrap().is_empty());
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
