//! Export and convert of the fixture bucket, read back with the `parquet` crate's own reader
//! and checked against answers DuckDB computed from the bucket's records
//! (`fixtures/lake-queries/expected/105-…` and `106-…`, by `make_golden.py`, never by
//! trailport): the events of each partition, each record's nested values, and each
//! `eventjson` through the SHA-256 DuckDB computed of the record's exact bytes.

use arrow_array::{
    Array, ListArray, MapArray, RecordBatch, StringArray, StructArray, TimestampMillisecondArray,
};
use import_engine::{
    CreateEventDataStore, DirResolver, Engine, EngineConfig, FixedClock, RetentionPolicy,
    RunControl, Scope, StartImport,
};
use lake_parquet::{
    convert, export, ConvertOptions, ExportOptions, LocalDir, Output, PendingFile, Shard,
    WriteOptions, Writer,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::FileReader;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use trail_discovery::LocalDirSource;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

/// The fixture bucket imported into the store `all`, as the golden answers assume.
fn store() -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(root().join("fixtures/trail-bucket"), buckets.join("trail"))
        .unwrap();
    let config = EngineConfig {
        clock: Arc::new(FixedClock::at("2025-01-01T00:00:00Z").unwrap()),
        resolver: Arc::new(DirResolver { root: buckets }),
        background: false,
        retention: RetentionPolicy::KeepAll,
        ..Default::default()
    };
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config).unwrap());
    let mut create = CreateEventDataStore::named(scope(), "all");
    create.retention_days = Some(3653);
    let eds = engine.create_event_data_store(create).unwrap().store;
    let import = engine
        .start_import(StartImport {
            scope: scope(),
            destination: eds.arn,
            source_uri: "s3://trail/".into(),
            bucket_region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/import".into(),
            ..Default::default()
        })
        .unwrap();
    engine
        .run_import(&import.id, &RunControl::default())
        .unwrap();
    (dir, engine)
}

fn golden(name: &str) -> Vec<Vec<String>> {
    let path = root().join("fixtures/lake-queries/expected").join(name);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// One row read back, with the folder and file it was in.
#[derive(Debug, Clone)]
struct Row {
    dir: String,
    file: String,
    time_ms: i64,
    json: String,
    checksum: String,
    account: Option<String>,
    region: Option<String>,
    issuer: Option<String>,
    bucket: Option<String>,
    first_arn: Option<String>,
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> &'a StringArray {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref()
        .unwrap()
}

fn field<'a>(s: &'a StructArray, name: &str) -> &'a dyn Array {
    s.column_by_name(name).unwrap().as_ref()
}

fn text(a: &dyn Array, i: usize) -> Option<String> {
    let a: &StringArray = a.as_any().downcast_ref().unwrap();
    a.is_valid(i).then(|| a.value(i).to_string())
}

/// Every finished file under `dir` (temporary files skipped, as engines skip them).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".parquet") && !name.starts_with('_') {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for path in files(dir) {
        let rel = path
            .strip_prefix(dir)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let (folder, file) = rel.rsplit_once('/').unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let times: &TimestampMillisecondArray = batch
                .column_by_name("eventtime")
                .unwrap()
                .as_any()
                .downcast_ref()
                .unwrap();
            let ui: &StructArray = batch
                .column_by_name("useridentity")
                .unwrap()
                .as_any()
                .downcast_ref()
                .unwrap();
            let params: &MapArray = batch
                .column_by_name("requestparameters")
                .unwrap()
                .as_any()
                .downcast_ref()
                .unwrap();
            let resources: &ListArray = batch
                .column_by_name("resources")
                .unwrap()
                .as_any()
                .downcast_ref()
                .unwrap();
            for i in 0..batch.num_rows() {
                let issuer = (ui.is_valid(i))
                    .then(|| {
                        let sc: &StructArray =
                            field(ui, "sessioncontext").as_any().downcast_ref().unwrap();
                        if sc.is_null(i) {
                            return None;
                        }
                        let si: &StructArray =
                            field(sc, "sessionissuer").as_any().downcast_ref().unwrap();
                        if si.is_null(i) {
                            return None;
                        }
                        text(field(si, "username"), i)
                    })
                    .flatten();
                let bucket = params
                    .is_valid(i)
                    .then(|| {
                        let entries = params.value(i);
                        let keys = text_array(entries.column(0).as_ref());
                        let values = entries.column(1);
                        (0..keys.len())
                            .find(|&k| keys.value(k) == "bucketName")
                            .and_then(|k| text(values.as_ref(), k))
                    })
                    .flatten();
                let first_arn = (resources.is_valid(i) && resources.value_length(i) > 0)
                    .then(|| {
                        let list = resources.value(i);
                        let first: &StructArray = list.as_any().downcast_ref().unwrap();
                        if first.is_null(0) {
                            return None;
                        }
                        text(field(first, "arn"), 0)
                    })
                    .flatten();
                rows.push(Row {
                    dir: format!("{folder}/"),
                    file: file.to_string(),
                    time_ms: times.value(i),
                    json: strings(&batch, "eventjson").value(i).to_string(),
                    checksum: strings(&batch, "eventjsonchecksum").value(i).to_string(),
                    account: text(strings(&batch, "recipientaccountid"), i),
                    region: text(strings(&batch, "awsregion"), i),
                    issuer,
                    bucket,
                    first_arn,
                });
            }
        }
    }
    rows
}

