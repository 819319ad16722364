#!/usr/bin/env bats
# Ctrl-C at a terminal, and the end of a stream, as a user meets them:
# the commands that stages run (sstream-source --exec, sstream-map --exec,
# sstream-sink --foreach) are not killed by the terminal's SIGINT, the
# pipeline drains and exits 0, and no command (nor what it started)
# outlives the stage that ran it.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

# survivors MARK: the running processes whose command lines hold MARK (a
# path under $T, so only this test's processes), as "PID STAT ARGS".
survivors() {
    ps -eo pid=,stat=,args= >"$T/ps" # whole before grep runs: not in it
    grep -F -- "$1" "$T/ps" | awk '$2 !~ /^Z/' || true
}

# A failed test leaves no command of its own behind (they would hold
# bats's output open), each ended by its pid.
teardown() {
    local pid
    for pid in $(survivors "$T" | awk '{ print $1 }'); do
        kill -9 "$pid" 2>/dev/null || true
    done
}

# gone MARK: until no process holds MARK (at most 5 s); fails if some do.
gone() {
    local i
    for i in $(seq 1 50); do
        [ -z "$(survivors "$1")" ] && return 0
        sleep 0.1
    done
    survivors "$1" >&2
    return 1
}

@test "ctrl-c: at a terminal, every stage drains, the commands finish their batches, exit 0" {
    command -v script >/dev/null || skip "script(1) not installed"
    # script(1) runs the pipeline on a pseudo-terminal; the ^C written to
    # it is the terminal's SIGINT to the pipeline's process group, as a
    # user's Ctrl-C is. Each command sleeps inside its batch, so the
    # SIGINT finds them running.
    # The shell survives the ^C as a user's interactive shell does (trap):
    # whether a non-interactive bash ends itself after a pipeline that
    # caught SIGINT depends on timing, and is bash's affair, not ours. The
    # stages' own exit is the pipeline's status, written to a file.
    cat >"$T/pipeline" <<EOF2
trap : INT
set -o pipefail
sstream-source -b 200ms --exec "i=0; while :; do i=\\\$((i + 1)); echo \\\$i; sleep 0.05; done # $T" |
    sstream-map --exec "sleep 0.15; cat # $T" |
    sstream-sink --foreach "sleep 0.1; cat >>'$T/seen' # $T" >"$T/out" 2>"$T/err"
echo \$? >"$T/status"
EOF2
    # The ^C goes once every stage is running (a batch came through):
    # a fixed delay raced the start of the pipeline on a loaded machine,
    # and a SIGINT before a stage sets its handler ends it with 130.
    {
        for _ in $(seq 300); do [ -s "$T/seen" ] && break; sleep 0.1; done
        sleep 0.3
        printf '\003'
        sleep 0.5
        while [ ! -s "$T/status" ]; do sleep 0.1; done
    } |
        script -qec "bash '$T/pipeline'" /dev/null >/dev/null || true
    # the stages' messages first: a failure shows why
    assert_equal "$(cat "$T/err")" ""
    assert_equal "$(cat "$T/status")" 0
    # the records came through whole and in order, the last batches too
    n=$(wc -l <"$T/seen")
    ((n > 5))
    assert_equal "$(cat "$T/seen")" "$(seq 1 "$n")"
    gone "# $T"
}

@test "ctrl-c: SIGINT to the pipeline's process group: --exec and --foreach are not killed" {
    # the same without a terminal: bash under setsid leads a process
    # group, which the SIGINT is sent to as a terminal sends it
    setsid bash -c "echo \$\$ >'$T/pgid'; set -o pipefail
        sstream-source -b 200ms --exec 'seq 1 5; sleep 30 # $T' |
        sstream-map --exec 'sleep 0.3; cat # $T' |
        sstream-sink --foreach 'cat >>\"$T/seen\" # $T' 2>'$T/err'
        echo \$? >'$T/status'" &
    for _ in $(seq 50); do [ -s "$T/pgid" ] && break; sleep 0.1; done
    for _ in $(seq 50); do [ -s "$T/seen" ] && break; sleep 0.1; done
    sleep 0.1 # the map is in its next batch's command, or about to be
    kill -INT -- "-$(cat "$T/pgid")"
    for _ in $(seq 100); do [ -s "$T/status" ] && break; sleep 0.1; done
    assert_equal "$(cat "$T/status")" 0
    assert_equal "$(cat "$T/err")" ""
    assert_equal "$(cat "$T/seen")" "$(seq 1 5)"
    gone "# $T"
}

@test "ctrl-c: the end of the stream ends --exec 'tail -F log | cat' whole" {
    : >"$T/app.log"
    mkfifo "$T/frames"
    sstream-source -b 100ms --exec "tail -F '$T/app.log' | cat" >"$T/frames" 2>"$T/err" 3>&- &
    src=$!
    sstream-sink --lines <"$T/frames" >"$T/out" &
    sink=$!
    echo hello >>"$T/app.log"
    for _ in $(seq 50); do [ -s "$T/out" ] && break; sleep 0.1; done
    kill -TERM "$src"
    wait "$src" "$sink"
    assert_equal "$(cat "$T/out")" hello
    assert_equal "$(cat "$T/err")" ""
    gone "$T/app.log"
}

@test "ctrl-c: a command that ignores SIGTERM gets SIGKILL after the grace period" {
    : >"$T/app.log"
    mkfifo "$T/frames"
    sstream-source -b 100ms --exec "trap '' TERM; tail -F '$T/app.log' | cat" >"$T/frames" 2>"$T/err" 3>&- &
    src=$!
    sstream-sink --lines <"$T/frames" >"$T/out" &
    sink=$!
    echo hello >>"$T/app.log"
    for _ in $(seq 50); do [ -s "$T/out" ] && break; sleep 0.1; done
    kill -TERM "$src"
    wait "$src" "$sink"
    assert_equal "$(cat "$T/out")" hello
    gone "$T/app.log"
}
