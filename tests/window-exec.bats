#!/usr/bin/env bats
# sstream-window --reduce-exec, --inverse-exec, --filter-exec: Spark's
# reduceByKeyAndWindow(func, invFunc, filterFunc) with the functions in
# coprocesses (sstream-coprocess(7), modes reduce, inverse and filter),
# through both reference clients, against the built-in operators and an
# independent model.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    export PYTHONPATH="$REPO/examples"
    AWK_SUM="awk -W interactive -f $REPO/examples/coprocess-sum.awk"
    # mawk needs -W interactive (sstream-coprocess(7) says why); gawk has
    # no such option and needs none.
    awk -W version 2>/dev/null | grep -q mawk ||
        AWK_SUM="awk -f $REPO/examples/coprocess-sum.awk"
    cat >"$T/sum.py" <<'PY'
from sstream_coprocess import serve_reduce
serve_reduce(lambda a, b: int(a) + int(b))
PY
    cat >"$T/minus.py" <<'PY'
from sstream_coprocess import serve_inverse
serve_inverse(lambda a, b: int(a) - int(b))
PY
    # Not built in: XOR (its own inverse), and the longest value (the
    # later one of two as long), which has no inverse.
    cat >"$T/xor.py" <<'PY'
import sys
from sstream_coprocess import serve_inverse, serve_reduce
xor = lambda a, b: int(a) ^ int(b)
(serve_inverse if sys.argv[1:] == ["inverse"] else serve_reduce)(xor)
PY
    cat >"$T/longest.py" <<'PY'
from sstream_coprocess import serve_reduce
serve_reduce(lambda a, b: b if len(b) >= len(a) else a)
PY
    cat >"$T/big.py" <<'PY'
from sstream_coprocess import serve_filter
serve_filter(lambda k, v: int(v) > 40)
PY
}

# fixture DIR : 30 replayed batches of "key value" lines, 37 keys, values
# from -50 to 99 (a key often twice in a batch), some batches empty.
fixture() {
    "$PY" - "$1" <<'PY'
import os, random, sys
random.seed(21)
d = sys.argv[1]
os.makedirs(d)
for i in range(30):
    n = 0 if i in (4, 5, 17, 28, 29) else random.randrange(1, 40)
    with open(os.path.join(d, "%04d" % i), "w") as f:
        for _ in range(n):
            f.write("k%d %d\n" % (random.randrange(37), random.randrange(-50, 100)))
PY
}

# run_win DIR WINDOW-ARGS... : the replay through sstream-window, as tsv.
run_win() {
    local dir=$1
    shift
    set -o pipefail
    sstream-source --replay "$dir" -b 1s |
        sstream-map -F ' ' --key-field 1 --value-field 2 |
        sstream-window "$@" | sstream-sink --tsv
}

# model DIR W S FUNC : each window's fold per key, naively recomputed from
# the replay folder (batch i at (i+1)*1000), keys in byte order.
model() {
    "$PY" - "$@" <<'PY'
import functools, os, sys
d, w, s, func = sys.argv[1], int(sys.argv[2]) * 1000, int(sys.argv[3]) * 1000, sys.argv[4]
f = {"xor": lambda a, b: str(int(a) ^ int(b)),
     "longest": lambda a, b: b if len(b) >= len(a) else a}[func]
batches = []
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name)) as fh:
        batches.append([l.split() for l in fh.read().splitlines()])
last = len(batches) * 1000
for end in range(s, last + 1, s):
    vals = {}
    for i, b in enumerate(batches):
        if end - w < (i + 1) * 1000 <= end:
            for k, v in b:
                vals.setdefault(k, []).append(v)
    for k in sorted(vals, key=lambda k: k.encode()):
        print("%d\t%s\t%s" % (end, k, functools.reduce(f, vals[k])))
PY
}

