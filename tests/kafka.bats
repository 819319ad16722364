#!/usr/bin/env bats
# Kafka in and out: sstream-source --kafka and sstream-sink --kafka
# against librdkafka's mock cluster (tests/helpers/kafka-mock: the Kafka
# protocol over TCP on 127.0.0.1, each broker on a port the kernel picks),
# with kcat, an independent client, producing the input and reading the
# output. Each test starts its own cluster and stops it. Joining a group
# takes the mock coordinator's initial rebalance delay (3 s).

load helpers/common
load helpers/kafka

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
    command -v kcat >/dev/null || skip "kcat is not installed (scripts/deps test)"
    [ -x "$MOCK_BIN" ] || skip "no $MOCK_BIN (librdkafka-dev missing at build)"
}

teardown() {
    kill_bg
}

# The text of the word-count tests and its counts, by coreutils.
words() {
    local i
    for i in $(seq 1 600); do
        echo "w$((i % 13)) x$((i % 7)) the"
    done
}

expected_counts() {
    words | tr ' ' '\n' | sort | uniq -c | awk '{ print $2 "\t" $1 }'
}

# Sum per-batch counts (word<TAB>count lines) into totals.
totals() {
    awk -F'\t' '{ n[$1] += $2 } END { for (w in n) print w "\t" n[w] }' | sort
}

# Session timeouts short enough for a member killed with -9 to leave the
# group during a test.
FAST=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)

# Shorter still where one member is in the group at a time, or the one
# left is idle (its heartbeats, from librdkafka's own thread, come in time
# on a loaded machine): the mock makes a member that joins after another
# left wait the session less 1 s, and keeps a killed one for its session.
SHORT=(-X session.timeout.ms=3000 -X heartbeat.interval.ms=300)

@test "kafka: usage errors exit 2 with a message" {
    run --separate-stderr sstream-source --kafka 127.0.0.1:9092 --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --kafka: needs --topic"
    run --separate-stderr sstream-source --kafka 127.0.0.1:9092 --topic t
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --kafka: needs --group"
    run --separate-stderr sstream-source --topic t --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --topic: needs --kafka or --mqtt"
    run --separate-stderr sstream-source --kafka-key
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --kafka-key: needs --kafka"
    run --separate-stderr sstream-source -X acks=all
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: -X: needs --kafka"
    run --separate-stderr sstream-source --kafka localhost --topic t --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --kafka: 'localhost' is not HOST:PORT[,HOST:PORT...]"
    run --separate-stderr sstream-source --kafka a:1, --topic t --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --kafka: 'a:1,' is not HOST:PORT[,HOST:PORT...]"
    run --separate-stderr sstream-source --kafka a:1 --topic t,,u --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --topic: 't,,u' is not NAME[,NAME...]"
    run --separate-stderr sstream-source --kafka a:1 --topic t --group g \
        --from-beginning --from-end
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --from-beginning and --from-end: one or the other"
    run --separate-stderr sstream-source --kafka a:1 --topic t --group g \
        --kafka-key --connect a:2
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --kafka-key: keyed records come from --kafka alone"
    run --separate-stderr sstream-source --kafka a:1 --kafka b:1 --topic t \
        --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --kafka: one at most (list the brokers in one, the topics in --topic)"
    run --separate-stderr sstream-source --kafka a:1 --topic t --group g \
        -X fetch.min.bytes
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: -X: 'fetch.min.bytes' is not name=value"
    run --separate-stderr sstream-source --kafka a:1 --topic t --group g \
        -X no.such.setting=1
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: -X: No such configuration property: \"no.such.setting\""
    run --separate-stderr sstream-sink --kafka a:1
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --kafka: needs --topic"
    run --separate-stderr sstream-sink --topic t
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --topic: needs --kafka or --mqtt"
    run --separate-stderr sstream-sink --kafka a:1 --topic t,u
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-sink: --topic: 't,u' is not one topic name"
    run --separate-stderr sstream-sink --kafka :1 --topic t
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-sink: --kafka: ':1' is not HOST:PORT[,HOST:PORT...]"
}

