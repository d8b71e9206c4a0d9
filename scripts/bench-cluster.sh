#!/usr/bin/env bash
# Benchmark (not a test; CI does not run it): what clustering costs. A 3-node Tandem cluster
# against a single Tandem node, same machine, same LUN file, same clients.
#
# Set-up (ports from --base-port P, default 23260; all on 127.0.0.1)
#   - One LUN file WORK/lun0.img (--size, default 1G; --block-size, default 512), written end
#     to end once before anything is measured, so no test reads holes or allocates blocks.
#     Every target below exports this same file as LUN 0 (name lun0) through one YAML file.
#   - ZooKeeper: --zk-servers 3 (default) runs a three-server ensemble, one JVM per server
#     (ZooKeeper's own QuorumPeerMain from the Tandem jar; tickTime 2000, data under WORK,
#     log fsync on, as shipped), client ports P+4..P+6; --zk-servers 1 one standalone server;
#     --zookeeper HOST:PORT[,...] uses an existing ensemble instead (cluster name bench-<pid>;
#     its subtree /tandem/bench-<pid> is deleted at the end).
#   - single:  `tandem serve --portal 127.0.0.1:P --config lun.yaml` (local coordinator).
#   - cluster: nodes 1..3, each its own process as in production:
#              `tandem serve --portal 127.0.0.1:P+i --config lun.yaml --node-id i
#               --zookeeper ZK --cluster-name bench-<pid>`.
#   All four processes run for the whole benchmark; only the one measured is busy.
#
# 1. PR OUT latency (scripts' Java client io.tandem.it.bench.PrOutLatencyBench, from the test
#    classes): three initiators, each logged in through one node (single: all three on it), all
#    registered. One iteration = the fencing cycle of a cluster manager, each command timed:
#    REGISTER (the actor changes its key), RESERVE (write exclusive, registrants only), PREEMPT
#    of another initiator's key (PREEMPT AND ABORT on odd iterations), RELEASE; then the victim
#    registers again through its own node (untimed). Scenarios: "via node 1" (the actor is always
#    the initiator on node 1; victims alternate between nodes 2 and 3) and "via each node" (the
#    actor rotates over the nodes). Each PR OUT is a compare-and-set in ZooKeeper answered once
#    all three nodes have applied it; TEST UNIT READY and PR IN READ KEYS (answered locally) are
#    timed as the round-trip reference. A warm-up of a tenth of the iterations (at least 20)
#    precedes the timed ones. Reported: samples, p50, p99, max in ms (nearest rank).
#
# 2. Data path, the tests of scripts/bench.sh (URL = iscsi://127.0.0.1:PORT/IQN/0):
#      qemu 4K rand read QD32   qemu-img bench -f raw -t none -d 32 -s 4096 -S 20975616 -c N4K URL
#      qemu 4K rand write QD32  qemu-img bench -f raw -t none -d 32 -s 4096 -S 20975616 -c N4K -w --pattern=165 URL
#      qemu 1M seq read QD4     qemu-img bench -f raw -t none -d 4 -s 1M -c N1M URL
#      qemu 1M seq write QD4    qemu-img bench -f raw -t none -d 4 -s 1M -c N1M -w --pattern=90 URL
#      iscsi-perf 4K rand read  iscsi-perf -m 32 -b (4096/BS) -t SECS -r URL
#    Targets: "single"; "cluster" = node 1 of the cluster (nodes 2 and 3 idle); "3 nodes" = one
#    client per node at once (each qemu-img from its own start offset, -o k*SIZE/3), the sum of
#    the clients' operations over the longest client's run time (iscsi-perf: the sum of the
#    averages), extra information. First the two 4K tests run once at half length against every
#    target, unrecorded (JIT warm-up); then each round runs every test against each target, the
#    order rotating by round so drift on a shared machine hits all alike. Reported: medians,
#    cluster/single as the ratio of the medians and as the median of the per-round ratios
#    ("paired": the two targets of a round run close together, so it takes out drift; the cost of
#    clustering, to be >= 0.95, a lower paired ratio is flagged) and 3 nodes/single.
#
# Run lengths        --quick           default (full)
#   PR iterations    200               2000 per scenario (--pr-iterations N)
#   rounds           2                 5               (--rounds N)
#   N4K / N1M / SECS 20000 / 256 / 3   100000 / 2048 / 10
#   time limit       20 min            120 min         (--time-limit MINUTES; the script then
#                                                        stops everything and exits 143)
#
# Usage: scripts/bench-cluster.sh [--quick] [--rounds N] [--pr-iterations N] [--size SIZE]
#            [--block-size 512|4096] [--zk-servers 1|3 | --zookeeper HOST:PORT[,...]]
#            [--base-port P] [--skip-pr] [--skip-iops] [--no-aggregate]
#            [--time-limit MINUTES] [--workdir DIR] [--out DIR]
# Results go to OUT/summary.txt (default target/bench-cluster/<date>-<pid>/) with every log.
set -euo pipefail

