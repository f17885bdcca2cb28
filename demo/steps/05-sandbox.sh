# The sandbox: a local KMS + CloudTrail + STS endpoint, so that everything below runs without an AWS
# account. Every step of this walkthrough uses it in-process (KMSCTL_SANDBOX=1); `sandbox serve` offers
# the same sandbox over HTTP to any AWS client. Its key material is stored unencrypted: never real data.
section "The sandbox"
step sandbox status
# The same state over HTTP, on a free loopback port, for the AWS CLI, the SDKs or kmsctl --endpoint-url.
bold "\$ kmsctl sandbox serve --port 0 &"
SANDBOX_SERVE_OUT="$DEMO_WORK/sandbox-serve.out"
node "$ROOT/bin/run.js" sandbox serve --port 0 >"$SANDBOX_SERVE_OUT" 2>/dev/null &
SANDBOX_SERVE_PID=$!
for _ in $(seq 1 100); do grep -q 'listening' "$SANDBOX_SERVE_OUT" 2>/dev/null && break; sleep 0.1; done
cat "$SANDBOX_SERVE_OUT"
SANDBOX_URL="$(sed -n 's/^Sandbox listening on \(http:[^ ]*\) .*/\1/p' "$SANDBOX_SERVE_OUT")"
# kmsctl against the HTTP endpoint instead of in-process: the calls land in the same directory.
(
  unset KMSCTL_SANDBOX
  export AWS_ACCESS_KEY_ID=AKIAKMSCTLSANDBOX001 AWS_SECRET_ACCESS_KEY=kmsctl-sandbox-not-a-real-secret-0000000 AWS_REGION=us-east-1
  step key create --description "Created over HTTP" --endpoint-url "$SANDBOX_URL"
)
# Only signed requests are served: an unsigned one (as curl sends it) is refused, as AWS refuses it.
bold "\$ curl -s -X POST -H 'X-Amz-Target: TrentService.CreateKey' -H 'Content-Type: application/x-amz-json-1.1' -d '{}' $SANDBOX_URL"
curl -s -X POST -H 'X-Amz-Target: TrentService.CreateKey' -H 'Content-Type: application/x-amz-json-1.1' -d '{}' "$SANDBOX_URL"; echo
kill -TERM "$SANDBOX_SERVE_PID" && wait "$SANDBOX_SERVE_PID" || true
# Refused: a non-loopback address needs --allow-remote.
step_fails sandbox serve --host 0.0.0.0
# Every KMS call was recorded as a CloudTrail event; export them as CloudTrail log files.
step sandbox export-trail "$DEMO_WORK/trail"
(cd "$DEMO_WORK/trail" && find AWSLogs -name '*.json.gz' | sort | head -3)