@test "window-exec: a Python sum equals --reduce-by-key sum, with and without --inverse-exec" {
    fixture "$T/d"
    # Panes of one batch, of two, panes closing between slides, tumbling
    # windows, and a slide longer than the window.
    for ws in "-w 5 -s 1" "-w 6 -s 2" "-w 6 -s 4" "-w 4 -s 4" "-w 2 -s 3"; do
        run_win "$T/d" $ws --reduce-by-key sum >"$T/want"
        [ "$(wc -l <"$T/want")" -gt 50 ]
        run --separate-stderr run_win "$T/d" $ws --reduce-exec "python3 $T/sum.py"
        assert_success
        assert_output "$(cat "$T/want")"
        assert_equal "$stderr" ""
        run --separate-stderr run_win "$T/d" $ws --reduce-exec "python3 $T/sum.py" \
            --inverse-exec "python3 $T/minus.py"
        assert_success
        assert_output "$(cat "$T/want")"
        assert_equal "$stderr" ""
    done
}

@test "window-exec: the conversation: one request a batch, keys with two values or more" {
    mkdir -p "$T/d"
    printf 'a 1\na 2\nb 1\n' >"$T/d/1"
    printf 'a 3\nb 2\nb 3\n' >"$T/d/2"
    printf 'a 4\n' >"$T/d/3"
    # Logs what it is sent, answers a sum (reduce) or a difference.
    cat >"$T/log.py" <<PY
import sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
mode = inp.readline().split()[2]
with open("$T/log", "ab") as log:
    for line in inp:
        log.write(mode + b": " + line)
        log.flush()
        f = line.rstrip(b"\n").split(b"\t")
        if line == b"\\.\n":
            out.write(line)
            out.flush()
        elif len(f) > 1 and mode == b"reduce":
            out.write(b"%d\n" % sum(int(v) for v in f[1:]))
        elif len(f) > 1:
            out.write(b"%d\n" % (int(f[1]) - int(f[2])))
PY
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/log.py"
    assert_success
    assert_output "$(printf '%s\n' '1000	a	3' '1000	b	1' '2000	a	6' \
        '2000	b	6' '3000	a	7' '3000	b	5')"
    assert_equal "$(cat "$T/log")" "$(printf '%s\n' \
        'reduce: batch 1000 1 keyed' 'reduce: a	1	2' 'reduce: \.' \
        'reduce: batch 2000 1 keyed' 'reduce: b	2	3' 'reduce: \.' \
        'reduce: batch 2000 2 keyed' 'reduce: a	3	3' 'reduce: b	1	5' 'reduce: \.' \
        'reduce: batch 3000 1 keyed' 'reduce: a	3	4' 'reduce: \.')"
    rm "$T/log"
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/log.py" \
        --inverse-exec "python3 $T/log.py"
    assert_success
    assert_output "$(printf '%s\n' '1000	a	3' '1000	b	1' '2000	a	6' \
        '2000	b	6' '3000	a	7' '3000	b	5')"
    assert_equal "$(cat "$T/log")" "$(printf '%s\n' \
        'reduce: batch 1000 1 keyed' 'reduce: a	1	2' 'reduce: \.' \
        'reduce: batch 2000 1 keyed' 'reduce: b	2	3' 'reduce: \.' \
        'reduce: batch 2000 2 keyed' 'reduce: a	3	3' 'reduce: b	1	5' 'reduce: \.' \
        'inverse: batch 3000 2 keyed' 'inverse: a	6	3' 'inverse: b	6	1' 'inverse: \.' \
        'reduce: batch 3000 1 keyed' 'reduce: a	3	4' 'reduce: \.')"
}

@test "window-exec: the awk client sums, and takes out, as --reduce-by-key sum does" {
    fixture "$T/d"
    run_win "$T/d" -w 6 -s 2 --reduce-by-key sum >"$T/want"
    run --separate-stderr run_win "$T/d" -w 6 -s 2 --reduce-exec "$AWK_SUM"
    assert_success
    assert_output "$(cat "$T/want")"
    assert_equal "$stderr" ""
    run --separate-stderr run_win "$T/d" -w 6 -s 2 --reduce-exec "$AWK_SUM" \
        --inverse-exec "$AWK_SUM"
    assert_success
    assert_output "$(cat "$T/want")"
    assert_equal "$stderr" ""
}