SCRIPT_NAME=bench-cluster
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
# shellcheck source=scripts/lib/bench.sh
source "$TANDEM_ROOT/scripts/lib/bench.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

quick=0
rounds=""
pr_iterations=""
size=1G
block_size=512
zk_servers=3
zookeeper=""
base_port=23260
skip_pr=0
skip_iops=0
aggregate=1
time_limit=""
workdir=""
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        --pr-iterations) pr_iterations=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --block-size) block_size=$2; shift 2 ;;
        --zk-servers) zk_servers=$2; shift 2 ;;
        --zookeeper) zookeeper=$2; shift 2 ;;
        --base-port) base_port=$2; shift 2 ;;
        --skip-pr) skip_pr=1; shift ;;
        --skip-iops) skip_iops=1; shift ;;
        --no-aggregate) aggregate=0; shift ;;
        --time-limit) time_limit=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
if [[ $quick -eq 1 ]]; then
    rounds=${rounds:-2}; pr_iterations=${pr_iterations:-200}; time_limit=${time_limit:-20}
    n4k=20000; n1m=256; perf_secs=3
else
    rounds=${rounds:-5}; pr_iterations=${pr_iterations:-2000}; time_limit=${time_limit:-120}
    n4k=100000; n1m=2048; perf_secs=10
fi
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$pr_iterations" =~ ^[1-9][0-9]*$ ]] || die "--pr-iterations must be a positive integer"
[[ "$time_limit" =~ ^[1-9][0-9]*$ ]] || die "--time-limit must be a positive number of minutes"
[[ "$block_size" == 512 || "$block_size" == 4096 ]] || die "--block-size must be 512 or 4096"
[[ "$zk_servers" == 1 || "$zk_servers" == 3 ]] || die "--zk-servers must be 1 or 3"
if ! [[ "$base_port" =~ ^[0-9]+$ ]] || ((base_port < 1024 || base_port + 12 > 65535)); then
    die "--base-port must leave 13 ports in 1024..65535"
fi
((skip_pr == 0 || skip_iops == 0)) || die "--skip-pr and --skip-iops together leave nothing to measure"

require_cmd qemu-img qemu-utils
require_cmd iscsi-perf libiscsi-bin
require_cmd iscsi-readcapacity16 libiscsi-bin
qemu_has_iscsi || die "qemu-img has no iscsi driver: apt-get install qemu-block-extra"

size_bytes=$(numfmt --from=iec "${size%B}") || die "cannot parse --size '$size'"
((size_bytes % (1024 * 1024) == 0)) || die "--size must be a multiple of 1 MiB"
step=20975616
cluster_name=bench-$$

# The whole run is bounded: past the limit the watchdog sends SIGTERM, cleanup stops every
# process this script started, and the script exits 143.
( trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep $((time_limit * 60)) & sleeper=$!
  wait "$sleeper"
  printf '[%s] ERROR: time limit of %s minutes reached; stopping\n' "$SCRIPT_NAME" "$time_limit" >&2
  kill -TERM $$ ) &
register_pid $!

