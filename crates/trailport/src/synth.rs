//! `trailport synth`.

use crate::cli::SynthArgs;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(a: SynthArgs) -> anyhow::Result<ExitCode> {
    let spec = trail_synth::Spec {
        size: a.size,
        seed: a.seed,
        accounts: a.accounts,
        regions: a.regions,
        days: a.days,
        awkward: !a.clean,
        records_per_file: a.records_per_file,
    };
    let t = Instant::now();
    let e = trail_synth::generate(&a.out, &spec)?;
    let out = serde_json::json!({
        "Bucket": a.out.display().to_string(),
        "Expected": {
            "PrefixesFound": e.prefixes_found,
            "PrefixesCompleted": e.prefixes_found,
            "FilesCompleted": e.files_completed,
            "EventsCompleted": e.events_completed,
            "FailedEntries": e.failed_entries,
        },
        "InvalidRecords": e.invalid_records,
        "IgnoredObjects": e.ignored_objects,
        "UncompressedBytes": e.uncompressed_bytes,
        "CompressedBytes": e.compressed_bytes,
        "Seconds": (t.elapsed().as_secs_f64() * 100.0).round() / 100.0,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
