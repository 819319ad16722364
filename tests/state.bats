#!/usr/bin/env bats
# sstream-state: running state per key, timeouts, checkpoints, restarts.
# Keyed input comes from tests/helpers/kvframes.py: each file a batch at
# 1000, 2000, ...; a word is the record (word, 1), as a word count maps it.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    # 1: a b a   2: b c   3: (empty)   4: a   5: d b
    batches "$T/w" "a b a" "b c" - "a" "d b"
}

# feed DIR [FIRST [LAST]]: keyed frames of those batches
feed() {
    "$PY" "$TESTS_DIR/helpers/kvframes.py" "$@"
}

# st FIRST LAST ARGS...: batches FIRST..LAST of $T/w through sstream-state
# ARGS into sstream-sink --tsv
st() {
    local first=$1 last=$2
    shift 2
    set -o pipefail
    feed "$T/w" "$first" "$last" | sstream-state "$@" | sstream-sink --tsv
}

@test "state: running word count, --emit all (the default)" {
    run --separate-stderr st 1 5 --update sum --no-checkpoint
    assert_success
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	a	2
2000	b	2
2000	c	1
3000	a	2
3000	b	2
3000	c	1
4000	a	3
4000	b	2
4000	c	1
5000	a	3
5000	b	3
5000	c	1
5000	d	1
EOF
    assert_equal "$stderr" ""
}

@test "state: running word count, --emit updated" {
    run --separate-stderr st 1 5 --update sum --emit updated --no-checkpoint
    assert_success
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	b	2
2000	c	1
4000	a	3
5000	b	3
5000	d	1
EOF
}

@test "state: running word count, --emit expired marks timed out keys" {
    run --separate-stderr st 1 5 --update count --emit expired --timeout 1s \
        --no-checkpoint
    assert_success
    # a: last seen 1000, idle more than 1s at 3000; b, c: seen 2000, gone
    # at 4000; a comes back at 4000 as a new key.
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	b	2
2000	c	1
3000	a	2	expired
4000	a	1
4000	b	2	expired
4000	c	1	expired
5000	b	1
5000	d	1
EOF
}

@test "state: --timeout removes keys idle for more than the timeout" {
    # c, seen at 2000: still there at 4000 (idle 2s), gone at 5000
    run st 1 5 --update sum --timeout 2s --no-checkpoint
    assert_success
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	a	2
2000	b	2
2000	c	1
3000	a	2
3000	b	2
3000	c	1
4000	a	3
4000	b	2
4000	c	1
5000	a	3
5000	b	3
5000	d	1
EOF
    # with --emit updated, expired keys leave without a word
    run st 1 5 --update sum --timeout 1s --emit updated --no-checkpoint
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	b	2
2000	c	1
4000	a	1
5000	b	1
5000	d	1
EOF
}

@test "state: every --emit and --timeout equals the model of Spark's semantics" {
    # tests/helpers/state-model.py, written from Spark's documentation and
    # source (strictly older than batch time - timeout; mapWithState's
    # record per input record), not from ours
    batches "$T/m" "a b a c" "b c" - "a a" "d b" - - "c"
    for op in sum count; do
        for to in 0 1000 2000 3000; do
            for emit in all updated expired records; do
                targs=()
                [ $to = 0 ] || targs=(--timeout ${to}ms)
                "$PY" "$TESTS_DIR/helpers/state-model.py" "$T/m" $op $to \
                    $emit >"$T/want"
                "$PY" "$TESTS_DIR/helpers/kvframes.py" "$T/m" |
                    sstream-state --update $op --emit $emit "${targs[@]}" \
                        --no-checkpoint | sstream-sink --tsv >"$T/got"
                diff "$T/want" "$T/got" ||
                    fail "$op, timeout $to, --emit $emit differs"
            done
        done
    done
    # the model's own view of one case, so that it cannot drift unseen
    run "$PY" "$TESTS_DIR/helpers/state-model.py" "$T/m" sum 1000 records
    assert_output - <<'EOF'
1000	a	1
1000	b	1
1000	a	2
1000	c	1
2000	b	2
2000	c	2
4000	a	1
4000	a	2
5000	d	1
5000	b	1
8000	c	1
EOF
}

