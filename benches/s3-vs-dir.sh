#!/usr/bin/env bash
# `trailport import s3://...` against SeaweedFS (from PyPI) next to the directory import of the
# same synthetic bucket. Usage: bash benches/s3-vs-dir.sh [SIZE] [RUNS]  (default 1GiB, 3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${1:-1GiB}
runs=${2:-3}
cargo build --release --quiet
bin=$root/target/release/trailport
work=$root/target/bench-s3
rm -rf "$work" && mkdir -p "$work"
"$bin" synth --out "$work/bucket" --size "$size" --seed 5 > "$work/synth.json"
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["UncompressedBytes"])' "$work/synth.json")
. "$root/benches/anchors/seaweedfs.sh"
trap 'kill -KILL ${weed_pid:-} 2>/dev/null || true' EXIT
start_seaweedfs "$work"
"$tools/bin/aws" --endpoint-url $endpoint s3 mb s3://bench > /dev/null
"$tools/bin/aws" --endpoint-url $endpoint s3 cp --recursive --quiet "$work/bucket" s3://bench/
calc() { python3 -c "print($1)"; }
dir_t=(); s3_t=()
for _ in $(seq "$runs"); do
  rm -rf "$work"/d.db*; t0=$(date +%s.%N)
  "$bin" import "$work/bucket" --db "$work/d.db" --json > "$work/d.json" || true
  dir_t+=("$(calc "$(date +%s.%N) - $t0")")
  rm -rf "$work"/s.db*; t0=$(date +%s.%N)
  "$bin" import s3://bench/ --endpoint-url $endpoint --db "$work/s.db" --json > "$work/s.json" || true
  s3_t+=("$(calc "$(date +%s.%N) - $t0")")
done
python3 - "$work/d.json" "$work/s.json" <<'PY'
import json, sys
d, s = (json.load(open(p))["ImportStatistics"] for p in sys.argv[1:])
assert d == s, (d, s)
PY
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d=$(median "${dir_t[@]}"); s=$(median "${s3_t[@]}")
echo "bucket: $size requested, $bytes bytes uncompressed; $runs runs each, medians; $(nproc) cores; identical statistics"
printf '%-40s %8.2f s %6.0f MB/s\n' "trailport import DIR" "$d" "$(calc "$bytes / $d / 1e6")"
printf '%-40s %8.2f s %6.0f MB/s\n' "trailport import s3:// (SeaweedFS)" "$s" "$(calc "$bytes / $s / 1e6")"
printf 's3 / dir time: %.2f\n' "$(calc "$s / $d")"
