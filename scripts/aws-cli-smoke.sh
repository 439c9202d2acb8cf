#!/usr/bin/env bash
# Drives `trailport serve` with the real AWS CLI and boto3 (from PyPI, in a local venv):
# create a store, import the fixture bucket, poll, list imports and failures, stop and retry,
# copy the store into CloudWatch Logs and filter it, query it with Lake SQL, and check the printed JSON. Usage: bash scripts/aws-cli-smoke.sh  (builds the release binary).
# Imports are held mid-way by a gate file (the server's writer waits after a commit while it
# exists), never by timing, so the script proves the same on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${AWS_SMOKE_VENV:-$root/target/aws-venv}
if [ ! -x "$venv/bin/aws" ] || ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    awscli==1.46.3 boto3==1.44.8 botocore==1.44.8 s3transfer==0.19.3
fi
cargo build --release --quiet
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/buckets"
ln -s "$root/fixtures/trail-bucket" "$work/buckets/trail-bucket"
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
gate="$work/gate"
TRAILPORT_NOW=2025-01-01T00:00:00Z "$root/target/release/trailport" serve --addr "127.0.0.1:$port" \
  --db "$work/t.db" --buckets-dir "$work/buckets" --batch-files 5 --gate-file "$gate" \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
aws() { "$venv/bin/aws" --endpoint-url "$endpoint" --output json "$@"; }
check() { # check JSON PYTHON-EXPRESSION MESSAGE: evaluates the expression with the JSON as `j`
  "$venv/bin/python" -c 'import json,sys; j=json.loads(sys.argv[1]); assert eval(sys.argv[2]), sys.argv[3] + ": " + sys.argv[1]' "$1" "$2" "$3"
}
passed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }

out=$(aws cloudtrail create-event-data-store --name smoke-store --retention-period 3653)
check "$out" 'j["Status"] == "CREATED" and j["RetentionPeriod"] == 3653 and j["EventDataStoreArn"].startswith("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/")' "create-event-data-store"
arn=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["EventDataStoreArn"])' "$out")
ok "create-event-data-store"

touch "$gate"
out=$(aws cloudtrail start-import --destinations "$arn" \
  --import-source "S3={S3LocationUri=s3://trail-bucket/,S3BucketRegion=us-east-1,S3BucketAccessRoleArn=arn:aws:iam::123456789012:role/import}")
check "$out" 'j["ImportStatus"] == "INITIALIZING" and "ImportStatistics" not in j and j["Destinations"] == ["'"$arn"'"]' "start-import"
id=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["ImportId"])' "$out")
ok "start-import answers INITIALIZING"

if aws cloudtrail start-import --destinations "$arn" --import-source "S3={S3LocationUri=s3://trail-bucket/,S3BucketRegion=us-east-1,S3BucketAccessRoleArn=r}" 2>"$work/err"; then
  echo "a second import was accepted"; exit 1
fi
grep -q AccountHasOngoingImportException "$work/err"
ok "second start-import fails with AccountHasOngoingImportException"

# poll ID [until-files]: polls get-import (every 50 ms, for at most 60 s) until the import has
# ended, or has committed at least until-files files; collects the statuses seen.
statuses=""
poll() {
  for _ in $(seq 1200); do
    out=$(aws cloudtrail get-import --import-id "$1")
    s=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["ImportStatus"])' "$out")
    case " $statuses " in *" $s "*) ;; *) statuses="$statuses $s" ;; esac
    case "$s" in COMPLETED|FAILED|STOPPED) return 0 ;; esac
    if [ -n "${2:-}" ] && "$venv/bin/python" -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["ImportStatistics"]["FilesCompleted"] < int(sys.argv[2]))' "$out" "$2"; then
      return 0
    fi
    sleep 0.05
  done
  echo "import $1 never got there: $out"; exit 1
}
poll "$id" 5
rm "$gate"
poll "$id"
check "$out" 'j["ImportStatus"] == "FAILED" and j["ImportStatistics"]["FilesCompleted"] == 84 and j["ImportStatistics"]["PrefixesFound"] == 10 and j["ImportStatistics"]["PrefixesCompleted"] == 10 and j["ImportStatistics"]["FailedEntries"] == 6' "get-import"
check "$out" 'j["CreatedTimestamp"] == 1735689600.0' "CLI v1 prints the wire's epoch seconds"
case "$statuses" in *IN_PROGRESS*FAILED*) ;; *) echo "statuses seen:$statuses"; exit 1 ;; esac
ok "get-import polls through$statuses with the fixture's statistics"

out=$(aws cloudtrail list-import-failures --import-id "$id")
check "$out" 'len(j["Failures"]) == 6 and sorted(f["ErrorType"] for f in j["Failures"]) == ["InvalidEventRecord"] + ["InvalidFileFormat"] * 5 and all(f["Status"] == "FAILED" for f in j["Failures"])' "list-import-failures"
ok "list-import-failures (the CLI pages through with MaxResults)"
out=$(aws cloudtrail list-import-failures --import-id "$id" --max-items 2)
check "$out" 'len(j["Failures"]) == 2 and "NextToken" in j' "list-import-failures --max-items 2"
ok "list-import-failures paginates"

