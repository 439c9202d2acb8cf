//! Ingest through its public boundary: bytes of one object in, events and failures out.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use trail_discovery::{MemorySource, ObjectSource};
use trail_ingest::{
    ingest, parse_file, ErrorType, FileTask, IngestOptions, IngestStats, ParsedFile, Sink,
};

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn rec(version: &str, time: &str, source: &str, name: &str) -> String {
    format!(
        r#"{{"eventVersion":"{version}","eventTime":"{time}","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","eventID":"id-{name}","recipientAccountId":"111122223333","requestParameters":null}}"#
    )
}

fn good(name: &str) -> String {
    rec("1.08", "2024-02-01T00:00:00Z", "ec2.amazonaws.com", name)
}

fn file(records: &[String]) -> Vec<u8> {
    format!("{{\"Records\":[{}]}}", records.join(",")).into_bytes()
}

fn parse(bytes: Vec<u8>) -> ParsedFile {
    parse_file(bytes, "s3://b/k.json.gz", &IngestOptions::default())
}

/// (error type, message) of the file's failure entry.
fn failure(p: &ParsedFile) -> Option<(ErrorType, String)> {
    p.failure
        .as_ref()
        .map(|f| (f.error_type, f.error_message.clone()))
}

#[test]
fn valid_file_indexes_every_record_byte_exact() {
    let records = vec![
        good("A"),
        good("B"),
        rec("1.0", "2014-03-06T21:22:54Z", "s3.amazonaws.com", "C"),
    ];
    let text = file(&records);
    let p = parse(gz(&text));
    assert_eq!(p.failure, None);
    assert_eq!(p.records, 3);
    assert_eq!(p.events.len(), 3);
    for (e, r) in p.events.iter().zip(&records) {
        assert_eq!(p.raw(e), r.as_bytes());
    }
    let e = &p.events[2];
    assert_eq!(p.string(e.event_name), "C");
    assert_eq!(p.string(e.event_source), "s3.amazonaws.com");
    assert_eq!(e.aws_region.map(|i| p.string(i)), Some("us-east-1"));
    assert_eq!(
        e.recipient_account_id.map(|i| p.string(i)),
        Some("111122223333")
    );
    assert_eq!(e.time_ms, 1_394_140_974_000);
    // Each distinct value once: ec2, A, us-east-1, the account, B, s3, C.
    assert_eq!(p.strings.len(), 7);
    assert_eq!(p.text.as_bytes(), text);
}

#[test]
fn old_records_without_optional_fields_are_valid() {
    // eventVersion 1.0: no eventID, eventType or recipientAccountId.
    let r = r#"{"eventVersion":"1.0","userIdentity":{"type":"IAMUser"},"eventTime":"2014-03-06T21:22:54Z","eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-2","sourceIPAddress":"205.251.233.176"}"#;
    let p = parse(gz(&file(&[r.to_string()])));
    assert_eq!((p.events.len(), failure(&p)), (1, None));
    assert_eq!(p.events[0].recipient_account_id, None);
}

#[test]
fn escaped_fields_are_unescaped_and_raw_stays_as_written() {
    let r = r#"{"eventVersion":"1.05","eventTime":"2024-02-01T00:00:00Z","eventSource":"signin.amazonaws.com","eventName":"Console\u004cogin","additionalEventData":{"LoginTo":"https://console.aws.amazon.com/?state\u003dhashArgs"}}"#;
    let p = parse(gz(&file(&[r.to_string()])));
    assert_eq!(p.string(p.events[0].event_name), "ConsoleLogin");
    assert_eq!(p.raw(&p.events[0]), r.as_bytes());
}

#[test]
fn multi_member_gzip_is_one_file() {
    let text = file(&[good("A"), good("B")]);
    let mut bytes = gz(&text[..10]);
    bytes.extend(gz(&text[10..]));
    let p = parse(bytes);
    assert_eq!((p.events.len(), failure(&p)), (2, None));
}

