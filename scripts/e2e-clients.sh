#!/usr/bin/env bash
# End-to-end check of a live target with real iSCSI clients:
#   1. iscsi-ls -s (SendTargets discovery + REPORT LUNS + INQUIRY) lists the target and
#      its disk LUN as DIRECT_ACCESS;
#   2. iscsi-readcapacity16 reports the expected capacity;
#   3. iscsi-inq: standard INQUIRY describes a fixed disk; every VPD page the target lists
#      can be read; 0x00 and 0x83 are listed; 0x83 names the logical unit; 0x80 (if listed)
#      has a serial number; a page it does not list is refused;
#   4. QEMU's libiscsi driver: `qemu-img convert` writes a random 64 MiB raw image into the
#      LUN and reads it back; the bytes must be identical (cmp);
#   5. thin provisioning through QEMU, when READ CAPACITY(16) reports LBPME=1: qemu-io
#      discards 16 MiB of what step 4 wrote (UNMAP / WRITE SAME), the range reads back as
#      zeroes, the rest is intact, and `qemu-img map` (GET LBA STATUS) reports the range as
#      zero and the written rest as data;
#   6. (Tandem started here) `tandem serve` refuses bad flags with one line naming the flag
#      and a non-zero exit; the target then stops cleanly on SIGTERM.
#
# Usage: scripts/e2e-clients.sh [--target tandem|tgt] [--url URL] [--expect-size BYTES]
#   --target KIND        start a fresh target of this kind (default tandem; tgt validates
#                        this script against a known implementation)
#   --url URL            test an already running target (iscsi://host:port/iqn/lun)
#   --expect-size BYTES  capacity to expect (default 1073741824 for a target started here,
#                        not checked with --url)
#   --out DIR            where to keep logs (default target/e2e/<date>-<pid>)
set -euo pipefail

SCRIPT_NAME=e2e-clients
# shellcheck source=scripts/lib/common.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

kind=tandem
url=""
expect_size=""
out=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --target) kind=$2; shift 2 ;;
        --url) url=$2; shift 2 ;;
        --expect-size) expect_size=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

require_cmd iscsi-ls libiscsi-bin
require_cmd iscsi-inq libiscsi-bin
require_cmd iscsi-readcapacity16 libiscsi-bin
require_cmd qemu-img qemu-utils
require_cmd qemu-io qemu-utils
qemu_has_iscsi || die "qemu-img has no iscsi driver: apt-get install qemu-block-extra"

