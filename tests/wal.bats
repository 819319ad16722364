#!/usr/bin/env bats
# sstream-source --wal and sstream-sink --commit: the write-ahead log, its
# commits, and restarts after kill -9. Crashes are made at fixed points
# with SSTREAM_TEST_CRASH_AT=POINT:N (lib/io.h), so that every test
# knows what was durable when the process died. Input is replayed, -b 1s:
# batches 1000 .. 5000.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/in" "a b" "c" "d e" "f" "g"
    mkdir "$T/out"
}

# The saved files as NAME: contents, one per line.
saved() {
    local f
    for f in "$T/out"/*; do
        printf '%s: %s\n' "${f##*/}" "$(tr '\n' ' ' <"$f")"
    done
}

# saved_word W: until a saved file holds the line W (at most 10 s).
saved_word() {
    local i
    for i in $(seq 1 200); do
        cat "$T/out"/* 2>/dev/null | grep -qx "$1" && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$1' in $T/out" >&2
    return 1
}

ALL='p-1000: a b 
p-2000: c 
p-3000: d e 
p-4000: f 
p-5000: g '

@test "wal: a pipeline with --wal and --commit saves every batch and commits the last" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --commit '$T/w'"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(saved)" "$ALL"
    assert_equal "$(cat "$T/w/commit")" 5000
    assert_equal "$(ls "$T/w" | tr '\n' ' ')" "0000000000000001.wal commit commit.lock lock "
}

@test "wal: the log holds the frames as sent, readable with sstream-sink --dump" {
    sstream-source --replay "$T/in" --wal "$T/w" >/dev/null
    run --separate-stderr bash -c "sstream-sink --tsv <'$T/w/0000000000000001.wal'"
    assert_failure 1
    assert_output - <<'EOF'
1000	a
1000	b
2000	c
3000	d
3000	e
4000	f
5000	g
EOF
    assert_equal "$stderr" "sstream-sink: stdin: upstream ended without end-of-stream"
}

@test "wal: kill -9 of the source after a batch was logged: it is sent after the restart, once" {
    run --separate-stderr bash -c "SSTREAM_TEST_CRASH_AT=wal-synced:3 sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --commit '$T/w'"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: stdin: upstream ended without end-of-stream"
    assert_equal "$(cat "$T/w/commit")" 2000
    assert_equal "$(ls "$T/out" | tr '\n' ' ')" "p-1000 p-2000 "
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
3000	d
3000	e
4000	f
5000	g
EOF
    assert_equal "$stderr" "sstream-source: --wal: 1 uncommitted batch (3000 to 3000) sent again from the log"
}

@test "wal: kill -9 of the sink before its commit: the batch is written again, the same" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | SSTREAM_TEST_CRASH_AT=wal-commit:2 sstream-sink --save-as-text-files '$T/out/p' --commit '$T/w'"
    assert_failure
    assert_equal "$(cat "$T/w/commit")" 1000
    assert_equal "$(saved)" "p-1000: a b 
p-2000: c "
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --commit '$T/w'"
    assert_success
    assert_equal "$stderr" "sstream-source: --wal: 4 uncommitted batches (2000 to 5000) sent again from the log"
    assert_equal "$(saved)" "$ALL"
    assert_equal "$(cat "$T/w/commit")" 5000
}

@test "wal: committed batches are not written again on replay" {
    sstream-source --replay "$T/in" --wal "$T/w" | sstream-sink --lines >/dev/null
    printf '3000\n' >"$T/w/commit"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
4000	f
5000	g
EOF
    assert_equal "$stderr" "sstream-source: --wal: 2 uncommitted batches (4000 to 5000) sent again from the log"
}

@test "wal: a torn record at the end of the log is cut off with a warning" {
    run --separate-stderr bash -c "SSTREAM_TEST_CRASH_AT=wal-write:3 sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_failure 1
    assert_output - <<'EOF'
1000	a
1000	b
2000	c
EOF
    assert_equal "$(wc -c <"$T/w/0000000000000001.wal")" 148
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
3000	d
3000	e
4000	f
5000	g
EOF
    assert_equal "$stderr" "sstream-source: --wal: '$T/w/0000000000000001.wal': torn record at byte offset 118 (record cut short): 30 bytes cut off"
}

@test "wal: a corrupt record before the last segment is an error" {
    sstream-source --replay "$T/in" --wal "$T/w" --wal-segment 1 >/dev/null
    printf 'X' | dd of="$T/w/0000000000000002.wal" bs=1 seek=57 conv=notrunc 2>/dev/null
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-source: --wal: '$T/w/0000000000000002.wal': corrupt record at byte offset 0: checksum mismatch
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "wal: segments wholly committed are deleted, the others replayed" {
    sstream-source --replay "$T/in" --wal "$T/w" --wal-segment 1 >/dev/null
    assert_equal "$(ls "$T/w" | tr '\n' ' ')" "0000000000000001.wal 0000000000000002.wal 0000000000000003.wal 0000000000000004.wal 0000000000000005.wal lock "
    printf '3000\n' >"$T/w/commit"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' --wal-segment 1 | sstream-sink --tsv"
    assert_success
    assert_output - <<'EOF'
4000	f
5000	g
EOF
    assert_equal "$(ls "$T/w" | tr '\n' ' ')" "0000000000000004.wal 0000000000000005.wal commit lock "
}

@test "wal: --replay files already in the log are skipped; new ones go on after" {
    sstream-source --replay "$T/in" --wal "$T/w" | sstream-sink --commit "$T/w" --lines >/dev/null
    batches "$T/more" "h" "i"
    cp "$T/more/0001" "$T/in/0006"
    cp "$T/more/0002" "$T/in/0007"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
6000	h
7000	i
EOF
    assert_equal "$stderr" ""
    assert_equal "$(cat "$T/w/commit")" 7000
}

@test "wal: the log's batch interval must be --batch's" {
    sstream-source --replay "$T/in" --wal "$T/w" >/dev/null
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' -b 2s | sstream-sink --tsv"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: '$T/w' holds batches of 1000ms, not --batch 2000ms
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "wal: two sources cannot share a log" {
    mkfifo "$T/f"
    sstream-source --wal "$T/w" <"$T/f" >/dev/null &
    exec 4>"$T/f"
    for i in $(seq 1 100); do
        [ -e "$T/w/lock" ] && break
        sleep 0.05
    done
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/w"
    exec 4>&-
    wait
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: '$T/w' is in use by another sstream-source"
}

@test "wal: kill -TERM of the source drains the pipeline: all exit 0, all committed" {
    mkfifo "$T/in.fifo" "$T/a" "$T/b"
    sstream-source -b 100ms --wal "$T/w" <"$T/in.fifo" >"$T/a" &
    src=$!
    sstream-map -f words <"$T/a" >"$T/b" &
    map=$!
    sstream-sink --save-as-text-files "$T/out/p" --commit "$T/w" <"$T/b" &
    sink=$!
    exec 4>"$T/in.fifo"
    # each line is waited for in the saved files, not for a fixed 0.3 s:
    # under make check's ASan build on a busy machine the source was not
    # yet handling SIGTERM 0.6 s after its start (status 143)
    echo "x y" >&4
    saved_word y
    echo "z" >&4
    saved_word z
    kill -TERM "$src"
    wait "$src"
    assert_equal "$?" 0
    wait "$map"
    assert_equal "$?" 0
    wait "$sink"
    assert_equal "$?" 0
    exec 4>&-
    last=$(sstream-sink --tsv <"$T/w/0000000000000001.wal" 2>/dev/null | tail -n 1)
    assert_equal "$(cat "$T/w/commit")" "$(sstream-sink --dump <"$T/w/0000000000000001.wal" 2>/dev/null | grep '^@' | tail -n 1 | sed 's/.* time=\([0-9]*\) .*/\1/')"
    assert_equal "$(cat "$T/out"/* | tr '\n' ' ')" "x y z "
}

