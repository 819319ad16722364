#!/usr/bin/env bats
# sstream-source: replay, stdin, batching, rejects, manners.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

@test "source: replay gives one batch per file at start + (i+1) * interval" {
    mkdir -p "$T/d"
    printf 'a\nb\n' >"$T/d/0001"
    printf 'c\n' >"$T/d/0002"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 1s | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\n1000\tb\n2000\tc')"
    assert_equal "$stderr" ""
}

@test "source: --start-time and -b 500ms shift the replay times" {
    batches "$T/d" "x" "-" "y"
    run bash -c "sstream-source --replay '$T/d' -b 500ms --start-time 10000 | sstream-sink --dump | grep -o '^@[0-9]* [a-z]* time=[0-9]*'"
    assert_success
    assert_output - <<'EOF2'
@0 batch time=10500
@58 batch time=11000
@114 batch time=11500
@172 end time=11500
EOF2
}

@test "source: replay reads files in name order and skips hidden ones" {
    mkdir -p "$T/d/subfolder"
    printf 'second\n' >"$T/d/b"
    printf 'first\n' >"$T/d/a"
    printf 'hidden\n' >"$T/d/.tmp"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --tsv"
    assert_output "$(printf '1000\tfirst\n2000\tsecond')"
}

@test "source: empty lines are empty records; a last line without newline counts" {
    mkdir -p "$T/d"
    printf 'a\n\nb' >"$T/d/1"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --dump"
    assert_output - <<'EOF2'
@0 batch time=1000 interval=1000 count=3 payload=5 flags=- closed=0
  1: "a"
  2: ""
  3: "b"
@61 end time=1000 interval=1000 count=0 payload=0 flags=- closed=0
EOF2
}

@test "source: --delimiter splits on another byte" {
    mkdir -p "$T/d"
    printf 'a,b,c' >"$T/d/1"
    run bash -c "sstream-source --replay '$T/d' --delimiter , | sstream-sink --lines"
    assert_output "$(printf 'a\nb\nc')"
    printf 'x\0y\0' >"$T/d/1"
    run bash -c "sstream-source --replay '$T/d' --delimiter '\\0' | sstream-sink --lines"
    assert_output "$(printf 'x\ny')"
}

@test "source: an over-long record is reported, kept in --rejects, the rest flows" {
    mkdir -p "$T/d"
    printf 'ok1\n%s\nok2\n' "$(printf 'x%.0s' $(seq 1 40))" >"$T/d/1"
    printf 'ok3\n' >"$T/d/2"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --max-record-bytes 16 --rejects '$T/rej' | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\tok1\n1000\tok2\n2000\tok3')"
    assert_equal "$stderr" "$(printf '%s\n%s' \
        "sstream-source: batch 1000, record 2: $T/d/1: record longer than --max-record-bytes (16)" \
        "sstream-source: 1 rejected record kept in '$T/rej'")"
    assert_equal "$(cat "$T/rej")" "$(printf 'x%.0s' $(seq 1 40))"
}

@test "source: a reject not kept makes the exit status 1" {
    mkdir -p "$T/d"
    printf 'ok\n0123456789abcdef0123\n' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --max-record-bytes 10 | sstream-sink --lines; exit \${PIPESTATUS[0]}"
    assert_failure 1
    assert_output "ok"
    assert_equal "$stderr" "$(printf '%s\n%s' \
        "sstream-source: batch 1000, record 2: $T/d/1: record longer than --max-record-bytes (10)" \
        "sstream-source: 1 rejected record not kept (use --rejects FILE)")"
}

@test "source: an over-long record split across reads of stdin is rejected whole" {
    run --separate-stderr bash -c "{ printf 'a\n'; head -c 300000 /dev/zero | tr '\\0' y; printf '\nb\n'; } | sstream-source --max-record-bytes 1k --rejects '$T/rej' | sstream-sink --lines"
    assert_success
    assert_output "$(printf 'a\nb')"
    assert_equal "$(wc -c <"$T/rej")" 300001
}

@test "source: --record-bytes cuts fixed-size records; a short tail is a reject" {
    mkdir -p "$T/d"
    printf 'aaabbbcccdd' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --record-bytes 3 --rejects '$T/rej' | sstream-sink --lines"
    assert_success
    assert_output "$(printf 'aaa\nbbb\nccc')"
    assert_equal "$(cat "$T/rej")" "dd"
}

@test "source: stdin in live mode ends with the partial batch and end-of-stream" {
    run --separate-stderr bash -c "printf 'a\nb\n' | sstream-source -b 1s | sstream-sink --dump | grep -c '^@'"
    assert_success
    assert_output 2
}

