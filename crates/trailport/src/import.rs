//! `trailport import`: run an import of a directory bucket with a progress bar.

use crate::cli::{ImportArgs, EXIT_COMPLETED, EXIT_FAILED, EXIT_STOPPED, EXIT_USAGE};
use crate::output;
use anyhow::{bail, Context};
use import_engine::{
    count_only, CreateEventDataStore, Engine, EngineConfig, EngineError, ImportStatus, OneBucket,
    Progress, RetentionPolicy, RunControl, Scope, StartImport,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use s3_source::S3Options;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use trail_discovery::{LocalDirSource, Location, ObjectSource, TimeRange};
use trail_ingest::IngestOptions;

/// The account and Region offline imports are recorded under.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// The event data store offline imports go into.
pub const DEFAULT_STORE: &str = "trailport";

/// The scope offline imports are recorded under.
pub fn scope() -> Scope {
    Scope::new(ACCOUNT, REGION)
}

pub fn run(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let (source, prefix, bucket_region, root): (Arc<dyn ObjectSource>, String, String, String) =
        if a.source.starts_with("s3://") {
            let location = Location::parse(&a.source).map_err(|e| anyhow::anyhow!("{e}"))?;
            let opts = a.s3.options(a.endpoint_url.clone());
            let source = crate::sources::connect_s3(&location.bucket, &opts)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let region = opts.region.clone().unwrap_or_else(|| REGION.to_string());
            let root = format!("s3 {}", opts.endpoint_url.as_deref().unwrap_or("aws"));
            (Arc::new(source), location.prefix, region, root)
        } else {
            let (root, prefix) = split_source(Path::new(&a.source));
            let source = LocalDirSource::new(&root).map_err(|e| anyhow::anyhow!("{e}"))?;
            let root = source.root().display().to_string();
            (Arc::new(source), prefix, REGION.to_string(), root)
        };
    let range = TimeRange::new(a.start, a.end);
    if let (Some(s), Some(e)) = (a.start, a.end) {
        if s > e {
            bail!("--start must not be later than --end");
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let clock = crate::clock()?;
    let max_object_bytes = a.max_object_mb << 20;
    if a.dry_run {
        let opts = IngestOptions {
            retention_cutoff_ms: a.retention_days.map(|d| clock.now_ms() - d * 86_400_000),
            ..IngestOptions::with_max_object_bytes(max_object_bytes)
        };
        return dry_run(source.as_ref(), &prefix, &range, &opts, &stop, a.json);
    }

    let mut config = EngineConfig {
        clock,
        resolver: Arc::new(OneBucket(source.clone())),
        retention: a
            .retention_days
            .map_or(RetentionPolicy::KeepAll, RetentionPolicy::Days),
        background: false,
        pace_per_file: a.pace_per_file.map(std::time::Duration::from_millis),
        max_object_bytes,
        ..Default::default()
    };
    a.hooks.apply(&mut config);
    let engine = Arc::new(
        Engine::open(&a.db, config).with_context(|| format!("opening {}", a.db.display()))?,
    );
    let scope = scope();
    let eds = match engine.event_data_store_named(&scope, DEFAULT_STORE)? {
        Some(eds) => eds,
        None => {
            let mut create = CreateEventDataStore::named(scope.clone(), DEFAULT_STORE);
            create.retention_days = Some(import_engine::MAX_RETENTION_DAYS);
            engine.create_event_data_store(create)?.store
        }
    };
    let import = match &a.resume {
        Some(id) => {
            let import = engine.get_import(&scope, id)?;
            let from = import.source_root.as_deref().unwrap_or(&root);
            if from != root
                || !import
                    .source_uri
                    .starts_with(&format!("s3://{}/", source.bucket()))
            {
                bail!(
                    "import {id} reads {} from {from}; resume it from there, not from {root}",
                    import.source_uri
                );
            }
            if import.status.is_ongoing() {
                import
            } else {
                engine.retry_import(&scope, id)?
            }
        }
        None => engine
            .start_import(StartImport {
                scope: scope.clone(),
                destination: eds.arn.clone(),
                source_uri: format!("s3://{}/{}", source.bucket(), prefix),
                bucket_region,
                role_arn: format!("arn:aws:iam::{ACCOUNT}:role/trailport-local"),
                start: a.start,
                end: a.end,
                source_root: Some(root.clone()),
            })
            .map_err(|e| match e {
                EngineError::AccountHasOngoingImport(id) => anyhow::anyhow!(
                    "import {id} is still in progress in {}; finish it with --resume {id}",
                    a.db.display()
                ),
                e => e.into(),
            })?,
    };

    let bar = progress_bar();
    let started = Instant::now();
    let control = RunControl {
        stop: stop.clone(),
        on_progress: Some(Arc::new({
            let bar = bar.clone();
            move |p: &Progress| {
                bar.set_position(p.stats.bytes_read);
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!(
                    "{} files, {} events, {:.0} MB/s",
                    p.stats.files,
                    p.stats.events,
                    p.stats.bytes_inflated as f64 / 1e6 / secs
                ));
            }
        })),
        on_discovered: Some(Arc::new({
            let bar = bar.clone();
            move |_, _files, bytes| bar.set_length(bytes)
        })),
    };
    let result = engine.run_import(&import.id, &control);
    bar.finish_and_clear();
    let record = result?;
    if a.json {
        let out = aws_api::wire::ImportOut::from_record(&record, true);
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let failures = engine.list_import_failures(&scope, &record.id, None, 10_000)?;
        output::print_import(&record, &failures.items, started.elapsed());
    }
    Ok(ExitCode::from(match record.status {
        ImportStatus::Completed => EXIT_COMPLETED,
        ImportStatus::Failed => EXIT_FAILED,
        ImportStatus::Stopped => EXIT_STOPPED,
        _ => EXIT_USAGE,
    }))
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (ETA {eta})",
        )
        .expect("progress template"),
    );
    bar
}