fn text_array(a: &dyn Array) -> &StringArray {
    a.as_any().downcast_ref().unwrap()
}

fn hive(v: &Option<String>) -> String {
    match v {
        Some(v) => v.clone(),
        None => "__HIVE_DEFAULT_PARTITION__".into(),
    }
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

/// The checks every complete output of the fixture bucket passes.
fn check_against_golden(rows: &[Row]) {
    assert_eq!(rows.len(), 339);
    // Each row in the folder of its own account, Region and day.
    for r in rows {
        let want = format!(
            "account={}/region={}/date={}/",
            hive(&r.account),
            hive(&r.region),
            day(r.time_ms)
        );
        assert_eq!(r.dir, want, "{}", r.json);
    }
    // The events per partition, as DuckDB counted them.
    let mut counts: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for r in rows {
        let key = (
            r.account.clone().unwrap_or_default(),
            r.region.clone().unwrap_or_default(),
            day(r.time_ms),
        );
        *counts.entry(key).or_default() += 1;
    }
    let want: BTreeMap<(String, String, String), u64> = golden("105-parquet-partitions.json")
        .into_iter()
        .map(|r| {
            (
                (r[0].clone(), r[1].clone(), r[2].clone()),
                r[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, want);
    // Every eventjson is the record byte for byte: its SHA-256 is the one DuckDB computed of
    // the record's text, and its nested values are the ones DuckDB read.
    let mut got: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let digest: String = Sha256::digest(r.json.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(r.checksum, digest);
            vec![
                r.checksum.clone(),
                r.issuer.clone().unwrap_or_default(),
                r.bucket.clone().unwrap_or_default(),
                r.first_arn.clone().unwrap_or_default(),
            ]
        })
        .collect();
    got.sort();
    assert_eq!(got, golden("106-parquet-nested-paths.json"));
    // Sorted by eventtime within each file.
    let mut by_file: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for r in rows {
        by_file
            .entry((r.dir.clone(), r.file.clone()))
            .or_default()
            .push(r.time_ms);
    }
    for (file, times) in by_file {
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "{file:?} not sorted"
        );
    }
}

fn sorted_records(rows: &[Row]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.dir.clone(), r.json.clone()))
        .collect();
    v.sort();
    v
}

fn export_to(engine: &Engine, out: &Path, write: WriteOptions) -> lake_parquet::ExportSummary {
    let output = LocalDir::new(out).unwrap();
    let opts = ExportOptions {
        store: "all".into(),
        write,
        ..Default::default()
    };
    export(engine, &scope(), &opts, Arc::new(output), &mut |_| {}).unwrap()
}

fn bucket() -> LocalDirSource {
    LocalDirSource::new(root().join("fixtures/trail-bucket")).unwrap()
}