@test "source: live batches are aligned, consecutive, with empty frames when quiet" {
    # lines at about 0 s, 0.2 s and 4.3 s: the clock is the feature, so only
    # the shape is asserted: consecutive multiples of 1000, an empty frame
    # between, the three records in order. The first batch ends on the
    # second boundary after the start (1 to 2 s in): it holds x and y.
    run bash -c "{ printf 'x\n'; sleep 0.2; printf 'y\n'; sleep 4.1; printf 'z\n'; } | sstream-source -b 1s | sstream-sink --dump"
    assert_success
    times=$(grep '^@' <<<"$output" | grep -o 'time=[0-9]*' | cut -d= -f2)
    counts=$(grep '^@' <<<"$output" | grep -o 'count=[0-9]*' | cut -d= -f2 | tr '\n' ' ')
    prev=
    for t in $times; do
        (( t % 1000 == 0 ))
        [ -z "$prev" ] || (( t == prev + 1000 || t == prev ))
        prev=$t
    done
    # x and y; one to three empty seconds (a slow start moves the first
    # boundary by up to a second); z; end-of-stream
    [[ "$counts" =~ ^2\ (0\ ){1,3}1\ 0\ $ ]]
    assert_equal "$(grep -o '"[xyz]"' <<<"$output" | tr -d '"\n')" xyz
}

@test "source: SIGTERM ends the current batch, sends end-of-stream, exits 0" {
    mkfifo "$T/in"
    sstream-source -b 1s <"$T/in" >"$T/frames" 2>"$T/err" &
    pid=$!
    exec 7>"$T/in"
    printf 'one\ntwo\n' >&7
    sleep 0.5
    kill -TERM "$pid"
    wait "$pid"
    exec 7>&-
    run sstream-sink --lines <"$T/frames"
    assert_success
    assert_output "$(printf 'one\ntwo')"
    assert_equal "$(cat "$T/err")" ""
}

@test "source: SIGINT to the whole process group: every stage exits 0" {
    # Ctrl-C sends SIGINT to the pipeline's process group: the source ends
    # the stream and the stages after it live to see end-of-stream.
    mkfifo "$T/in"
    # bash under setsid leads a new process group: its $$ is the group id
    setsid bash -c "echo \$\$ >'$T/pgid'; set -o pipefail; sstream-source -b 1s <'$T/in' | sstream-sink --lines >'$T/out'; echo \$? >'$T/status'" &
    exec 7>"$T/in"
    printf 'hello\n' >&7
    for _ in $(seq 50); do [ -s "$T/pgid" ] && break; sleep 0.1; done
    sleep 0.5
    pgid=$(cat "$T/pgid")
    [ "$pgid" -gt 1 ] && [ "$pgid" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]
    kill -INT -- "-$pgid"
    for _ in $(seq 50); do [ -s "$T/status" ] && break; sleep 0.1; done
    exec 7>&-
    assert_equal "$(cat "$T/status")" 0
    assert_equal "$(cat "$T/out")" hello
}

@test "source: refuses to write frames to a terminal" {
    command -v script >/dev/null || skip "script(1) not installed"
    run script -qec "$SSTREAM_BIN/sstream-source --replay /nonexistent" /dev/null
    assert_failure
    assert_output --partial "sstream-source: frames are not written to a terminal; pipe into sstream-sink"
}

@test "source: --help and --version go to stdout with exit 0" {
    run --separate-stderr sstream-source --help
    assert_success
    assert_line --index 0 --partial "usage: sstream-source"
    assert_equal "$stderr" ""
    run --separate-stderr sstream-source --version
    assert_success
    assert_output "sstream-source 0.1.0 (frame format 1)"
}

@test "source: usage errors exit 2 with a message" {
    run --separate-stderr sstream-source --bogus
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: unrecognized option '--bogus'"
    run --separate-stderr sstream-source -b 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --batch: '1x' is not a duration (try 500ms or 2s)"
    run --separate-stderr sstream-source --max-record-bytes 0
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --max-record-bytes: '0' is not a size (try 4096, 64k or 1M)"
    run --separate-stderr sstream-source --delimiter ab
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --delimiter: 'ab' is not one character (or \\n \\t \\r \\0)"
    run --separate-stderr sstream-source stray
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: unexpected argument 'stray'"
}

@test "source: a missing replay folder is a runtime error, exit 1" {
    run --separate-stderr bash -c "sstream-source --replay '$T/nope' > /dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --replay: cannot open '$T/nope': No such file or directory"
}

