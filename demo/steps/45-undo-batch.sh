# Undo a whole batch: one bulk disable reversed in one confirmed, paced run; a second undo finds
# nothing left to do; the undo is a batch of its own, so `undo --last` reverses it again.
section "Undo a batch"
BATCH=$(kmsctl key disable --tag team=incident-demo --yes --json | incident_json batch)
# The plan first: every entry of the batch, what undo will send for it.
step undo "$BATCH" --dry-run
# One confirmation for the batch, naming the change: "undo 3 changes".
step undo "$BATCH" --confirm "undo 3 changes"
# Already reversed: refused, nothing sent.
step_fails undo "$BATCH" --yes
# The undo was journaled as a batch too: the caller's last change. Undo it (the keys are disabled again).
step undo --last --yes
step key enable --tag team=incident-demo --yes
