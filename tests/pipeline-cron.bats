#!/usr/bin/env bats
# Cron over a folder, end to end: three runs of
#   source --watch --once --state | map | state --checkpoint
# as cron would start them, each with new files; the running totals in the
# checkpoint count every file exactly once.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/in"
}

cron_run() {
    set -o pipefail
    sstream-source --watch "$T/in" --once --state "$T/ledger" -b 100ms --settle 200ms |
        sstream-map --flat-map words --count-by-value |
        sstream-state --update sum --checkpoint "$T/ck" --emit updated |
        sstream-sink --lines
}

totals() {
    sstream-state --dump "$T/ck" 2>/dev/null | LC_ALL=C sort
}

@test "cron: three runs over new files keep exact running totals" {
    printf 'apple pear\napple\n' >"$T/in/day1-a"
    printf 'fig apple\n' >"$T/in/day1-b"
    touch -d '-1 min' "$T/in"/*
    run --separate-stderr cron_run
    assert_success
    assert_equal "$stderr" ""
    run totals
    assert_output "$(printf 'apple\t3\nfig\t1\npear\t1')"

    printf 'pear pear\n' >"$T/in/day2"
    printf 'ignored\n' >"$T/in/.day2.partial"
    touch -d '-1 min' "$T/in/day2"
    run --separate-stderr cron_run
    assert_success
    run totals
    assert_output "$(printf 'apple\t3\nfig\t1\npear\t3')"

    printf 'fig kiwi\n' >"$T/in/day3" # written just now: waits to settle
    run --separate-stderr cron_run
    assert_success
    run totals
    assert_output "$(printf 'apple\t3\nfig\t2\nkiwi\t1\npear\t3')"

    # a fourth run with nothing new changes nothing
    run --separate-stderr cron_run
    assert_success
    assert_output ""
    run totals
    assert_output "$(printf 'apple\t3\nfig\t2\nkiwi\t1\npear\t3')"
    assert_equal "$(cat "$T/ledger/ledger")" "$(printf 'day1-a\nday1-b\nday2\nday3')"
}
