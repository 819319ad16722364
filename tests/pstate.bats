#!/usr/bin/env bats
# sstream-state --by-partition (lib/shard.c, lib/pstate.c): the state of
# each Kafka partition a consumer-group member holds, in DIR/TOPIC-P, moving
# with the partition. No broker: tests/helpers/frames.py --kafka gives each
# batch the offsets field a member's sstream-source --kafka would, and
# tests/unit/pstate-cli.c reads the position files as the source does.
#
# The keys and their partitions of 4 (zlib.crc32(key) % 4, checked below):
#   a 3   b 1   c 3   d 0   e 2   f 0   g 2   h 3

load helpers/common

teardown() {
    kill_bg
}

# Six batches of a topic's messages (key:value).
B=('a:1 b:1 c:1 d:1 e:1 f:1 g:1 h:1' 'a:2 e:1 e:1 g:5 d:1' 'b:1 c:1 h:3 e:4'
    'a:1 b:1 e:1 f:1' '-' 'c:2 g:1 d:1')

setup() {
    T=$BATS_TEST_TMPDIR
}

# frames ARGS...: frames.py --keyed ARGS (a topic's batches: --kafka words:4)
frames() {
    "$PY" "$TESTS_DIR/helpers/frames.py" --keyed "$@"
}

# holds SPEC N: --hold SPEC, N times
holds() {
    local i
    for i in $(seq 1 "$2"); do
        printf -- '--hold\n%s\n' "$1"
    done
}

# member IN ARGS...: sstream-state --by-partition over the frames in IN,
# the state in $T/ck, into sstream-sink --tsv
member() {
    local in=$1
    shift
    set -o pipefail
    sstream-state --update sum --by-partition --checkpoint "$T/ck" "$@" \
        <"$in" | sstream-sink --tsv
}

pcli() {
    "$SSTREAM_BIN/tests/pstate-cli" "$@"
}

@test "pstate: one member holding every partition is plain sstream-state, byte for byte" {
    mapfile -t h < <(holds 0,1,2,3 6)
    frames --parts 2 --kafka words:4 "${h[@]}" "${B[@]}" >"$T/in"
    frames --parts 2 "${B[@]}" >"$T/plain-in"
    set -o pipefail
    sstream-state --update sum --no-checkpoint --timeout 2s <"$T/plain-in" |
        sstream-sink --tsv >"$T/plain"
    run --separate-stderr member "$T/in" --timeout 2s
    assert_success
    assert_equal "$stderr" ""
    cmp "$T/plain" <(printf '%s\n' "$output")
    assert_output - <<'EOF'
1000	a	1
1000	b	1
1000	c	1
1000	d	1
1000	e	1
1000	f	1
1000	g	1
1000	h	1
2000	a	3
2000	b	1
2000	c	1
2000	d	2
2000	e	3
2000	f	1
2000	g	6
2000	h	1
3000	a	3
3000	b	2
3000	c	2
3000	d	2
3000	e	7
3000	f	1
3000	g	6
3000	h	4
4000	a	4
4000	b	3
4000	c	2
4000	d	2
4000	e	8
4000	f	2
4000	g	6
4000	h	4
5000	a	4
5000	b	3
5000	c	2
5000	e	8
5000	f	2
5000	h	4
6000	a	4
6000	b	3
6000	c	4
6000	d	1
6000	e	8
6000	f	2
6000	g	1
EOF
    # each key's state is in the folder of its partition, as zlib says
    for p in 0 1 2 3; do
        sstream-state --dump "$T/ck/words-$p" 2>/dev/null | cut -f1
    done >"$T/keys"
    run "$PY" -c 'import sys, zlib
for k in sys.stdin.read().split():
    print(k, zlib.crc32(k.encode()) % 4)' <"$T/keys"
    assert_output - <<'EOF'
f 0
d 0
b 1
e 2
g 2
a 3
c 3
EOF
    run pcli read "$T/ck" words 2
    assert_output "closed 6000 8"
}

@test "pstate: --dump DIR dumps every partition in partition order" {
    mapfile -t h < <(holds 0,1,2,3 2)
    frames --kafka words:4 "${h[@]}" "${B[@]:0:2}" >"$T/in"
    member "$T/in" >/dev/null
    run --separate-stderr sstream-state --dump "$T/ck"
    assert_success
    assert_output - <<'EOF'
d	2
f	1
b	1
e	3
g	6
a	3
c	1
h	1
EOF
    assert_equal "$stderr" "sstream-state: checkpoint '$T/ck/words-0': batch time 2000, 2 keys
sstream-state: checkpoint '$T/ck/words-1': batch time 2000, 1 keys
sstream-state: checkpoint '$T/ck/words-2': batch time 2000, 2 keys
sstream-state: checkpoint '$T/ck/words-3': batch time 2000, 3 keys"
}

