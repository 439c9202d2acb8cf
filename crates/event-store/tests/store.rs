//! The store through its public API, on real SQLite files.

use event_store::{
    BillingMode, EventDataStoreStatus, EventQuery, EventRow, FailureRow, FailureStatus, FileWrite,
    ImportFilter, ImportStatus, LogBytes, NewEventDataStore, NewImport, Store, StoreError, Tag,
};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    eds: i64,
    import: String,
}

/// The run that owns the test's import.
const OWNER: &str = "run-1";
const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/eds-1";

fn new_eds(id: &str, arn: &str, name: &str) -> NewEventDataStore {
    NewEventDataStore {
        id: id.into(),
        arn: arn.into(),
        name: name.into(),
        status: EventDataStoreStatus::Enabled,
        retention_days: 366,
        termination_protection: true,
        multi_region: true,
        organization: false,
        billing_mode: BillingMode::ExtendableRetention,
        details: "{}".into(),
        now_ms: 1_000,
    }
}

fn new_import(id: &str, eds_num: i64, now_ms: i64) -> NewImport {
    NewImport {
        id: id.into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        destination: ARN.into(),
        eds_num: Some(eds_num),
        source_uri: "s3://b/".into(),
        now_ms,
        ..Default::default()
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Store::open(&path).unwrap();
    let eds = store
        .create_event_data_store(&new_eds("eds-1", ARN, "s"))
        .unwrap();
    let import = store
        .create_import(&new_import("imp-1", eds.num, 2_000))
        .unwrap();
    assert!(store.claim_import(&import.id, OWNER, 0, i64::MAX).unwrap());
    for (prefix, files) in [
        (
            "p1/",
            vec![("p1/a".to_string(), 10), ("p1/b".to_string(), 20)],
        ),
        ("p2/", vec![("p2/c".to_string(), 30)]),
    ] {
        assert!(store
            .add_prefix(&import.id, OWNER, prefix, &files, 3_000)
            .unwrap());
    }
    assert!(store.finish_discovery(&import.id, OWNER, 3_000).unwrap());
    Setup {
        _dir: dir,
        path,
        store,
        eds: eds.num,
        import: import.id,
    }
}

const STRINGS: &[&str] = &[
    "ec2.amazonaws.com",
    "RunInstances",
    "StopInstances",
    "us-east-1",
];
const TEXT: &str = r#"{"Records":[{"eventID":"e1","x":1},{"eventID":"e2","x":"two"}]}"#;

fn rows() -> Vec<EventRow> {
    let spans = [(12usize, 22usize), (35, 26)];
    assert_eq!(&TEXT[12..34], r#"{"eventID":"e1","x":1}"#);
    assert_eq!(&TEXT[35..61], r#"{"eventID":"e2","x":"two"}"#);
    spans
        .iter()
        .enumerate()
        .map(|(i, &(offset, len))| EventRow {
            offset: offset as u32,
            len: len as u32,
            time_ms: 1000 * i as i64,
            source: 0,
            name: 1 + i as u32,
            region: Some(3),
            account: None,
        })
        .collect()
}

#[test]
fn migrations_apply_once_and_refuse_a_newer_schema() {
    let s = setup();
    assert_eq!(s.store.schema_version().unwrap(), 8);
    drop(s.store);
    let again = Store::open(&s.path).unwrap();
    assert_eq!(again.schema_version().unwrap(), 8);
    assert_eq!(again.event_data_stores("arn:", 0, 10).unwrap().len(), 1);
    drop(again);
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&s.path),
        Err(StoreError::NewerSchema {
            found: 99,
            known: 8
        })
    ));
    assert!(matches!(
        Store::open_read_only(&s.path),
        Err(StoreError::NewerSchema { .. })
    ));
}