@test "window-exec: functions not built in (xor with its inverse, the longest value) match a model" {
    fixture "$T/d"
    model "$T/d" 5 1 xor >"$T/want"
    [ "$(wc -l <"$T/want")" -gt 200 ]
    run --separate-stderr run_win "$T/d" -w 5 -s 1 \
        --reduce-exec "python3 $T/xor.py" --inverse-exec "python3 $T/xor.py inverse"
    assert_success
    assert_output "$(cat "$T/want")"
    model "$T/d" 6 2 longest >"$T/want"
    run --separate-stderr run_win "$T/d" -w 6 -s 2 --reduce-exec "python3 $T/longest.py"
    assert_success
    assert_output "$(cat "$T/want")"
    assert_equal "$stderr" ""
}

@test "window-exec: --filter-exec keeps the records its command answers with" {
    fixture "$T/d"
    run_win "$T/d" -w 5 -s 1 --reduce-by-key sum | awk -F'\t' '$3 > 40' >"$T/want"
    [ "$(wc -l <"$T/want")" -gt 50 ]
    run --separate-stderr run_win "$T/d" -w 5 -s 1 --reduce-by-key sum \
        --filter-exec "python3 $T/big.py"
    assert_success
    assert_output "$(cat "$T/want")"
    run --separate-stderr run_win "$T/d" -w 5 -s 1 --reduce-exec "$AWK_SUM" \
        --inverse-exec "$AWK_SUM" --filter-exec "python3 $T/big.py"
    assert_success
    assert_output "$(cat "$T/want")"
    assert_equal "$stderr" ""
}

@test "window-exec: --filter-exec drops an emptied key kept by --keep-empty-keys, as Spark's filterFunc" {
    cat >"$T/nonzero.py" <<'PY'
from sstream_coprocess import serve_filter
serve_filter(lambda k, v: v != "0")
PY
    mkdir -p "$T/z"
    printf 'a 1\n' >"$T/z/1"
    printf 'a 2\n' >"$T/z/2"
    printf 'b 5\n' >"$T/z/3"
    : >"$T/z/4"
    : >"$T/z/5"
    run --separate-stderr run_win "$T/z" -w 2 --reduce-exec "python3 $T/sum.py" \
        --inverse-exec "python3 $T/minus.py" --keep-empty-keys
    assert_success
    assert_output "$(printf '%s\n' '1000	a	1' '2000	a	3' '3000	a	2' \
        '3000	b	5' '4000	a	0' '4000	b	5' '5000	a	0' '5000	b	0')"
    run --separate-stderr run_win "$T/z" -w 2 --reduce-exec "python3 $T/sum.py" \
        --inverse-exec "python3 $T/minus.py" --keep-empty-keys \
        --filter-exec "python3 $T/nonzero.py"
    assert_success
    assert_output "$(printf '%s\n' '1000	a	1' '2000	a	3' '3000	a	2' \
        '3000	b	5' '4000	b	5')"
}

# nine : nine batches of keyed frames, a key often twice in a batch.
nine() {
    "$PY" "$TESTS_DIR/helpers/frames.py" --keyed "$@" "a:1 b:2 a:5" "a:3" \
        "c:4 a:1 c:2" - "b:5 b:6" "a:2 c:1" "b:1" - "a:9 a:1"
}

show() {
    "$PY" "$TESTS_DIR/helpers/frames.py" --show "$1"
}

# kill_restart DIR WINDOW-ARGS... : nine's batches through the window with
# --checkpoint DIR/ck, killed (-9) after 5 batches and restarted on the
# replayed rest: the two outputs, spliced at 3000, as "time key value".
kill_restart() {
    local d=$1 pid
    shift
    mkdir -p "$d"
    mkfifo "$d/fifo"
    sstream-window "$@" --checkpoint "$d/ck" <"$d/fifo" >"$d/out1" 3>&- &
    pid=$!
    exec 7>"$d/fifo" # fd 3 is bats' own
    "$PY" "$TESTS_DIR/helpers/frames.py" --keyed --no-end "a:1 b:2 a:5" "a:3" \
        "c:4 a:1 c:2" - "b:5 b:6" >&7
    # Wait (up to 10 s) until the five batches' windows are out, then kill.
    for _ in $(seq 100); do
        [ "$(show "$d/out1" | cut -d' ' -f1 | sort -u | wc -l)" -eq 5 ] && break
        sleep 0.1
    done
    kill -9 "$pid"
    wait "$pid" || true
    exec 7>&-
    # The source replays from batch 3000 on (the sink had committed 2000).
    nine --skip 2 >"$d/rest"
    sstream-window "$@" --checkpoint "$d/ck" <"$d/rest" >"$d/out2" \
        2>"$d/err" || return 1
    [ "$(cat "$d/err")" = "sstream-window: 3 replayed batches (3000 to 5000) not applied again, output re-emitted" ] ||
        return 1
    show "$d/out1" | awk '$1 < 3000'
    show "$d/out2"
}

