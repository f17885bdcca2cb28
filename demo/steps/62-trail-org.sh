# CloudTrail at organisation scale: the trail's S3 bucket, and Athena over it, with the same filters and
# the same answer as every other source. Here the sandbox plays S3 and Athena (DuckDB over the log files).
section "Organisation trails: the bucket, Athena, and one answer from every source"
# The sandbox's events as an organization trail delivers them, into the sandbox's S3 bucket demo-org-trail.
# Queries record calls of their own (DescribeKey, ListAliases): compare up to now, on the sandbox's clock.
ORG_UNTIL="$(kmsctl sandbox clock show --json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).now))')"
sleep 1
step sandbox export-trail --org o-demoorg00001 --bucket demo-org-trail
# Straight from the bucket: only the accounts, regions and days asked for are listed.
step trail query --source s3 s3://demo-org-trail --key alias/demo-trail --until "$ORG_UNTIL" --group-by event
# The Athena table, with partition projection over the organization layout (accounts and regions read from the bucket).
step trail athena setup --bucket s3://demo-org-trail --database security --table org_trail
step trail query --source athena --table security.org_trail --key alias/demo-trail --until "$ORG_UNTIL" --group-by event
# What Athena is sent: every value is an execution parameter; --print-sql sends nothing.
step trail query --source athena --table security.org_trail --user-agent "o'brien" --since 1d --group-by event --print-sql
# One query through every source: the same event IDs from the log files, S3, Athena and CloudTrail Lake.
for source in "files $DEMO_WORK/org-trail-copy" "s3 s3://demo-org-trail" "athena --table security.org_trail" "lake --event-data-store demo-store"; do
  [ "${source%% *}" = files ] && cp -r "$KMSCTL_SANDBOX_DIR/s3/demo-org-trail" "$DEMO_WORK/org-trail-copy" 2>/dev/null || true
  # shellcheck disable=SC2086
  kmsctl trail query --source $source --event "Decrypt,GenerateDataKey*,Encrypt" --until "$ORG_UNTIL" --json |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const ids=JSON.parse(s).map((e)=>e.eventId).sort();console.log(`${process.argv[1].padEnd(7)} ${String(ids.length).padStart(3)} events, event IDs sha256 ${require("node:crypto").createHash("sha256").update(ids.join()).digest("hex").slice(0,16)}`)})' "${source%% *}"
done
# A filter value cannot change the query: this one is refused before anything is sent.
step_fails trail query --source athena --table security.org_trail --event "Decrypt'; DROP TABLE org_trail; --"
