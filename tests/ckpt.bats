#!/usr/bin/env bats
# lib/ckpt through tests/unit/ckpt-cli.c: snapshots, delta logs, options,
# corruption, crashes.

load helpers/common

cli() {
    "$SSTREAM_BIN/tests/ckpt-cli" "$@"
}

# Five batches: a snapshot at 1000, 2000 (forced) and 4000 (forced),
# deltas at 3000 and 5000. Generations 1, 2 and 3.
five() {
    cli "$1" update=sum timeout=none <<'EOF'
b 1000
p a 1
x o1
e
b 2000
p a 2
S
x o2
e
b 3000
p b 3
x o3
e
b 4000
p a 4
S
x o4
e
b 5000
p c 5
d b
x o5
e
EOF
}

flip() {
    $PY -c 'import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[at] ^= 1; open(p, "wb").write(b)' "$@"
}

@test "ckpt: deltas and snapshots load back in order, blobs kept" {
    run five "$BATS_TEST_TMPDIR/c"
    assert_success
    assert_output - <<'EOF'
time none
snap 1000
snap 2000
delta 3000
snap 4000
delta 5000
EOF
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none </dev/null
    assert_success
    assert_output - <<'EOF'
time 5000
a=4
c=5
blob 3000 o3
blob 4000 o4
blob 5000 o5
EOF
    assert_equal "$stderr" ""
    run ls "$BATS_TEST_TMPDIR/c"
    assert_output - <<'EOF'
000000000001.log
000000000001.snap
000000000002.log
000000000002.snap
000000000003.log
000000000003.snap
EOF
}

@test "ckpt: the log is compacted once it outgrows its snapshot" {
    run cli "$BATS_TEST_TMPDIR/c" o=1 <<'EOF'
b 1000
p a 1
e
b 2000
p a 2
e
b 3000
p a 3
e
b 4000
p a 4
e
b 5000
p a 5
e
EOF
    assert_output - <<'EOF'
time none
snap 1000
delta 2000
snap 3000
delta 4000
snap 5000
EOF
}

@test "ckpt: only the newest three generations are kept" {
    printf 'b %s\np k %s\nS\ne\n' 1 1 2 2 3 3 4 4 5 5 |
        cli "$BATS_TEST_TMPDIR/c" o=1 >/dev/null
    run ls "$BATS_TEST_TMPDIR/c"
    assert_output - <<'EOF'
000000000003.log
000000000003.snap
000000000004.log
000000000004.snap
000000000005.log
000000000005.snap
EOF
}

@test "ckpt: other options are refused, naming the option and old value" {
    five "$BATS_TEST_TMPDIR/c" >/dev/null
    cp -r "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/before"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=count timeout=none <<<'b 6000
e'
    assert_failure 2
    assert_output ""
    assert_equal "$stderr" "ckpt-cli: checkpoint '$BATS_TEST_TMPDIR/c' was made with --update sum, not --update count (use another --checkpoint DIR, or --dump it and --import)"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none window=2s </dev/null
    assert_failure 2
    assert_equal "$stderr" "ckpt-cli: checkpoint '$BATS_TEST_TMPDIR/c' was made without --window (use another --checkpoint DIR, or --dump it and --import)"
    run diff -r "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/c"
    assert_success
}

@test "ckpt: an unknown format version is refused, nothing overwritten" {
    five "$BATS_TEST_TMPDIR/c" >/dev/null
    flip "$BATS_TEST_TMPDIR/c/000000000003.snap" 4
    cp -r "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/before"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none <<<'b 6000
e'
    assert_failure 2
    assert_equal "$stderr" "ckpt-cli: checkpoint '$BATS_TEST_TMPDIR/c/000000000003.snap' has format version 3; this sstream reads version 2 (start with a new --checkpoint DIR)"
    run diff -r "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/c"
    assert_success
}

# The state five() leaves, as the cli prints it
FIVE='time 5000
a=4
c=5
blob 3000 o3
blob 4000 o4
blob 5000 o5'

