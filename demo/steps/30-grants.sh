# Grants: create them (checked before sending), find every grant a principal holds across keys,
# retire by token, revoke a principal's grants in one command, and make them again from the journal.
section "Grants"
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];if(v===undefined)process.exit(1);console.log(v)})' "$1"; }
APP_ROLE=arn:aws:iam::111122223333:role/demo-app
REPORTING_ROLE=arn:aws:iam::111122223333:role/demo-reporting
setup key create --alias alias/demo-grants-orders --description "Orders (grants walkthrough)"
setup key create --alias alias/demo-grants-invoices --description "Invoices (grants walkthrough)"

step grant create alias/demo-grants-orders --grantee "$APP_ROLE" --operations Decrypt,GenerateDataKey --context-equals tenant=acme --name app-acme
step grant create alias/demo-grants-invoices --grantee "$APP_ROLE" --operations Encrypt,Decrypt
step grant create alias/demo-grants-invoices --grantee "$REPORTING_ROLE" --operations Decrypt
# Checked before anything is sent: signing is not an operation of a symmetric key.
step_fails grant create alias/demo-grants-orders --grantee "$APP_ROLE" --operations Sign

# What can the app role do with our keys? Every customer-managed key, paced below the ListGrants quota.
step grant list --grantee "$APP_ROLE"

# An application done with its grant retires it with the grant token alone.
TOKEN=$(kmsctl grant create alias/demo-grants-orders --grantee "$REPORTING_ROLE" --operations Decrypt --json 2>/dev/null | json_field grantToken)
step grant retire --token "$TOKEN"

# Incident response: revoke everything the app role holds; the definitions go to the journal first.
step grant revoke --grantee "$APP_ROLE" --dry-run
step grant revoke --grantee "$APP_ROLE" --yes
BATCH=$(node -e '
  const fs = require("fs"), path = require("path");
  const dir = path.join(process.env.KMSCTL_HOME, "journal");
  const lines = fs.readdirSync(dir).sort().flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)));
  const last = lines.filter((l) => l.type === "entry" && l.action === "grant.revoke" && l.batch).pop();
  console.log(last.batch);
')
# The incident is over: make equivalent grants again (new grant IDs).
step grant recreate "$BATCH"
