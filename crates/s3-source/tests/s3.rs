//! The S3 source against a real S3 server on loopback: in-process s3s-fs by default, or the
//! server `S3_TEST_ENDPOINT` names (SeaweedFS in CI, MinIO or AWS by hand).

use import_engine::{
    CreateEventDataStore, Engine, EngineConfig, ImportStatus, OneBucket, RetentionPolicy,
    RunControl, Scope, StartImport,
};
use s3_source::{S3Options, S3Source};
use s3_test_server::TestS3;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use trail_discovery::{discover, LocalDirSource, ObjectSource, SourceErrorKind, TimeRange};
use trail_ingest::{ingest, CountingSink, FileTask, IngestOptions};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/trail-bucket")
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A log file of `n` small valid records.
fn log(n: usize) -> Vec<u8> {
    let recs: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"eventVersion":"1.08","eventTime":"2024-02-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"E{i}","eventID":"{i}"}}"#))
        .collect();
    gz(format!("{{\"Records\":[{}]}}", recs.join(",")).as_bytes())
}

fn source(s3: &TestS3, bucket: &str, max_keys: Option<i32>) -> S3Source {
    S3Source::from_config(
        bucket,
        s3.config(),
        &S3Options {
            max_keys,
            ..Default::default()
        },
    )
    .unwrap()
}

fn key(acct: &str, day: &str, stamp: &str, n: usize) -> String {
    format!("AWSLogs/o-abcdefghij/{acct}/CloudTrail/us-east-1/{day}/{acct}_CloudTrail_us-east-1_{stamp}_{n:016}.json.gz")
}

/// Every key and folder discovered, through the public walk.
fn walk(
    src: &dyn ObjectSource,
    range: TimeRange,
) -> (Vec<String>, trail_discovery::DiscoveryStats) {
    let mut keys = Vec::new();
    let walked = discover(src, "", &range, |found| {
        if let trail_discovery::Found::Folder(p) = found {
            keys.extend(p.objects.into_iter().map(|o| o.key));
        }
        std::ops::ControlFlow::<()>::Continue(())
    })
    .unwrap();
    (keys, walked.stats)
}

#[test]
fn pages_of_keys_and_of_folders_and_pruning() {
    let s3 = TestS3::start();
    let bucket = s3.create_bucket("pages");
    let mut objects = Vec::new();
    // 1,100 accounts of an organisation, one file each: 1,100 folders under one prefix.
    for a in 0..1100 {
        objects.push((
            key(
                &format!("{:012}", 100_000_000_000u64 + a),
                "2024/02/01",
                "20240201T0100Z",
                0,
            ),
            log(1),
        ));
    }
    // One day folder holding 1,200 files.
    for n in 0..1200 {
        objects.push((
            key("999999999999", "2024/02/02", "20240202T0100Z", n),
            log(1),
        ));
    }
    s3.put_many(&bucket, objects);
    let src = source(&s3, &bucket, Some(500));
    let (keys, stats) = walk(&src, TimeRange::default());
    assert_eq!(keys.len(), 2300);
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 2300, "no key listed twice across pages");
    assert_eq!(stats.prefixes_found, 1101);
    // The org folder lists in 3 pages of 500; the 1,200-file day in 3; every other folder in 1:
    // root, AWSLogs, org (3), then per account: account, CloudTrail, region, 2024, 02, day.
    assert_eq!(stats.list_calls, 1 + 1 + 1 + 1101 * 6);
    assert_eq!(src.list_calls(), 2 + 3 + 1101 * 5 + 1100 + 3);

    // A range of one day prunes the other day's folders without listing them.
    let before = src.list_calls();
    let day2 = TimeRange::new(
        Some("2024-02-02T00:00:00Z".parse().unwrap()),
        Some("2024-02-02T23:59:59Z".parse().unwrap()),
    );
    let (keys, stats) = walk(&src, day2);
    assert_eq!(keys.len(), 1200);
    assert_eq!(stats.prefixes_found, 1);
    // Each of the 1,100 accounts is walked down to its month, where the day is pruned.
    assert_eq!(src.list_calls() - before, 2 + 3 + 1101 * 5 + 3);
}

type Imported = (
    ImportStatus,
    import_engine::ImportStatistics,
    Vec<(String, String)>,
    usize,
);

/// Imports all of `src` with the engine into `dir/name.db`: the final status and statistics,
/// the failure entries (location with the bucket as `BUCKET`, type), and the events stored.
fn import_all(dir: &std::path::Path, name: &str, src: Arc<dyn ObjectSource>) -> Imported {
    let config = EngineConfig {
        resolver: Arc::new(OneBucket(src.clone())),
        retention: RetentionPolicy::KeepAll,
        background: false,
        ..Default::default()
    };
    let engine = Arc::new(Engine::open(dir.join(format!("{name}.db")), config).unwrap());
    let scope = Scope::new("123456789012", "us-east-1");
    let eds = engine
        .create_event_data_store(CreateEventDataStore::named(scope.clone(), "s"))
        .unwrap()
        .store;
    let import = engine
        .start_import(StartImport {
            scope: scope.clone(),
            destination: eds.arn,
            source_uri: format!("s3://{}/", src.bucket()),
            ..Default::default()
        })
        .unwrap();
    let done = engine
        .run_import(&import.id, &RunControl::default())
        .unwrap();
    let mut failures: Vec<(String, String)> = engine
        .list_import_failures(&scope, &import.id, None, 100)
        .unwrap()
        .items
        .into_iter()
        .map(|f| (f.location.replacen(src.bucket(), "BUCKET", 1), f.error_type))
        .collect();
    failures.sort();
    let events = engine
        .events(&import_engine::EventQuery {
            limit: 100_000,
            ..Default::default()
        })
        .unwrap()
        .len();
    (done.status, done.statistics, failures, events)
}