@test "state: other operators and --separator" {
    mkdir "$T/v"
    printf 'k\t3\nk\t1.5\nj\tx\n' >"$T/v/1"
    printf 'k\t-2\nj\ty\n' >"$T/v/2"
    run --separate-stderr bash -c "set -o pipefail; '$PY' '$TESTS_DIR/helpers/kvframes.py' '$T/v' | sstream-state --update concat --separator ';' --no-checkpoint | sstream-sink --tsv"
    assert_output - <<'EOF'
1000	j	x
1000	k	3;1.5
2000	j	x;y
2000	k	3;1.5;-2
EOF
    for op in min max mean first last; do
        run bash -c "'$PY' '$TESTS_DIR/helpers/kvframes.py' '$T/v' | sstream-state --update $op --emit updated --no-checkpoint 2>/dev/null | sstream-sink --tsv | grep k | tr '\n' ' '"
        echo "$op: $output" >>"$T/ops"
    done
    run cat "$T/ops"
    assert_output - <<'EOF'
min: 1000	k	1.5 2000	k	-2 
max: 1000	k	3 2000	k	3 
mean: 1000	k	2.25 2000	k	0.8333333333333334 
first: 1000	k	3 2000	k	3 
last: 1000	k	1.5 2000	k	-2 
EOF
}

@test "state: batches 1-3, then 1-5 on the same checkpoint, equal one run" {
    for emit in all updated expired; do
        st 1 5 --update count --emit "$emit" --timeout 2s --no-checkpoint \
            >"$T/want-$emit"
        st 1 3 --update count --emit "$emit" --timeout 2s \
            --checkpoint "$T/c-$emit" >"$T/got-$emit"
        run --separate-stderr st 1 5 --update count --emit "$emit" \
            --timeout 2s --checkpoint "$T/c-$emit"
        assert_success
        assert_equal "$stderr" "sstream-state: 3 replayed batches (1000 to 3000) not applied again, output re-emitted"
        assert_output "$(cat "$T/want-$emit")"
    done
    # the first run's output is the first three batches of the whole
    run cat "$T/got-all"
    assert_output "$(grep -E '^[123]000' "$T/want-all")"
}

@test "state: a checkpoint survives restarts; --dump prints it" {
    st 1 2 --update sum --checkpoint "$T/c" >/dev/null
    st 3 4 --update sum --checkpoint "$T/c" >/dev/null
    run --separate-stderr st 5 5 --update sum --checkpoint "$T/c"
    assert_output - <<'EOF'
5000	a	3
5000	b	3
5000	c	1
5000	d	1
EOF
    run --separate-stderr sstream-state --dump "$T/c"
    assert_success
    assert_output - <<'EOF'
a	3
b	3
c	1
d	1
EOF
    assert_equal "$stderr" "sstream-state: checkpoint '$T/c': batch time 5000, 4 keys"
}

# crash POINT:N: run batches 1-5 with the crash hook, then restart on the
# batches from the first one whose output did not arrive (--print shows
# every batch, empty ones too); the two outputs together must equal an
# uninterrupted run, and so must the final state.
crash_case() {
    local c="$T/c-${1/:/-}" k
    rm -rf "$c"
    feed "$T/w" 1 5 |
        SSTREAM_TEST_CRASH_AT=$1 sstream-state "${args[@]}" --checkpoint "$c" 2>/dev/null |
        sstream-sink --print >"$T/got" 2>/dev/null && return 1
    k=$(($(grep -c '^Time:' "$T/got") + 1))
    [ "$k" -le 5 ] || return 1
    feed "$T/w" "$k" 5 | sstream-state "${args[@]}" --checkpoint "$c" 2>/dev/null |
        sstream-sink --print >>"$T/got"
    diff "$T/want" "$T/got" || return 1
    sstream-state --dump "$c" 2>/dev/null | diff "$T/want-dump" - || return 1
}

