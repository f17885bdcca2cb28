# Sandbox realism: several principals, each request attributed by the access key it is signed with and
# checked against the key policy, grants and the principal's IAM allow list as KMS does; a clock that
# can move; request quotas and injected faults for rehearsing bulk actions.
section "Sandbox realism: principals and enforcement"
# An application role's session whose IAM policies allow DescribeKey only.
step sandbox principal add AKIAEXAMPLEAPPROLE01 arn:aws:sts::111122223333:assumed-role/App/worker-1 --iam-allow kms:DescribeKey
step sandbox principal list
step key create --description "Realism demo" --alias alias/demo-realism
as_app() { AWS_ACCESS_KEY_ID=AKIAEXAMPLEAPPROLE01 AWS_SECRET_ACCESS_KEY=sandbox-demo-not-a-secret "$@"; }
# The default key policy delegates to IAM: the role may describe the key, but not use it.
as_app step key describe alias/demo-realism
as_app step_fails key verify alias/demo-realism --context app=billing
# A grant lets the role use the key, with this encryption context only.
step grant create alias/demo-realism --grantee arn:aws:iam::111122223333:role/App --operations GenerateDataKey,Decrypt --context-equals app=billing
as_app step key verify alias/demo-realism --context app=billing
as_app step_fails key verify alias/demo-realism --context app=reports

section "Sandbox realism: the clock"
step sandbox clock show
step key disable alias/demo-realism --yes
# The role used it minutes ago, so the pre-flight wants --force.
step key schedule-deletion alias/demo-realism --days 7 --force --confirm alias/demo-realism
# Eight days later the waiting period is over: the key is gone.
step sandbox clock advance 8d
step_fails key describe alias/demo-realism

section "Sandbox realism: quotas and faults"
# KMS's published request rates and 5 ms of latency for every in-process command on this sandbox
# (`sandbox serve` takes the same settings as flags: --quotas aws --latency 10ms-50ms --fail-rate 0.05).
step sandbox config --quotas aws --latency 5ms
step key list
step sandbox config --reset