#[test]
fn statistics_equal_the_directory_import_of_the_same_bucket() {
    let s3 = TestS3::start();
    let bucket = s3.create_bucket("trail-bucket");
    s3.upload_dir(&bucket, &fixture());
    let dir = tempfile::tempdir().unwrap();
    let over_s3 = import_all(dir.path(), "s3", Arc::new(source(&s3, &bucket, None)));
    let local = import_all(
        dir.path(),
        "dir",
        Arc::new(LocalDirSource::new(fixture()).unwrap()),
    );
    assert_eq!(over_s3, local);
    assert_eq!(over_s3.0, ImportStatus::Failed);
    assert_eq!(over_s3.2.len(), 6);
}

#[test]
fn folder_markers_are_skipped() {
    let s3 = TestS3::start();
    let bucket = s3.create_bucket("markers");
    let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/";
    for marker in ["AWSLogs/", "AWSLogs/111122223333/CloudTrail/", day] {
        s3.put(&bucket, marker, b"");
    }
    s3.put(
        &bucket,
        &format!("{day}111122223333_CloudTrail_us-east-1_20240201T0100Z_AAAAAAAAAAAAAAAA.json.gz"),
        &log(3),
    );
    let src = source(&s3, &bucket, None);
    let (keys, stats) = walk(&src, TimeRange::default());
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(stats.files_found, 1);
    // The CloudTrail/ and day markers are listed in scope and skipped (AWSLogs/ is listed
    // where files are not looked at).
    assert_eq!(stats.folder_markers, 2);
}

#[test]
fn missing_bucket_and_wrong_credentials_are_clear_errors() {
    let s3 = TestS3::start();
    let missing = S3Source::from_config(
        "no-such-bucket-trailport",
        s3.config(),
        &S3Options::default(),
    )
    .unwrap();
    let err = missing.check().unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::NoSuchBucket, "{err}");
    assert!(err.message.contains("no-such-bucket-trailport"), "{err}");

    let bucket = s3.create_bucket("creds");
    let wrong = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(s3.region.clone()))
        .endpoint_url(&s3.endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            &s3.access_key,
            "not-the-secret",
            None,
            None,
            "test",
        ))
        .force_path_style(true)
        .build();
    let src = S3Source::from_config(&bucket, wrong, &S3Options::default()).unwrap();
    let err = src.check().unwrap_err();
    assert_eq!(err.kind, SourceErrorKind::AccessDenied, "{err}");
    assert!(
        err.message.contains("SignatureDoesNotMatch") || err.message.contains("AccessDenied"),
        "{err}"
    );
    assert!(source(&s3, &bucket, None).check().is_ok());
}

fn tasks_of(keys: &[String], size: usize) -> Vec<FileTask> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| FileTask {
            id: i as i64,
            key: k.clone(),
            size: size as u64,
        })
        .collect()
}

#[test]
fn an_object_deleted_between_list_and_get_is_a_failure_entry() {
    let s3 = TestS3::start();
    let bucket = s3.create_bucket("vanish");
    let keys: Vec<String> = (0..10)
        .map(|n| key("111122223333", "2024/02/01", "20240201T0100Z", n))
        .collect();
    s3.put_many(&bucket, keys.iter().map(|k| (k.clone(), log(2))).collect());
    let src = source(&s3, &bucket, None);
    let (listed, _) = walk(&src, TimeRange::default());
    assert_eq!(listed.len(), 10);
    s3.delete(&bucket, &listed[4]);
    let sink = std::sync::Mutex::new(Vec::new());
    type Seen = std::sync::Mutex<Vec<(i64, Option<(String, String)>)>>;
    // (error type, location) of a file's failure entry.
    struct S<'a>(&'a Seen);
    impl trail_ingest::Sink for S<'_> {
        type Error = ();
        fn file(&self, t: &FileTask, f: trail_ingest::ParsedFile) -> Result<(), ()> {
            self.0.lock().unwrap().push((
                t.id,
                f.failure.map(|x| (x.error_type.to_string(), x.location)),
            ));
            Ok(())
        }
    }
    let stats = ingest(
        &src,
        &tasks_of(&listed, log(2).len()),
        &IngestOptions::default(),
        &S(&sink),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(
        (stats.files, stats.events, stats.failed_entries),
        (10, 18, 1)
    );
    let got = sink.into_inner().unwrap();
    let failed: Vec<_> = got
        .iter()
        .filter_map(|(id, f)| f.clone().map(|f| (*id, f)))
        .collect();
    assert_eq!(
        failed,
        [(
            4,
            (
                "NoSuchKey".to_string(),
                format!("s3://{bucket}/{}", listed[4])
            )
        )]
    );
}