@test "state: kill -9 at any point, restart from the lost batch: exact" {
    args=(--update count --emit updated --timeout 3s --keep-outputs 3)
    feed "$T/w" | sstream-state "${args[@]}" --no-checkpoint |
        sstream-sink --print >"$T/want"
    st 1 5 "${args[@]}" --checkpoint "$T/ref" >/dev/null
    sstream-state --dump "$T/ref" >"$T/want-dump" 2>/dev/null
    for p in batch:1 batch:2 batch:4 batch:5 save:1 save:3 emit:1 emit:2 \
        emit:4 emit:5 ckpt-write:1 ckpt-write:2 ckpt-write:3 ckpt-write:4 \
        ckpt-write:5 ckpt-write:6 ckpt-rename:1 ckpt-rename:2; do
        run crash_case "$p"
        assert_success
    done
}

@test "state: a corrupt newest checkpoint is reported, the one before used: exact" {
    args=(--update sum --emit updated --checkpoint-interval 2s)
    st 1 5 --update sum --emit updated --no-checkpoint >"$T/want"
    for how in flip truncate; do
        rm -rf "$T/c"
        st 1 5 "${args[@]}" --checkpoint "$T/c" >/dev/null
        newest=$(ls "$T/c" | grep snap | tail -n 1)
        if [ $how = flip ]; then
            "$PY" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[50] ^= 0x20
open(sys.argv[1], "wb").write(b)' "$T/c/$newest"
            why="checksum mismatch"
        else
            truncate -s -5 "$T/c/$newest"
            why=truncated
        fi
        run --separate-stderr st 1 5 "${args[@]}" --checkpoint "$T/c"
        assert_success
        assert_output "$(cat "$T/want")"
        assert_equal "$stderr" "sstream-state: warning: checkpoint '$T/c/$newest': $why; using the one before it
sstream-state: 5 replayed batches (1000 to 5000) not applied again, output re-emitted"
    done
}

# ---- a corrupt newest checkpoint ----
#
# Batches 1-5 with --checkpoint-interval 3s: 1.snap at 1000 and its log
# (1000, 2000, 3000); 2.snap at 4000 and its log: a header (40 bytes),
# the entry of 4000 (40-139: the snapshot's batch, so that 1.snap and the
# logs reach 4000 too), the entry of 5000 (140-275).

# ck5 DIR: that checkpoint; want6: batches 1-6 uninterrupted
ck5() {
    batches "$T/w6" "a b a" "b c" - "a" "d b" "c a"
    feed "$T/w6" 1 5 | sstream-state "${ckargs[@]}" --checkpoint "$1" \
        >/dev/null
    feed "$T/w6" | sstream-state --update sum --emit updated \
        --no-checkpoint | sstream-sink --tsv >"$T/want6"
}
ckargs=(--update sum --emit updated --checkpoint-interval 3s)

# flip FILE AT: one bit of FILE's byte AT
flip() {
    "$PY" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 4
open(sys.argv[1], "wb").write(b)' "$@"
}

# st6 FIRST DIR: batches FIRST..6 of w6 through the state on DIR
st6() {
    set -o pipefail
    feed "$T/w6" "$1" 6 | sstream-state "${ckargs[@]}" --checkpoint "$2" |
        sstream-sink --tsv
}

@test "state: a corrupt newest snapshot costs nothing: the input may go on" {
    ck5 "$T/c"
    flip "$T/c/000000000002.snap" 100
    run --separate-stderr st6 6 "$T/c"
    assert_success
    assert_output "$(grep ^6000 "$T/want6")"
    assert_equal "$stderr" "sstream-state: warning: checkpoint '$T/c/000000000002.snap': checksum mismatch; using the one before it"
}

@test "state: a corrupt entry in the newest log: exact when its batches come again" {
    for at in 60:40 200:140; do
        rm -rf "$T/c"
        ck5 "$T/c"
        flip "$T/c/000000000002.log" "${at%:*}"
        run --separate-stderr st6 5 "$T/c"
        assert_success
        assert_output "$(grep -E '^[56]000' "$T/want6")"
        assert_equal "$stderr" "sstream-state: warning: checkpoint '$T/c/000000000002.log': corrupt entry at byte ${at#*:}; state restored to batch time 4000"
    done
}

