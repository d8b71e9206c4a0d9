#!/usr/bin/env bash
# Runs libiscsi's SCSI/iSCSI conformance tests (iscsi-test-cu) against a live target and
# judges the result: any FAILED test, or any SKIPPED test that is not on the allow-list,
# makes the script exit non-zero.
#
# Usage: scripts/conformance.sh [OPTIONS] [SUITE...]
#
#   SUITE            a suite of iscsi-test-cu's ALL family (e.g. Read10, iSCSIcmdsn), one
#                    test (Read10.Simple), or ALL for the complete run in one invocation.
#                    Each SUITE is one iscsi-test-cu run against the same target.
#                    Default: the suites listed in conformance/suites-issue2.txt.
#   --suites-file F  take the suites from F (one per line, # comments)
#   --target KIND    start a fresh target of this kind: tandem (default) or tgt
#   --url URL        test an already running target instead of starting one
#   --multipath      run with a second path (a second session to the same target unless
#                    --url2 is given), which enables the MultipathIO tests
#   --url2 URL       the second path's URL (implies --multipath)
#   --initiator IQN  first initiator name  (iscsi-test-cu -i)
#   --initiator2 IQN second initiator name (iscsi-test-cu -I), used by tests that open a
#                    second I_T nexus (reservations, multipath)
#   --allowed-skips F  allow-list of skipped tests (default conformance/allowed-skips.txt);
#                    in single-path runs conformance/allowed-skips-singlepath.txt is added
#   --no-sanitize    do not pass --allow-sanitize (SANITIZE erases the whole LU)
#   --readonly-url URL  a write-protected LU of the target under test; the ReadOnly suite
#                    (selected by ALL or ReadOnly) is run against it as well. A Tandem started
#                    here exports one itself (LUN 1, read-only), so ReadOnly runs without skips.
#   --timeout SECS   limit per iscsi-test-cu run (default 600, 900 for ALL)
#   --out DIR        where to write raw.log and results.tsv
#                    (default target/conformance/<date>-<pid>)
#   -h, --help
#
# Every iscsi-test-cu run uses --dataloss and -V: libiscsi reports some skips only at its
# verbose log level, and a skip must never be counted as a pass. Counts come from parsing
# the unedited raw log (scripts/lib/cu-results.awk) and are cross-checked against CUnit's
# own run summary; a disagreement is an error.
#
# Allow-list format: one test name (Suite.Test) per line followed by " # reason"; the
# reason is mandatory. Blank lines and lines starting with # are ignored.
set -euo pipefail

SCRIPT_NAME=conformance
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

kind=tandem
url=""
url2=""
multipath=0
initiator=""
initiator2=""
suites_file=""
allowed_file=$TANDEM_ROOT/conformance/allowed-skips.txt
singlepath_allowed_file=$TANDEM_ROOT/conformance/allowed-skips-singlepath.txt
sanitize=1
readonly_url=""
run_timeout=""
out=""
suites=()

while [[ $# -gt 0 ]]; do
    case $1 in
        --suites-file) suites_file=$2; shift 2 ;;
        --target) kind=$2; shift 2 ;;
        --url) url=$2; shift 2 ;;
        --url2) url2=$2; multipath=1; shift 2 ;;
        --multipath) multipath=1; shift ;;
        --initiator) initiator=$2; shift 2 ;;
        --initiator2) initiator2=$2; shift 2 ;;
        --allowed-skips) allowed_file=$2; shift 2 ;;
        --no-sanitize) sanitize=0; shift ;;
        --readonly-url) readonly_url=$2; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) suites+=("$1"); shift ;;
    esac
done

require_cmd iscsi-test-cu libiscsi-bin