@test "kafka: word count over a 4-partition topic, exact" {
    kafka_start -p 4 words
    words | produce words
    run --separate-stderr bash -c "set -o pipefail
        timeout 60 sstream-source --kafka '$BOOT' --topic words --group wc \
            --from-beginning --once -b 200ms |
        sstream-map --flat-map words --pair 1 --reduce-by-key sum |
        sstream-sink --lines"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(totals <<<"$output")" "$(expected_counts)"
}

@test "kafka: a second --once run of the group reads only what came since" {
    kafka_start -p 4 lines
    # more than one loop turn takes (4096 messages)
    seq 1 20000 | produce lines
    # the mock keeps a member that left until its session times out (kcat
    # -G waits the same 45 s by default): a short session for the rejoin
    run -0 bash -c "timeout 60 sstream-source --kafka '$BOOT' --topic lines --group g \
        --from-beginning --once -b 200ms ${SHORT[*]} | sstream-sink --lines | sort -n"
    assert_output "$(seq 1 20000)"
    seq 20001 20010 | produce lines
    run -0 bash -c "timeout 60 sstream-source --kafka '$BOOT' --topic lines --group g \
        --from-beginning --once -b 200ms ${SHORT[*]} | sstream-sink --lines | sort -n"
    assert_output "$(seq 20001 20010)"
}

@test "kafka: --from-end: a new group reads nothing older than its start" {
    kafka_start -p 2 lines
    seq 1 20 | produce lines
    run -0 bash -c "timeout 60 sstream-source --kafka '$BOOT' --topic lines --group new \
        --from-end --once -b 200ms | sstream-sink --lines"
    assert_output ""
}

@test "kafka: --kafka-key: the message key is the record key" {
    kafka_start -p 3 kv
    printf 'k1:v1\nk2:v2\nk1:v3\n' | produce kv -K:
    run -0 bash -c "timeout 60 sstream-source --kafka '$BOOT' --topic kv --group g \
        --from-beginning --once --kafka-key -b 200ms | sstream-sink --lines |
        sort"
    assert_output - <<'EOF'
k1	v1
k1	v3
k2	v2
EOF
}

@test "kafka: topic to topic: a keyed record's key is the message key, one key one partition" {
    kafka_start -p 4 words counts
    words | produce words
    run --separate-stderr bash -c "set -o pipefail
        timeout 60 sstream-source --kafka '$BOOT' --topic words --group wc \
            --from-beginning --once -b 200ms |
        sstream-map --flat-map words --pair 1 --reduce-by-key sum |
        sstream-sink --kafka '$BOOT' --topic counts"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(consume counts '%k\t%s\n' | totals)" "$(expected_counts)"
    # each key on exactly one partition
    run -0 bash -c "kcat -b '$BOOT' -C -t counts -e -o beginning -q \
        -f '%k %p\n' | sort -u | awk '{ print \$1 }' | uniq -d"
    assert_output ""
}

# keyed N: the numbers 1 to N as messages keyed by themselves (kcat -K:),
# so that every partition has some.
keyed() {
    seq 1 "$1" | sed 's/.*/&:&/'
}

# member NAME: a pipeline of the group 'shared' over the topic 'lines'
# (seq numbers), --once, slowed down so that it is still reading when
# the next member joins; its records in $T/NAME.out, stderr in $T/NAME.err.
# Session timeouts: $SESSION when set, else FAST.
member() {
    bash -c "set -o pipefail
        timeout 90 sstream-source --kafka '$BOOT' --topic lines --group shared \
            --from-beginning --once -b 200ms --max-rate 400 --stats \
            ${SESSION-${FAST[*]}} \
            2>'$T/$1.err' | sstream-sink --lines >'$T/$1.out'" &
    PIDS+=($!)
}

