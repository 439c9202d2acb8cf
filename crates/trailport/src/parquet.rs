//! `trailport export` and `trailport convert`: Lake-schema Parquet out of a store or a bucket,
//! into a directory or an S3 prefix.

use crate::cli::{ConvertArgs, DdlEngine, ExportArgs, ParquetOutArgs, EXIT_COMPLETED, EXIT_FAILED};
use crate::import::{scope, split_source, DEFAULT_STORE};
use anyhow::{bail, Context};
use import_engine::{Engine, EngineConfig, EngineError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lake_parquet::PendingFile;
use lake_parquet::{
    ConvertOptions, ConvertSummary, Dialect, ExportOptions, LocalDir, Output, Shard, TableLocation,
    WriteOptions, WrittenFile,
};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trail_discovery::{LocalDirSource, Location, ObjectSource, TimeRange};
use trail_ingest::IngestOptions;

fn spinner() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The output `--out` names.
fn output(a: &ParquetOutArgs) -> anyhow::Result<Arc<dyn Output>> {
    if a.out.starts_with("s3://") {
        let location = Location::parse(&a.out).map_err(|e| anyhow::anyhow!("{e}"))?;
        let opts = a.s3.options(a.endpoint_url.clone());
        let out = crate::s3_output::S3Output::connect(
            &location.bucket,
            &location.prefix,
            &opts,
            // S3 takes at most 10,000 parts a file.
            a.part_size.max(a.file_size / 9_000).max(1) as usize,
        )?;
        Ok(Arc::new(out))
    } else {
        Ok(Arc::new(
            LocalDir::new(&a.out).with_context(|| format!("making {}", a.out))?,
        ))
    }
}

fn write_options(a: &ParquetOutArgs) -> WriteOptions {
    WriteOptions {
        target_file_bytes: a.file_size.max(1 << 20),
        ..Default::default()
    }
}

fn totals(files: &[WrittenFile]) -> (u64, u64) {
    (
        files.iter().map(|f| f.rows).sum(),
        files.iter().map(|f| f.bytes).sum(),
    )
}

pub fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let scope = scope();
    let store = a.store.clone().unwrap_or_else(|| DEFAULT_STORE.to_string());
    let (start, end) = (
        a.start.map(|t| t.timestamp_millis()),
        a.end.map(|t| t.timestamp_millis()),
    );
    if let Some(engine_kind) = a.print_ddl {
        return print_ddl(&a, engine_kind, &store);
    }
    let engine = open(&a.db)?;
    let out = output(&a.out)?;
    let bar = spinner();
    bar.set_message("exporting");
    let started = Instant::now();
    let opts = ExportOptions {
        store,
        start_ms: start,
        end_ms: end,
        write: write_options(&a.out),
    };
    let summary = lake_parquet::export(&engine, &scope, &opts, out.clone(), &mut |n| {
        bar.set_message(format!("{n} events written"))
    })?;
    bar.finish_and_clear();
    let (rows, bytes) = totals(&summary.files);
    eprintln!(
        "exported {} events of store {} into {} files ({} bytes) under {} in {:.2} s",
        rows,
        summary.store,
        summary.files.len(),
        bytes,
        out.location(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::from(EXIT_COMPLETED))
}

fn open(db: &Path) -> anyhow::Result<Engine> {
    Engine::open(
        db,
        EngineConfig {
            clock: crate::clock()?,
            background: false,
            ..Default::default()
        },
    )
    .with_context(|| format!("opening {}", db.display()))
}

fn print_ddl(a: &ExportArgs, engine_kind: DdlEngine, store: &str) -> anyhow::Result<ExitCode> {
    // The accounts and Regions for Athena's projection come from the store, if there is
    // one (a bucket converted without a store gets injected projection).
    let values = if a.db.exists() {
        match open(&a.db)?.partition_values(&scope(), store) {
            Ok(v) => v,
            Err(EngineError::EventDataStoreNotFound(_)) => Default::default(),
            Err(e) => return Err(e.into()),
        }
    } else {
        Default::default()
    };
    if values.accounts.is_empty() && engine_kind == DdlEngine::Athena {
        eprintln!(
            "note: no store {store} in {}: account and region use injected projection \
             (queries must name them); list them in projection.*.values instead",
            a.db.display()
        );
    }
    let dialect = match engine_kind {
        DdlEngine::Trino => Dialect::Trino,
        DdlEngine::Athena => Dialect::Athena,
        DdlEngine::Spark => Dialect::Spark,
    };
    let location = if a.out.out.starts_with("s3://") {
        a.out.out.trim_end_matches('/').to_string()
    } else {
        std::path::absolute(&a.out.out)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| a.out.out.clone())
    };
    print!(
        "{}",
        lake_parquet::ddl(
            dialect,
            &TableLocation {
                table: a.table.clone(),
                location,
                accounts: values.accounts,
                regions: values.regions,
                first_date: values
                    .first_ms
                    .map(|ms| { lake_parquet::Partition::of(None, None, ms).date() }),
            },
        )
    );
    Ok(ExitCode::from(EXIT_COMPLETED))
}

