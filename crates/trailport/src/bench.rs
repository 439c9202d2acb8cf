//! `trailport bench`: an import measured end to end and per stage.

use crate::cli::BenchArgs;
use aws_api::wire::import_status;
use import_engine::{
    CreateEventDataStore, Engine, EngineConfig, ObjectSource, OneBucket, Progress, RetentionPolicy,
    RunControl, StartImport,
};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trail_discovery::{LocalDirSource, Location};

pub fn run(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let scratch = tempfile::tempdir()?;
    let (source, prefix, what): (Arc<dyn ObjectSource>, String, String) = match &a.source {
        Some(s) if s.starts_with("s3://") => {
            let location = Location::parse(s).map_err(|e| anyhow::anyhow!("{e}"))?;
            let opts = a.s3.options(a.endpoint_url.clone());
            let source = crate::sources::connect_s3(&location.bucket, &opts)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            (Arc::new(source), location.prefix, s.clone())
        }
        Some(dir) => {
            let (root, prefix) = crate::import::split_source(Path::new(dir));
            let source = LocalDirSource::new(&root).map_err(|e| anyhow::anyhow!("{e}"))?;
            (Arc::new(source), prefix, dir.clone())
        }
        None => {
            let dir = scratch.path().join("bucket");
            eprintln!("generating a synthetic bucket of {} bytes...", a.size);
            let spec = trail_synth::Spec {
                size: a.size,
                awkward: false,
                ..Default::default()
            };
            trail_synth::generate(&dir, &spec)?;
            let source = LocalDirSource::new(&dir).map_err(|e| anyhow::anyhow!("{e}"))?;
            (
                Arc::new(source),
                String::new(),
                format!("synthetic bucket of {} bytes", a.size),
            )
        }
    };
    let db =
        a.db.clone()
            .unwrap_or_else(|| scratch.path().join("bench.db"));
    let config = EngineConfig {
        resolver: Arc::new(OneBucket(source.clone())),
        retention: RetentionPolicy::KeepAll,
        background: false,
        ..Default::default()
    };
    let engine = Arc::new(Engine::open(&db, config)?);
    let scope = crate::import::scope();
    let eds = engine
        .create_event_data_store(CreateEventDataStore::named(
            scope.clone(),
            format!("bench-{}", uuid_suffix()),
        ))?
        .store;
    let import = engine.start_import(StartImport {
        scope,
        destination: eds.arn,
        source_uri: format!("s3://{}/{}", source.bucket(), prefix),
        ..Default::default()
    })?;
    let last = Arc::new(Mutex::new(Progress::default()));
    let listed = Arc::new(Mutex::new(Duration::ZERO));
    let started = Instant::now();
    let control = RunControl {
        on_progress: Some(Arc::new({
            let last = last.clone();
            move |p: &Progress| *last.lock().unwrap_or_else(|e| e.into_inner()) = *p
        })),
        on_discovered: Some(Arc::new({
            let listed = listed.clone();
            move |_, _, _| *listed.lock().unwrap_or_else(|e| e.into_inner()) = started.elapsed()
        })),
        ..Default::default()
    };
    let done = engine.run_import(&import.id, &control)?;
    let wall = started.elapsed().as_secs_f64();
    let last = *last.lock().unwrap_or_else(|e| e.into_inner());
    let p = last.stats;
    let list = listed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_secs_f64();
    let rss_mb = peak_rss_kb() as f64 / 1024.0;
    let secs = |ns: u64| ns as f64 / 1e9;
    let db_bytes = import_engine::stored_bytes(&db);
    let gb = (p.bytes_inflated as f64 / 1e9).max(1e-9);
    let out = serde_json::json!({
        "Source": what,
        "ImportStatus": import_status(done.status),
        "Files": p.files,
        "Events": p.events,
        "FailedEntries": p.failed_entries,
        "BytesCompressed": p.bytes_read,
        "BytesUncompressed": p.bytes_inflated,
        "Seconds": {
            "Wall": wall, "List": list,
            "Read": secs(p.read_ns), "Inflate": secs(p.inflate_ns), "Parse": secs(p.parse_ns),
            "Append": secs(last.append_ns), "Store": secs(last.store_ns),
        },
        "SecondsPerGB": {
            "Read": secs(p.read_ns) / gb, "Inflate": secs(p.inflate_ns) / gb,
            "Parse": secs(p.parse_ns) / gb, "Append": secs(last.append_ns) / gb,
            "Store": secs(last.store_ns) / gb,
        },
        "EventsPerSecond": p.events as f64 / wall,
        "MBPerSecond": p.bytes_inflated as f64 / 1e6 / wall,
        "PeakRssMB": rss_mb,
        "DatabaseBytes": db_bytes,
        "Cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("source      {what}");
        println!(
            "imported    {} files, {} events, {:.1} MB gzipped, {:.1} MB uncompressed ({})",
            p.files,
            p.events,
            p.bytes_read as f64 / 1e6,
            p.bytes_inflated as f64 / 1e6,
            import_status(done.status)
        );
        // Seconds per GB of uncompressed logs: what each stage costs whatever the bucket's size.
        let stage = |name: &str, s: f64, on: &str| {
            println!("  {name:<10}{s:8.3}  {:7.3}  {on}", s / gb);
        };
        println!("stage          seconds     s/GB  on");
        println!("  list      {list:8.3}           wall, until discovery ended");
        stage("read", secs(p.read_ns), "summed over parser threads");
        stage("inflate", secs(p.inflate_ns), "summed over parser threads");
        stage("parse", secs(p.parse_ns), "summed over parser threads");
        stage("append", secs(last.append_ns), "summed over parser threads");
        stage("store", secs(last.store_ns), "the writer thread");
        println!("  total     {wall:8.3}  wall");
        println!(
            "throughput  {:.0} events/s, {:.0} MB/s uncompressed",
            p.events as f64 / wall,
            p.bytes_inflated as f64 / 1e6 / wall
        );
        // Which side bounds this machine: the parsers share the cores, the writer is one.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let parsers = (secs(p.inflate_ns) + secs(p.parse_ns) + secs(last.append_ns)) / cores;
        let writer = secs(last.store_ns);
        println!(
            "bound       {} (inflate + parse + append over {cores} cores: {parsers:.2} s; the writer: {writer:.2} s)",
            if writer > parsers { "the writer" } else { "the parsers" }
        );
        println!(
            "peak RSS    {rss_mb:.0} MB; database and log segments {:.1} MB ({:.2}x the gzipped input)",
            db_bytes as f64 / 1e6,
            db_bytes as f64 / p.bytes_read.max(1) as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn uuid_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// Peak resident set size of this process, from /proc (0 where there is none).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
