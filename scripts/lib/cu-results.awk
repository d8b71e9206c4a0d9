# Turns the raw output of `iscsi-test-cu -V` (CUnit basic/verbose mode) into one line per
# test, tab-separated:
#
#   RESULT  PASSED|FAILED|SKIPPED  Suite.Test  reason
#
# plus one line per CUnit run summary, used to cross-check the per-test parse:
#
#   SUMMARY  tests_ran  tests_failed  suites_failed  tests_inactive
#
# How the raw output is shaped (CUnit 2.1 basic mode, libiscsi 1.19):
#   "Suite: NAME" starts a suite; "  Test: NAME ..." starts a test. The outcome is the word
#   "passed" or "FAILED" written right after the "..." when the test logged nothing, or at
#   the start of a line otherwise (test logging is always indented by four spaces). CUnit
#   writes no newline after the outcome, so a following log line may share its line.
#   libiscsi has no skip status: a skipped test logs "[SKIPPED] why" (or "[SKIPPING]") and
#   then passes. -V is needed because some skips are logged only at verbose level.
#   After FAILED, CUnit lists the failed assertions ("    1. file.c:42  - CU_ASSERT...").

function flush_test() {
    if (test == "") return
    if (outcome == "") {
        # The run ended (crash, timeout) before the test finished.
        outcome = "FAILED"
        if (fail_reason == "") fail_reason = "no outcome: iscsi-test-cu stopped during this test"
    }
    if (outcome == "FAILED")
        printf "RESULT\tFAILED\t%s.%s\t%s\n", suite, test, fail_reason
    else if (skip_reason != "")
        printf "RESULT\tSKIPPED\t%s.%s\t%s\n", suite, test, skip_reason
    else
        printf "RESULT\tPASSED\t%s.%s\t\n", suite, test
    test = ""
}

function clean(s) {
    gsub(/\t/, " ", s)
    sub(/^[[:space:]]+/, "", s)
    sub(/[[:space:]]+$/, "", s)
    return s
}

# Looks at one piece of output that belongs to the current test.
function scan(text,    p) {
    if (outcome != "") {
        # after the outcome only CUnit's list of failed assertions is of interest
        if (outcome == "FAILED" && fail_reason == "" && text ~ /^    [0-9]+\. /) fail_reason = clean(text)
        return
    }
    if (text ~ /^passed/) { outcome = "PASSED"; return }
    if (text ~ /^FAILED/) { outcome = "FAILED"; return }
    if ((p = index(text, "[SKIPPED]")) > 0 || (p = index(text, "[SKIPPING]")) > 0) {
        if (skip_reason == "") skip_reason = clean(substr(text, p))
        return
    }
    if ((p = index(text, "[FAILED]")) > 0) fail_reason = clean(substr(text, p))
}

/^Suite: / {
    flush_test()
    suite = clean(substr($0, 8))
    next
}

/^  Test: / {
    flush_test()
    rest = substr($0, 9)
    p = index(rest, " ...")
    if (p == 0) { test = clean(rest); rest = "" }
    else { test = clean(substr(rest, 1, p - 1)); rest = substr(rest, p + 4) }
    outcome = ""; skip_reason = ""; fail_reason = ""
    if (rest != "") scan(rest)
    next
}

# CUnit reports a failed suite set-up or tear-down instead of running (all) its tests.
/Suite initialization failed|Suite cleanup failed/ {
    flush_test()
    printf "RESULT\tFAILED\t%s.(suite)\t%s\n", suite, clean($0)
    next
}

/^Run Summary:/ { flush_test(); in_summary = 1; next }

in_summary && $1 == "suites" { suites_failed = $5; next }
in_summary && $1 == "tests" {
    # tests  Total  Ran  Passed  Failed  Inactive
    printf "SUMMARY\t%s\t%s\t%s\t%s\n", $3, $5, suites_failed + 0, $6
    in_summary = 0
    next
}

test != "" { scan($0) }

END { flush_test() }
