#!/usr/bin/env bash
# Benchmark (not a test): Tandem next to tgt, same machine, same clients, same settings.
#
# Set-up
#   - Both targets serve a file of the same size (--size, default 1G) from the same
#     filesystem (a work directory under target/bench-work unless --workdir is given), with
#     the same logical block size (--block-size, default 512).
#   - Tandem: `./tandem serve --portal 127.0.0.1:P1 --data WORK/tandem-data --lun-size SIZE
#     --block-size BS`, otherwise its defaults.
#   - tgt:    `tgtd -f -C CTL --iscsi portal=127.0.0.1:P2`, one target, LUN 1 =
#     `--backing-store WORK/tgt-lun.img --bstype rdwr [--blocksize BS]`, otherwise its
#     defaults (userspace rdwr backend, write cache on, 16 I/O threads).
#   - Before measuring, each LUN is written end to end once (qemu-img bench -w -s 1M), so
#     no test reads holes or allocates blocks in a sparse file.
#
# Tests (URL = iscsi://127.0.0.1:PORT/IQN/LUN; N4K, N1M, SECS set by --quick/defaults)
#   qemu 4K rand read QD32   qemu-img bench -f raw -t none -d 32 -s 4096 -S 20975616 -c N4K URL
#   qemu 4K rand write QD32  qemu-img bench -f raw -t none -d 32 -s 4096 -S 20975616 -c N4K -w --pattern=165 URL
#   qemu 1M seq read QD4     qemu-img bench -f raw -t none -d 4 -s 1M -c N1M URL
#   qemu 1M seq write QD4    qemu-img bench -f raw -t none -d 4 -s 1M -c N1M -w --pattern=90 URL
#   iscsi-perf 4K rand read  iscsi-perf -m 32 -b (4096/BS) -t SECS -r URL
#   The 4 KiB step of 20975616 bytes (5121 blocks of 4 KiB, odd) jumps ~20 MiB per request
#   and, modulo the LUN size, visits every 4 KiB block before repeating: random-ish access
#   that is identical for both targets. qemu-img bench prints its run time; IOPS = count /
#   time, MB/s = count * size / time / 2^20. iscsi-perf prints its average IOPS. iscsi-perf
#   can only read.
#
# Each test runs --runs times (default 3), alternating Tandem and tgt run by run so that
# background load on a shared machine hits both alike; the table shows medians and
# tandem/tgt (higher is better for Tandem). The numbers are for comparison on one
# machine, not absolute figures.
#
# Usage: scripts/bench.sh [--runs N] [--size SIZE] [--block-size 512|4096] [--quick]
#                         [--only tandem|tgt] [--workdir DIR] [--out DIR]
set -euo pipefail

SCRIPT_NAME=bench
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"
# shellcheck source=scripts/lib/bench.sh
source "$TANDEM_ROOT/scripts/lib/bench.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

runs=3
size=1G
block_size=512
quick=0
only=""
workdir=""
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --block-size) block_size=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --only) only=$2; shift 2 ;;
        --workdir) workdir=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ "$block_size" == 512 || "$block_size" == 4096 ]] || die "--block-size must be 512 or 4096"
case $only in ""|tandem|tgt) ;; *) die "--only must be tandem or tgt" ;; esac

require_cmd qemu-img qemu-utils
require_cmd iscsi-perf libiscsi-bin
require_cmd iscsi-readcapacity16 libiscsi-bin
qemu_has_iscsi || die "qemu-img has no iscsi driver: apt-get install qemu-block-extra"

size_bytes=$(numfmt --from=iec "${size%B}") || die "cannot parse --size '$size'"
((size_bytes % (1024 * 1024) == 0)) || die "--size must be a multiple of 1 MiB"

if [[ $quick -eq 1 ]]; then
    n4k=20000; n1m=256; perf_secs=3
else
    n4k=100000; n1m=2048; perf_secs=10
fi
step=20975616

