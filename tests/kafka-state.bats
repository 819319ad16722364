#!/usr/bin/env bats
# State that moves with its partition: members of one consumer group,
# each `sstream-source --kafka --partition-state DIR | sstream-state
# --by-partition --checkpoint DIR | sstream-sink`, against librdkafka's
# mock cluster (tests/helpers/kafka-mock), with kcat producing the input.
# A member that joins takes partitions, and their keys' counts with them;
# a member killed with -9 leaves its partitions' state in their
# checkpoints, and the member that takes them over goes on from there.

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

# Session timeouts short enough for a member killed with -9 to leave the
# group during a test (as in tests/kafka.bats).
FAST=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)

# wave N: each of the keys k0..k39 once per round, N rounds, value 1,
# keyed messages (kcat's partitioner is librdkafka's consistent_random).
wave() {
    local r k
    for r in $(seq 1 "$1"); do
        for k in $(seq 0 39); do
            echo "k$k:1"
        done
    done | produce words -K:
}

# member NAME: a stateful pipeline of the group; its processes' PIDs in
# SRC_NAME, STATE_NAME, SINK_NAME; output in $T/NAME.out (key<TAB>count
# for each key updated in a batch), stderr in $T/NAME.{err,state.err}.
member() {
    mkfifo "$T/$1.frames" "$T/$1.states"
    SSTREAM_TEST_HANDOFF_MS=5000 sstream-source --kafka "$BOOT" --topic words \
        --group counts --kafka-key --from-beginning -b 200ms --stats \
        --partition-state "$T/st" "${FAST[@]}" \
        >"$T/$1.frames" 2>"$T/$1.err" &
    PIDS+=($!)
    eval "SRC_$1=$!"
    sstream-state --by-partition --checkpoint "$T/st" --update sum \
        --emit updated <"$T/$1.frames" >"$T/$1.states" 2>"$T/$1.state.err" &
    PIDS+=($!)
    eval "STATE_$1=$!"
    sstream-sink --lines <"$T/$1.states" >"$T/$1.out" 2>"$T/$1.sink.err" &
    PIDS+=($!)
    eval "SINK_$1=$!"
}

# The highest count each key reached in the outputs named: counts only
# grow, so it is the key's count once its last update is out.
highest() {
    cat "$@" | awk -F'\t' '$2 > n[$1] { n[$1] = $2 }
        END { for (k in n) print k "\t" n[k] }' | sort
}

expected() {
    local k
    for k in $(seq 0 39); do
        printf 'k%s\t%s\n' "$k" "$1"
    done | sort
}

# until_counts N OUT...: every key has reached N in the outputs.
until_counts() {
    local n=$1 i
    shift
    for i in $(seq 1 900); do
        [ "$(highest "$@" | awk -F'\t' -v n="$n" '$2 == n' | wc -l)" -eq 40 ] &&
            return 0
        sleep 0.1
    done
    echo "the counts never reached $n: $(highest "$@" | tr '\n' ' ')" >&2
    return 1
}

until_settled() {
    local n=$1 i m
    shift
    for i in $(seq 1 900); do
        settled "$n" "$@" && return 0
        sleep 0.1
    done
    echo "the group never settled on $n partitions:" >&2
    for m in "$@"; do
        grep -v '^sstream-source: batch\|lag ' "$T/$m.err" | sed "s/^/$m: /" >&2
    done
    return 1
}

# until_held N: N partitions' states are held by a stage ("open").
until_held() {
    local i
    for i in $(seq 1 600); do
        [ "$(cat "$T"/st/words-*/position 2>/dev/null | grep -cx open)" -eq "$1" ] &&
            return 0
        sleep 0.1
    done
    echo "never $1 partitions held: $(head -1 "$T"/st/words-*/position)" >&2
    return 1
}

# read_in NAME...: the records the members' sources sent, from their
# --stats batch lines.
read_in() {
    local m
    for m in "$@"; do
        grep -o '^sstream-source: batch [0-9]*: records [0-9]*' "$T/$m.err"
    done | awk '{ n += $NF } END { print n + 0 }'
}