# wait_assigned NAME: until member NAME has been given partitions.
wait_assigned() {
    local i
    for i in $(seq 1 600); do
        grep -q 'rebalance: assigned' "$T/$1.err" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "member $1 was never assigned partitions" >&2
    return 1
}

@test "kafka: two pipelines in one group share the partitions, together exact" {
    kafka_start -p 4 lines
    keyed 3000 | produce lines -K:
    # b joins while a reads: a gives partitions up in a rebalance, during
    # which the mock coordinator refuses commits (a real one accepts
    # them); a commits them when the group settles, and b waits for it
    member a
    wait_assigned a
    member b
    wait "${PIDS[1]}"
    wait "${PIDS[2]}"
    # each number once: a short diff when not
    run diff <(cat "$T/a.out" "$T/b.out" | sort -n) <(seq 1 3000)
    assert_success
    # both members had partitions
    grep -q 'rebalance: assigned [1-3] partitions' "$T/a.err"
    grep -q 'rebalance: assigned [1-3] partitions' "$T/b.err"
    run grep -h 'cannot commit\|cannot claim\|not handed over' "$T/a.err" "$T/b.err"
    assert_output ""
}

@test "kafka: two --once members close their partitions before either leaves" {
    kafka_start -p 4 lines
    keyed 800 | produce lines -K:
    # sessions longer than the 10 s a leaving member waits to pay a refused
    # commit: the mock lets a rebalance begun by a member leaving end only
    # after the session less 1 s, and refuses commits until then (so would
    # a real cluster, for a member that leaves before it has rejoined)
    SESSION="-X session.timeout.ms=20000"
    member a
    wait_assigned a
    member b
    wait "${PIDS[1]}"
    wait "${PIDS[2]}"
    run diff <(cat "$T/a.out" "$T/b.out" | sort -n) <(seq 1 800)
    assert_success
    # each closed its partitions while the group was stable: the first to
    # leave left nothing the other had to commit in the rebalance after,
    # which would have stayed "open" for the group's next run to wait on
    run grep -h 'cannot commit\|cannot claim\|not handed over\|--once' \
        "$T/a.err" "$T/b.err"
    assert_output ""
}

@test "kafka: a third member joins mid-stream: together exact" {
    kafka_start -p 6 lines
    keyed 4000 | produce lines -K:
    member a
    wait_assigned a
    member b
    wait_assigned b
    member c
    wait "${PIDS[1]}"
    wait "${PIDS[2]}"
    wait "${PIDS[3]}"
    run diff <(cat "$T"/[abc].out | sort -n) <(seq 1 4000)
    assert_success
    grep -q 'rebalance: assigned [1-5] partitions' "$T/c.err"
    run grep -h 'cannot commit\|cannot claim\|not handed over' "$T"/[abc].err
    assert_output ""
}