out=${out:-$TANDEM_ROOT/target/e2e/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$out"
make_tmpdir tandem-e2e
work=$REPLY

if [[ -z "$url" ]]; then
    port=$(pick_free_port "${TANDEM_TEST_PORT:-13260}")
    start_target "$kind" "$work" "$port" "$out/target.log"
    url=$TARGET_URL
    expect_size=${expect_size:-1073741824}
else
    TARGET_PID=""
fi

# iscsi://HOST:PORT/IQN/LUN -> parts
[[ "$url" =~ ^iscsi://([^/]+)/([^/]+)/([0-9]+)$ ]] || die "cannot parse URL '$url' (iscsi://host:port/iqn/lun)"
portal=${BASH_REMATCH[1]}
iqn=${BASH_REMATCH[2]}
lun=${BASH_REMATCH[3]}

failures=0
pass() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*"; failures=$((failures + 1)); }

# run_client NAME SECS CMD...: runs a client, keeps its output in $out/NAME.out; prints
# nothing, returns the client's exit status.
run_client() {
    local name=$1 secs=$2 rc=0
    shift 2
    run_bounded "$secs" "$@" >"$out/$name.out" 2>&1 </dev/null || rc=$?
    return "$rc"
}

echo "E2E clients against $url"

# 1. discovery and LUN inventory
if run_client iscsi-ls 30 iscsi-ls -s "iscsi://$portal"; then
    if grep -q "^Target:$iqn Portal:" "$out/iscsi-ls.out"; then
        pass "iscsi-ls: discovers target $iqn"
    else
        fail "iscsi-ls: target $iqn not listed: $(tr '\n' ' ' <"$out/iscsi-ls.out")"
    fi
    if grep -Eq "^Lun:${lun}[[:space:]]+Type:DIRECT_ACCESS" "$out/iscsi-ls.out"; then
        pass "iscsi-ls: LUN $lun is a disk ($(grep -E "^Lun:${lun}[[:space:]]" "$out/iscsi-ls.out" | sed 's/  */ /g'))"
    else
        fail "iscsi-ls: LUN $lun not listed as DIRECT_ACCESS: $(tr '\n' ' ' <"$out/iscsi-ls.out")"
    fi
else
    fail "iscsi-ls exited with status $? ($(tr '\n' ' ' <"$out/iscsi-ls.out"))"
fi

# 2. capacity
if run_client readcapacity16 30 iscsi-readcapacity16 "$url"; then
    size=$(sed -n 's/^Total size:\([0-9]*\).*/\1/p' "$out/readcapacity16.out")
    if [[ -z "$size" ]]; then
        fail "iscsi-readcapacity16: no 'Total size' in its output"
    elif [[ -n "$expect_size" && "$size" != "$expect_size" ]]; then
        fail "iscsi-readcapacity16: capacity $size bytes, expected $expect_size"
    else
        pass "iscsi-readcapacity16: capacity $size bytes"
    fi
else
    fail "iscsi-readcapacity16 exited with status $?"
fi

# 3. INQUIRY, standard data and VPD pages
if run_client inq-std 30 iscsi-inq "$url"; then
    f=$out/inq-std.out
    if grep -qx 'Peripheral Device Type:DIRECT_ACCESS' "$f"; then
        pass "iscsi-inq: device type DIRECT_ACCESS"
    else
        fail "iscsi-inq: device type is not DIRECT_ACCESS: $(grep 'Device Type' "$f")"
    fi
    if grep -qx 'Removable:0' "$f"; then
        pass "iscsi-inq: not removable"
    else
        fail "iscsi-inq: $(grep 'Removable' "$f")"
    fi
    vendor=$(sed -n 's/^Vendor:\(.*\)/\1/p' "$f" | tr -d ' ')
    product=$(sed -n 's/^Product:\(.*\)/\1/p' "$f" | tr -d ' ')
    if [[ -n "$vendor" && -n "$product" ]]; then
        pass "iscsi-inq: vendor '$vendor' product '$product'"
    else
        fail "iscsi-inq: empty vendor or product identification"
    fi
else
    fail "iscsi-inq (standard) exited with status $?"
fi

pages=()
if run_client inq-vpd00 30 iscsi-inq -e 1 -c 0 "$url"; then
    while read -r code; do pages+=("$((code))"); done \
        < <(sed -n 's/^Page:\(0x[0-9a-fA-F]*\).*/\1/p' "$out/inq-vpd00.out")
    listed=$(for p in "${pages[@]}"; do printf '0x%02x ' "$p"; done)
    pass "iscsi-inq: supported VPD pages: $listed"
    for required in 0 131; do
        [[ " ${pages[*]} " == *" $required "* ]] || fail "iscsi-inq: VPD page $(printf '0x%02x' "$required") is mandatory but not listed"
    done
else
    fail "iscsi-inq: SUPPORTED VPD PAGES exited with status $?"
fi
for p in "${pages[@]}"; do
    hex=$(printf '0x%02x' "$p")
    if ! run_client "inq-vpd$hex" 30 iscsi-inq -e 1 -c "$p" "$url"; then
        # iscsi-inq decodes only 0x00 0x80 0x83 0xb0 0xb1 0xb2; for other pages it reports
        # "failed to unmarshall" after the INQUIRY itself succeeded.
        if [[ " 0 128 131 176 177 178 " != *" $p "* ]] && grep -q 'failed to unmarshall' "$out/inq-vpd$hex.out" \
            && ! grep -q 'Inquiry command failed' "$out/inq-vpd$hex.out"; then
            pass "iscsi-inq: VPD $hex returned data (iscsi-inq cannot decode this page)"
        else
            fail "iscsi-inq: listed VPD page $hex cannot be read: $(tr '\n' ' ' <"$out/inq-vpd$hex.out")"
        fi
        continue
    fi
    case $p in
        128)
            serial=$(sed -n 's/^Unit Serial Number:\[\(.*\)\]/\1/p' "$out/inq-vpd$hex.out" | tr -d ' ')
            if [[ -n "$serial" ]]; then
                pass "iscsi-inq: VPD 0x80 serial '$serial'"
            else
                fail "iscsi-inq: VPD 0x80 has no serial number"
            fi ;;
        131)
            if grep -q 'Association:(0) LOGICAL_UNIT' "$out/inq-vpd$hex.out"; then
                pass "iscsi-inq: VPD 0x83 has $(grep -c '^DEVICE DESIGNATOR' "$out/inq-vpd$hex.out") designators, including the logical unit's"
            else
                fail "iscsi-inq: VPD 0x83 has no logical-unit designator"
            fi ;;
        *) pass "iscsi-inq: VPD $hex readable" ;;
    esac