#[test]
fn export_writes_what_the_lake_engine_reads() {
    let (dir, engine) = store();
    let out = dir.path().join("out");
    let summary = export_to(&engine, &out, WriteOptions::default());
    assert_eq!(summary.events, 339);
    let rows = read(&out);
    check_against_golden(&rows);
    // One file per partition at the default size, each zstd with statistics, a column index
    // and the sorting column recorded.
    assert_eq!(summary.files.len(), 24);
    let f = std::fs::File::open(out.join(&summary.files[0].path)).unwrap();
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(f).unwrap();
    let meta = reader.metadata();
    let rg = meta.row_group(0);
    assert!(rg.sorting_columns().is_some_and(|s| !s.is_empty()));
    for c in rg.columns() {
        let path = c.column_path().string();
        assert!(
            matches!(c.compression(), parquet::basic::Compression::ZSTD(_)),
            "{path}"
        );
        assert!(c.column_index_range().is_some(), "column index of {path}");
        assert!(c.offset_index_range().is_some(), "offset index of {path}");
        assert!(c.statistics().is_some(), "statistics of {path}");
    }
    // Exporting again to the same place replaces the files: the same rows, once.
    export_to(&engine, &out, WriteOptions::default());
    assert_eq!(sorted_records(&read(&out)), sorted_records(&rows));
}

#[test]
fn convert_writes_the_rows_export_writes() {
    let (dir, engine) = store();
    let exported = dir.path().join("exported");
    export_to(&engine, &exported, WriteOptions::default());
    let converted = dir.path().join("converted");
    let output = LocalDir::new(&converted).unwrap();
    let summary = convert(
        &bucket(),
        &ConvertOptions::default(),
        Arc::new(output),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(summary.events, 339);
    // The six bad objects of the fixture, as the import reports them.
    assert_eq!(summary.failures.len(), 6);
    let rows = read(&converted);
    check_against_golden(&rows);
    assert_eq!(sorted_records(&rows), sorted_records(&read(&exported)));
}

/// Files whose records take more memory than a run may hold (as gzip bombs of valid records
/// would) are sorted and written in several runs: each file still sorted, every event once.
#[test]
fn a_folder_larger_than_a_run_is_written_in_runs() {
    let (dir, engine) = store();
    let exported = dir.path().join("exported");
    export_to(&engine, &exported, WriteOptions::default());
    let out = dir.path().join("runs");
    let opts = ConvertOptions {
        run_text_bytes: 16 << 10,
        ..Default::default()
    };
    let summary = convert(
        &bucket(),
        &opts,
        Arc::new(LocalDir::new(&out).unwrap()),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(summary.events, 339);
    assert!(summary.files.len() > 24, "{} files", summary.files.len());
    let rows = read(&out);
    check_against_golden(&rows);
    assert_eq!(sorted_records(&rows), sorted_records(&read(&exported)));
}

#[test]
fn small_files_roll_and_a_rerun_with_bigger_ones_leaves_no_stale_file() {
    let (dir, engine) = store();
    let out = dir.path().join("out");
    let small = WriteOptions {
        target_file_bytes: 16 << 10,
        row_group_rows: 8,
        batch_rows: 4,
        ..Default::default()
    };
    let summary = export_to(&engine, &out, small);
    assert!(summary.files.len() > 24, "{} files", summary.files.len());
    let rows = read(&out);
    check_against_golden(&rows);
    let summary = export_to(&engine, &out, WriteOptions::default());
    assert_eq!(summary.files.len(), 24);
    assert_eq!(files(&out).len(), 24);
    check_against_golden(&read(&out));
}

/// An output that fails (as a dying worker would stop) after committing `left` files, with
/// the next file half written under its temporary name.
struct Crashing {
    inner: LocalDir,
    left: AtomicU64,
}

impl Output for Crashing {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn PendingFile>> {
        let mut file = self.inner.create(rel)?;
        if self.left.fetch_sub(1, Ordering::SeqCst) == 0 {
            use std::io::Write;
            file.write_all(b"PAR1")?;
            file.flush()?;
            // Leave the temporary file as a killed process would.
            std::mem::forget(file);
            return Err(std::io::Error::other("crashed"));
        }
        Ok(file)
    }
    fn list(&self, dir: &str) -> std::io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn remove(&self, rel: &str) -> std::io::Result<()> {
        self.inner.remove(rel)
    }
}

#[test]
fn three_shards_and_a_rerun_after_a_crash_write_every_event_once() {
    let (dir, engine) = store();
    let exported = dir.path().join("exported");
    export_to(&engine, &exported, WriteOptions::default());
    let out = dir.path().join("sharded");
    let mut events = 0;
    for i in 0..3 {
        let opts = ConvertOptions {
            shard: Shard { index: i, count: 3 },
            ..Default::default()
        };
        if i == 1 {
            let crashing = Crashing {
                inner: LocalDir::new(&out).unwrap(),
                left: AtomicU64::new(1),
            };
            assert!(convert(&bucket(), &opts, Arc::new(crashing), &mut |_| {}).is_err());
        }
        let summary = convert(
            &bucket(),
            &opts,
            Arc::new(LocalDir::new(&out).unwrap()),
            &mut |_| {},
        )
        .unwrap();
        assert!(summary.folders > 0, "shard {i} converted nothing");
        assert_eq!(summary.folders + summary.other_shards_folders, 10);
        events += summary.events;
    }
    assert_eq!(events, 339);
    let rows = read(&out);
    check_against_golden(&rows);
    assert_eq!(sorted_records(&rows), sorted_records(&read(&exported)));
    // The rerun removed the temporary file the crash left.
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                assert!(!p.to_str().unwrap().ends_with(".tmp"), "{p:?} left behind");
            }
        }
    }
}

