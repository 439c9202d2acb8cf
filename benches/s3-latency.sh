#!/usr/bin/env bash
# `trailport import s3://...` when every S3 request costs a round trip: SeaweedFS (from PyPI)
# behind benches/anchors/lag_proxy.py, which delays each request by DELAY_MS, on a bucket of
# many day folders and small files (2 accounts × 6 Regions × 120 days). Prints the list and
# read stages of `trailport bench` for each `--s3-concurrency` given, and for OLD_BIN (another
# build, to compare) if set.
# Usage: bash benches/s3-latency.sh [DELAY_MS] [CONCURRENCY...]   (default 20; 16 64)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
delay=${1:-20}
shift || true
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(16 64)
cargo build --release --quiet
bin=$root/target/release/trailport
work=$root/target/bench-s3-latency
rm -rf "$work" && mkdir -p "$work"
"$bin" synth --out "$work/bucket" --size 150MB --days 120 --regions 6 --accounts 2 --seed 3 \
  --clean --records-per-file 1-40 > "$work/synth.json"
. "$root/benches/anchors/seaweedfs.sh"
trap 'kill -KILL ${weed_pid:-} ${proxy:-} 2>/dev/null || true' EXIT
start_seaweedfs "$work"
python3 "$root/benches/anchors/lag_proxy.py" 8346 8333 "$delay" &
proxy=$!
deadline=$((SECONDS + 30))
until (exec 3<> /dev/tcp/127.0.0.1/8346) 2> /dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "the proxy did not start"; exit 1; }
  sleep 0.1
done
"$tools/bin/aws" --endpoint-url "$endpoint" s3 mb s3://lag > /dev/null
"$tools/bin/aws" --endpoint-url "$endpoint" s3 cp --recursive --quiet "$work/bucket" s3://lag/
files=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Expected"]["FilesCompleted"])' "$work/synth.json")
folders=$(find "$work/bucket" -type d | wc -l)
echo "bucket: $files files in $folders folders; $delay ms added to every request; $(nproc) cores"
run() {
  local name=$1 exe=$2; shift 2
  "$exe" bench s3://lag/ --endpoint-url http://127.0.0.1:8346 "$@" --json > "$work/out.json"
  python3 - "$name" "$work/out.json" "$files" <<'PY'
import json, sys
name, path, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.load(open(path))
assert d["Files"] == files, (d["Files"], files)
s = d["Seconds"]
print(f"{name:<26} list {s['List']:6.2f} s   read {s['Read']:6.2f} s (parsers, summed)   total {s['Wall']:6.2f} s   RSS {d['PeakRssMB']:.0f} MB")
PY
}
[ -z "${OLD_BIN:-}" ] || run "OLD_BIN" "$OLD_BIN"
for c in "${levels[@]}"; do run "--s3-concurrency $c" "$bin" --s3-concurrency "$c"; done
