#!/usr/bin/env bash
# The main job end to end on a local lab fleet: start a lab whose hosts answer HTTP 500 because of the
# .phpp typo, show the dry-run diff (one block for the hosts' identical change), apply the fix with
# --precheck (remediate's summary shows the hosts' health before and after, HTTP 500 -> HTTP 200, on
# one line for the hosts alike; a host still failing would be rolled back and fail the demo), re-run
# (nothing to do, still healthy), and tear the lab down.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
HOSTS="${HOSTS:-3}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
trap 'step "remediate lab down"; remediate lab down' EXIT

step "remediate lab up --hosts $HOSTS"
remediate lab up --hosts "$HOSTS"
step "remediate lab status   (the outage: every host answers HTTP 500)"
remediate lab status || true
step "remediate apply fix-phpp --inventory lab --dry-run"
remediate apply fix-phpp --inventory lab --dry-run
step "remediate apply fix-phpp --inventory lab --yes --precheck   (health before and after: HTTP 500 -> HTTP 200)"
remediate apply fix-phpp --inventory lab --yes --precheck
step "remediate apply fix-phpp --inventory lab --yes   (again: nothing to do, every host still answers HTTP 200)"
remediate apply fix-phpp --inventory lab --yes