@test "pstate: a partition moves: its state continues exactly on the member that receives it" {
    # A holds every partition for batches 1-3, then gives 2 and 3 up; B
    # holds none, then receives them where A's state of them stands.
    mapfile -t ha < <(holds 0,1,2,3 3; holds 0,1 3)
    mapfile -t hb < <(holds none 3; holds 2,3 3)
    frames --kafka words:4 "${ha[@]}" "${B[@]}" >"$T/a"
    frames --kafka words:4 "${hb[@]}" "${B[@]}" >"$T/b"
    run --separate-stderr member "$T/a" --emit updated
    assert_success
    assert_equal "$stderr" ""
    printf '%s\n' "$output" >"$T/a.out"
    assert_output - <<'EOF'
1000	a	1
1000	b	1
1000	c	1
1000	d	1
1000	e	1
1000	f	1
1000	g	1
1000	h	1
2000	a	3
2000	d	2
2000	e	3
2000	g	6
3000	b	2
3000	c	2
3000	e	7
3000	h	4
4000	b	3
4000	f	2
6000	d	3
EOF
    run pcli read "$T/ck" words 2
    assert_output "closed 3000 6"
    run pcli read "$T/ck" words 0
    assert_output "closed 6000 5"
    run --separate-stderr member "$T/b" --emit updated
    assert_success
    assert_equal "$stderr" ""
    printf '%s\n' "$output" >"$T/b.out"
    assert_output - <<'EOF'
4000	a	4
4000	e	8
6000	c	4
6000	g	7
EOF
    run pcli read "$T/ck" words 3
    assert_output "closed 6000 8"
    # together, what one member holding every partition gives
    frames "${B[@]}" | sstream-state --update sum --no-checkpoint \
        --emit updated | sstream-sink --tsv >"$T/one"
    run env LC_ALL=C sort -t "$(printf '\t')" -k1,1n -k2,2 "$T/a.out" "$T/b.out"
    cmp "$T/one" <(printf '%s\n' "$output")
}

@test "pstate: two members alongside: the receiver waits for the lock, then goes on" {
    mapfile -t ha < <(holds 0,1,2,3 3; holds 0,1 3)
    mapfile -t hb < <(holds none 3; holds 2,3 3)
    frames --kafka words:4 "${ha[@]}" "${B[@]}" >"$T/a"
    frames --kafka words:4 "${hb[@]}" "${B[@]}" >"$T/b"
    # A reads batches 1-3 from a fifo and holds partitions 2 and 3 while
    # B starts and comes to its batch 4, which needs them: B waits for
    # their lock until A reads batch 4 and gives them up.
    mkfifo "$T/fifo"
    member "$T/fifo" --emit updated >"$T/a.out" 2>"$T/a.err" &
    PIDS=($!)
    exec 7>"$T/fifo"
    frames --kafka words:4 "${ha[@]}" --no-end "${B[@]:0:3}" >&7
    for i in $(seq 1 150); do
        [ "$(pcli read "$T/ck" words 2)" = "open 3000 6" ] && break
        sleep 0.1
    done
    member "$T/b" --emit updated --lock-wait 60s >"$T/b.out" 2>"$T/b.err" &
    PIDS+=($!)
    frames --kafka words:4 "${ha[@]}" --skip 3 "${B[@]}" >&7
    exec 7>&-
    wait "${PIDS[0]}"
    wait "${PIDS[1]}"
    assert_equal "$(cat "$T/a.err" "$T/b.err")" ""
    run cat "$T/b.out"
    assert_output - <<'EOF'
4000	a	4
4000	e	8
6000	c	4
6000	g	7
EOF
}

# state IN ARGS...: sstream-state --by-partition over IN into $T/out
state() {
    local in=$1
    shift
    sstream-state --update sum --by-partition --checkpoint "$T/ck" "$@" \
        <"$in" >"$T/out"
}

# Partition 2 alone (keys e and g), held through all six batches.
p2() {
    frames --kafka words:4 $(holds 2 6) "$@" "${B[@]}"
}

@test "pstate: kill -9 between a batch's line and its save: the state resumes at the line of its checkpoint" {
    p2 >"$T/in"
    SSTREAM_TEST_CRASH_AT=save:3 run state "$T/in"
    assert_equal "$status" 137
    run pcli read "$T/ck" words 2
    assert_output "open 3000 6"
    run pcli recover "$T/ck" words 2
    assert_output "next 5"
    # the source starts partition 2 at 5: batch 3000 again
    p2 --skip 2 >"$T/in"
    run --separate-stderr member "$T/in"
    assert_success
    assert_equal "$stderr" ""
    assert_output - <<'EOF'
3000	e	7
3000	g	6
4000	e	8
4000	g	6
5000	e	8
5000	g	6
6000	e	8
6000	g	7
EOF
    run pcli read "$T/ck" words 2
    assert_output "closed 6000 8"
}

