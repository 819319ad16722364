#!/usr/bin/env bats
# sstream-sink output operations: --save-as-text-files, --foreach,
# --connect. Input is replayed (-b 1s: batch times 1000, 2000, 3000).

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/in" "a b" "-" "c"
    PIDS=()
}

teardown() {
    kill_bg
}

@test "out: --save-as-text-files writes PREFIX-TIME.SUFFIX per batch, empty ones too" {
    mkdir "$T/out"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/out/words' --suffix txt"
    assert_success
    assert_output ""
    assert_equal "$stderr" ""
    assert_equal "$(ls -A "$T/out" | tr '\n' ' ')" "words-1000.txt words-2000.txt words-3000.txt "
    assert_equal "$(cat "$T/out/words-1000.txt")" "$(printf 'a\nb')"
    assert_equal "$(wc -c <"$T/out/words-2000.txt")" 0
    assert_equal "$(cat "$T/out/words-3000.txt")" "c"
}

@test "out: --save-as-text-files --skip-empty writes no file for an empty batch" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/out/words' --suffix txt --skip-empty"
    assert_success
    assert_equal "$stderr" ""
    # no 2000 file, and no temporary one either
    assert_equal "$(ls -A "$T/out" | tr '\n' ' ')" "words-1000.txt words-3000.txt "
    assert_equal "$(cat "$T/out/words-1000.txt")" "$(printf 'a\nb')"
    assert_equal "$(cat "$T/out/words-3000.txt")" "c"
}

@test "out: --skip-empty still commits an empty batch under --commit" {
    batches "$T/in2" "a" "-" "b" "-"
    run --separate-stderr bash -c "sstream-source --replay '$T/in2' --wal '$T/w' --batches 2 | sstream-sink --save-as-text-files '$T/out/p' --skip-empty --commit '$T/w'"
    assert_success
    assert_equal "$(ls -A "$T/out" | tr '\n' ' ')" "p-1000 "
    assert_equal "$(cat "$T/w/commit")" 2000
    run --separate-stderr bash -c "sstream-source --replay '$T/in2' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --skip-empty --commit '$T/w'"
    assert_success
    assert_equal "$(ls -A "$T/out" | tr '\n' ' ')" "p-1000 p-3000 "
    assert_equal "$(cat "$T/w/commit")" 4000
}

@test "out: --skip-empty needs --save-as-text-files, exit 2" {
    run --separate-stderr sstream-sink --lines --skip-empty
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-sink: --skip-empty: needs --save-as-text-files or --post"
}

@test "out: without --suffix the files are PREFIX-TIME; keyed records as key<TAB>value" {
    mkdir "$T/out"
    cd "$T/out"
    run --separate-stderr bash -c "sstream-sink --save-as-text-files kv <'$FIXTURES/keyed.frames'"
    assert_success
    for f in kv-*; do
        assert_equal "$(cat "$f")" "$(sstream-sink --tsv <"$FIXTURES/keyed.frames" | awk -F'\t' -v t="${f#kv-}" '$1 == t { print $2 "\t" $3 }')"
    done
    [ -n "$(ls kv-*)" ]
    assert_equal "$(ls -A | grep -cv '^kv-[0-9]*$')" 0
}

@test "out: a batch written twice yields the same file, and no temp file is left" {
    mkdir "$T/out"
    sstream-source --replay "$T/in" | sstream-sink --save-as-text-files "$T/out/w" --suffix txt
    cp -a "$T/out" "$T/first"
    printf 'changed\n' >"$T/out/w-1000.txt"
    sstream-source --replay "$T/in" | sstream-sink --save-as-text-files "$T/out/w" --suffix txt
    run diff -r "$T/first" "$T/out"
    assert_success
    assert_equal "$(ls -A "$T/out" | tr '\n' ' ')" "w-1000.txt w-2000.txt w-3000.txt "
}

@test "out: --save-as-text-files into a missing folder creates it" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/nope/w'"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(ls -A "$T/nope" | tr '\n' ' ')" "w-1000 w-2000 w-3000 "
}