@test "kafka: kill -9 of a member: the other takes its partitions from its last commit" {
    kafka_start -p 4 lines
    local m a b bsink
    # a dead owner is waited for 5 s, not 15 (the wait is the same code)
    for m in a b; do
        mkfifo "$T/$m.frames"
        SSTREAM_TEST_HANDOFF_MS=5000 sstream-source --kafka "$BOOT" \
            --topic lines --group shared --from-beginning -b 200ms --stats \
            "${SHORT[@]}" >"$T/$m.frames" 2>"$T/$m.err" &
        PIDS+=($!)
        sstream-sink --lines <"$T/$m.frames" >"$T/$m.out" 2>"$T/$m.sink.err" &
        PIDS+=($!)
    done
    a=${PIDS[1]} b=${PIDS[3]} bsink=${PIDS[4]}
    for i in $(seq 1 300); do
        settled 4 a b && break
        sleep 0.1
    done
    settled 4 a b
    # each member reads its share, so that each holds its partitions open
    keyed 400 | produce lines -K:
    # both idle, everything sent and its commit long made: five empty
    # batches of a's after the last of the 400 came out
    for i in $(seq 1 300); do
        [ "$(cat "$T/a.out" "$T/b.out" | wc -l)" -ge 400 ] && break
        sleep 0.1
    done
    local n
    n=$(grep -c '^sstream-source: batch' "$T/a.err")
    for i in $(seq 1 300); do
        [ "$(grep -c '^sstream-source: batch' "$T/a.err")" -ge $((n + 5)) ] && break
        sleep 0.1
    done
    kill -9 "$a"
    seq 401 800 | sed 's/.*/&:&/' | produce lines -K:
    # b takes a's partitions once a's session is over
    for i in $(seq 1 600); do
        [ "$(cat "$T/a.out" "$T/b.out" | wc -l)" -ge 800 ] && break
        sleep 0.1
    done
    kill -TERM "$b"
    wait "$bsink"
    run diff <(cat "$T/a.out" "$T/b.out" | sort -n) <(seq 1 800)
    assert_success
    grep -q 'rebalance: assigned 4 partitions' "$T/b.err"
    # a's partitions were never closed: b waited for them, then said so
    run grep -c "^sstream-source: --kafka: 'lines\[[0-3]\]' not handed over by its last owner: from its last commit, offset [0-9]*; what it sent after that comes again$" "$T/b.err"
    assert_output "$(grep -o 'assigned [0-9] partitions' "$T/a.err" | tail -1 | tr -dc 0-9)"
}

@test "kafka: kill -9 of the source under --wal, then a restart: exact" {
    kafka_start -p 4 lines
    seq 1 3000 | produce lines
    mkdir "$T/out"
    mkfifo "$T/frames"
    sstream-source --kafka "$BOOT" --topic lines --group g --from-beginning \
        "${SHORT[@]}" -b 100ms --max-rate 1000 --wal "$T/wal" \
        >"$T/frames" 2>"$T/src.err" &
    local src=$!
    PIDS+=($src)
    sstream-sink --save-as-text-files "$T/out/part" --commit "$T/wal" \
        <"$T/frames" 2>"$T/sink.err" &
    local sink=$!
    PIDS+=($sink)
    # kill it mid-stream: some batches out, most of the topic unread
    for i in $(seq 1 200); do
        [ "$(cat "$T"/out/part-* 2>/dev/null | wc -l)" -ge 500 ] && break
        sleep 0.05
    done
    kill -9 "$src"
    local status=0
    wait "$sink" || status=$?
    assert_equal "$status" 1 # the stream ended without end-of-stream
    read_before=$(cat "$T"/out/part-* | wc -l)
    [ "$read_before" -lt 3000 ]
    run --separate-stderr bash -c "set -o pipefail
        timeout 60 sstream-source --kafka '$BOOT' --topic lines --group g \
            --from-beginning ${SHORT[*]} -b 100ms --once --wal '$T/wal' |
        sstream-sink --save-as-text-files '$T/out/part' --commit '$T/wal'"
    assert_success
    assert_equal "$(cat "$T"/out/part-* | sort -n)" "$(seq 1 3000)"
}

@test "kafka: an unknown topic is exit 1, one line" {
    kafka_start -u nosuch lines
    run --separate-stderr bash -c "timeout 60 sstream-source --kafka '$BOOT' \
        --topic nosuch --group g -b 200ms | sstream-sink --lines"
    assert_failure 1
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --topic: 'nosuch' does not exist on '$BOOT'"
}

@test "kafka: a topic the group may not read is exit 1, one line" {
    kafka_start -a secret lines
    run --separate-stderr timeout 60 sstream-source --kafka "$BOOT" --topic secret \
        --group g -b 200ms
    assert_failure 1
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --topic: 'secret': not authorized on '$BOOT'"
}

