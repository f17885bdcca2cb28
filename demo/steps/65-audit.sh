# Audit: every key's findings with the command that fixes each; exit codes and a baseline for CI.
section "Audit"
step audit checks
# Every customer-managed key the walkthrough made so far.
step audit
# For CI: exit 1 while a finding of medium severity or more remains on the key.
step_fails audit alias/demo-policy --fail-on medium
# Fix the finding the audit names, and audit again: it passes.
step key rotation enable alias/demo-policy
step audit alias/demo-policy --fail-on medium
# Accepted findings go in a baseline, each with a reason and an expiry date.
cat > "$DEMO_WORK/audit-baseline.json" <<'JSON'
{"version": 1, "accepted": [{"check": "missing-tag", "key": "*", "reason": "Owner tags are being rolled out this quarter", "expires": "2999-12-31"}]}
JSON
step audit --only missing-tag,no-description --baseline "$DEMO_WORK/audit-baseline.json"
step audit alias/demo-policy --sarif --only rotation-off