@test "kafka-state: a member joins, another is killed: every key's count goes on where its partition's state stood" {
    kafka_start -p 4 words
    wave 5
    member a
    until_counts 5 "$T/a.out"
    until_settled 4 a
    # b joins: partitions move from a to b with their keys' counts
    member b
    until_settled 4 a b
    until_held 4
    # b's stage stops, while its source reads on and commits the group's
    # offsets: b's partitions' checkpoints stay behind the group's commits
    kill -STOP "$STATE_b"
    wave 5
    local i
    for i in $(seq 1 600); do
        [ "$(read_in a b)" -ge 400 ] && break
        sleep 0.1
    done
    assert_equal "$(read_in a b)" 400
    # b dies whole; a takes its partitions once b's session is over, from
    # their checkpoints (b never closed them), and reads again what b's
    # stage had not saved
    kill -9 "$SRC_b" "$STATE_b" "$SINK_b"
    wave 5
    until_counts 15 "$T/a.out" "$T/b.out"
    kill -TERM "$SRC_a"
    wait "$SINK_a"
    run highest "$T/a.out" "$T/b.out"
    assert_output "$(expected 15)"
    run --separate-stderr sstream-state --dump "$T/st"
    assert_success
    run sort <<<"$output"
    assert_output "$(expected 15)"
    # a said which partitions it took from a dead holder's checkpoint
    run grep -c "^sstream-source: --partition-state: the state of 'words\[[0-3]\]' was not handed over by its last holder: from its checkpoint, offset [0-9]*; the outputs of the holder's last batches may be missing or come again$" "$T/a.err"
    assert_output "$(grep -o 'assigned [0-9] partitions' "$T/b.err" | tail -1 | tr -dc 0-9)"
    # the stages themselves had nothing to say
    run cat "$T/a.state.err" "$T/a.sink.err"
    assert_output ""
}

# offsets FRAMES: the offsets field of each batch read back (man/sstream.5,
# OFFSETS), checked against the batch's own records: per partition, from
# the first batch that holds it to the last, "TOPIC[P] FROM-NEXT", and
# "ok" when each batch begins a partition where the one before ended it and
# holds next - from records of it, as CRC-32 % partitions places keys.
offsets() {
    python3 - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
pos, first, last, ok, parts, topic = 0, {}, {}, True, 0, b""
while pos < len(data):
    kind, hlen = data[pos + 5], struct.unpack_from("<H", data, pos + 6)[0]
    flags, plen = (struct.unpack_from("<I", data, pos + 20)[0],
                   struct.unpack_from("<Q", data, pos + 32)[0])
    head, body = data[pos:pos + hlen], data[pos + hlen:pos + hlen + plen]
    pos += hlen + plen
    if kind != 1 or flags & 2:
        continue
    n = head[56]
    q = 60 + 12 * n + 12
    assert len(head) >= q + 8, "a batch without the offsets field"
    m, tl, parts = struct.unpack_from("<HBxI", head, q)
    topic = head[q + 8:q + 8 + tl]
    ents = [struct.unpack_from("<iqq", head, q + 8 + tl + 20 * i) for i in range(m)]
    held = {}
    p = 0
    while p < len(body):
        for _ in range(2):
            v, s = 0, 0
            while body[p] & 0x80:
                v |= (body[p] & 0x7F) << s; s += 7; p += 1
            v |= body[p] << s; p += 1
            if _ == 0:
                key = body[p:p + v]
            p += v
        part = zlib.crc32(key) % parts
        held[part] = held.get(part, 0) + 1
    for part, frm, nxt in ents:
        if part in last and last[part] != frm:
            ok = False
        first.setdefault(part, frm)
        last[part] = nxt
        if held.pop(part, 0) != nxt - frm:
            ok = False
    if held:
        ok = False
for part in sorted(first):
    print("%s[%d] %d-%d of %d" % (topic.decode(), part, first[part], last[part], parts))
print("ok" if ok else "inconsistent")
PY
}