@test "source: a reader that goes away ends the pipeline quietly" {
    run --separate-stderr bash -c "yes | sstream-source -b 100ms | sstream-sink --lines | head -3"
    assert_success
    assert_output "$(printf 'y\ny\ny')"
    assert_equal "$stderr" ""
}

@test "source: an empty replay folder is an empty stream" {
    mkdir -p "$T/empty"
    run --separate-stderr bash -c "sstream-source --replay '$T/empty' | sstream-sink --dump"
    assert_success
    assert_output "@0 end time=0 interval=1000 count=0 payload=0 flags=- closed=0"
}

@test "source: records of every length pass whole and in order, through any chunking" {
    # Short records are encoded many at a time (their one-byte lengths
    # take the delimiters' places); a record of 128 bytes or more, one
    # over --max-record-bytes, one cut by a read or by a frame part goes
    # one at a time. Around each of those edges the output must be the
    # input, record for record, and the rejects exactly the long ones.
    mkdir -p "$T/d"
    $PY - "$T" <<'EOF2'
import random, sys
t = sys.argv[1]
r = random.Random(3)
# a random byte a character: 26 MB in a fraction of a second (a choice()
# a character took 8 s)
chars = bytes.maketrans(bytes(range(256)), b"ab \t" * 64)
recs = []
for i in range(60000):
    n = r.choice([0, 1, 5, 63, 64, 65, 100, 101, 126, 127, 128, 129, 300, 5000])
    recs.append(r.randbytes(n).translate(chars).decode())
open(t + "/d/1", "w").write("\n".join(recs) + "\n" + "tail")
recs.append("tail")
open(t + "/all", "w").write("".join(x + "\n" for x in recs))
open(t + "/short", "w").write("".join(x + "\n" for x in recs if len(x) <= 100))
open(t + "/long", "w").write("".join(x + "\n" for x in recs if len(x) > 100))
EOF2
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --lines | cmp - '$T/all'"
    assert_success
    run bash -c "cat '$T/d/1' | sstream-source -b 100ms | sstream-sink --lines | cmp - '$T/all'"
    assert_success
    run bash -c "sstream-source --replay '$T/d' --max-record-bytes 100 --rejects '$T/rej' 2>/dev/null | sstream-sink --lines | cmp - '$T/short'"
    assert_success
    run cmp "$T/rej" "$T/long"
    assert_success
    run bash -c "sstream-source --replay '$T/d' --delimiter ' ' | sstream-sink --lines | cmp - <(tr ' ' '\n' <'$T/d/1'; echo)"
    assert_success
    assert_equal "$(wc -l <"$T/all")" 60001
}