done
# A vendor-specific page the target does not list must be refused (SPC: ILLEGAL REQUEST).
for ((p = 0xc0; p <= 0xff; p++)); do
    [[ " ${pages[*]} " == *" $p "* ]] || break
done
hex=$(printf '0x%02x' "$p")
if run_client inq-unlisted 30 iscsi-inq -e 1 -c "$p" "$url"; then
    fail "iscsi-inq: unlisted VPD page $hex was accepted"
elif grep -q 'ILLEGAL_REQUEST' "$out/inq-unlisted.out"; then
    pass "iscsi-inq: unlisted VPD page $hex refused with ILLEGAL REQUEST"
else
    fail "iscsi-inq: unlisted VPD page $hex failed without ILLEGAL REQUEST: $(tr '\n' ' ' <"$out/inq-unlisted.out")"
fi

# 4. QEMU round trip: 64 MiB of random data into the LUN and back.
image_bytes=$((64 * 1024 * 1024))
head -c "$image_bytes" /dev/urandom >"$work/in.raw"
if run_client qemu-write 300 qemu-img convert -n -f raw -O raw "$work/in.raw" "$url"; then
    # Read back exactly the image's length: the raw driver's size option bounds the LUN.
    back_opts="driver=raw,size=$image_bytes,file.driver=iscsi,file.transport=tcp"
    back_opts+=",file.portal=$portal,file.target=$iqn,file.lun=$lun"
    if run_client qemu-read 300 qemu-img convert -O raw --image-opts "$back_opts" "$work/out.raw"; then
        if cmp "$work/in.raw" "$work/out.raw" >"$out/cmp.out" 2>&1; then
            pass "qemu-img: 64 MiB written through iscsi:// and read back identical"
        else
            fail "qemu-img: data read back differs: $(cat "$out/cmp.out")"
        fi
    else
        fail "qemu-img convert (read back) exited with status $?: $(tail -n 3 "$out/qemu-read.out" | tr '\n' ' ')"
    fi
else
    fail "qemu-img convert (write) exited with status $?: $(tail -n 3 "$out/qemu-write.out" | tr '\n' ' ')"
fi

