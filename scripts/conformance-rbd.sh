#!/usr/bin/env bash
# libiscsi conformance on Ceph RBD LUs: starts (or reuses) the test Ceph cluster with
# scripts/ceph-mini, then runs scripts/conformance.sh --rbd against a fresh Tandem whose LUs are
# RBD images. The cluster is stopped at the end only if this script started it.
#
# Usage: scripts/conformance-rbd.sh [CONFORMANCE OPTIONS] [SUITE...]
#   With no arguments: the CI plan (conformance/suites-all.txt, second initiator, at most 12
#   distinct skips), as scripts/test runs it for the file backend, on one node; then the same
#   plan on a 2-node cluster whose LUs are the RBD images (scripts/conformance-cluster.sh
#   --clusters 2 --rbd: first path on node 1, multipath path on node 2, MultipathIO must pass).
# Environment: TANDEM_CEPH_PORT (default 40000), TANDEM_CEPH_DIR (default $TMPDIR/tandem-ceph-PORT).
set -euo pipefail

SCRIPT_NAME="conformance-rbd"
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

port=${TANDEM_CEPH_PORT:-40000}
dir=${TANDEM_CEPH_DIR:-${TMPDIR:-/tmp}/tandem-ceph-$port}
mini=$TANDEM_ROOT/scripts/ceph-mini

if ! "$mini" status "$dir" 2>/dev/null; then
    register_cleanup_after "'$mini' stop '$dir' --purge >&2"
fi
conf=$(run_bounded 180 "$mini" start "$dir" --port "$port") || die "the Ceph test cluster did not start"

args=("$@")
if [[ ${#args[@]} -gt 0 ]]; then
    "$TANDEM_ROOT/scripts/conformance.sh" --rbd "$conf" "${args[@]}"
    exit
fi
rc=0
"$TANDEM_ROOT/scripts/conformance.sh" --rbd "$conf" --suites-file "$TANDEM_ROOT/conformance/suites-all.txt" \
    --initiator2 iqn.2026-11.io.tandem.test:second-initiator --max-skips 12 || rc=1
"$TANDEM_ROOT/scripts/conformance-cluster.sh" --clusters 2 --rbd "$conf" || rc=1
exit "$rc"
