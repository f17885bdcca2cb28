# Log objects encrypted with SSE-KMS, as a trail with a KMS key delivers them: readable only by a caller
# who may decrypt under that key. The sandbox's S3 asks its KMS, as the caller, for every object read.
section "Encrypted trail logs: SSE-KMS in the sandbox's S3"
setup key create --alias alias/demo-trail-logs --description "trail log encryption"
step sandbox export-trail --org o-demoorg00001 --bucket demo-enc-trail --sse-kms alias/demo-trail-logs
step trail query --source s3 s3://demo-enc-trail --event CreateKey --group-by event
# S3's Decrypt of each object's data key is in CloudTrail, made as the caller, invoked by s3.amazonaws.com.
step trail query --event Decrypt --key alias/demo-trail-logs --max-events 3
# With the key disabled, KMS refuses and S3 says so for every object: each is named, the run exits 3.
step key disable alias/demo-trail-logs --yes
step_fails trail query --source s3 s3://demo-enc-trail --event CreateKey
step key enable alias/demo-trail-logs --yes
