//! `trailport`: the command line. The only place that wires discovery, ingest, store and engine.

mod bench;
mod cli;
mod import;
mod output;
mod serve;
mod sources;
mod synth;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Import(a) => import::run(a),
        cli::Command::Synth(a) => synth::run(a),
        cli::Command::Events(a) => output::events(a),
        cli::Command::Serve(a) => serve::run(a),
        cli::Command::Bench(a) => bench::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}
