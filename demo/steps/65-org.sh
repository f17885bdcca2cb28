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

# The audit across accounts: findings by account and region, a summary per account-region; the
# unreachable account makes it exit 3.
step_fails audit --org --exclude-accounts 111122223333 --regions us-east-1 --role-name OrganizationAccountAccessRole --only rotation-off,missing-tag
