//! The store through its public API, on real SQLite files.

use event_store::{
    EventDataStoreStatus, EventQuery, EventRow, FailureRow, FailureStatus, FileWrite, ImportFilter,
    ImportStatus, NewEventDataStore, NewImport, Store, StoreError,
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

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = Store::open(&path).unwrap();
    let eds = store
        .create_event_data_store(&NewEventDataStore::with_defaults(
            "s",
            "us-east-1",
            "123456789012",
        ))
        .unwrap();
    let import = store
        .create_import(&NewImport {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            destination: eds.arn.clone(),
            eds_num: Some(eds.num),
            source_uri: "s3://b/".into(),
            ..Default::default()
        })
        .unwrap();
    store
        .add_prefix(
            &import.id,
            "p1/",
            &[("p1/a".into(), 10), ("p1/b".into(), 20)],
        )
        .unwrap();
    store
        .add_prefix(&import.id, "p2/", &[("p2/c".into(), 30)])
        .unwrap();
    store.finish_discovery(&import.id).unwrap();
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

fn rows() -> Vec<EventRow<'static>> {
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
            event_id: Some(["e1", "e2"][i]),
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
    assert_eq!(s.store.schema_version().unwrap(), 1);
    drop(s.store);
    let again = Store::open(&s.path).unwrap();
    assert_eq!(again.schema_version().unwrap(), 1);
    assert_eq!(again.event_data_stores().unwrap().len(), 1);
    drop(again);
    let conn = rusqlite::Connection::open(&s.path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Store::open(&s.path),
        Err(StoreError::NewerSchema {
            found: 99,
            known: 1
        })
    ));
}

#[test]
fn event_data_stores_are_found_by_arn_id_or_name() {
    let s = setup();
    let all = s.store.event_data_stores().unwrap();
    let eds = &all[0];
    assert!(eds
        .arn
        .starts_with("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/"));
    assert_eq!(eds.arn.rsplit('/').next().unwrap(), eds.id);
    assert_eq!(eds.id.len(), 36);
    for key in [&eds.arn, &eds.id, &"s".to_string()] {
        assert_eq!(s.store.event_data_store(key).unwrap().as_ref(), Some(eds));
    }
    assert_eq!(s.store.event_data_store("nope").unwrap(), None);
    s.store
        .set_event_data_store_status(&eds.id, EventDataStoreStatus::PendingDeletion)
        .unwrap();
    assert_eq!(
        s.store.event_data_store(&eds.id).unwrap().unwrap().status,
        EventDataStoreStatus::PendingDeletion
    );
}

#[test]
fn a_file_is_written_exactly_once_and_read_back_byte_exact() {
    let mut s = setup();
    let gzipped = gz(TEXT.as_bytes());
    let rows = rows();
    let pending = s.store.pending_files(&s.import, -1, 10).unwrap();
    assert_eq!(
        pending.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        ["p1/a", "p1/b", "p2/c"]
    );
    let write = FileWrite {
        file_no: pending[0].file_no,
        key: "p1/a",
        gz: &gzipped,
        events: &rows,
        strings: STRINGS,
        failure: None,
    };
    s.store.write_files(&s.import, s.eds, &[write]).unwrap();
    // The same file again (a replayed batch) changes nothing.
    s.store.write_files(&s.import, s.eds, &[write]).unwrap();
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
    let by_id = s
        .store
        .events(&EventQuery {
            event_id: Some("e2".into()),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].key, "p1/a");
    assert_eq!(s.store.pending_files(&s.import, -1, 10).unwrap().len(), 2);
    assert_eq!(s.store.event_count(Some(s.eds)).unwrap(), 2);
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
            key: "p1/a",
            gz: b"",
            events: &[],
            strings: &[],
            failure: None,
        },
        FileWrite {
            file_no: 1,
            key: "p1/b",
            gz: b"",
            events: &[],
            strings: &[],
            failure: Some(failure),
        },
    ];
    s.store.write_files(&s.import, s.eds, &writes).unwrap();
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
        key: "p1/a",
        gz: &gzipped,
        events: &rows,
        strings: STRINGS,
        failure: Some(failure),
    };
    s.store.write_files(&s.import, s.eds, &[partial]).unwrap();
    s.store
        .set_import_status(&s.import, ImportStatus::Failed)
        .unwrap();

    assert_eq!(s.store.prepare_retry(&s.import).unwrap(), 1);
    let st = s.store.import(&s.import).unwrap().unwrap().statistics;
    assert_eq!(
        (st.files_completed, st.failed_entries, st.events_completed),
        (0, 0, 2)
    );
    assert_eq!(
        s.store.failures(&s.import, 0, 10).unwrap()[0].status,
        FailureStatus::Retry
    );
    assert_eq!(s.store.pending_files(&s.import, -1, 10).unwrap().len(), 3);

    // The retry fails the same way: the entry is FAILED again, events are not doubled.
    s.store.write_files(&s.import, s.eds, &[partial]).unwrap();
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
    s.store.prepare_retry(&s.import).unwrap();
    let ok = FileWrite {
        failure: None,
        ..partial
    };
    s.store.write_files(&s.import, s.eds, &[ok]).unwrap();
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

#[test]
fn imports_filter_and_transition() {
    let s = setup();
    let all = s.store.imports(&ImportFilter::default()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, ImportStatus::Initializing);
    assert!(!s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::InProgress],
            ImportStatus::Completed
        )
        .unwrap());
    assert!(s
        .store
        .transition_import(
            &s.import,
            &[ImportStatus::Initializing],
            ImportStatus::InProgress
        )
        .unwrap());
    let f = ImportFilter {
        status: Some(ImportStatus::InProgress),
        ..Default::default()
    };
    assert_eq!(s.store.imports(&f).unwrap().len(), 1);
    let f = ImportFilter {
        destination: Some("other".into()),
        ..Default::default()
    };
    assert!(s.store.imports(&f).unwrap().is_empty());
    assert_eq!(s.store.pending_totals(&s.import).unwrap(), (3, 60));
}
