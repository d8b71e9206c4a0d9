#!/usr/bin/env bash
# End-to-end check of the documented production layout: one `tandem serve` process per node
# against an external ZooKeeper server (Debian's `zookeeper` package, its own QuorumPeerMain),
# node files written as README.md's "One process per node" section shows them:
#   1. a ZooKeeper server from /usr/share/java/zookeeper.jar on a free loopback port;
#   2. node 1 started with the target and LUN sections (it creates the cluster's
#      configuration), node 2 with only its id, portal and the ensemble (it takes the stored one);
#   3. SendTargets through node 2 lists both nodes' portals with their portal group tags, and
#      iscsi-ls lists LUN 0 through each;
#   4. VPD 83h names the same LU through both nodes (the binary port designators are checked
#      by TandemClusterTest, iscsi-inq prints them raw);
#   5. qemu-img writes 16 MiB of random data through node 1 and reads it back through node 2:
#      identical (one shared LUN file);
#   6. node 1 stops (SIGTERM, exit 0): SendTargets through node 2 then lists node 2 alone.
# Everything started here is stopped by PID.
#
# Usage: scripts/e2e-external-zk.sh [--out DIR]
set -euo pipefail

SCRIPT_NAME=e2e-external-zk
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

ZK_JAR=/usr/share/java/zookeeper.jar
[[ -r $ZK_JAR ]] || die "$ZK_JAR not found: install Debian's zookeeper package (apt-get install zookeeper)"
require_cmd java default-jre-headless
require_cmd iscsi-ls libiscsi-bin
require_cmd iscsi-inq libiscsi-bin
require_cmd qemu-img qemu-utils
require_cmd cmp diffutils
qemu_has_iscsi || die "qemu-img has no iscsi:// driver: install qemu-block-extra"

out=${out:-$TANDEM_ROOT/target/e2e-external-zk/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$out"
make_tmpdir e2e-external-zk
work=$REPLY
iqn=iqn.2026-11.io.tandem.e2e:external-zk
failures=0
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }

# 1. ZooKeeper (Debian's build; its jar's manifest names its dependencies). A short tick so the
# nodes' 4 s session timeout is within its 2..20 tick bounds.
zk_port=$(pick_free_port 42181)
mkdir -p "$work/zk-data"
cat >"$work/zoo.cfg" <<EOF
tickTime=500
dataDir=$work/zk-data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
EOF
log "starting ZooKeeper ($ZK_JAR) on 127.0.0.1:$zk_port"
/usr/bin/java -cp "$ZK_JAR" org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/zoo.cfg" >"$out/zookeeper.log" 2>&1 &
zk_pid=$!
register_pid "$zk_pid"
wait_for_port 127.0.0.1 "$zk_port" "$zk_pid" ZooKeeper "$out/zookeeper.log"

# 2. Two nodes, one process each, sharing one LUN file.
port1=$(pick_free_port 43261)
port2=$(pick_free_port $((port1 + 1)))
cat >"$work/node1.yaml" <<EOF
node: { id: 1 }
cluster: { zookeeper: "127.0.0.1:$zk_port", name: e2e, session-timeout: 4 }
portals: ["127.0.0.1:$port1"]
data: $work/node1
target: { name: $iqn }
luns:
  - { number: 0, name: shared, file: $work/shared.img, size: 64M }
EOF
cat >"$work/node2.yaml" <<EOF
node: { id: 2 }
cluster: { zookeeper: "127.0.0.1:$zk_port", name: e2e, session-timeout: 4 }
portals: ["127.0.0.1:$port2"]
data: $work/node2
EOF
tandem_select_jdk
tandem_ensure_built
declare -A node_pid=()
start_node() {
    local id=$1 port=$2 deadline
    log "starting node $id on 127.0.0.1:$port"
    "$TANDEM_LAUNCHER" serve --config "$work/node$id.yaml" >"$out/node$id.log" 2>&1 &
    node_pid[$id]=$!
    register_pid "${node_pid[$id]}"
    deadline=$((SECONDS + TARGET_START_TIMEOUT))
    until grep -qE '^[[:space:]]*ready[[:space:]]*$' "$out/node$id.log" 2>/dev/null; do
        kill -0 "${node_pid[$id]}" 2>/dev/null || { _show_log_tail "$out/node$id.log"; die "node $id exited before printing 'ready'"; }
        ((SECONDS < deadline)) || { _show_log_tail "$out/node$id.log"; die "node $id did not print 'ready' in time"; }
        sleep 0.2
    done
    wait_for_port 127.0.0.1 "$port" "${node_pid[$id]}" "node $id" "$out/node$id.log"
}
start_node 1 "$port1"
start_node 2 "$port2"
url1=iscsi://127.0.0.1:$port1/$iqn/0
url2=iscsi://127.0.0.1:$port2/$iqn/0

# 3. Discovery through node 2 knows both nodes.
discovery=$(run_bounded 30 iscsi-ls -s "iscsi://127.0.0.1:$port2" 2>&1) || true
printf '%s\n' "$discovery" >"$out/iscsi-ls.node2.txt"
if grep -q "Target:$iqn Portal:127.0.0.1:$port1,1" <<<"$discovery" \
        && grep -q "Target:$iqn Portal:127.0.0.1:$port2,2" <<<"$discovery"; then
    pass "SendTargets through node 2 lists node 1 (tag 1) and node 2 (tag 2)"