@test "window-exec: --checkpoint: kill -9 mid-stream, restart, the output of an uninterrupted run" {
    nine >"$T/all"
    sstream-window -w 3 --reduce-by-key sum <"$T/all" >"$T/builtin"
    run kill_restart "$T/inv" -w 3 --reduce-exec "python3 $T/sum.py" \
        --inverse-exec "python3 $T/minus.py"
    assert_success
    assert_output "$(show "$T/builtin")"
    run kill_restart "$T/rec" -w 3 --reduce-exec "python3 $T/sum.py"
    assert_success
    assert_output "$(show "$T/builtin")"
    [ "$(show "$T/builtin" | wc -l)" -eq 23 ]
}

@test "window-exec: a command that dies ends the run, named, exit 1" {
    mkdir -p "$T/d"
    printf 'a 1\n' >"$T/d/1"
    printf 'b 1\nb 2\n' >"$T/d/2"
    printf 'a 3\n' >"$T/d/3"
    cat >"$T/die.py" <<'PY'
import sys
from sstream_coprocess import serve_reduce
def f(a, b):
    sys.exit(3)
serve_reduce(f)
PY
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/die.py"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 2000: --reduce-exec 'python3 $T/die.py': exited with status 3"
}

@test "window-exec: a bad answer line is a reject; a wrong line count ends the run" {
    mkdir -p "$T/d"
    printf 'a 1\nb 7\n' >"$T/d/1"
    printf 'a 2\na 3\nb 1\nb 2\n' >"$T/d/2"
    # Answers b's fold with a bad escape; sums the others.
    cat >"$T/bad.py" <<'PY'
from sstream_coprocess import _lines, _escape
import sys
for t, lines in _lines(sys.stdin.buffer, "reduce"):
    for raw, f in lines:
        out = b"x\\q" if f[0] == "b" else str(sum(map(int, f[1:]))).encode()
        sys.stdout.buffer.write(out + b"\n")
    sys.stdout.buffer.write(b"\\.\n")
    sys.stdout.buffer.flush()
PY
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/bad.py"
    assert_failure 1
    assert_output "$(printf '%s\n' '1000	a	1' '1000	b	7' '2000	a	6' '2000	b	7')"
    assert_equal "$stderr" "sstream-window: batch 2000: --reduce-exec: key 'b': 'x\\q' has a backslash that is not \\\\, \\t or \\n; its 2 records of the batch are rejected
sstream-window: 2 rejected records not kept (use --rejects FILE)"
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/bad.py" \
        --rejects "$T/rej"
    assert_success
    assert_equal "$(cat "$T/rej")" "$(printf 'b\t1\nb\t2')"
    # Three lines for two key lines.
    cat >"$T/twice.py" <<'PY'
import sys
sys.stdin.buffer.readline()
for line in sys.stdin.buffer:
    if line == b"\\.\n":
        sys.stdout.buffer.write(b"1\n2\n3\n\\.\n")
        sys.stdout.buffer.flush()
PY
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/twice.py"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 2000: --reduce-exec 'python3 $T/twice.py': 3 answer lines for 2 key lines (one a key line, in order)"
}

