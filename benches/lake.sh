#!/usr/bin/env bash
# Lake queries: trailport next to DuckDB reading the same gzip files, alternated in one run.
#   A  an aggregate over indexed columns   SELECT eventName, count(*) ... GROUP BY 1 ORDER BY 2 DESC
#   B  a filter on a struct and a map field over every event
#   C  the first page of a LIMIT 10 query through the server (boto3: StartQuery, poll, page)
#   D  an ORDER BY over every event: peak RSS (it must spill, not grow)
# Each pair of tools must give the same answer. Installs DuckDB and boto3 in a venv itself.
# Usage: bash benches/lake.sh [SIZE] [RUNS]   (default 1GiB, 3 runs)
# Writes target/lake-bench/table.md (copy it into docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${1:-1GiB}
runs=${2:-3}
work=$root/target/lake-bench
mkdir -p "$work"
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
gz_bytes=$(du -sb "$bucket" | cut -f1)
cores=$(nproc)
export TRAILPORT_NOW=2025-01-01T00:00:00Z
db=$work/store.db
if [ ! -f "$db.done" ]; then
  rm -rf "$db"*
  "$bin" import "$bucket" --db "$db" > /dev/null
  touch "$db.done"
fi
glob="$bucket/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"

duck() {
  "$venv/bin/python" - "$glob" "$cores" "$1" <<'PY'
import duckdb, sys
con = duckdb.connect()
con.execute(f"SET threads = {sys.argv[2]}")
records = f"(SELECT unnest(json_extract(json, '$.Records[*]')) AS r FROM read_json_objects('{sys.argv[1]}', format='auto'))"
if sys.argv[3] == "A":
    rows = con.execute(f"""SELECT json_extract_string(r, '$.eventName') AS n, count(*) AS c FROM {records}
        GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()
    for n, c in rows:
        print(f"{n},{c}")
else:
    print(con.execute(f"""SELECT count(*) FROM {records}
        WHERE json_extract_string(r, '$.userIdentity.sessionContext.sessionIssuer.userName') LIKE 'a%'
          AND json_extract_string(r, '$.requestParameters.bucketName') IS NOT NULL""").fetchone()[0])
PY
}
query_a="SELECT eventName, count(*) FROM trailport GROUP BY 1 ORDER BY 2 DESC, 1"
query_b="SELECT count(*) FROM trailport WHERE userIdentity.sessionContext.sessionIssuer.userName LIKE 'a%' AND element_at(requestParameters, 'bucketName') IS NOT NULL"
tp() { "$bin" query "$1" --db "$db" --format csv 2> /dev/null | tail -n +2; }

declare -A times
now() { date +%s.%N; }
for run in $(seq "$runs"); do
  for t in duck_A tp_A duck_B tp_B; do
    sync
    t0=$(now)
    case $t in
      duck_A) out=$(duck A) ;;
      tp_A) out=$(tp "$query_a") ;;
      duck_B) out=$(duck B) ;;
      tp_B) out=$(tp "$query_b") ;;
    esac
    t1=$(now)
    times[$t]="${times[$t]:-} $(python3 -c "print($t1 - $t0)")"
    echo "$out" > "$work/$t.out"
  done
  cmp -s "$work/duck_A.out" "$work/tp_A.out" || { echo "A: trailport and DuckDB disagree"; diff "$work/duck_A.out" "$work/tp_A.out" | head; exit 1; }
  cmp -s "$work/duck_B.out" "$work/tp_B.out" || { echo "B: trailport $(cat "$work/tp_B.out"), DuckDB $(cat "$work/duck_B.out")"; exit 1; }
done

# C: the first page of a LIMIT 10 query through the server.
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --addr "127.0.0.1:$port" --db "$db" 2> "$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
eds=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM event_data_stores").fetchone()[0])' "$db")
first_page=$("$venv/bin/python" - "http://127.0.0.1:$port" "$eds" "$runs" <<'PY'
import sys, time, statistics, boto3
ct = boto3.client("cloudtrail", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
sql = f"SELECT eventTime, eventName, userIdentity.arn, sourceIPAddress FROM {sys.argv[2]} LIMIT 10"
ct.describe_query  # warm the client
took = []
for _ in range(max(5, int(sys.argv[3]))):
    t0 = time.perf_counter()
    qid = ct.start_query(QueryStatement=sql)["QueryId"]
    while True:
        r = ct.get_query_results(QueryId=qid)
        if r["QueryStatus"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.002)
    assert r["QueryStatus"] == "FINISHED" and len(r["QueryResultRows"]) == 10, r
    took.append(time.perf_counter() - t0)
print(f"{statistics.median(took) * 1000:.1f}")
PY
)
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT

# D: an ORDER BY over every event, peak RSS.
rm -rf "$work/order.db"*
cp "$db" "$work/order.db" && cp -r "$db-logs" "$work/order.db-logs"
sync
t0=$(now)
/usr/bin/time -f "%M" -o "$work/order.rss" "$bin" query \
  "SELECT eventID, eventTime, sourceIPAddress, userIdentity.arn FROM trailport ORDER BY sourceIPAddress DESC, eventID" \
  --db "$work/order.db" --format csv > "$work/order.csv" 2> /dev/null
t1=$(now)
order_rows=$(($(wc -l < "$work/order.csv") - 1))
[ "$order_rows" = "$events" ] || { echo "D: $order_rows rows, expected $events"; exit 1; }
order_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
order_mb=$(( $(cat "$work/order.rss") / 1024 ))

median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
{
  echo "Bucket: \`trailport synth --size $size --seed 11 --clean\`: $events events, $gz_bytes bytes gzipped; imported once into the store. $runs runs alternated, medians; $cores cores."
  echo
  echo "| query | DuckDB over the gzip files (s) | trailport query (s) | DuckDB ÷ trailport |"
  echo "|---|---:|---:|---:|"
  for q in A B; do
    d=$(median "${times[duck_$q]}")
    t=$(median "${times[tp_$q]}")
    case $q in
      A) label="A: \`$query_a\`" ;;
      B) label="B: struct and map filter over every event, count(*)" ;;
    esac
    python3 -c 'import sys; d, t = float(sys.argv[1]), float(sys.argv[2]); print(f"| {sys.argv[3]} | {d:.2f} | {t:.2f} | {d / t:.1f}× |")' "$d" "$t" "$label"
  done
  echo
  echo "C: first page of \`SELECT eventTime, eventName, userIdentity.arn, sourceIPAddress FROM <id> LIMIT 10\` through the server (boto3: StartQuery, then GetQueryResults until FINISHED), median: $first_page ms."
  echo
  echo "D: \`ORDER BY sourceIPAddress DESC, eventID\` over all $events events (4 columns, every row stored as a result and printed as CSV): $order_s s, peak RSS $order_mb MB."
} | tee "$work/table.md"
