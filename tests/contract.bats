#!/usr/bin/env bats
# What every stage does the same way (sstream(7)): a record no operator
# can take is a reject in the same words everywhere, frames never meet a
# terminal (exit 2), and HOST:PORT means the same to every option.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/d"
    printf 'k 9223372036854775807\nk 1\nj 1\n' >"$T/d/1"
}

# keyed STAGE...: the fixture keyed by its first field, through STAGE.
keyed() {
    pipeline "$T/d" bash -c \
        'sstream-map --key-field 1 --value-field 2 | "$@"' keyed "$@"
}

overflow="batch 1000, record 2: '1' takes the sum out of the 64-bit integer range"
lost="1 rejected record not kept (use --rejects FILE)"

@test "contract: an overflowing keyed sum is the same reject in map, window and state" {
    run --separate-stderr pipeline "$T/d" sstream-map --key-field 1 \
        --value-field 2 --reduce-by-key sum
    assert_failure 1
    assert_output "$(printf '1000\tk\t9223372036854775807\n1000\tj\t1')"
    assert_equal "$stderr" "$(printf 'sstream-map: %s\nsstream-map: %s' "$overflow" "$lost")"

    run --separate-stderr keyed sstream-window -w 1s --reduce-by-key sum
    assert_failure 1
    assert_output "$(printf '1000\tj\t1\n1000\tk\t9223372036854775807')"
    assert_equal "$stderr" "$(printf 'sstream-window: %s\nsstream-window: %s' "$overflow" "$lost")"

    run --separate-stderr keyed sstream-state --update sum --no-checkpoint
    assert_failure 1
    assert_output "$(printf '1000\tj\t1\n1000\tk\t9223372036854775807')"
    assert_equal "$stderr" "$(printf 'sstream-state: %s\nsstream-state: %s' "$overflow" "$lost")"
}

@test "contract: an overflowing sum is the same reject in map and window" {
    printf '9223372036854775807\n1\n' >"$T/d/1"
    run --separate-stderr pipeline "$T/d" sstream-map --reduce sum
    assert_failure 1
    assert_output "$(printf '1000\t9223372036854775807')"
    assert_equal "$stderr" "$(printf 'sstream-map: %s\nsstream-map: %s' "$overflow" "$lost")"

    run --separate-stderr pipeline "$T/d" sstream-window -w 1s --reduce sum
    assert_failure 1
    assert_output "$(printf '1000\t9223372036854775807')"
    assert_equal "$stderr" "$(printf 'sstream-window: %s\nsstream-window: %s' "$overflow" "$lost")"
}

@test "contract: with --rejects the overflowing record is kept and the exit is 0" {
    local stage
    for stage in "sstream-map --reduce-by-key sum --rejects $T/r-map" \
        "sstream-window -w 1s --reduce-by-key sum --rejects $T/r-window" \
        "sstream-state --update sum --no-checkpoint --rejects $T/r-state"; do
        # shellcheck disable=SC2086 # the stage's words
        run --separate-stderr keyed $stage
        assert_success
        set -- $stage
        assert_equal "$stderr" "$(printf '%s: %s\n%s: 1 rejected record kept in '\''%s'\''' \
            "$1" "$overflow" "$1" "${stage##* }")"
        assert_equal "$(cat "${stage##* }")" "$(printf 'k\t1')"
    done
}

@test "contract: frames to or from a terminal are a usage error (2) in every stage" {
    command -v script >/dev/null || skip "script(1) not installed"
    local c
    # script(1) gives the command a pseudo-terminal as stdin and stdout.
    for c in "sstream-map --count" "sstream-window -w 1s --count" \
        "sstream-state --update sum --no-checkpoint" "sstream-sink"; do
        run script -qec "$c; echo status=\$?" /dev/null </dev/null
        assert_output "$(printf '%s: stdin is a terminal, and %s reads frames: pipe sstream-source into it (e.g. '\''sstream-source < FILE | %s'\'')\r\nstatus=2\r' \
            "${c%% *}" "${c%% *}" "${c%% *}")"
    done
    for c in "sstream-source" "sstream-map --count </dev/null" \
        "sstream-window -w 1s --count </dev/null" \
        "sstream-state --update sum --no-checkpoint </dev/null"; do
        run script -qec "$c; echo status=\$?" /dev/null </dev/null
        assert_output "$(printf '%s: frames are not written to a terminal; pipe into sstream-sink (e.g. '\''| sstream-sink --print'\'')\r\nstatus=2\r' \
            "${c%% *}")"
    done
}