#[test]
fn every_bad_file_is_one_invalid_file_format_entry() {
    let text = file(&[good("A")]);
    let truncated = gz(&text)[..20].to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty object", vec![], "The log file is an empty object"),
        ("plain json", text.clone(), "not gzip-compressed"),
        ("truncated gzip", truncated, "not a valid gzip stream"),
        (
            "gzip of text",
            gz(b"hello, not json"),
            "not a JSON object with a Records array",
        ),
        (
            "broken json",
            gz(b"{\"Records\":[{\"eventVersion\":"),
            "not valid JSON",
        ),
        (
            "no Records",
            gz(br#"{"awsAccountId":"1","logFiles":[]}"#),
            "missing field `Records`",
        ),
        (
            "Records not an array",
            gz(br#"{"Records":{"a":1}}"#),
            "not a JSON object with a Records array",
        ),
        (
            "top-level array",
            gz(br#"[{"Records":[]}]"#),
            "not a JSON object with a Records array",
        ),
        (
            "not utf-8",
            gz(b"{\"Records\":[\"\xff\xfe\"]}"),
            "not UTF-8 text (invalid byte at offset 13)",
        ),
    ];
    for (what, bytes, msg) in cases {
        let p = parse(bytes);
        let (ty, m) = failure(&p).unwrap_or_else(|| panic!("{what}: no failure"));
        assert_eq!(ty, ErrorType::InvalidFileFormat, "{what}");
        assert!(m.contains(msg), "{what}: {m}");
        assert!(p.events.is_empty(), "{what}");
    }
}

#[test]
fn bad_records_are_one_entry_and_good_ones_around_them_stay() {
    let big = format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-02-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"Big","requestParameters":"{}"}}"#,
        "x".repeat(256 * 1024)
    );
    let records = vec![
        good("A"),
        r#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"NoTime"}"#.to_string(),
        rec("1.08", "yesterday", "s3.amazonaws.com", "BadTime"),
        rec("1.08", "2024-02-01T00:00:00Z", "", "EmptySource"),
        rec("", "2024-02-01T00:00:00Z", "s3.amazonaws.com", "EmptyVersion"),
        r#"{"eventVersion":"1.08","eventTime":"2024-02-01T00:00:00Z","eventSource":"s3.amazonaws.com"}"#.to_string(),
        r#"{"eventVersion":1.08,"eventTime":"2024-02-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"NumberVersion"}"#.to_string(),
        "\"a string\"".to_string(),
        "[1,2]".to_string(),
        "null".to_string(),
        big,
        r#"{"eventVersion":"1.08","eventTime":"2024-02-01T00:00:00Z","eventTime":"2024-02-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"Dup"}"#.to_string(),
        good("B"),
    ];
    let p = parse(gz(&file(&records)));
    let names: Vec<_> = p.events.iter().map(|e| p.string(e.event_name)).collect();
    assert_eq!(names, ["A", "B"]);
    assert_eq!(p.events[1].index, 12);
    assert_eq!((p.records, p.invalid_records), (13, 11));
    let (ty, msg) = failure(&p).unwrap();
    assert_eq!(ty, ErrorType::InvalidEventRecord);
    assert!(
        msg.starts_with("11 of 13 records are not valid CloudTrail events and were not imported (indexes 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 1 more): record 1 eventTime is missing or not a date-time; record 2 eventTime is missing or not a date-time; record 3 eventSource is missing or empty; record 4 eventVersion is missing or empty; record 5 eventName is missing or empty; record 6 eventVersion is missing or empty; record 7 not a JSON object;"),
        "{msg}"
    );
    assert!(msg.contains("record 10 larger than 256 KB"), "{msg}");
}

#[test]
fn retention_drops_old_records_without_failing() {
    let records = vec![
        rec("1.08", "2020-01-01T00:00:00Z", "s3.amazonaws.com", "Old"),
        rec("1.08", "2024-01-01T00:00:00Z", "s3.amazonaws.com", "New"),
    ];
    let opts = IngestOptions {
        retention_cutoff_ms: Some(1_700_000_000_000),
        ..Default::default()
    };
    let p = parse_file(gz(&file(&records)), "s3://b/k", &opts);
    assert_eq!(
        (p.events.len(), p.expired_records, failure(&p)),
        (1, 1, None)
    );
}