/// A writer dropped before `finish` (an error upstream) commits nothing and removes nothing:
/// the files of the run before stay whole, and no temporary file is left.
#[test]
fn an_abandoned_writer_leaves_the_previous_run_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out: Arc<dyn Output> = Arc::new(LocalDir::new(dir.path()).unwrap());
    let record = |t: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"{t}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333"}}"#
        )
    };
    let folder = "account=111122223333/region=us-east-1/date=2024-02-01/";
    let mut w = Writer::new(
        out.clone(),
        "part-0000000000000001".into(),
        WriteOptions::default(),
    )
    .unwrap();
    w.push(folder, &record("2024-02-01T00:00:00Z")).unwrap();
    w.end_file().unwrap();
    w.push(folder, &record("2024-02-01T00:00:01Z")).unwrap();
    assert_eq!(w.finish().unwrap().len(), 2);
    let before = files(dir.path());
    assert_eq!(before.len(), 2);
    // The rerun has rows in its first file when it dies.
    let eager = WriteOptions {
        chunk_bytes: 1,
        ..Default::default()
    };
    let mut w = Writer::new(out, "part-0000000000000001".into(), eager).unwrap();
    w.push(folder, &record("2024-02-01T00:00:02Z")).unwrap();
    drop(w);
    assert_eq!(files(dir.path()), before);
    let rows = read(dir.path());
    assert_eq!(rows.len(), 2);
    let all: Vec<PathBuf> = std::fs::read_dir(dir.path().join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(all.len(), 2, "{all:?}");
}

/// A map key given twice is written once, with its first value, as `element_at` reads it;
/// a partition value far longer than any account gets a short folder name of its own.
#[test]
fn duplicate_map_keys_and_overlong_values() {
    let raw = r#"{"eventVersion":"1.08","eventTime":"2024-02-01T00:00:00Z","requestParameters":{"a":"1","b":2,"a":"3","\u0061":"4"}}"#;
    let batch = lake_parquet::batch::to_batch(&[raw]).unwrap();
    let map: &MapArray = batch
        .column_by_name("requestparameters")
        .unwrap()
        .as_any()
        .downcast_ref()
        .unwrap();
    let entries = map.value(0);
    let keys = text_array(entries.column(0).as_ref());
    let values = text_array(entries.column(1).as_ref());
    let got: Vec<(String, String)> = (0..keys.len())
        .map(|i| (keys.value(i).to_string(), values.value(i).to_string()))
        .collect();
    assert_eq!(got, [("a".into(), "1".into()), ("b".into(), "2".into())]);
    let long = "9".repeat(500);
    let dir = lake_parquet::Partition::of(Some(&long), Some("us-east-1"), 0).dir();
    assert!(dir.len() < 100, "{dir}");
    assert!(dir.starts_with("account=long-"), "{dir}");
}