out=${out:-$TANDEM_ROOT/target/bench-cluster/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$out"
if [[ -z "$workdir" ]]; then
    mkdir -p "$TANDEM_ROOT/target/bench-work"
    workdir=$(mktemp -d "$TANDEM_ROOT/target/bench-work/cluster.XXXXXX")
    register_dir "$workdir"
else
    mkdir -p "$workdir"
fi
workdir=$(cd "$workdir" && pwd)

# Ports: single P, nodes P+1..P+3, ZooKeeper clients P+4..P+6, quorum P+7..P+9, election P+10..P+12.
single_port=$base_port
node_port() { echo $((base_port + $1)); }
zk_client_port() { echo $((base_port + 3 + $1)); }
for ((p = base_port; p <= base_port + 12; p++)); do
    port_is_listening "$p" && die "port $p is in use (the benchmark uses $base_port..$((base_port + 12)); pick another --base-port)"
done

# ---------------------------------------------------------------------------------------
# Build: the server jar, and the test classes that hold the benchmark's Java clients
# (io.tandem.it.bench: the PR OUT client, the ZooKeeper subtree cleanup).

tandem_select_jdk
tandem_ensure_built
test_classes=$TANDEM_ROOT/tandem-server/target/test-classes
bench_class=$test_classes/io/tandem/it/bench/PrOutLatencyBench.class
if [[ ! -f "$bench_class" || -n "$(find "$TANDEM_ROOT/tandem-server/src/test" -newer "$bench_class" -print -quit)" ]]; then
    log "compiling the test classes (the benchmark's Java clients)"
    # shellcheck disable=SC2086  # TANDEM_MVN_ARGS holds several arguments
    run_bounded 1200 mvn -B -q -f "$TANDEM_ROOT/pom.xml" ${TANDEM_MVN_ARGS:-} -pl tandem-server -am test-compile \
        >"$out/test-compile.log" 2>&1 || { cat "$out/test-compile.log" >&2; die "test-compile failed"; }
fi
jar=$TANDEM_ROOT/$TANDEM_JAR_REL
java=$JAVA_HOME/bin/java

# ---------------------------------------------------------------------------------------
# The LUN file, written end to end once

lun_file=$workdir/lun0.img
log "writing the LUN file $lun_file ($size) end to end"
run_bounded 900 dd if=/dev/zero of="$lun_file" bs=1M count=$((size_bytes / 1048576)) conv=fsync status=none \
    || die "cannot write $lun_file"
cat >"$workdir/lun.yaml" <<EOF
luns:
  - { number: 0, name: lun0, file: $lun_file, size: $size_bytes, block-size: $block_size }
EOF

# ---------------------------------------------------------------------------------------
# ZooKeeper

# zk_mode PORT: prints the server's "Mode:" (leader, follower, standalone) or nothing.
zk_mode() {
    local reply
    reply=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"'; printf srvr >&3; cat <&3' 2>/dev/null) || true
    sed -n 's/^Mode: *//p' <<<"$reply"
}

if [[ -n "$zookeeper" ]]; then
    zk_connect=$zookeeper
    zk_description="external ($zookeeper)"
    # The cluster's subtree is the benchmark's own: removed once the nodes have stopped.
    register_cleanup_after "timeout 60 \"$java\" -cp \"$test_classes:$jar\" io.tandem.it.bench.DeleteZooKeeperTree \"$zk_connect\" /tandem/$cluster_name >\"$out/zookeeper-cleanup.log\" 2>&1"
else
    zk_connect=""
    for ((i = 1; i <= zk_servers; i++)); do
        d=$workdir/zookeeper-$i
        mkdir -p "$d"
        echo "$i" >"$d/myid"
        {
            echo "tickTime=2000"
            echo "initLimit=10"
            echo "syncLimit=5"
            echo "dataDir=$d"
            echo "clientPort=$(zk_client_port "$i")"
            echo "clientPortAddress=127.0.0.1"
            echo "admin.enableServer=false"
            echo "4lw.commands.whitelist=srvr"
            if ((zk_servers > 1)); then
                for ((j = 1; j <= zk_servers; j++)); do
                    echo "server.$j=127.0.0.1:$((base_port + 6 + j)):$((base_port + 9 + j))"
                done
            fi
        } >"$d/zoo.cfg"
        log "starting ZooKeeper server $i on 127.0.0.1:$(zk_client_port "$i") (log $out/zookeeper-$i.log)"
        "$java" -Xmx256m -cp "$jar" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" \
            >"$out/zookeeper-$i.log" 2>&1 &
        register_pid $!
        zk_pids[i]=$!
        zk_connect+=${zk_connect:+,}127.0.0.1:$(zk_client_port "$i")
    done
    deadline=$((SECONDS + TARGET_START_TIMEOUT))
    for ((i = 1; i <= zk_servers; i++)); do
        until [[ -n "$(zk_mode "$(zk_client_port "$i")")" ]]; do
            kill -0 "${zk_pids[i]}" 2>/dev/null || { _show_log_tail "$out/zookeeper-$i.log"; die "ZooKeeper server $i exited"; }
            ((SECONDS < deadline)) || die "ZooKeeper server $i did not serve within ${TARGET_START_TIMEOUT}s"
            sleep 0.5
        done
    done
    modes=""
    for ((i = 1; i <= zk_servers; i++)); do modes+=" $(zk_mode "$(zk_client_port "$i")")"; done
    zk_description="$zk_servers server(s) on this machine, one JVM each (${modes# }), data on WORK"
    log "ZooKeeper serving: $zk_connect ($modes )"
fi

# ---------------------------------------------------------------------------------------
# Targets

capacity_check() {
    local name=$1 url=$2 got
    run_bounded 30 iscsi-readcapacity16 "$url" >"$out/$name.capacity" 2>&1 || die "$name: READ CAPACITY failed"
    got=$(sed -n 's/^Total size:\([0-9]*\).*/\1/p' "$out/$name.capacity")
    [[ "$got" == "$size_bytes" ]] || die "$name reports $got bytes, expected $size_bytes"
}

declare -A url=() portal=()
start_tandem "$workdir/single" "$single_port" "$out/single.log" --config "$workdir/lun.yaml"
url[single]=$TARGET_URL
portal[single]=127.0.0.1:$single_port
for i in 1 2 3; do
    start_tandem "$workdir/node-$i" "$(node_port "$i")" "$out/node-$i.log" --config "$workdir/lun.yaml" \
        --node-id "$i" --zookeeper "$zk_connect" --cluster-name "$cluster_name"
    grep -q "^node $i of cluster $cluster_name" "$out/node-$i.log" || die "node $i did not start in cluster mode (see $out/node-$i.log)"
    url[node$i]=$TARGET_URL
    portal[node$i]=127.0.0.1:$(node_port "$i")
done
target_iqn=$TARGET_IQN
for k in single node1 node2 node3; do capacity_check "$k" "${url[$k]}"; done

# ---------------------------------------------------------------------------------------
# 1. PR OUT latency

pr_results=$out/pr-latency.tsv
: >"$pr_results"
if [[ $skip_pr -eq 0 ]]; then
    pr_secs=$((time_limit * 60 / 4))
    run_pr() {
        local label=$1 rc=0
        shift
        log "PR OUT latency: $label ($pr_iterations iterations per scenario)"
        run_bounded $((pr_secs + 120)) "$java" -cp "$test_classes" io.tandem.it.bench.PrOutLatencyBench \
            --target "$target_iqn" --label "$label" --iterations "$pr_iterations" --max-seconds "$pr_secs" \
            --warmup $((pr_iterations / 10 > 20 ? pr_iterations / 10 : 20)) "$@" \
            >"$out/pr-$label.log" 2>&1 || rc=$?
        [[ $rc -eq 0 ]] || { _show_log_tail "$out/pr-$label.log"; die "PR OUT client for $label exited with status $rc"; }
        grep '^# .*stopped early' "$out/pr-$label.log" >&2 || true
        grep '^RESULT' "$out/pr-$label.log" >>"$pr_results"
    }
    run_pr single --portal "${portal[single]}" --scenario one
    run_pr cluster --portal "${portal[node1]}" --portal "${portal[node2]}" --portal "${portal[node3]}" \
        --scenario one --scenario each
fi

# ---------------------------------------------------------------------------------------
# 2. Data path

bench_tests "$step" "$n4k" "$n1m" "$block_size" "$perf_secs"

# measure KIND "CMD" UNIT LOGPREFIX: one run against KIND (single, cluster: node 1, or
# aggregate: one client per node at once); sets REPLY. The clients run in this shell
# (backgrounded and waited for), so a signal stops them through the cleanup trap.
measure() {
    local kind=$1 cmd=$2 unit=$3 prefix=$4 k pid rc total=0 longest=0 bytes=0
    local -a nodes pids=()
    case $kind in
        single) nodes=(single) ;;
        cluster) nodes=(node1) ;;
        aggregate) nodes=(node1 node2 node3) ;;
    esac
    for k in "${!nodes[@]}"; do
        local c=$cmd
        if [[ $kind == aggregate ]]; then
            # each client its own third of the LUN (qemu-img); its own initiator name (iscsi-perf)
            if [[ $cmd == qemu-img* ]]; then
                c+=" -o $(((size_bytes / 3) / 1048576 * 1048576 * k))"
            else
                c+=" -i iqn.2026-11.io.tandem.bench:perf$((k + 1))"
            fi
        fi
        # shellcheck disable=SC2086  # c is a word list from the table above
        timeout -k 10 600 $c "${url[${nodes[k]}]}" >"$prefix.${nodes[k]}.log" 2>&1 &
        pid=$!
        register_pid "$pid"
        pids+=("$pid")
    done
    for k in "${!nodes[@]}"; do
        rc=0
        wait "${pids[k]}" || rc=$?
        unregister_pid "${pids[k]}"
        [[ $rc -eq 0 ]] || die "'$cmd' against ${nodes[k]} exited with status $rc (see $prefix.${nodes[k]}.log)"
        parse_run "$cmd" "$prefix.${nodes[k]}.log"
        total=$((total + REPLY_COUNT))
        bytes=$REPLY_BYTES
        longest=$(awk -v a="$longest" -v b="$REPLY_SECS" 'BEGIN { print (b > a) ? b : a }')
    done
    REPLY=$(metric "$unit" "$total" "$bytes" "$longest")
}

