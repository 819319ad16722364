#!/usr/bin/env bats
# Exactly once into Kafka: sstream-sink --kafka -X transactional.id=ID
# --commit DIR puts each batch's mark on a commit topic in the batch's
# transaction (lib/kafka_commit.h), so a sink killed between the
# transaction's commit and --commit finds the batch in Kafka when it
# starts again, and skips it. On librdkafka's mock cluster
# (tests/helpers/kafka-mock), with kcat reading read_committed as the
# independent reader.

load helpers/common
load helpers/kafka

setup() {
    T=$BATS_TEST_TMPDIR
    PIDS=()
    batches "$T/in" "a b c" "d e" "f g h" "i j" "k l m" "n o"
}

teardown() {
    kill_bg
}

# The restart, in two steps so that what the source finds in the log
# does not race the sink bringing --commit forward: the source's frames
# into a file, then the sink. Output and stderr of the sink in $output,
# $stderr; the source's stderr in $T/src.err.
restart() {
    sstream-source --replay "$T/in" -b 1s --wal "$T/wal" >"$T/frames" \
        2>"$T/src.err"
    run --separate-stderr sstream-sink "$@" <"$T/frames"
}

SINK=(sstream-sink --kafka)

@test "kafka-eos: killed after a batch's transaction, before --commit: each record once" {
    kafka_start -p 2 out sstream-commit.wc1
    local sink="--topic out --commit $T/wal -X transactional.id=wc1"
    # the sink dies after batch 3000's transaction, before its --commit
    run bash -c "sstream-source --replay '$T/in' -b 1s --wal '$T/wal' |
        SSTREAM_TEST_CRASH_AT=wal-commit:3 sstream-sink --kafka '$BOOT' $sink"
    assert_failure
    assert_equal "$(cat "$T/wal/commit")" 2000
    restart --kafka "$BOOT" $sink --stats
    assert_success
    assert_equal "$(cat "$T/src.err")" \
        "sstream-source: --wal: 4 uncommitted batches (3000 to 6000) sent again from the log"
    assert_equal "${stderr_lines[0]}" \
        "sstream-sink: --commit-topic: batch 3000 is in 'out', not in '$T/wal/commit': recorded there, not written again"
    assert_equal "${stderr_lines[-1]}" \
        "sstream-sink: 3 batches, 7 records in, 7 out, 0 rejects, 1 replay skipped"
    assert_equal "$(cat "$T/wal/commit")" 6000
    assert_equal "$(consume out | sort | tr '\n' ' ')" "a b c d e f g h i j k l m n o "
    # the marks: one a batch, keyed by the transactional.id
    assert_equal "$(consume sstream-commit.wc1 '%k %s\n' | sort -k2n | tr '\n' ' ')" \
        "wc1 1000 wc1 2000 wc1 3000 wc1 4000 wc1 5000 wc1 6000 "
}

@test "kafka-eos: --commit-topic NAME; killed before the transaction's commit: each record once" {
    kafka_start -p 2 out marks
    local sink="--topic out --commit $T/wal --commit-topic marks -X transactional.id=wc1"
    # batch 3000's messages queued, not flushed (linger.ms keeps them in
    # the client: the mock shows read_committed readers what an aborted
    # transaction sent, so they must not reach it), then kill -9
    run bash -c "sstream-source --replay '$T/in' -b 1s --wal '$T/wal' |
        SSTREAM_TEST_CRASH_AT=kafka-txn:3 sstream-sink --kafka '$BOOT' $sink \
            -X linger.ms=30000"
    assert_failure
    assert_equal "$(cat "$T/wal/commit")" 2000
    restart --kafka "$BOOT" $sink
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$T/src.err")" \
        "sstream-source: --wal: 4 uncommitted batches (3000 to 6000) sent again from the log"
    assert_equal "$(consume out | sort | tr '\n' ' ')" "a b c d e f g h i j k l m n o "
    assert_equal "$(consume marks '%k %s\n' | sort -k2n | tr '\n' ' ')" \
        "wc1 1000 wc1 2000 wc1 3000 wc1 4000 wc1 5000 wc1 6000 "
}

@test "kafka-eos: a commit topic missing, not readable, or with a bad mark is exit 1, one line" {
    kafka_start -u gone -a denied out bad
    local sink=(sstream-sink --kafka "$BOOT" --topic out --commit "$T/wal"
        -X transactional.id=wc1)
    run --separate-stderr "${sink[@]}" --commit-topic gone </dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --commit-topic: 'gone' does not exist on '$BOOT' (create it with cleanup.policy=compact)"
    run --separate-stderr "${sink[@]}" --commit-topic denied </dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --commit-topic: 'denied': not authorized on '$BOOT'"
    echo "wc1:yesterday" | produce bad -p 1 -K:
    run --separate-stderr "${sink[@]}" --commit-topic bad </dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --commit-topic: 'bad' partition 1 offset 0: the mark of 'wc1' is not a batch time"
    # another sink's mark is not ours to judge
    mkdir "$T/none"
    sstream-source --replay "$T/none" -b 1s >"$T/frames"
    run --separate-stderr "${sink[@]/wc1/wc2}" --commit-topic bad <"$T/frames"
    assert_success
    assert_equal "$stderr" ""
}

@test "kafka-eos: usage errors exit 2 with a message" {
    local k=(--kafka 127.0.0.1:9092 --topic out)
    run --separate-stderr sstream-sink "${k[@]}" --commit "$T/wal" \
        --commit-topic marks
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --commit-topic: needs -X transactional.id=ID"
    run --separate-stderr sstream-sink "${k[@]}" -X transactional.id=a \
        --commit-topic marks
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --commit-topic: needs --commit"
    run --separate-stderr sstream-sink --commit "$T/wal" --commit-topic marks
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --commit-topic: needs --kafka"
    run --separate-stderr sstream-sink "${k[@]}" --commit-topic a,b
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: --commit-topic: 'a,b' is not one topic name"
    run --separate-stderr sstream-sink "${k[@]}" --commit "$T/wal" \
        -X 'transactional.id=my sink'
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-sink: -X transactional.id: 'my sink' makes no topic name: give --commit-topic NAME"
}
