# shellcheck shell=bash
# JDK selection and build-if-stale, shared by ./tandem and the scripts under scripts/.
# Source it after setting TANDEM_ROOT to the repository root.

TANDEM_DEFAULT_JDK=/usr/lib/jvm/temurin-25-jdk-amd64
TANDEM_MIN_JAVA=25
TANDEM_JAR_REL=tandem-server/target/tandem.jar

# Prints the feature version (e.g. 25) of the JDK at $1, or nothing if it is not a JDK.
tandem_jdk_major() {
    local home=$1 v=""
    [[ -x "$home/bin/java" ]] || return 0
    if [[ -r "$home/release" ]]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
    fi
    if [[ -z "$v" ]]; then
        # "openjdk version "25.0.1" ..." or the legacy "1.8.0_x" form
        v=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9.]*\).*/\1/p')
        [[ "$v" == 1.* ]] && v=${v#1.}
        v=${v%%.*}
    fi
    printf '%s' "$v"
}

# Exports JAVA_HOME pointing at a JDK >= 25: the caller's $JAVA_HOME if it qualifies,
# otherwise the Temurin 25 install. Fails with a message naming what is missing.
tandem_select_jdk() {
    local major
    if [[ -n "${JAVA_HOME:-}" ]]; then
        major=$(tandem_jdk_major "$JAVA_HOME")
        if [[ -n "$major" && "$major" -ge $TANDEM_MIN_JAVA ]]; then
            export JAVA_HOME
            return 0
        fi
    fi
    major=$(tandem_jdk_major "$TANDEM_DEFAULT_JDK")
    if [[ -n "$major" && "$major" -ge $TANDEM_MIN_JAVA ]]; then
        export JAVA_HOME=$TANDEM_DEFAULT_JDK
        return 0
    fi
    echo "tandem: needs JDK $TANDEM_MIN_JAVA or newer: set JAVA_HOME or install it at $TANDEM_DEFAULT_JDK" >&2
    return 1
}

# Prints the first build input (any file under a src/ directory, or a pom.xml) newer than
# the jar; prints nothing when the jar is up to date.
tandem_stale_input() {
    local jar="$TANDEM_ROOT/$TANDEM_JAR_REL"
    if [[ ! -f "$jar" ]]; then
        printf '%s\n' "$jar (missing)"
        return 0
    fi
    find "$TANDEM_ROOT" \( -name .git -o -name target -o -name node_modules \) -prune -o \
        -type f \( -name pom.xml -o -path '*/src/*' \) -newer "$jar" -print -quit
}

# Builds the fat jar with Maven when it is missing or older than its inputs. Quiet on
# success (one "building tandem…" line on stderr); prints Maven's output on failure.
# A lock keeps two concurrent callers from running Maven over each other.
tandem_ensure_built() {
    local lockdir="$TANDEM_ROOT/target" out rc
    [[ -n "$(tandem_stale_input)" ]] || return 0
    command -v mvn >/dev/null || { echo "tandem: Maven (mvn) is required to build; apt-get install maven" >&2; return 1; }
    mkdir -p "$lockdir"
    (
        flock -w 900 9 || { echo "tandem: timed out waiting for another build to finish" >&2; exit 1; }
        # Another caller may have built it while we waited for the lock.
        [[ -n "$(tandem_stale_input)" ]] || exit 0
        echo "building tandem…" >&2
        out=$(mktemp "${TMPDIR:-/tmp}/tandem-build.XXXXXX")
        rc=0
        # shellcheck disable=SC2086  # TANDEM_MVN_ARGS holds several arguments
        (cd "$TANDEM_ROOT" && timeout 1200 mvn -B -q package -DskipTests ${TANDEM_MVN_ARGS:-}) >"$out" 2>&1 || rc=$?
        if [[ $rc -ne 0 ]]; then
            cat "$out" >&2
            echo "tandem: build failed (mvn exit $rc)" >&2
            rm -f "$out"
            exit 1
        fi
        rm -f "$out"
        # Maven leaves the jar's mtime alone when nothing changed in a module it considers
        # up to date; touch it so the staleness check does not rebuild on every start.
        if [[ ! -f "$TANDEM_ROOT/$TANDEM_JAR_REL" ]]; then
            echo "tandem: the build succeeded but produced no $TANDEM_JAR_REL" >&2
            exit 1
        fi
        touch "$TANDEM_ROOT/$TANDEM_JAR_REL"
    ) 9>"$lockdir/.tandem-build.lock"
}
