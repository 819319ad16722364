#!/usr/bin/env bats
# What every stage does the same way (sstream(7)): a record no operator
# can take is a reject in the same words everywhere, frames never meet a
# terminal (exit 2), and HOST:PORT means the same to every option.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
    mkdir -p "$T/d"
    printf 'k 9223372036854775807\nk 1\nj 1\n' >"$T/d/1"
}

teardown() {
    kill_bg
}

# free_port6: a TCP port on ::1 that nobody listens on now; fails when the
# machine has no IPv6 loopback.
free_port6() {
    "$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])' 2>/dev/null
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

@test "contract: source --connect takes [::1]:PORT" {
    port=$(free_port6) || skip "no IPv6 loopback"
    printf 'a\nb\n' >"$T/in"
    socat -u "FILE:$T/in" "TCP6-LISTEN:$port,bind=[::1],reuseaddr" &
    PIDS+=($!)
    wait_port "$port"
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --connect '[::1]:$port' --connect-once -b 100ms |
        sstream-sink --lines"
    assert_success
    assert_output "$(printf 'a\nb')"
    assert_equal "$stderr" ""
}

@test "contract: sink --connect takes [::1]:PORT" {
    port=$(free_port6) || skip "no IPv6 loopback"
    socat -u "TCP6-LISTEN:$port,bind=[::1],reuseaddr" "CREATE:$T/got" &
    server=$!
    PIDS+=($server)
    wait_port "$port"
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-sink --connect '[::1]:$port'"
    assert_success
    assert_equal "$stderr" ""
    wait "$server"
    assert_equal "$(cat "$T/got")" "$(cat "$T/d/1")"
}

@test "contract: a HOST:PORT that is not one is the same usage error everywhere" {
    local arg
    for arg in localhost:notaport localhost: :9 localhost:0 localhost:65536 \
        ::1:9 nowhere; do
        run --separate-stderr sstream-source --connect "$arg"
        assert_failure 2
        assert_equal "$stderr" "sstream-source: --connect: '$arg' is not HOST:PORT"
        run --separate-stderr sstream-sink --connect "$arg"
        assert_failure 2
        assert_equal "$stderr" "sstream-sink: --connect: '$arg' is not HOST:PORT"
    done
    run --separate-stderr sstream-source --listen localhost:notaport
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --listen: 'localhost:notaport' is not [HOST:]PORT"
}
