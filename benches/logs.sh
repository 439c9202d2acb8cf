#!/usr/bin/env bash
# CloudWatch Logs import tasks: how fast a store goes into its log group, and how fast
# FilterLogEvents scans it with a JSON pattern, next to DuckDB, Python and jq filtering the
# bucket's records with the same condition (each tool must find exactly as many events).
# Installs its anchors itself: jq from apt, DuckDB, boto3 and a Python venv from PyPI.
# Usage: bash benches/logs.sh [SIZE] [RUNS]   (default 1440MiB ≈ 1 million events, 3 runs)
# Writes target/logs-bench/table.md (copy it into docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${1:-1440MiB}
runs=${2:-3}
work=$root/target/logs-bench
mkdir -p "$work"
command -v jq > /dev/null || { apt-get update -qq && apt-get install -y -qq jq > /dev/null; }
venv=$root/target/compare-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import duckdb, boto3' 2>/dev/null ||
  "$venv/bin/pip" install -q --disable-pip-version-check duckdb boto3==1.44.8 botocore==1.44.8 s3transfer==0.19.3
cargo build --release --quiet
bin=$root/target/release/trailport
bucket=$work/bucket-$size
if [ ! -f "$bucket.json" ]; then
  rm -rf "$bucket"
  "$bin" synth --out "$bucket" --size "$size" --seed 11 --clean > "$bucket.json"
fi
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Expected"]["EventsCompleted"])' "$bucket.json")
cores=$(nproc)
export TRAILPORT_NOW=2025-01-01T00:00:00Z

# The store, imported once.
db=$work/store.db
if [ ! -f "$db.done" ]; then
  rm -rf "$db"*
  "$bin" import "$bucket" --db "$db" > /dev/null
  touch "$db.done"
fi
store_bytes=$(stat -c %s "$db")

pattern='{ ($.errorCode = "AccessDenied") && ($.userIdentity.type = "AssumedRole") }'
unindexed='{ $.eventVersion > 1.05 }'

# Each filtering tool prints how many events matched; all must agree.
glob="$bucket/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"
tool_jq() { find "$bucket" -name '*.json.gz' -path '*/CloudTrail/*' -print0 | xargs -0 -P "$cores" -n 16 sh -c 'for f; do zcat "$f" | jq "[.Records[] | select(.errorCode == \"AccessDenied\" and .userIdentity.type == \"AssumedRole\")] | length"; done' _ | awk '{s+=$1} END {print s}'; }
tool_python() {
  "$venv/bin/python" - "$bucket" "$cores" <<'PY'
import glob, gzip, json, multiprocessing, os, sys
def count(path):
    with gzip.open(path, "rb") as f:
        return sum(1 for r in json.load(f)["Records"] if r.get("errorCode") == "AccessDenied" and (r.get("userIdentity") or {}).get("type") == "AssumedRole")
files = sorted(glob.glob(os.path.join(sys.argv[1], "AWSLogs", "*", "CloudTrail", "**", "*.json.gz"), recursive=True))
with multiprocessing.Pool(int(sys.argv[2])) as pool:
    print(sum(pool.map(count, files, chunksize=8)))
PY
}
tool_duckdb() {
  "$venv/bin/python" - "$glob" "$cores" <<'PY'
import duckdb, sys
con = duckdb.connect()
con.execute(f"SET threads = {sys.argv[2]}")
print(con.execute(f"""SELECT count(*) FROM (SELECT unnest(json_extract(json, '$.Records[*]')) AS r FROM read_json_objects('{sys.argv[1]}', format='auto'))
  WHERE json_extract_string(r, '$.errorCode') = 'AccessDenied' AND json_extract_string(r, '$.userIdentity.type') = 'AssumedRole'""").fetchone()[0])
PY
}
tool_trailport_cli() { "$bin" logs filter --db "$taskdb" --pattern "$pattern" | wc -l; }
tool_trailport_cli_unindexed() { "$bin" logs filter --db "$taskdb" --pattern "$unindexed" | wc -l; }
# FilterLogEvents through the server with boto3, following nextToken to the end.
tool_trailport_server() {
  "$venv/bin/python" - "$endpoint" "$group" "$pattern" <<'PY'
import sys, boto3
logs = boto3.client("logs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
n, token = 0, None
while True:
    page = logs.filter_log_events(logGroupName=sys.argv[2], filterPattern=sys.argv[3], **({"nextToken": token} if token else {}))
    n += len(page["events"])
    token = page.get("nextToken")
    if not token:
        break
print(n)
PY
}

declare -A times
taskdb=$work/task.db
for run in $(seq "$runs"); do
  # The store into its group, on a fresh copy of the store.
  rm -rf "$taskdb"*
  cp "$db" "$taskdb" && cp -r "$db-logs" "$taskdb-logs"
  sync
  t0=$(date +%s.%N)
  bytes=$("$bin" logs-import --db "$taskdb" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["importStatistics"]["bytesImported"])')
  t1=$(date +%s.%N)
  times[import]="${times[import]:-} $(python3 -c "print($t1 - $t0)")"
  grown=$(( $(stat -c %s "$taskdb") - store_bytes ))
  eds=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM event_data_stores").fetchone()[0])' "$taskdb")
  group="aws/cloudtrail/$eds"
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  endpoint="http://127.0.0.1:$port"
  "$bin" serve --addr "127.0.0.1:$port" --db "$taskdb" 2> "$work/server.log" &
  server=$!
  for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  want=""
  for t in jq python duckdb trailport_cli trailport_server trailport_cli_unindexed; do
    sync
    t0=$(date +%s.%N)
    got=$("tool_$t")
    t1=$(date +%s.%N)
    if [ "$t" = trailport_cli_unindexed ]; then
      [ "$got" = 0 ] || { echo "$t matched $got events, expected 0"; kill "$server"; exit 1; }
    elif [ -z "$want" ]; then
      want=$got
    else
      [ "$got" = "$want" ] || { echo "$t matched $got events, $want before"; kill "$server"; exit 1; }
    fi
    times[$t]="${times[$t]:-} $(python3 -c "print($t1 - $t0)")"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A label=(
  [import]="trailport logs-import (store → log group)"
  [jq]="zcat + jq over the bucket, $cores processes"
  [python]="Python gzip + json over the bucket, $cores processes"
  [duckdb]="DuckDB read_json_objects over the bucket, $cores threads"
  [trailport_cli]="trailport logs filter, JSON pattern"
  [trailport_server]="FilterLogEvents through the server (boto3, every page)"
  [trailport_cli_unindexed]="trailport logs filter, \`{ \$.eventVersion > 1.05 }\` (every record parsed)"
)
{
  echo "Store: \`trailport synth --size $size --seed 11 --clean\` imported: $events events, $bytes bytes of records. $runs runs, medians; $cores cores."
  echo "The log group added $grown bytes to the database: $((grown / events)) bytes per event (the records average $((bytes / events)) bytes)."
  echo "Pattern: \`$pattern\`, $want matching events."
  echo
  echo "| step | seconds | events/s |"
  echo "|---|---:|---:|"
  for t in import trailport_cli trailport_server trailport_cli_unindexed duckdb python jq; do
    m=$(median "${times[$t]}")
    python3 -c 'import sys; m, e = float(sys.argv[1]), int(sys.argv[2]); print(f"| {sys.argv[3]} | {m:.2f} | {e / m / 1e3:.0f}k |")' "$m" "$events" "${label[$t]}"
  done
} | tee "$work/table.md"