@test "state: a corrupt entry in the newest log: exit 1 when its batches do not come again" {
    ck5 "$T/c"
    flip "$T/c/000000000002.log" 200
    feed "$T/w6" 6 6 >"$T/in"
    run --separate-stderr bash -c 'o=$1; shift; sstream-state "$@" <"$0" >"$o"' \
        "$T/in" "$T/out" "${ckargs[@]}" --checkpoint "$T/c"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: warning: checkpoint '$T/c/000000000002.log': corrupt entry at byte 140; state restored to batch time 4000
sstream-state: checkpoint '$T/c/000000000002.log' is corrupt: the state goes back to batch time 4000, but the input resumes at batch time 6000, so the batches in between would be missing
sstream-state: restore '$T/c' from a backup, or send the input again from batch time 5000 (a --wal that still holds it), or cut '$T/c/000000000002.log' to 140 bytes (truncate -s 140) to go on without those batches"
    # no batch went out
    run --separate-stderr sstream-sink --tsv <"$T/out"
    assert_output ""
    # cut as told: the loss of batch 5000 is accepted, and 6000 goes on
    truncate -s 140 "$T/c/000000000002.log"
    run --separate-stderr st6 6 "$T/c"
    assert_success
    assert_output "6000	a	4
6000	c	2"
    assert_equal "$stderr" ""
}

@test "state: a torn last log entry is a crash: no loss, no stop" {
    ck5 "$T/c"
    truncate -s -3 "$T/c/000000000002.log"
    run --separate-stderr st6 5 "$T/c"
    assert_success
    assert_output "$(grep -E '^[56]000' "$T/want6")"
    assert_equal "$stderr" "sstream-state: warning: checkpoint '$T/c/000000000002.log': torn entry (a crash while writing) at byte 140; state restored to batch time 4000"
}

@test "state: another operator or format version is refused, exit 2, nothing touched" {
    st 1 3 --update sum --checkpoint "$T/c" >/dev/null
    cp -a "$T/c" "$T/before"
    feed "$T/w" 4 5 >"$T/in"
    run --separate-stderr sh -c "sstream-state --update count --checkpoint '$T/c' <'$T/in' | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-state: checkpoint '$T/c' was made with --update sum, not --update count (use another --checkpoint DIR, or --dump it and --import)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    run --separate-stderr bash -c "sstream-state --update count --checkpoint '$T/c' <'$T/in' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: checkpoint '$T/c' was made with --update sum, not --update count (use another --checkpoint DIR, or --dump it and --import)"
    run --separate-stderr bash -c "sstream-state --update sum --timeout 5s --checkpoint '$T/c' <'$T/in' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: checkpoint '$T/c' was made with --timeout none, not --timeout 5s (use another --checkpoint DIR, or --dump it and --import)"
    run diff -r "$T/before" "$T/c"
    assert_success
    newest=$(ls "$T/c" | grep snap | tail -n 1)
    printf '\003' | dd of="$T/c/$newest" bs=1 seek=4 conv=notrunc 2>/dev/null
    cp -a "$T/c" "$T/before2"
    run --separate-stderr bash -c "sstream-state --update sum --checkpoint '$T/c' <'$T/in' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: checkpoint '$T/c/$newest' has format version 3; this sstream reads version 2 (start with a new --checkpoint DIR)"
    run diff -r "$T/before2" "$T/c"
    assert_success
}

@test "state: a non-number is reported, counted, kept with --rejects; state exact" {
    mkdir "$T/v"
    printf 'k\t3\nk\tabc\nj\t1\n' >"$T/v/1"
    printf 'k\t9223372036854775807\nk\t2\n' >"$T/v/2"
    run --separate-stderr bash -c "set -o pipefail; '$PY' '$TESTS_DIR/helpers/kvframes.py' '$T/v' | sstream-state --update sum --emit updated --no-checkpoint | sstream-sink --tsv"
    assert_failure 1
    assert_output - <<'EOF2'
1000	j	1
1000	k	3
2000	k	5
EOF2
    assert_equal "$stderr" "sstream-state: batch 1000, record 2: 'abc' is not a number
sstream-state: batch 2000, record 1: '9223372036854775807' takes the sum out of the 64-bit integer range
sstream-state: 2 rejected records not kept (use --rejects FILE)"
    run --separate-stderr bash -c "set -o pipefail; '$PY' '$TESTS_DIR/helpers/kvframes.py' '$T/v' | sstream-state --update sum --rejects '$T/rej' --no-checkpoint | sstream-sink --tsv"
    assert_success
    assert_equal "$(cat "$T/rej")" "k	abc
k	9223372036854775807"
}