out=$(aws cloudtrail list-imports --destination "$arn" --import-status FAILED)
check "$out" '[i["ImportId"] for i in j["Imports"]] == ["'"$id"'"] and set(j["Imports"][0]) == {"ImportId","ImportStatus","Destinations","CreatedTimestamp","UpdatedTimestamp"}' "list-imports"
ok "list-imports with filters"

src="S3={S3LocationUri=s3://trail-bucket/,S3BucketRegion=us-east-1,S3BucketAccessRoleArn=arn:aws:iam::123456789012:role/import}"
touch "$gate"
second=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["ImportId"])' "$(aws cloudtrail start-import --destinations "$arn" --import-source "$src")")
poll "$second" 5
out=$(aws cloudtrail stop-import --import-id "$second")
check "$out" 'j["ImportStatus"] == "STOPPED" and j["ImportStatistics"]["FilesCompleted"] == 5' "stop-import"
stopped=$out
rm "$gate"
out=$(aws cloudtrail get-import --import-id "$second")
check "$out" 'j["ImportStatistics"] == '"$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["ImportStatistics"])' "$stopped")" "the statistics stop-import answered stay"
ok "stop-import of a running import answers STOPPED, and its statistics stay as answered"
out=$(aws cloudtrail start-import --import-id "$second")
check "$out" 'j["ImportStatus"] == "INITIALIZING" and j["ImportId"] == "'"$second"'"' "retry"
poll "$second"
check "$out" 'j["ImportStatus"] == "FAILED" and j["ImportStatistics"]["FilesCompleted"] == 84' "the retried import"
ok "start-import --import-id resumes a stopped import to the end"

if aws cloudtrail get-import --import-id 00000000-0000-0000-0000-000000000000 2>"$work/err"; then exit 1; fi
grep -q ImportNotFoundException "$work/err"
ok "get-import of an unknown import: ImportNotFoundException"
if aws cloudtrail get-event-data-store --event-data-store "arn:aws:s3:::x" 2>"$work/err"; then exit 1; fi
grep -q EventDataStoreARNInvalidException "$work/err"
ok "get-event-data-store of a bad ARN: EventDataStoreARNInvalidException"

# boto3, with its own client-side checks and paginators.
"$venv/bin/python" - "$endpoint" "$arn" "$id" <<'PY'
import sys, time, boto3, botocore
endpoint, arn, first = sys.argv[1:]
ct = boto3.client("cloudtrail", endpoint_url=endpoint, region_name="us-east-1")
imports = [i for page in ct.get_paginator("list_imports").paginate(PaginationConfig={"PageSize": 1}) for i in page["Imports"]]
assert len(imports) == 2 and imports[-1]["ImportId"] == first, imports
r = ct.start_import(Destinations=[arn], ImportSource={"S3": {"S3LocationUri": "s3://trail-bucket/AWSLogs/974349055189/CloudTrail/", "S3BucketRegion": "us-east-1", "S3BucketAccessRoleArn": "arn:aws:iam::123456789012:role/r"}})
deadline = time.monotonic() + 60
while (g := ct.get_import(ImportId=r["ImportId"]))["ImportStatus"] in ("INITIALIZING", "IN_PROGRESS"):
    assert time.monotonic() < deadline, g
    time.sleep(0.05)
assert g["ImportStatus"] == "COMPLETED", g
assert g["ImportStatistics"]["FailedEntries"] == 0
failures = [f for p in ct.get_paginator("list_import_failures").paginate(ImportId=first, PaginationConfig={"PageSize": 4}) for f in p["Failures"]]
assert len(failures) == 6, failures
try:
    ct.list_imports(ImportStatus="DONE")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.response["ResponseMetadata"]["RequestId"]
else:
    raise AssertionError("an unknown ImportStatus was accepted")
print("ok - boto3: paginators, a clean import COMPLETED, InvalidParameterException")
PY
passed=$((passed + 1))

# CloudWatch Logs: a store holding one import of the fixture, into its log group, read back.
arn=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["EventDataStoreArn"])' "$(aws cloudtrail create-event-data-store --name logs-store --retention-period 3653)")
out=$(aws cloudtrail start-import --destinations "$arn" --import-source "$src")
poll "$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["ImportId"])' "$out")"
out=$(aws logs create-import-task --import-source-arn "$arn" --import-role-arn arn:aws:iam::123456789012:role/r)
eds_id=${arn##*/}
check "$out" 'j["importDestinationArn"] == "arn:aws:logs:us-east-1:123456789012:log-group:aws/cloudtrail/'"$eds_id"'" and j["creationTime"] == 1735689600000' "logs create-import-task"
ok "logs create-import-task"
task=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["importId"])' "$out")
for _ in $(seq 600); do
  out=$(aws logs describe-import-tasks --import-id "$task")
  "$venv/bin/python" -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["imports"][0]["importStatus"] == "IN_PROGRESS")' "$out" && break
  sleep 0.1
