#!/usr/bin/env bash
# Benchmark (not a test; CI does not run it): one Tandem node serving an RBD image over iSCSI
# against direct librbd on the same image, same run, same machine.
#
# Set-up
#   - Ceph: scripts/ceph-mini (one monitor, one memstore OSD, pool rbd) in --ceph-dir (default
#     $TMPDIR/tandem-bench-rbd-PORT) on monitor port --ceph-port (default 40400, and PORT+1).
#     A cluster already running there is reused and left running; one this script starts is
#     stopped at the end (by the PIDs ceph-mini recorded). memstore keeps everything in RAM,
#     so the image is small (--size, default 256M).
#   - Image rbd/bench-rbd-<pid>: created by `./tandem rbd-create` (layering, deep-flatten: no
#     exclusive lock), written end to end once before anything is measured (qemu-img bench -w
#     -s 1M through QEMU's rbd driver), removed at the end.
#   - Tandem: `./tandem serve --portal 127.0.0.1:P --config lun.yaml`, LUN 0 =
#     `{ backend: rbd, pool: rbd, image: IMAGE, ceph-conf: CONF, block-size: 512 }` (Tandem
#     forces rbd_cache=false) and LUN 1 = `{ backend: memory, size: SIZE, block-size: 512 }`,
#     also written once.
#
# Clients and tests (N4K, N1M from --quick/defaults; STEP = 20975616, see scripts/bench.sh)
#   tandem  qemu-img bench over iscsi://127.0.0.1:P/IQN/0 (libiscsi)
#   qemu    qemu-img bench over rbd:rbd/IMAGE:conf=CONF:rbd_cache=false (QEMU's own rbd driver:
#           direct librbd with the identical client program, the baseline of the ratio)
#   rbd     rbd bench --rbd_cache=false (a second reference; its own I/O generator)
#   mem     qemu-img bench over iSCSI to the memory LUN of the same Tandem: the iSCSI path
#           alone, no storage (where the ceiling of the tandem row lies on this machine)
#     4K rand read QD32   qemu-img bench -f raw -t none -d 32 -s 4096 -S STEP -c N4K URL
#                         rbd bench --io-type read --io-size 4K --io-threads 32 --io-pattern rand --io-total N4K*4K
#     4K rand write QD32  qemu-img bench ... -c N4K -w --pattern=165 URL
#                         rbd bench --io-type write --io-size 4K --io-threads 32 --io-pattern rand ...
#     1M seq read QD4     qemu-img bench -f raw -t none -d 4 -s 1M -c N1M URL
#                         rbd bench --io-type read --io-size 1M --io-threads 4 --io-pattern seq --io-total N1M*1M
#     1M seq write QD4    qemu-img bench ... -c N1M -w --pattern=90 URL
#                         rbd bench --io-type write --io-size 1M --io-threads 4 --io-pattern seq ...
#   qemu-img: IOPS = count / run time, MB/s = count * size / run time / 2^20. rbd bench: its
#   final "ops/sec" (MB/s = ops/sec * size / 2^20). Sequential runs longer than the image wrap.
#
# Warm-up (--warmup-gib G; default 12, with --quick 2): first every test runs once against
# Tandem, unrecorded, the 4K tests at full length and each 1M test for G GiB. Tandem's JVM
# compiles its data path as it runs it; a 1 MiB command calls the per-command code only a few
# times per MiB, so C2 is done with the 1 MiB read path only after about 10-12 GiB (measured:
# 1 MiB QD4 reads through a fresh node rise from about 0.65 to about 1.0 of QEMU's rbd driver
# over their first 12 GiB).
# What is measured is then the steady state of a gateway that has been serving for a while;
# --warmup-gib 0 measures a freshly started one (the 4K tests still run once, at half length).
# Then each round runs every test on every client, the client order rotating by round so
# that background load on a shared machine hits all alike. Reported: medians, tandem/qemu
# (the goal is >= 0.90; a lower ratio is flagged), tandem/rbd, paired/qemu (the median of the
# per-round tandem/qemu ratios: takes out drift between rounds); the CPU time per operation
# of the client process, of Tandem and of the OSD (from /proc: where the cycles go when the
# CPUs are the limit); and the 1-minute load average sampled before each run (min/median/max).
# This compares clients on one machine, it is no absolute figure: on a small machine the
# client, Tandem and the OSD share the same CPUs.
#
# CPU placement   by default every process may run on every CPU ("shared"). --gateway-cpus
#   LIST (taskset syntax, e.g. 1 or 2-3) models a gateway with CPUs of its own, as deployed:
#   Tandem is started on LIST only (its JVM sizes its threads for them), and the Ceph
#   daemons and every client run on the other CPUs, in the tandem rows and the direct rows
#   alike. So initiator + Ceph get the same CPUs in both, and Tandem's work comes on top, as
#   a gateway host's does. (The iSCSI initiator needs less CPU than the librbd client it
#   replaces, which leaves the OSD a little more of the shared CPUs in the tandem rows; the
#   CPU table shows how much.)
#
# Run lengths   --quick           default (full)
#   rounds      2                 5                (--rounds N)
#   N4K / N1M   20000 / 256       100000 / 2048
#   time limit  15 min            60 min           (--time-limit MINUTES; the script then stops
#                                                   everything and exits 143)
#
# Usage: scripts/bench-rbd.sh [--quick] [--rounds N] [--size SIZE] [--ceph-port P]
#            [--ceph-dir DIR] [--only tandem,qemu,rbd,mem] [--gateway-cpus LIST]
#            [--warmup-gib G] [--time-limit MINUTES] [--out DIR]
# Results go to OUT/summary.txt (default target/bench-rbd/<date>-<pid>/) with every log.
set -euo pipefail

