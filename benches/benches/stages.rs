//! Per-stage benchmarks: inflate, parse, store insert, discovery.
//!
//! `cargo bench -p benches` (the corpus is generated into `target/bench-corpus` on first run).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use event_store::{
    BillingMode, EventDataStoreStatus, FileWrite, NewEventDataStore, NewImport, Store,
};
use std::hint::black_box;
use std::io::Read;
use std::ops::ControlFlow;
use trail_discovery::{discover, MemorySource, TimeRange};
use trail_ingest::{parse_file, IngestOptions};

const SIZE: u64 = 32 << 20;

fn inflate_and_parse(c: &mut Criterion) {
    let files = benches::log_files(&benches::corpus(SIZE));
    let inflated: u64 = files
        .iter()
        .map(|(_, gz)| {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(gz.as_slice())
                .read_to_end(&mut out)
                .unwrap();
            out.len() as u64
        })
        .sum();
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(inflated));
    g.sample_size(10);
    g.bench_function("inflate", |b| {
        b.iter(|| {
            for (_, gz) in &files {
                let mut out = Vec::with_capacity(gz.len() * 8);
                flate2::read::MultiGzDecoder::new(gz.as_slice())
                    .read_to_end(&mut out)
                    .unwrap();
                black_box(out);
            }
        })
    });
    let opts = IngestOptions::default();
    g.bench_function("inflate+parse", |b| {
        b.iter(|| {
            for (key, gz) in &files {
                black_box(parse_file(gz.clone(), key, &opts));
            }
        })
    });
    let parsed: Vec<_> = files
        .iter()
        .map(|(key, gz)| (key.clone(), parse_file(gz.clone(), key, &opts)))
        .collect();
    g.bench_function("store insert", |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().unwrap();
                let store = Store::open(dir.path().join("b.db")).unwrap();
                let eds = store
                    .create_event_data_store(&NewEventDataStore {
                        id: "b".into(),
                        arn: "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/b".into(),
                        name: "b".into(),
                        status: EventDataStoreStatus::Enabled,
                        retention_days: 3653,
                        termination_protection: false,
                        multi_region: true,
                        organization: false,
                        billing_mode: BillingMode::ExtendableRetention,
                        details: "{}".into(),
                        now_ms: 0,
                    })
                    .unwrap();
                let import = store
                    .create_import(&NewImport {
                        id: "i".into(),
                        eds_num: Some(eds.num),
                        source_uri: "s3://b/".into(),
                        ..Default::default()
                    })
                    .unwrap();
                assert!(store
                    .claim_import(&import.id, "bench", 0, i64::MAX)
                    .unwrap());
                let keys: Vec<(String, u64)> = parsed.iter().map(|(k, _)| (k.clone(), 0)).collect();
                assert!(store
                    .add_prefix(&import.id, "bench", "p/", &keys, 0)
                    .unwrap());
                (dir, store, eds.num, import.id)
            },
            |(_dir, mut store, eds, import)| {
                for (no, (_, f)) in parsed.iter().enumerate() {
                    let rows = import_engine::event_rows(f);
                    let strings: Vec<&str> = f.strings.iter().map(String::as_str).collect();
                    let write = FileWrite {
                        file_no: no as i64,
                        gz: event_store::LogBytes::Held(&f.original),
                        events: &rows,
                        strings: &strings,
                        failure: None,
                    };
                    assert!(store
                        .write_files(&import, "bench", eds, &[write], 0)
                        .unwrap());
                }
            },
        )
    });
    g.finish();
}

fn discovery(c: &mut Criterion) {
    // 100k keys: 2 accounts x 4 regions x 50 days x 250 files.
    let mut bucket = MemorySource::new("b");
    for acct in ["111122223333", "444455556666"] {
        for region in ["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"] {
            for day in 0..50 {
                let (m, d) = (1 + day / 28, 1 + day % 28);
                for f in 0..250 {
                    bucket.put(
                        format!("AWSLogs/{acct}/CloudTrail/{region}/2024/{m:02}/{d:02}/{acct}_CloudTrail_{region}_2024{m:02}{d:02}T{:02}{:02}Z_{f:016}.json.gz", f / 12, f % 12 * 5),
                        Vec::new(),
                    );
                }
            }
        }
    }
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("discovery of 100k keys", |b| {
        b.iter(|| {
            let mut n = 0;
            discover(&bucket, "", &TimeRange::default(), |found| {
                if let trail_discovery::Found::Folder(p) = found {
                    n += p.objects.len();
                }
                ControlFlow::<()>::Continue(())
            })
            .unwrap();
            assert_eq!(n, 100_000);
        })
    });
    g.finish();
}

criterion_group!(benches, inflate_and_parse, discovery);
criterion_main!(benches);