fn dry_run(
    source: &dyn ObjectSource,
    prefix: &str,
    range: &TimeRange,
    opts: &IngestOptions,
    stop: &AtomicBool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (found, counted) = count_only(source, prefix, range, opts, stop)?;
    let secs = started.elapsed().as_secs_f64();
    let out = serde_json::json!({
        "PrefixesFound": found.prefixes_found,
        "FilesCompleted": counted.files,
        "EventsCompleted": counted.events,
        "FailedEntries": counted.failed_entries,
        "InvalidRecords": counted.invalid_records,
        "ExpiredRecords": counted.expired_records,
        "BytesRead": counted.bytes_read,
        "BytesInflated": counted.bytes_inflated,
        "Seconds": secs,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "dry run: {} prefixes, {} files, {} events, {} failed entries in {:.2}s ({:.0} MB/s inflated)",
            found.prefixes_found,
            counted.files,
            counted.events,
            counted.failed_entries,
            secs,
            counted.bytes_inflated as f64 / 1e6 / secs.max(1e-9)
        );
    }
    Ok(ExitCode::from(if counted.failed_entries > 0 {
        EXIT_FAILED
    } else {
        EXIT_COMPLETED
    }))
}

/// Splits `DIR[/AWSLogs/...]` into the bucket root and the prefix inside it: the root is the
/// directory holding `AWSLogs` when the path goes through one, else the whole path.
pub fn split_source(path: &Path) -> (PathBuf, String) {
    let comps: Vec<Component> = path.components().collect();
    let Some(i) = comps.iter().position(|c| c.as_os_str() == "AWSLogs") else {
        return (path.to_path_buf(), String::new());
    };
    let root: PathBuf = if i == 0 {
        PathBuf::from(".")
    } else {
        comps[..i].iter().collect()
    };
    let prefix: Vec<String> = comps[i..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (root, format!("{}/", prefix.join("/")))
}

impl crate::cli::S3Args {
    /// The S3 options these arguments and `endpoint` give.
    pub fn options(&self, endpoint: Option<String>) -> S3Options {
        S3Options {
            endpoint_url: endpoint,
            region: self.region.clone(),
            profile: self.profile.clone(),
            relaxed_checksums: self.relaxed_checksums,
            concurrency: self.s3_concurrency,
            ..Default::default()
        }
    }
}