@test "source: lines end at \\n or \\r\\n, for every input and chunking; --keep-cr keeps the \\r" {
    # Spark's receivers end a line at \n or \r\n: "x\r" and "x" are one
    # key. A \r elsewhere stays; of "\r\r\n" one \r is dropped. Short
    # records go many at a time, so the \r is dropped there too, and
    # around every edge of that path (long records, reads, frame parts).
    mkdir -p "$T/d"
    $PY - "$T" <<'EOF2'
import random, sys
t = sys.argv[1]
r = random.Random(5)
recs, raw = [], []
for i in range(60000):
    n = r.choice([0, 1, 5, 62, 63, 64, 100, 126, 127, 128, 300])
    x = "".join(r.choices("ab\r", k=n))
    end = r.choice(["\n", "\r\n", "\r\n", "\r\r\n"])
    raw.append(x + end)
    x = (x + end)[:-1]
    recs.append(x[:-1] if x.endswith("\r") else x)
raw.append("tail\r")
recs.append("tail")
open(t + "/d/1", "w", newline="").write("".join(raw))
open(t + "/all", "w", newline="").write("".join(x + "\n" for x in recs))
open(t + "/raw", "w", newline="").write("".join(raw) + "\n")
# few '\r's, each right before its '\n', some across 64-byte blocks
raw, recs = [], []
for i in range(20000):
    x = "a" * r.randint(0, 130)
    raw.append(x + r.choice(["\n", "\r\n"]))
    recs.append(x)
open(t + "/sparse", "w", newline="").write("".join(raw))
open(t + "/sparse.out", "w", newline="").write("".join(x + "\n" for x in recs))
EOF2
    run bash -c "sstream-source < '$T/sparse' | sstream-sink --lines | cmp - '$T/sparse.out'"
    assert_success
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --lines | cmp - '$T/all'"
    assert_success
    # through a pipe in small writes: records and "\r\n" cut across reads
    run bash -c "$PY -c '
import os, random, sys, time
d = open(sys.argv[1], \"rb\").read(); r = random.Random(7); i = 0
while i < len(d):
    n = r.choice([1, 2, 3, 50, 4000]); os.write(1, d[i:i + n]); i += n
    if r.random() < 0.01: time.sleep(0.001)
' '$T/d/1' | sstream-source -b 100ms | sstream-sink --lines | cmp - '$T/all'"
    assert_success
    run bash -c "sstream-source -b 100ms --max-rate 1000000000 < '$T/d/1' | sstream-sink --lines | cmp - '$T/all'"
    assert_success
    run bash -c "sstream-source --replay '$T/d' --keep-cr | sstream-sink --lines | cmp - '$T/raw'"
    assert_success
    # a record of --max-record-bytes bytes is not too long for its \r
    printf 'abcd\r\nabcde\r\nxy\r' >"$T/short"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --max-record-bytes 4 < '$T/short' | sstream-sink --lines"
    assert_failure 1
    assert_output "$(printf 'abcd\nxy')"
    # the batch time is the clock's
    [[ "$(head -1 <<<"$stderr")" =~ ^"sstream-source: batch "[0-9]+", record 2: stdin: record longer than --max-record-bytes (4)"$ ]]
    assert_equal "$(tail -1 <<<"$stderr")" "sstream-source: 1 rejected record not kept (use --rejects FILE)"
    # other delimiters keep every byte
    run bash -c "printf 'a\r,b\r\n,' | sstream-source --delimiter , | sstream-sink --dump | grep '^  '"
    assert_output - <<'EOF2'
  1: "a\x0d"
  2: "b\x0d\n"
EOF2
}

@test "source: --keep-cr is for lines only" {
    run --separate-stderr sstream-source --keep-cr --delimiter ,
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --keep-cr: only for lines that end with \\n (not with --delimiter)"
    run --separate-stderr sstream-source --keep-cr --record-bytes 4
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --keep-cr: only for lines that end with \\n (not with --record-bytes)"
}

# tsv_times FILE: the batch times of a --tsv output, one per line.
tsv_times() {
    cut -f1 "$1" | uniq
}

@test "source: two short runs within one interval never share a batch time" {
    # A run that ends early sends its open batch under the end of its
    # interval, still to come: the next run must not use that time again.
    # A run without a record of its last time (no --wal, no --state)
    # starts on the second boundary after its start, and one that ends
    # before the first boundary waits for it (said when it is a second or
    # more).
    for run in 1 2 3; do
        run --separate-stderr bash -c "set -o pipefail; echo run$run | sstream-source -b 3s | sstream-sink --tsv >>'$T/out'"
        assert_success
        [[ -z "$stderr" || "$stderr" =~ ^"sstream-source: waiting "[1-3]"s for the interval of batch "[0-9]+" to begin, so that a run started next cannot reuse its time (Ctrl-C ends the wait)"$ ]]
    done
    assert_equal "$(cut -f2 "$T/out" | tr '\n' ' ')" "run1 run2 run3 "
    t1=$(sed -n 1p "$T/out" | cut -f1)
    t2=$(sed -n 2p "$T/out" | cut -f1)
    t3=$(sed -n 3p "$T/out" | cut -f1)
    ((t1 % 3000 == 0 && t2 == t1 + 3000 && t3 == t2 + 3000))
}

@test "source: --state on stdin: short runs never wait and never share a batch time" {
    # With the last time kept, a run of a fraction of -b 1m exits at once
    # (a wait would be said) and the next run's batch comes after it.
    for run in 1 2 3; do
        run --separate-stderr bash -c "set -o pipefail; echo run$run | sstream-source -b 1m --state '$T/st' | sstream-sink --tsv >>'$T/out'"
        assert_success
        assert_equal "$stderr" ""
    done
    assert_equal "$(cut -f2 "$T/out" | tr '\n' ' ')" "run1 run2 run3 "
    t1=$(sed -n 1p "$T/out" | cut -f1)
    t2=$(sed -n 2p "$T/out" | cut -f1)
    t3=$(sed -n 3p "$T/out" | cut -f1)
    ((t1 % 60000 == 0 && t2 == t1 + 60000 && t3 == t2 + 60000))
}

@test "source: a run stopped with SIGTERM and one started at once: new times, no wait" {
    mkfifo "$T/in" "$T/frames"
    sstream-source -b 1s <"$T/in" >"$T/frames" 2>"$T/err1" &
    src=$!
    sstream-sink --tsv <"$T/frames" >"$T/out1" &
    sink=$!
    exec 7>"$T/in"
    printf 'a\n' >&7
    sleep 2.5 # past the first batch: the run ends in its last interval
    printf 'b\n' >&7
    sleep 0.1
    kill -TERM "$src"
    wait "$src" "$sink"
    exec 7>&-
    run --separate-stderr bash -c "echo c | sstream-source -b 1s | sstream-sink --tsv"
    assert_success
    last=$(tail -1 "$T/out1" | cut -f1)
    first=${output%%$'\t'*}
    ((first > last))
    assert_equal "$(cut -f2 "$T/out1" | tr '\n' ' ')" "a b "
    assert_equal "$(cat "$T/err1")" ""
}

@test "source: Ctrl-C ends the wait of a short run; what it sent stays whole" {
    mkfifo "$T/in"
    # an hour: the wait (to the next interval's start) is long wherever in
    # the interval the run falls; a minute's could end before the ^C
    sstream-source -b 1h <"$T/in" >"$T/frames" 2>"$T/err" &
    pid=$!
    exec 7>"$T/in"
    printf 'one\n' >&7
    exec 7>&- # the input ends: the batch is sent, the run waits
    for _ in $(seq 50); do [ -s "$T/err" ] && break; sleep 0.1; done
    kill -INT "$pid"
    wait "$pid"
    run sstream-sink --lines <"$T/frames"
    assert_success
    assert_output one
    [[ "$(cat "$T/err")" =~ ^"sstream-source: waiting "[0-9]+"s for the interval of batch "[0-9]+"0000 to begin" ]]
}

@test "source: a short run into sstream-state --checkpoint twice within an interval counts both" {
    for run in 1 2; do
        run --separate-stderr bash -c "set -o pipefail; echo 'a b' | sstream-source -b 2s | sstream-map --flat-map words --count-by-value | sstream-state --update sum --checkpoint '$T/ck' | sstream-sink --lines"
        assert_success
    done
    assert_output "$(printf 'a\t2\nb\t2')"
}

# ---- --batches, --duration: ending on purpose ----

@test "source: --batches N ends a replay after its first N batches" {
    batches "$T/d" "a b" c - d e
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --batches 3 | sstream-sink --dump"
    assert_success
    assert_output - <<'EOF2'
@0 batch time=1000 interval=1000 count=2 payload=4 flags=- closed=0
  1: "a"
  2: "b"
@60 batch time=2000 interval=1000 count=1 payload=2 flags=- closed=0
  1: "c"
@118 batch time=3000 interval=1000 count=0 payload=0 flags=- closed=0
@174 end time=3000 interval=1000 count=0 payload=0 flags=- closed=0
EOF2
}

@test "source: --duration ends a replay after DUR of batch time" {
    batches "$T/d" a b c d e
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 500ms --start-time 10000 --duration 1500ms | sstream-sink --tsv"
    assert_success
    assert_output - <<'EOF2'
10500	a
11000	b
11500	c
EOF2
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --duration 10m --batches 2 | sstream-sink --tsv"
    assert_success
    assert_output - <<'EOF2'
1000	a
2000	b
EOF2
}

@test "source: --batches N ends a live stream after N whole batches" {
    run --separate-stderr bash -c "sstream-source -b 100ms --batches 4 --exec 'echo a; sleep 60' | sstream-sink --print | grep -c '^Time: '"
    assert_success
    assert_output 4
    run --separate-stderr bash -c "sstream-source -b 100ms --batches 1 --exec 'echo a; sleep 60' | sstream-sink --lines"
    assert_success
    assert_output a
}

@test "source: --duration ends a live stream cleanly, as Ctrl-C would" {
    SECONDS=0
    run --separate-stderr bash -c "sstream-source -b 500ms --duration 1s --exec 'echo a; sleep 60' | sstream-sink --lines; echo \"\${PIPESTATUS[*]}\""
    assert_success
    assert_output - <<'EOF2'
a
0 0
EOF2
    assert_equal "$stderr" ""
    [ "$SECONDS" -lt 20 ]
}

@test "source: --batches 0 and a bad --duration are usage errors, exit 2" {
    run --separate-stderr sstream-source --batches 0
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --batches: '0' is not a whole number from 1 to 4294967295"
    run --separate-stderr sstream-source --duration 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --duration: '1x' is not a duration (try 500ms or 2s)"
}