/// The first schema kept tags inside the store's settings; the migration moves them out.
#[test]
fn tags_of_the_first_schema_move_to_their_table() {
    // A database of the first schema: today's, with migrations 2 to 8 taken back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE log_files DROP COLUMN segment; ALTER TABLE log_files DROP COLUMN seg_offset; \
         ALTER TABLE log_files DROP COLUMN gz_len; DROP TABLE log_segments; \
         ALTER TABLE events ADD COLUMN event_id TEXT; \
         DROP TABLE suspended_indexes; DROP TABLE query_rows; DROP TABLE query_stores; DROP TABLE queries; \
         DROP TABLE log_events; DROP TABLE log_streams; DROP TABLE log_groups; \
         DROP TABLE log_task_batches; DROP TABLE log_tasks; DROP INDEX events_by_time; \
         DROP TABLE tags; ALTER TABLE imports DROP COLUMN owner; \
         ALTER TABLE imports DROP COLUMN lease_until_ms; \
         ALTER TABLE imports DROP COLUMN source_root; \
         ALTER TABLE imports DROP COLUMN dispatched_to; \
         ALTER TABLE import_failures DROP COLUMN folder; PRAGMA user_version = 1;",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO event_data_stores VALUES (1, 'x', 'arn:x', 'x', 'ENABLED', 7, 0, 1, 0, \
         'EXTENDABLE_RETENTION_PRICING', ?1, 0, 0)",
        [r#"{"TagsList":[{"Key":"team","Value":"sec"},{"Key":"bare"}]}"#],
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.tags("arn:x").unwrap(),
        [
            Tag {
                key: "team".into(),
                value: Some("sec".into())
            },
            Tag {
                key: "bare".into(),
                value: None
            }
        ]
    );
}