kinds=(single cluster)
[[ $aggregate -eq 1 ]] && kinds+=(aggregate)
declare -A values=()
if [[ $skip_iops -eq 0 ]]; then
    # Warm-up, not recorded: every JVM compiles its data path before the first measured run
    # (the aggregate warms nodes 2 and 3).
    for t in "${tests[@]:0:2}"; do
        IFS='|' read -r name unit cmd <<<"$t"
        cmd=${cmd/ -c $n4k/ -c $((n4k / 2))}
        for k in "${kinds[@]}"; do
            measure "$k" "$cmd" "$unit" "$out/$k.$(tr ' /' '__' <<<"$name").warmup"
            log "warm-up  $name  $k: $REPLY $unit"
        done
    done
    for ((r = 1; r <= rounds; r++)); do
        # rotate the order by round: single first, then cluster first, ...
        order=("${kinds[@]:$(((r - 1) % ${#kinds[@]}))}" "${kinds[@]:0:$(((r - 1) % ${#kinds[@]}))}")
        for t in "${tests[@]}"; do
            IFS='|' read -r name unit cmd <<<"$t"
            for k in "${order[@]}"; do
                measure "$k" "$cmd" "$unit" "$out/$k.$(tr ' /' '__' <<<"$name").run$r"
                values["$name|$k"]+="$REPLY "
                log "round $r/$rounds  $name  $k: $REPLY $unit"
            done
        done
    done