@test "pstate: kill -9 after the save: recover gives the newest line, and the batch replays" {
    p2 >"$T/in"
    SSTREAM_TEST_CRASH_AT=emit:3 run state "$T/in"
    assert_equal "$status" 137
    run pcli read "$T/ck" words 2
    assert_output "open 3000 6"
    run pcli recover "$T/ck" words 2
    assert_output "next 6"
    # a restart that sends batch 3000 again gets its output again
    p2 --skip 2 >"$T/in"
    run --separate-stderr member "$T/in"
    assert_success
    assert_output - <<'EOF'
3000	e	7
3000	g	6
4000	e	8
4000	g	6
5000	e	8
5000	g	6
6000	e	8
6000	g	7
EOF
}

@test "pstate: a batch that starts a partition elsewhere than its state stands: exit 1, never silent" {
    p2 >"$T/in"
    SSTREAM_TEST_CRASH_AT=save:3 run state "$T/in"
    assert_equal "$status" 137
    p2 --skip 3 >"$T/in"
    run --separate-stderr member "$T/in"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-state: --by-partition: the state of 'words[2]' reaches offset 5, but batch 4000 starts it at 6 (give sstream-source --partition-state DIR, so that it starts the partition where its state stands)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    run pcli read "$T/ck" words 2
    assert_output "open 3000 6"
}

@test "pstate: a held partition's batch that does not start where the one before ended it: exit 1" {
    # b is of partition 1 by CRC-32 % 4
    frames --offsets 'words:4:1=0-1' --offsets 'words:4:1=3-4' 'b:1' 'b:1' \
        >"$T/in"
    run --separate-stderr member "$T/in"
    assert_failure 1
    assert_output "1000	b	1"
    assert_equal "${stderr_lines[0]}" "sstream-state: --by-partition: the state of 'words[1]' reaches offset 1, but batch 2000 starts it at 3 (the batches of a partition follow one another from the source on)"
}

@test "pstate: records of partitions not held, and keyless ones, are rejects" {
    frames --kafka words:4 --deliver all $(holds 0,1 2) 'a:1 b:2 :5 d:1' \
        'h:1 f:2' >"$T/in"
    run --separate-stderr member "$T/in" --rejects "$T/rej"
    assert_success
    assert_output - <<'EOF'
1000	b	2
1000	d	1
2000	b	2
2000	d	1
2000	f	2
EOF
    assert_equal "$stderr" "sstream-state: batch 1000, record 1: key 'a' is of partition 3 of 'words', which this member does not hold
sstream-state: batch 1000, record 3: no key (--by-partition keeps the state of a key with its Kafka partition)
sstream-state: batch 2000, record 1: key 'h' is of partition 3 of 'words', which this member does not hold
sstream-state: 3 rejected records kept in '$T/rej'"
    run cat "$T/rej"
    assert_output "$(printf 'a\t1\n\t5\nh\t1')"
}

@test "pstate: a partition whose lock a live process holds: a wait, then a clear failure" {
    mkfifo "$T/cmd"
    "$SSTREAM_BIN/tests/pstate-cli" hold "$T/ck" words 2 1000 <"$T/cmd" \
        >"$T/holder" &
    PIDS=($!)
    exec 7>"$T/cmd"
    wait_lines "$T/holder" 2
    frames --kafka words:4 --hold 2 "${B[0]}" >"$T/in"
    run --separate-stderr member "$T/in" --lock-wait 300ms
    assert_failure 1
    assert_equal "$stderr" "sstream-state: partition state '$T/ck/words-2' is held by process ${PIDS[0]}, still after 300 ms (another member keeps the partition: stop it, or wait until it gives the partition up)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    exec 7>&-
    wait "${PIDS[0]}"
    run pcli read "$T/ck" words 2
    assert_output "closed none"
}