#[test]
fn a_read_only_file_opens_for_reading() {
    let s = setup();
    drop(s.store);
    let mut perms = std::fs::metadata(&s.path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&s.path, perms).unwrap();
    let ro = Store::open_read_only(&s.path).unwrap();
    assert_eq!(ro.import(&s.import).unwrap().unwrap().id, s.import);
    assert_eq!(
        ro.events(&EventQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap(),
        []
    );
}

#[test]
fn event_data_stores_are_found_by_arn_id_or_name_and_listed_by_arn_prefix() {
    let s = setup();
    let other = "arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/eds-2";
    s.store
        .create_event_data_store(&new_eds("eds-2", other, "t"))
        .unwrap();
    let mine = s
        .store
        .event_data_stores("arn:aws:cloudtrail:us-east-1:123456789012:", 0, 10)
        .unwrap();
    assert_eq!(mine.len(), 1);
    let eds = &mine[0];
    assert_eq!((eds.arn.as_str(), eds.created_ms), (ARN, 1_000));
    for key in [ARN, "eds-1", "s"] {
        assert_eq!(s.store.event_data_store(key).unwrap().as_ref(), Some(eds));
    }
    assert_eq!(s.store.event_data_store("nope").unwrap(), None);
    // Pages by row number.
    let all = s.store.event_data_stores("arn:aws:", 0, 1).unwrap();
    assert_eq!(all.len(), 1);
    let rest = s
        .store
        .event_data_stores("arn:aws:", all[0].num, 10)
        .unwrap();
    assert_eq!(
        rest.iter().map(|e| e.arn.as_str()).collect::<Vec<_>>(),
        [other]
    );
    let mut changed = eds.clone();
    changed.status = EventDataStoreStatus::PendingDeletion;
    changed.billing_mode = BillingMode::FixedRetention;
    s.store.update_event_data_store(&changed, 5_000).unwrap();
    let read = s.store.event_data_store("eds-1").unwrap().unwrap();
    assert_eq!(
        (read.status, read.billing_mode, read.updated_ms),
        (
            EventDataStoreStatus::PendingDeletion,
            BillingMode::FixedRetention,
            5_000
        )
    );
}

#[test]
fn tags_are_added_replaced_and_removed_by_key() {
    let s = setup();
    let t = |k: &str, v: Option<&str>| Tag {
        key: k.into(),
        value: v.map(String::from),
    };
    s.store
        .add_tags(ARN, &[t("a", Some("1")), t("b", None)])
        .unwrap();
    s.store
        .add_tags(ARN, &[t("a", Some("2")), t("c", Some("3"))])
        .unwrap();
    assert_eq!(
        s.store.tags(ARN).unwrap(),
        [t("a", Some("2")), t("b", None), t("c", Some("3"))]
    );
    s.store.remove_tags(ARN, &["b", "absent"]).unwrap();
    assert_eq!(
        s.store.tags(ARN).unwrap(),
        [t("a", Some("2")), t("c", Some("3"))]
    );
    assert_eq!(s.store.tags("arn:other").unwrap(), []);
}

#[test]
fn a_file_is_written_exactly_once_and_read_back_byte_exact() {
    let mut s = setup();
    let gzipped = gz(TEXT.as_bytes());
    let pending = s.store.pending_files(&s.import, -1, 10).unwrap();
    assert_eq!(
        pending.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        ["p1/a", "p1/b", "p2/c"]
    );
    commit_file(&mut s, pending[0].file_no, LogBytes::Held(&gzipped));
    // The same file again (a replayed batch) changes nothing.
    commit_file(&mut s, pending[0].file_no, LogBytes::Held(&gzipped));
    let import = s.store.import(&s.import).unwrap().unwrap();
    assert_eq!(import.statistics.files_completed, 1);
    assert_eq!(import.statistics.events_completed, 2);
    assert_eq!(import.statistics.prefixes_completed, 0);
    assert_eq!(import.statistics.prefixes_found, 2);
    let events = s
        .store
        .events(&EventQuery {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].raw, br#"{"eventID":"e1","x":1}"#);
    assert_eq!(events[1].raw, br#"{"eventID":"e2","x":"two"}"#);
    assert_eq!(
        (events[1].source.as_str(), events[1].name.as_str()),
        ("ec2.amazonaws.com", "StopInstances")
    );
    assert_eq!(
        (events[1].region.as_deref(), events[1].account.as_deref()),
        (Some("us-east-1"), None)
    );
    let after = s
        .store
        .events(&EventQuery {
            after_num: events[0].num,
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(
        (after[0].key.as_str(), after[0].num),
        ("p1/a", events[1].num)
    );
    assert_eq!(s.store.pending_files(&s.import, -1, 10).unwrap().len(), 2);
    assert_eq!(s.store.event_count(Some(s.eds)).unwrap(), 2);
}

/// Commits the import's first pending file, holding `TEXT`'s two events, with its bytes `gz`.
fn commit_first_file(s: &mut Setup, gz: LogBytes<'_>) {
    let first = s.store.pending_files(&s.import, -1, 10).unwrap()[0].file_no;
    commit_file(s, first, gz);
}

/// Commits file `file_no`, holding `TEXT`'s two events, with its bytes `gz`.
fn commit_file(s: &mut Setup, file_no: i64, gz: LogBytes<'_>) {
    let rows = rows();
    let write = FileWrite {
        file_no,
        gz,
        events: &rows,
        strings: STRINGS,
        failure: None,
    };
    assert!(s
        .store
        .write_files(&s.import, OWNER, s.eds, &[write], 4_000)
        .unwrap());
}

#[test]
fn bytes_appended_to_a_segment_are_read_back_byte_exact() {
    let mut s = setup();
    let gzipped = gz(TEXT.as_bytes());
    let segment = s.store.new_segment(&s.import, 3_500).unwrap();
    let segment_file = s
        .path
        .with_file_name("t.db-logs")
        .join(format!("{:08}.seg", segment.num()));
    // The segment begins with its header (its database's token).
    let head = std::fs::read(&segment_file).unwrap();
    assert!(head.starts_with(b"trailport log segment "), "{head:?}");
    let base = head.len() as u64;
    // Another file's bytes first (from another thread), so this one is not the first.
    let other = std::thread::scope(|t| t.spawn(|| segment.append(b"other bytes")).join());
    assert_eq!(other.unwrap().unwrap(), base);
    let offset = segment.append(&gzipped).unwrap();
    assert_eq!(offset, base + 11);
    assert_eq!(
        std::fs::read(&segment_file).unwrap().len() as u64,
        base + 11 + gzipped.len() as u64
    );
    assert_eq!(event_store::stored_bytes(&s.path), {
        let db = std::fs::metadata(&s.path).unwrap().len();
        db + base + 11 + gzipped.len() as u64
    });
    commit_first_file(
        &mut s,
        LogBytes::Appended {
            segment: &segment,
            offset,
            len: gzipped.len() as u64,
        },
    );
    let q = EventQuery {
        limit: 10,
        ..Default::default()
    };
    let raws = |store: &Store| -> Vec<Vec<u8>> {
        store
            .events(&q)
            .unwrap()
            .into_iter()
            .map(|e| e.raw)
            .collect()
    };
    let want = [
        br#"{"eventID":"e1","x":1}"#.to_vec(),
        br#"{"eventID":"e2","x":"two"}"#.to_vec(),
    ];
    assert_eq!(raws(&s.store), want);
    // Another connection, read-only, finds the segment beside the database too.
    assert_eq!(raws(&Store::open_read_only(&s.path).unwrap()), want);
    let num = s.store.events(&q).unwrap()[0].num;
    let log_file: i64 = rusqlite::Connection::open(&s.path)
        .unwrap()
        .query_row("SELECT log_file FROM events WHERE num = ?1", [num], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        s.store.log_file_gz_len(log_file).unwrap(),
        Some(gzipped.len() as i64)
    );
    // A row naming bytes past the segment's end (a damaged database) is an error, not an
    // allocation of whatever it says.
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    conn.execute("UPDATE log_files SET gz_len = 1 << 50", [])
        .unwrap();
    let err = Store::open_read_only(&s.path)
        .unwrap()
        .events(&q)
        .unwrap_err();
    assert!(err.to_string().contains("past its end"), "{err}");
    conn.execute("UPDATE log_files SET gz_len = ?1", [gzipped.len() as i64])
        .unwrap();
    drop(conn);
    // A segment of another database in its place (another token) is refused, not read.
    let mut bytes = std::fs::read(&segment_file).unwrap();
    bytes[base as usize - 2] ^= 1;
    std::fs::write(&segment_file, &bytes).unwrap();
    let fresh = Store::open_read_only(&s.path).unwrap();
    let err = fresh.events(&q).unwrap_err();
    assert!(err.to_string().contains("another database"), "{err}");
    // Without its segment, a stored file is an error, not a panic or wrong bytes.
    std::fs::remove_file(&segment_file).unwrap();
    let fresh = Store::open_read_only(&s.path).unwrap();
    let err = fresh.events(&q).unwrap_err();
    assert!(matches!(err, StoreError::Segment(..)), "{err}");
    assert!(
        err.to_string().contains("copy or move them with it"),
        "{err}"
    );
}

/// A database of schema 7 (bytes in `log_files.gz`, an `event_id` column) read by a build
/// that cannot migrate it (a read-only open): its events read back as before.
#[test]
fn a_database_from_before_log_segments_reads_back_without_migrating() {
    let mut s = setup();
    let gzipped = gz(TEXT.as_bytes());
    commit_first_file(&mut s, LogBytes::Held(&gzipped));
    drop(s.store);
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    conn.execute_batch(
        "ALTER TABLE log_files DROP COLUMN segment; ALTER TABLE log_files DROP COLUMN seg_offset; \
         ALTER TABLE log_files DROP COLUMN gz_len; DROP TABLE log_segments; \
         ALTER TABLE events ADD COLUMN event_id TEXT; UPDATE log_files SET key = 'p1/a'; \
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(conn);
    let old = Store::open_read_only(&s.path).unwrap();
    let q = EventQuery {
        limit: 10,
        ..Default::default()
    };
    let events = old.events(&q).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].raw, br#"{"eventID":"e2","x":"two"}"#);
    assert_eq!(events[1].key, "p1/a");
    // Opened for writing, it migrates and reads the same.
    let migrated = Store::open(&s.path).unwrap();
    assert_eq!(migrated.schema_version().unwrap(), 8);
    assert_eq!(migrated.events(&q).unwrap(), events);
}

/// `rm t.db*` leaves the `-logs` folder (a directory): a new database at the same path takes
/// the numbers again, and the stale files with them.
#[test]
fn a_new_database_replaces_the_segments_a_deleted_one_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Store::open(&path).unwrap();
    let old = store.new_segment("imp-old", 0).unwrap();
    old.append(b"bytes of a database that is gone").unwrap();
    drop((old, store));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("t.db{suffix}")));
    }
    let store = Store::open(&path).unwrap();
    let new = store.new_segment("imp-new", 0).unwrap();
    assert_eq!(new.num(), 1);
    let at = new.append(b"new").unwrap();
    let file = std::fs::read(dir.path().join("t.db-logs/00000001.seg")).unwrap();
    assert_eq!(file.len() as u64, at + 3);
    assert!(file.starts_with(b"trailport log segment ") && file.ends_with(b"\nnew"));
}

#[test]
fn prefixes_complete_when_all_their_files_are_done() {
    let mut s = setup();
    let failure = FailureRow {
        location: "s3://b/p1/b",
        error_type: "InvalidFileFormat",
        error_message: "bad",
    };
    let writes = [
        FileWrite {
            file_no: 0,
            gz: LogBytes::Held(b""),
            events: &[],
            strings: &[],
            failure: None,
        },
        FileWrite {
            file_no: 1,
            gz: LogBytes::Held(b""),
            events: &[],
            strings: &[],
            failure: Some(failure),
        },
    ];
    assert!(s
        .store
        .write_files(&s.import, OWNER, s.eds, &writes, 4_000)
        .unwrap());
    let st = s.store.import(&s.import).unwrap().unwrap().statistics;
    assert_eq!(
        (st.prefixes_completed, st.files_completed, st.failed_entries),
        (1, 2, 1)
    );
    let failures = s.store.failures(&s.import, 0, 10).unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        (failures[0].status, failures[0].error_type.as_str()),
        (FailureStatus::Failed, "InvalidFileFormat")
    );
}

