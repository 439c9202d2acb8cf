//! Criterion benchmarks of each import stage; this library only builds their shared corpus.
//!
//! [`corpus`] generates (once, into `target/bench-corpus`) a synthetic bucket with
//! `trail-synth`, so every bench reads the same realistic files.

use std::path::PathBuf;

/// A synthetic bucket of about `size` uncompressed bytes, generated on first use.
pub fn corpus(size: u64) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-corpus")
        .join(format!("{size}"));
    if !dir.join("done").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let spec = trail_synth::Spec {
            size,
            awkward: false,
            ..Default::default()
        };
        trail_synth::generate(&dir, &spec).expect("generate the bench corpus");
        std::fs::write(dir.join("done"), b"").expect("mark the corpus done");
    }
    dir
}

/// Every log file of a corpus, gzipped, in key order.
pub fn log_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use trail_discovery::ObjectSource;
    let source = trail_discovery::LocalDirSource::new(dir).expect("corpus dir");
    let mut files = Vec::new();
    trail_discovery::discover(&source, "", &Default::default(), |found| {
        if let trail_discovery::Found::Folder(p) = found {
            for o in p.objects {
                let bytes = source.read(&o.key, o.size).expect("read a corpus file");
                files.push((o.key, bytes));
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    })
    .expect("walk the corpus");
    files
}
