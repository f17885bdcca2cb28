#!/usr/bin/env bash
# The walkthrough: every kmsctl capability, run against a fresh in-process sandbox, printing each
# command line before its output as a runbook would read. Steps live in demo/steps/NN-topic.sh.
# On a terminal it pauses between sections (Enter goes on, q stops); --no-pause runs straight
# through, and so does any run whose output is not a terminal or with CI set.
set -euo pipefail
PAUSE=1
for arg in "$@"; do
  case "$arg" in
    --no-pause) PAUSE=0 ;;
    *) echo "usage: demo/run.sh [--no-pause]" >&2; exit 2 ;;
  esac
done
if [ ! -t 1 ] || [ ! -t 0 ] || [ -n "${CI:-}" ]; then PAUSE=0; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kmsctl-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export KMSCTL_HOME="$WORK/home"
export KMSCTL_SANDBOX=1
export KMSCTL_SANDBOX_DIR="$WORK/sandbox"
export AWS_CONFIG_FILE="$WORK/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/no-aws-credentials"
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS
export DEMO_WORK="$WORK"

bold() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
kmsctl() { node "$ROOT/bin/run.js" "$@"; }
# step ARGS...: print the command line, run it, stop the walkthrough if it fails.
quoted() { local out="" a; for a in "$@"; do if [[ "$a" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi; done; printf '%s' "${out% }"; }
step() { echo; bold "\$ kmsctl $(quoted "$@")"; kmsctl "$@"; }
# step_fails ARGS...: a command that must be refused (exit non-zero); the walkthrough shows why.
step_fails() {
  echo; bold "\$ kmsctl $(quoted "$@")"
  local rc=0; kmsctl "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then echo "expected this command to fail, but it succeeded" >&2; exit 1; fi
  echo "(exit code $rc, as expected)"
}
# setup ARGS...: a command that prepares the next steps, run quietly (its output is not the point).
setup() { kmsctl "$@" >/dev/null 2>&1; }
# section TITLE: a heading between parts of the walkthrough (after a pause on a terminal).
SECTIONS=0
section() {
  if [ "$PAUSE" = 1 ] && [ "$SECTIONS" -gt 0 ]; then
    local answer=""
    echo
    read -r -p "-- Enter: next section ($*), q: stop -- " answer || answer=q
    if [ "$answer" = q ]; then exit 0; fi
  fi
  SECTIONS=$((SECTIONS + 1))
  echo; bold "## $*"
}

for f in "$ROOT"/demo/steps/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done
echo
bold "Walkthrough complete: every step above ran against a fresh sandbox in $WORK (now removed)."
