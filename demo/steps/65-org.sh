# Across accounts and regions: a sandbox organisation (a management account and three member accounts
# with OrganizationAccountAccessRole, plus one whose role has another name), an inventory of every
# account-region in one command, and a containment across accounts, undone account by account.
section "Across accounts and regions"
step sandbox org seed --regions us-east-1,eu-west-1 --keys 2
kmsctl sandbox account add 777788889999 --name legacy --role-name LegacyAdmin --regions us-east-1,eu-west-1 --json >/dev/null
step sandbox account list

# Working in other accounts needs the role to assume in them, named: it is never assumed silently.
step_fails key list --org --all-regions
# Every account-region in parallel, each at its own quota; the account whose role cannot be assumed
# is named in the summary (exit 3), the others are listed.
step_fails key list --org --all-regions --role-name OrganizationAccountAccessRole --tag team=payments

# Containment across the member accounts: the plan per account-region, one confirmation for the whole batch.
step key disable --tag team=payments --org --exclude-accounts 111122223333,777788889999 --regions us-east-1,eu-west-1 --role-name OrganizationAccountAccessRole --dry-run
step key disable --tag team=payments --org --exclude-accounts 111122223333,777788889999 --regions us-east-1,eu-west-1 --role-name OrganizationAccountAccessRole --confirm "disable 6 keys"
# Each journal entry names the account, region and role; undo of the batch goes back to every
# account-region of it through the same role, with one confirmation.
ORG_BATCH=$(kmsctl journal list --action key.disable --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).at(-1).batch))')
step undo "$ORG_BATCH" --confirm "undo 6 changes"
step key list --org --exclude-accounts 111122223333,777788889999 --all-regions --role-name OrganizationAccountAccessRole --tag team=payments

# Who made those changes, read from every member account's CloudTrail (LookupEvents per account-region,
# each at its own 2 requests/s): each event with its account and region.
step trail query --org --exclude-accounts 111122223333,777788889999 --regions us-east-1 --role-name OrganizationAccountAccessRole --event "DisableKey,EnableKey" --since 1h

# Rows for a pipe: --ndjson prints each key whole, with its account and region, one JSON object a line.
kmsctl key list --org --exclude-accounts 777788889999 --regions eu-west-1 --role-name OrganizationAccountAccessRole --tag team=web --ndjson 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(s.trim().split("\n").map((l)=>JSON.parse(l).arn).join("\n")))' >"$DEMO_WORK/web-key-arns.txt"
cat "$DEMO_WORK/web-key-arns.txt"
# A list of key ARNs needs no account flags: each key goes to its own account and region through the role,
# one plan, one confirmation for the total, and one undo for the batch.
step key disable --file "$DEMO_WORK/web-key-arns.txt" --role-name OrganizationAccountAccessRole --confirm "disable 4 keys"
WEB_BATCH=$(kmsctl journal list --action key.disable --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).at(-1).batch))')
step undo "$WEB_BATCH" --confirm "undo 4 changes"

# Every key policy of the organisation linted in one command, one row per finding (none here: the
# sandbox's keys have the default policy); the unreachable account is named (exit 3).
step_fails policy lint --all-keys --org --regions us-east-1 --role-name OrganizationAccountAccessRole

# The audit across accounts: findings by account and region, a summary per account-region; the
# unreachable account makes it exit 3.
step_fails audit --org --exclude-accounts 111122223333 --regions us-east-1 --role-name OrganizationAccountAccessRole --only rotation-off,missing-tag