@test "ckpt: a corrupt newest snapshot: the one before and the logs give the same state" {
    five "$BATS_TEST_TMPDIR/c" >/dev/null
    cp -r "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/d"
    flip "$BATS_TEST_TMPDIR/c/000000000003.snap" 60
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none <<<'r 9000'
    assert_success
    assert_output "$FIVE
resume 9000"
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/c/000000000003.snap': checksum mismatch; using the one before it"
    # both newer snapshots: generation 1 and every log after it
    flip "$BATS_TEST_TMPDIR/c/000000000002.snap" 60
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none </dev/null
    assert_output "$FIVE"
    truncate -s 30 "$BATS_TEST_TMPDIR/d/000000000003.snap"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/d" update=sum timeout=none </dev/null
    assert_success
    assert_output "$FIVE"
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/d/000000000003.snap': truncated; using the one before it"
}

@test "ckpt: a corrupt snapshot whose log is gone leaves the state behind" {
    five "$BATS_TEST_TMPDIR/c" >/dev/null
    flip "$BATS_TEST_TMPDIR/c/000000000003.snap" 60
    mv "$BATS_TEST_TMPDIR/c/000000000003.log" "$BATS_TEST_TMPDIR/log3"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none <<<'r 4000'
    assert_success
    assert_output - <<EOF
time 3000
behind $BATS_TEST_TMPDIR/c/000000000003.snap 0
a=2
b=3
blob 1000 o1
blob 2000 o2
blob 3000 o3
resume 4000
EOF
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none <<<'r 5000 1000'
    assert_failure 1
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/c/000000000003.snap': checksum mismatch; using the one before it
ckpt-cli: checkpoint '$BATS_TEST_TMPDIR/c/000000000003.snap' is corrupt: the state goes back to batch time 3000, but the input resumes at batch time 5000, so the batches in between would be missing
ckpt-cli: restore '$BATS_TEST_TMPDIR/c' from a backup, or send the input again from batch time 4000 (a --wal that still holds it), or move '$BATS_TEST_TMPDIR/c/000000000003.snap' away to go on without those batches"
    # moved away, the loss is accepted
    mv "$BATS_TEST_TMPDIR/c/000000000003.snap" "$BATS_TEST_TMPDIR/snap3"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none <<<'r 5000'
    assert_success
    assert_line --index 0 "time 3000"
    assert_line --index 6 "resume 5000"
    assert_equal "$stderr" ""
}

@test "ckpt: no valid snapshot at all: nothing may resume" {
    printf 'b 1000\np a 1\ne\n' | cli "$BATS_TEST_TMPDIR/c" o=1 >/dev/null
    flip "$BATS_TEST_TMPDIR/c/000000000001.snap" 60
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" o=1 <<<'r 1000'
    assert_failure 1
    assert_output - <<EOF
time none
behind $BATS_TEST_TMPDIR/c/000000000001.snap 0
EOF
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/c/000000000001.snap': checksum mismatch; using the one before it
ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/c': no valid snapshot; starting empty
ckpt-cli: checkpoint '$BATS_TEST_TMPDIR/c/000000000001.snap' is corrupt and no older state is left
ckpt-cli: restore '$BATS_TEST_TMPDIR/c' from a backup, or move '$BATS_TEST_TMPDIR/c/000000000001.snap' away to start with an empty state"
}

# The newest log of five(): a header (40 bytes), the lead entry of the
# snapshot's batch 4000 (40-72), the entry of 5000 (73-108).
@test "ckpt: a torn last log entry is a crash: ignored, nothing lost" {
    five "$BATS_TEST_TMPDIR/c" >/dev/null
    cp -r "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/d"
    truncate -s -2 "$BATS_TEST_TMPDIR/c/000000000003.log"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" update=sum timeout=none <<<'r 9000'
    assert_success
    assert_output - <<'EOF'
time 4000
a=4
b=3
blob 2000 o2
blob 3000 o3
blob 4000 o4
resume 9000
EOF
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/c/000000000003.log': torn entry (a crash while writing) at byte 73; state restored to batch time 4000"
    # zeros after the last entry: a file system that grew the file first
    head -c 30 /dev/zero >>"$BATS_TEST_TMPDIR/d/000000000003.log"
    run --separate-stderr cli "$BATS_TEST_TMPDIR/d" update=sum timeout=none </dev/null
    assert_output "$FIVE"
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$BATS_TEST_TMPDIR/d/000000000003.log': torn entry (a crash while writing) at byte 109; state restored to batch time 5000"
}