out=${out:-$TANDEM_ROOT/target/bench/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$out"
if [[ -z "$workdir" ]]; then
    mkdir -p "$TANDEM_ROOT/target/bench-work"
    workdir=$(mktemp -d "$TANDEM_ROOT/target/bench-work/run.XXXXXX")
    register_dir "$workdir"
else
    mkdir -p "$workdir"
fi

kinds=()
[[ -z "$only" || "$only" == tandem ]] && kinds+=(tandem)
[[ -z "$only" || "$only" == tgt ]] && kinds+=(tgt)

declare -A url=()
for k in "${kinds[@]}"; do
    if [[ $k == tandem ]]; then
        port=$(pick_free_port 13270)
        start_tandem "$workdir/tandem-data" "$port" "$out/tandem.log" --lun-size "$size" --block-size "$block_size"
    else
        port=$(pick_free_port 13280)
        start_tgt "$workdir" "$port" "$size" "$out/tgt.log" "" "$block_size"
    fi
    url[$k]=$TARGET_URL
    # the capacity each target reports must match, or the comparison is meaningless
    run_bounded 30 iscsi-readcapacity16 "$TARGET_URL" >"$out/$k.capacity" 2>&1 || die "$k: READ CAPACITY failed"
    got=$(sed -n 's/^Total size:\([0-9]*\).*/\1/p' "$out/$k.capacity")
    [[ "$got" == "$size_bytes" ]] || die "$k reports $got bytes, expected $size_bytes"
    log "prefilling $k (${size})"
    run_bounded 900 qemu-img bench -f raw -t none -w -d 4 -s 1M -c $((size_bytes / 1048576)) --pattern=90 \
        "$TARGET_URL" >"$out/$k.prefill" 2>&1 || die "$k: prefill failed (see $out/$k.prefill)"
done

bench_tests "$step" "$n4k" "$n1m" "$block_size" "$perf_secs"

# measure "CMD" URL UNIT LOG: sets REPLY to the metric of one run. (Not a $(...) helper:
# the client must run in this shell so that a signal stops it through the cleanup trap.)
measure() {
    local cmd=$1 target_url=$2 unit=$3 logfile=$4 rc=0
    # shellcheck disable=SC2086  # cmd is a word list from the table above
    run_bounded 600 $cmd "$target_url" >"$logfile" 2>&1 || rc=$?
    [[ $rc -eq 0 ]] || die "'$cmd $target_url' exited with status $rc (see $logfile)"
    parse_run "$cmd" "$logfile"
    REPLY=$(metric "$unit" "$REPLY_COUNT" "$REPLY_BYTES" "$REPLY_SECS")
}

declare -A values=()
for ((r = 1; r <= runs; r++)); do
    for t in "${tests[@]}"; do
        IFS='|' read -r name unit cmd <<<"$t"
        for k in "${kinds[@]}"; do
            measure "$cmd" "${url[$k]}" "$unit" "$out/$k.$(tr ' /' '__' <<<"$name").run$r.log"
            values["$name|$k"]+="$REPLY "
            log "run $r/$runs  $name  $k: $REPLY $unit"
        done
    done
done


{
    echo "Tandem vs tgt: $(date -u +%FT%TZ), $(nproc) CPUs, LUN $size, block $block_size B, $runs runs, medians"
    echo "work dir filesystem: $(df -PT "$workdir" | awk 'NR == 2 { print $2 " on " $1 }')"
    printf '\n%-30s %-5s %12s %12s %8s\n' test unit tandem tgt ratio
    for t in "${tests[@]}"; do
        IFS='|' read -r name unit _ <<<"$t"
        a=""; b=""; ratio="-"
        [[ -n "${values["$name|tandem"]:-}" ]] && a=$(median "${values["$name|tandem"]}")
        [[ -n "${values["$name|tgt"]:-}" ]] && b=$(median "${values["$name|tgt"]}")
        if [[ -n "$a" && -n "$b" ]]; then
            ratio=$(ratio "$a" "$b")
        fi
        printf '%-30s %-5s %12s %12s %8s\n' "$name" "$unit" "${a:--}" "${b:--}" "$ratio"
    done
    echo
    print_all_runs "${kinds[@]}"
} | tee "$out/summary.txt"
echo "logs: $out"