@test "wal: --max-uncommitted keeps the source within N batches of the commit" {
    # At batch T the sink has committed T - 1000, so the source may have
    # logged T + 1000 at most (logged, then held back before sending).
    cat >"$T/check" <<EOF
n=\$(sstream-sink --tsv <"$T/w/0000000000000001.wal" 2>/dev/null | cut -f1 | sort -u | wc -l)
if [ \$n -le \$((SSTREAM_BATCH_TIME / 1000 + 1)) ]; then echo ok; else echo "ahead: \$n"; fi
EOF
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' --max-uncommitted 1 | sstream-sink --foreach 'sh $T/check' --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
ok
ok
ok
ok
ok
EOF
    assert_equal "$stderr" ""
}

@test "wal: --max-uncommitted gives up when no sink commits" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' --max-uncommitted 2 | sstream-sink --lines"
    assert_failure 1
    assert_output - <<'EOF'
a
b
c
EOF
    assert_equal "$stderr" "sstream-source: --max-uncommitted: no sstream-sink is committing to '$T/w' (it has ended, or none was started with --commit '$T/w')
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "wal: without --max-uncommitted the log holds 10 uncommitted batches, no more" {
    # 12 batches, a sink that does not commit: the first 10 go out, the
    # 11th waits for a commit that never comes, and the source gives up
    batches "$T/in12" 1 2 3 4 5 6 7 8 9 10 11 12
    run --separate-stderr bash -c "sstream-source --replay '$T/in12' --wal '$T/w' | sstream-sink --lines"
    assert_failure 1
    assert_output "$(seq 1 10)"
    assert_equal "$stderr" "sstream-source: --max-uncommitted: no sstream-sink is committing to '$T/w' (it has ended, or none was started with --commit '$T/w')
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    # with a sink that commits, all of them
    rm -rf "$T/w"
    run --separate-stderr bash -c "sstream-source --replay '$T/in12' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --commit '$T/w'"
    assert_success
    assert_equal "$(cat "$T/out"/p-* | sort -n | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 11 12 "
    assert_equal "$(cat "$T/w/commit")" 12000
}

