# Shared by scripts/bench.sh and scripts/bench-cluster.sh: the client test table, parsing one
# client's log, and the statistics. Source after common.sh.

# bench_tests STEP N4K N1M BLOCK_SIZE PERF_SECS: fills the array `tests` with
# "name|unit|command" rows (the URL is appended to the command). Units: IOPS or MB/s.
bench_tests() {
    local step=$1 n4k=$2 n1m=$3 block_size=$4 perf_secs=$5
    tests=(
        "qemu 4K rand read QD32|IOPS|qemu-img bench -f raw -t none -d 32 -s 4096 -S $step -c $n4k"
        "qemu 4K rand write QD32|IOPS|qemu-img bench -f raw -t none -d 32 -s 4096 -S $step -c $n4k -w --pattern=165"
        "qemu 1M seq read QD4|MB/s|qemu-img bench -f raw -t none -d 4 -s 1M -c $n1m"
        "qemu 1M seq write QD4|MB/s|qemu-img bench -f raw -t none -d 4 -s 1M -c $n1m -w --pattern=90"
        "iscsi-perf 4K rand read QD32|IOPS|iscsi-perf -m 32 -b $((4096 / block_size)) -t $perf_secs -r"
    )
}

# parse_run CMD LOG: sets REPLY_COUNT (operations; for iscsi-perf the IOPS), REPLY_SECS
# (run time; 1 for iscsi-perf) and REPLY_BYTES (bytes per operation) from one client's log.
parse_run() {
    local cmd=$1 logfile=$2
    if [[ $cmd == qemu-img* ]]; then
        REPLY_SECS=$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' "$logfile")
        [[ -n "$REPLY_SECS" ]] || die "no run time in $logfile"
        REPLY_COUNT=$(sed -n 's/.* -c \([0-9]*\).*/\1/p' <<<"$cmd")
        REPLY_BYTES=$(numfmt --from=iec "$(sed -n 's/.* -s \([0-9KM]*\).*/\1/p' <<<"$cmd")")
    else
        # iscsi-perf rewrites its status line with \r; the last line holds the average
        REPLY_COUNT=$(tr '\r' '\n' <"$logfile" | sed -n 's/^iops average \([0-9]*\) .*/\1/p' | tail -n 1)
        [[ -n "$REPLY_COUNT" ]] || die "no 'iops average' in $logfile"
        REPLY_SECS=1
        REPLY_BYTES=4096
    fi
}

# metric UNIT COUNT BYTES SECS: prints IOPS or MB/s.
metric() {
    awk -v u="$1" -v c="$2" -v b="$3" -v s="$4" \
        'BEGIN { if (u == "IOPS") printf "%.0f", c / s; else printf "%.1f", c * b / s / 1048576 }'
}

# median "V1 V2 ...": prints the median of the values.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ratio A B: prints A/B with two decimals, or - when B is not positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# paired_ratio "A1 A2 ..." "B1 B2 ...": the median of the per-round ratios Ai/Bi. A round runs
# both targets close together in time, so this takes out the drift of a shared machine that the
# ratio of the two medians keeps. Prints - when no pair has a positive Bi.
paired_ratio() {
    local ratios
    ratios=$(paste -d' ' <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) \
        | awk 'NF == 2 && $2 > 0 { printf "%f ", $1 / $2 }')
    if [[ -z "$ratios" ]]; then
        echo "-"
        return
    fi
    LC_ALL=C printf '%.2f' "$(median "$ratios")"
}

# print_all_runs KIND...: every recorded value per test and kind, from the arrays `tests` and
# `values` ("name|kind" -> "v1 v2 ...") of the calling script.
print_all_runs() {
    local t name unit k
    echo "all runs:"
    for t in "${tests[@]}"; do
        IFS='|' read -r name unit _ <<<"$t"
        for k in "$@"; do
            printf '  %-30s %-9s %s\n' "$name" "$k" "${values["$name|$k"]}"
        done
    done
}
