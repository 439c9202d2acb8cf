//! `trailport query`: StartQuery and GetQueryResults offline, on this thread, with a spinner
//! while it scans; rows as a table, as GetQueryResults-shaped JSON, or as CSV.

use crate::cli::{QueryArgs, QueryFormat, EXIT_COMPLETED, EXIT_FAILED, EXIT_STOPPED};
use crate::import::scope;
use anyhow::Context;
use aws_api::wire::query_status;
use import_engine::{Engine, EngineConfig, QueryStatus, StartQuery, MAX_QUERY_RESULTS};
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
    let ended = engine.run_query(&q.id, &|_| {})?;
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
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut after = 0;
    loop {
        let page = engine.query_results(&scope, &ended.id, after, MAX_QUERY_RESULTS)?;
        after += page.rows.len() as i64;
        rows.extend(page.rows);
        if page.next.is_none() {
            break;
        }
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let names = &ended.columns;
    match a.format {
        QueryFormat::Json => {
            let json: Vec<Vec<serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    names
                        .iter()
                        .zip(r)
                        .map(|(n, v)| serde_json::json!({ n: v }))
                        .collect()
                })
                .collect();
            serde_json::to_writer(&mut out, &json)?;
            writeln!(out)?;
        }
        QueryFormat::Csv => {
            writeln!(out, "{}", csv_line(names))?;
            for r in &rows {
                writeln!(out, "{}", csv_line(r))?;
            }
        }
        QueryFormat::Table => {
            let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count().min(80));
                }
            }
            let line = |cells: &[String]| -> String {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| {
                        let c: String = c.chars().take(80).collect();
                        format!("{c:<w$}")
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
                    .trim_end()
                    .to_string()
            };
            writeln!(out, "{}", line(names))?;
            writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("-+-")
            )?;
            for r in &rows {
                writeln!(out, "{}", line(r))?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::from(EXIT_COMPLETED))
}

/// One CSV record (RFC 4180 quoting).
pub fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
