#!/usr/bin/env bats
# NATS JetStream in and out: sstream-source --nats and sstream-sink --nats
# against the real nats-server -js, started by each test on 127.0.0.1
# with a port of its own and its store in the test's temp dir. Debian has
# no `nats` CLI: tests/helpers/nats-js (libnats, independent of the code
# under test) makes streams and consumers, publishes and reads them.

load helpers/common

NATS_JS="$SSTREAM_BIN/tests/nats-js"

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
    PATH="$PATH:/usr/sbin"
    command -v nats-server >/dev/null ||
        skip "nats-server is not installed (scripts/deps test)"
    [ -x "$NATS_JS" ] || skip "no $NATS_JS (libnats-dev missing at build)"
}

teardown() {
    kill_bg
    # a server a README block started and did not stop (it failed early)
    [ -z "${PORT:-}" ] || kill_listeners "$PORT"
}

# server_start: nats-server -js on a free port; URL is its address.
server_start() {
    PORT=$(free_port)
    URL="nats://127.0.0.1:$PORT"
    nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$T/store" \
        2>"$T/server.err" >&2 &
    PIDS+=($!)
    wait_port "$PORT"
}

# The peer is not the code under test: under the sanitizer builds, a
# message libnats 3.4 keeps past js_PublishAsyncComplete() is its leak,
# not ours (seen once in 5000 publishes).
js() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        "$NATS_JS" "$URL" "$@"
}

# A stream EV of ev.>, and a durable pull consumer wc that redelivers what
# is not acknowledged within 2 s.
stream_start() {
    server_start
    js stream-add EV 'ev.>'
    js consumer-add EV wc 2000
}

# wait_drained: until the consumer has nothing left to deliver and nothing
# unacknowledged (at most 30 s): whatever was to come twice has come.
wait_drained() {
    local i
    for i in $(seq 1 300); do
        [ "$(js info EV wc)" = "pending 0 ack_pending 0" ] && return 0
        sleep 0.1
    done
    echo "the consumer did not drain: $(js info EV wc)" >&2
    return 1
}