SCRIPT_NAME=bench-rbd
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
# shellcheck source=scripts/lib/bench.sh
source "$TANDEM_ROOT/scripts/lib/bench.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

quick=0
rounds=""
size=256M
ceph_port=40400
ceph_dir=""
only="tandem,qemu,rbd,mem"
gateway_cpus=""
warmup_gib=""
time_limit=""
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --ceph-port) ceph_port=$2; shift 2 ;;
        --ceph-dir) ceph_dir=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --gateway-cpus) gateway_cpus=$2; shift 2 ;;
        --warmup-gib) warmup_gib=$2; shift 2 ;;
        --time-limit) time_limit=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
if [[ $quick -eq 1 ]]; then
    rounds=${rounds:-2}; time_limit=${time_limit:-15}; n4k=20000; n1m=256; warmup_gib=${warmup_gib:-2}
else
    rounds=${rounds:-5}; time_limit=${time_limit:-60}; n4k=100000; n1m=2048; warmup_gib=${warmup_gib:-12}
fi
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$time_limit" =~ ^[1-9][0-9]*$ ]] || die "--time-limit must be a positive number of minutes"
[[ "$warmup_gib" =~ ^[0-9]+$ ]] || die "--warmup-gib must be a whole number of GiB (0: no 1M warm-up)"
if ! [[ "$ceph_port" =~ ^[0-9]+$ ]] || ((ceph_port < 1024 || ceph_port >= 65535)); then
    die "bad --ceph-port '$ceph_port'"
fi
clients=()
IFS=',' read -r -a wanted <<<"$only"
for c in tandem qemu rbd mem; do
    for w in "${wanted[@]}"; do [[ $w == "$c" ]] && clients+=("$c"); done
done
for w in "${wanted[@]}"; do
    case $w in tandem|qemu|rbd|mem) ;; *) die "--only takes tandem, qemu, rbd and mem, comma-separated" ;; esac