@test "kafka: an unreachable broker is said once and retried until stopped" {
    port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sstream-source --kafka "127.0.0.1:$port" --topic t --group g -b 200ms \
        2>"$T/err" >/dev/null &
    local src=$!
    PIDS+=($src)
    for i in $(seq 1 100); do
        [ -s "$T/err" ] && break
        sleep 0.05
    done
    sleep 1
    kill -TERM "$src"
    wait "$src"
    run cat "$T/err"
    assert_output --regexp "^sstream-source: --kafka: cannot reach '127.0.0.1:$port' \(.*\): retrying$"
}

@test "kafka: --stats says each assigned partition's lag" {
    kafka_start -p 2 lines
    # keyed, so that both partitions get messages (an empty partition that
    # --once need not fetch has no known end)
    seq 1 10 | sed 's/.*/k&:&/' | produce lines -K:
    run --separate-stderr bash -c "timeout 60 sstream-source --kafka '$BOOT' \
        --topic lines --group g --from-beginning --once -b 200ms --stats \
        --stats-file '$T/s.json' | sstream-sink --lines"
    assert_success
    # the last batch's object: both partitions read to their end
    run -0 bash -c "tail -1 '$T/s.json' | grep -o '\"kafka_lag\":{[^}]*}'"
    assert_output --regexp '^"kafka_lag":\{"lines\[[01]\]":0,"lines\[[01]\]":0\}$'
    run -0 "$PY" -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/s.json"
    grep -q '^sstream-source: --kafka: rebalance: assigned 2 partitions$' \
        <<<"$stderr"
    grep -qE '^sstream-source: --kafka: lag lines\[[01]\]=0 lines\[[01]\]=0$' \
        <<<"$stderr"
}

@test "kafka: the README's word count over Kafka runs as written" {
    mkdir -p "$T/r/build"
    cp -r "$REPO/examples" "$T/r/"
    ln -s "$SSTREAM_BIN/tests" "$T/r/build/tests"
    # the first code block of the section, as a reader pastes it
    awk '/^### Word count over Kafka/ { s = 1; next }
         s && /^    / { b = 1; print substr($0, 5); next }
         s && b { exit }' "$REPO/README.md" >"$T/r/run.sh"
    run -0 bash -c "cd '$T/r' && bash run.sh 2>&1"
    # a slow broker may make the sink say it waits; nothing else is said
    output=$(grep -Ev "^sstream-sink: --kafka: batch [0-9]+: waiting for '[^']*' to take [0-9]+ messages?$" <<<"$output")
    assert_output - <<'EOF'
26 a
16 the
12 stream
EOF
}

@test "kafka: the card-transactions example: per merchant, transactions and amounts" {
    kafka_start -p 4 tx
    run --separate-stderr "$REPO/examples/card-transactions/run.sh" "$BOOT"
    assert_success
    assert_equal "$stderr" ""
    # the last window (10 s; the topic is read in less) holds every
    # transaction: its counts and amounts are the producer's, merchant by
    # merchant (amounts in cents, summed exactly)
    per_merchant() {
        awk -F'\t' '{ n[$1] += $2; c[$1] += int($3 * 100 + 0.5) }
            END { for (m in n) print m "\t" n[m] "\t" c[m] }' | sort
    }
    local last
    last=$(cut -f1 <<<"$output" | sort -n | tail -1)
    assert_equal "$(awk -F'\t' -v t="$last" '$1 == t' <<<"$output" |
        cut -f2- | per_merchant)" \
        "$("$REPO/examples/card-transactions/produce" --count 1000 |
            awk -F'\t' '{ print $1 "\t1\t" $2 }' | per_merchant)"
    assert_equal "$(awk -F'\t' -v t="$last" '$1 == t' <<<"$output" | wc -l)" 8
    run -2 --separate-stderr "$REPO/examples/card-transactions/produce" --count -1
    assert_equal "$stderr" "produce: --count must be >= 0, --merchants >= 1"
}
