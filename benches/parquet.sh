#!/usr/bin/env bash
# Lake-schema Parquet: `trailport convert` (bucket -> Parquet) and `trailport export`
# (store -> Parquet) side by side with `trailport import` and with DuckDB writing the same
# bucket's records as hive-partitioned zstd Parquet, run alternately; medians, events/s and
# peak RSS. Every tool's event count is checked (reading its Parquet back with DuckDB).
# Usage: bash benches/parquet.sh [SIZE] [RUNS] [RECORDS]   (default 1GiB, 3 runs, 20-1200)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${1:-1GiB}
runs=${2:-3}
records=${3:-20-1200}
work=$root/target/compare
mkdir -p "$work"
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
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["UncompressedBytes"])' "$bucket.json")
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Expected"]["EventsCompleted"])' "$bucket.json")
cores=$(nproc)
out=$work/parquet-out
db=$work/parquet.db

count() {
  "$venv/bin/python" - "$1" <<'PY'
import duckdb, sys
print(duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{sys.argv[1]}/**/*.parquet')").fetchone()[0])
PY
}
# Each tool prints the events it wrote; /usr/bin/time appends the command's own seconds and
# peak RSS to run-TOOL (so counting the output afterwards is not timed).
timed() { local t=$1; shift; /usr/bin/time -f '%e %M' -a -o "$work/run-$t" "$@"; }
tool_import() {
  rm -rf "$db"*
  timed import "$bin" import "$bucket" --db "$db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ImportStatistics"]["EventsCompleted"])'
}
tool_convert() {
  rm -rf "$out"
  timed convert "$bin" convert "$bucket" --out "$out" > /dev/null 2>&1
  du -sb "$out" | cut -f1 > "$work/bytes-convert"
  count "$out"
}
tool_export() {
  rm -rf "$out"
  timed export "$bin" export --db "$db" --out "$out" > /dev/null 2>&1
  du -sb "$out" | cut -f1 > "$work/bytes-export"
  count "$out"
}
tool_duckdb() {
  rm -rf "$out"
  timed duckdb "$venv/bin/python" - "$bucket" "$out" "$cores" <<'PY'
import duckdb, sys
con = duckdb.connect()
con.execute(f"SET threads = {sys.argv[3]}")
glob = sys.argv[1] + "/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
con.execute(f"""
COPY (
  SELECT j->>'recipientAccountId' AS account, j->>'awsRegion' AS region,
         substr(j->>'eventTime', 1, 10) AS date,
         j->>'eventTime' AS eventtime, j->>'eventSource' AS eventsource,
         j->>'eventName' AS eventname, j::VARCHAR AS eventjson
  FROM (SELECT unnest(json_extract(json, '$.Records[*]')) AS j
        FROM read_json_objects('{glob}', format='auto'))
) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account, region, date))
""")
PY
  du -sb "$out" | cut -f1 > "$work/bytes-duckdb"
  count "$out"
}

tools=(import convert export duckdb)
declare -A label=([import]="trailport import (SQLite)" [convert]="trailport convert (bucket → Parquet, all 33 Lake columns)" [export]="trailport export (store → Parquet, all 33 Lake columns)" [duckdb]="DuckDB: records → Parquet (7 columns, partitioned, zstd), $cores threads")
for t in "${tools[@]}"; do : > "$work/run-$t"; done
for run in $(seq "$runs"); do
  for t in "${tools[@]}"; do
    sync
    got=$("tool_$t")
    [ "$got" = "$events" ] || { echo "$t wrote $got events, expected $events"; exit 1; }
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "Bucket: \`trailport synth --size $size --seed 11 --clean --records-per-file $records\`: $bytes bytes uncompressed, $events events. $runs runs each, alternating; medians; $cores cores. Seconds and RSS are each command's own (\`/usr/bin/time\`)."
echo
echo "| tool | seconds | events/s | peak RSS | output |"
echo "|---|---:|---:|---:|---:|"
for t in "${tools[@]}"; do
  m=$(median "$(cut -d' ' -f1 "$work/run-$t")")
  rss=$(median "$(cut -d' ' -f2 "$work/run-$t")")
  size_out=$( [ -f "$work/bytes-$t" ] && cat "$work/bytes-$t" || echo 0)
  python3 - "$m" "$events" "$rss" "$size_out" "${label[$t]}" <<'PY'
import sys
m, e, rss, out = (float(x) for x in sys.argv[1:5])
o = f"{out / 1e6:.0f} MB" if out else "SQLite"
print(f"| {sys.argv[5]} | {m:.2f} | {e / m / 1e3:.0f}k | {rss / 1024:.0f} MB | {o} |")
PY
done
rm -rf "$out" "$db"*
