# shellcheck shell=bash disable=SC2034
# (SC2034: the TARGET_* globals are read by the scripts that source this file.)
# Helpers shared by the test, conformance and benchmark scripts: messages, cleanup of
# everything a script started, free-port selection, and starting/stopping a live target
# (Tandem or tgt) on loopback.
#
# A started target is described by these globals (copy them if you start two):
#   TARGET_KIND  tandem | tgt
#   TARGET_PID   process id to stop
#   TARGET_HOST  127.0.0.1
#   TARGET_PORT  TCP port of the portal
#   TARGET_IQN   target name
#   TARGET_LUN   LUN number of the disk
#   TARGET_URL   iscsi://host:port/iqn/lun of the disk
#   TARGET_LOG   file holding the target's stdout/stderr

TANDEM_ROOT=${TANDEM_ROOT:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}
SCRIPT_NAME=${SCRIPT_NAME:-$(basename -- "$0")}
# shellcheck source=scripts/lib/build.sh
source "$TANDEM_ROOT/scripts/lib/build.sh"

# How long a started target may take to accept connections (JVM start on a busy machine).
TARGET_START_TIMEOUT=${TARGET_START_TIMEOUT:-90}
# How long a stopped target may take to exit before it is killed.
TARGET_STOP_TIMEOUT=${TARGET_STOP_TIMEOUT:-20}

log()  { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

# require_cmd COMMAND DEBIAN_PACKAGE
require_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found: apt-get install $2"
}

# qemu-img lists "iscsi" among its formats only when qemu-block-extra is installed. (The
# output is captured first: with pipefail, grep -q closing the pipe early could fail it.)
qemu_has_iscsi() {
    local formats
    formats=$(qemu-img --help 2>/dev/null) || return 1
    grep -qw iscsi <<<"$formats"
}

# ---------------------------------------------------------------------------------------
# Cleanup: every process and temporary directory a script creates is registered here and
# removed by one EXIT trap, whatever way the script ends.

_CLEANUP_PIDS=()
_CLEANUP_DIRS=()
_CLEANUP_CMDS=()
_CLEANUP_AFTER_CMDS=()

register_pid()     { _CLEANUP_PIDS+=("$1"); }
# Forget a pid once it has been stopped, so cleanup never signals a recycled pid.
unregister_pid() {
    local i
    for i in "${!_CLEANUP_PIDS[@]}"; do
        [[ "${_CLEANUP_PIDS[i]}" == "$1" ]] && unset '_CLEANUP_PIDS[i]'
    done
    _CLEANUP_PIDS=("${_CLEANUP_PIDS[@]}")
}
register_dir()     { _CLEANUP_DIRS+=("$1"); }
# Commands run at exit before the registered processes are stopped...
register_cleanup() { _CLEANUP_CMDS+=("$1"); }
# ...and after.
register_cleanup_after() { _CLEANUP_AFTER_CMDS+=("$1"); }

