# CloudTrail: who called which KMS API on a key, when, from where; from LookupEvents and from log files.
section "CloudTrail: who used which key"
kmsctl key create --alias alias/demo-trail --description "Trail walkthrough" --json >/dev/null
# Two callers: the sandbox administrator, and an application user with its own access key.
kmsctl sandbox principal add AKIADEMOTRAILAPP0001 arn:aws:iam::111122223333:user/demo-app --iam-allow kms:DescribeKey,kms:Encrypt,kms:Decrypt >/dev/null
kmsctl key verify alias/demo-trail >/dev/null
# The application tries the key: Encrypt is allowed, GenerateDataKey is not (an AccessDenied to find later).
AWS_ACCESS_KEY_ID=AKIADEMOTRAILAPP0001 AWS_SECRET_ACCESS_KEY=demo-app-not-a-secret kmsctl key verify alias/demo-trail >/dev/null 2>&1 || true

# Every call on the key in the last hour: who (role, user, service...), from where, how the key was named, the outcome.
step trail query --key alias/demo-trail --since 1h
# Only the refused calls, counted by caller.
step trail query --key alias/demo-trail --denied --group-by principal
# The incident responder's shortcut: callers of the last 7 days by principal and source, failures apart.
step trail who alias/demo-trail
# A disable and the enable right after it: CloudTrail times have whole seconds, and calls of the same
# second still read in the order they were made.
kmsctl key disable alias/demo-trail --yes >/dev/null 2>&1
kmsctl key enable alias/demo-trail --yes >/dev/null 2>&1
step trail query --key alias/demo-trail --event DisableKey,EnableKey

# The same from CloudTrail log files as delivered to S3 (here: the sandbox's events written in that layout).
kmsctl sandbox export-trail "$DEMO_WORK/trail-logs" >/dev/null
step trail query --source files "$DEMO_WORK/trail-logs" --key alias/demo-trail --event "Decrypt,GenerateDataKey*"
# Every filter narrows the records before they are parsed: here the application's failed calls.
step trail query --source files "$DEMO_WORK/trail-logs" --principal demo-app --errors
# Bad filters are refused before anything is read.
step_fails trail query --since 2h --until 3h