#[test]
fn a_retried_file_replaces_its_events_and_settles_its_entry() {
    let mut s = setup();
    let gzipped = gz(TEXT.as_bytes());
    let rows = rows();
    let failure = FailureRow {
        location: "s3://b/p1/a",
        error_type: "InvalidEventRecord",
        error_message: "1 of 3",
    };
    let partial = FileWrite {
        file_no: 0,
        gz: LogBytes::Held(&gzipped),
        events: &rows,
        strings: STRINGS,
        failure: Some(failure),
    };
    assert!(s
        .store
        .write_files(&s.import, OWNER, s.eds, &[partial], 4_000)
        .unwrap());
    fail_and_retry(&s);
    let st = s.store.import(&s.import).unwrap().unwrap().statistics;
    // A retry moves no statistic: the entry counts until it is settled, the file stays
    // completed, its events stay until replaced.
    assert_eq!(
        (st.files_completed, st.failed_entries, st.events_completed),
        (1, 1, 2)
    );
    assert_eq!(
        s.store.failures(&s.import, 0, 10).unwrap()[0].status,
        FailureStatus::Retry
    );
    assert_eq!(s.store.pending_files(&s.import, -1, 10).unwrap().len(), 3);

    // The retry fails the same way: the entry is FAILED again, events are not doubled.
    assert!(s
        .store
        .write_files(&s.import, OWNER, s.eds, &[partial], 4_000)
        .unwrap());
    let st = s.store.import(&s.import).unwrap().unwrap().statistics;
    assert_eq!(
        (st.files_completed, st.failed_entries, st.events_completed),
        (1, 1, 2)
    );
    assert_eq!(
        s.store
            .events(&EventQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .len(),
        2
    );
    let f = s.store.failures(&s.import, 0, 10).unwrap();
    assert_eq!((f.len(), f[0].status), (1, FailureStatus::Failed));

    // A second retry succeeds: SUCCEEDED, still two events.
    fail_and_retry(&s);
    let ok = FileWrite {
        failure: None,
        ..partial
    };
    assert!(s
        .store
        .write_files(&s.import, OWNER, s.eds, &[ok], 4_000)
        .unwrap());
    let st = s.store.import(&s.import).unwrap().unwrap().statistics;
    assert_eq!(
        (st.files_completed, st.failed_entries, st.events_completed),
        (1, 0, 2)
    );
    assert_eq!(
        s.store.failures(&s.import, 0, 10).unwrap()[0].status,
        FailureStatus::Succeeded
    );
    assert_eq!(s.store.event_count(None).unwrap(), 2);
}

/// Ends the test's import FAILED, sends it round again, and claims it for OWNER.
fn fail_and_retry(s: &Setup) {
    assert!(s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::Initializing, ImportStatus::InProgress],
            ImportStatus::Failed,
            Some(OWNER),
            5_000
        )
        .unwrap());
    assert_eq!(s.store.prepare_retry(&s.import, 6_000).unwrap(), 1);
    assert!(s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::Failed],
            ImportStatus::Initializing,
            None,
            6_000
        )
        .unwrap());
    assert!(s.store.claim_import(&s.import, OWNER, 0, i64::MAX).unwrap());
}

