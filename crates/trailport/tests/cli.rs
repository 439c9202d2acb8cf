//! The `trailport` binary as users run it: exit codes, `--json`, events, crash and resume.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The instant every command's clock stands at (`TRAILPORT_NOW`), so nothing depends on today.
const NOW: &str = "2025-01-01T00:00:00Z";

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailport"));
    // No test reaches past loopback: no instance metadata, no shared AWS configuration.
    cmd.env("TRAILPORT_NOW", NOW)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3");
    cmd
}

fn expected() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap(),
    )
    .unwrap()
}

/// Waits (at most 60 s) until `ready` holds, polling every few milliseconds.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what}: gave up after 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> PathBuf {
    root().join("fixtures/trail-bucket")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn json_output_is_exactly_the_get_import_shape() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = run(&[
        "import",
        fixture().to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "FAILED exits 1: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "CreatedTimestamp",
            "Destinations",
            "ImportId",
            "ImportSource",
            "ImportStatistics",
            "ImportStatus",
            "UpdatedTimestamp"
        ]
    );
    let id = v["ImportId"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert!(id
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase() || c == '-'));
    assert_eq!(v["ImportStatus"], "FAILED");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["ImportStatistics"], expected["ImportStatistics"]);
    assert_eq!(
        v["ImportSource"]["S3"]["S3LocationUri"],
        "s3://trail-bucket/"
    );
    assert_eq!(v["ImportSource"]["S3"].as_object().unwrap().len(), 3);
    let arn = v["Destinations"][0].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/"),
        "{arn}"
    );
    for t in ["CreatedTimestamp", "UpdatedTimestamp"] {
        assert_eq!(v[t], 1_735_689_600.0, "{t}: epoch seconds by TRAILPORT_NOW");
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let db = db.to_str().unwrap();
    // A clean part of the bucket completes: exit 0, and the human summary on stdout.
    let clean = fixture().join("AWSLogs/974349055189/CloudTrail");
    let out = run(&["import", clean.to_str().unwrap(), "--db", db]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ImportStatus      COMPLETED"), "{text}");
    assert!(
        text.contains("Source            s3://trail-bucket/AWSLogs/974349055189/CloudTrail/"),
        "{text}"
    );
    // Usage errors: exit 2 and a message on stderr. (The S3 one asks a loopback server.)
    let s3 = s3_test_server::TestS3::start();
    for args in [
        vec!["import", "/nonexistent/bucket", "--db", db],
        vec![
            "import",
            fixture().to_str().unwrap(),
            "--db",
            db,
            "--start",
            "last tuesday",
        ],
        vec![
            "import",
            fixture().to_str().unwrap(),
            "--db",
            db,
            "--start",
            "2024-02-01T00:00:00Z",
            "--end",
            "2024-01-01T00:00:00Z",
        ],
        vec![
            "import",
            "s3://no-such-bucket/prefix",
            "--db",
            db,
            "--endpoint-url",
            &s3.endpoint,
        ],
        vec!["import", "--db", db],
    ] {
        let out = bin()
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", &s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn events_prints_raw_records_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let db = db.to_str().unwrap();
    let out = run(&["import", fixture().to_str().unwrap(), "--db", db, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    // One of the fixture's own records, as make_fixtures.py wrote it.
    let out = run(&[
        "events",
        "--db",
        db,
        "--event-id",
        "00000000-0000-4000-8000-000000000005",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let want = r#"{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":"AIDAFIXTURE","accountId":"123456789012","arn":"arn:aws:iam::123456789012:user/fixture","userName":"fixture"},"eventTime":"2024-06-02T20:15:00Z","eventSource":"lambda.amazonaws.com","eventName":"Invoke","awsRegion":"us-west-2","sourceIPAddress":"198.51.100.7","userAgent":"fixture","requestParameters":null,"responseElements":null,"eventID":"00000000-0000-4000-8000-000000000005","eventType":"AwsApiCall","recipientAccountId":"123456789012"}"#;
    // The record is in the fixture twice: in its own file and in the multi-member one? No: only
    // the first three records are there, so exactly one line.
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{want}\n"));
    let out = run(&["events", "--db", db, "--limit", "3"]);
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 3);
    let out = run(&["events", "--db", db, "--event-id", "no-such-event"]);
    assert_eq!((out.status.code(), out.stdout.len()), (Some(1), 0));
}

#[test]
fn dry_run_counts_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let out = run(&[
        "import",
        fixture().to_str().unwrap(),
        "--dry-run",
        "--json",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap(),
    )
    .unwrap();
    for k in [
        "PrefixesFound",
        "FilesCompleted",
        "EventsCompleted",
        "FailedEntries",
    ] {
        assert_eq!(v[k], expected["ImportStatistics"][k], "{k}");
    }
    assert!(!db.exists());
}

#[test]
fn synth_prints_what_an_import_then_reports() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("synth-bucket");
    let out = run(&[
        "synth",
        "--out",
        bucket.to_str().unwrap(),
        "--size",
        "3MiB",
        "--seed",
        "7",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let synth = json(&out);
    let db = dir.path().join("t.db");
    let out = run(&[
        "import",
        bucket.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "synth buckets hold bad objects on purpose"
    );
    assert_eq!(json(&out)["ImportStatistics"], synth["Expected"]);
    assert_eq!(synth["Expected"]["FailedEntries"], 4);
}

/// An import held by its gate after its first batch of 5 files, on any machine.
fn gated_import(db: &Path, gate: &Path, extra: &[&str]) -> std::process::Child {
    std::fs::write(gate, b"").unwrap();
    bin()
        .args([
            "import",
            fixture().to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--json",
        ])
        .args(["--batch-files", "5", "--gate-file", gate.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Kills the importer with SIGKILL mid-run, then resumes at once: every event exactly once.
#[test]
fn killed_import_resumes_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let dbs = db.to_str().unwrap();
    let gate = dir.path().join("gate");
    let mut child = gated_import(&db, &gate, &[]);
    wait_until("the first batch", || progress(&db).is_some_and(|p| p.1 > 0));
    child.kill().unwrap();
    child.wait().unwrap();
    let (id, files_at_kill, status_at_kill) = progress(&db).unwrap();
    assert_eq!((files_at_kill, status_at_kill.as_str()), (5, "IN_PROGRESS"));
    std::fs::remove_file(&gate).unwrap();

    // Without --resume a new import is refused: the killed one is still ongoing.
    let out = run(&["import", fixture().to_str().unwrap(), "--db", dbs, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("--resume {id}")));
    // Resumed from another directory holding a bucket of the same name: refused.
    let elsewhere = dir.path().join("elsewhere/trail-bucket");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = run(&[
        "import",
        elsewhere.to_str().unwrap(),
        "--db",
        dbs,
        "--resume",
        &id,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("resume it from there"));

    // The killed process's claim is void at once: its process is gone.
    let started = Instant::now();
    let out = run(&[
        "import",
        fixture().to_str().unwrap(),
        "--db",
        dbs,
        "--json",
        "--resume",
        &id,
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let v = json(&out);
    assert_eq!(v["ImportId"], id.as_str());
    assert_eq!(v["ImportStatistics"], expected()["ImportStatistics"]);
    // Every event once: as many stored rows as the statistics say, each a distinct record.
    let (stored, distinct) = rusqlite_count(&db);
    assert_eq!(
        stored,
        expected()["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
    );
    assert_eq!(stored, distinct, "no record stored twice");
}

/// (import id, files completed, status) of the only import, read as another process would.
fn progress(db: &Path) -> Option<(String, i64, String)> {
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.query_row(
        "SELECT id, files_completed, status FROM imports ORDER BY rowid LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .ok()
}

/// (events stored, distinct (log file, record offset) pairs), read from the database.
fn rusqlite_count(db: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT f.key || ':' || e.offset) \
         FROM events e JOIN log_files l ON l.num = e.log_file \
         JOIN import_files f ON f.import_id = l.import_id AND f.file_no = l.file_no",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Ctrl-C (SIGINT) stops cleanly: status STOPPED, exit 130, and `--resume` finishes the import.
#[test]
fn ctrl_c_stops_cleanly_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let dbs = db.to_str().unwrap();
    let gate = dir.path().join("gate");
    let child = gated_import(&db, &gate, &[]);
    wait_until("the first batch", || progress(&db).is_some_and(|p| p.1 > 0));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["ImportStatus"], "STOPPED");
    assert_eq!(
        v["ImportStatistics"]["FilesCompleted"], 5,
        "nothing after the stop"
    );
    let id = v["ImportId"].as_str().unwrap();
    let out = run(&[
        "import",
        fixture().to_str().unwrap(),
        "--db",
        dbs,
        "--json",
        "--resume",
        id,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json(&out)["ImportStatistics"],
        expected()["ImportStatistics"]
    );
    assert_eq!(
        rusqlite_count(&db).0,
        expected()["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
    );
}

/// One CloudTrail call over raw HTTP; returns the JSON answer.
fn call(port: u16, op: &str, body: &str) -> Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: CloudTrail_20131101.{op}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    serde_json::from_str(resp.split_once("\r\n\r\n").unwrap().1).unwrap()
}

fn serve(db: &Path, buckets: &Path, port: u16, extra: &[&str]) -> std::process::Child {
    let child = spawn_server(db, buckets, port, extra);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// A server process, not waited for.
fn spawn_server(db: &Path, buckets: &Path, port: u16, extra: &[&str]) -> std::process::Child {
    let mut cmd = bin();
    cmd.args([
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--buckets-dir",
        buckets.to_str().unwrap(),
    ])
    .args(["--addr", &format!("127.0.0.1:{port}")])
    .args(extra)
    .stderr(Stdio::null());
    cmd.spawn().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server is killed (SIGKILL) mid-import; started again, it resumes the import, which ends
/// with exactly the events a clean run has: none lost, none twice.
#[test]
fn server_restart_mid_import_resumes_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(fixture(), buckets.join("trail-bucket")).unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let gate = dir.path().join("gate");
    std::fs::write(&gate, b"").unwrap();
    let gate_arg = gate.to_str().unwrap();
    let mut server = serve(
        &db,
        &buckets,
        port,
        &["--batch-files", "5", "--gate-file", gate_arg],
    );
    let eds = call(
        port,
        "CreateEventDataStore",
        r#"{"Name":"restart","RetentionPeriod":3653}"#,
    );
    let arn = eds["EventDataStoreArn"].as_str().unwrap().to_string();
    let started = call(
        port,
        "StartImport",
        &format!(
            r#"{{"Destinations":["{arn}"],"ImportSource":{{"S3":{{"S3LocationUri":"s3://trail-bucket/","S3BucketRegion":"us-east-1","S3BucketAccessRoleArn":"arn:aws:iam::123456789012:role/r"}}}}}}"#
        ),
    );
    let id = started["ImportId"].as_str().unwrap().to_string();
    let get = format!(r#"{{"ImportId":"{id}"}}"#);
    wait_until("the first batch", || {
        call(port, "GetImport", &get)["ImportStatistics"]["FilesCompleted"] != 0
    });
    server.kill().unwrap();
    server.wait().unwrap();
    let (_, files_at_kill, status_at_kill) = progress(&db).unwrap();
    assert_eq!((files_at_kill, status_at_kill.as_str()), (5, "IN_PROGRESS"));
    std::fs::remove_file(&gate).unwrap();

    let port = free_port();
    let mut server = serve(&db, &buckets, port, &[]);
    let mut done = Value::Null;
    wait_until("the resumed import", || {
        done = call(port, "GetImport", &get);
        done["ImportStatus"] != "IN_PROGRESS" && done["ImportStatus"] != "INITIALIZING"
    });
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(done["ImportStatus"], "FAILED");
    // What a store keeping ten years holds at NOW, from the fixture's independent figures.
    let want = expected();
    let cutoff = chrono::DateTime::parse_from_rfc3339(NOW).unwrap() - chrono::Duration::days(3653);
    let kept = want["EventTimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap()).unwrap() >= cutoff)
        .count() as i64;
    let stats = &done["ImportStatistics"];
    for k in [
        "PrefixesFound",
        "PrefixesCompleted",
        "FilesCompleted",
        "FailedEntries",
    ] {
        assert_eq!(stats[k], want["ImportStatistics"][k], "{k}");
    }
    assert_eq!(stats["EventsCompleted"], kept);
    let (stored, distinct) = rusqlite_count(&db);
    assert_eq!(stored, kept);
    assert_eq!(stored, distinct);
}

/// `trailport import s3://...` behaves exactly like the directory form of the same bucket.
#[test]
fn s3_import_equals_the_directory_import() {
    let s3 = s3_test_server::TestS3::start();
    let bucket = s3.create_bucket("trail-bucket");
    s3.upload_dir(&bucket, &fixture());
    let dir = tempfile::tempdir().unwrap();
    let s3_import = |args: &[&str]| {
        bin()
            .args(["import"])
            .args(args)
            .args(["--endpoint-url", &s3.endpoint, "--region", &s3.region])
            .env("AWS_ACCESS_KEY_ID", &s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap()
    };
    let db = dir.path().join("s3.db");
    let out = s3_import(&[
        &format!("s3://{bucket}/"),
        "--db",
        db.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let over_s3 = json(&out);
    let ddb = dir.path().join("dir.db");
    let local = json(&run(&[
        "import",
        fixture().to_str().unwrap(),
        "--db",
        ddb.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(over_s3["ImportStatistics"], local["ImportStatistics"]);
    assert_eq!(
        over_s3["ImportSource"]["S3"]["S3LocationUri"],
        format!("s3://{bucket}/")
    );
    assert_eq!(rusqlite_count(&db), rusqlite_count(&ddb));

    // An explicit prefix, as with a directory.
    let pdb = dir.path().join("prefix.db");
    let out = s3_import(&[
        &format!("s3://{bucket}/AWSLogs/974349055189/CloudTrail/"),
        "--db",
        pdb.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["ImportStatus"], "COMPLETED");

    // A missing bucket, and wrong credentials: a clear error and exit code 2.
    let out = s3_import(&["s3://no-such-bucket-here/", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("The bucket no-such-bucket-here does not exist"),
        "{err}"
    );
    let out = bin()
        .args([
            "import",
            &format!("s3://{bucket}/"),
            "--db",
            db.to_str().unwrap(),
            "--endpoint-url",
            &s3.endpoint,
        ])
        .env("AWS_ACCESS_KEY_ID", &s3.access_key)
        .env("AWS_SECRET_ACCESS_KEY", "wrong-secret")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Access to the bucket") && err.contains("was denied"),
        "{err}"
    );
}

/// `trailport serve --s3-endpoint` reads `S3LocationUri` buckets over S3.
#[test]
fn the_server_reads_buckets_over_s3() {
    let s3 = s3_test_server::TestS3::start();
    let bucket = s3.create_bucket("trail-bucket");
    s3.upload_dir(&bucket, &fixture());
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-buckets-here");
    std::fs::create_dir(&empty).unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let mut cmd = bin();
    cmd.args([
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--buckets-dir",
        empty.to_str().unwrap(),
    ])
    .args([
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--s3-endpoint",
        &s3.endpoint,
    ])
    .env("AWS_ACCESS_KEY_ID", &s3.access_key)
    .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
    .env("AWS_CONFIG_FILE", "/nonexistent")
    .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    .stderr(Stdio::null());
    let mut server = cmd.spawn().unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(10));
    }
    let arn = call(
        port,
        "CreateEventDataStore",
        r#"{"Name":"over-s3","RetentionPeriod":3653}"#,
    )["EventDataStoreArn"]
        .as_str()
        .unwrap()
        .to_string();
    let start = |uri: &str| {
        call(
            port,
            "StartImport",
            &format!(
                r#"{{"Destinations":["{arn}"],"ImportSource":{{"S3":{{"S3LocationUri":"{uri}","S3BucketRegion":"{}","S3BucketAccessRoleArn":"arn:aws:iam::123456789012:role/r"}}}}}}"#,
                s3.region
            ),
        )
    };
    let missing = start("s3://no-such-bucket-here/");
    assert_eq!(
        missing["__type"], "InvalidImportSourceException",
        "{missing}"
    );
    let id = start(&format!("s3://{bucket}/"))["ImportId"]
        .as_str()
        .unwrap()
        .to_string();
    let get = format!(r#"{{"ImportId":"{id}"}}"#);
    let done = loop {
        let v = call(port, "GetImport", &get);
        if v["ImportStatus"] == "FAILED" || v["ImportStatus"] == "COMPLETED" {
            break v;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "{v}");
        std::thread::sleep(Duration::from_millis(10));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    // A dry run with the same clock and retention counts the same.
    let dry = json(&run(&[
        "import",
        fixture().to_str().unwrap(),
        "--dry-run",
        "--json",
        "--retention-days",
        "3653",
    ]));
    for k in [
        "PrefixesFound",
        "FilesCompleted",
        "EventsCompleted",
        "FailedEntries",
    ] {
        assert_eq!(done["ImportStatistics"][k], dry[k], "{k}");
    }
}

#[test]
fn bench_reports_every_stage() {
    let out = run(&["bench", fixture().to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["Events"], expected["ImportStatistics"]["EventsCompleted"]);
    assert_eq!(v["Files"], expected["ImportStatistics"]["FilesCompleted"]);
    for stage in ["Wall", "List", "Read", "Inflate", "Parse", "Store"] {
        assert!(v["Seconds"][stage].as_f64().unwrap() > 0.0, "{stage}: {v}");
    }
    assert!(v["PeakRssMB"].as_f64().unwrap() > 1.0);
    assert!(v["MBPerSecond"].as_f64().unwrap() > 0.0);
}

/// An object that crashes the process is marked before it is read again, and the second time
/// it is a failure entry: a crash never makes every later start crash.
#[test]
fn an_object_that_crashes_the_import_twice_becomes_a_failure_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let dbs = db.to_str().unwrap();
    let killer = "20240602T2020Z";
    let import = |extra: &[&str]| {
        bin()
            .args(["import", fixture().to_str().unwrap(), "--db", dbs, "--json"])
            .args(["--abort-on-key", killer])
            .args(extra)
            .output()
            .unwrap()
    };
    let first = import(&[]);
    assert_eq!(first.status.code(), None, "the process died of the object");
    let (id, _, status) = progress(&db).unwrap();
    assert_eq!(status, "IN_PROGRESS");
    let second = import(&["--resume", &id]);
    assert_eq!(
        second.status.code(),
        None,
        "it died again, the object marked first"
    );
    let third = import(&["--resume", &id]);
    assert_eq!(
        third.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    let v = json(&third);
    let want = expected();
    // The killer file's records, counted from the file itself.
    let killer_path = walk_files(&fixture())
        .into_iter()
        .find(|p| p.to_string_lossy().contains(killer))
        .unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&killer_path).unwrap()),
        &mut text,
    )
    .unwrap();
    let records = serde_json::from_slice::<Value>(&text).unwrap()["Records"]
        .as_array()
        .unwrap()
        .len() as i64;
    let stats = &v["ImportStatistics"];
    assert_eq!(
        stats["FilesCompleted"],
        want["ImportStatistics"]["FilesCompleted"]
    );
    assert_eq!(
        stats["FailedEntries"].as_i64().unwrap(),
        want["ImportStatistics"]["FailedEntries"].as_i64().unwrap() + 1
    );
    assert_eq!(
        stats["EventsCompleted"].as_i64().unwrap(),
        want["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
            - records
    );
    let (stored, distinct) = rusqlite_count(&db);
    assert_eq!(stored, stats["EventsCompleted"].as_i64().unwrap());
    assert_eq!(stored, distinct);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (ty, msg): (String, String) = conn
        .query_row(
            "SELECT error_type, error_message FROM import_failures WHERE location LIKE ?1",
            [format!("%{killer}%")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(ty, "InternalFailure");
    assert!(msg.contains("ended twice"), "{msg}");
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A bucket of everything hostile a bucket can hold: gzip bombs, a 2 GB object, a link to
/// /dev/zero, a FIFO, a link out of the bucket, a dangling link; and three good files.
fn hostile_bucket(root: &Path) {
    use std::io::Write;
    let day = root.join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01");
    std::fs::create_dir_all(&day).unwrap();
    let name = |n: &str| {
        day.join(format!(
            "111122223333_CloudTrail_us-east-1_20240201T0100Z_{n}.json.gz"
        ))
    };
    // 300 MB of `0,` in a few hundred KB, eight times over.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = b"0,".repeat(1 << 19);
    for _ in 0..300 {
        e.write_all(&chunk).unwrap();
    }
    let bomb = e.finish().unwrap();
    for i in 0..8 {
        std::fs::write(name(&format!("bomb{i}")), &bomb).unwrap();
    }
    // 2 GB of junk (sparse: it costs no disk).
    std::fs::File::create(name("junk"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    std::os::unix::fs::symlink("/dev/zero", name("zero")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", name("escape")).unwrap();
    std::os::unix::fs::symlink(day.join("gone"), name("dangling")).unwrap();
    assert!(Command::new("mkfifo")
        .arg(name("fifo"))
        .status()
        .unwrap()
        .success());
    let good = std::fs::read(
        walk_files(&fixture().join("AWSLogs/974349055189/CloudTrail/sa-east-1"))[0].clone(),
    )
    .unwrap();
    for i in 0..3 {
        std::fs::write(name(&format!("good{i}")), &good).unwrap();
    }
}

/// Whatever the bucket holds, an import's peak RSS stays under 512 MB, with 2 parser threads
/// or 16; every hostile object is one failure entry (the FIFO is no object) and the good
/// files are imported; nothing hangs.
#[test]
fn memory_stays_bounded_on_a_hostile_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("hostile-bucket");
    hostile_bucket(&bucket);
    for threads in ["2", "16"] {
        let out = bin()
            .args(["bench", bucket.to_str().unwrap(), "--json"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json(&out);
        let rss = v["PeakRssMB"].as_f64().unwrap();
        assert!(rss < 512.0, "{threads} threads: peak RSS {rss} MB");
        assert_eq!(v["ImportStatus"], "FAILED");
        assert_eq!(v["Files"], 3 + 8 + 1 + 3, "{v}");
        assert_eq!(v["FailedEntries"], 8 + 1 + 3, "{v}");
    }
}

/// Two processes on one database: a server does not resume an import a live `trailport
/// import` runs, and both write (the server's calls, the import's batches) without a "database
/// is locked".
#[test]
fn two_processes_share_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let gate = dir.path().join("gate");
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(fixture(), buckets.join("trail-bucket")).unwrap();
    let importer = gated_import(&db, &gate, &[]);
    wait_until("the first batch", || progress(&db).is_some_and(|p| p.1 > 0));
    let owner = |db: &Path| -> String {
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row("SELECT owner FROM imports", [], |r| r.get(0))
            .unwrap()
    };
    let before = owner(&db);
    assert!(before.contains(&format!("/{}/", importer.id())), "{before}");
    let port = free_port();
    let mut server = serve(&db, &buckets, port, &[]);
    // The server answered a call, so it has looked for imports to resume: this one is alive.
    for i in 0..20 {
        let created = call(
            port,
            "CreateEventDataStore",
            &format!(r#"{{"Name":"side-{i}","RetentionPeriod":3653}}"#),
        );
        if i < 9 {
            assert!(created["EventDataStoreArn"].is_string(), "{created}");
        }
    }
    assert_eq!(owner(&db), before, "the server did not take the import");
    std::fs::remove_file(&gate).unwrap();
    // While the import writes its batches, the server writes too.
    let mut arns = Vec::new();
    let listed = call(port, "ListEventDataStores", "{}");
    for e in listed["EventDataStores"].as_array().unwrap() {
        arns.push(e["EventDataStoreArn"].as_str().unwrap().to_string());
    }
    for (i, arn) in arns.iter().cycle().take(40).enumerate() {
        let updated = call(
            port,
            "UpdateEventDataStore",
            &format!(
                r#"{{"EventDataStore":"{arn}","RetentionPeriod":{}}}"#,
                3000 + i
            ),
        );
        assert!(
            updated["EventDataStoreArn"].is_string()
                || updated["__type"] == "EventDataStoreHasOngoingImportException",
            "{updated}"
        );
    }
    let out = importer.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json(&out)["ImportStatistics"],
        expected()["ImportStatistics"]
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let (stored, distinct) = rusqlite_count(&db);
    assert_eq!(
        stored,
        expected()["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
    );
    assert_eq!(stored, distinct);
}

/// Crashes an import (the command line, then a server) at seeded random points, many times,
/// resuming after each: right after a random commit, with the next files read, parsed and
/// waiting in the pipeline. The end is the same store as an uninterrupted run: the same
/// records, byte for byte, none twice.
#[test]
fn crashed_at_random_points_the_store_ends_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = fixture();
    let clean = dir.path().join("clean.db");
    run(&[
        "import",
        bucket.to_str().unwrap(),
        "--db",
        clean.to_str().unwrap(),
    ]);
    let want = records(&clean);
    assert_eq!(
        want.len() as i64,
        expected()["ImportStatistics"]["EventsCompleted"]
            .as_i64()
            .unwrap()
    );
    // A small LCG: the crash points are the same on every run of the test.
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + (seed >> 33) % n
    };
    // The command line: 3 files a commit, a crash after 1 to 4 commits, until it ends.
    let db = dir.path().join("cli.db");
    let dbs = db.to_str().unwrap();
    let mut crashes = 0;
    loop {
        assert!(crashes < 200, "never finished");
        let after = next(4).to_string();
        let mut args = vec![
            "import",
            bucket.to_str().unwrap(),
            "--db",
            dbs,
            "--batch-files",
            "3",
        ];
        args.extend(["--abort-after-commits", after.as_str()]);
        let resume = progress(&db).map(|p| p.0);
        if let Some(id) = &resume {
            args.extend(["--resume", id.as_str()]);
        }
        let out = bin().args(&args).output().unwrap();
        match out.status.code() {
            None => crashes += 1,
            Some(0 | 1) => break,
            other => panic!("{other:?}: {}", String::from_utf8_lossy(&out.stderr)),
        }
    }
    assert!(crashes >= 5, "only {crashes} crashes");
    assert_eq!(
        records(&db),
        want,
        "the command line after {crashes} crashes"
    );

    // A server: it resumes the import each time it starts, and crashes again.
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(&bucket, buckets.join("trail-bucket")).unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let mut server = serve(
        &db,
        &buckets,
        port,
        &["--batch-files", "3", "--abort-after-commits", "2"],
    );
    // The server keeps what its store's ten years reach (from TRAILPORT_NOW): the same as an
    // uninterrupted command-line import with that retention.
    let clean_ten = dir.path().join("clean-ten-years.db");
    run(&[
        "import",
        bucket.to_str().unwrap(),
        "--db",
        clean_ten.to_str().unwrap(),
        "--retention-days",
        "3653",
    ]);
    let want_ten = records(&clean_ten);
    assert!(want_ten.len() < want.len());
    let arn = call(
        port,
        "CreateEventDataStore",
        r#"{"Name":"crashes","RetentionPeriod":3653}"#,
    )["EventDataStoreArn"]
        .as_str()
        .unwrap()
        .to_string();
    let id = call(
        port,
        "StartImport",
        &format!(r#"{{"Destinations":["{arn}"],"ImportSource":{{"S3":{{"S3LocationUri":"s3://trail-bucket/","S3BucketRegion":"us-east-1","S3BucketAccessRoleArn":"arn:aws:iam::123456789012:role/r"}}}}}}"#),
    )["ImportId"]
        .as_str()
        .unwrap()
        .to_string();
    let get = format!(r#"{{"ImportId":"{id}"}}"#);
    let mut server_crashes = 0;
    loop {
        assert!(server_crashes < 200, "never finished");
        let ended = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = server.try_wait().unwrap() {
                break Some(status);
            }
            let answer = progress(&db).map(|p| p.2);
            if answer
                .as_deref()
                .is_some_and(|s| s != "IN_PROGRESS" && s != "INITIALIZING")
            {
                break None;
            }
            assert!(
                Instant::now() < ended,
                "the server neither crashed nor finished"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let Some(_) = status else { break };
        server_crashes += 1;
        let after = next(4).to_string();
        server = spawn_server(
            &db,
            &buckets,
            free_port(),
            &["--batch-files", "3", "--abort-after-commits", &after],
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(server_crashes >= 5, "only {server_crashes} crashes");
    let (_, _, status) = progress(&db).unwrap();
    assert!(status == "COMPLETED" || status == "FAILED", "{status}");
    assert_eq!(
        records(&db),
        want_ten,
        "the server after {server_crashes} crashes of {id}"
    );
    drop(get);
}

/// Every stored record, with the key of its file, sorted: the store's content, byte for byte.
fn records(db: &Path) -> Vec<String> {
    let out = run(&[
        "events",
        "--db",
        db.to_str().unwrap(),
        "--limit",
        "100000000",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// `logs-import` copies the store into its group; a process killed mid-way is finished by
/// `--resume` with no event written twice; `logs filter` and `logs get` read the group back,
/// byte for byte.
#[test]
fn logs_import_survives_a_crash_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");
    let db = dir.path().join("t.db");
    let db_s = db.to_str().unwrap();
    let out = run(&[
        "synth",
        "--out",
        bucket.to_str().unwrap(),
        "--size",
        "2MiB",
        "--days",
        "2",
        "--clean",
    ]);
    assert!(out.status.success());
    let out = run(&["import", bucket.to_str().unwrap(), "--db", db_s]);
    assert_eq!(out.status.code(), Some(0));
    let events = run(&["events", "--db", db_s, "--limit", "1000000"]);
    let mut want: Vec<&[u8]> = events.stdout.split(|b| *b == b'\n').collect();
    want.retain(|l| !l.is_empty());
    want.sort();
    assert!(want.len() > 500);

    // The first run dies right after its second batch.
    let crashed = run(&["logs-import", "--db", db_s, "--abort-after-batches", "2"]);
    assert!(!crashed.status.success());
    let id: String = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT id FROM log_tasks", [], |r| r.get(0))
            .unwrap()
    };
    // A new task of the store is refused while that one is in progress ...
    let refused = run(&["logs-import", "--db", db_s]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains(&format!("--resume {id}")));
    // ... and --resume finishes it.
    let out = run(&["logs-import", "--db", db_s, "--resume", &id, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let task = json(&out);
    assert_eq!(task["importStatus"], "COMPLETED");
    assert_eq!(task["importId"], id.as_str());
    let bytes: usize = want.iter().map(|l| l.len()).sum();
    assert_eq!(task["importStatistics"]["bytesImported"], bytes);

    let filtered = run(&["logs", "filter", "--db", db_s]);
    assert!(filtered.status.success());
    let mut got: Vec<&[u8]> = filtered.stdout.split(|b| *b == b'\n').collect();
    got.retain(|l| !l.is_empty());
    got.sort();
    assert_eq!(got.len(), want.len(), "every event once, none twice");
    assert!(got == want, "the messages are the records byte for byte");

    // One stream through `logs get`, and a pattern through `logs filter`.
    let first: Value = serde_json::from_slice(want[0]).unwrap();
    let stream = format!(
        "{}_CloudTrail_{}",
        first["recipientAccountId"].as_str().unwrap(),
        first["awsRegion"].as_str().unwrap()
    );
    let in_stream = want
        .iter()
        .filter(|l| {
            let v: Value = serde_json::from_slice(l).unwrap();
            format!(
                "{}_CloudTrail_{}",
                v["recipientAccountId"].as_str().unwrap(),
                v["awsRegion"].as_str().unwrap()
            ) == stream
        })
        .count();
    let got = run(&["logs", "get", "--db", db_s, "--stream", &stream]);
    assert_eq!(
        got.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        in_stream
    );
    let name = first["eventName"].as_str().unwrap();
    let named = want
        .iter()
        .filter(|l| serde_json::from_slice::<Value>(l).unwrap()["eventName"] == name)
        .count();
    let pattern = format!("{{ $.eventName = \"{name}\" }}");
    let got = run(&["logs", "filter", "--db", db_s, "--pattern", &pattern]);
    assert_eq!(
        got.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        named
    );
    let groups = run(&["logs", "groups", "--db", db_s]);
    let line = String::from_utf8(groups.stdout).unwrap();
    assert!(
        line.starts_with("aws/cloudtrail/") && line.contains("\tINFREQUENT_ACCESS\t"),
        "{line}"
    );
}

/// Rows of every finished Parquet file under `dir` (temporary `_…` files skipped, as query
/// engines skip them), read with the `parquet` crate's reader: (partition folder, eventjson).
fn parquet_rows(dir: &Path) -> Vec<(String, String)> {
    use arrow_array::{Array, StringArray};
    let mut rows = Vec::new();
    for path in walk_files(dir) {
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.starts_with('_') || !name.ends_with(".parquet") {
            continue;
        }
        let folder = path
            .parent()
            .unwrap()
            .strip_prefix(dir)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let file = std::fs::File::open(&path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let json: &StringArray = batch
                .column_by_name("eventjson")
                .unwrap()
                .as_any()
                .downcast_ref()
                .unwrap();
            for i in 0..json.len() {
                rows.push((folder.clone(), json.value(i).to_string()));
            }
        }
    }
    rows.sort();
    rows
}

/// Three `convert --shard I/3` processes, one of them killed in the middle of a file and run
/// again, write every event of the bucket exactly once: the rows an uninterrupted single
/// conversion writes, and as many as the import stores.
#[test]
fn a_killed_shard_run_again_converts_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let out = run(&[
        "convert",
        fixture().to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
        "--json",
    ]);
    // The fixture's bad objects are failure entries: exit code 1, as the import's.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = json(&out);
    let stored = expected()["ImportStatistics"]["EventsCompleted"]
        .as_u64()
        .unwrap();
    assert_eq!(summary["Events"], stored);
    let want = parquet_rows(&whole);
    assert_eq!(want.len() as u64, stored);

    let sharded = dir.path().join("sharded");
    let shard = |i: u32, extra: &[&str]| {
        bin()
            .args([
                "convert",
                fixture().to_str().unwrap(),
                "--out",
                sharded.to_str().unwrap(),
                "--shard",
                &format!("{i}/3"),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let killed = shard(1, &["--abort-after-files", "1"]);
    assert!(
        killed.status.code().is_none(),
        "the shard should have died: {}",
        String::from_utf8_lossy(&killed.stderr)
    );
    let left: Vec<PathBuf> = walk_files(&sharded)
        .into_iter()
        .filter(|p| p.to_str().unwrap().ends_with(".tmp"))
        .collect();
    assert_eq!(left.len(), 1, "the dead run's temporary file");
    for i in 0..3 {
        let out = shard(i, &[]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(parquet_rows(&sharded), want);
    assert!(walk_files(&sharded)
        .iter()
        .all(|p| !p.to_str().unwrap().ends_with(".tmp")));

    // The same rows out of a store.
    let db = dir.path().join("t.db");
    run(&[
        "import",
        fixture().to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let exported = dir.path().join("exported");
    let out = run(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parquet_rows(&exported), want);
    // The DDL names every column once and the partition keys.
    let ddl = run(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        "s3://lake/cloudtrail",
        "--print-ddl",
        "athena",
    ]);
    let ddl = String::from_utf8(ddl.stdout).unwrap();
    assert!(ddl.contains("`eventjson` string"), "{ddl}");
    assert!(
        ddl.contains("'projection.region.values' = 'ap-southeast-2,"),
        "{ddl}"
    );
    assert!(ddl.contains("'storage.location.template' = 's3://lake/cloudtrail/account=${account}/region=${region}/date=${date}'"), "{ddl}");
}

/// Every file under `root` as an object would be keyed under `prefix`, with its bytes, in key
/// order.
fn dir_objects(root: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walk_files(root)
        .into_iter()
        .map(|p| {
            let key = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
            (format!("{prefix}{key}"), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// `convert` and `export` into an S3 prefix: multipart uploads (small parts, so that the
/// larger files take several) leave exactly the objects, byte for byte, that the same
/// commands write into a directory.
#[test]
fn s3_output_holds_the_files_a_directory_gets() {
    let s3 = s3_test_server::TestS3::start();
    let source = s3.create_bucket("trail-bucket");
    s3.upload_dir(&source, &fixture());
    let lake = s3.create_bucket("lake");
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    run(&[
        "convert",
        fixture().to_str().unwrap(),
        "--out",
        local.to_str().unwrap(),
    ]);
    let with_s3 = |args: &[&str]| {
        bin()
            .args(args)
            .args(["--endpoint-url", &s3.endpoint, "--region", &s3.region])
            .args(["--part-size", "5MiB"])
            .env("AWS_ACCESS_KEY_ID", &s3.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &s3.secret_key)
            .output()
            .unwrap()
    };
    // From the bucket over S3 into another bucket over S3.
    let out = with_s3(&[
        "convert",
        &format!("s3://{source}/"),
        "--out",
        &format!("s3://{lake}/cloudtrail"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Names differ only by the bucket each run read (a unit is named after its folder's
    // location): the same bytes in the same folders.
    let folders_and_bytes = |objects: Vec<(String, Vec<u8>)>| {
        let mut v: Vec<(String, Vec<u8>)> = objects
            .into_iter()
            .map(|(k, b)| (k.rsplit_once('/').unwrap().0.to_string(), b))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        folders_and_bytes(s3.objects(&lake, "cloudtrail/")),
        folders_and_bytes(dir_objects(&local, "cloudtrail/"))
    );
    // A file larger than a part goes up in several parts (5 MiB, the least S3 takes).
    let synth = dir.path().join("synth");
    let out = run(&[
        "synth",
        "--out",
        synth.to_str().unwrap(),
        "--size",
        "30MiB",
        "--clean",
        "--days",
        "1",
        "--accounts",
        "1",
        "--regions",
        "1",
        "--seed",
        "3",
    ]);
    assert!(out.status.success());
    let big_local = dir.path().join("big");
    run(&[
        "convert",
        synth.to_str().unwrap(),
        "--out",
        big_local.to_str().unwrap(),
    ]);
    let out = with_s3(&[
        "convert",
        synth.to_str().unwrap(),
        "--out",
        &format!("s3://{lake}/big/"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And a store exported into S3.
    let db = dir.path().join("t.db");
    run(&[
        "import",
        synth.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let exported = dir.path().join("exported");
    run(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        exported.to_str().unwrap(),
    ]);
    let out = with_s3(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        &format!("s3://{lake}/exported"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let big = s3.objects(&lake, "big/");
    assert!(
        big.iter().any(|(_, b)| b.len() > 5 << 20),
        "a file of several parts"
    );
    assert_eq!(big, dir_objects(&big_local, "big/"));
    assert_eq!(
        s3.objects(&lake, "exported/"),
        dir_objects(&exported, "exported/")
    );
}
