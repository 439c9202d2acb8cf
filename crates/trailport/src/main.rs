//! `trailport`: the command line. The only place that wires discovery, ingest, store, engine
//! and the API together.

mod bench;
mod cli;
mod import;
mod logs;
mod output;
mod parquet;
mod query;
mod s3_output;
mod serve;
mod sources;
mod synth;

use clap::Parser;
use import_engine::{Clock, EngineConfig, FixedClock, SystemClock};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Import(a) => import::run(a),
        cli::Command::Synth(a) => synth::run(a),
        cli::Command::Events(a) => output::events(a),
        cli::Command::Serve(a) => serve::run(a),
        cli::Command::Bench(a) => bench::run(a),
        cli::Command::LogsImport(a) => logs::import(a),
        cli::Command::Logs(a) => logs::read(a),
        cli::Command::Query(a) => query::run(a),
        cli::Command::Export(a) => parquet::export(a),
        cli::Command::Convert(a) => parquet::convert(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}

/// The engine's clock: the system's, or the instant `TRAILPORT_NOW` (RFC 3339) names, frozen
/// there (for tests, and for replays that must see old records as they were seen then).
pub fn clock() -> anyhow::Result<Arc<dyn Clock>> {
    match std::env::var("TRAILPORT_NOW") {
        Ok(t) => Ok(Arc::new(FixedClock::at(&t).ok_or_else(|| {
            anyhow::anyhow!("TRAILPORT_NOW={t:?} is not an RFC 3339 time")
        })?)),
        Err(_) => Ok(Arc::new(SystemClock)),
    }
}

impl cli::TestHooks {
    /// Puts the hooks into an engine's configuration.
    pub fn apply(&self, config: &mut EngineConfig) {
        if let Some(n) = self.batch_files {
            config.batch.files = n.max(1);
        }
        if let Some(text) = self.abort_on_key.clone() {
            config.read_hook = Some(import_engine::ReadHook(Arc::new(move |key: &str| {
                if key.contains(&text) {
                    std::process::abort();
                }
            })));
        }
        if self.gate_file.is_some() || self.abort_after_commits.is_some() {
            let gate = self.gate_file.clone();
            let abort_after = self.abort_after_commits;
            let commits = std::sync::atomic::AtomicU64::new(0);
            config.after_commit = Some(Arc::new(move |_, stop| {
                let n = commits.fetch_add(1, Ordering::SeqCst) + 1;
                if abort_after == Some(n) {
                    std::process::abort();
                }
                while gate.as_ref().is_some_and(|g| g.exists()) && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }));
        }
    }
}
