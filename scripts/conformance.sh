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
#   --suites-file F  take the suites from F: one per line, # comments, each optionally
#                    followed by tags in brackets:
#                      [multipath]  run it with a second path (see --multipath); with
#                                   [removable] the second path is the removable LU's
#                                   (see --url2-removable)
#                      [read-only]  run it against a write-protected LU (LUN 1, which this
#                                   script adds when it starts Tandem; see --url-readonly)
#                      [4k-physical] run it against an LU with 512-byte logical and 4 KiB
#                                   physical blocks (LUN 2, LBPPBE=3; see --url-4k-physical)
#                      [one-node]   run it against one node only: scripts/conformance-cluster.sh
#                                   leaves it out of its cluster plans
#                      [removable]  run it against an LU with a removable medium (LUN 3,
#                                   INQUIRY RMB=1; see --url-removable)
#   --target KIND    start a fresh target of this kind: tandem (default) or tgt
#   --url URL        test an already running target instead of starting one
#   --url-readonly URL  the write-protected LU of that target, for [read-only] suites
#   --url-4k-physical URL  its LU with 4 KiB physical blocks, for [4k-physical] suites
#   --url-removable URL  its LU with a removable medium, for [removable] suites
#   --url2-removable URL  the removable LU through the second path (e.g. another node of a
#                    cluster), for [removable] [multipath] suites (default: --url-removable,
#                    i.e. a second session to the same target)
#   --multipath      run every suite with a second path (a second session to the same
#                    target unless --url2 is given), which enables the MultipathIO tests
#   --url2 URL       the second path's URL (e.g. another node of a cluster): the [multipath]
#                    runs of a suites file use it; with suites named on the command line it
#                    implies --multipath
#   --initiator IQN  first initiator name  (iscsi-test-cu -i)
#   --initiator2 IQN second initiator name (iscsi-test-cu -I), used by tests that open a
#                    second I_T nexus (reservations, multipath)
#   --allowed-skips F  allow-list of skipped tests (default conformance/allowed-skips.txt);
#                    when no run has a second path conformance/allowed-skips-singlepath.txt
#                    is added
#   --also-allow F   a further allow-list (repeatable), e.g. a transitional one
#   --max-skips N    fail if more than N distinct tests end SKIPPED (allowed or not)
#   --no-sanitize    do not pass --allow-sanitize (SANITIZE erases the whole LU)
#   --timeout SECS   limit per iscsi-test-cu run (default 600, 900 for ALL)
#   --rbd CONF       the started Tandem serves its LUs from Ceph RBD images (pool rbd of the
#                    cluster CONF describes), created for the run and removed after it
#                    (scripts/conformance-rbd.sh starts such a cluster)
#   --out DIR        where to write raw.log and results.tsv
#                    (default target/conformance/<date>-<pid>)
#   -h, --help
#
# Every iscsi-test-cu run uses --dataloss and -V: libiscsi reports some skips only at its
# verbose log level, and a skip must never be counted as a pass. Counts come from parsing
# the unedited raw log (scripts/lib/cu-results.awk) and are cross-checked against CUnit's
# own run summary; a disagreement is an error.
#
# When a test runs in several runs of one invocation (e.g. MultipathIO in the single-path
# ALL run and again with two paths, ReadOnly against the writable and the write-protected
# LU), its outcome is the best one that is not a failure: FAILED anywhere is FAILED, else
# PASSED anywhere is PASSED (its precondition held there), else SKIPPED.
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
url_readonly=""
url_4k=""
url_removable=""
url2_removable=""
multipath=0
initiator=""
initiator2=""
suites_file=""
allowed_file=$TANDEM_ROOT/conformance/allowed-skips.txt
singlepath_allowed_file=$TANDEM_ROOT/conformance/allowed-skips-singlepath.txt
sanitize=1
max_skips=""
also_allow=()
run_timeout=""
rbd_conf=""
out=""
suites=()

while [[ $# -gt 0 ]]; do
    case $1 in
        --suites-file) suites_file=$2; shift 2 ;;
        --target) kind=$2; shift 2 ;;
        --url) url=$2; shift 2 ;;
        --url2) url2=$2; shift 2 ;;
        --url-readonly) url_readonly=$2; shift 2 ;;
        --url-4k-physical) url_4k=$2; shift 2 ;;
        --url-removable) url_removable=$2; shift 2 ;;
        --url2-removable) url2_removable=$2; shift 2 ;;
        --also-allow) also_allow+=("$2"); shift 2 ;;
        --max-skips) max_skips=$2; shift 2 ;;
        --multipath) multipath=1; shift ;;
        --initiator) initiator=$2; shift 2 ;;
        --initiator2) initiator2=$2; shift 2 ;;
        --allowed-skips) allowed_file=$2; shift 2 ;;
        --no-sanitize) sanitize=0; shift ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --rbd) rbd_conf=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) suites+=("$1"); shift ;;
    esac