fi

# ---------------------------------------------------------------------------------------
# Report

ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

{
    echo "Tandem cluster vs single node: $(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "LUN $size, block $block_size B, one file for all; work dir filesystem: $(df -PT "$workdir" | awk 'NR == 2 { print $2 " on " $1 }')"
    echo "cluster: 3 nodes (one process each) on 127.0.0.1:$(node_port 1)..$(node_port 3); ZooKeeper: $zk_description"
    echo "java: $("$java" -version 2>&1 | head -n 1), TANDEM_JAVA_OPTS: ${TANDEM_JAVA_OPTS:-(none)}"
    if [[ $skip_pr -eq 0 ]]; then
        echo
        echo "PR OUT latency, ms ($pr_iterations iterations per scenario; reference rows need no coordination)"
        printf '%-8s %-14s %-38s %8s %8s %8s %8s\n' setup scenario command samples p50 p99 max
        while IFS=$'\t' read -r _ label scenario row n p50 p99 max _; do
            case $scenario in one) scenario="via node 1" ;; each) scenario="via each node" ;; esac
            [[ $label == single ]] && scenario="one node"
            printf '%-8s %-14s %-38s %8s %8s %8s %8s\n' "$label" "$scenario" "$row" "$n" "$(ms "$p50")" "$(ms "$p99")" "$(ms "$max")"
        done <"$pr_results"
    fi
    if [[ $skip_iops -eq 0 ]]; then
        echo
        echo "Data path, medians of $rounds rounds (cluster = node 1 of the cluster; 3 nodes = one client per node at once)"
        printf '%-30s %-5s %10s %10s %9s %7s %10s %9s\n' test unit single cluster cl/single paired "3 nodes" 3n/single
        for t in "${tests[@]}"; do
            IFS='|' read -r name unit _ <<<"$t"
            s=$(median "${values["$name|single"]}")
            c=$(median "${values["$name|cluster"]}")
            a="-"; ar="-"
            if [[ $aggregate -eq 1 ]]; then
                a=$(median "${values["$name|aggregate"]}")
                ar=$(ratio "$a" "$s")
            fi
            cr=$(ratio "$c" "$s")
            pr=$(paired_ratio "${values["$name|cluster"]}" "${values["$name|single"]}")
            flag=""
            awk -v r="$pr" 'BEGIN { exit !(r != "-" && r < 0.95) }' && flag="  < 0.95"
            printf '%-30s %-5s %10s %10s %9s %7s %10s %9s%s\n' "$name" "$unit" "$s" "$c" "$cr" "$pr" "$a" "$ar" "$flag"
        done
        echo
        print_all_runs "${kinds[@]}"
    fi
} | tee "$out/summary.txt"
echo "logs: $out"