@test "state: keyless records are refused" {
    mkdir "$T/d"
    echo x >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 1s | sstream-state --update sum --no-checkpoint | sstream-sink --tsv"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-state: batch 1000: records have no keys (key them first, e.g. with sstream-map)"
}

@test "state: --initial seeds an empty checkpoint only; --import migrates" {
    printf 'a\t10\nz\t5\nbad\n' >"$T/init"
    run --separate-stderr st 1 2 --update sum --emit updated --initial "$T/init" --checkpoint "$T/c"
    assert_failure 1
    assert_output - <<'EOF2'
1000	a	12
1000	b	1
2000	b	2
2000	c	1
EOF2
    assert_equal "$stderr" "sstream-state: --initial: '$T/init': line 3: no tab between key and value
sstream-state: 1 rejected record not kept (use --rejects FILE)"
    # restarted, the checkpoint wins over --initial
    run --separate-stderr st 3 4 --update sum --initial "$T/init" --checkpoint "$T/c"
    assert_success
    assert_output - <<'EOF2'
3000	a	12
3000	b	2
3000	c	1
3000	z	5
4000	a	13
4000	b	2
4000	c	1
4000	z	5
EOF2
    # migrate: dump, import under another operator
    sstream-state --dump "$T/c" >"$T/dump" 2>/dev/null
    cp "$T/dump" "$T/dump2"
    printf 'q\t1.5\n' >>"$T/dump2"
    run --separate-stderr st 5 5 --update count --import "$T/dump2" --checkpoint "$T/c2"
    assert_failure 1
    assert_output - <<'EOF2'
5000	a	13
5000	b	3
5000	c	1
5000	d	1
5000	z	5
EOF2
    assert_equal "$stderr" "sstream-state: --import: '$T/dump2': line 5: '1.5' is not a count
sstream-state: 1 rejected record not kept (use --rejects FILE)"
    run --separate-stderr st 5 5 --update max --import "$T/dump" --checkpoint "$T/c3"
    assert_success
    assert_output - <<'EOF2'
5000	a	13
5000	b	2
5000	c	1
5000	d	1
5000	z	5
EOF2
    feed "$T/w" 5 5 >"$T/in"
    run --separate-stderr sstream-state --update max --import "$T/dump" --checkpoint "$T/c3" <"$T/in"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: --import: checkpoint '$T/c3' already holds state (import into a new --checkpoint DIR)"
}

@test "state: a replay older than the kept outputs stops the stage, never an empty batch" {
    st 1 5 --update sum --emit updated --keep-outputs 2 --checkpoint "$T/c" >/dev/null
    feed "$T/w" 3 5 >"$T/in"
    run --separate-stderr bash -c "sstream-state --update sum --emit updated \
        --keep-outputs 2 --checkpoint '$T/c' <'$T/in' >'$T/out'"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: batch 3000 is a replay (checkpoint '$T/c' is at 5000) older than the 2 batches whose output is kept, and cannot be sent again: restart from sstream-source --wal DIR with sstream-sink --commit DIR, which send again only what is not committed, or give a new stream a new --checkpoint DIR"
    run --separate-stderr sstream-sink --tsv <"$T/out"
    assert_output ""
}

# kf ARGS...: keyed frames (tests/helpers/frames.py --keyed)
kf() {
    "$PY" "$TESTS_DIR/helpers/frames.py" --keyed "$@"
}

@test "state: --keep-outputs too small for what a restart may send again: exit 2 at the first batch" {
    kf --replay-ms 3000 "a:1" "a:2" >"$T/in"
    run --separate-stderr bash -c "sstream-state --update sum --keep-outputs 2 \
        --checkpoint '$T/c' <'$T/in' >'$T/out'"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: --keep-outputs 2 keeps fewer batches than a restart may send again (sstream-source --max-uncommitted reaches back 3s: 3 batches of 1s); give --keep-outputs 3 or more, or leave it out"
    run ls -A "$T/c"
    assert_output ""
    run --separate-stderr bash -c "sstream-state --update sum --keep-outputs 3 \
        --checkpoint '$T/c' <'$T/in' | sstream-sink --tsv"
    assert_success
    assert_output "1000	a	1
2000	a	3"
}