@test "ckpt: a corrupt log entry leaves the state behind: the input must go back" {
    five "$BATS_TEST_TMPDIR/c" >/dev/null
    d=$BATS_TEST_TMPDIR/d
    # 90: the body of the last entry; 50: the lead entry, a valid one
    # after it; 79 bit 0: the last entry's length made 64 KiB longer
    for at in 90:73 50:40 79:73; do
        rm -rf "$d"
        cp -r "$BATS_TEST_TMPDIR/c" "$d"
        flip "$d/000000000003.log" "${at%:*}"
        run --separate-stderr cli "$d" update=sum timeout=none <<<'r 5000'
        assert_success
        assert_line --index 0 "time 4000"
        assert_line --index 1 "behind $d/000000000003.log ${at#*:}"
        assert_line --index 7 "resume 5000"
        assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$d/000000000003.log': corrupt entry at byte ${at#*:}; state restored to batch time 4000"
    done
    run --separate-stderr cli "$d" update=sum timeout=none <<<'r 6000 1000'
    assert_failure 1
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$d/000000000003.log': corrupt entry at byte 73; state restored to batch time 4000
ckpt-cli: checkpoint '$d/000000000003.log' is corrupt: the state goes back to batch time 4000, but the input resumes at batch time 6000, so the batches in between would be missing
ckpt-cli: restore '$d' from a backup, or send the input again from batch time 5000 (a --wal that still holds it), or cut '$d/000000000003.log' to 73 bytes (truncate -s 73) to go on without those batches"
    # a corrupt snapshot too: the log's cut is what to name
    flip "$d/000000000003.snap" 60
    run --separate-stderr cli "$d" update=sum timeout=none </dev/null
    assert_line --index 1 "behind $d/000000000003.log 73"
    # cut as told, the loss is accepted
    truncate -s 73 "$d/000000000003.log"
    run --separate-stderr cli "$d" update=sum timeout=none <<<'r 6000'
    assert_success
    assert_line --index 0 "time 4000"
    assert_line --index 6 "resume 6000"
    assert_equal "$stderr" "ckpt-cli: warning: checkpoint '$d/000000000003.snap': checksum mismatch; using the one before it"
}

@test "ckpt: kill -9 halfway through any write keeps the last whole state" {
    for k in 1 2 3 4 5 6; do
        rm -rf "$BATS_TEST_TMPDIR/c"
        run env SSTREAM_TEST_CRASH_AT=ckpt-write:$k "$SSTREAM_BIN/tests/ckpt-cli" "$BATS_TEST_TMPDIR/c" o=1 <<'EOF'
b 1000
p a 1
e
b 2000
p a 2
e
b 3000
p a 3
S
e
b 4000
p a 4
e
EOF
        assert_failure 137
        # writes: 1 snap 1000, 2 its log, 3 delta 2000, 4 snap 3000, 5 its
        # log, 6 delta 4000; a renamed snapshot counts without its log
        case $k in
        1) want="time none" ;;
        2 | 3) want="time 1000" ;;
        4) want="time 2000" ;;
        5 | 6) want="time 3000" ;;
        esac
        run --separate-stderr cli "$BATS_TEST_TMPDIR/c" o=1 </dev/null
        assert_success
        assert_line --index 0 "$want"
        run ls -a "$BATS_TEST_TMPDIR/c"
        refute_output --partial ".tmp"
    done
}

@test "ckpt: a crash between fsync and rename leaves the older snapshot" {
    run env SSTREAM_TEST_CRASH_AT=ckpt-rename:2 "$SSTREAM_BIN/tests/ckpt-cli" "$BATS_TEST_TMPDIR/c" o=1 <<'EOF'
b 1000
p a 1
e
b 2000
p a 2
S
e
EOF
    assert_failure 137
    run --separate-stderr cli "$BATS_TEST_TMPDIR/c" o=1 </dev/null
    assert_output - <<'EOF'
time 1000
a=1
EOF
}