@test "kafka-state: the source's batches carry the offsets field, each partition's range and records exact" {
    kafka_start -p 4 words
    wave 3
    sstream-source --kafka "$BOOT" --topic words --group g --kafka-key \
        --from-beginning --once -b 200ms "${FAST[@]}" >"$T/frames"
    run offsets "$T/frames"
    # what CRC-32 % 4 gives the keys k0..k39, each three times
    local want
    want=$(python3 -c '
import zlib
n = [0] * 4
for k in range(40):
    n[zlib.crc32(b"k%d" % k) % 4] += 3
for p in range(4):
    print("words[%d] 0-%d of 4" % (p, n[p]))
print("ok")')
    assert_output "$want"
}

@test "kafka-state: --partition-state: usage errors exit 2 with a message" {
    run --separate-stderr sstream-source --partition-state "$T/st"
    assert_failure 2
    assert_equal "${stderr_lines[0]}" "sstream-source: --partition-state: needs --kafka"
    run --separate-stderr sstream-source --kafka a:1 --topic t,u --group g \
        --partition-state "$T/st"
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --partition-state: one --topic (the state is kept by the partitions of one)"
    run --separate-stderr sstream-source --kafka a:1 --topic t --group g \
        --partition-state "$T/st" --wal "$T/wal"
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --partition-state: not with --wal (a partition restarts where its state stands, which the log's batches would not wait for)"
    run --separate-stderr sstream-source --kafka a:1 --topic t --group g \
        --partition-state "$T/st" --event-time 1
    assert_failure 2
    assert_equal "${stderr_lines[0]}" \
        "sstream-source: --partition-state: not with --event-time (a partition's state follows the batch clock)"
}

@test "kafka-state: --partition-state: a message on another partition than its key's is a reject, said with its place" {
    kafka_start -p 4 words
    # k1's partition by CRC-32, and another one
    local p q
    p=$(python3 -c 'import zlib; print(zlib.crc32(b"k1") % 4)')
    q=$(((p + 1) % 4))
    echo "k1:1" | produce words -K: -p "$p"
    echo "k1:2" | produce words -K: -p "$q"
    run --separate-stderr bash -c "sstream-source --kafka '$BOOT' --topic words \
        --group g --kafka-key --from-beginning --once -b 200ms \
        --partition-state '$T/st' --rejects '$T/rej' ${FAST[*]} |
        sstream-sink --lines"
    assert_success
    assert_output "k1	1"
    run grep -c "^sstream-source: batch [0-9]*, record [0-9]*: --kafka: 'words\[$q\]' offset 0: its key belongs on partition $p (librdkafka's partitioner, CRC-32), where --partition-state keeps its state" <<<"$stderr"
    assert_output 1
    run cat "$T/rej"
    assert_output "k1	2"
}

# counting NAME DIR: a --once member of group 'g' over folder DIR, its
# output in $T/NAME.out, stderr in $T/NAME.err.
counting() {
    bash -c "set -o pipefail
        sstream-source --kafka '$BOOT' --topic words --group g --kafka-key \
            --from-beginning --once -b 200ms --partition-state '$2' \
            ${FAST[*]} |
        sstream-state --by-partition --checkpoint '$2' --update sum \
            --emit updated |
        sstream-sink --lines" >"$T/$1.out" 2>"$T/$1.err"
}

@test "kafka-state: a member whose folder is not the one its partitions' state is in stops, saying so" {
    kafka_start -p 4 words
    wave 1
    counting a "$T/st1"
    run sort "$T/a.out"
    assert_output "$(expected 1)"
    # the group's commits name a's folder; b, with a folder of its own,
    # would count from nothing
    wave 1
    run counting b "$T/st2"
    assert_failure 1
    run grep -c "^sstream-source: --partition-state: the state of 'words\[[0-3]\]' is kept in another folder (id $(cat "$T/st1/id"); '$T/st2' is $(cat "$T/st2/id")): give every member of the group the same folder, one machine's or one the machines share$" "$T/b.err"
    assert_output 1
    assert_equal "$(cat "$T/b.out")" ""
    # with a's folder, the group goes on
    counting c "$T/st1"
    run highest "$T/c.out"
    assert_output "$(expected 2)"
}
