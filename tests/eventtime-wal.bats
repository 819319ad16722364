#!/usr/bin/env bats
# Event time under --wal: kill -9 of the source at fixed points
# (SSTREAM_TEST_CRASH_AT, lib/io.h, as tests/wal.bats does), then a
# restart: the batches the log holds are sent again from it, and the
# watermark and the open batches are rebuilt by reading the --replay
# input again, so the saved files and the --late file are those of a run
# that never stopped. Input: two files of "ms<TAB>word" lines, out of
# order, -b 1s, --max-delay 2s; f and m come late.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/in" "$T/out"
    printf '500\ta\n1500\tb\n300\tc\n2500\td\n4200\te\n1900\tf\n3100\tg\n' >"$T/in/0001"
    printf '6900\th\n4500\ti\n5200\tj\n9000\tk\n7600\tl\n3000\tm\n10500\tn\n' >"$T/in/0002"
}

# run_pipeline [ENV...]: source --wal | sink --commit, into $T/out
run_pipeline() {
    env "$@" sstream-source --replay "$T/in" --event-time 1 --max-delay 2s \
        -b 1s --late-policy file --late "$T/late" --wal "$T/w" |
        sstream-sink --save-as-text-files "$T/out/p" --commit "$T/w"
}

# The saved files as NAME: words, in batch time order.
saved() {
    local f
    for f in $(ls "$T/out" | sort -t- -k2 -n); do
        printf '%s: %s\n' "$f" "$(cut -f2 "$T/out/$f" | tr '\n' ' ')"
    done
}

ALL='p-1000: a c 
p-2000: b 
p-3000: d 
p-4000: g 
p-5000: e i 
p-6000: j 
p-7000: h 
p-8000: l 
p-9000: k 
p-10000: 
p-11000: n '
LATE='1900	f
3000	m'

@test "eventtime-wal: a run that never stops: the batches by event time, two late" {
    run --separate-stderr run_pipeline
    assert_success
    assert_equal "$(saved)" "$ALL"
    assert_equal "$(cat "$T/late")" "$LATE"
    assert_equal "$(cat "$T/w/commit")" 11000
}

@test "eventtime-wal: kill -9 after the third batch is logged: the restart is exact" {
    run --separate-stderr run_pipeline SSTREAM_TEST_CRASH_AT=wal-synced:3
    assert_failure 1
    assert_equal "$(ls "$T/out" | sort -t- -k2 -n | tr '\n' ' ')" "p-1000 p-2000 "
    assert_equal "$(cat "$T/w/commit")" 2000
    run --separate-stderr run_pipeline
    assert_success
    assert_equal "$stderr" "sstream-source: --wal: 1 uncommitted batch (3000 to 3000) sent again from the log
sstream-source: 2 late records, behind the watermark by 4000ms at most, 2150ms on average: kept in '$T/late'"
    assert_equal "$(saved)" "$ALL"
    assert_equal "$(cat "$T/late")" "$LATE"
}

@test "eventtime-wal: kill -9 after a late record was written: the --late file holds it once" {
    run --separate-stderr run_pipeline SSTREAM_TEST_CRASH_AT=wal-synced:6
    assert_failure 1
    assert_equal "$(cat "$T/late")" "1900	f"
    run --separate-stderr run_pipeline
    assert_success
    assert_equal "$(saved)" "$ALL"
    assert_equal "$(cat "$T/late")" "$LATE"
}

@test "eventtime-wal: kill -9 while a batch is half written to the log: exact" {
    run --separate-stderr run_pipeline SSTREAM_TEST_CRASH_AT=wal-write:5
    assert_failure 1
    run --separate-stderr run_pipeline
    assert_success
    assert_equal "$(saved)" "$ALL"
    assert_equal "$(cat "$T/late")" "$LATE"
}

@test "eventtime-wal: a run after a finished one sends nothing again; a new file goes on" {
    run_pipeline
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --event-time 1 --max-delay 2s -b 1s --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    assert_output ""
    printf '12100\to\n14000\tp\n' >"$T/in/0003"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --event-time 1 --max-delay 2s -b 1s --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    # the batches up to 11000 went out when the input ended: o and p
    # come after them
    assert_output "$(printf '13000\t12100\to\n14000\t14000\tp')"
}
