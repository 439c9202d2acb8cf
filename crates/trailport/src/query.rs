//! `trailport query`: StartQuery and GetQueryResults offline, on this thread, with a spinner
//! while it scans; rows as a table, as GetQueryResults-shaped JSON, or as CSV.

use crate::cli::{QueryArgs, QueryFormat, EXIT_COMPLETED, EXIT_FAILED, EXIT_STOPPED};
use crate::import::scope;
use anyhow::Context;
use aws_api::wire::query_status;
use import_engine::{csv_record, Engine, EngineConfig, QueryStatus, StartQuery, MAX_QUERY_RESULTS};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(a: QueryArgs) -> anyhow::Result<ExitCode> {
    let config = EngineConfig {
        clock: crate::clock()?,
        background: false,
        ..Default::default()
    };
    let engine = Arc::new(
        Engine::open(&a.db, config).with_context(|| format!("opening {}", a.db.display()))?,
    );
    let scope = scope();
    let q = engine.start_query(StartQuery {
        scope: scope.clone(),
        statement: a.statement.clone(),
        delivery_uri: None,
        alias: None,
        parameters: Vec::new(),
        names: true,
    })?;
    {
        let engine = engine.clone();
        let id = q.id.clone();
        ctrlc::set_handler(move || engine.interrupt_query(&id))
            .context("installing the Ctrl-C handler")?;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("template"),
    );
    bar.set_message(format!("query {} running", q.id));
    bar.enable_steady_tick(Duration::from_millis(120));
    // The scan's progress, read from the engine while the query runs on this thread.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (engine, bar, done, id) = (engine.clone(), bar.clone(), done.clone(), q.id.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(n) = engine.query_scanned(&id) {
                    bar.set_message(format!("query {id}: {n} events scanned"));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let ended = engine.run_query(&q.id);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watcher.join();
    let ended = ended?;
    bar.finish_and_clear();
    let s = ended.stats;
    eprintln!(
        "{} {}: {} rows; {} events scanned ({} bytes of records), {} ms",
        query_status(ended.status),
        ended.id,
        s.results_count,
        s.events_scanned,
        s.bytes_scanned,
        s.exec_ms
    );
    match ended.status {
        QueryStatus::Finished | QueryStatus::TimedOut => {}
        QueryStatus::Cancelled => return Ok(ExitCode::from(EXIT_STOPPED)),
        _ => {
            eprintln!(
                "error: {}",
                ended.error_message.as_deref().unwrap_or("the query failed")
            );
            return Ok(ExitCode::from(EXIT_FAILED));
        }
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let names = &ended.columns;
    // Rows are read a page at a time (memory stays flat however many there are); a table
    // takes its column widths from the first page.
    let mut after = 0;
    let mut widths: Vec<usize> = Vec::new();
    let mut first = true;
    loop {
        let page = engine.query_results(&scope, &ended.id, after, MAX_QUERY_RESULTS)?;
        after += page.rows.len() as i64;
        match a.format {
            QueryFormat::Json => {
                for r in &page.rows {
                    let row: Vec<serde_json::Value> = names
                        .iter()
                        .zip(r)
                        .map(|(n, v)| serde_json::json!({ n: v }))
                        .collect();
                    serde_json::to_writer(&mut out, &row)?;
                    writeln!(out)?;
                }
            }
            QueryFormat::Csv => {
                if first {
                    out.write_all(csv_record(names).as_bytes())?;
                }
                for r in &page.rows {
                    out.write_all(csv_record(r).as_bytes())?;
                }
            }
            QueryFormat::Table => {
                if first {
                    widths = names.iter().map(|n| n.chars().count()).collect();
                    for r in &page.rows {
                        for (w, c) in widths.iter_mut().zip(r) {
                            *w = (*w).max(c.chars().count().min(MAX_CELL));
                        }
                    }
                    writeln!(out, "{}", table_line(names, &widths))?;
                    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                    writeln!(out, "{}", rule.join("-+-"))?;
                }
                for r in &page.rows {
                    writeln!(out, "{}", table_line(r, &widths))?;
                }
            }
        }
        first = false;
        if page.next.is_none() {
            break;
        }
    }
    out.flush()?;
    Ok(ExitCode::from(EXIT_COMPLETED))
}

/// The widest a table cell is printed.
const MAX_CELL: usize = 80;

/// One row of the table: cells padded to their column's width, long ones cut.
fn table_line(cells: &[String], widths: &[usize]) -> String {
    cells
        .iter()
        .zip(widths)
        .map(|(c, w)| {
            let c: String = c.chars().take(MAX_CELL).collect();
            format!("{c:<w$}")
        })
        .collect::<Vec<_>>()
        .join(" | ")
        .trim_end()
        .to_string()
}
