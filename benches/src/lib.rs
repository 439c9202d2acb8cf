//! Criterion benchmarks of each import stage; the benches live in `benches/benches/`.
