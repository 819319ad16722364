#!/usr/bin/env bats
# Fields from a message broker: sstream-source --format with --kafka
# reads each message's value as one row (CSV and TSV names from
# --header), against librdkafka's mock cluster (tests/helpers/kafka-mock,
# as tests/kafka.bats runs it) with kcat producing the input; --header
# alone for headerless files; MQTT (mosquitto) too; --event-time with a
# broker is refused.

load helpers/common
load helpers/kafka

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
}

teardown() {
    kill_bg
}


# Sum per-batch key<TAB>sum lines into totals, sorted.
totals() {
    awk -F'\t' '{ n[$1] += $2 } END { for (k in n) print k "\t" n[k] }' | sort
}
export -f totals


@test "fields-brokers: --format csv --header: each Kafka message is a row" {
    kafka_start -p 3 hits
    printf '%s\n' 200,10 404,1 '200,"5"' 500,7 '"a,b",1' | produce hits
    run --separate-stderr bash -c "set -o pipefail
        timeout 60 sstream-source --kafka '$BOOT' --topic hits --group g \
            --from-beginning --once -b 200ms --format csv --header status,bytes |
        sstream-map --key status --value bytes --reduce-by-key sum |
        sstream-sink --lines | totals"
    assert_success
    assert_output "$(printf '200\t15\n404\t1\n500\t7\na,b\t1')"
    assert_equal "$stderr" ""
}

@test "fields-brokers: --format json over Kafka; a bad message is a reject with its number" {
    kafka_start -p 1 ev
    printf '%s\n' '{"user":{"name":"Zoë"},"n":1}' '{"user":{"name":"李"},"n":2}' \
        'not json' '{"user":{"name":"Zoë"},"n":3}' | produce ev
    run --separate-stderr bash -c "set -o pipefail
        timeout 60 sstream-source --kafka '$BOOT' --topic ev --group g \
            --from-beginning --once -b 200ms --format json --rejects '$T/rej' |
        sstream-map --key user.name --value n --reduce-by-key sum |
        sstream-sink --lines | totals"
    assert_success
    assert_output "$(printf 'Zoë\t4\n李\t2')"
    assert_equal "$stderr" "sstream-source: --kafka: message 3: bad JSON at column 3: '[' or '{' expected near 'not'
sstream-source: 1 rejected record kept in '$T/rej'"
    assert_equal "$(cat "$T/rej")" "not json"
}

@test "fields-brokers: a CSV message with a quote left open is a reject" {
    kafka_start -p 1 rows
    printf '%s\n' 'a,1' '"b,2' 'c,3' | produce rows
    run --separate-stderr bash -c "set -o pipefail
        timeout 60 sstream-source --kafka '$BOOT' --topic rows --group g \
            --from-beginning --once -b 200ms --format csv --header k,v \
            --rejects '$T/rej' | sstream-sink --lines | sort"
    assert_success
    assert_output "$(printf '{"k":"a","v":"1"}\n{"k":"c","v":"3"}')"
    assert_equal "$stderr" "sstream-source: --kafka: message 2: bad CSV quoting: a quoted field is never closed
sstream-source: 1 rejected record kept in '$T/rej'"
}

@test "fields-brokers: --header names the fields of files without a header row" {
    mkdir -p "$T/d"
    printf '1,200\n2,"4,04"\n' >"$T/d/0001"
    printf '3,500\n' >"$T/d/0002"
    run -0 bash -c "set -o pipefail; sstream-source --replay '$T/d' --format csv --header 'time,\"the status\"' | sstream-sink --tsv"
    assert_output - <<'EOF2'
1000	{"time":"1","the status":"200"}
1000	{"time":"2","the status":"4,04"}
2000	{"time":"3","the status":"500"}
EOF2
    run -0 bash -c "set -o pipefail; printf 'a\tb\n' | sstream-source --format tsv --header x,y | sstream-sink --lines"
    assert_output '{"x":"a","y":"b"}'
}

@test "fields-brokers: usage errors exit 2 with one line" {
    run --separate-stderr sstream-source --kafka 127.0.0.1:9092 --topic t --group g --format csv
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --format csv: with --kafka each message is a row, with no header row: name the fields with --header a,b,c"
    run --separate-stderr sstream-source --format json --header a,b
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --header: names the fields of --format csv or tsv"
    run --separate-stderr sstream-source --format csv --header 'a,"b'
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --header: bad CSV quoting: a quoted field is never closed"
    run --separate-stderr sstream-source --kafka 127.0.0.1:9092 --topic t --group g --format json --kafka-key
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --kafka-key: not with --format (take a field as the key with sstream-map --key)"
    run --separate-stderr sstream-source --kafka 127.0.0.1:9092 --topic t --group g --format json --event-time t
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --event-time: not with --kafka (a message is acknowledged when the batch it arrives in is sent, before its event-time batch is)"
    run --separate-stderr sstream-source --mqtt 127.0.0.1:1883 --topic t --format json --event-time t
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --event-time: not with --mqtt (a message is acknowledged when the batch it arrives in is sent, before its event-time batch is)"
}

@test "fields-brokers: --format json over MQTT: each message is a row" {
    command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null ||
        skip "mosquitto is not installed (scripts/deps test)"
    PORT=$(free_port)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" >"$T/mosquitto.conf"
    mosquitto -c "$T/mosquitto.conf" 2>"$T/broker.err" &
    PIDS+=($!)
    wait_port "$PORT"
    mkfifo "$T/fifo"
    sstream-source --mqtt "127.0.0.1:$PORT" --topic 'in/#' --client-id f \
        -b 200ms --format json --rejects "$T/rej" --stats 2>"$T/err" >"$T/fifo" &
    SRC=$!
    PIDS+=($SRC)
    sstream-map --key user --value n <"$T/fifo" | sstream-sink --lines >"$T/out" &
    SINK=$!
    PIDS+=($SINK)
    for i in $(seq 1 200); do
        grep -q "subscribed to 'in/#'" "$T/err" && break
        sleep 0.05
    done
    # --stats says when the subscription is in place (and the batches)
    printf '%s\n' '{"user":"ann","n":1}' '{"user":' '{"user":"李","n":2}' |
        mosquitto_pub -p "$PORT" -q 1 -t in/x -l
    wait_lines "$T/out" 2
    kill -TERM "$SRC"
    wait "$SRC"
    wait "$SINK"
    assert_equal "$(cat "$T/out")" "$(printf 'ann\t1\n李\t2')"
    assert_equal "$(cat "$T/rej")" '{"user":'
    run grep -E 'subscribed|message|rejected' "$T/err"
    assert_output - <<EOF2
sstream-source: --mqtt: subscribed to 'in/#' at qos 1
sstream-source: --mqtt: message 2: bad JSON at column 8: unexpected token near end of file
sstream-source: 1 rejected record kept in '$T/rej'
EOF2
}
