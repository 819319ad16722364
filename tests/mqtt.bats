#!/usr/bin/env bats
# MQTT in and out: sstream-source --mqtt and sstream-sink --mqtt against
# the real mosquitto broker, started by each test on 127.0.0.1 with a port
# of its own and a persistence folder in the test's temp dir, with
# mosquitto_pub and mosquitto_sub (independent clients) on the other side.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
    command -v mosquitto >/dev/null ||
        command -v /usr/sbin/mosquitto >/dev/null ||
        skip "mosquitto is not installed (scripts/deps test)"
    command -v mosquitto_pub >/dev/null ||
        skip "mosquitto-clients is not installed (scripts/deps test)"
    PATH="$PATH:/usr/sbin"
}

teardown() {
    kill_bg
    # a server a README block started and did not stop (it failed early)
    [ -z "${PORT:-}" ] || kill_listeners "$PORT"
}

# broker_start: mosquitto on a free port (PORT), its store in $T/store;
# again after broker_stop: the same port and store.
broker_start() {
    : "${PORT:=$(free_port)}"
    mkdir -p "$T/store"
    cat >"$T/mosquitto.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $T/store/
EOF
    mosquitto -c "$T/mosquitto.conf" 2>>"$T/broker.err" &
    BROKER=$!
    PIDS+=($BROKER)
    wait_port "$PORT"
}

broker_stop() {
    kill -TERM "$BROKER"
    wait "$BROKER" || true
}

# pipeline_start NAME [source options]: a word count from --topic 'in/#'
# into $T/NAME.out (a line per word and batch), stderr in $T/NAME.err;
# returns once the source has subscribed. SRC is the source's pid.
pipeline_start() {
    local name=$1 i
    shift
    mkfifo "$T/$name.fifo"
    sstream-source --mqtt "127.0.0.1:$PORT" --topic 'in/#' --client-id wc \
        -b 200ms --stats "$@" 2>"$T/$name.err" >"$T/$name.fifo" &
    SRC=$!
    PIDS+=($SRC)
    sstream-map --flat-map words --pair 1 --reduce-by-key sum <"$T/$name.fifo" |
        sstream-sink --lines >"$T/$name.out" &
    SINK=$!
    PIDS+=($SINK)
    for i in $(seq 1 200); do
        grep -q "subscribed to 'in/#'" "$T/$name.err" && return 0
        sleep 0.05
    done
    echo "the source did not subscribe: $(cat "$T/$name.err")" >&2
    return 1
}

# pipeline_stop: SIGTERM, as Ctrl-C; the stream ends whole.
pipeline_stop() {
    kill -TERM "$SRC"
    wait "$SRC"
    wait "$SINK"
}

# publish: stdin's lines, one QoS 1 message each, on in/words.
publish() {
    mosquitto_pub -p "$PORT" -q 1 -t in/words -l
}

# Sum per-batch counts (word<TAB>count lines) into totals.
totals() {
    awk -F'\t' '{ n[$1] += $2 } END { for (w in n) print w "\t" n[w] }' "$@" |
        sort
}

words() {
    local i
    for i in $(seq "$1" "$2"); do
        echo "w$((i % 13)) x$((i % 7)) the"
    done
}

counts() {
    tr ' ' '\n' | sort | uniq -c | awk '{ print $2 "\t" $1 }'
}

# wait_total N FILES...: until the counts in FILES add up to N words
# (at most 30 s).
wait_total() {
    local n=$1 i
    shift
    for i in $(seq 1 300); do
        [ "$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$@")" -ge "$n" ] &&
            return 0
        sleep 0.1
    done
    echo "timed out waiting for $n words in $*" >&2
    return 1
}