@test "state: without --keep-outputs, what a restart may send again is kept" {
    for i in $(seq 15); do echo "k:$i"; done >"$T/recs"
    mapfile -t recs <"$T/recs"
    kf --replay-ms 12000 "${recs[@]}" >"$T/all"
    sstream-state --update sum --checkpoint "$T/c" <"$T/all" >/dev/null
    # the 12 batches a restart may send again (4000 to 15000): replays
    kf --replay-ms 12000 --skip 3 "${recs[@]}" >"$T/last12"
    run --separate-stderr bash -c "sstream-state --update sum \
        --checkpoint '$T/c' <'$T/last12' >/dev/null"
    assert_success
    assert_equal "$stderr" "sstream-state: 12 replayed batches (4000 to 15000) not applied again, output re-emitted"
    kf --replay-ms 12000 --skip 2 "${recs[@]}" >"$T/last13"
    run --separate-stderr bash -c "sstream-state --update sum \
        --checkpoint '$T/c' <'$T/last13' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: batch 3000 is a replay (checkpoint '$T/c' is at 15000) older than the 12 batches whose output is kept, and cannot be sent again: restart from sstream-source --wal DIR with sstream-sink --commit DIR, which send again only what is not committed, or give a new stream a new --checkpoint DIR"
}

@test "state: a restart that may send again too much, or without bound, is refused (exit 2)" {
    kf --replay-ms 10001000 "a:1" >"$T/in"
    run --separate-stderr bash -c "sstream-state --update sum \
        --checkpoint '$T/c' <'$T/in' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: a restart may send again 10001 batches of 1s (sstream-source --max-uncommitted reaches back 10001s), more than the 10000 whose output this stage keeps unasked; give sstream-source a smaller --max-uncommitted, or this stage --keep-outputs 10001"
    kf --replay-ms 4294967295 "a:1" >"$T/in"
    run --separate-stderr bash -c "sstream-state --update sum \
        --checkpoint '$T/c' <'$T/in' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-state: a restart may send again any number of batches (the frames set no bound: sstream-source --max-uncommitted times -b past 49 days, or another producer), more than this stage can keep the output of; give sstream-source a smaller --max-uncommitted"
    # without a checkpoint there is nothing to replay from
    run --separate-stderr bash -c "sstream-state --update sum \
        --no-checkpoint <'$T/in' | sstream-sink --tsv"
    assert_success
    assert_output "1000	a	1"
}

@test "state: --help and --version go to stdout with exit 0" {
    run --separate-stderr sstream-state --help
    assert_success
    assert_line --index 0 "usage: sstream-state [-hV] (--update OP | --update-exec CMD)"
    assert_equal "$stderr" ""
    run --separate-stderr sstream-state -V
    assert_success
    assert_output "$(sstream-sink --version | sed 's/sink/state/')"
}

@test "state: usage errors exit 2 with a message" {
    u="usage: sstream-state [-hV] --update OP (--checkpoint DIR | --no-checkpoint)"
    check() {
        run --separate-stderr sstream-state "$@"
        assert_failure 2
        assert_output ""
        assert_equal "${stderr%%$'\n'*}" "$msg"
    }
    msg="sstream-state: --checkpoint DIR is required for state, as in Spark (--no-checkpoint for state that may be lost)"
    check --update sum
    msg="sstream-state: --update OP or --update-exec CMD is required"
    check --no-checkpoint
    msg="sstream-state: --update: unknown operator 'avg' (try sum, count, min, max, mean, first, last or concat)"
    check --update avg --no-checkpoint
    msg="sstream-state: --emit: 'some' is not all, updated, expired or records"
    check --update sum --emit some --no-checkpoint
    msg="sstream-state: --checkpoint and --no-checkpoint exclude each other"
    check --update sum --checkpoint "$T/c" --no-checkpoint
    msg="sstream-state: --import and --initial exclude each other"
    check --update sum --no-checkpoint --import a --initial b
    msg="sstream-state: --checkpoint-interval needs --checkpoint DIR"
    check --update sum --no-checkpoint --checkpoint-interval 5s
    msg="sstream-state: --dump takes no other options"
    check --dump "$T/c" --update sum
    msg="sstream-state: unexpected argument 'x'"
    check --update sum --no-checkpoint x
    msg="sstream-state: --timeout: '1x' is not a duration (try 500ms or 2s)"
    check --update sum --no-checkpoint --timeout 1x
    msg="sstream-state: unrecognized option '--bogus'"
    check --bogus
    [ ! -e "$T/c" ]
}