@test "out: a folder removed while the sink runs is an error, not files written nowhere" {
    sstream-source --replay "$T/in" >"$T/frames"
    at=$(sstream-sink --dump <"$T/frames" | sed -n 's/^@\([0-9]*\) batch time=2000 .*/\1/p')
    mkfifo "$T/fifo"
    sstream-sink --save-as-text-files "$T/gone/w" <"$T/fifo" 2>"$T/err" &
    exec 4>"$T/fifo"
    head -c "$at" "$T/frames" >&4
    for i in $(seq 1 100); do [ -e "$T/gone/w-1000" ] && break; sleep 0.05; done
    rm -r "$T/gone"
    tail -c +$((at + 1)) "$T/frames" >&4
    exec 4>&-
    st=0
    wait $! || st=$?
    assert_equal "$(cat "$T/err")" "sstream-sink: --save-as-text-files: cannot write '$T/gone/w-2000': No such file or directory"
    assert_equal "$st" 1
}

@test "out: --foreach runs once per batch with its lines on stdin and the time in the environment" {
    run --separate-stderr bash -c "SSTREAM_BATCH_TIME=stale sstream-source --replay '$T/in' | SSTREAM_BATCH_TIME=stale sstream-sink --foreach 'printf \"[%s] \" \"\$SSTREAM_BATCH_TIME\"; tr \"\\n\" , ; echo; env | grep -c ^SSTREAM_BATCH_TIME='"
    assert_success
    assert_output - <<'EOF'
[1000] a,b,
1
[2000] 
1
[3000] c,
1
EOF
    assert_equal "$stderr" ""
}

@test "out: --foreach retries a failing command with the same stdin" {
    # fails twice, then succeeds: each try sees the whole batch
    cat >"$T/try.sh" <<EOF
cat >>'$T/seen'
n=\$(cat '$T/n' 2>/dev/null || echo 0)
echo \$((n + 1)) >'$T/n'
[ \$n -ge 2 ]
EOF
    cmd="sh $T/try.sh"
    batches "$T/one" "x y"
    run --separate-stderr bash -c "sstream-source --replay '$T/one' | sstream-sink --foreach '$cmd' --retries 2"
    assert_success
    assert_equal "$(cat "$T/seen")" "$(printf 'x\ny\nx\ny\nx\ny')"
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-sink: --foreach: batch 1000: '$cmd' exited with status 1; retry 1 of 2" \
        "sstream-sink: --foreach: batch 1000: '$cmd' exited with status 1; retry 2 of 2")"
}

@test "out: --foreach that keeps failing stops the sink with exit 1, naming the batch" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --foreach 'cat >>$T/seen; [ \$SSTREAM_BATCH_TIME != 2000 ]' --retries 1; exit \${PIPESTATUS[1]}"
    assert_failure 1
    assert_equal "$stderr" "$(printf '%s\n' \
        "sstream-sink: --foreach: batch 2000: 'cat >>$T/seen; [ \$SSTREAM_BATCH_TIME != 2000 ]' exited with status 1; retry 1 of 1" \
        "sstream-sink: --foreach: batch 2000: 'cat >>$T/seen; [ \$SSTREAM_BATCH_TIME != 2000 ]' exited with status 1 (retries used up)")"
    assert_equal "$(cat "$T/seen")" "$(printf 'a\nb')" # batch 3000 never ran
}

@test "out: --foreach killed by a signal is reported as such" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --foreach 'kill -9 \$\$'; exit \${PIPESTATUS[1]}"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --foreach: batch 1000: 'kill -9 \$\$' killed by signal 9"
}

@test "out: outputs combine: --lines on stdout, files, then --foreach" {
    mkdir "$T/out"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --lines --save-as-text-files '$T/out/w' --foreach 'echo \"foreach sees \$(cat $T/out/w-\$SSTREAM_BATCH_TIME | wc -l)\"'"
    assert_success
    assert_output - <<'EOF'
a
b
foreach sees 2
foreach sees 0
c
foreach sees 1
EOF
}

@test "out: --connect pushes the lines to a server" {
    port=$(free_port)
    socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$T/got" &
    server=$!
    PIDS+=($server)
    wait_port "$port"
    run --separate-stderr bash -c "sstream-sink --connect 127.0.0.1:$port <'$FIXTURES/keyed.frames'"
    assert_success
    assert_equal "$stderr" ""
    wait "$server"
    assert_equal "$(cat "$T/got")" "$(sstream-sink --lines <"$FIXTURES/keyed.frames")"
}

@test "out: --connect-timeout gives up a server that does not answer, exit 1" {
    coproc SILENTP { "$PY" "$REPO/tests/helpers/silent-server.py"; }
    PIDS+=($SILENTP_PID)
    read -r port <&"${SILENTP[0]}"
    SECONDS=0
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --connect 127.0.0.1:$port --connect-timeout 400ms"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --connect 127.0.0.1:$port: no answer within 400ms (--connect-timeout)"
    [ "$SECONDS" -lt 10 ]
    run --separate-stderr sstream-sink --lines --connect-timeout 1s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-sink: --connect-timeout: needs --connect or --post"
}