@test "window-exec: a bad answer about a window: recomputed from the panes, still right" {
    mkdir -p "$T/d"
    printf 'a 1\nb 2\n' >"$T/d/1"
    printf 'a 3\nb 4\n' >"$T/d/2"
    printf 'b 5\n' >"$T/d/3"
    : >"$T/d/4"
    # An inverse that answers key b with a bad escape.
    cat >"$T/badinv.py" <<'PY'
from sstream_coprocess import _lines
import sys
for t, lines in _lines(sys.stdin.buffer, "inverse"):
    for raw, f in lines:
        out = b"x\\q" if f[0] == "b" else b"%d" % (int(f[1]) - int(f[2]))
        sys.stdout.buffer.write(out + b"\n")
    sys.stdout.buffer.write(b"\\.\n")
    sys.stdout.buffer.flush()
PY
    run --separate-stderr run_win "$T/d" -w 2 --reduce-exec "python3 $T/sum.py" \
        --inverse-exec "python3 $T/badinv.py"
    assert_failure 1
    assert_output "$(run_win "$T/d" -w 2 --reduce-by-key sum)"
    assert_output "$(printf '%s\n' '1000	a	1' '1000	b	2' '2000	a	4' \
        '2000	b	6' '3000	a	3' '3000	b	9' '4000	b	5')"
    assert_equal "$stderr" "sstream-window: batch 3000: --inverse-exec: key 'b': 'x\\q' has a backslash that is not \\\\, \\t or \\n; the window is recomputed from its panes
sstream-window: batch 4000: --inverse-exec: key 'b': 'x\\q' has a backslash that is not \\\\, \\t or \\n; the window is recomputed from its panes
sstream-window: 2 rejected records not kept (use --rejects FILE)"
}

@test "window-exec: a filter answer that is not a record sent is a reject" {
    mkdir -p "$T/d"
    printf 'a 1\n' >"$T/d/1"
    printf 'b 2\n' >"$T/d/2"
    cat >"$T/odd.py" <<'PY'
import sys
sys.stdin.buffer.readline()
for line in sys.stdin.buffer:
    if line.startswith(b"batch"):
        continue
    if line == b"\\.\n":
        sys.stdout.buffer.write(b"zz\tq\n\\.\n")
        sys.stdout.buffer.flush()
    else:
        sys.stdout.buffer.write(line)
PY
    run --separate-stderr run_win "$T/d" -w 2 --reduce-by-key sum \
        --filter-exec "python3 $T/odd.py" --rejects "$T/rej"
    assert_success
    assert_output "$(printf '%s\n' '1000	a	1' '2000	a	1' '2000	b	2')"
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 1000: --filter-exec: 'zz	q' is not one of the window's records (after the last one kept)"
    assert_equal "$(cat "$T/rej")" "$(printf 'zz\tq\nzz\tq')"
}

@test "window-exec: the Python client's modes import without side effects" {
    run python3 -c "import sstream_coprocess as s; print(s.serve_reduce.__name__, s.serve_inverse.__name__, s.serve_filter.__name__)" </dev/null
    assert_success
    assert_output "serve_reduce serve_inverse serve_filter"
}

@test "window-exec: usage errors exit 2" {
    run --separate-stderr sstream-window -w 2 --inverse-exec cat
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --inverse-exec needs --reduce-exec CMD"
    run --separate-stderr sstream-window -w 2 --reduce-exec cat --reduce-by-key sum
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --count, --count-by-value, --group-by-key, --reduce, --reduce-by-key and --reduce-exec exclude each other"
    run --separate-stderr sstream-window -w 2 --reduce-exec cat --inverse-exec cat --no-inverse
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --inverse-exec and --no-inverse exclude each other"
    run --separate-stderr sstream-window -w 2 --reduce-exec cat --keep-empty-keys
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --keep-empty-keys with --reduce-exec needs --inverse-exec CMD"
    run --separate-stderr sstream-window --session-gap 2 --reduce-exec cat
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --reduce-exec is for sliding windows"
    run --separate-stderr sstream-window -w 2 --count --filter-exec cat
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --filter-exec needs --count-by-value, --group-by-key, --reduce-by-key OP or --reduce-exec CMD"
    run --separate-stderr sstream-window -w 2 --reduce-exec ''
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --reduce-exec: the command is empty"
    run --separate-stderr sstream-window -w 2 --reduce-exec
    assert_failure 2
}