/// Millions of tiny elements are counted, not collected: the failure entry names the first
/// ten, and the good record among them stays.
#[test]
fn a_flood_of_tiny_elements_is_counted_not_kept() {
    let n = 1_000_000;
    let mut doc = String::from("{\"Records\":[");
    doc.push_str(&good("Kept"));
    for _ in 0..n {
        doc.push_str(",0");
    }
    doc.push_str("]}");
    let p = parse(gz(doc.as_bytes()));
    assert_eq!(
        (p.records, p.invalid_records, p.events.len()),
        (n + 1, n, 1)
    );
    let (kind, msg) = failure(&p).unwrap();
    assert_eq!(kind, ErrorType::InvalidEventRecord);
    assert!(
        msg.starts_with(&format!(
            "{n} of {} records are not valid CloudTrail events and were not imported (indexes 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and {} more): record 1 not a JSON object;",
            n + 1,
            n - 10
        )),
        "{msg}"
    );
}

#[test]
fn inflate_limit_is_enforced() {
    let opts = IngestOptions::with_max_object_bytes(100);
    let p = parse_file(gz(&file(&[good("A"), good("B")])), "s3://b/k", &opts);
    assert!(failure(&p)
        .unwrap()
        .1
        .contains("inflates to more than 100 bytes"));
}

/// A task for `key` of `bucket`, its size as listed.
fn task(bucket: &MemorySource, id: i64, key: &str) -> FileTask {
    let size = bucket
        .list(key, "")
        .unwrap()
        .objects
        .iter()
        .find(|o| o.key == key)
        .map_or(100, |o| o.size);
    FileTask {
        id,
        key: key.to_string(),
        size,
    }
}

struct Collect(Mutex<Vec<(i64, usize, Option<ErrorType>)>>);

impl Sink for Collect {
    type Error = ();
    fn file(&self, task: &FileTask, f: ParsedFile) -> Result<(), ()> {
        let ty = f.failure.map(|x| x.error_type);
        self.0.lock().unwrap().push((task.id, f.events.len(), ty));
        Ok(())
    }
}

#[test]
fn parallel_ingest_counts_add_up() {
    let mut b = MemorySource::new("bkt");
    let mut tasks = Vec::new();
    for i in 0..200 {
        let key = format!("k/{i:03}.json.gz");
        let n = i % 7;
        let recs: Vec<String> = (0..n).map(|j| good(&format!("E{j}"))).collect();
        let body = if i % 50 == 0 {
            b"garbage".to_vec()
        } else {
            gz(&file(&recs))
        };
        b.put(key.clone(), body);
        tasks.push(task(&b, i, &key));
    }
    tasks.push(task(&b, 999, "k/vanished.json.gz"));
    let sink = Collect(Mutex::new(Vec::new()));
    let stats = ingest(
        &b,
        &tasks,
        &IngestOptions::default(),
        &sink,
        &AtomicBool::new(false),
    )
    .unwrap();
    let expected_events: u64 = (0..200)
        .filter(|i| i % 50 != 0)
        .map(|i| (i % 7) as u64)
        .sum();
    assert_eq!(stats.files, 201);
    assert_eq!(stats.events, expected_events);
    assert_eq!(stats.failed_entries, 5);
    let mut got = sink.0.into_inner().unwrap();
    got.sort();
    assert_eq!(got.len(), 201);
    assert_eq!(got.iter().map(|g| g.1 as u64).sum::<u64>(), expected_events);
    assert_eq!(got.last().unwrap(), &(999, 0, Some(ErrorType::NoSuchKey)));
    // Stats merge like numbers.
    let one = IngestStats {
        files: 1,
        events: 2,
        ..Default::default()
    };
    assert_eq!(
        one + one,
        IngestStats {
            files: 2,
            events: 4,
            ..Default::default()
        }
    );
    // Every object was read exactly once.
    let reads = b.reads();
    assert_eq!(reads.len(), 201);
    assert!(reads.values().all(|&n| n == 1), "{reads:?}");
}

#[test]
fn a_set_stop_flag_ingests_nothing() {
    let mut b = MemorySource::new("bkt");
    b.put("a", gz(&file(&[good("A")])));
    let sink = Collect(Mutex::new(Vec::new()));
    let tasks = [task(&b, 0, "a")];
    let stats = ingest(
        &b,
        &tasks,
        &IngestOptions::default(),
        &sink,
        &AtomicBool::new(true),
    )
    .unwrap();
    assert_eq!(stats, IngestStats::default());
    assert!(sink.0.into_inner().unwrap().is_empty());
}

