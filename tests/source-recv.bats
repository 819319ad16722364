#!/usr/bin/env bats
# sstream-source receivers: --connect, --listen, --watch (live and cron),
# --exec, --max-rate, unions. Servers and producers run on 127.0.0.1,
# started and stopped here. Where the clock is the feature, the waits are
# generous and only what the clock cannot change is asserted exactly.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
}

teardown() {
    kill_bg
}

# A one-connection server that sends FILE and closes: socat needs no
# -N/-q guesswork about when to hang up.
serve_file() {
    socat -u "FILE:$2" "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr" &
    PIDS+=($!)
}

# bg_source OUT ERR ARGS...: a source piped into 'sink --lines' >OUT,
# its stderr in ERR; SRC is the source's pid.
bg_source() {
    local out=$1 err=$2
    shift 2
    mkfifo "$T/frames.$$"
    sstream-source "$@" >"$T/frames.$$" 2>"$err" &
    SRC=$!
    PIDS+=($SRC)
    sstream-sink --lines <"$T/frames.$$" >"$out" &
    SINK=$!
    PIDS+=($SINK)
}

# stop_source: SIGTERM the source, wait for both; SRC_STATUS, SINK_STATUS.
stop_source() {
    kill -TERM "$SRC"
    SRC_STATUS=0
    wait "$SRC" || SRC_STATUS=$?
    SINK_STATUS=0
    wait "$SINK" || SINK_STATUS=$?
    rm -f "$T/frames.$$"
}

# ---- --connect ----

@test "recv: --connect reads a server's lines; --connect-once ends with it" {
    port=$(free_port)
    printf 'to be\nor not\nto be' >"$T/f"
    serve_file "$port" "$T/f"
    wait_port "$port"
    run --separate-stderr bash -c "sstream-source --connect 127.0.0.1:$port --connect-once -b 100ms | sstream-sink --lines"
    assert_success
    assert_output "$(printf 'to be\nor not\nto be')"
    assert_equal "$stderr" ""
}

# silent_server: starts a server that never answers (tests/helpers/
# silent-server.py) and sets SILENT to its port.
silent_server() {
    coproc SILENTP { "$PY" "$REPO/tests/helpers/silent-server.py"; }
    PIDS+=($SILENTP_PID)
    read -r SILENT <&"${SILENTP[0]}"
}

@test "recv: --connect-timeout gives up a server that does not answer, naming it" {
    silent_server
    SECONDS=0
    run --separate-stderr bash -c "sstream-source --connect 127.0.0.1:$SILENT --connect-once --connect-timeout 300ms | sstream-sink --lines; echo \"\${PIPESTATUS[*]}\""
    assert_output "1 1"
    assert_equal "$stderr" "sstream-source: --connect 127.0.0.1:$SILENT: no answer within 300ms (--connect-timeout)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    [ "$SECONDS" -lt 10 ]
}

@test "recv: --connect-timeout: without --connect-once the source retries" {
    silent_server
    bg_source "$T/out" "$T/err" --connect "127.0.0.1:$SILENT" --connect-timeout 200ms -b 100ms
    wait_lines "$T/err" 2
    stop_source
    assert_equal "$SRC_STATUS $SINK_STATUS" "0 0"
    assert_equal "$(head -2 "$T/err")" "sstream-source: --connect 127.0.0.1:$SILENT: no answer within 200ms (--connect-timeout); retrying in 250ms
sstream-source: --connect 127.0.0.1:$SILENT: no answer within 200ms (--connect-timeout); retrying in 500ms"
}

@test "recv: --connect-timeout usage errors, exit 2" {
    run --separate-stderr sstream-source --connect-timeout 1s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --connect-timeout: needs --connect"
    run --separate-stderr sstream-source --connect localhost:9 --connect-timeout 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --connect-timeout: '1x' is not a duration (try 500ms or 2s)"
}

@test "recv: --connect to nc -l; a name that resolves to several addresses" {
    port=$(free_port)
    printf 'w1 w2\nw3\n' >"$T/f"
    nc -N -l 127.0.0.1 "$port" <"$T/f" &
    PIDS+=($!)
    wait_port "$port"
    run --separate-stderr bash -c "sstream-source --connect localhost:$port --connect-once | sstream-sink --lines"
    assert_success
    assert_output "$(printf 'w1 w2\nw3')"
}