/// A batch lands only while its run owns a running import: not after a stop was answered, not
/// for a run that lost the import to another.
#[test]
fn a_batch_lands_only_while_its_run_owns_the_import() {
    let mut s = setup();
    let write = FileWrite {
        file_no: 0,
        gz: LogBytes::Held(b""),
        events: &[],
        strings: &[],
        failure: None,
    };
    assert!(!s
        .store
        .write_files(&s.import, "someone-else", s.eds, &[write], 1)
        .unwrap());
    assert!(
        !s.store.claim_import(&s.import, "run-2", 10, 20).unwrap(),
        "the lease holds"
    );
    // A stop ends the claim: the run's next batch is refused and nothing moves.
    assert!(s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::Initializing],
            ImportStatus::Stopped,
            None,
            7_000
        )
        .unwrap());
    assert_eq!(s.store.import_owner(&s.import).unwrap(), None);
    assert!(!s
        .store
        .write_files(&s.import, OWNER, s.eds, &[write], 8_000)
        .unwrap());
    assert!(!s
        .store
        .renew_import_lease(&s.import, OWNER, i64::MAX)
        .unwrap());
    let import = s.store.import(&s.import).unwrap().unwrap();
    assert_eq!(
        (import.statistics.files_completed, import.updated_ms),
        (0, 7_000)
    );
    assert!(
        !s.store.claim_import(&s.import, "run-2", 0, 1).unwrap(),
        "a stopped import is not claimed"
    );
    // An expired lease is taken over.
    let other = s
        .store
        .create_import(&new_import("imp-2", s.eds, 9_000))
        .unwrap();
    assert!(s.store.claim_import(&other.id, "run-a", 100, 200).unwrap());
    assert!(!s.store.claim_import(&other.id, "run-b", 150, 300).unwrap());
    assert!(s.store.claim_import(&other.id, "run-b", 201, 300).unwrap());
    assert!(!s
        .store
        .add_prefix(&other.id, "run-a", "x/", &[], 1)
        .unwrap());
    assert_eq!(
        s.store.import_owner(&other.id).unwrap(),
        Some(("run-b".into(), 300))
    );
    s.store.release_import(&other.id, "run-a").unwrap();
    assert_eq!(
        s.store.import_owner(&other.id).unwrap(),
        Some(("run-b".into(), 300))
    );
    s.store.release_import(&other.id, "run-b").unwrap();
    assert_eq!(s.store.import_owner(&other.id).unwrap(), None);
}