# 5. Thin provisioning as QEMU uses it (discard, block status), on a thin LU only.
if grep -q '^LBPME:1' "$out/readcapacity16.out" 2>/dev/null && [[ -e "$work/in.raw" ]]; then
    mib=$((1024 * 1024))
    if run_client qemu-discard 120 qemu-io -f raw -c "discard $((16 * mib)) $((16 * mib))" "$url" \
            && run_client qemu-read-zero 120 qemu-io -f raw -c "read -P 0 $((16 * mib)) $((16 * mib))" "$url"; then
        # The rest of the 64 MiB image is untouched.
        head -c $((16 * mib)) "$work/in.raw" >"$work/head.raw"
        tail -c $((32 * mib)) "$work/in.raw" >"$work/tail.raw"
        map_opts="driver=raw,size=$image_bytes,file.driver=iscsi,file.transport=tcp"
        map_opts+=",file.portal=$portal,file.target=$iqn,file.lun=$lun"
        if run_client qemu-reread 300 qemu-img convert -O raw --image-opts "$map_opts" "$work/after.raw" \
                && cmp "$work/head.raw" <(head -c $((16 * mib)) "$work/after.raw") >/dev/null \
                && cmp "$work/tail.raw" <(tail -c $((32 * mib)) "$work/after.raw") >/dev/null; then
            if run_client qemu-map 120 qemu-img map --output=json --image-opts "$map_opts" \
                    && grep -q "\"start\": $((16 * mib)), \"length\": $((16 * mib)),.*\"zero\": true, \"data\": false" "$out/qemu-map.out" \
                    && grep -q "\"start\": $((32 * mib)), .*\"data\": true" "$out/qemu-map.out"; then
                pass "qemu: 16 MiB discarded, read back as zeroes, reported zero by qemu-img map; the rest intact"
            else
                fail "qemu-img map does not show the discarded range as zero: $(head -c 600 "$out/qemu-map.out" | tr '\n' ' ')"
            fi
        else
            fail "qemu: data outside the discarded range changed (see $out)"
        fi
    else
        fail "qemu-io discard / read of zeroes failed: $(tail -n 3 "$out/qemu-discard.out" "$out/qemu-read-zero.out" 2>/dev/null | tr '\n' ' ')"
    fi
else
    echo "  (LU is fully provisioned: no thin-provisioning check)"
fi

# 6. Tandem's CLI contract: a bad flag gets one line naming it and a non-zero exit, and
#    nothing is created or started.
if [[ "$kind" == tandem && -n "${TARGET_PID:-}" ]]; then
    for bad in "--block-size 1000" "--no-such-flag" "--lun-size lots"; do
        flag=${bad%% *}
        rc=0
        # shellcheck disable=SC2086  # $bad is a flag and its value
        run_bounded 60 "$TANDEM_LAUNCHER" serve --data "$work/bad-data" --portal "127.0.0.1:$(pick_free_port 0)" $bad \
            >"$out/bad-flag.out" 2>&1 </dev/null || rc=$?
        lines=$(grep -c . "$out/bad-flag.out" || true)
        if [[ $rc -eq 0 || $rc -eq 124 ]]; then
            fail "tandem serve $bad: exit status $rc, expected a refusal"
        elif [[ $lines -ne 1 ]] || ! grep -q -- "$flag" "$out/bad-flag.out"; then
            fail "tandem serve $bad: expected one line naming $flag, got: $(head -c 300 "$out/bad-flag.out" | tr '\n' ' ')"
        elif [[ -e "$work/bad-data" ]]; then
            fail "tandem serve $bad: refused but created its data directory"
        else
            pass "tandem serve $bad: refused (exit $rc): $(cat "$out/bad-flag.out")"
        fi
    done
fi

if [[ -n "${TARGET_PID:-}" ]]; then
    if ! kill -0 "$TARGET_PID" 2>/dev/null; then
        fail "the target process died during the checks (see $out/target.log)"
    elif stop_target; then
        pass "$TARGET_KIND stopped cleanly"
    else
        fail "$TARGET_KIND did not exit cleanly on SIGTERM (see $out/target.log)"
    fi
fi

echo "client logs: $out"
if [[ $failures -gt 0 ]]; then
    echo "E2E CLIENTS: FAIL ($failures checks failed)"
    exit 1
fi
echo "E2E CLIENTS: PASS"