else
    fail "SendTargets through node 2: $(tr '\n' ' ' <<<"$discovery")"
fi
if [[ $(grep -c 'Lun:0 .*Type:DIRECT_ACCESS' <<<"$discovery") -eq 2 ]]; then
    pass "iscsi-ls lists LUN 0 as a disk through both portals"
else
    fail "iscsi-ls did not list LUN 0 through both portals"
fi

# 4. Identity on both paths.
vpd() { run_bounded 30 iscsi-inq -e 1 -c 131 "$1" 2>&1; }
vpd1=$(vpd "$url1") || true
vpd2=$(vpd "$url2") || true
printf '%s\n' "$vpd1" >"$out/vpd83.node1.txt"
printf '%s\n' "$vpd2" >"$out/vpd83.node2.txt"
# iscsi-inq prints binary designators raw; the T10 vendor ID designator is ASCII and names the LU.
t10() { grep -A1 'Designator Type:(1) T10_VENDORT_ID' <<<"$1" | sed -n 's/^Designator:\[\(.*\)\]$/\1/p'; }
if [[ -n "$(t10 "$vpd1")" && "$(t10 "$vpd1")" == "$(t10 "$vpd2")" ]]; then
    pass "VPD 83h names the same LU through both nodes ($(t10 "$vpd1"))"
else
    fail "VPD 83h LU designators differ or are missing (see $out/vpd83.node*.txt)"
fi

# 5. One shared LUN: written through node 1, read through node 2.
head -c $((16 << 20)) /dev/urandom >"$work/in.raw"
if run_bounded 120 qemu-img convert -n -f raw -O raw "$work/in.raw" "$url1" >"$out/qemu-write.log" 2>&1 \
        && run_bounded 120 qemu-img convert -f raw -O raw "$url2" "$work/out.raw" >"$out/qemu-read.log" 2>&1 \
        && cmp -n $((16 << 20)) "$work/in.raw" "$work/out.raw"; then
    pass "16 MiB written through node 1 read back identical through node 2"
else
    fail "qemu-img round trip across the nodes (see $out/qemu-*.log)"
fi

# 6. A node that stops leaves discovery.
if stop_pid "${node_pid[1]}" "node 1"; then
    unregister_pid "${node_pid[1]}"
    pass "node 1 stopped on SIGTERM with exit status 0"
else
    fail "node 1 did not exit 0 on SIGTERM"
fi
deadline=$((SECONDS + 20))
while :; do
    discovery=$(run_bounded 30 iscsi-ls -s "iscsi://127.0.0.1:$port2" 2>&1) || true
    if ! grep -q "Portal:127.0.0.1:$port1," <<<"$discovery" && grep -q "Portal:127.0.0.1:$port2,2" <<<"$discovery"; then
        pass "SendTargets through node 2 lists node 2 alone once node 1 is gone"
        break
    fi
    if ((SECONDS >= deadline)); then
        fail "SendTargets through node 2 still lists node 1 20 s after it stopped: $(tr '\n' ' ' <<<"$discovery")"
        break
    fi
    sleep 0.5
done

# 7. ZooKeeper's own client reports through the node's log (an SLF4J binding is packaged): no
# "no binding" notice at start, and its warnings once the ensemble is gone.
if grep -q '^SLF4J: ' "$out/node2.log"; then
    fail "node 2's log has SLF4J's no-binding notice: $(grep -m1 '^SLF4J: ' "$out/node2.log")"
else
    pass "node 2's log has no SLF4J no-binding notice"
fi
kill -KILL "$zk_pid" 2>/dev/null || true
wait "$zk_pid" 2>/dev/null || true
unregister_pid "$zk_pid"
zk_warning=""
deadline=$((SECONDS + 20))
while [[ -z "$zk_warning" ]] && ((SECONDS < deadline)); do
    zk_warning=$(grep -m1 -E ' WARN org\.apache\.(zookeeper|curator)' "$out/node2.log" || true)
    [[ -n "$zk_warning" ]] || sleep 0.5
done
if [[ -n "$zk_warning" ]]; then
    pass "ZooKeeper's client warns in node 2's log once the ensemble is gone: ${zk_warning:0:150}"
else
    fail "node 2 logged no ZooKeeper client warning within 20 s of the ensemble's loss"
fi

# 8. A node whose ensemble is gone still stops on SIGTERM, promptly: its leave writes are waited
# for 2 s at most, not until the session is declared lost.
stop_started=$SECONDS
if stop_pid "${node_pid[2]}" "node 2"; then
    unregister_pid "${node_pid[2]}"
    pass "node 2 stopped on SIGTERM with exit status 0 in $((SECONDS - stop_started)) s, its ensemble gone"
else
    fail "node 2 did not exit 0 on SIGTERM with its ensemble gone (see $out/node2.log)"
fi

log "logs: $out"
if [[ $failures -gt 0 ]]; then
    log "$failures check(s) failed"
    exit 1
fi
log "all checks passed"
