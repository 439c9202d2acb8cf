//! `trailport logs-import` (a store into its CloudWatch Logs group, offline, with a progress
//! bar) and `trailport logs groups|filter|get` (reading the group back): the same engine
//! operations the server's Logs API makes.

use crate::cli::{
    LogsArgs, LogsCommand, LogsImportArgs, EXIT_COMPLETED, EXIT_FAILED, EXIT_STOPPED,
};
use crate::import::{scope, DEFAULT_STORE};
use anyhow::Context;
use aws_api::logs_wire::{task_status, ImportW};
use chrono::{DateTime, Utc};
use import_engine::{
    imported_log_group_name, CloudTrailArn, CreateLogTask, Engine, EngineConfig, FilterLogEvents,
    GetLogEvents, LogTask, LogTaskStatus, RetentionPolicy, Scope, StreamSelection, TaskControl,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scope and the ARN of the store `key` names: an ARN (its own scope), or an ID or a name
/// in the offline scope; the offline store when `None`.
fn find_store(engine: &Engine, key: Option<&str>) -> anyhow::Result<(Scope, String)> {
    let key = key.unwrap_or(DEFAULT_STORE);
    if let Some(arn) = CloudTrailArn::parse(key) {
        let scope = Scope::new(arn.account, arn.region);
        let eds = engine.get_event_data_store(&scope, key)?;
        return Ok((scope, eds.arn));
    }
    let scope = scope();
    if let Some(eds) = engine.event_data_store_named(&scope, key)? {
        return Ok((scope, eds.arn));
    }
    let eds = engine
        .get_event_data_store(&scope, key)
        .with_context(|| format!("no event data store named or numbered {key}"))?;
    Ok((scope, eds.arn))
}

fn millis(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis())
}

pub fn import(a: LogsImportArgs) -> anyhow::Result<ExitCode> {
    let mut config = EngineConfig {
        clock: crate::clock()?,
        retention: a
            .retention_days
            .map_or(RetentionPolicy::KeepAll, RetentionPolicy::Days),
        background: false,
        pace_per_batch: a.pace_per_batch.map(Duration::from_millis),
        ..Default::default()
    };
    if let Some(n) = a.abort_after_batches {
        let batches = std::sync::atomic::AtomicU64::new(0);
        config.after_log_batch = Some(Arc::new(move |_: &LogTask| {
            if batches.fetch_add(1, Ordering::SeqCst) + 1 == n {
                std::process::abort();
            }
        }));
    }
    let engine = Arc::new(
        Engine::open(&a.db, config).with_context(|| format!("opening {}", a.db.display()))?,
    );
    let (scope, task) = match &a.resume {
        Some(id) => {
            let task = engine
                .find_log_task(id)?
                .with_context(|| format!("no import task {id} in {}", a.db.display()))?;
            (Scope::new(task.account.clone(), task.region.clone()), task)
        }
        None => {
            let (scope, source_arn) = find_store(&engine, a.store.as_deref())?;
            let task = engine
                .create_log_task(CreateLogTask {
                    scope: scope.clone(),
                    source_arn,
                    role_arn: format!("arn:aws:iam::{}:role/trailport-local", scope.account),
                    start_ms: millis(a.start),
                    end_ms: millis(a.end),
                })
                .map_err(|e| match e {
                    import_engine::EngineError::ImportTaskConflict { task, .. } => {
                        anyhow::anyhow!(
                            "import task {task} of this store is still in progress in {}; finish it with --resume {task}",
                            a.db.display()
                        )
                    }
                    e => e.into(),
                })?;
            (scope, task)
        }
    };
    let control = TaskControl::default();
    {
        let cancel = control.cancel.clone();
        ctrlc::set_handler(move || cancel.store(true, Ordering::SeqCst))
            .context("installing the Ctrl-C handler")?;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} hours {msg} (ETA {eta})",
        )
        .expect("progress template"),
    );
    let started = Instant::now();
    let control = TaskControl {
        on_batch: Some(Arc::new({
            let bar = bar.clone();
            move |t: &LogTask, done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(format!("{} MB", t.bytes_imported / 1_000_000));
            }
        })),
        ..control
    };
    let result = engine.run_log_task(&task.id, &control);
    bar.finish_and_clear();
    let task = result?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ImportW::from(&task))?);
    } else {
        let events = engine
            .log_task_batches(&scope, &task.id, &[], None, usize::MAX)?
            .1
            .items
            .len();
        println!("ImportId          {}", task.id);
        println!("ImportStatus      {}", task_status(task.status));
        println!("Source            {}", task.source_arn);
        println!("Destination       {}", task.destination_arn);
        println!("Batches (hours)   {events}");
        println!("BytesImported     {}", task.bytes_imported);
        println!("Took              {:.2}s", started.elapsed().as_secs_f64());
        if let Some(e) = &task.error_message {
            println!("ErrorMessage      {e}");
        }
    }
    Ok(ExitCode::from(match task.status {
        LogTaskStatus::Completed => EXIT_COMPLETED,
        LogTaskStatus::Cancelled => EXIT_STOPPED,
        _ => EXIT_FAILED,
    }))
}

pub fn read(a: LogsArgs) -> anyhow::Result<ExitCode> {
    if !a.db.exists() {
        anyhow::bail!("no database at {}", a.db.display());
    }
    let engine = Engine::open_read_only(&a.db)?;
    let (scope, group) = match &a.group {
        Some(g) => (scope(), g.clone()),
        None => {
            let (scope, arn) = find_store(&engine, a.store.as_deref())?;
            let id = arn.rsplit('/').next().unwrap_or_default().to_string();
            (scope, imported_log_group_name(&id))
        }
    };
    let mut out = std::io::stdout().lock();
    match a.command {
        LogsCommand::Groups => {
            let page = engine.describe_log_groups(
                &scope,
                &import_engine::DescribeLogGroups {
                    limit: usize::MAX,
                    ..Default::default()
                },
            )?;
            for g in page.items {
                writeln!(out, "{}\t{}\t{}", g.name, g.class, g.stored_bytes)?;
            }
        }
        LogsCommand::Filter {
            pattern,
            start,
            end,
            stream,
            limit,
        } => {
            let mut after = None;
            let mut left = limit.unwrap_or(usize::MAX);
            while left > 0 {
                let page = engine.filter_log_events(
                    &scope,
                    &FilterLogEvents {
                        group: group.clone(),
                        streams: if stream.is_empty() {
                            StreamSelection::All
                        } else {
                            StreamSelection::Names(stream.clone())
                        },
                        start_ms: millis(start),
                        end_ms: millis(end),
                        pattern: pattern.clone().unwrap_or_default(),
                        limit: left.min(import_engine::MAX_PAGE_EVENTS),
                        after,
                    },
                )?;
                for e in &page.events {
                    out.write_all(&e.message)?;
                    out.write_all(b"\n")?;
                }
                left -= page.events.len();
                match page.next {
                    Some(p) => after = Some(p),
                    None => break,
                }
            }
        }
        LogsCommand::Get { stream } => {
            let mut cursor = None;
            loop {
                let page = engine.get_log_events(
                    &scope,
                    &GetLogEvents {
                        group: group.clone(),
                        stream: stream.clone(),
                        start_ms: None,
                        end_ms: None,
                        limit: import_engine::MAX_PAGE_EVENTS,
                        from_head: true,
                        cursor,
                    },
                )?;
                if page.events.is_empty() {
                    break;
                }
                for e in &page.events {
                    out.write_all(&e.message)?;
                    out.write_all(b"\n")?;
                }
                cursor = Some(page.forward);
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