@test "state: --dump of a folder without a checkpoint is an error" {
    mkdir "$T/e"
    run --separate-stderr sstream-state --dump "$T/e"
    assert_failure 1
    assert_equal "$stderr" "sstream-state: --dump: '$T/e' holds no checkpoint"
}

@test "state: source | map | state: running word counts equal awk's, restart included" {
    mkdir "$T/d"
    printf 'to be or not\nto be\n' >"$T/d/1"
    printf 'that is the question\n' >"$T/d/2"
    : >"$T/d/3"
    printf 'to sleep perchance to dream\n' >"$T/d/4"
    # the reference: after each file, every word so far with its count,
    # in byte order
    for i in 1 2 3 4; do
        cat "$T"/d/[1-$i] | tr -s ' ' '\n' | grep . | LC_ALL=C sort | uniq -c |
            awk -v t=$((i * 1000)) '{ printf "%s\t%s\t%s\n", t, $2, $1 }'
    done >"$T/want"
    wc() {
        set -o pipefail
        sstream-source --replay "$1" -b 1s |
            sstream-map --flat-map words --count-by-value |
            sstream-state --update sum --checkpoint "$T/c" | sstream-sink --tsv
    }
    mkdir "$T/first"
    cp "$T/d/1" "$T/d/2" "$T/first/"
    wc "$T/first" >"$T/got" 2>/dev/null
    run --separate-stderr wc "$T/d"
    assert_success
    assert_output "$(cat "$T/want")"
    assert_equal "$stderr" "sstream-state: 2 replayed batches (1000 to 2000) not applied again, output re-emitted"
    run diff <(grep -E '^[12]000' "$T/want") "$T/got"
    assert_success
}

# ---- a batch time is never reused for different data ----

@test "state: a replay is checked against the records of the batch first applied" {
    # the same batches cut into other frames (one record each): a replay
    fr() {
        "$PY" "$TESTS_DIR/helpers/frames.py" --keyed "$@" "a:1 b:2 a:3" "b:4"
    }
    fr >"$T/in1"
    fr --parts 1 >"$T/in2"
    sstream-state --update sum --checkpoint "$T/c" <"$T/in1" >"$T/out1"
    run --separate-stderr bash -c "sstream-state --update sum --checkpoint '$T/c' <'$T/in2' >'$T/out2'"
    assert_success
    assert_equal "$stderr" "sstream-state: 2 replayed batches (1000 to 2000) not applied again, output re-emitted"
    assert_equal "$(sstream-sink --tsv <"$T/out2")" "$(sstream-sink --tsv <"$T/out1")"
}

@test "state: two replay folders into one checkpoint: the second is refused" {
    batches "$T/day1" "a b" "c"
    batches "$T/day2" "d" "e e"
    wc() {
        set -o pipefail
        sstream-source --replay "$1" -b 1s | sstream-map --flat-map words \
            --count-by-value | sstream-state --update sum --checkpoint "$T/c" |
            sstream-sink --tsv
    }
    wc "$T/day1" >/dev/null
    run --separate-stderr wc "$T/day2"
    assert_failure 1
    assert_output ""
    assert_equal "${stderr%%$'\n'*}" "sstream-state: batch 1000 was already used for other records (checkpoint '$T/c' is at 2000): give a new stream a new --checkpoint DIR, and sstream-source --wal DIR (or --state DIR) so that a rerun does not reuse batch times"
    # the state is untouched: day 1's counts
    run --separate-stderr sstream-state --dump "$T/c"
    assert_output "a	1
b	1
c	1"
}