#[test]
fn imports_filter_and_transition() {
    let s = setup();
    let all = s.store.imports(&ImportFilter::default(), None, 10).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, ImportStatus::Initializing);
    assert!(!s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::InProgress],
            ImportStatus::Completed,
            None,
            1
        )
        .unwrap());
    assert!(!s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::Initializing],
            ImportStatus::InProgress,
            Some("not-the-owner"),
            1
        )
        .unwrap());
    assert!(s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::Initializing],
            ImportStatus::InProgress,
            Some(OWNER),
            1
        )
        .unwrap());
    let f = ImportFilter {
        status: Some(ImportStatus::InProgress),
        ..Default::default()
    };
    assert_eq!(s.store.imports(&f, None, 10).unwrap().len(), 1);
    let f = ImportFilter {
        destination: Some("other".into()),
        ..Default::default()
    };
    assert!(s.store.imports(&f, None, 10).unwrap().is_empty());
    // Newest first by creation order, whatever the clock said (here: the same instant, then
    // an earlier one), paged by row number: an import created between two pages does not
    // repeat an item.
    for (id, at) in [("imp-3", 9_000), ("imp-2", 9_000), ("imp-4", 8_000)] {
        s.store.create_import(&new_import(id, s.eds, at)).unwrap();
    }
    let ids = |v: Vec<event_store::ImportRecord>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let first = s.store.imports(&ImportFilter::default(), None, 2).unwrap();
    let last = first.last().unwrap().num;
    assert_eq!(ids(first), ["imp-4", "imp-2"]);
    s.store
        .create_import(&new_import("imp-5", s.eds, 10_000))
        .unwrap();
    let next = s
        .store
        .imports(&ImportFilter::default(), Some(last), 10)
        .unwrap();
    assert_eq!(ids(next), ["imp-3", "imp-1"]);
    assert_eq!(s.store.pending_totals(&s.import).unwrap(), (3, 60));
}