# Collect the suites to run.
if [[ ${#suites[@]} -eq 0 ]]; then
    suites_file=${suites_file:-$TANDEM_ROOT/conformance/suites-issue2.txt}
fi
if [[ -n "$suites_file" ]]; then
    [[ -r "$suites_file" ]] || die "cannot read suites file $suites_file"
    while IFS= read -r line; do
        line=${line%%#*}
        line=${line//[[:space:]]/}
        [[ -n "$line" ]] && suites+=("$line")
    done <"$suites_file"
fi
[[ ${#suites[@]} -gt 0 ]] || die "no suites to run"

# Every name must select something in this libiscsi; catch typos before starting a target.
known=$(timeout 30 iscsi-test-cu -l)
for s in "${suites[@]}"; do
    if [[ "$s" != ALL ]] && ! grep -qxF "ALL.$s" <<<"$known"; then
        die "iscsi-test-cu has no suite or test named '$s' (see iscsi-test-cu -l, family ALL)"
    fi
done

# Allow-lists: name -> reason. A line without a reason is an error, not a silent allow.
declare -A allowed=()
load_allow_list() {
    local file=$1 line name reason n=0
    [[ -r "$file" ]] || die "cannot read allow-list $file"
    while IFS= read -r line || [[ -n "$line" ]]; do
        n=$((n + 1))
        [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ ! "$line" =~ ^[[:space:]]*([^[:space:]#]+)[[:space:]]+#[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]]; then
            die "$file:$n: expected 'Suite.Test # reason', got: $line"
        fi
        name=${BASH_REMATCH[1]}
        reason=${BASH_REMATCH[2]}
        [[ "$name" == *.* ]] || die "$file:$n: '$name' is not a Suite.Test name"
        allowed[$name]=$reason
    done <"$file"
}
load_allow_list "$allowed_file"
if [[ $multipath -eq 0 && -e "$singlepath_allowed_file" ]]; then
    load_allow_list "$singlepath_allowed_file"
fi

# Output files.
if [[ -z "$out" ]]; then
    out=$TANDEM_ROOT/target/conformance/$(date +%Y%m%d-%H%M%S)-$$
fi
mkdir -p "$out"
raw=$out/raw.log
results=$out/results.tsv
: >"$raw"
: >"$results"

# Start a fresh target unless one was given.
if [[ -z "$url" ]]; then
    make_tmpdir tandem-conformance
    work=$REPLY
    port=$(pick_free_port "${TANDEM_TEST_PORT:-13260}")
    target_args=()
    if [[ "$kind" == tandem ]]; then
        # LUN 0 is the LU under test; LUN 1 is write-protected, for the ReadOnly suite.
        printf '%s\n' 'luns:' \
            '  - { number: 0, name: lun0, size: 1G }' \
            '  - { number: 1, name: readonly, backend: memory, size: 64M, read-only: true }' >"$work/luns.yaml"
        # Sanitize.Reset sleeps 60 s between TEST UNIT READYs without reading the socket: an
        # unanswered NOP-In must not end the session in that time.
        target_args=(--config "$work/luns.yaml" --nop-timeout 90)
    fi
    start_target "$kind" "$work" "$port" "$out/target.log" "${target_args[@]}"
    url=$TARGET_URL
    if [[ "$kind" == tandem && -z "$readonly_url" ]]; then
        readonly_url=${url%/*}/1
    fi
else
    TARGET_PID=""
fi
if [[ $multipath -eq 1 && -z "$url2" ]]; then
    url2=$url
fi

base_args=(--dataloss -V)
[[ $sanitize -eq 1 ]] && base_args+=(--allow-sanitize)
[[ -n "$initiator" ]] && base_args+=(-i "$initiator")
[[ -n "$initiator2" ]] && base_args+=(-I "$initiator2")
urls=("$url")
[[ $multipath -eq 1 ]] && urls+=("$url2")

log "testing ${urls[*]}"
log "raw log: $raw"

errors=()
for s in "${suites[@]}"; do
    if [[ "$s" == ALL ]]; then selector=ALL; t=${run_timeout:-900}; else selector=ALL.$s; t=${run_timeout:-600}; fi
    cmd=(iscsi-test-cu "${base_args[@]}" -t "$selector" "${urls[@]}")
    printf '### %s: %s\n' "$(date -u +%FT%TZ)" "${cmd[*]}" >>"$raw"
    run_log=$out/run.tmp
    rc=0
    run_bounded "$t" "${cmd[@]}" >"$run_log" 2>&1 </dev/null || rc=$?
    cat "$run_log" >>"$raw"
    printf '### exit status %s\n' "$rc" >>"$raw"
    parsed=$(awk -f "$TANDEM_ROOT/scripts/lib/cu-results.awk" "$run_log")
    rm -f "$run_log"
    grep '^RESULT' <<<"$parsed" | cut -f2- >>"$results" || true

    summary=$(grep '^SUMMARY' <<<"$parsed" || true)
    n_results=$(grep -c '^RESULT' <<<"$parsed" || true)
    n_failed=$(grep -c $'^RESULT\tFAILED' <<<"$parsed" || true)
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        errors+=("$s: iscsi-test-cu timed out after ${t}s")
    elif [[ -z "$summary" ]]; then
        errors+=("$s: iscsi-test-cu ended (status $rc) without a run summary; see $raw")
    else
        read -r _ ran failed suites_failed inactive <<<"$summary"
        if [[ "$ran" -eq 0 ]]; then
            errors+=("$s: no test ran")
        fi
        if [[ "$ran" -ne "$n_results" || $((failed + suites_failed)) -ne "$n_failed" ]]; then
            errors+=("$s: parsed $n_results tests / $n_failed failed, CUnit says $ran ran / $failed failed / $suites_failed suites failed")
        fi
        if [[ "$inactive" -ne 0 ]]; then
            errors+=("$s: $inactive tests inactive")
        fi
        # iscsi-test-cu exits 0 without failures, 1 with; anything else is a broken run
        if [[ $rc -ne 0 && $rc -ne 1 ]] || [[ $rc -eq 1 && $n_failed -eq 0 ]]; then
            errors+=("$s: iscsi-test-cu exit status $rc does not match its summary")
        fi
    fi
    if [[ -n "${TARGET_PID:-}" ]] && ! kill -0 "$TARGET_PID" 2>/dev/null; then
        errors+=("$s: the target process died during this suite (see $out/target.log)")
        break
    fi
done

# The ReadOnly suite needs a write-protected LU: run it once more against one. Its results are
# named "(read-only LU)" so a skip there is never covered by the allow-list entry that excuses
# the skip against the writable LU.
if [[ -n "$readonly_url" ]] && printf '%s\n' "${suites[@]}" | grep -qE '^(ALL|ReadOnly)(\.|$)'; then
    cmd=(iscsi-test-cu "${base_args[@]}" -t ALL.ReadOnly "$readonly_url")
    printf '### %s: %s\n' "$(date -u +%FT%TZ)" "${cmd[*]}" >>"$raw"
    run_log=$out/run.tmp
    rc=0
    run_bounded 300 "${cmd[@]}" >"$run_log" 2>&1 </dev/null || rc=$?
    cat "$run_log" >>"$raw"
    printf '### exit status %s\n' "$rc" >>"$raw"
    parsed=$(awk -f "$TANDEM_ROOT/scripts/lib/cu-results.awk" "$run_log")
    rm -f "$run_log"
    grep '^RESULT' <<<"$parsed" | cut -f2- | sed 's/^\([A-Z]*\)\t\([^\t]*\)/\1\t\2(read-only LU)/' >>"$results" || true
    grep -q '^RESULT' <<<"$parsed" || errors+=("ReadOnly against $readonly_url: no test ran (status $rc)")
fi

# Stop the target we started; Tandem must exit cleanly on SIGTERM.
if [[ -n "${TARGET_PID:-}" ]]; then
    stop_target || errors+=("$TARGET_KIND did not exit cleanly on SIGTERM (see $out/target.log)")
fi

# Report. Per-suite counts, then totals, then every FAILED and SKIPPED test by name.
allowed_dump=$out/allowed.tsv
: >"$allowed_dump"
for name in "${!allowed[@]}"; do
    printf '%s\t%s\n' "$name" "${allowed[$name]}" >>"$allowed_dump"
done

echo
echo "Conformance: iscsi-test-cu $(dpkg-query -W -f='${Version}' libiscsi-bin 2>/dev/null || echo '?') against ${urls[*]}"
awk -F'\t' '
    FILENAME == ARGV[1] { allow[$1] = $2; next }
    {
        split($2, parts, ".")
        suite = parts[1]
        if (!(suite in seen)) { seen[suite] = 1; order[++ns] = suite }
        if ($1 == "PASSED") pass[suite]++
        else if ($1 == "FAILED") { fail[suite]++; failed_list = failed_list sprintf("  FAILED   %s: %s\n", $2, $3) }
        else if ($1 == "SKIPPED") {
            skip[suite]++
            if ($2 in allow) allowed_list = allowed_list sprintf("  allowed  %s: %s  [allow-list: %s]\n", $2, $3, allow[$2])
            else { bad++; bad_list = bad_list sprintf("  SKIPPED  %s: %s  (not on the allow-list)\n", $2, $3) }
        }
    }
    END {
        printf "\n%-28s %7s %7s %8s\n", "suite", "passed", "failed", "skipped"
        for (i = 1; i <= ns; i++) {
            s = order[i]
            printf "%-28s %7d %7d %8d\n", s, pass[s], fail[s], skip[s]
            tp += pass[s]; tf += fail[s]; ts += skip[s]
        }
        printf "%-28s %7d %7d %8d\n", "TOTAL", tp, tf, ts
        if (failed_list != "") printf "\nFailed tests:\n%s", failed_list
        if (bad_list != "") printf "\nSkipped tests that are not allowed:\n%s", bad_list
        if (allowed_list != "") printf "\nSkipped tests on the allow-list:\n%s", allowed_list
        printf "\nTOTAL passed=%d failed=%d skipped=%d (skipped and not allowed=%d)\n", tp, tf, ts, bad + 0
    }
' "$allowed_dump" "$results" | tee "$out/summary.txt"

if [[ ${#errors[@]} -gt 0 ]]; then
    echo
    echo "Run errors:"
    printf '  %s\n' "${errors[@]}"
fi | tee -a "$out/summary.txt"

echo "raw log: $raw"
echo "results: $results"

failed_count=$(grep -c $'^FAILED\t' "$results" || true)
bad_skips=$(awk -F'\t' 'FILENAME == ARGV[1] { allow[$1]; next } $1 == "SKIPPED" && !($2 in allow)' "$allowed_dump" "$results" | wc -l)
if [[ ${#errors[@]} -gt 0 || $failed_count -gt 0 || $bad_skips -gt 0 ]]; then
    echo "CONFORMANCE: FAIL ($failed_count failed, $bad_skips skipped without an allow-list entry, ${#errors[@]} run errors)"
    exit 1
fi
echo "CONFORMANCE: PASS"
