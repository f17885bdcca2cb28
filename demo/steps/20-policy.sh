# Key policies: read, lint, diff, simulate, and a put that cannot lock you out and can be undone.
section "Key policies"
step key create --alias alias/demo-policy --description "Policy walkthrough"
step policy get alias/demo-policy --out "$DEMO_WORK/policy.json"

# A new policy: keep the account root statement, add an application role that may only decrypt
# with a matching encryption context.
cat > "$DEMO_WORK/policy-new.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "AppDecrypt",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"},
      "Action": "kms:Decrypt",
      "Resource": "*",
      "Condition": {"StringEquals": {"kms:EncryptionContext:app": "billing"}}
    }
  ]
}
JSON
step policy lint "$DEMO_WORK/policy-new.json"
step policy diff alias/demo-policy --file "$DEMO_WORK/policy-new.json"
# --fail-on-change makes a difference an exit code, for CI.
step_fails policy diff alias/demo-policy --file "$DEMO_WORK/policy-new.json" --fail-on-change
step policy simulate --file "$DEMO_WORK/policy-new.json" --principal arn:aws:sts::111122223333:assumed-role/App/worker-1 --action kms:Decrypt --context app=billing
step policy simulate --file "$DEMO_WORK/policy-new.json" --principal arn:aws:sts::111122223333:assumed-role/App/worker-1 --action kms:Decrypt --context app=payroll

# A policy that drops the root statement would lock the caller out: refused before anything is sent.
cat > "$DEMO_WORK/policy-lockout.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Sid": "AppOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}]}
JSON
step_fails policy put alias/demo-policy --file "$DEMO_WORK/policy-lockout.json" --yes

step policy put alias/demo-policy --file "$DEMO_WORK/policy-new.json" --dry-run
step policy put alias/demo-policy --file "$DEMO_WORK/policy-new.json" --confirm alias/demo-policy
# Every put saves the policy it overwrote; restore puts it back byte for byte.
backup="$(ls -t "$KMSCTL_HOME"/backups/*.json | head -1)"
step policy restore alias/demo-policy --from "$backup" --yes
kmsctl policy get alias/demo-policy --raw --out "$DEMO_WORK/policy-restored.json" 2>/dev/null
cmp "$backup" "$DEMO_WORK/policy-restored.json" && echo "The restored policy is byte for byte the one saved before the put."