pub fn convert(a: ConvertArgs) -> anyhow::Result<ExitCode> {
    let shard = Shard::parse(&a.shard).map_err(|e| anyhow::anyhow!("--shard: {e}"))?;
    if let (Some(s), Some(e)) = (a.start, a.end) {
        if s > e {
            bail!("--start must not be later than --end");
        }
    }
    let (source, prefix): (Arc<dyn ObjectSource>, String) = if a.source.starts_with("s3://") {
        let location = Location::parse(&a.source).map_err(|e| anyhow::anyhow!("{e}"))?;
        let opts = a.out.s3.options(a.out.endpoint_url.clone());
        let source = crate::sources::connect_s3(&location.bucket, &opts)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        (Arc::new(source), location.prefix)
    } else {
        let (root, prefix) = split_source(Path::new(&a.source));
        let source = LocalDirSource::new(&root).map_err(|e| anyhow::anyhow!("{e}"))?;
        (Arc::new(source), prefix)
    };
    let out = output(&a.out)?;
    let out: Arc<dyn Output> = match a.abort_after_files {
        Some(n) => Arc::new(AbortAfter {
            inner: out,
            left: Arc::new(AtomicU64::new(n)),
        }),
        None => out,
    };
    let opts = ConvertOptions {
        prefix,
        range: TimeRange::new(a.start, a.end),
        shard,
        write: write_options(&a.out),
        ingest: IngestOptions::with_max_object_bytes(a.max_object_mb << 20),
        ..Default::default()
    };
    let bar = spinner();
    bar.set_message("converting");
    let started = Instant::now();
    let summary = lake_parquet::convert(source.as_ref(), &opts, out.clone(), &mut |s| {
        bar.set_message(format!(
            "{} folders, {} log files, {} events",
            s.folders, s.log_files, s.events
        ))
    })?;
    bar.finish_and_clear();
    report(&summary, out.location(), started.elapsed(), a.json);
    Ok(ExitCode::from(if summary.failures.is_empty() {
        EXIT_COMPLETED
    } else {
        EXIT_FAILED
    }))
}

fn report(s: &ConvertSummary, location: String, took: Duration, json: bool) {
    let (rows, bytes) = totals(&s.files);
    for f in s.failures.iter().take(20) {
        eprintln!(
            "failed: {} {}: {}",
            f.location,
            f.error_type.as_str(),
            f.error_message
        );
    }
    if s.failures.len() > 20 {
        eprintln!("... and {} more failure entries", s.failures.len() - 20);
    }
    eprintln!(
        "converted {} events from {} log files in {} day folders ({} left to other shards) into \
         {} files ({} bytes) under {} in {:.2} s; {} failure entries",
        rows,
        s.log_files,
        s.folders,
        s.other_shards_folders,
        s.files.len(),
        bytes,
        location,
        took.as_secs_f64(),
        s.failures.len()
    );
    if json {
        let v = serde_json::json!({
            "Folders": s.folders,
            "OtherShardsFolders": s.other_shards_folders,
            "LogFiles": s.log_files,
            "Events": s.events,
            "Failures": s.failures.len(),
            "Files": s.files.iter().map(|f| serde_json::json!({
                "Path": f.path, "Rows": f.rows, "Bytes": f.bytes
            })).collect::<Vec<_>>(),
        });
        println!("{v}");
    }
}

/// An output that ends the process (as a crash would) once it has committed `left` files,
/// in the middle of writing the next one: for the tests of reruns after a worker died.
struct AbortAfter {
    inner: Arc<dyn Output>,
    left: Arc<AtomicU64>,
}

struct Counted {
    inner: Box<dyn PendingFile>,
    left: Arc<AtomicU64>,
}

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl PendingFile for Counted {
    fn commit(self: Box<Self>) -> std::io::Result<()> {
        self.inner.commit()?;
        self.left.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Output for AbortAfter {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn PendingFile>> {
        let mut file = self.inner.create(rel)?;
        if self.left.load(Ordering::SeqCst) == 0 {
            // A temporary file half written is what a killed worker leaves behind.
            file.write_all(b"PAR1")?;
            file.flush()?;
            std::process::abort();
        }
        Ok(Box::new(Counted {
            inner: file,
            left: self.left.clone(),
        }))
    }
    fn list(&self, dir: &str) -> std::io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn remove(&self, rel: &str) -> std::io::Result<()> {
        self.inner.remove(rel)
    }
}