# stop_pid PID [NAME]: SIGTERM, wait up to TARGET_STOP_TIMEOUT, then SIGKILL.
# Returns the process's exit status when it is our child, 0 otherwise.
stop_pid() {
    local pid=$1 name=${2:-process} i rc=0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return "$rc"; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < TARGET_STOP_TIMEOUT * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM for ${TARGET_STOP_TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

_run_cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#_CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
        eval "${_CLEANUP_CMDS[i]}" || true
    done
    for ((i = ${#_CLEANUP_PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${_CLEANUP_PIDS[i]}" || true
    done
    for ((i = ${#_CLEANUP_AFTER_CMDS[@]} - 1; i >= 0; i--)); do
        eval "${_CLEANUP_AFTER_CMDS[i]}" || true
    done
    if [[ "${KEEP_TMP:-0}" != 1 ]]; then
        for ((i = ${#_CLEANUP_DIRS[@]} - 1; i >= 0; i--)); do
            rm -rf -- "${_CLEANUP_DIRS[i]}"
        done
    elif [[ ${#_CLEANUP_DIRS[@]} -gt 0 ]]; then
        log "KEEP_TMP=1: kept ${_CLEANUP_DIRS[*]}"
    fi
    exit "$rc"
}
trap _run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_bounded SECS COMMAND...: runs COMMAND under timeout (SIGKILL 10 s after SIGTERM) and
# returns its status (124 on timeout). It runs in the background and is waited for, so a
# signal to the script is handled at once and cleanup stops the command too.
run_bounded() {
    local secs=$1 pid rc=0
    shift
    timeout -k 10 "$secs" "$@" &
    pid=$!
    register_pid "$pid"
    wait "$pid" || rc=$?
    unregister_pid "$pid"
    return "$rc"
}

# make_tmpdir PREFIX: prints a new directory that is removed on exit (unless KEEP_TMP=1).
# Callers must not use $(make_tmpdir) (the registration would happen in a subshell):
#   make_tmpdir foo; dir=$REPLY
make_tmpdir() {
    REPLY=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    register_dir "$REPLY"
}

# ---------------------------------------------------------------------------------------
# Ports

port_is_listening() {
    # ss prints the header line only when nothing matches
    [[ $(ss -Hltn "sport = :$1" 2>/dev/null | wc -l) -gt 0 ]]
}

# port_is_taken PORT: some TCP socket has PORT as its local port, in any state. A client's
# connection (ephemeral port) or one in TIME-WAIT makes a later listen on it fail as well.
port_is_taken() {
    [[ $(ss -Htan "sport = :$1" 2>/dev/null | wc -l) -gt 0 ]]
}

port_accepts() {
    timeout 2 bash -c ": >/dev/tcp/$1/$2" 2>/dev/null
}

# pick_free_port [BASE]: prints a TCP port no socket uses, trying BASE.. first, then
# random ones, so concurrent runs on a shared machine do not collide on a fixed number.
pick_free_port() {
    local base=${1:-0} p i
    if [[ $base -gt 0 ]]; then
        for ((p = base; p < base + 20; p++)); do
            port_is_taken "$p" || { printf '%s' "$p"; return 0; }
        done
    fi
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000)) # below Linux's ephemeral range (32768 on)
        port_is_taken "$p" || { printf '%s' "$p"; return 0; }
    done
    die "no free TCP port found"
}

# pick_free_port_range BASE COUNT: prints the first port P >= BASE such that P..P+COUNT-1 are
# all free (a cluster's nodes listen on consecutive ports), trying 200 bases.
pick_free_port_range() {
    local base=$1 count=$2 p i ok
    for ((p = base; p < base + 200; p++)); do
        ok=1
        for ((i = 0; i < count; i++)); do
            if port_is_taken $((p + i)); then ok=0; p=$((p + i)); break; fi
        done
        [[ $ok -eq 1 ]] && { printf '%s' "$p"; return 0; }
    done
    die "no $count consecutive free TCP ports from $base on"
}

# wait_for_port HOST PORT PID NAME LOGFILE: until HOST:PORT accepts a connection; fails
# early if PID exits, and after TARGET_START_TIMEOUT seconds.
wait_for_port() {
    local host=$1 port=$2 pid=$3 name=$4 logfile=$5 deadline
    deadline=$((SECONDS + TARGET_START_TIMEOUT))
    while ! port_accepts "$host" "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            _show_log_tail "$logfile"
            die "$name exited before accepting connections on $host:$port"
        fi
        if ((SECONDS >= deadline)); then
            _show_log_tail "$logfile"
            die "$name did not accept connections on $host:$port within ${TARGET_START_TIMEOUT}s"
        fi
        sleep 0.2
    done
}

_show_log_tail() {
    [[ -s "$1" ]] || return 0
    log "last lines of $1:"
    tail -n 30 "$1" | sed 's/^/    /' >&2
}

# ---------------------------------------------------------------------------------------
# Tandem

# The command that starts Tandem; overridable to test these scripts against another build.
TANDEM_LAUNCHER=${TANDEM_LAUNCHER:-$TANDEM_ROOT/tandem}

# start_tandem DATA_DIR PORT LOGFILE [EXTRA_SERVE_ARGS...]
# Builds if needed (outside the start timeout), starts `tandem serve` in the background and
# waits until it prints "ready" and its portal accepts connections. The disk's URL is taken
# from the "lun 0: iscsi://..." line the server prints, not assumed.
start_tandem() {
    local data=$1 port=$2 logfile=$3 deadline url
    shift 3
    tandem_select_jdk
    tandem_ensure_built
    log "starting Tandem on 127.0.0.1:$port (data $data, log $logfile)"
    "$TANDEM_LAUNCHER" serve --portal "127.0.0.1:$port" --data "$data" "$@" >"$logfile" 2>&1 &
    TARGET_PID=$!
    register_pid "$TARGET_PID"
    TARGET_KIND=tandem TARGET_HOST=127.0.0.1 TARGET_PORT=$port TARGET_LOG=$logfile
    deadline=$((SECONDS + TARGET_START_TIMEOUT))
    until grep -qE '^[[:space:]]*ready[[:space:]]*$' "$logfile" 2>/dev/null; do
        if ! kill -0 "$TARGET_PID" 2>/dev/null; then
            _show_log_tail "$logfile"
            die "Tandem exited before printing 'ready'"
        fi
        ((SECONDS < deadline)) || { _show_log_tail "$logfile"; die "Tandem did not print 'ready' within ${TARGET_START_TIMEOUT}s"; }
        sleep 0.2
    done
    wait_for_port 127.0.0.1 "$port" "$TARGET_PID" Tandem "$logfile"
    url=$(sed -n 's/^[[:space:]]*lun 0:[[:space:]]*\(iscsi:\/\/[^[:space:]]*\).*/\1/p' "$logfile" | head -n 1)
    [[ -n "$url" ]] || { _show_log_tail "$logfile"; die "Tandem did not print a 'lun 0: iscsi://...' line"; }
    TARGET_URL=$url
    TARGET_LUN=${url##*/}
    TARGET_IQN=${url%/*}
    TARGET_IQN=${TARGET_IQN##*/}
    log "Tandem ready: $TARGET_URL (pid $TARGET_PID)"
}

# start_cluster_demo NODES DATA_DIR LOGFILE [EXTRA_CLUSTER_DEMO_ARGS...]
# Starts `tandem cluster-demo --nodes NODES` (embedded ZooKeeper on a port the kernel picks,
# nodes on consecutive free ports from TANDEM_CLUSTER_TEST_PORT, default 13270) in the background
# and waits until it prints "ready" and every node accepts connections. A port taken by someone
# else between the choice and the bind makes it try again with the next free range (3 attempts).
# Sets CLUSTER_PID, CLUSTER_LOG, and CLUSTER_URL[i] (node i's LUN 0) plus CLUSTER_LU_URL["i/lun"]
# for every other LUN the demo prints; the caller declares those two as global arrays
# (declare -a CLUSTER_URL; declare -A CLUSTER_LU_URL).
start_cluster_demo() {
    local nodes=$1 data=$2 logfile=$3 base attempt i deadline line
    shift 3
    tandem_select_jdk
    tandem_ensure_built
    base=${TANDEM_CLUSTER_TEST_PORT:-13270}
    for attempt in 1 2 3; do
        base=$(pick_free_port_range "$base" "$nodes")
        mkdir -p "$data"
        log "starting a $nodes-node cluster on 127.0.0.1:$base..$((base + nodes - 1)) (data $data, log $logfile)"
        "$TANDEM_LAUNCHER" cluster-demo --nodes "$nodes" --base-port "$base" --data "$data" "$@" >"$logfile" 2>&1 &
        CLUSTER_PID=$!
        CLUSTER_LOG=$logfile
        register_pid "$CLUSTER_PID"
        deadline=$((SECONDS + TARGET_START_TIMEOUT))
        until grep -qE '^[[:space:]]*ready[[:space:]]*$' "$logfile" 2>/dev/null; do
            if ! kill -0 "$CLUSTER_PID" 2>/dev/null; then
                break
            fi
            ((SECONDS < deadline)) || { _show_log_tail "$logfile"; die "the cluster did not print 'ready' within ${TARGET_START_TIMEOUT}s"; }
            sleep 0.2
        done
        if kill -0 "$CLUSTER_PID" 2>/dev/null; then
            break
        fi
        wait "$CLUSTER_PID" 2>/dev/null || true
        unregister_pid "$CLUSTER_PID"
        if [[ $attempt -lt 3 ]] && grep -q 'cannot listen on' "$logfile"; then
            log "a port of $base..$((base + nodes - 1)) was taken meanwhile; trying the next range"
            base=$((base + nodes))
            rm -rf -- "$data"
            continue
        fi
        _show_log_tail "$logfile"
        die "the cluster exited before printing 'ready'"
    done
    CLUSTER_URL=()
    CLUSTER_LU_URL=()
    while IFS= read -r line; do
        if [[ "$line" =~ ^node\ ([0-9]+):\ (iscsi://[^[:space:]]+)$ ]]; then
            CLUSTER_URL[BASH_REMATCH[1]]=${BASH_REMATCH[2]}
        elif [[ "$line" =~ ^node\ ([0-9]+)\ lun\ ([0-9]+)\ .*:\ (iscsi://[^[:space:]]+)$ ]]; then
            CLUSTER_LU_URL["${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"]=${BASH_REMATCH[3]}
        fi
    done <"$logfile"
    for ((i = 1; i <= nodes; i++)); do
        [[ -n "${CLUSTER_URL[i]:-}" ]] || { _show_log_tail "$logfile"; die "the cluster printed no URL for node $i"; }
        wait_for_port 127.0.0.1 $((base + i - 1)) "$CLUSTER_PID" "cluster node $i" "$logfile"
    done
    log "cluster ready (pid $CLUSTER_PID): ${CLUSTER_URL[*]}"
}

# stop_cluster_demo: SIGTERM to the cluster started last; it must stop every node and ZooKeeper
# and exit 0.
stop_cluster_demo() {
    local rc=0
    [[ -n "${CLUSTER_PID:-}" ]] || return 0
    stop_pid "$CLUSTER_PID" cluster-demo || rc=$?
    unregister_pid "$CLUSTER_PID"
    CLUSTER_PID=""
    if [[ $rc -ne 0 ]]; then
        _show_log_tail "$CLUSTER_LOG"
        log "cluster-demo exited with status $rc after SIGTERM (expected 0)"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------
# tgt (the peer target used to validate these scripts and as the benchmark baseline)

TGT_IQN=${TGT_IQN:-iqn.2026-11.io.tandem.peer:tgt}

# pick_tgt_control_port: tgtd's "control port" only names its unix socket
# (/var/run/tgtd/socket.N) and must be below 32768; pick one no other tgtd uses.
pick_tgt_control_port() {
    local i n
    for ((i = 0; i < 200; i++)); do
        n=$((2000 + RANDOM % 30000))
        [[ -e /var/run/tgtd/socket.$n || -e /var/run/tgtd/socket.$n.lock ]] || { printf '%s' "$n"; return 0; }
    done
    die "no free tgtd control port found"
}

# tgtd ignores SIGTERM; it shuts down through its control socket, and only once it has no
# targets left. Only acts while PID is still one of ours and alive.
_tgt_shutdown() {
    local pid=$1 ctl=$2 p
    for p in "${_CLEANUP_PIDS[@]}"; do
        if [[ "$p" == "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            timeout 10 tgtadm -C "$ctl" --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1 || true
            timeout 10 tgtadm -C "$ctl" --mode system --op delete >/dev/null 2>&1 || true
        fi
    done
    return 0
}

# start_tgt WORK_DIR PORT SIZE LOGFILE [BACKING_FILE] [BLOCK_SIZE]
# Starts tgtd in the foreground on its own control port (so it never touches a system
# tgtd), exporting a file (created sparse with SIZE if not given) as LUN 1, bstype rdwr,
# default settings (write cache on, 512-byte blocks unless BLOCK_SIZE is given). tgt
# always puts its controller on LUN 0.
start_tgt() {
    local work=$1 port=$2 size=$3 logfile=$4 backing=${5:-} block_size=${6:-} ctl
    local -a lu_opts=()
    [[ -n "$block_size" ]] && lu_opts=(--blocksize "$block_size")
    require_cmd tgtd tgt
    [[ $EUID -eq 0 ]] || die "tgtd needs root"
    if [[ -z "$backing" ]]; then
        backing=$work/tgt-lun.img
        truncate -s "$size" "$backing"
    fi
    ctl=$(pick_tgt_control_port)
    log "starting tgtd on 127.0.0.1:$port (control port $ctl, backing $backing, log $logfile)"
    tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" >"$logfile" 2>&1 &
    TARGET_PID=$!
    TARGET_CTL=$ctl
    register_pid "$TARGET_PID"
    register_cleanup "_tgt_shutdown $TARGET_PID $ctl"
    register_cleanup_after "rm -f /var/run/tgtd/socket.$ctl /var/run/tgtd/socket.$ctl.lock"
    TARGET_KIND=tgt TARGET_HOST=127.0.0.1 TARGET_PORT=$port TARGET_LOG=$logfile
    wait_for_port 127.0.0.1 "$port" "$TARGET_PID" tgtd "$logfile"
    local -a adm=(timeout 20 tgtadm -C "$ctl" --lld iscsi)
    "${adm[@]}" --mode target --op new --tid 1 --targetname "$TGT_IQN" >>"$logfile" 2>&1 \
        || die "tgtadm: cannot create the target (see $logfile)"
    "${adm[@]}" --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$backing" --bstype rdwr "${lu_opts[@]}" >>"$logfile" 2>&1 \
        || die "tgtadm: cannot add LUN 1 (see $logfile)"
    "${adm[@]}" --mode target --op bind --tid 1 --initiator-address ALL >>"$logfile" 2>&1 \
        || die "tgtadm: cannot bind the target (see $logfile)"
    TARGET_IQN=$TGT_IQN
    TARGET_LUN=1
    TARGET_URL="iscsi://127.0.0.1:$port/$TGT_IQN/1"
    log "tgt ready: $TARGET_URL (pid $TARGET_PID)"
}

# start_target KIND WORK_DIR PORT LOGFILE [EXTRA_ARGS...]: Tandem with a fresh data dir
# under WORK_DIR, or tgt with a 1 GiB sparse file (the size of Tandem's default LUN).
start_target() {
    local kind=$1 work=$2 port=$3 logfile=$4
    shift 4
    case $kind in
        tandem) start_tandem "$work/tandem-data" "$port" "$logfile" "$@" ;;
        tgt)    start_tgt "$work" "$port" 1G "$logfile" ;;
        *)      die "unknown target kind '$kind' (tandem or tgt)" ;;
    esac
}

# stop_target: stops the target described by TARGET_PID/TARGET_KIND and reports a non-zero
# exit (Tandem must exit 0 on SIGTERM after flushing).
stop_target() {
    local rc=0
    [[ -n "${TARGET_PID:-}" ]] || return 0
    if [[ "$TARGET_KIND" == tgt ]]; then
        _tgt_shutdown "$TARGET_PID" "$TARGET_CTL"
    fi
    stop_pid "$TARGET_PID" "$TARGET_KIND" || rc=$?
    unregister_pid "$TARGET_PID"
    if [[ $rc -ne 0 && "$TARGET_KIND" == tandem ]]; then
        _show_log_tail "$TARGET_LOG"
        log "Tandem exited with status $rc after SIGTERM (expected 0)"
        return 1
    fi
    return 0
}