@test "wal: usage errors exit 2" {
    run --separate-stderr sstream-source --replay "$T/in" --wal-segment 1k
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --wal-segment: needs --wal"
    run --separate-stderr sstream-source --replay "$T/in" --max-uncommitted 3
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --max-uncommitted: needs --wal"
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/w" --max-uncommitted 0
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --max-uncommitted: 0 (no limit) is refused with --wal: a restart could send again more batches than the stateful stages keep (--keep-outputs, 10); give N of 1 or more (default 10)"
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/w" --max-uncommitted 1000001
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --max-uncommitted: '1000001' is not a whole number from 1 to 1000000"
    run --separate-stderr sstream-source --replay "$T/in" --wal "$T/w" --wal-segment 1x
    assert_failure 2
    run --separate-stderr sstream-sink --commit ''
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-sink: --commit: empty folder name"
    run --separate-stderr sstream-source --wal
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: option '--wal' requires an argument"
}

@test "wal: a commit record that is not a time is an error" {
    mkdir "$T/w"
    printf 'soon\n' >"$T/w/commit"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --tsv"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: cannot read '$T/w/commit': Bad message
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

# A watched folder whose files are settled; -b 1h puts them all in the
# first batch, which --once closes when they are read.
watched() {
    mkdir "$T/watch"
    printf 'a\nb\n' >"$T/watch/f1"
    printf 'c\n' >"$T/watch/f2"
    touch -d '1 minute ago' "$T/watch/f1" "$T/watch/f2"
}

@test "wal: --watch --once --state: a batch logged before the crash is sent from the log, its files not read again" {
    watched
    run --separate-stderr bash -c "SSTREAM_TEST_CRASH_AT=wal-synced:1 sstream-source -b 1h --watch '$T/watch' --once --state '$T/st' --wal '$T/w' | sstream-sink --lines --commit '$T/w'"
    assert_failure 1
    assert_output ""
    run --separate-stderr bash -c "sstream-source -b 1h --watch '$T/watch' --once --state '$T/st' --wal '$T/w' | sstream-sink --lines --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
a
b
c
EOF
    assert_equal "${stderr%% (*}" "sstream-source: --wal: 1 uncommitted batch"
    assert_equal "$(cut -f1 "$T/st/ledger" | tr '\n' ' ')" "f1 f2 "
}

@test "wal: --watch --once --state: files of a batch torn in the log are read again" {
    watched
    run --separate-stderr bash -c "SSTREAM_TEST_CRASH_AT=wal-write:1 sstream-source -b 1h --watch '$T/watch' --once --state '$T/st' --wal '$T/w' | sstream-sink --lines --commit '$T/w'"
    assert_failure 1
    assert_output ""
    assert_equal "$(cut -f1 "$T/st/ledger" | tr '\n' ' ')" "f1 f2 "
    run --separate-stderr bash -c "sstream-source -b 1h --watch '$T/watch' --once --state '$T/st' --wal '$T/w' | sstream-sink --lines --commit '$T/w'"
    assert_success
    assert_output - <<'EOF'
a
b
c
EOF
    assert_equal "${stderr%%: torn record*}" "sstream-source: --wal: '$T/w/0000000000000001.wal'"
}

@test "wal: kill -TERM of a --replay source ends the stream cleanly; a restart goes on where it stopped" {
    rm -r "$T/in"
    mkdir "$T/in"
    for i in $(seq 1 30); do
        echo "r$i" >"$T/in/$(printf %04d "$i")"
    done
    mkfifo "$T/a"
    sstream-source --replay "$T/in" --wal "$T/w" --max-uncommitted 1 >"$T/a" &
    src=$!
    sstream-sink --save-as-text-files "$T/out/p" --foreach 'sleep 0.02' --commit "$T/w" <"$T/a" &
    sink=$!
    # the first file out: the source is running, its SIGTERM handler set
    # (a fixed 0.2 s was too short under ASan: exit 143)
    for i in $(seq 1 200); do
        [ -n "$(ls "$T/out" 2>/dev/null)" ] && break
        sleep 0.05
    done
    kill -TERM "$src"
    wait "$src"
    assert_equal "$?" 0
    wait "$sink"
    assert_equal "$?" 0
    n=$(ls "$T/out" | wc -l)
    [ "$n" -gt 0 ] && [ "$n" -lt 30 ]
    assert_equal "$(cat "$T/w/commit")" "${n}000"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --commit '$T/w'"
    assert_success
    assert_equal "$(cat "$T/out"/* | sort -V | tr '\n' ' ')" "$(seq -f 'r%g' 1 30 | tr '\n' ' ')"
}

# The word count of 'in' through a stateful stage: source --wal | map |
# state --checkpoint | sink --commit, in folder $1 (out/, w/, st/); the
# environment words before each stage come from $2..$5.
stateful() {
    local d=$1
    mkdir -p "$d/out"
    env $2 sstream-source --replay "$T/in" --wal "$d/w" --max-uncommitted 2 |
        env $3 sstream-map -f words --pair 1 |
        env $4 sstream-state --update sum --checkpoint "$d/st" |
        env $5 sstream-sink --save-as-text-files "$d/out/p" --commit "$d/w"
}

@test "wal: kill -9 of sstream-state after its checkpoint: the restart re-emits, the files are exact" {
    stateful "$T/ref" "" "" "" "" 2>/dev/null
    run --separate-stderr stateful "$T/run" "" "" "SSTREAM_TEST_CRASH_AT=emit:3" ""
    assert_failure
    assert_equal "$(cat "$T/run/w/commit")" 2000
    run --separate-stderr stateful "$T/run" "" "" "" ""
    assert_success
    assert_equal "$stderr" "sstream-source: --wal: 3 uncommitted batches (3000 to 5000) sent again from the log
sstream-state: 1 replayed batch (3000 to 3000) not applied again, output re-emitted"
    run diff -r "$T/ref/out" "$T/run/out"
    assert_success
    assert_equal "$(cat "$T/run/out/p-5000" | tr '\t\n' '= ')" "a=1 b=1 c=1 d=1 e=1 f=1 g=1 "
}

@test "wal: kill -9 of the sink in a stateful pipeline: what it had not committed comes again, exact" {
    stateful "$T/ref" "" "" "" "" 2>/dev/null
    run --separate-stderr stateful "$T/run" "" "" "" "SSTREAM_TEST_CRASH_AT=wal-commit:3"
    assert_failure
    assert_equal "$(cat "$T/run/w/commit")" 2000
    run --separate-stderr stateful "$T/run" "" "" "" ""
    assert_success
    run diff -r "$T/ref/out" "$T/run/out"
    assert_success
}

@test "wal: a batch whose --foreach command fails is not committed" {
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --foreach 'test \$SSTREAM_BATCH_TIME != 3000' --commit '$T/w'"
    assert_failure 1
    assert_equal "$(cat "$T/w/commit")" 2000
}

@test "wal: the sink refuses a commit record that is not a time, and a second sink" {
    mkdir "$T/w"
    printf '12x\n' >"$T/w/commit"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --lines --commit '$T/w'"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-sink: --commit: cannot read '$T/w/commit': Bad message"
    rm "$T/w/commit"
    mkfifo "$T/f"
    sstream-sink --commit "$T/w" <"$T/f" &
    exec 4>"$T/f"
    for i in $(seq 1 100); do
        [ -e "$T/w/commit.lock" ] && break
        sleep 0.05
    done
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --lines --commit '$T/w'"
    exec 4>&-
    wait
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --commit: '$T/w' is in use by another sstream-sink"
}

# The same through sstream-window (-w 2s: a window per batch).
windowed() {
    local d=$1
    mkdir -p "$d/out"
    env $2 sstream-source --replay "$T/in" --wal "$d/w" --max-uncommitted 2 |
        sstream-map -f words --pair 1 |
        env $3 sstream-window -w 2s --reduce-by-key sum --checkpoint "$d/win" |
        env $4 sstream-sink --save-as-text-files "$d/out/p" --commit "$d/w"
}

@test "wal: kill -9 of sstream-window while it saves its checkpoint: the files are exact" {
    windowed "$T/ref" "" "" "" 2>/dev/null
    run --separate-stderr windowed "$T/run" "" "SSTREAM_TEST_CRASH_AT=ckpt-write:3" ""
    assert_failure
    run --separate-stderr windowed "$T/run" "" "" ""
    assert_success
    run diff -r "$T/ref/out" "$T/run/out"
    assert_success
    assert_equal "$(cat "$T/run/out/p-4000" | tr '\t\n' '= ')" "d=1 e=1 f=1 "
}

# ---- a corrupt checkpoint of a stateful stage ----

# thru D CMD...: the word count of 'in' through the stateful stage CMD
# --checkpoint D/ck, source --wal | map | CMD | sink --commit, in folder D;
# $SINK_ENV goes
# before the sink. --max-uncommitted 1: the sink's crash at its commit
# of 3000 leaves the stage at 3000 exactly.
thru() {
    local d=$1
    shift
    mkdir -p "$d/out"
    sstream-source --replay "$T/in" --wal "$d/w" --max-uncommitted 1 |
        sstream-map -f words --pair 1 | "$@" --checkpoint "$d/ck" |
        env $SINK_ENV sstream-sink --save-as-text-files "$d/out/p" --commit "$d/w"
}

# spoil LOG TIME: flip a bit in the body of LOG's entry of batch TIME,
# and print where that entry begins
spoil() {
    "$PY" -c 'import struct, sys
p, want = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); at = 40
while at < len(b):
    n, t = struct.unpack("<Iq", b[at + 4:at + 16])
    if t == want:
        b[at + 24 + n // 2] ^= 4; open(p, "wb").write(b); print(at); break
    at += 24 + n' "$@"
}

# corrupt_case NAME CMD...: a pipeline through CMD loses the entry of
# 3000 in its checkpoint while
# the sink had not committed it: the log sends it again, the files are
# exact. Then the entry of 5000, after everything was committed: the
# input resumes at 6000, and the stage stops, exit 1, saying what to do.
corrupt_case() {
    local name=$1 ck=$T/run/ck at
    shift
    thru "$T/ref" "$@" 2>/dev/null
    SINK_ENV=SSTREAM_TEST_CRASH_AT=wal-commit:3 thru "$T/run" "$@" 2>/dev/null &&
        return 1
    assert_equal "$(cat "$T/run/w/commit")" 2000
    at=$(spoil "$ck/000000000001.log" 3000)
    run --separate-stderr thru "$T/run" "$@"
    assert_success
    # (the source had logged 4000 while it waited for the commit of 3000)
    assert_equal "$(grep ^sstream-source <<<"$stderr")" "sstream-source: --wal: 2 uncommitted batches (3000 to 4000) sent again from the log"
    assert_equal "$(grep -v ^sstream-source <<<"$stderr")" "$name: warning: checkpoint '$ck/000000000001.log': corrupt entry at byte $at; state restored to batch time 2000"
    run diff -r "$T/ref/out" "$T/run/out"
    assert_success

    newest=$(ls "$ck" | grep log | tail -n 1)
    at=$(spoil "$ck/$newest" 5000)
    echo h >"$T/in/0006"
    run --separate-stderr thru "$T/run" "$@"
    assert_failure
    assert_equal "$(grep "^$name" <<<"$stderr")" "$name: warning: checkpoint '$ck/$newest': corrupt entry at byte $at; state restored to batch time 4000
$name: checkpoint '$ck/$newest' is corrupt: the state goes back to batch time 4000, but the input resumes at batch time 6000, so the batches in between would be missing
$name: restore '$ck' from a backup, or send the input again from batch time 5000 (a --wal that still holds it), or cut '$ck/$newest' to $at bytes (truncate -s $at) to go on without those batches"
    [ ! -e "$T/run/out/p-6000" ]
}

@test "wal: a corrupt entry in sstream-state's checkpoint: exact from the log, else exit 1" {
    corrupt_case sstream-state sstream-state --update sum \
        --checkpoint-interval 3s
}

@test "wal: a corrupt entry in sstream-window's checkpoint: exact from the log, else exit 1" {
    corrupt_case sstream-window sstream-window -w 2s --reduce-by-key sum
}

# ---- what a restart may send again: --max-uncommitted and the stages ----

@test "wal: kill -9 of the sink 12 batches behind: the stages keep what comes again, exact" {
    rm -r "$T/in"
    for i in $(seq 15); do
        mkdir -p "$T/in"
        echo "w$((i % 4)) x" >"$T/in/$(printf %04d "$i")"
    done
    deep() {
        local d=$1
        mkdir -p "$d/out"
        sstream-source --replay "$T/in" --wal "$d/w" --max-uncommitted 12 |
            sstream-map -f words --pair 1 |
            sstream-window -w 2s --reduce-by-key sum --checkpoint "$d/win" |
            sstream-state --update sum --checkpoint "$d/st" |
            env $2 sstream-sink --save-as-text-files "$d/out/p" --commit "$d/w"
    }
    deep "$T/ref" "" 2>/dev/null
    run --separate-stderr deep "$T/run" "SSTREAM_TEST_CRASH_AT=wal-commit:2"
    assert_failure
    assert_equal "$(cat "$T/run/w/commit")" 1000
    run --separate-stderr deep "$T/run" ""
    assert_success
    run diff -r "$T/ref/out" "$T/run/out"
    assert_success
}

@test "wal: --max-uncommitted: a restart after a pause in batch times goes on" {
    printf 'a\n' | sstream-source -b 100ms --wal "$T/w" --max-uncommitted 1 |
        sstream-sink --lines --commit "$T/w" >"$T/first"
    assert_equal "$(cat "$T/first")" a
    # the next run's batch times start more than one interval after the
    # last one logged: the commit cannot reach time - interval before it
    # sends a batch, only the last one logged
    sleep 0.3
    run --separate-stderr timeout 30 bash -c "printf 'b\n' |
        sstream-source -b 100ms --wal '$T/w' --max-uncommitted 1 |
        sstream-sink --lines --commit '$T/w'"
    assert_success
    assert_output b
    assert_equal "$stderr" ""
}