@test "recv: --connect reconnects with backoff when the server restarts" {
    port=$(free_port)
    printf 'first 1\nfirst 2\n' >"$T/f1"
    printf 'second 1\nsecond 2\n' >"$T/f2"
    serve_file "$port" "$T/f1"
    server=$!
    wait_port "$port"
    bg_source "$T/out" "$T/err" --connect "127.0.0.1:$port" -b 100ms
    wait_lines "$T/out" 2
    wait "$server" # the first server is gone: the source reconnects
    serve_file "$port" "$T/f2"
    wait_lines "$T/out" 4
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$SINK_STATUS" 0
    assert_equal "$(cat "$T/out")" "$(printf 'first 1\nfirst 2\nsecond 1\nsecond 2')"
    # closed, maybe refused while the new server starts, connected; the
    # second server hangs up too: closed again
    refused="sstream-source: --connect 127.0.0.1:$port: connection refused; retrying in "
    assert_equal "$(grep -v "^$refused" "$T/err")" "$(printf '%s\n' \
        "sstream-source: --connect 127.0.0.1:$port: connection closed; reconnecting in 250ms" \
        "sstream-source: --connect 127.0.0.1:$port: connected" \
        "sstream-source: --connect 127.0.0.1:$port: connection closed; reconnecting in 250ms")"
    run grep -c "^$refused[0-9]*m\?s$" "$T/err"
    assert_equal "$(grep -c . "$T/err")" $((3 + output))
}

@test "recv: --connect keeps binary garbage in lines byte for byte; \r\n ends a line" {
    port=$(free_port)
    printf 'ok\r\n\001\377\000b\rin\r\n\t\n' >"$T/f"
    serve_file "$port" "$T/f"
    wait_port "$port"
    run --separate-stderr bash -c "sstream-source --connect 127.0.0.1:$port --connect-once | sstream-sink --dump | grep '^  '"
    assert_success
    assert_output - <<'EOF'
  1: "ok"
  2: "\x01\xff\x00b\x0din"
  3: "\t"
EOF
    serve_file "$port" "$T/f"
    wait_port "$port"
    run --separate-stderr bash -c "sstream-source --connect 127.0.0.1:$port --connect-once --keep-cr | sstream-sink --dump | grep '^  '"
    assert_success
    assert_output - <<'EOF'
  1: "ok\x0d"
  2: "\x01\xff\x00b\x0din\x0d"
  3: "\t"
EOF
}

@test "recv: \r\n ends a line from --exec, --listen and --watch too" {
    mkdir "$T/in"
    printf 'w\r\nw\n' >"$T/in/f"
    touch -d '-1 min' "$T/in/f"
    port=$(free_port)
    bg_source "$T/out" "$T/err" --exec "printf 'e\\r\\ne\\n'" --watch "$T/in" --listen "127.0.0.1:$port" -b 100ms --state "$T/state"
    wait_port "$port"
    printf 'l\r\nl\n' | nc -N 127.0.0.1 "$port"
    wait_lines "$T/out" 6
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$(sort "$T/out" | od -c)" "$(printf 'e\ne\nl\nl\nw\nw\n' | od -c)"
}

