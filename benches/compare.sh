#!/usr/bin/env bash
# trailport side by side with DuckDB, jq and Python on the same synthetic bucket, run
# alternately, medians printed with the ratio to `trailport import`. Installs its anchors
# itself: jq from apt, DuckDB and a Python venv from PyPI.
# Usage: bash benches/compare.sh [SIZE] [RUNS] [RECORDS]   (default 1GiB, 3 runs, 20-1200)
# RECORDS is the records per log file, MIN-MAX: the default makes files of ~850 KB
# uncompressed; `1-100` makes the small files (~70 KB) trails write every few minutes.
# Writes target/compare/table-RECORDS.md and chart-RECORDS.svg (copy them into docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${1:-1GiB}
runs=${2:-3}
records=${3:-20-1200}
work=$root/target/compare
mkdir -p "$work"
command -v jq > /dev/null || { apt-get update -qq && apt-get install -y -qq jq > /dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time > /dev/null; }
venv=$root/target/compare-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import duckdb' 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check duckdb
cargo build --release --quiet
bin=$root/target/release/trailport
bucket=$work/bucket-$size-$records
if [ ! -f "$bucket.json" ]; then
  rm -rf "$bucket"
  "$bin" synth --out "$bucket" --size "$size" --seed 11 --clean --records-per-file "$records" > "$bucket.json"
fi
gzipped=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CompressedBytes"])' "$bucket.json")
files=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Expected"]["FilesCompleted"])' "$bucket.json")
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["UncompressedBytes"])' "$bucket.json")
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Expected"]["EventsCompleted"])' "$bucket.json")
cores=$(nproc)

# Each tool prints the number of events it counted; a tool that counts wrong fails the run.
tool_jq() { find "$bucket" -name '*.json.gz' -path '*/CloudTrail/*' -print0 | xargs -0 -P "$cores" -n 16 sh -c 'for f; do zcat "$f" | jq ".Records|length"; done' _ | awk '{s+=$1} END {print s}'; }
tool_python() { "$venv/bin/python" "$root/benches/anchors/count.py" "$bucket" "$cores"; }
tool_duckdb() {
  "$venv/bin/python" - "$bucket" "$cores" <<'PY'
import duckdb, sys
con = duckdb.connect()
con.execute(f"SET threads = {sys.argv[2]}")
glob = sys.argv[1] + "/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
print(con.execute(f"SELECT count(*) FROM (SELECT unnest(json_extract(json, '$.Records[*]')) FROM read_json_objects('{glob}', format='auto'))").fetchone()[0])
PY
}
tool_trailport_dry() { "$bin" import "$bucket" --dry-run --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["EventsCompleted"])'; }
# The import also records its peak RSS and the database's size. The last run's database is
# removed before the clock starts (prep_trailport).
prep_trailport() { rm -rf "$work"/t.db*; }
tool_trailport() {
  /usr/bin/time -f %M -o "$work/t.rss" "$bin" import "$bucket" --db "$work/t.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ImportStatistics"]["EventsCompleted"])'
  cat "$work/t.rss" >> "$work/rss.list"
  du -sb "$work/t.db" "$work/t.db-logs" | awk '{ s += $1 } END { print s }' > "$work/db.size"
}
: > "$work/rss.list"

tools=(jq python duckdb trailport_dry trailport)
declare -A label=([jq]="zcat + jq, $cores processes" [python]="Python gzip + json, $cores processes" [duckdb]="DuckDB read_json_objects + unnest, $cores threads" [trailport_dry]="trailport import --dry-run" [trailport]="trailport import (SQLite)")
declare -A times
for run in $(seq "$runs"); do
  for t in "${tools[@]}"; do
    if declare -F "prep_$t" > /dev/null; then "prep_$t"; fi
    sync
    t0=$(date +%s.%N)
    got=$("tool_$t")
    t1=$(date +%s.%N)
    [ "$got" = "$events" ] || { echo "$t counted $got events, expected $events"; exit 1; }
    times[$t]="${times[$t]:-} $(python3 -c "print($t1 - $t0)")"
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ref=$(median "${times[trailport]}")
: > "$work/table.tsv"
{
  echo "Bucket: \`trailport synth --size $size --seed 11 --clean --records-per-file $records\`: $files files, $bytes bytes uncompressed, $gzipped gzipped, $events events. $runs runs each, alternating; medians; $cores cores."
  echo
  echo "| tool | seconds | MB/s uncompressed | events/s | time vs trailport import |"
  echo "|---|---:|---:|---:|---:|"
  for t in "${tools[@]}"; do
    m=$(median "${times[$t]}")
    python3 - "$m" "$bytes" "$events" "$ref" "${label[$t]}" "$work/table.tsv" <<'PY'
import sys
m, b, e, ref = (float(x) for x in sys.argv[1:5])
name, tsv = sys.argv[5], sys.argv[6]
print(f"| {name} | {m:.2f} | {b / m / 1e6:.0f} | {e / m / 1e3:.0f}k | {m / ref:.2f}× |")
open(tsv, "a").write(f"{name}\t{b / m / 1e6:.1f}\t{e / m:.0f}\n")
PY
  done
  echo
  python3 - "$(median "$(cat "$work/rss.list")")" "$(cat "$work/db.size")" "$gzipped" "$(median "${times[duckdb]}")" "$ref" <<'PY'
import sys
rss_kb, db, gz, duck, tp = (float(x) for x in sys.argv[1:6])
print(f"trailport import: peak RSS {rss_kb / 1024:.0f} MB; database and its log segments {db / 1e6:.1f} MB = {db / gz:.2f}× the gzipped input; DuckDB ÷ import = {duck / tp:.2f}×.")
PY
} | tee "$work/table-$records.md"
rm -rf "$work"/t.db*
python3 "$root/benches/anchors/chart.py" "$work/table.tsv" "$work/chart-$records.svg" "Counting or importing $size of CloudTrail logs ($records records per file), $cores cores"
echo "chart: $work/chart-$records.svg"