@test "pstate: a batch without offsets, or of a topic with other partitions: exit 1" {
    frames "${B[0]}" >"$T/in"
    run --separate-stderr member "$T/in"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: --by-partition: batch 1000 carries no Kafka offsets (--by-partition reads sstream-source --kafka with one --topic, through stages that pass the field on)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    frames --offsets words:4:0=0-0 --offsets words:6:0=0-0 - - >"$T/in"
    run --separate-stderr member "$T/in"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: --by-partition: topic 'words' has 6 partitions from batch 2000 on, 4 before: keys now land on other partitions than their state (a state by partition cannot follow; start it again in a new --checkpoint DIR)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    frames --offsets words:4:0=0-0 --offsets news:4:0=0-0 - - >"$T/in"
    run --separate-stderr member "$T/in"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: --by-partition: batch 2000 is of topic 'news', the state of topic 'words' (one --topic per --checkpoint DIR)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "pstate: holding no partition, the stage still sends a frame per batch" {
    frames --kafka words:4 $(holds none 3) "${B[@]:0:3}" >"$T/in"
    state "$T/in"
    run "$PY" -c 'import sys
sys.path.insert(0, sys.argv[1])
import frames
for kind, t, _, _, recs in frames.read_frames(open(sys.argv[2], "rb").read()):
    print(kind, t, len(recs))' "$TESTS_DIR/helpers" "$T/out"
    assert_output - <<'EOF'
1 1000 0
1 2000 0
1 3000 0
2 3000 0
EOF
}

@test "pstate: usage errors exit 2" {
    local msgs=(
        "--by-partition needs --checkpoint DIR (the state moves between members through it)"
        "--by-partition runs an engine per partition held: not with --parallel"
        "--by-partition: not with --initial (the state of each partition starts empty)"
        "--by-partition: not with --import (the state of each partition starts empty)"
        "--lock-wait needs --by-partition"
        "--by-partition: not with --update-exec (yet)"
    )
    local args=(
        "--by-partition --no-checkpoint"
        "--by-partition --checkpoint $T/ck --parallel 2"
        "--by-partition --checkpoint $T/ck --initial $T/f"
        "--by-partition --checkpoint $T/ck --import $T/f"
        "--checkpoint $T/ck --lock-wait 1s"
        "--by-partition --checkpoint $T/ck --update-exec cat"
    )
    local k
    for k in "${!args[@]}"; do
        run --separate-stderr sstream-state --update sum ${args[$k]} </dev/null
        assert_failure 2
        assert_equal "${stderr%%$'\n'*}" "sstream-state: ${msgs[$k]}"
    done
    run --separate-stderr sstream-state --by-partition --update sum </dev/null
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-state: ${msgs[0]}"
}

@test "pstate: the offsets field passes through --parallel and --by-partition stages" {
    mapfile -t h < <(holds none 1; holds 0,1,2,3 2; holds 1 3)
    frames --kafka words:4 "${h[@]}" "${B[@]}" >"$T/in"
    # running counts, their running sums, and the sums' maximum: a field
    # lost or misplaced on the way stops the second or third stage
    run --separate-stderr bash -c 'set -o pipefail
        sstream-state --update count --no-checkpoint --parallel 2 --emit updated <"$1" |
        sstream-state --update sum --by-partition --checkpoint "$2/ck1" --emit updated |
        sstream-state --update max --by-partition --checkpoint "$2/ck2" |
        sstream-sink --tsv' _ "$T/in" "$T"
    assert_success
    assert_equal "$stderr" ""
    assert_output - <<'EOF'
2000	a	1
2000	d	1
2000	e	2
2000	g	1
3000	a	1
3000	b	1
3000	c	1
3000	d	1
3000	e	5
3000	g	1
3000	h	1
4000	b	3
5000	b	3
6000	b	3
EOF
}

@test "pstate: position files: malformed ones are said with their name; no line, no checkpoint" {
    mkdir -p "$T/ck/words-1"
    printf 'opened\n' >"$T/ck/words-1/position"
    run --separate-stderr pcli read "$T/ck" words 1
    assert_failure 1
    assert_equal "$stderr" "pstate-cli: partition state '$T/ck/words-1/position': not a position file (open or closed, then lines of TIME NEXT)"
    frames --kafka words:4 --hold 1 "${B[0]}" >"$T/in"
    run --separate-stderr member "$T/in"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-state: partition state '$T/ck/words-1/position': not a position file (open or closed, then lines of TIME NEXT)"
    printf 'open\n1000 4\n2000 x\n' >"$T/ck/words-1/position"
    run pcli read "$T/ck" words 1
    assert_failure 1
    # a holder that died before its first save: a line, no checkpoint
    printf 'open\n1000 4\n' >"$T/ck/words-1/position"
    run pcli read "$T/ck" words 1
    assert_output "open 1000 4"
    run pcli recover "$T/ck" words 1
    assert_output "none"
    # its state is empty, which --dump says by printing nothing
    run --separate-stderr sstream-state --dump "$T/ck"
    assert_success
    assert_output ""
    printf 'closed\n' >"$T/ck/words-1/position"
    run pcli read "$T/ck" words 1
    assert_output "closed none"
    run pcli read "$T/ck" words 3
    assert_output "none"
}