@test "recv: --connect-once to a port nobody listens on fails with exit 1" {
    port=$(free_port)
    # sh without pipefail, as cron runs it: the sink's status is the one seen
    run --separate-stderr sh -c "sstream-source --connect 127.0.0.1:$port --connect-once | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --connect 127.0.0.1:$port: connection refused
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "recv: --connect without --connect-once retries an unreachable server" {
    port=$(free_port)
    bg_source "$T/out" "$T/err" --connect "127.0.0.1:$port" -b 100ms
    sleep 1
    stop_source
    assert_equal "$SRC_STATUS" 0
    run cat "$T/err"
    assert_line --index 0 "sstream-source: --connect 127.0.0.1:$port: connection refused; retrying in 250ms"
    assert_line --index 1 "sstream-source: --connect 127.0.0.1:$port: connection refused; retrying in 500ms"
}

@test "recv: --connect-once to a name that does not resolve fails with exit 1" {
    run --separate-stderr bash -c "sstream-source --connect no-such-host.invalid:9 --connect-once | sstream-sink --lines; exit \${PIPESTATUS[0]}"
    assert_failure 1
    assert_output ""
    [[ "$stderr" == "sstream-source: --connect no-such-host.invalid:9: cannot resolve 'no-such-host.invalid': "* ]]
}

# ---- --listen ----

@test "recv: two nc producers into one --listen: records unioned, never split" {
    port=$(free_port)
    bg_source "$T/out" "$T/err" --listen "127.0.0.1:$port" -b 100ms
    wait_port "$port"
    # each producer pauses in the middle of a record while the other sends
    { printf 'a1\na2-'; sleep 0.4; printf 'end\na3\n'; } | nc -N 127.0.0.1 "$port" &
    p1=$!
    { sleep 0.2; printf 'b1\nb2'; } | nc -N 127.0.0.1 "$port" &
    p2=$!
    wait "$p1" "$p2"
    wait_lines "$T/out" 5
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$(sort "$T/out")" "$(printf 'a1\na2-end\na3\nb1\nb2')"
    assert_equal "$(grep a "$T/out" | tr '\n' ' ')" "a1 a2-end a3 "
    assert_equal "$(cat "$T/err")" ""
}

# bound_addr PORT: the local address of the socket listening on PORT.
bound_addr() {
    ss -Hltn "sport = :$1" | awk '{ print $4 }'
}

@test "recv: --listen PORT binds loopback only; an address given is used" {
    port=$(free_port)
    bg_source "$T/out" "$T/err" --listen "$port" -b 100ms
    wait_port "$port"
    assert_equal "$(bound_addr "$port")" "127.0.0.1:$port"
    printf 'local\n' | nc -N 127.0.0.1 "$port"
    wait_lines "$T/out" 1
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$(cat "$T/out")" local
    assert_equal "$(cat "$T/err")" ""

    port=$(free_port)
    bg_source "$T/out" "$T/err" --listen "0.0.0.0:$port" -b 100ms
    wait_port "$port"
    assert_equal "$(bound_addr "$port")" "0.0.0.0:$port"
    stop_source
    assert_equal "$SRC_STATUS" 0
}

@test "recv: --listen on a port in use fails with exit 1" {
    port=$(free_port)
    nc -l 127.0.0.1 "$port" </dev/null >/dev/null &
    PIDS+=($!)
    wait_port "$port" || true
    run --separate-stderr sh -c "sstream-source --listen 127.0.0.1:$port | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --listen 127.0.0.1:$port: address already in use
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "recv: the live examples of the README and the man pages run as written" {
    # NetworkWordCount: 'nc -lk PORT' in one terminal (its input a fifo
    # here, for the keyboard), the word count as its client in another
    port=$(free_port)
    mkfifo "$T/typed" "$T/frames"
    nc -lk 127.0.0.1 "$port" <"$T/typed" &
    PIDS+=($!)
    exec 8>"$T/typed"
    wait_port "$port"
    sstream-source --connect "localhost:$port" -b 1s >"$T/frames" 2>"$T/err" &
    SRC=$!
    PIDS+=($SRC)
    sstream-map --flat-map words --count-by-value <"$T/frames" |
        sstream-sink --print >"$T/out" &
    SINK=$!
    PIDS+=($SINK)
    for _ in $(seq 100); do
        [ -n "$(ss -Htn state established "( sport = :$port )")" ] && break
        sleep 0.05
    done
    printf 'to be or not to be\n' >&8
    for _ in $(seq 100); do grep -q '(to,2)' "$T/out" && break; sleep 0.1; done
    stop_source
    exec 8>&-
    assert_equal "$SRC_STATUS" 0
    assert_equal "$SINK_STATUS" 0
    assert_equal "$(grep '^(' "$T/out")" "$(printf '(to,2)\n(be,2)\n(or,1)\n(not,1)')"
    assert_equal "$(grep -v '^sstream-source: --connect localhost:[0-9]*: connection refused; retrying in ' "$T/err")" ""

    # producers push: 'sstream-source --listen PORT | sstream-sink --lines'
    # in one terminal, 'nc -N localhost PORT < file' from others
    port=$(free_port)
    printf 'GET /\nGET /a\n' >"$T/access.log"
    bg_source "$T/out2" "$T/err2" --listen "$port"
    wait_port "$port"
    nc -N localhost "$port" <"$T/access.log"
    nc -N localhost "$port" <"$T/access.log"
    wait_lines "$T/out2" 4
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$(cat "$T/out2")" "$(cat "$T/access.log" "$T/access.log")"
}

# ---- --watch ----

@test "recv: --watch reads files moved in and written slowly; ignores hidden, temp and old ones" {
    mkdir "$T/in"
    printf 'there at start\n' >"$T/in/old"
    bg_source "$T/out" "$T/err" --watch "$T/in" -b 100ms --settle 500ms
    sleep 0.5
    printf 'm1\nm2\n' >"$T/stage"
    mv "$T/stage" "$T/in/moved"
    printf 'hidden\n' >"$T/in/.hidden"
    printf 'temp\n' >"$T/in/being-copied.tmp"
    # written slowly, pauses shorter than --settle: read whole, once done
    for i in 1 2 3; do
        printf 'slow %s\n' "$i" >>"$T/in/slow"
        sleep 0.2
    done
    wait_lines "$T/out" 5
    sleep 0.5 # time to read anything that should not be read
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$(cat "$T/out")" "$(printf 'm1\nm2\nslow 1\nslow 2\nslow 3')"
    assert_equal "$(cat "$T/err")" ""
}

@test "recv: --watch reads a slowly written file whole, in one batch" {
    mkdir "$T/in"
    mkfifo "$T/frames"
    sstream-source --watch "$T/in" -b 100ms --settle 1500ms >"$T/frames" &
    SRC=$!
    PIDS+=($SRC)
    sstream-sink --tsv <"$T/frames" >"$T/out" &
    SINK=$!
    sleep 0.3
    for i in 1 2 3 4; do
        printf 'line %s\n' "$i" >>"$T/in/log"
        sleep 0.25
    done
    wait_lines "$T/out" 4
    kill -TERM "$SRC"
    wait "$SRC" "$SINK"
    assert_equal "$(cut -f2 "$T/out")" "$(printf 'line 1\nline 2\nline 3\nline 4')"
    assert_equal "$(cut -f1 "$T/out" | sort -u | wc -l)" 1
}

@test "recv: --watch reports an unreadable file, counts it, and reads the rest" {
    mkdir "$T/in"
    printf 'a\n' >"$T/in/1-good"
    printf 'secret\n' >"$T/in/2-locked"
    printf 'b\n' >"$T/in/3-good"
    chmod 000 "$T/in/2-locked"
    touch -d '-1 min' "$T/in"/*
    cmd="sstream-source --watch '$T/in' --once | sstream-sink --lines; exit \${PIPESTATUS[0]}"
    if [ "$(id -u)" = 0 ]; then
        # root reads anything: drop the capabilities that let it
        run --separate-stderr capsh --drop=cap_dac_override,cap_dac_read_search -- -c "$cmd"
    else
        run --separate-stderr bash -c "$cmd"
    fi
    assert_failure 1
    assert_output "$(printf 'a\nb')"
    assert_equal "$stderr" "sstream-source: --watch $T/in: cannot open '$T/in/2-locked': Permission denied
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "recv: --watch on a missing folder fails with exit 1" {
    run --separate-stderr sh -c "sstream-source --watch '$T/nope' | sstream-sink --save-as-text-files '$T/out/b'"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --watch: cannot open '$T/nope': No such file or directory
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    assert_equal "$(ls -A "$T/out" 2>/dev/null)" ""
}

@test "recv: cron mode: three --once runs, each file read exactly once" {
    # sstream-state is not built yet: each run's exact output stands in
    # for the running totals, and the ledger says what was counted.
    mkdir "$T/in"
    cron() {
        sstream-source --watch "$T/in" --once --state "$T/state" -b 100ms --settle 200ms |
            sstream-sink --lines
    }
    printf 'apple\npear\n' >"$T/in/day1-a"
    printf 'apple\n' >"$T/in/day1-b"
    touch -d '-1 min' "$T/in"/*
    run --separate-stderr cron
    assert_success
    assert_output "$(printf 'apple\npear\napple')"
    assert_equal "$stderr" ""

    printf 'fig\n' >"$T/in/day2"
    printf 'skip\n' >"$T/in/.day2.partial"
    touch -d '-1 min' "$T/in/day2"
    run --separate-stderr cron
    assert_success
    assert_output "fig"

    printf 'pear\napple\n' >"$T/in/day3" # written just now: waits to settle
    run --separate-stderr cron
    assert_success
    assert_output "$(printf 'pear\napple')"
    assert_equal "$(cat "$T/state/ledger")" "$(printf 'day1-a\nday1-b\nday2\nday3')"
    assert_equal "$(ls -A "$T/state" | tr "\n" " ")" "last-batch-time ledger lock "

    run --separate-stderr cron # nothing new
    assert_success
    assert_output ""
}

@test "recv: cron mode: a run over a --state folder in use exits 1 at once; no file is read twice" {
    mkdir "$T/in"
    printf 'a\n' >"$T/in/old"
    touch -d '-1 min' "$T/in/old"
    printf 'b\n' >"$T/in/new" # written just now: the first run waits 2 s
    mkfifo "$T/frames"
    sstream-source --watch "$T/in" --once --state "$T/state" -b 100ms --settle 2s >"$T/frames" 2>"$T/err1" &
    first=$!
    PIDS+=($first)
    sstream-sink --lines <"$T/frames" >"$T/out1" &
    sink=$!
    for _ in $(seq 50); do [ -s "$T/state/lock" ] && break; sleep 0.1; done
    run --separate-stderr bash -c "set -o pipefail; sstream-source --watch '$T/in' --once --state '$T/state' -b 100ms | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --state: '$T/state' is in use by another sstream-source (pid $first): this run reads nothing and ends
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    wait "$first" "$sink"
    assert_equal "$(cat "$T/out1")" "$(printf 'a\nb')"
    assert_equal "$(cat "$T/err1")" ""
    assert_equal "$(cat "$T/state/ledger")" "$(printf 'new\nold')"
}

@test "recv: --once names a file that keeps changing, and gives it up after --max-wait" {
    mkdir "$T/in"
    printf 'a\n' >"$T/in/done"
    touch -d '-1 min' "$T/in/done"
    # a writer that appends every 0.1 s for up to 20 s, until told to stop
    (for _ in $(seq 200); do [ -e "$T/stop" ] && break; echo x >>"$T/in/growing"; sleep 0.1; done) &
    writer=$!
    PIDS+=($writer)
    run --separate-stderr bash -c "set -o pipefail; sstream-source --watch '$T/in' --once --state '$T/state' -b 100ms --settle 300ms --max-wait 1500ms | sstream-sink --lines"
    touch "$T/stop"
    wait "$writer"
    assert_failure 1
    assert_output a
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-source: --watch $T/in: waiting for '$T/in/growing' to stop changing (--settle 300ms)" \
        "sstream-source: --watch $T/in: '$T/in/growing' still changing after --max-wait 1500ms: left for the next run" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
    assert_equal "$(cat "$T/state/ledger")" done
    # once it is whole, the next run reads it
    touch -d '-1 min' "$T/in/growing"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --watch '$T/in' --once --state '$T/state' -b 100ms | sstream-sink --lines | sort -u"
    assert_success
    assert_output x
    assert_equal "$stderr" ""
}

# ---- --exec ----

@test "recv: --exec reads a command's stdout; its failure drops the open batch, exit 1" {
    run --separate-stderr bash -c "sstream-source --exec 'printf \"x\\ny\"; exit 3' | sstream-sink --lines; exit \${PIPESTATUS[0]}"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --exec 'printf \"x\\ny\"; exit 3': exited with status 3
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    run --separate-stderr bash -c "sstream-source --exec 'printf \"x\\ny\"' | sstream-sink --lines"
    assert_success
    assert_output "$(printf 'x\ny')"
}

@test "recv: --exec-restart runs the command again, with backoff" {
    bg_source "$T/out" "$T/err" --exec "echo run >>'$T/runs'; wc -l <'$T/runs'" --exec-restart -b 100ms
    wait_lines "$T/out" 3
    stop_source
    assert_equal "$SRC_STATUS" 0
    assert_equal "$(head -3 "$T/out" | tr -d ' ')" "$(printf '1\n2\n3')"
    run cat "$T/err"
    assert_line --index 0 "sstream-source: --exec 'echo run >>'$T/runs'; wc -l <'$T/runs'': ended; restarting in 250ms"
    assert_line --index 1 "sstream-source: --exec 'echo run >>'$T/runs'; wc -l <'$T/runs'': ended; restarting in 500ms"
}

# ---- union, rate ----

@test "recv: several inputs in one source: records unioned, the stream ends with the last" {
    port=$(free_port)
    printf 'net1\nnet2\n' >"$T/f"
    serve_file "$port" "$T/f"
    wait_port "$port"
    run --separate-stderr bash -c "sstream-source --exec 'echo cmd1; sleep 0.3; echo cmd2' --connect 127.0.0.1:$port --connect-once --exec 'echo other' -b 100ms | sstream-sink --lines"
    assert_success
    assert_equal "$(sort <<<"$output")" "$(printf 'cmd1\ncmd2\nnet1\nnet2\nother')"
    assert_equal "$(grep cmd <<<"$output" | tr '\n' ' ')" "cmd1 cmd2 "
    assert_equal "$stderr" ""
}

@test "recv: --max-rate holds the source to N records a second" {
    # 30 records at 10/s take about 3 s; each 1 s batch holds about 10
    # (13 leaves room for timers), the first, 1 to 2 s long, up to 20
    # and the first tenth-second burst.
    run --separate-stderr bash -c "seq 1 30 | sstream-source --max-rate 10 -b 1s | sstream-sink --dump"
    assert_success
    counts=$(grep '^@.* batch ' <<<"$output" | grep -o 'count=[0-9]*' | cut -d= -f2)
    n=0
    for c in $counts; do
        n=$((n + 1))
        ((c <= (n == 1 ? 23 : 13)))
    done
    (($(grep -c '^@.* batch ' <<<"$output") >= 2))
    assert_equal "$(grep -o '"[0-9]*"' <<<"$output" | tr -d '"' | tr '\n' ' ')" "$(seq 1 30 | tr '\n' ' ')"
}

# ---- usage ----

@test "recv: usage errors of the receiver options exit 2 with a message" {
    run --separate-stderr sstream-source --connect localhost
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --connect: 'localhost' is not HOST:PORT"
    run --separate-stderr sstream-source --listen host:99999
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --listen: 'host:99999' is not [HOST:]PORT"
    run --separate-stderr sstream-source --exec ''
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --exec: empty command"
    run --separate-stderr sstream-source --once
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --once: needs --watch or --kafka"
    run --separate-stderr sstream-source --settle 1s --exec true
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --settle: needs --watch"
    run --separate-stderr sstream-source --watch a --watch b --state "$T/s"
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --state: keeps the ledger of one --watch folder"
    run --separate-stderr sstream-source --connect-once
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --connect-once: needs --connect"
    run --separate-stderr sstream-source --exec-restart
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --exec-restart: needs --exec"
    run --separate-stderr sstream-source --replay "$T" --listen 9
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --replay is the only input when given (no --connect, --listen, --watch, --exec, --max-rate)"
    run --separate-stderr sstream-source --max-rate 0
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --max-rate: '0' is not a whole number from 1 to 1000000000"
    run --separate-stderr sstream-source --watch . --settle 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --settle: '1x' is not a duration (try 500ms or 2s)"
    run --separate-stderr sstream-source --watch . --max-wait 1m
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --max-wait: needs --once"
    run --separate-stderr sstream-source --watch . --once --max-wait 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --max-wait: '1x' is not a duration (try 500ms or 2s)"
}