@test "out: --connect to a port nobody listens on fails with exit 1" {
    port=$(free_port)
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --connect 127.0.0.1:$port"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --connect 127.0.0.1:$port: connection refused"
}

# reconnect_setup: three batches, fed to a sink on a fifo one by one
# (fd 4), so that the server can go away between them.
reconnect_setup() {
    port=$(free_port)
    "$PY" "$TESTS_DIR/helpers/frames.py" --no-end "a b" >"$T/b1"
    "$PY" "$TESTS_DIR/helpers/frames.py" --no-end --skip 1 "a b" "c d" >"$T/b2"
    "$PY" "$TESTS_DIR/helpers/frames.py" --skip 2 "a b" "c d" e >"$T/b3"
    mkfifo "$T/fifo"
}

# serve FILE: a one-connection server on $port that writes what it gets
# to FILE.
serve() {
    socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "CREATE:$1" &
    server=$!
    PIDS+=($server)
    wait_port "$port"
}

@test "out: --connect reconnects when the server goes away and comes back; no batch lost" {
    reconnect_setup
    serve "$T/got1"
    sstream-sink --connect "127.0.0.1:$port" <"$T/fifo" 2>"$T/err" &
    sink=$!
    PIDS+=($sink)
    exec 4>"$T/fifo"
    cat "$T/b1" >&4
    wait_lines "$T/got1" 2
    kill "$server"
    wait "$server" || true
    serve "$T/got2" # the same port, back
    cat "$T/b2" "$T/b3" >&4
    exec 4>&-
    wait "$sink"
    wait "$server"
    assert_equal "$(cat "$T/got1")" "$(printf 'a\nb')"
    assert_equal "$(cat "$T/got2")" "$(printf 'c\nd\ne')"
    assert_equal "$(cat "$T/err")" "sstream-sink: --connect 127.0.0.1:$port: connection closed; reconnecting in 250ms
sstream-sink: --connect 127.0.0.1:$port: connected"
}

@test "out: --connect: a server that dies with a batch unread gets it again, and it is said" {
    # A server that reads nothing, killed: its kernel resets the
    # connection, and what it held is lost. The sink sends that batch
    # again on the new connection and says so.
    reconnect_setup
    "$PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); c, _ = s.accept()
open(sys.argv[2], "w").close(); time.sleep(600)' "$port" "$T/accepted" &
    server=$!
    PIDS+=($server)
    wait_port "$port"
    sstream-sink --connect "127.0.0.1:$port" <"$T/fifo" 2>"$T/err" &
    sink=$!
    PIDS+=($sink)
    exec 4>"$T/fifo"
    cat "$T/b1" >&4
    for _ in $(seq 100); do [ -e "$T/accepted" ] && break; sleep 0.1; done
    # the batch is in the server's kernel, unread, when it dies
    for _ in $(seq 100); do
        [ "$(ss -Htn "sport = :$port" | awk '{ print $2 }' | head -1)" != 0 ] && break
        sleep 0.1
    done
    kill "$server"
    wait "$server" || true
    serve "$T/got2"
    cat "$T/b2" "$T/b3" >&4
    exec 4>&-
    wait "$sink"
    wait "$server"
    assert_equal "$(cat "$T/got2")" "$(printf 'a\nb\nc\nd\ne')"
    assert_equal "$(cat "$T/err")" "sstream-sink: --connect 127.0.0.1:$port: connection reset by peer; reconnecting in 250ms
sstream-sink: --connect 127.0.0.1:$port: connected; batch 1000 goes again (the server may have lost it)"
}

@test "out: usage errors of the output options exit 2 with a message" {
    run --separate-stderr sstream-sink --suffix txt
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-sink: --suffix: needs --save-as-text-files"
    run --separate-stderr sstream-sink --retries 2
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-sink: --retries: needs --foreach or --post"
    run --separate-stderr sstream-sink --foreach true --retries x
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --retries: 'x' is not a whole number from 0 to 100"
    run --separate-stderr sstream-sink --connect nowhere
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --connect: 'nowhere' is not HOST:PORT"
    run --separate-stderr sstream-sink --foreach ''
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --foreach: empty command"
    run --separate-stderr sstream-sink --save-as-text-files ''
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --save-as-text-files: empty prefix"
}