done

# A second URL makes every suite named on the command line a two-path run; a suites file's
# tags decide which of its runs take the second path.
if [[ -n "$url2" && -z "$suites_file" && ${#suites[@]} -gt 0 ]]; then
    multipath=1
fi

require_cmd iscsi-test-cu libiscsi-bin

# Collect the suites to run.
if [[ ${#suites[@]} -eq 0 ]]; then
    suites_file=${suites_file:-$TANDEM_ROOT/conformance/suites-issue2.txt}
fi
# Per suite (same index): 1 if it runs with a second path; which LU it runs against
# (lun0, read-only, 4k-physical or removable).
suite_mp=()
suite_lu=()
for _ in "${suites[@]}"; do suite_mp+=("$multipath"); suite_lu+=(lun0); done
if [[ -n "$suites_file" ]]; then
    [[ -r "$suites_file" ]] || die "cannot read suites file $suites_file"
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        line=${line%%#*}
        [[ "$line" =~ ^[[:space:]]*$ ]] && continue
        [[ "$line" =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]*(.*)$ ]] || die "$suites_file:$n: cannot parse '$line'"
        name=${BASH_REMATCH[1]} tags=${BASH_REMATCH[2]//[[:space:]]/}
        mp=$multipath lu=lun0
        while [[ -n "$tags" ]]; do
            case $tags in
                "[multipath]"*) mp=1; tags=${tags#"[multipath]"} ;;
                "[read-only]"*) lu=read-only; tags=${tags#"[read-only]"} ;;
                "[4k-physical]"*) lu=4k-physical; tags=${tags#"[4k-physical]"} ;;
                "[removable]"*) lu=removable; tags=${tags#"[removable]"} ;;
                "[one-node]"*) tags=${tags#"[one-node]"} ;; # scripts/conformance-cluster.sh leaves these out
                *) die "$suites_file:$n: unknown tag '$tags' (known: [multipath] [read-only] [4k-physical] [removable] [one-node])" ;;
            esac
        done
        [[ $mp -eq 1 && $lu != lun0 && $lu != removable ]] && die "$suites_file:$n: runs on LUN 1 or 2 have one path"
        suites+=("$name"); suite_mp+=("$mp"); suite_lu+=("$lu")
    done <"$suites_file"
fi
[[ ${#suites[@]} -gt 0 ]] || die "no suites to run"
any_mp=0 any_ro=0 any_4k=0 any_rmb=0
for i in "${!suites[@]}"; do
    [[ ${suite_mp[$i]} -eq 1 ]] && any_mp=1
    [[ ${suite_lu[$i]} == read-only ]] && any_ro=1
    [[ ${suite_lu[$i]} == 4k-physical ]] && any_4k=1
    [[ ${suite_lu[$i]} == removable ]] && any_rmb=1
done
if [[ -n "$url" ]]; then
    [[ $any_ro -eq 1 && -z "$url_readonly" ]] && die "[read-only] suites need --url-readonly with --url"
    [[ $any_4k -eq 1 && -z "$url_4k" ]] && die "[4k-physical] suites need --url-4k-physical with --url"
    [[ $any_rmb -eq 1 && -z "$url_removable" ]] && die "[removable] suites need --url-removable with --url"
elif [[ $((any_ro + any_4k + any_rmb)) -gt 0 && "$kind" != tandem ]]; then
    die "[read-only], [4k-physical] and [removable] suites need LUs only a Tandem started here has (or give --url and their URLs)"
fi

# Every name must select something in this libiscsi; catch typos before starting a target.
known=$(timeout 30 iscsi-test-cu -l)
for s in "${suites[@]}"; do
    if [[ "$s" == ALL-except=* ]]; then
        excluded=${s#ALL-except=}
        for x in ${excluded//,/ }; do
            grep -qxF "ALL.$x" <<<"$known" || die "ALL-except: iscsi-test-cu has no suite named '$x'"
        done
    elif [[ "$s" != ALL ]] && ! grep -qxF "ALL.$s" <<<"$known"; then
        die "iscsi-test-cu has no suite or test named '$s' (see iscsi-test-cu -l, family ALL)"
    fi
done

# "ALL-except=A,B": every suite of the ALL family but those, as one iscsi-test-cu selector.
all_except_selector() {
    local excluded=",$1," suite selector=""
    while read -r suite; do
        [[ "$excluded" == *",${suite#ALL.},"* ]] && continue
        selector+="${selector:+,}$suite"
    done < <(grep -E '^ALL\.[^.]+$' <<<"$known")
    printf '%s' "$selector"
}

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
for f in "${also_allow[@]}"; do
    load_allow_list "$f"
done
if [[ $any_mp -eq 0 && -e "$singlepath_allowed_file" ]]; then
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
    extra=()
    if [[ -n "$rbd_conf" ]]; then
        # Every LU an RBD image of its own, created by Tandem (create:) and removed at exit, once
        # Tandem (which watches them) has stopped. Small: a memstore OSD holds them in RAM.
        rbd_prefix="conformance-$$"
        # rbd_lun NUMBER NAME EXTRA: one LU on image <prefix>-NAME
        rbd_lun() {
            echo "  - { number: $1, name: $2, backend: rbd, pool: rbd, image: $rbd_prefix-$2, ceph-conf: $rbd_conf, block-size: 512$3 }"
        }
        {
            echo "luns:"
            rbd_lun 0 lun0 ", create: 256M"
            if [[ $((any_ro + any_4k + any_rmb)) -gt 0 ]]; then
                # a read-only LU does not create its image: made here
                rbd_lun 1 write-protected ", read-only: true"
                rbd_lun 2 physical-4k ", create: 64M, physical-block-size: 4096"
                rbd_lun 3 removable ", create: 64M, removable: true"
            fi
        } >"$work/tandem.yaml"
        if [[ $((any_ro + any_4k + any_rmb)) -gt 0 ]]; then
            timeout -k 5 60 rbd -c "$rbd_conf" create --size 64M --image-feature layering,deep-flatten \
                "rbd/$rbd_prefix-write-protected" || die "cannot create the write-protected LU's RBD image"
        fi
        for lu in lun0 write-protected physical-4k removable; do
            register_cleanup_after "timeout -k 5 60 rbd -c '$rbd_conf' rm --no-progress 'rbd/$rbd_prefix-$lu' >/dev/null 2>&1"
        done
        # SANITIZE of the 256 MiB LU must last long enough for Sanitize.Reset to see it running
        export TANDEM_JAVA_OPTS="${TANDEM_JAVA_OPTS:-} -Dtandem.sanitize.rate=33554432"
        extra=(--config "$work/tandem.yaml")
    elif [[ $((any_ro + any_4k + any_rmb)) -gt 0 ]]; then
        # LUN 0 as `tandem serve` makes it by default, plus small LUs for the tagged runs
        cat >"$work/tandem.yaml" <<'YAML'
luns:
  - { number: 0, name: lun0, size: 1G, block-size: 512 }
  - { number: 1, name: write-protected, backend: memory, size: 64M, block-size: 512, read-only: true }
  - { number: 2, name: physical-4k, backend: memory, size: 64M, block-size: 512, physical-block-size: 4096 }
  - { number: 3, name: removable, backend: memory, size: 64M, block-size: 512, removable: true }
YAML
        extra=(--config "$work/tandem.yaml")
    fi
    if [[ "$kind" == tandem ]]; then
        # Sanitize.Reset sleeps 60 s between TEST UNIT READYs without reading the socket: an
        # unanswered NOP-In (default: dropped after 15 s) must not end its session meanwhile.
        extra+=(--nop-timeout 90)
    fi
    start_target "$kind" "$work" "$port" "$out/target.log" "${extra[@]}"
    url=$TARGET_URL
    if [[ $((any_ro + any_4k + any_rmb)) -gt 0 ]]; then
        url_readonly=${url%/*}/1
        url_4k=${url%/*}/2
        url_removable=${url%/*}/3
    fi
else
    TARGET_PID=""
fi
if [[ -z "$url2" ]]; then
    url2=$url
fi
if [[ -z "$url2_removable" ]]; then
    url2_removable=$url_removable
fi

base_args=(--dataloss -V)
[[ $sanitize -eq 1 ]] && base_args+=(--allow-sanitize)
[[ -n "$initiator" ]] && base_args+=(-i "$initiator")
[[ -n "$initiator2" ]] && base_args+=(-I "$initiator2")
log "testing $url${url2:+ (second path $url2)}${url_readonly:+ (write-protected LU $url_readonly)}${url_4k:+ (4 KiB physical blocks $url_4k)}${url_removable:+ (removable medium $url_removable)}${url2_removable:+ (its second path $url2_removable)}"
log "raw log: $raw"

errors=()
run_counts=()
for i in "${!suites[@]}"; do
    s=${suites[$i]}
    if [[ ${suite_lu[$i]} == read-only ]]; then
        urls=("$url_readonly")
    elif [[ ${suite_lu[$i]} == 4k-physical ]]; then
        urls=("$url_4k")
    elif [[ ${suite_lu[$i]} == removable && ${suite_mp[$i]} -eq 1 ]]; then
        urls=("$url_removable" "$url2_removable")
    elif [[ ${suite_lu[$i]} == removable ]]; then
        urls=("$url_removable")
    elif [[ ${suite_mp[$i]} -eq 1 ]]; then
        urls=("$url" "$url2")
    else
        urls=("$url")
    fi
    if [[ "$s" == ALL ]]; then selector=ALL; t=${run_timeout:-900}
    elif [[ "$s" == ALL-except=* ]]; then selector=$(all_except_selector "${s#ALL-except=}"); t=${run_timeout:-900}
    else selector=ALL.$s; t=${run_timeout:-600}; fi
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
    n_passed=$(grep -c $'^RESULT\tPASSED' <<<"$parsed" || true)
    n_skipped=$(grep -c $'^RESULT\tSKIPPED' <<<"$parsed" || true)
    paths=""
    for u in "${urls[@]}"; do
        # iscsi://host:port/iqn/lun -> :port/lun, enough to tell the paths of one target apart
        [[ "$u" =~ ^iscsi://[^/]*(:[0-9]+)/[^/]+/([0-9]+)$ ]] && u="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
        paths+="${paths:+ + }$u"
    done
    run_counts+=("$(printf '%-32s %-20s %7d %7d %8d' "${s:0:32}" "$paths" "$n_passed" "$n_failed" "$n_skipped")")
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

# One outcome per test across the runs: FAILED anywhere, else PASSED anywhere, else SKIPPED.
combined=$out/combined.tsv
awk -F'\t' -v OFS='\t' '
    !($2 in outcome) { order[++n] = $2 }
    {
        if ($1 == "FAILED" && outcome[$2] != "FAILED") { outcome[$2] = "FAILED"; why[$2] = $3 }
        else if ($1 == "PASSED" && outcome[$2] != "FAILED") { outcome[$2] = "PASSED"; why[$2] = "" }
        else if ($1 == "SKIPPED" && outcome[$2] == "") { outcome[$2] = "SKIPPED"; why[$2] = $3 }
    }
    END { for (i = 1; i <= n; i++) print outcome[order[i]], order[i], why[order[i]] }
' "$results" >"$combined"

echo
echo "Conformance: iscsi-test-cu $(dpkg-query -W -f='${Version}' libiscsi-bin 2>/dev/null || echo '?') against $url${url2:+ (second path $url2)}${url_readonly:+ (write-protected LU $url_readonly)}${url_4k:+ (4 KiB physical blocks $url_4k)}${url_removable:+ (removable medium $url_removable)}${url2_removable:+ (its second path $url2_removable)}"
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
            if ($2 in allow) { used[$2] = 1; allowed_list = allowed_list sprintf("  allowed  %s: %s  [allow-list: %s]\n", $2, $3, allow[$2]) }
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
' "$allowed_dump" "$combined" | tee "$out/summary.txt"

{
    echo
    printf '%-32s %-20s %7s %7s %8s\n' "run" "paths" "passed" "failed" "skipped"
    printf '%s\n' "${run_counts[@]}"
} | tee -a "$out/summary.txt"

if [[ ${#errors[@]} -gt 0 ]]; then
    echo
    echo "Run errors:"
    printf '  %s\n' "${errors[@]}"
fi | tee -a "$out/summary.txt"

echo "raw log: $raw"
echo "results: $results (per run), $combined (per test)"

failed_count=$(grep -c $'^FAILED\t' "$combined" || true)
skip_count=$(grep -c $'^SKIPPED\t' "$combined" || true)
bad_skips=$(awk -F'\t' 'FILENAME == ARGV[1] { allow[$1]; next } $1 == "SKIPPED" && !($2 in allow)' "$allowed_dump" "$combined" | wc -l)
too_many=0
if [[ -n "$max_skips" && $skip_count -gt $max_skips ]]; then
    too_many=1
    echo "$skip_count distinct tests SKIPPED, more than the $max_skips allowed (--max-skips)" | tee -a "$out/summary.txt"
fi
if [[ ${#errors[@]} -gt 0 || $failed_count -gt 0 || $bad_skips -gt 0 || $too_many -eq 1 ]]; then
    echo "CONFORMANCE: FAIL ($failed_count failed, $skip_count skipped of which $bad_skips without an allow-list entry, ${#errors[@]} run errors)"
    exit 1
fi
echo "CONFORMANCE: PASS ($skip_count distinct tests skipped, all on the allow-list)"