# wait_files N: until $T/out/part-* hold N lines (at most 60 s: a
# sanitizer build beside other tests on a shared machine).
wait_files() {
    local i
    for i in $(seq 1 600); do
        [ "$(cat "$T"/out/part-* 2>/dev/null | wc -l)" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1 lines in $T/out" >&2
    return 1
}

# src_bg NAME ARGS...: sstream-source ARGS (in a pipeline, in the
# background), its pid in $T/NAME.pid; source_pid NAME prints it.
src_bg() {
    local name=$1
    shift
    bash -c 'echo $$ >"$0"; exec sstream-source "$@"' "$T/$name.pid" "$@"
}

source_pid() {
    local i
    for i in $(seq 1 100); do
        [ -s "$T/$1.pid" ] && break
        sleep 0.05
    done
    cat "$T/$1.pid"
}

# words [N]: N (600) lines of three words.
words() {
    local i
    for i in $(seq 1 "${1:-600}"); do
        echo "w$((i % 13)) x$((i % 7)) the"
    done
}

expected_counts() {
    words "$@" | tr ' ' '\n' | sort | uniq -c | awk '{ print $2 "\t" $1 }'
}

totals() {
    awk -F'\t' '{ n[$1] += $2 } END { for (w in n) print w "\t" n[w] }' "$@" |
        sort
}

@test "nats: usage errors exit 2 with a message" {
    run --separate-stderr sstream-source --nats nats://a:1 --consumer c
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --nats: needs --stream"
    run --separate-stderr sstream-source --nats nats://a:1 --stream s
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --nats: needs --consumer"
    run --separate-stderr sstream-source --stream s
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --stream: needs --nats"
    run --separate-stderr sstream-source --subject 'a.>'
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --subject: needs --nats"
    run --separate-stderr sstream-source --nats nats://a:1 --stream a.b \
        --consumer c
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --stream: 'a.b' is not a stream name"
    run --separate-stderr sstream-source --nats '' --stream s --consumer c
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --nats: empty URL (try nats://127.0.0.1:4222)"
    run --separate-stderr sstream-sink --nats nats://a:1
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --nats: needs --subject"
    run --separate-stderr sstream-sink --subject s
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --subject: needs --nats"
    run --separate-stderr sstream-sink --nats nats://a:1 --subject 'a.>'
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-sink: --subject: 'a.>': * and > are for subscribing, not publishing"
}

@test "nats: word count from a JetStream consumer, exact" {
    stream_start
    words | js pub ev.words
    mkfifo "$T/frames"
    sstream-source --nats "$URL" --stream EV --consumer wc -b 200ms \
        >"$T/frames" 2>"$T/src.err" &
    local src=$!
    PIDS+=($src)
    sstream-map --flat-map words --pair 1 --reduce-by-key sum <"$T/frames" |
        sstream-sink --lines >"$T/out" &
    local sink=$!
    PIDS+=($sink)
    wait_drained
    kill -TERM "$src"
    wait "$src"
    wait "$sink"
    assert_equal "$(cat "$T/src.err")" ""
    assert_equal "$(totals "$T/out")" "$(expected_counts)"
}

@test "nats: two pipelines on one consumer share the messages, together exact" {
    stream_start
    local pipes=()
    for m in a b; do
        src_bg "$m" --nats "$URL" --stream EV --consumer wc -b 200ms \
            --stats 2>"$T/$m.err" |
            sstream-map --flat-map words --pair 1 --reduce-by-key sum |
            sstream-sink --lines >"$T/$m.out" &
        pipes+=($!)
    done
    PIDS+=("${pipes[@]}")
    # both bound to the consumer (--stats speaks after each batch)
    for m in a b; do
        for i in $(seq 1 100); do
            grep -q 'nats: pending' "$T/$m.err" && break
            sleep 0.05
        done
    done
    # more than one fetch (1000 messages) takes: both get some
    words 5000 | js pub ev.words
    wait_drained
    kill -TERM "$(source_pid a)" "$(source_pid b)"
    wait "${pipes[@]}"
    assert_equal "$(totals "$T/a.out" "$T/b.out")" "$(expected_counts 5000)"
    [ -s "$T/a.out" ] && [ -s "$T/b.out" ]
}

@test "nats: the source dies after logging a batch, before its acks: the restart counts nothing twice" {
    stream_start
    seq 1 2000 | js pub ev.lines
    mkdir "$T/out"
    # the 6th batch is synced to the log, then the source is killed: its
    # messages are in the log, unacknowledged; the server delivers them
    # again after the consumer's 2 s AckWait
    run bash -c "SSTREAM_TEST_CRASH_AT=wal-synced:6 sstream-source \
        --nats '$URL' --stream EV --consumer wc -b 100ms --max-rate 2000 \
        --wal '$T/wal' |
        sstream-sink --save-as-text-files '$T/out/part' --commit '$T/wal'"
    assert_failure
    read_before=$(cat "$T"/out/part-* | wc -l)
    [ "$read_before" -lt 2000 ]
    src_bg again --nats "$URL" --stream EV --consumer wc -b 100ms \
        --wal "$T/wal" 2>"$T/src.err" |
        sstream-sink --save-as-text-files "$T/out/part" --commit "$T/wal" &
    PIDS+=($!)
    local src
    src=$(source_pid again)
    wait_files 2000
    wait_drained
    kill -TERM "$src"
    wait "${PIDS[-1]}"
    assert_equal "$(cat "$T"/out/part-* | sort -n)" "$(seq 1 2000)"
    grep -q 'uncommitted batch.* sent again from the log' "$T/src.err"
}

@test "nats: kill -9 of the source mid-stream under --wal, then a restart: exact" {
    stream_start
    seq 1 3000 | js pub ev.lines
    mkdir "$T/out"
    mkfifo "$T/frames"
    sstream-source --nats "$URL" --stream EV --consumer wc -b 100ms \
        --max-rate 2000 --wal "$T/wal" >"$T/frames" 2>"$T/src.err" &
    local src=$!
    PIDS+=($src)
    sstream-sink --save-as-text-files "$T/out/part" --commit "$T/wal" \
        <"$T/frames" 2>"$T/sink.err" &
    local sink=$!
    PIDS+=($sink)
    wait_files 500
    kill -9 "$src"
    wait "$sink" || true
    [ "$(cat "$T"/out/part-* | wc -l)" -lt 3000 ]
    src_bg again --nats "$URL" --stream EV --consumer wc -b 100ms \
        --wal "$T/wal" 2>"$T/src2.err" |
        sstream-sink --save-as-text-files "$T/out/part" --commit "$T/wal" &
    PIDS+=($!)
    src=$(source_pid again)
    wait_files 3000
    wait_drained
    kill -TERM "$src"
    wait "${PIDS[-1]}"
    assert_equal "$(cat "$T"/out/part-* | sort -n)" "$(seq 1 3000)"
}

@test "nats: the sink's message ids make a replayed batch a duplicate the stream drops" {
    server_start
    js stream-add COUNTS 'counts.>'
    batches "$T/in" "a b a" "c a" "b" "d" "e e"
    sink=(sstream-sink --nats "$URL" --subject 'counts.{key}' --commit "$T/wal")
    # the sink dies after batch 3 is in the stream, before its --commit
    run bash -c "sstream-source --replay '$T/in' -b 1s --wal '$T/wal' |
        sstream-map --pair 1 --reduce-by-key sum |
        SSTREAM_TEST_CRASH_AT=wal-commit:3 ${sink[*]}"
    assert_failure
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/in' -b 1s --wal '$T/wal' |
        sstream-map --pair 1 --reduce-by-key sum | ${sink[*]}"
    assert_success
    assert_equal "$stderr" \
        "sstream-source: --wal: 3 uncommitted batches (3000 to 5000) sent again from the log"
    # batch 3 sent twice, held once
    run -0 js dump COUNTS
    assert_output - <<'EOF'
counts.a 2
counts.b 1
counts.c 1
counts.a 1
counts.b 1
counts.d 1
counts.e 2
EOF
}

@test "nats: a missing stream or consumer, or another filter, is exit 1 with what to do" {
    server_start
    run --separate-stderr timeout 30 sstream-source --nats "$URL" \
        --stream EV --consumer wc --subject 'ev.>'
    assert_failure 1
    assert_equal "$stderr" \
        "sstream-source: --stream: 'EV' does not exist on '$URL' (create it: nats stream add EV --subjects 'ev.>')"
    js stream-add EV 'ev.>'
    run --separate-stderr timeout 30 sstream-source --nats "$URL" \
        --stream EV --consumer wc
    assert_failure 1
    assert_equal "$stderr" \
        "sstream-source: --consumer: 'wc' does not exist on stream 'EV' (create it: nats consumer add EV wc --pull --ack explicit)"
    js consumer-add EV wc 2000
    run --separate-stderr timeout 30 sstream-source --nats "$URL" \
        --stream EV --consumer wc --subject 'ev.a'
    assert_failure 1
    assert_equal "$stderr" \
        "sstream-source: --subject: consumer 'wc' takes 'every subject of the stream', not 'ev.a'"
    batches "$T/in" "a"
    # Under ASan, libnats 3.4 at times leaks the message it was given
    # (natsMsg_create and its header table) when the server answers "no
    # responders" to an async publish: seen once in four sanitizer runs,
    # cause inside the library not found (see the issue 19 note). The
    # leak check stays on for every other sink run in this file.
    run --separate-stderr bash -c "sstream-source --replay '$T/in' -b 1s |
        ASAN_OPTIONS='${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0' \
        timeout 30 sstream-sink --nats '$URL' --subject other.x"
    assert_failure 1
    assert_equal "$stderr" \
        "sstream-sink: --subject: 'other.x': no stream on '$URL' takes it (create one: nats stream add NAME --subjects 'other.x')"
}

@test "nats: an unreachable server is said once and retried until stopped; --stats counts" {
    # the stream and consumer are made first, in the store the server
    # starts from again: the source may reach it at once
    server_start
    js stream-add EV 'ev.>'
    js consumer-add EV wc 2000
    kill -TERM "${PIDS[0]}"
    wait "${PIDS[0]}" || true
    src_bg run --nats "$URL" --stream EV --consumer wc -b 200ms --stats \
        2>"$T/err" | sstream-sink --lines >"$T/out" &
    PIDS+=($!)
    local src
    src=$(source_pid run)
    for i in $(seq 1 100); do
        grep -q 'cannot reach' "$T/err" && break
        sleep 0.05
    done
    nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$T/store" 2>/dev/null &
    PIDS+=($!)
    wait_port "$PORT"
    seq 1 5 | js pub ev.n
    wait_lines "$T/out" 5
    kill -TERM "$src"
    wait "${PIDS[1]}"
    assert_equal "$(cat "$T/out")" "$(seq 1 5)"
    assert_equal "$(grep -c "cannot reach '$URL' (.*): retrying" "$T/err")" 1
    grep -q "^sstream-source: --nats: '$URL' reached$" "$T/err"
    grep -q '^sstream-source: --nats: pending 0, ack pending 0, redelivered 0$' \
        "$T/err"
}

@test "nats: the README's word count over NATS JetStream runs as written" {
    mkdir -p "$T/r/build"
    cp -r "$REPO/examples" "$T/r/"
    ln -s "$SSTREAM_BIN/tests" "$T/r/build/tests"
    PORT=$(free_port)
    readme_block "Word count over MQTT" 2 | sed "s/4223/$PORT/g" >"$T/r/run.sh"
    grep -q "nats-server -js -a 127.0.0.1 -p $PORT" "$T/r/run.sh"
    # the server the block starts, stopped by teardown if the block fails
    run -0 bash -c "cd '$T/r' && timeout 60 bash run.sh 2>&1"
    assert_output - <<'EOF2'
26 a
16 the
12 stream
EOF2
}

@test "nats: a batch held back by the consumer's MaxAckPending is said, with the fix" {
    server_start
    js stream-add EV 'ev.>'
    js consumer-add EV wc 5000 10
    seq 1 30 | js pub ev.n
    src_bg run --nats "$URL" --stream EV --consumer wc -b 300ms 2>"$T/err" |
        sstream-sink --lines >"$T/out" &
    PIDS+=($!)
    wait_lines "$T/out" 30
    kill -TERM "$(source_pid run)"
    wait "${PIDS[-1]}"
    assert_equal "$(cat "$T/out")" "$(seq 1 30)"
    assert_equal "$(cat "$T/err")" \
        "sstream-source: --nats: consumer 'wc' lets 10 messages wait for their ack (MaxAckPending), and a batch holds them all: at most that many a batch; raise it (nats consumer edit EV wc --max-pending N)"
}

# cluster_start: three nats-server -js on 127.0.0.1, one JetStream
# cluster. Each server picks its own client and monitoring ports (-1,
# written to a ports file), and the second and third their route ports:
# a port chosen here and bound later can be taken meanwhile by a client
# of a test running beside this one. The first server's route port, the
# one the others are given, is the only one chosen here. URL lists the
# three, CPORTS and MPORTS their client and monitoring ports, CPIDS their
# pids.
cluster_start() {
    local i seed f
    CPORTS=() MPORTS=() CPIDS=()
    seed=$(free_port)
    mkdir -p "$T/ports"
    for i in 0 1 2; do
        nats-server -js -a 127.0.0.1 -p -1 -m -1 -n "s$i" \
            --cluster_name sst --routes "nats://127.0.0.1:$seed" \
            --cluster "nats://127.0.0.1:$([ "$i" = 0 ] && echo "$seed" || echo -1)" \
            -sd "$T/s$i" --ports_file_dir "$T/ports" 2>"$T/s$i.err" >&2 &
        CPIDS+=($!)
        PIDS+=($!)
    done
    for i in 0 1 2; do
        f="$T/ports/nats-server_${CPIDS[i]}.ports"
        until_ok test -s "$f"
        CPORTS+=("$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["nats"][0].rsplit(":", 1)[1])' "$f")")
        MPORTS+=("$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["monitoring"][0].rsplit(":", 1)[1])' "$f")")
    done
    URL=$(printf 'nats://127.0.0.1:%s,' "${CPORTS[@]}")
    URL=${URL%,}
}

# until_ok CMD...: CMD again until it succeeds (at most 60 s).
until_ok() {
    local i
    for i in $(seq 1 300); do
        "$@" 2>"$T/until.err" && return 0
        sleep 0.2
    done
    echo "gave up on $*: $(cat "$T/until.err")" >&2
    return 1
}

# drained: the consumer EV/wc has nothing left to deliver and nothing
# unacknowledged.
drained() {
    [ "$(js info EV wc)" = "pending 0 ack_pending 0" ]
}

# parts N: $T/out holds N part files that are not empty.
parts() {
    [ "$(find "$T/out" -name 'part-*' -size +0 | wc -l)" -ge "$1" ]
}

# connected_to: the index (0 to 2) of the server whose connection list
# (its monitoring port's /connz) holds sstream-source, once one does.
connected_to() {
    local i k
    for i in $(seq 1 300); do
        for k in 0 1 2; do
            "$PY" - "${MPORTS[k]}" <<'PY' 2>/dev/null && echo "$k" && return 0
import json, sys, urllib.request
u = "http://127.0.0.1:%s/connz" % sys.argv[1]
conns = json.load(urllib.request.urlopen(u, timeout=2))["connections"]
sys.exit(0 if any(c.get("name") == "sstream-source" for c in conns) else 1)
PY
        done
        sleep 0.1
    done
    echo "no server has sstream-source connected" >&2
    return 1
}

# lead_on K: the consumer EV/wc's leader moved to server K (at most 20
# step-downs, each electing one of the other two at random): the server
# the test kills is then the consumer's leader, the failover that costs
# most, every run.
lead_on() {
    local i
    for i in $(seq 1 20); do
        until_ok js ready EV wc
        [ "$(js leader EV wc)" = "s$1" ] && return 0
        js stepdown EV wc || true # the next round sees where it went
        sleep 0.2
    done
    echo "consumer leader not moved to s$1: $(js leader EV wc)" >&2
    return 1
}

@test "nats: three-node cluster, R3 stream: kill -9 of the server the source is on (the consumer's leader): the pipeline moves on, exact" {
    cluster_start
    until_ok js stream-add EV 'ev.>' 3
    until_ok js consumer-add EV wc 2000
    until_ok js ready EV wc
    mkdir "$T/out"
    src_bg run --nats "$URL" --stream EV --consumer wc -b 100ms \
        --max-rate 100 --wal "$T/wal" 2>"$T/src.err" |
        sstream-map --flat-map words --pair 1 --reduce-by-key sum |
        sstream-sink --save-as-text-files "$T/out/part" --commit "$T/wal" &
    PIDS+=($!)
    local pipe=$! src k
    src=$(source_pid run)
    k=$(connected_to)
    lead_on "$k"
    # 300 messages of 30 words: publishing to three servers takes a
    # fraction of the 3 s the source takes at --max-rate (messages a
    # second), so the kill below comes mid-stream
    words 3000 | paste -d ' ' - - - - - - - - - - | js pub ev.words
    # mid-stream: a few batches are out, and messages are still to be
    # delivered or acknowledged
    until_ok parts 2
    [ "$(js info EV wc)" != "pending 0 ack_pending 0" ]
    kill -9 "${CPIDS[k]}"
    wait "${CPIDS[k]}" || true
    # on another server of the three, then every message acknowledged
    [ "$(connected_to)" != "$k" ]
    until_ok drained
    kill -TERM "$src"
    wait "$pipe"
    assert_equal "$(totals "$T"/out/part-*)" "$(expected_counts 3000)"
    # the failover said (a fetch the old leader held may end in a
    # leadership change; acks sent as the server died are not confirmed),
    # and nothing else
    assert_equal "$(grep -v -e '^sstream-source: --nats: connection to' \
        -e "^sstream-source: --nats: consumer 'wc' has a new leader" \
        -e '^sstream-source: --nats: the server has not confirmed the acks' \
        "$T/src.err")" ""
    grep -q "^sstream-source: --nats: connection to 'nats://127.0.0.1:${CPORTS[k]}' lost, now on 'nats://127.0.0.1:[0-9]*'$" "$T/src.err"
}
