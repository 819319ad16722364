#!/usr/bin/env bats
# The chaos script (tests/chaos/run, also make chaos) with a fixed seed:
# stages killed with kill -9 at random moments, the pipeline restarted
# until the input is done, every saved file equal to an uninterrupted
# run's. The moments depend on the clock (that is the point), so the
# counts are checked as bounds; the mismatches must be zero.

load helpers/common

@test "chaos: 5 kills of random stages, no saved file differs" {
    run --separate-stderr "$REPO/tests/chaos/run" --seed 7 --kills 5
    assert_success
    assert_equal "$stderr" ""
    assert_line --index 0 --regexp '^chaos: seed 7, 60 batches, source \| map \| '
    assert_line --index 1 --regexp '^chaos: rounds [0-9]+, trials [0-9]+, kills 5, mismatches 0$'
    trials=$(echo "${lines[1]}" | sed 's/.*trials \([0-9]*\),.*/\1/')
    [ "$trials" -ge 6 ]
}

@test "chaos: window and state at --parallel 3, 5 kills, no saved file differs" {
    run --separate-stderr "$REPO/tests/chaos/run" --seed 7 --kills 5 --parallel 3
    assert_success
    assert_equal "$stderr" ""
    assert_line --index 1 --regexp '^chaos: rounds [0-9]+, trials [0-9]+, kills 5, mismatches 0$'
}

@test "chaos: the README's exactly-once pipeline, as written, survives 5 kills" {
    run --separate-stderr "$REPO/tests/chaos/run" --seed 11 --kills 5 --readme
    assert_success
    assert_equal "$stderr" ""
    assert_line --index 0 "chaos: seed 11, 60 batches, the README's pipeline"
    assert_line --index 1 --regexp '^chaos: rounds [0-9]+, trials [0-9]+, kills 5, mismatches 0$'
}

@test "chaos: a flipped bit in the newest checkpoint: exact output, or a stop that says so" {
    # each kill is followed by one flipped bit in the newest snapshot or
    # log of a random checkpoint; a stage either recovers exactly (the WAL
    # sends again what the older checkpoint needs) or exits 1 with a
    # message; a run that exits 0 must match the uninterrupted run
    run --separate-stderr "$REPO/tests/chaos/run" --seed 5 --kills 8 --readme --corrupt
    assert_success
    assert_equal "$stderr" ""
    assert_line --index 0 "chaos: seed 5, 60 batches, the README's pipeline"
    assert_line --index 1 --regexp '^chaos: rounds [0-9]+, trials [0-9]+, kills 8, corruptions [1-8], stopped [0-9]+, mismatches 0$'
}

@test "chaos: the state's sum in a Python coprocess, it and the stages killed: exact" {
    # every other kill meant for sstream-state goes to its --update-exec
    # command, which is restarted and asked the batch again
    run --separate-stderr "$REPO/tests/chaos/run" --seed 3 --kills 6 --update-exec
    assert_success
    assert_equal "$stderr" ""
    assert_line --index 0 --regexp '^chaos: seed 3, 60 batches, .*state --update-exec \| sink'
    assert_line --index 1 --regexp '^chaos: rounds [0-9]+, trials [0-9]+, kills 6, mismatches 0$'
}

@test "chaos: out-of-order input batched by event time, late records kept: exact" {
    # the source's restart rebuilds the watermark and the open batches by
    # reading the replay folder again, and writes its --late file again:
    # the saved files and the late file are those of the uninterrupted run
    run --separate-stderr "$REPO/tests/chaos/run" --seed 9 --kills 5 --event-time
    assert_success
    assert_equal "$stderr" ""
    assert_line --index 0 "chaos: seed 9, 60 batches, source --event-time | map | window | state | sink, 19 late"
    assert_line --index 1 --regexp '^chaos: rounds [0-9]+, trials [0-9]+, kills 5, mismatches 0$'
}

@test "chaos: usage errors exit 2" {
    run --separate-stderr "$REPO/tests/chaos/run" --kills x
    assert_failure 2
    assert_equal "$stderr" "usage: tests/chaos/run [--kills N] [--seed S] [--batches N] [--keep DIR] [--readme] [--corrupt] [--update-exec] [--parallel N] [--event-time]"
    usage=$stderr
    # the README's pipeline has its own input
    run --separate-stderr "$REPO/tests/chaos/run" --readme --event-time
    assert_failure 2
    assert_equal "$stderr" "$usage"
}