/// A read of one stream uses the stream's index and a read of a group (or some of its
/// streams) the group's, with the positions bounding the index range: neither scans
/// `log_events`, nor sorts it.
#[test]
fn log_event_reads_stay_in_their_index() {
    use event_store::{LogEventRange, LogEventScope, FIRST_POSITION, LAST_POSITION};
    let s = setup();
    for (scope, index) in [
        (LogEventScope::Stream(3), "log_events_by_stream"),
        (LogEventScope::Group(1), "log_events_by_group"),
        (LogEventScope::Streams(1, vec![3, 4]), "log_events_by_group"),
    ] {
        let range = LogEventRange {
            scope: scope.clone(),
            after: (5, 6),
            before: LAST_POSITION,
        };
        let plan = s.store.log_events_plan(&range).unwrap();
        let le = plan
            .lines()
            .find(|l| l.starts_with("SEARCH le USING INDEX"))
            .unwrap_or_else(|| panic!("{scope:?}: {plan}"));
        assert!(le.contains(index), "{scope:?}: {plan}");
        assert!(le.contains("timestamp_ms>?"), "{scope:?}: {plan}");
        assert!(!plan.contains("SCAN"), "{scope:?}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{scope:?}: {plan}");
        let plan = s
            .store
            .log_events_plan(&LogEventRange {
                scope,
                after: FIRST_POSITION,
                before: LAST_POSITION,
            })
            .unwrap();
        assert!(!plan.contains("SCAN le"), "{plan}");
    }
}

/// The indexes of `events` in the database, by name.
fn event_indexes(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")
        .unwrap();
    let names = stmt.query_map([], |r| r.get(0)).unwrap();
    names.collect::<Result<_, _>>().unwrap()
}

/// A bulk import drops the secondary indexes and they come back exactly as they were: at its
/// end, or at the next query if it never ended.
#[test]
fn suspended_indexes_come_back_as_they_were() {
    let s = setup();
    s.store.prepare_for_queries().unwrap();
    let before = event_indexes(&s.path);
    assert_eq!(before, ["events_by_name", "events_by_time"]);
    // An empty store: any import of 64 files or more doubles it; fewer never drop anything.
    assert!(!s.store.bulk_import_pays(63).unwrap());
    assert!(s.store.bulk_import_pays(64).unwrap());
    assert_eq!(s.store.suspend_event_indexes().unwrap(), 2);
    assert!(event_indexes(&s.path).is_empty());
    // The run died here: a new connection (the next process) still knows what to make again.
    let next = Store::open(&s.path).unwrap();
    next.prepare_for_queries().unwrap();
    assert_eq!(event_indexes(&s.path), before);
    // Nothing left to restore: a second restore changes nothing.
    next.restore_event_indexes().unwrap();
    assert_eq!(event_indexes(&s.path), before);
    // Only what existed is dropped and made again (a store never queried has no
    // events_by_name, and does not get one from a restore).
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    conn.execute_batch("DROP INDEX events_by_name").unwrap();
    drop(conn);
    assert_eq!(next.suspend_event_indexes().unwrap(), 1);
    next.restore_event_indexes().unwrap();
    assert_eq!(event_indexes(&s.path), ["events_by_time"]);
}