/// A source that fetches ahead, as remote ones do: the fetch path must give the same results.
struct FetchAhead(MemorySource);

impl ObjectSource for FetchAhead {
    fn bucket(&self) -> &str {
        self.0.bucket()
    }
    fn list(
        &self,
        p: &str,
        d: &str,
    ) -> Result<trail_discovery::Listing, trail_discovery::SourceError> {
        self.0.list(p, d)
    }
    fn open(
        &self,
        key: &str,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, trail_discovery::SourceError> {
        self.0.open(key)
    }
    fn fetch_concurrency(&self) -> usize {
        3
    }
}

#[test]
fn fetching_ahead_gives_the_same_results() {
    let mut b = MemorySource::new("bkt");
    let mut tasks = Vec::new();
    for i in 0..50 {
        let key = format!("k/{i:03}.json.gz");
        let recs: Vec<String> = (0..i % 5).map(|j| good(&format!("E{j}"))).collect();
        b.put(key.clone(), gz(&file(&recs)));
        tasks.push(task(&b, i, &key));
    }
    tasks.push(task(&b, 99, "k/missing"));
    let sink = Collect(Mutex::new(Vec::new()));
    let ahead = FetchAhead(b);
    let stats = ingest(
        &ahead,
        &tasks,
        &IngestOptions::default(),
        &sink,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(
        (stats.files, stats.events, stats.failed_entries),
        (51, 100, 1)
    );
    let mut got = sink.0.into_inner().unwrap();
    got.sort();
    assert_eq!(got.len(), 51);
    assert_eq!(got[50], (99, 0, Some(ErrorType::NoSuchKey)));
    // A set stop flag ends the fetching early.
    let sink = Collect(Mutex::new(Vec::new()));
    let stats = ingest(
        &ahead,
        &tasks,
        &IngestOptions::default(),
        &sink,
        &AtomicBool::new(true),
    )
    .unwrap();
    assert_eq!(stats, IngestStats::default());
}

#[test]
fn zero_padding_after_the_last_gzip_member_is_accepted_and_other_trailing_data_is_not() {
    let body = gz(&file(&[good("A"), good("B")]));
    let mut padded = body.clone();
    padded.extend_from_slice(&[0u8; 4096]);
    let p = parse(padded);
    assert_eq!((p.events.len(), failure(&p)), (2, None));
    let mut trailing = body.clone();
    trailing.extend_from_slice(b"junk");
    let (ty, msg) = failure(&parse(trailing)).unwrap();
    assert_eq!(ty, ErrorType::InvalidFileFormat);
    assert!(msg.contains("data after the last member"), "{msg}");
    // Two members then padding: both members' text.
    let doc = file(&[good("A"), good("B"), good("C")]);
    let mut two = gz(&doc[..30]);
    two.extend(gz(&doc[30..]));
    two.extend_from_slice(&[0, 0]);
    assert_eq!(parse(two).events.len(), 3);
}

#[test]
fn event_times_are_exactly_as_cloudtrail_writes_them() {
    let records = vec![
        rec("1.08", "2024-02-01T00:00:00Z", "s3.amazonaws.com", "Whole"),
        rec(
            "1.08",
            "2024-02-01T00:00:00.123Z",
            "s3.amazonaws.com",
            "Fraction",
        ),
        rec(
            "1.08",
            "2024-02-01T00:00:00+00:00",
            "s3.amazonaws.com",
            "Offset",
        ),
        rec("1.08", "2024-02-01 00:00:00Z", "s3.amazonaws.com", "Space"),
        rec("1.08", "2024-02-01", "s3.amazonaws.com", "DateOnly"),
    ];
    let p = parse(gz(&file(&records)));
    let names: Vec<_> = p.events.iter().map(|e| p.string(e.event_name)).collect();
    assert_eq!(names, ["Whole", "Fraction"]);
    assert_eq!(p.events[1].time_ms - p.events[0].time_ms, 123);
    let (ty, msg) = failure(&p).unwrap();
    assert_eq!(ty, ErrorType::InvalidEventRecord);
    assert!(msg.starts_with("3 of 5 records"), "{msg}");
}

/// A small object that inflates to far more than the cap (a gzip bomb).
fn bomb(inflated: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![b'0'; 1 << 20];
    let mut left = inflated;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    e.finish().unwrap()
}

/// Whatever the bucket holds and however many threads read it, the files in flight hold no
/// more than the budget: bombs and oversized objects are failure entries, never read beyond
/// the cap, and the good files around them are imported.
#[test]
fn memory_stays_within_the_budget_whatever_the_objects() {
    let cap = 8 << 20;
    let opts = IngestOptions::with_max_object_bytes(cap);
    let mut b = MemorySource::new("hostile");
    let mut tasks = Vec::new();
    let mut id = 0;
    let mut add = |b: &mut MemorySource, key: String, body: Vec<u8>| {
        b.put(key.clone(), body);
        tasks.push(task(b, id, &key));
        id += 1;
    };
    for i in 0..8 {
        add(&mut b, format!("bomb-{i}"), bomb(64 << 20));
    }
    // Objects larger than the cap, compressed: never read.
    for i in 0..4 {
        add(&mut b, format!("huge-{i}"), vec![0x1f; cap as usize + 1]);
    }
    // A file that compresses better than the first guess but fits the cap: read again with
    // room for the cap, and imported.
    let records: Vec<String> = (0..2000).map(|j| good(&format!("Same{}", j % 3))).collect();
    add(&mut b, "dense".into(), gz(&file(&records)));
    for i in 0..40 {
        add(
            &mut b,
            format!("good-{i}"),
            gz(&file(&[good("A"), good("B")])),
        );
    }
    let sink = Collect(Mutex::new(Vec::new()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(16)
        .build()
        .unwrap();
    let stats = pool
        .install(|| ingest(&b, &tasks, &opts, &sink, &AtomicBool::new(false)))
        .unwrap();
    assert_eq!(stats.files, 53);
    assert_eq!(stats.events, 2000 + 80);
    assert_eq!(stats.failed_entries, 12);
    assert!(
        opts.budget.peak() <= opts.budget.total(),
        "{} of {}",
        opts.budget.peak(),
        opts.budget.total()
    );
    assert_eq!(opts.budget.used(), 0, "every reservation given back");
    let reads = b.reads();
    assert!(
        (0..4).all(|i| !reads.contains_key(&format!("huge-{i}"))),
        "objects over the cap are not read: {reads:?}"
    );
    let got = sink.0.into_inner().unwrap();
    assert!(got
        .iter()
        .filter(|g| g.2.is_some())
        .all(|g| g.2 == Some(ErrorType::InvalidFileFormat)));
}

#[test]
fn an_object_larger_than_listed_is_not_read_beyond_its_listing() {
    let mut b = MemorySource::new("b");
    b.put("grew", gz(&file(&[good("A")])));
    let mut t = task(&b, 0, "grew");
    t.size -= 1;
    let sink = Collect(Mutex::new(Vec::new()));
    let stats = ingest(
        &b,
        &[t],
        &IngestOptions::default(),
        &sink,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!((stats.events, stats.failed_entries), (0, 1));
}

/// A panic on one object (here a hook's, standing for a parser bug) is that object's failure
/// entry; the run and the other objects go on.
#[test]
fn a_panic_on_one_object_is_its_failure_entry() {
    let mut b = MemorySource::new("b");
    let mut tasks = Vec::new();
    for i in 0..10 {
        let key = format!("k{i}");
        b.put(key.clone(), gz(&file(&[good("A")])));
        tasks.push(task(&b, i, &key));
    }
    let opts = IngestOptions {
        on_read: Some(trail_ingest::ReadHook(std::sync::Arc::new(|key: &str| {
            if key == "k3" {
                panic!("boom");
            }
        }))),
        ..Default::default()
    };
    let sink = Collect(Mutex::new(Vec::new()));
    let stats = ingest(&b, &tasks, &opts, &sink, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        (stats.files, stats.events, stats.failed_entries),
        (10, 9, 1)
    );
    let got = sink.0.into_inner().unwrap();
    assert!(got.contains(&(3, 0, Some(ErrorType::InternalFailure))));
}

/// Property tests over gzip framing and the record parser: whatever bytes an object holds,
/// parsing never panics, never holds more than the object cap, and what it keeps is well-formed.
mod fuzz {

    use flate2::write::GzEncoder;
    use flate2::Compression;
    use proptest::prelude::*;
    use std::io::Write;
    use trail_ingest::{parse_file, IngestOptions, ParsedFile};

    const CAP: u64 = 64 << 10;

    fn opts() -> IngestOptions {
        IngestOptions::with_max_object_bytes(CAP)
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// What every parse result must be: bounded, and each kept event a JSON object at its span.
    fn check(p: &ParsedFile) {
        assert!(
            p.text.len() as u64 <= CAP,
            "text {} over the cap",
            p.text.len()
        );
        assert!(p.failure.is_some() || !p.text.is_empty() || p.events.is_empty());
        for e in &p.events {
            let raw = p.raw(e);
            let v: serde_json::Value = serde_json::from_slice(raw).expect("a kept record is JSON");
            assert!(v.is_object());
            assert!(raw.len() <= trail_ingest::MAX_RECORD_BYTES);
        }
        assert!(p.events.len() as u64 <= p.records);
    }

    /// A record with fields drawn from a small alphabet of awkward values.
    fn record() -> impl Strategy<Value = String> {
        let value = prop_oneof![
            Just("\"2024-02-01T00:00:00Z\"".to_string()),
            Just("\"2024-02-30T00:00:00Z\"".to_string()),
            Just("\"\"".to_string()),
            Just("null".to_string()),
            Just("12".to_string()),
            Just("{\"a\":[1,{\"b\":\"c\"}]}".to_string()),
            Just("\"\\u00e9\\n\\\"q\\\"\"".to_string()),
            "[a-zA-Z0-9 .:-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        ];
        let key = prop_oneof![
            Just("eventVersion"),
            Just("eventTime"),
            Just("eventSource"),
            Just("eventName"),
            Just("awsRegion"),
            Just("eventID"),
            Just("recipientAccountId"),
            Just("other"),
        ];
        prop::collection::vec((key, value), 0..10).prop_map(|fields| {
            let body: Vec<String> = fields
                .into_iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            check(&parse_file(bytes.clone(), "s3://b/k", &opts()));
            // The same behind a gzip header.
            let mut framed = vec![0x1f, 0x8b];
            framed.extend(&bytes);
            check(&parse_file(framed, "s3://b/k", &opts()));
        }

        #[test]
        fn damaged_gzip_of_records(
            records in prop::collection::vec(record(), 0..20),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            tail in prop::collection::vec(any::<u8>(), 0..16),
            zeros in 0usize..64,
        ) {
            let doc = format!("{{\"Records\":[{}]}}", records.join(","));
            let whole = gz(doc.as_bytes());
            let p = parse_file(whole.clone(), "s3://b/k", &opts());
            check(&p);
            if doc.len() as u64 <= CAP {
                prop_assert_eq!(p.records, records.len() as u64);
            }
            // Cut short, bytes flipped, junk or zeros after it: never a panic.
            let mut cut_short = whole.clone();
            cut_short.truncate(cut.index(whole.len() + 1));
            check(&parse_file(cut_short, "s3://b/k", &opts()));
            let mut flipped = whole.clone();
            for (at, b) in &flips {
                let i = at.index(flipped.len());
                flipped[i] ^= b | 1;
            }
            check(&parse_file(flipped, "s3://b/k", &opts()));
            let mut trailing = whole.clone();
            trailing.extend(&tail);
            check(&parse_file(trailing, "s3://b/k", &opts()));
            let mut padded = whole;
            padded.extend(std::iter::repeat_n(0u8, zeros));
            let q = parse_file(padded, "s3://b/k", &opts());
            check(&q);
            prop_assert_eq!(q.events.len(), p.events.len(), "zero padding changes nothing");
        }

        #[test]
        fn json_documents_that_are_not_quite_log_files(
            head in prop_oneof![
                Just("{\"Records\":"), Just("{\"Records\":[{"), Just("[{\"Records\":[]}]"),
                Just("{\"Records\":[],\"Records\":[{}]}"), Just("{\"records\":[]}"), Just(""),
            ],
            body in "[\\[\\]{}\",:a-z0-9 ]{0,200}",
        ) {
            check(&parse_file(gz(format!("{head}{body}").as_bytes()), "s3://b/k", &opts()));
        }
    }
}