@test "mqtt: usage errors exit 2 with a message" {
    run --separate-stderr sstream-source --mqtt 127.0.0.1:1883
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --mqtt: needs --topic"
    run --separate-stderr sstream-source --mqtt localhost --topic t
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --mqtt: 'localhost' is not HOST:PORT"
    run --separate-stderr sstream-source --qos 1
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --qos: needs --mqtt"
    run --separate-stderr sstream-source --client-id x
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --client-id: needs --mqtt"
    run --separate-stderr sstream-source --mqtt a:1 --topic t --qos 2
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --qos: '2' is not a whole number from 0 to 1"
    run --separate-stderr sstream-source --mqtt a:1 --kafka b:1 --topic t \
        --group g
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --kafka and --mqtt: one broker input at a time (--topic is the one's topics)"
    run --separate-stderr sstream-sink --mqtt a:1
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --mqtt: needs --topic"
    run --separate-stderr sstream-sink --qos 0
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --qos: needs --mqtt"
    run --separate-stderr sstream-sink --mqtt a:1 --topic 'a/#'
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-sink: --topic: 'a/#': + and # are for subscribing, not publishing"
}

@test "mqtt: word count at QoS 1, exact" {
    broker_start
    pipeline_start run
    words 1 600 | publish
    wait_total 1800 "$T/run.out"
    pipeline_stop
    assert_equal "$(totals "$T/run.out")" "$(words 1 600 | counts)"
}

@test "mqtt: a pipeline restart loses nothing at QoS 1: the session keeps what came meanwhile" {
    broker_start
    pipeline_start one
    words 1 300 | publish
    wait_total 900 "$T/one.out"
    pipeline_stop
    # published while no pipeline runs: the broker keeps it for the session
    words 301 700 | publish
    pipeline_start two
    words 701 800 | publish
    wait_total 1500 "$T/two.out"
    pipeline_stop
    grep -q "as 'wc' (session kept)" "$T/two.err"
    assert_equal "$(totals "$T/one.out" "$T/two.out")" "$(words 1 800 | counts)"
}

@test "mqtt: a broker restart: the source says so, reconnects, and loses nothing" {
    broker_start
    pipeline_start run
    words 1 200 | publish
    wait_total 600 "$T/run.out"
    broker_stop
    for i in $(seq 1 100); do
        grep -q "cannot reach '127.0.0.1:$PORT'" "$T/run.err" && break
        sleep 0.05
    done
    broker_start
    for i in $(seq 1 300); do
        grep -q "'127.0.0.1:$PORT' reached" "$T/run.err" && break
        sleep 0.05
    done
    words 201 400 | publish
    wait_total 1200 "$T/run.out"
    pipeline_stop
    assert_equal "$(grep -c "cannot reach '127.0.0.1:$PORT' (.*): retrying" "$T/run.err")" 1
    assert_equal "$(totals "$T/run.out")" "$(words 1 400 | counts)"
}

@test "mqtt: the sink publishes each record, {key} in the topic, acknowledged" {
    broker_start
    batches "$T/in" "a b a" "c a" "b"
    # a session that keeps what is published for the reader below (-E:
    # subscribe, then exit)
    mosquitto_sub -p "$PORT" -c -i reader -q 1 -t 'counts/#' -E
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/in' -b 1s |
        sstream-window -w 3s -s 3s --count-by-value |
        sstream-sink --mqtt 127.0.0.1:$PORT --topic 'counts/{key}'"
    assert_success
    assert_equal "$stderr" ""
    run -0 timeout 30 mosquitto_sub -p "$PORT" -c -i reader -q 1 \
        -t 'counts/#' -v -C 3 -W 30
    assert_equal "$(sort <<<"$output")" "counts/a 3
counts/b 2
counts/c 1"
}

@test "mqtt: a keyless record for a {key} topic fails the batch, exit 1" {
    broker_start
    batches "$T/in" "a"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' -b 1s |
        sstream-sink --mqtt 127.0.0.1:$PORT --topic 'counts/{key}'"
    assert_failure 1
    assert_equal "$stderr" \
        "sstream-sink: --topic: 'counts/{key}': a record without a key"
}

@test "mqtt: the README's word count over MQTT runs as written" {
    mkdir -p "$T/r"
    cp -r "$REPO/examples" "$T/r/"
    PORT=$(free_port)
    readme_block "Word count over MQTT" 1 | sed "s/1884/$PORT/g" >"$T/r/run.sh"
    grep -q "mosquitto -p $PORT" "$T/r/run.sh"
    # the server the block starts, stopped by teardown if the block fails
    run -0 bash -c "cd '$T/r' && timeout 60 bash run.sh 2>&1"
    assert_output - <<'EOF2'
26 a
16 the
12 stream
EOF2
}