#[test]
fn failing_gets_are_retried_and_nothing_is_lost_or_doubled() {
    let s3 = TestS3::in_process();
    let bucket = s3.create_bucket("flaky");
    let keys: Vec<String> = (0..40)
        .map(|n| key("111122223333", "2024/02/01", "20240201T0100Z", n))
        .collect();
    s3.put_many(&bucket, keys.iter().map(|k| (k.clone(), log(3))).collect());
    s3.faults.fail_gets.store(6, Ordering::SeqCst);
    let src = source(&s3, &bucket, None);
    let sink = CountingSink::default();
    let stats = ingest(
        &src,
        &tasks_of(&keys, log(3).len()),
        &IngestOptions::default(),
        &sink,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(
        (stats.files, stats.events, stats.failed_entries),
        (40, 120, 0)
    );
    assert_eq!(sink.events.load(Ordering::SeqCst), 120);
    assert_eq!(
        src.get_calls(),
        40,
        "one GetObject per file from the reader"
    );
    assert_eq!(
        s3.faults.gets.load(Ordering::SeqCst),
        46,
        "the server saw six retries"
    );
    assert_eq!(s3.faults.fail_gets.load(Ordering::SeqCst), 0);
}

#[test]
fn denied_and_archived_objects_are_failure_entries_and_the_rest_imports() {
    let s3 = TestS3::in_process();
    let bucket = s3.create_bucket("perms");
    let day = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/";
    let names = ["ok-1", "denied", "ok-2", "archived", "ok-3"];
    let keys: Vec<String> = names
        .iter()
        .map(|n| format!("{day}111122223333_CloudTrail_us-east-1_20240201T0100Z_{n}.json.gz"))
        .collect();
    s3.put_many(&bucket, keys.iter().map(|k| (k.clone(), log(2))).collect());
    let src = source(&s3, &bucket, None);
    let engine_dir = tempfile::tempdir().unwrap();
    let (status, stats, failures, _) = import_all(engine_dir.path(), "t", Arc::new(src));
    assert_eq!(status, ImportStatus::Failed);
    assert_eq!(
        (
            stats.files_completed,
            stats.events_completed,
            stats.failed_entries
        ),
        (5, 6, 2)
    );
    let mut types: Vec<String> = failures.into_iter().map(|f| f.1).collect();
    types.sort();
    assert_eq!(types, ["AccessDenied", "InvalidObjectState"]);
}

#[test]
fn the_concurrent_fetch_path_is_what_ingest_uses() {
    let s3 = TestS3::start();
    let bucket = s3.create_bucket("fetch");
    let keys: Vec<String> = (0..64)
        .map(|n| key("111122223333", "2024/02/01", "20240201T0100Z", n))
        .collect();
    s3.put_many(&bucket, keys.iter().map(|k| (k.clone(), log(5))).collect());
    let src = S3Source::from_config(
        &bucket,
        s3.config(),
        &S3Options {
            concurrency: 8,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(src.fetch_concurrency(), 8);
    assert_eq!(
        src.list_concurrency(),
        8,
        "lists run as many at once as fetches"
    );
    let size = log(5).len() as u64;
    let objects: Vec<(String, u64)> = keys.iter().map(|k| (k.clone(), size)).collect();
    let mut seen = vec![false; keys.len()];
    src.fetch_many(&objects, &mut |_, _| Some(true), &mut |i, r| {
        assert_eq!(r.unwrap(), log(5));
        seen[i] = true;
        true
    });
    assert!(seen.iter().all(|s| *s));
    // Stopping after three results ends the fetch.
    let mut n = 0;
    src.fetch_many(&objects, &mut |_, _| Some(true), &mut |_, _| {
        n += 1;
        n < 3
    });
    assert_eq!(n, 3);
    // An admission that will not wait while objects are in flight gets them handed over
    // first: one object in flight at a time, every one delivered.
    let (mut asked, mut got) = (0, 0);
    let in_flight = std::cell::Cell::new(0);
    src.fetch_many(
        &objects,
        &mut |_, may_wait| {
            asked += 1;
            if !may_wait {
                return None;
            }
            assert_eq!(in_flight.get(), 0);
            in_flight.set(1);
            Some(true)
        },
        &mut |_, r| {
            assert!(r.is_ok());
            in_flight.set(0);
            got += 1;
            true
        },
    );
    assert_eq!(got, 64);
    assert!(asked >= 64);
    // An object over its limit is refused by its length, without its body being kept.
    let mut errors = Vec::new();
    src.fetch_many(
        &objects[..2]
            .iter()
            .map(|(k, _)| (k.clone(), size - 1))
            .collect::<Vec<_>>(),
        &mut |_, _| Some(true),
        &mut |_, r| {
            errors.push(r.unwrap_err().kind);
            true
        },
    );
    assert_eq!(
        errors,
        [SourceErrorKind::TooLarge, SourceErrorKind::TooLarge]
    );
}