done
check "$out" 'j["imports"][0]["importStatus"] == "COMPLETED" and j["imports"][0]["importStatistics"]["bytesImported"] > 0 and "nextToken" not in j' "logs describe-import-tasks"
ok "logs describe-import-tasks"
out=$(aws logs describe-import-task-batches --import-id "$task")
check "$out" 'j["importBatches"] and all(b["status"] == "COMPLETED" for b in j["importBatches"]) and j["importSourceArn"] == "'"$arn"'"' "logs describe-import-task-batches"
ok "logs describe-import-task-batches"
# The fixture's stored records from 2023 on, counted by make_fixtures.py.
recent=$("$venv/bin/python" -c 'import json,sys; print(sum(t >= "2023" for t in json.load(open(sys.argv[1]))["EventTimes"]))' "$root/fixtures/trail-bucket.expected.json")
all=$(aws logs filter-log-events --log-group-name "aws/cloudtrail/$eds_id")
check "$all" 'len(j["events"]) == '"$recent"' and all(json.loads(e["message"])["eventTime"] >= "2023" for e in j["events"])' "logs filter-log-events reads every record from 2023 on"
ok "logs filter-log-events reads every record from 2023 on"
name=$("$venv/bin/python" -c 'import json,sys; print(json.loads(json.loads(sys.argv[1])["events"][0]["message"])["eventName"])' "$all")
want=$("$venv/bin/python" -c 'import json,sys; print(sum(json.loads(e["message"])["eventName"] == sys.argv[2] for e in json.loads(sys.argv[1])["events"]))' "$all" "$name")
out=$(aws logs filter-log-events --log-group-name "aws/cloudtrail/$eds_id" --filter-pattern "{ (\$.eventName = \"$name\") && (\$.eventVersion = \"*\") }")
check "$out" 'len(j["events"]) == '"$want"' and all(json.loads(e["message"])["eventName"] == "'"$name"'" for e in j["events"])' "logs filter-log-events --filter-pattern (JSON)"
ok "logs filter-log-events --filter-pattern (JSON)"
if aws logs describe-import-tasks --limit 51 2>"$work/err"; then exit 1; fi
grep -q "InvalidParameterException" "$work/err"
ok "logs describe-import-tasks --limit 51: InvalidParameterException"

# Lake queries over the same store (the whole fixture): a golden query of the corpus, whose
# answer DuckDB computed, through start-query, describe-query and get-query-results.
sql=$(sed "s/\$EDS/$eds_id/g" "$root/fixtures/lake-queries/queries/003-doc3-api-count.sql")
out=$(aws cloudtrail start-query --query-statement "$sql")
check "$out" 'len(j["QueryId"]) == 36' "cloudtrail start-query"
ok "cloudtrail start-query"
qid=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["QueryId"])' "$out")
for _ in $(seq 600); do
  out=$(aws cloudtrail describe-query --query-id "$qid")
  "$venv/bin/python" -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["QueryStatus"] in ("QUEUED", "RUNNING"))' "$out" && break
  sleep 0.1
done
check "$out" 'j["QueryStatus"] == "FINISHED" and j["QueryStatistics"]["EventsScanned"] > 0 and j["QueryString"].startswith("-- AWS docs example 3")' "cloudtrail describe-query"
ok "cloudtrail describe-query"
out=$(aws cloudtrail get-query-results --query-id "$qid")
check "$out" 'j["QueryStatus"] == "FINISHED" and [[list(c.values())[0] for c in r] for r in j["QueryResultRows"]] == json.load(open("'"$root"'/fixtures/lake-queries/expected/003-doc3-api-count.json"))["rows"] and [list(c) for c in j["QueryResultRows"][0]] == [["eventSource"], ["eventName"], ["apiCount"]]' "cloudtrail get-query-results"
ok "cloudtrail get-query-results: the rows DuckDB computed"
if aws cloudtrail start-query --query-statement "SELECT nothing FROM $eds_id" 2>"$work/err"; then exit 1; fi
grep -q "InvalidQueryStatementException" "$work/err"
ok "cloudtrail start-query of a bad statement: InvalidQueryStatementException"
"$venv/bin/python" - "$endpoint" "$qid" <<'PY'
import sys, boto3
ct = boto3.client("cloudtrail", endpoint_url=sys.argv[1], region_name="us-east-1")
whole = ct.get_query_results(QueryId=sys.argv[2])["QueryResultRows"]
rows, token = [], None
while True:
    page = ct.get_query_results(QueryId=sys.argv[2], MaxQueryResults=7, **({"NextToken": token} if token else {}))
    rows += page["QueryResultRows"]
    token = page.get("NextToken")
    if not token:
        break
assert rows == whole and len(whole) > 7, (len(rows), len(whole))
print("ok - boto3: get_query_results in pages of 7 gives the same rows")
PY
passed=$((passed + 1))

echo "$passed passed, 0 failed"
