#!/usr/bin/env bash
# Import throughput through `trailport serve` next to `trailport import` on the same synthetic
# bucket, and GetImport requests per second. Usage: bash benches/server-vs-cli.sh [SIZE] [RUNS]
# (default 1GiB, 3 runs each, alternating). Needs wrk (apt-get install wrk) for the last part.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GiB}
runs=${2:-3}
cargo build --release --quiet
bin=$(pwd)/target/release/trailport
work=$(pwd)/target/bench-server
rm -rf "$work" && mkdir -p "$work/buckets"
"$bin" synth --out "$work/buckets/synth" --size "$size" --seed 5 > "$work/synth.json"
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["UncompressedBytes"])' "$work/synth.json")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

call() { # call OP JSON
  curl -s -X POST "http://127.0.0.1:$port/" -H "X-Amz-Target: CloudTrail_20131101.$1" \
    -H 'Content-Type: application/x-amz-json-1.1' -d "$2"
}
calc() { python3 -c "print($1)"; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

cli_times=(); server_times=(); own_times=()
for run in $(seq "$runs"); do
  rm -rf "$work"/cli.db*
  t0=$(date +%s.%N)
  "$bin" import "$work/buckets/synth" --db "$work/cli.db" --json > /dev/null || true
  cli_times+=("$(calc "$(date +%s.%N) - $t0")")

  rm -rf "$work"/server.db*
  "$bin" serve --addr "127.0.0.1:$port" --db "$work/server.db" --buckets-dir "$work/buckets" 2>/dev/null &
  pid=$!
  until curl -s "http://127.0.0.1:$port/" > /dev/null; do sleep 0.05; done
  arn=$(field "$(call CreateEventDataStore '{"Name":"bench","RetentionPeriod":3653}')" EventDataStoreArn)
  src='{"S3":{"S3LocationUri":"s3://synth/","S3BucketRegion":"us-east-1","S3BucketAccessRoleArn":"arn:aws:iam::123456789012:role/r"}}'
  t0=$(date +%s.%N)
  id=$(field "$(call StartImport "{\"Destinations\":[\"$arn\"],\"ImportSource\":$src}")" ImportId)
  # Poll with curl alone (a Python start per poll would steal a core from the import), and
  # not too often: each poll is a process start on the import's two cores.
  while :; do
    got=$(call GetImport "{\"ImportId\":\"$id\"}")
    case "$got" in
      *'"ImportStatus":"COMPLETED"'*|*'"ImportStatus":"FAILED"'*|*'"ImportStatus":"STOPPED"'*) break ;;
    esac
    sleep 0.2
  done
  server_times+=("$(calc "$(date +%s.%N) - $t0")")
  # The import's own time, as the server recorded it (created -> last update, in ms): what
  # the poll's period adds to the wall time above is not in it.
  own_times+=("$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["UpdatedTimestamp"] - d["CreatedTimestamp"])' "$got")")
  if [ "$run" = "$runs" ] && command -v wrk > /dev/null; then
    cat > "$work/get.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"ImportId":"$id"}'
wrk.headers["X-Amz-Target"] = "CloudTrail_20131101.GetImport"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
LUA
    wrk -t2 -c16 -d10s -s "$work/get.lua" "http://127.0.0.1:$port/" > "$work/wrk.txt"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cli=$(median "${cli_times[@]}"); server=$(median "${server_times[@]}"); own=$(median "${own_times[@]}")
echo "bucket: $size requested, $bytes bytes uncompressed; $runs runs each, medians; $(nproc) cores"
printf '%-34s %8s s %8.0f MB/s\n' "trailport import (CLI)" "$cli" "$(calc "$bytes / $cli / 1e6")"
printf '%-34s %8s s %8.0f MB/s\n' "StartImport through trailport serve" "$server" "$(calc "$bytes / $server / 1e6")"
printf '%-34s %8s s %8.0f MB/s\n' "  the same, as GetImport records it" "$own" "$(calc "$bytes / $own / 1e6")"
printf 'server / CLI time: %.2f (polled), %.2f (recorded)\n' "$(calc "$server / $cli")" "$(calc "$own / $cli")"
[ -f "$work/wrk.txt" ] && grep -E "Requests/sec|Latency" "$work/wrk.txt"
