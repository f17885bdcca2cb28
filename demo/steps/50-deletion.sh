# Scheduled deletion: the pre-flight a person reads, the refusals, a scripted confirmation, cancelling.
section "Scheduled deletion with safety checks"

json_field() { node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{console.log(JSON.parse(s)[process.argv[1]])})' "$1"; }

setup key create --description "Monthly reports 2019-2023 (retired)" --alias alias/old-reports --tag team=finance
# An application still uses the key: one data key generated and decrypted.
setup key verify alias/old-reports

# Still Enabled, and used a moment ago: refused, with the evidence and the advice.
step_fails key schedule-deletion alias/old-reports --dry-run
step key disable alias/old-reports --confirm alias/old-reports
# Disabled now, but the calls are still in the lookback window: --force is needed.
step_fails key schedule-deletion alias/old-reports --confirm alias/old-reports
# Scripts confirm by repeating the key ID or an alias with --confirm (--yes alone is never enough).
step key schedule-deletion alias/old-reports --days 7 --force --confirm alias/old-reports
step key list --state PendingDeletion
step_fails key schedule-deletion alias/old-reports --confirm alias/old-reports
step key cancel-deletion alias/old-reports --enable

# AWS managed keys cannot be deleted at all.
step_fails key schedule-deletion alias/aws/s3 --confirm alias/aws/s3

# A key nobody has used, disabled first: no --force needed. What happens when its 7 days pass:
SPARE_KEY=$(kmsctl key create --description "Spare key, never used" --json 2>/dev/null | json_field keyId)
setup key disable "$SPARE_KEY" --confirm "$SPARE_KEY"
step key schedule-deletion "$SPARE_KEY" --days 7 --confirm "$SPARE_KEY"
step sandbox clock advance 8d --dry-run