done
[[ ${#clients[@]} -gt 0 ]] || die "--only names no client"

require_cmd qemu-img qemu-utils
require_cmd rbd ceph-common
qemu_formats=$(qemu-img --help 2>/dev/null) || true
grep -qw iscsi <<<"$qemu_formats" || die "qemu-img has no iscsi driver: apt-get install qemu-block-extra"
grep -qw rbd <<<"$qemu_formats" || die "qemu-img has no rbd driver: apt-get install qemu-block-extra"

# expand_cpus LIST: the CPU numbers of a taskset-style list ("0,2-3" -> "0 2 3").
expand_cpus() {
    local part parts range cpus=()
    IFS=',' read -r -a parts <<<"$1"
    for part in "${parts[@]}"; do
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            ((BASH_REMATCH[1] <= BASH_REMATCH[2])) || return 1
            read -r -a range <<<"$(seq -s ' ' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")"
            cpus+=("${range[@]}")
        elif [[ $part =~ ^[0-9]+$ ]]; then
            cpus+=("$part")
        else
            return 1
        fi
    done
    echo "${cpus[*]}"
}
pin_gateway=()   # command prefix for Tandem
pin_others=()    # command prefix for the Ceph daemons and every client
placement="shared: every process may run on any of the $(nproc) CPUs"
if [[ -n "$gateway_cpus" ]]; then
    require_cmd taskset util-linux
    mine=$(expand_cpus "$gateway_cpus") || die "bad --gateway-cpus '$gateway_cpus' (taskset syntax: 1 or 2-3 or 0,2)"
    # The CPUs this script may use (its own affinity), less the gateway's.
    all=$(expand_cpus "$(taskset -pc $$ | sed 's/.*: *//')") || die "cannot read this shell's CPU affinity"
    rest=()
    for c in $all; do [[ " $mine " == *" $c "* ]] || rest+=("$c"); done
    for c in $mine; do [[ " $all " == *" $c "* ]] || die "--gateway-cpus: CPU $c is not available (have: $all)"; done
    ((${#rest[@]} > 0)) || die "--gateway-cpus leaves no CPU for Ceph and the clients (have: $all)"
    others=$(IFS=,; echo "${rest[*]}")
    pin_gateway=(taskset -c "$gateway_cpus")
    pin_others=(taskset -c "$others")
    placement="gateway: Tandem on CPU $gateway_cpus; Ceph daemons and clients on CPU $others"
fi

size_bytes=$(numfmt --from=iec "${size%B}") || die "cannot parse --size '$size'"
((size_bytes % (1024 * 1024) == 0)) || die "--size must be a multiple of 1 MiB"
step=20975616

# The whole run is bounded: past the limit the watchdog sends SIGTERM, cleanup stops every
# process this script started, and the script exits 143.
( trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep $((time_limit * 60)) & sleeper=$!
  wait "$sleeper"
  printf '[%s] ERROR: time limit of %s minutes reached; stopping\n' "$SCRIPT_NAME" "$time_limit" >&2
  kill -TERM $$ ) &
register_pid $!

out=${out:-$TANDEM_ROOT/target/bench-rbd/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mkdir -p "$TANDEM_ROOT/target/bench-work"
workdir=$(mktemp -d "$TANDEM_ROOT/target/bench-work/rbd.XXXXXX")
register_dir "$workdir"

# ---------------------------------------------------------------------------------------
# Ceph and the image

mini=$TANDEM_ROOT/scripts/ceph-mini
ceph_dir=${ceph_dir:-${TMPDIR:-/tmp}/tandem-bench-rbd-$ceph_port}
if ! "$mini" status "$ceph_dir" 2>/dev/null; then
    register_cleanup_after "'$mini' stop '$ceph_dir' --purge >&2"
fi
conf=$(run_bounded 180 "$mini" start "$ceph_dir" --port "$ceph_port" 2>"$out/ceph-mini.log") ||
    { _show_log_tail "$out/ceph-mini.log"; die "the Ceph cluster did not start"; }
log "Ceph: $conf"
if [[ ${#pin_others[@]} -gt 0 ]]; then
    for f in "$ceph_dir"/run/*.pid; do
        taskset -a -pc "$others" "$(<"$f")" >/dev/null || die "cannot pin the Ceph daemon of $f to CPU $others"
    done
    # a cluster this script reuses gets its placement back
    register_cleanup_after "for f in '$ceph_dir'/run/*.pid; do taskset -a -pc '$all' \"\$(cat \"\$f\")\" >/dev/null 2>&1; done; true"
fi

tandem_select_jdk
tandem_ensure_built
image=bench-rbd-$$
run_bounded 120 "$TANDEM_LAUNCHER" rbd-create --ceph-conf "$conf" --pool rbd --image "$image" --size "$size" \
    >"$out/rbd-create.log" 2>&1 || { _show_log_tail "$out/rbd-create.log"; die "cannot create rbd/$image"; }
# runs before the cluster is stopped (cleanup_after runs last-registered first), after Tandem
register_cleanup_after "timeout -k 5 60 rbd -c '$conf' rm --no-progress 'rbd/$image' >/dev/null 2>&1"
rbd_url="rbd:rbd/$image:conf=$conf:rbd_cache=false"
log "prefilling rbd/$image ($size)"
run_bounded 600 qemu-img bench -f raw -t none -w -d 4 -s 1M -c $((size_bytes / 1048576)) --pattern=90 "$rbd_url" \
    >"$out/prefill.log" 2>&1 || { _show_log_tail "$out/prefill.log"; die "prefill failed"; }

# ---------------------------------------------------------------------------------------
# Tandem

declare -A url=()
url[qemu]=$rbd_url
url[rbd]=rbd/$image
if [[ " ${clients[*]} " == *" tandem "* || " ${clients[*]} " == *" mem "* ]]; then
    cat >"$workdir/lun.yaml" <<EOF
luns:
  - { number: 0, name: lun0, backend: rbd, pool: rbd, image: $image, ceph-conf: $conf, block-size: 512 }
  - { number: 1, name: mem, backend: memory, size: $size_bytes, block-size: 512 }
EOF
    if [[ ${#pin_gateway[@]} -gt 0 ]]; then
        # start_tandem runs TANDEM_LAUNCHER; this one execs it on the gateway's CPUs (same PID)
        printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${pin_gateway[*]}" "$TANDEM_LAUNCHER" >"$workdir/tandem-pinned"
        chmod +x "$workdir/tandem-pinned"
        TANDEM_LAUNCHER=$workdir/tandem-pinned
    fi
    start_tandem "$workdir/tandem-data" "$(pick_free_port 13290)" "$out/tandem.log" --config "$workdir/lun.yaml"
    url[tandem]=$TARGET_URL
    tandem_pid=$TARGET_PID
    run_bounded 30 iscsi-readcapacity16 "$TARGET_URL" >"$out/tandem.capacity" 2>&1 || die "Tandem: READ CAPACITY failed"
    got=$(sed -n 's/^Total size:\([0-9]*\).*/\1/p' "$out/tandem.capacity")
    [[ "$got" == "$size_bytes" ]] || die "Tandem reports $got bytes, expected $size_bytes"
    url[mem]=${TARGET_URL%/*}/1
    run_bounded 600 qemu-img bench -f raw -t none -w -d 4 -s 1M -c $((size_bytes / 1048576)) --pattern=90 "${url[mem]}" \
        >"$out/prefill-mem.log" 2>&1 || { _show_log_tail "$out/prefill-mem.log"; die "prefill of the memory LUN failed"; }
fi

# ---------------------------------------------------------------------------------------
# Measuring

bench_tests "$step" "$n4k" "$n1m" 512 1
tests=("${tests[@]:0:4}")   # the qemu-img rows; iscsi-perf has no librbd counterpart

# rbd_bench_args "CMD": the rbd bench arguments equivalent to a qemu-img row
rbd_bench_args() {
    local cmd=$1 type="read" threads pattern bytes count
    [[ $cmd == *" -w "* ]] && type="write"
    bytes=$(numfmt --from=iec "$(sed -n 's/.* -s \([0-9KM]*\).*/\1/p' <<<"$cmd")")
    count=$(sed -n 's/.* -c \([0-9]*\).*/\1/p' <<<"$cmd")
    threads=$(sed -n 's/.* -d \([0-9]*\).*/\1/p' <<<"$cmd")
    if [[ $cmd == *" -S "* ]]; then pattern=rand; else pattern=seq; fi
    printf '%s' "bench --io-type $type --io-size $bytes --io-threads $threads --io-pattern $pattern --io-total $((count * bytes)) --rbd_cache=false"
}

# CPU time in clock ticks: of process PID (user + system), and of this shell's reaped children
# (the clients: run_bounded waits for them). Fields after the ")" that ends the command name.
proc_ticks() {
    local s
    if [[ $1 == 0 || ! -r /proc/$1/stat ]] || ! s=$(<"/proc/$1/stat"); then
        echo 0
        return
    fi
    awk '{ print $12 + $13 }' <<<"${s##*) }"
}
children_ticks() { local s; s=$(<"/proc/$$/stat"); awk '{ print $14 + $15 }' <<<"${s##*) }"; }
osd_pid=$(<"$ceph_dir/run/osd.0.pid")
hz=$(getconf CLK_TCK)

declare -a loads=()
declare -A cpu=()
# measure CLIENT "CMD" UNIT LOG: one run; sets REPLY to its IOPS or MB/s, and records the CPU
# time per operation of the client, Tandem and the OSD. The client runs in this shell (through
# run_bounded), so a signal stops it through the cleanup trap.
measure() {
    local client=$1 cmd=$2 unit=$3 logfile=$4 rc=0 ops bytes count c0 t0 o0
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    count=$(sed -n 's/.* -c \([0-9]*\).*/\1/p' <<<"$cmd")
    c0=$(children_ticks); o0=$(proc_ticks "$osd_pid"); t0=$(proc_ticks "${tandem_pid:-0}")
    measure_run "$client" "$cmd" "$unit" "$logfile"
    CPU_US=$(awk -v n="$count" -v hz="$hz" -v c="$(($(children_ticks) - c0))" \
        -v t="$(($(proc_ticks "${tandem_pid:-0}") - t0))" -v o="$(($(proc_ticks "$osd_pid") - o0))" \
        'BEGIN { f = 1e6 / hz / n; printf "%.0f %.0f %.0f", c * f, t * f, o * f }')
}

measure_run() {
    local client=$1 cmd=$2 unit=$3 logfile=$4 rc=0 ops bytes
    if [[ $client == rbd ]]; then
        # shellcheck disable=SC2046  # a word list
        run_bounded 600 "${pin_others[@]}" rbd -c "$conf" $(rbd_bench_args "$cmd") "${url[rbd]}" >"$logfile" 2>&1 || rc=$?
        [[ $rc -eq 0 ]] || die "rbd bench exited with status $rc (see $logfile)"
        ops=$(sed -n 's/^elapsed:.*ops\/sec: *\([0-9.]*\).*/\1/p' "$logfile" | tail -n 1)
        [[ -n "$ops" ]] || die "no 'ops/sec' in $logfile"
        bytes=$(numfmt --from=iec "$(sed -n 's/.* -s \([0-9KM]*\).*/\1/p' <<<"$cmd")")
        REPLY=$(metric "$unit" "$ops" "$bytes" 1)
    else
        [[ $client == tandem || $client == mem ]] && { kill -0 "$tandem_pid" 2>/dev/null || die "Tandem exited (see $out/tandem.log)"; }
        # shellcheck disable=SC2086  # cmd is a word list from the table
        run_bounded 600 "${pin_others[@]}" $cmd "${url[$client]}" >"$logfile" 2>&1 || rc=$?
        [[ $rc -eq 0 ]] || die "'$cmd ${url[$client]}' exited with status $rc (see $logfile)"
        parse_run "$cmd" "$logfile"
        REPLY=$(metric "$unit" "$REPLY_COUNT" "$REPLY_BYTES" "$REPLY_SECS")
    fi
}

slug() { tr ' /' '__' <<<"$1"; }

if [[ -n "${url[tandem]:-}" ]]; then
    # Warm-up, not recorded: Tandem's JVM compiles its data path before the first measured run
    # (see "Warm-up" above).
    for t in "${tests[@]}"; do
        IFS='|' read -r name unit cmd <<<"$t"
        if ((warmup_gib == 0)); then
            [[ $cmd == *" -c $n4k"* ]] || continue
            cmd=${cmd/ -c $n4k/ -c $((n4k / 2))}
        else
            cmd=${cmd/ -c $n1m/ -c $((warmup_gib * 1024))}
        fi
        measure tandem "$cmd" "$unit" "$out/tandem.$(slug "$name").warmup.log"
        log "warm-up  $name  tandem: $REPLY $unit"
    done
fi

declare -A values=()
started=$(date -u +%FT%TZ)
for ((r = 1; r <= rounds; r++)); do
    shift_by=$(((r - 1) % ${#clients[@]}))
    order=("${clients[@]:shift_by}" "${clients[@]:0:shift_by}")
    for t in "${tests[@]}"; do
        IFS='|' read -r name unit cmd <<<"$t"
        for c in "${order[@]}"; do
            measure "$c" "$cmd" "$unit" "$out/$c.$(slug "$name").run$r.log"
            values["$name|$c"]+="$REPLY "
            read -r cc ct co <<<"$CPU_US"
            cpu["$name|$c|client"]+="$cc "; cpu["$name|$c|tandem"]+="$ct "; cpu["$name|$c|osd"]+="$co "
            log "round $r/$rounds  $name  $c: $REPLY $unit  (CPU us/op: client $cc, tandem $ct, osd $co)"
        done
    done
done

# ---------------------------------------------------------------------------------------
# Report

cell() { if [[ -n "${values["$1|$2"]:-}" ]]; then median "${values["$1|$2"]}"; else echo -; fi; }
{
    echo "Tandem (rbd LUN over iSCSI) vs direct librbd: $started, $(nproc) CPUs, $rounds rounds, medians"
    echo "image rbd/$image $size (memstore, 1 OSD, ceph-mini on 127.0.0.1:$ceph_port), LUN block 512 B"
    echo "load average (1 min) before each run: min $(tr ' ' '\n' <<<"${loads[*]}" | sort -g | head -n 1)," \
        "median $(median "${loads[*]}"), max $(tr ' ' '\n' <<<"${loads[*]}" | sort -g | tail -n 1)"
    echo "CPU placement: $placement"
    echo "warm-up (unrecorded, against Tandem): 4K tests once, each 1M test ${warmup_gib} GiB$( ((warmup_gib > 0)) || echo ' (none: a fresh JVM)')"
    echo "java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1), TANDEM_JAVA_OPTS: ${TANDEM_JAVA_OPTS:-(none)}"
    echo "tandem = qemu-img over iSCSI to Tandem's rbd LUN; qemu = qemu-img over QEMU's rbd driver (direct"
    echo "librbd); rbd = rbd bench; mem = qemu-img over iSCSI to a memory LUN of the same Tandem (no storage)"
    printf '\n%-24s %-5s %10s %10s %10s %12s %11s %10s %10s\n' test unit tandem qemu rbd tandem/qemu tandem/rbd \
        paired/qemu mem
    for t in "${tests[@]}"; do
        IFS='|' read -r name unit _ <<<"$t"
        name=${name#qemu }
        a=$(cell "qemu $name" tandem); q=$(cell "qemu $name" qemu); b=$(cell "qemu $name" rbd)
        rq=-; rb=-; pq=-; flag=""
        [[ $a != - && $q != - ]] && rq=$(ratio "$a" "$q") &&
            pq=$(paired_ratio "${values["qemu $name|tandem"]}" "${values["qemu $name|qemu"]}")
        [[ $a != - && $b != - ]] && rb=$(ratio "$a" "$b")
        awk -v r="$rq" 'BEGIN { exit !(r != "-" && r < 0.90) }' && flag="  < 0.90"
        printf '%-24s %-5s %10s %10s %10s %12s %11s %10s %10s%s\n' "$name" "$unit" "$a" "$q" "$b" "$rq" "$rb" \
            "$pq" "$(cell "qemu $name" mem)" "$flag"
    done
    echo
    echo "CPU time per operation, microseconds (medians): client process, Tandem, OSD; their sum"
    printf '%-24s %-7s %8s %8s %8s %8s\n' test client client tandem osd sum
    for t in "${tests[@]}"; do
        IFS='|' read -r name _ _ <<<"$t"
        for c in "${clients[@]}"; do
            a=$(median "${cpu["$name|$c|client"]}"); b=$(median "${cpu["$name|$c|tandem"]}")
            o=$(median "${cpu["$name|$c|osd"]}")
            [[ $c == tandem || $c == mem ]] || b=-
            printf '%-24s %-7s %8s %8s %8s %8s\n' "${name#qemu }" "$c" "$a" "$b" "$o" \
                "$(awk -v a="$a" -v b="$b" -v o="$o" 'BEGIN { printf "%.0f", a + b + o }')"
        done
    done
    echo
    print_all_runs "${clients[@]}"
} | tee "$out/summary.txt"
echo "logs: $out"
