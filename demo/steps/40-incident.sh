# Incident response: disable every key with a tag in one paced, journalled batch; undo one change;
# contain a key (snapshot, disable, revoke its grants, lock its policy) and restore it.
section "Incident response"
incident_json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];if(v===undefined)process.exit(1);console.log(v)})' "$1"; }
INCIDENT_ADMIN=arn:aws:iam::111122223333:user/sandbox-admin
INCIDENT_APP=arn:aws:iam::111122223333:role/demo-incident-app
for n in 1 2 3; do
  setup key create --alias "alias/demo-incident-pay-$n" --tag team=incident-demo --description "Payments $n (incident walkthrough)"
done
setup grant create alias/demo-incident-pay-1 --grantee "$INCIDENT_APP" --operations Decrypt,GenerateDataKey --context-equals tenant=acme --name app-acme
setup grant create alias/demo-incident-pay-1 --grantee "$INCIDENT_APP" --operations Encrypt

# The plan first, then the batch: paced at the DisableKey quota, each change journalled before it is sent.
step key disable --tag team=incident-demo --dry-run
# Several keys are confirmed by typing (or passing) the change itself, not a count or "y".
step key disable --tag team=incident-demo --confirm "disable 3 keys"
step journal list --action key.disable
# A bad reference is refused before anything is sent; a mistyped alias names the one meant.
step_fails key disable payments --yes
step_fails key enable alias/demo-incident-pay-1 alias/demo-incident-pya-2 --yes

# Undo one of them (the reverse operation, journalled too).
ENTRY=$(kmsctl journal list --key alias/demo-incident-pay-2 --action key.disable --json 2>/dev/null | incident_json 0.id)
step undo "$ENTRY" --yes
step key enable --tag team=incident-demo --yes

# Contain: snapshot everything into the journal, then disable, revoke the grants, lock the policy.
# The lock policy must keep you able to manage the key: without yourself as --admin it is refused.
step_fails incident contain alias/demo-incident-pay-1 --revoke-grants --lock-policy --admin "$INCIDENT_APP" --yes
step incident contain alias/demo-incident-pay-1 --revoke-grants --lock-policy --admin "$INCIDENT_ADMIN" --yes
CONTAIN=$(kmsctl journal list --action incident.contain --limit 1 --json 2>/dev/null | incident_json 0.id)
# The incident is over: policy, state and grants come back (the grants with new IDs).
step incident restore "$CONTAIN" --yes
step grant list alias/demo-incident-pay-1
