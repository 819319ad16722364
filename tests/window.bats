#!/usr/bin/env bats
# sstream-window: Spark's window operations, checked against the outputs
# Spark's semantics give (WindowedDStream slices the batches in
# (end - window, end]; ReducedWindowedDStream adds the new batches and
# subtracts the old ones), session windows, bad input and usage errors.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

# frames ARGS... : tests/helpers/frames.py (keyed input without sstream-map)
frames() {
    "$PY" "$TESTS_DIR/helpers/frames.py" "$@"
}

# win FILE ARGS... : sstream-window ARGS on the frames in FILE, printed by
# sstream-sink --tsv with spaces for tabs.
win() {
    local in=$1
    shift
    set -o pipefail
    sstream-window "$@" <"$in" | sstream-sink --tsv | tr '\t' ' '
}

# replay DIR ARGS... : sstream-source --replay DIR -b 1s into sstream-window.
replay() {
    local dir=$1
    shift
    set -o pipefail
    sstream-source --replay "$dir" -b 1s | sstream-window "$@" |
        sstream-sink --tsv | tr '\t' ' '
}

# The fixed replay streams of these tests. Words, batch times 1000..8000:
words() {
    batches "$T/w" "a b" "b c c" "a" - "c a" "b" - -
}
# Numbers (Spark's largerSlideInput), one per batch, then two empty ones:
numbers() {
    batches "$T/n" 1 2 3 4 5 6 - -
}
# Keyed pairs, one frame per record to exercise batches in parts:
pairs() {
    frames --keyed --parts 1 "a:1" "a:2 b:10" "a:3 b:20 c:100" "a:4 b:30" \
        "a:5" - "a:6" - >"$T/p"
}

@test "window: window 3s slide 1s holds the last 3 batches, first ones partial" {
    words
    run --separate-stderr replay "$T/w" -w 3s -s 1s
    assert_success
    assert_output - <<'EOF2'
1000 a
1000 b
2000 a
2000 b
2000 b
2000 c
2000 c
3000 a
3000 b
3000 b
3000 c
3000 c
3000 a
4000 b
4000 c
4000 c
4000 a
5000 a
5000 c
5000 a
6000 c
6000 a
6000 b
7000 c
7000 a
7000 b
8000 b
EOF2
    assert_equal "$stderr" ""
}

@test "window: window 4s slide 2s emits at 2000, 4000, 6000, 8000" {
    words
    run --separate-stderr replay "$T/w" -w 4 -s 2
    assert_success
    assert_output - <<'EOF2'
2000 a
2000 b
2000 b
2000 c
2000 c
4000 a
4000 b
4000 b
4000 c
4000 c
4000 a
6000 a
6000 c
6000 a
6000 b
8000 c
8000 a
8000 b
EOF2
}

@test "window: frames are one per slide, time the window end, interval the slide" {
    batches "$T/d" x - - y
    run bash -c "sstream-source --replay '$T/d' | sstream-window -w 2s -s 2s |
        sstream-sink --dump | sed -e 's/ closed=.*//' -e 's/=[0-9]*ms/=Nms/'"
    assert_success
    assert_output - <<'EOF2'
@0 batch time=2000 interval=2000 count=1 payload=2 flags=-
  trail: window=Nms
  1: "x"
@86 batch time=4000 interval=2000 count=1 payload=2 flags=-
  trail: window=Nms
  1: "y"
@172 end time=4000 interval=2000 count=0 payload=0 flags=-
EOF2
}

@test "window: --count (countByWindow) 3s/1s and 4s/2s" {
    words
    run replay "$T/w" -w 3 -s 1 --count
    assert_success
    assert_output "$(printf '%s\n' '1000 2' '2000 5' '3000 6' '4000 4' \
        '5000 3' '6000 3' '7000 3' '8000 1')"
    run replay "$T/w" -w 4 -s 2 --count
    assert_success
    assert_output "$(printf '%s\n' '2000 5' '4000 6' '6000 4' '8000 3')"
}

@test "window: --count of an empty window is 0" {
    batches "$T/d" "a b" - - -
    run replay "$T/d" -w 2 --count
    assert_output "$(printf '%s\n' '1000 2' '2000 2' '3000 0' '4000 0')"
}

@test "window: --count says nothing before the first record, then counts, 0 included (Spark)" {
    batches "$T/d" - - "a b" - - - c - - - - "d e f"
    # The model: Spark's countByWindow is reduceByKeyAndWindow with an
    # inverse on one key, which exists from its first record on.
    for ws in "2 1" "3 1" "4 2" "2 3"; do
        set -- $ws
        want=$(awk -v w="$1" -v s="$2" 'BEGIN {
            split("0 0 2 0 0 0 1 0 0 0 0 3", n, " ")
            for (e = s; e <= 12; e += s) {
                c = 0
                for (i = 1; i <= 12; i++)
                    if (i > e - w && i <= e) c += n[i]
                if (e >= 3) print e "000 " c
            } }')
        run --separate-stderr replay "$T/d" -w "$1" -s "$2" --count
        assert_success
        assert_output "$want"
        run --separate-stderr replay "$T/d" -w "$1" -s "$2" --count --no-inverse
        assert_output "$want"
    done
    # w 2, s 1 in full:
    assert_equal "$(replay "$T/d" -w 2 --count | paste -sd' ')" \
        "3000 2 4000 2 5000 0 6000 0 7000 1 8000 1 9000 0 10000 0 11000 0 12000 3"
}

@test "window: the inverse window's float drift is as sstream-window(1) shows; --no-inverse is exact" {
    batches "$T/f" 0.1 0.2 0.3 0.4
    run replay "$T/f" -w 2 --reduce sum
    assert_output "$(printf '%s\n' '1000 0.1' '2000 0.30000000000000004' \
        '3000 0.5000000000000001' '4000 0.7000000000000002')"
    run replay "$T/f" -w 2 --reduce sum --no-inverse
    assert_output "$(printf '%s\n' '1000 0.1' '2000 0.30000000000000004' \
        '3000 0.5' '4000 0.7')"
}

@test "window: --count-by-value (countByValueAndWindow) 3s/1s" {
    words
    run --separate-stderr replay "$T/w" -w 3 -s 1 --count-by-value
    assert_success
    assert_output - <<'EOF2'
1000 a 1
1000 b 1
2000 a 1
2000 b 2
2000 c 2
3000 a 2
3000 b 2
3000 c 2
4000 a 1
4000 b 1
4000 c 2
5000 a 2
5000 c 1
6000 a 1
6000 b 1
6000 c 1
7000 a 1
7000 b 1
7000 c 1
8000 b 1
EOF2
}

@test "window: --count-by-value 4s/2s" {
    words
    run replay "$T/w" -w 4 -s 2 --count-by-value
    assert_success
    assert_output - <<'EOF2'
2000 a 1
2000 b 2
2000 c 2
4000 a 2
4000 b 2
4000 c 2
6000 a 2
6000 b 1
6000 c 1
8000 a 1
8000 b 1
8000 c 1
EOF2
}

@test "window: --reduce (reduceByWindow) sum, max, mean 3s/1s" {
    numbers
    run replay "$T/n" -w 3 --reduce sum
    assert_output "$(printf '%s\n' '1000 1' '2000 3' '3000 6' '4000 9' \
        '5000 12' '6000 15' '7000 11' '8000 6')"
    run replay "$T/n" -w 3 --reduce max
    assert_output "$(printf '%s\n' '1000 1' '2000 2' '3000 3' '4000 4' \
        '5000 5' '6000 6' '7000 6' '8000 6')"
    run replay "$T/n" -w 3 --reduce mean
    assert_output "$(printf '%s\n' '1000 1' '2000 1.5' '3000 2' '4000 3' \
        '5000 4' '6000 5' '7000 5.5' '8000 6')"
}

@test "window: --reduce 4s/2s gives Spark's largerSlideReduceOutput" {
    numbers
    run replay "$T/n" -w 4 -s 2 --reduce sum
    assert_output "$(printf '%s\n' '2000 3' '4000 10' '6000 18' '8000 11')"
    run replay "$T/n" -w 4 -s 2 --reduce sum --no-inverse
    assert_output "$(printf '%s\n' '2000 3' '4000 10' '6000 18' '8000 11')"
    run replay "$T/n" -w 4 -s 2 --reduce min
    assert_output "$(printf '%s\n' '2000 1' '4000 1' '6000 3' '8000 5')"
}

@test "window: --reduce of an empty window writes no record" {
    batches "$T/d" 4 - - 5
    run replay "$T/d" -w 2 --reduce sum
    assert_output "$(printf '%s\n' '1000 4' '2000 4' '4000 5')"
}

@test "window: --reduce-by-key sum 3s/1s, inverse and --no-inverse" {
    pairs
    for inv in "" --no-inverse; do
        run --separate-stderr win "$T/p" -w 3 -s 1 --reduce-by-key sum $inv
        assert_success
        assert_output - <<'EOF2'
1000 a 1
2000 a 3
2000 b 10
3000 a 6
3000 b 30
3000 c 100
4000 a 9
4000 b 60
4000 c 100
5000 a 12
5000 b 50
5000 c 100
6000 a 9
6000 b 30
7000 a 11
8000 a 6
EOF2
    done
}

@test "window: --reduce-by-key sum 4s/2s, inverse and --no-inverse" {
    pairs
    for inv in "" --no-inverse; do
        run win "$T/p" -w 4 -s 2 --reduce-by-key sum $inv
        assert_success
        assert_output - <<'EOF2'
2000 a 3
2000 b 10
4000 a 10
4000 b 60
4000 c 100
6000 a 12
6000 b 50
6000 c 100
8000 a 11
EOF2
    done
}

@test "window: --keep-empty-keys keeps keys at 0, as Spark's inverse reduce" {
    pairs
    run win "$T/p" -w 3 -s 1 --reduce-by-key sum --keep-empty-keys
    assert_success
    assert_output - <<'EOF2'
1000 a 1
2000 a 3
2000 b 10
3000 a 6
3000 b 30
3000 c 100
4000 a 9
4000 b 60
4000 c 100
5000 a 12
5000 b 50
5000 c 100
6000 a 9
6000 b 30
6000 c 0
7000 a 11
7000 b 0
7000 c 0
8000 a 6
8000 b 0
8000 c 0
EOF2
    run win "$T/p" -w 4 -s 2 --reduce-by-key sum --keep-empty-keys --no-inverse
    assert_output - <<'EOF2'
2000 a 3
2000 b 10
4000 a 10
4000 b 60
4000 c 100
6000 a 12
6000 b 50
6000 c 100
8000 a 11
8000 b 0
8000 c 0
EOF2
}

@test "window: a key whose values sum to 0 stays" {
    frames --keyed "a:5 b:1" "a:-5" >"$T/z"
    run win "$T/z" -w 2 --reduce-by-key sum
    assert_output "$(printf '%s\n' '1000 a 5' '1000 b 1' '2000 a 0' \
        '2000 b 1')"
}

@test "window: --reduce-by-key mean, min, last, concat 3s/1s" {
    pairs
    run win "$T/p" -w 3 --reduce-by-key mean
    assert_output "$(printf '%s\n' '1000 a 1' '2000 a 1.5' '2000 b 10' \
        '3000 a 2' '3000 b 15' '3000 c 100' '4000 a 3' '4000 b 20' \
        '4000 c 100' '5000 a 4' '5000 b 25' '5000 c 100' '6000 a 4.5' \
        '6000 b 30' '7000 a 5.5' '8000 a 6')"
    run win "$T/p" -w 3 --reduce-by-key min
    assert_output "$(printf '%s\n' '1000 a 1' '2000 a 1' '2000 b 10' \
        '3000 a 1' '3000 b 10' '3000 c 100' '4000 a 2' '4000 b 10' \
        '4000 c 100' '5000 a 3' '5000 b 20' '5000 c 100' '6000 a 4' \
        '6000 b 30' '7000 a 5' '8000 a 6')"
    run win "$T/p" -w 4 -s 2 --reduce-by-key last
    assert_output "$(printf '%s\n' '2000 a 2' '2000 b 10' '4000 a 4' \
        '4000 b 30' '4000 c 100' '6000 a 5' '6000 b 30' '6000 c 100' \
        '8000 a 6')"
}

@test "window: --group-by-key (groupByKeyAndWindow) 3s/1s, values in arrival order" {
    pairs
    run --separate-stderr win "$T/p" -w 3 --group-by-key
    assert_success
    assert_output - <<'EOF2'
1000 a 1
2000 a 1,2
2000 b 10
3000 a 1,2,3
3000 b 10,20
3000 c 100
4000 a 2,3,4
4000 b 10,20,30
4000 c 100
5000 a 3,4,5
5000 b 20,30
5000 c 100
6000 a 4,5
6000 b 30
7000 a 5,6
8000 a 6
EOF2
}

@test "window: --group-by-key 4s/2s with --separator" {
    pairs
    run win "$T/p" -w 4 -s 2 --group-by-key --separator ';'
    assert_success
    assert_output - <<'EOF2'
2000 a 1;2
2000 b 10
4000 a 1;2;3;4
4000 b 10;20;30
4000 c 100
6000 a 3;4;5
6000 b 20;30
6000 c 100
8000 a 5;6
EOF2
}

# Spark's own WindowOperationsSuite (window 2s, slide 1s unless given),
# with its expected outputs; Spark compares them as sets, sstream prints
# keys in byte order.
@test "window: Spark's suite: basic, tumbling, larger, non-overlapping window" {
    batches "$T/s" 0 1 2 3 4 5 - -
    run replay "$T/s" -w 2
    assert_output "$(printf '%s\n' '1000 0' '2000 0' '2000 1' '3000 1' \
        '3000 2' '4000 2' '4000 3' '5000 3' '5000 4' '6000 4' '6000 5' \
        '7000 5')"
    run replay "$T/s" -w 2 -s 2
    assert_output "$(printf '%s\n' '2000 0' '2000 1' '4000 2' '4000 3' \
        '6000 4' '6000 5' )"
    run replay "$T/s" -w 4 -s 2
    assert_output "$(printf '%s\n' '2000 0' '2000 1' '4000 0' '4000 1' \
        '4000 2' '4000 3' '6000 2' '6000 3' '6000 4' '6000 5' '8000 4' \
        '8000 5')"
    run replay "$T/s" -w 2 -s 3
    assert_output "$(printf '%s\n' '3000 1' '3000 2' '6000 4' '6000 5')"
    run replay "$T/s" -w 2 -s 3 --count
    assert_output "$(printf '%s\n' '3000 2' '6000 2')"
}

@test "window: Spark's suite: reduceByKeyAndWindow big test, with and without filter" {
    frames --keyed "a:1" "a:1 b:1" "a:1 b:1 c:1" "a:1 b:1" "a:1" - "a:1" \
        "a:1 b:1" "a:1 b:1 c:1" "a:1 b:1" "a:1" - >"$T/big"
    # bigReduceOutput (naive, and inverse with a filter function)
    run win "$T/big" -w 2 --reduce-by-key sum
    assert_output - <<'EOF2'
1000 a 1
2000 a 2
2000 b 1
3000 a 2
3000 b 2
3000 c 1
4000 a 2
4000 b 2
4000 c 1
5000 a 2
5000 b 1
6000 a 1
7000 a 1
8000 a 2
8000 b 1
9000 a 2
9000 b 2
9000 c 1
10000 a 2
10000 b 2
10000 c 1
11000 a 2
11000 b 1
12000 a 1
EOF2
    # bigReduceInvOutput (inverse without a filter function)
    run win "$T/big" -w 2 --reduce-by-key sum --keep-empty-keys
    assert_output - <<'EOF2'
1000 a 1
2000 a 2
2000 b 1
3000 a 2
3000 b 2
3000 c 1
4000 a 2
4000 b 2
4000 c 1
5000 a 2
5000 b 1
5000 c 0
6000 a 1
6000 b 0
6000 c 0
7000 a 1
7000 b 0
7000 c 0
8000 a 2
8000 b 1
8000 c 0
9000 a 2
9000 b 2
9000 c 1
10000 a 2
10000 b 2
10000 c 1
11000 a 2
11000 b 1
11000 c 0
12000 a 1
12000 b 0
12000 c 0
EOF2
    # bigGroupByOutput
    run win "$T/big" -w 2 --group-by-key
    assert_output - <<'EOF2'
1000 a 1
2000 a 1,1
2000 b 1
3000 a 1,1
3000 b 1,1
3000 c 1
4000 a 1,1
4000 b 1,1
4000 c 1
5000 a 1,1
5000 b 1
6000 a 1
7000 a 1
8000 a 1,1
8000 b 1
9000 a 1,1
9000 b 1,1
9000 c 1
10000 a 1,1
10000 b 1,1
10000 c 1
11000 a 1,1
11000 b 1
12000 a 1
EOF2
}

@test "window: Spark's suite: larger slide time, key removed, countByWindow, countByValueAndWindow" {
    frames --keyed a:1 a:2 a:3 a:4 a:5 a:6 - - >"$T/ls"
    run win "$T/ls" -w 4 -s 2 --reduce-by-key sum
    assert_output "$(printf '%s\n' '2000 a 3' '4000 a 10' '6000 a 18' \
        '8000 a 11')"
    frames --keyed a:1 a:1 - - >"$T/kr"
    run win "$T/kr" -w 2 --reduce-by-key sum --keep-empty-keys
    assert_output "$(printf '%s\n' '1000 a 1' '2000 a 2' '3000 a 1' \
        '4000 a 0')"
    batches "$T/c" 1 1 "1 2" 0 - -
    run replay "$T/c" -w 2 --count
    assert_output "$(printf '%s\n' '1000 1' '2000 2' '3000 3' '4000 3' \
        '5000 1' '6000 0')"
    batches "$T/v" a "b b" "a b"
    run replay "$T/v" -w 2 --count-by-value
    assert_output "$(printf '%s\n' '1000 a 1' '2000 a 1' '2000 b 2' \
        '3000 a 1' '3000 b 3')"
}

@test "window: property: inverse == --no-inverse == naive recomputation" {
    # Random keyed streams (seeds 0-2: 150 or 40 batches, 31 keys, empty
    # batches, some batches in parts, dyadic fractions that add exactly),
    # 7 window/slide pairs, every operation; frames compared byte for byte.
    run --separate-stderr "$PY" "$TESTS_DIR/helpers/window-prop.py" 3
    assert_success
    assert_output "462 cases agree"
}

@test "window: float drift of inverse reduce is bounded by recomputing every 64 slides" {
    # 0.1 .. 0.9 do not add exactly: a running sum drifts from a fresh one
    # in the last digits; every 64 slides it is recomputed from the panes.
    frames $(for i in $(seq 200); do printf '0.%d ' $((i % 9 + 1)); done) \
        >"$T/f"
    win "$T/f" -w 7 --reduce sum >"$T/inv"
    win "$T/f" -w 7 --reduce sum --no-inverse >"$T/re"
    run paste -d' ' "$T/inv" "$T/re"
    assert_success
    assert_equal "$(echo "$output" | wc -l)" 200
    # the same at the recomputed slides 64 and 128, close everywhere
    assert_equal "$(echo "$output" | awk 'NR == 64 || NR == 128 { print ($2 == $4) }')" "1
1"
    assert_equal "$(echo "$output" | awk '{ d = $2 - $4; if (d < 0) d = -d
        if (d > 1e-12) bad++ } END { print bad + 0 }')" 0
}

@test "window: window ends are multiples of the slide from the epoch" {
    # Batches at 3500, 4500, ... (--start-time 2500): the batch at 4500
    # belongs to the window ending at 6000, which closes when 6500 arrives.
    frames -b 1000 --start 2500 1 2 3 4 5 >"$T/off"
    run win "$T/off" -w 2 -s 2 --reduce sum
    assert_success
    assert_output "$(printf '%s\n' '4000 1' '6000 5')"
    frames -b 1000 --start 2000 1 2 3 4 >"$T/on"
    run win "$T/on" -w 4 -s 2 --reduce sum
    assert_output "$(printf '%s\n' '4000 3' '6000 10')"
}

@test "window: a batch in several frames counts as one batch" {
    frames --keyed --parts 2 "a:1 b:2 a:3 c:4 a:5" - "a:1" >"$T/parts"
    frames --keyed "a:1 b:2 a:3 c:4 a:5" - "a:1" >"$T/whole"
    run win "$T/parts" -w 2 --group-by-key
    assert_success
    assert_output "$(printf '%s\n' '1000 a 1,3,5' '1000 b 2' '1000 c 4' \
        '2000 a 1,3,5' '2000 b 2' '2000 c 4' '3000 a 1')"
    run win "$T/whole" -w 2 --group-by-key
    assert_output "$(printf '%s\n' '1000 a 1,3,5' '1000 b 2' '1000 c 4' \
        '2000 a 1,3,5' '2000 b 2' '2000 c 4' '3000 a 1')"
    frames --parts 1 "x y z" >"$T/plain"
    run win "$T/plain" -w 1
    assert_output "$(printf '%s\n' '1000 x' '1000 y' '1000 z')"
}

@test "window: keyed records through a plain window keep their keys" {
    frames --keyed "a:1 b:2" "c:3" >"$T/kv"
    run win "$T/kv" -w 2
    assert_output "$(printf '%s\n' '1000 a 1' '1000 b 2' '2000 a 1' \
        '2000 b 2' '2000 c 3')"
}

@test "window: --session-gap closes a key's session after the gap, once" {
    frames --keyed "a:1 b:5" "a:2" - "b:1" - - "a:7" - - >"$T/sess"
    run --separate-stderr win "$T/sess" --session-gap 2s --reduce-by-key sum
    assert_success
    # key, first batch time, last batch time, aggregate
    assert_output - <<'EOF2'
3000 b 1000 1000 5
4000 a 1000 2000 3
6000 b 4000 4000 1
9000 a 7000 7000 7
EOF2
    run win "$T/sess" --session-gap 3 --group-by-key
    assert_output - <<'EOF2'
5000 a 1000 2000 1,2
7000 b 1000 4000 5,1
EOF2
}

@test "window: --session-gap records split with awk, sessions open at the end stay" {
    frames --keyed "u1:x u2:y" "u1:z" - - >"$T/s2"
    run bash -c "sstream-window --session-gap 2 --count-by-value <'$T/s2' |
        sstream-sink --lines | awk -F'\t' '{ print \$1 \"|\" \$2 \"|\" \$3 \"|\" \$4 \"|\" \$5 }'"
    assert_success
    assert_output "$(printf '%s\n' 'u1|x|1000|1000|1' 'u2|y|1000|1000|1' \
        'u1|z|2000|2000|1')"
}

@test "window: a non-number under sum is reported, counted, and left out" {
    frames --keyed "a:1 b:x" "a:2 a:y" "a:3" - >"$T/bad"
    run --separate-stderr win "$T/bad" -w 2 --reduce-by-key sum
    assert_failure 1
    assert_output "$(printf '%s\n' '1000 a 1' '2000 a 3' '3000 a 5' \
        '4000 a 3')"
    assert_equal "$stderr" "sstream-window: batch 1000, record 2: 'x' is not a number
sstream-window: batch 2000, record 2: 'y' is not a number
sstream-window: 2 rejected records not kept (use --rejects FILE)"
}

@test "window: --rejects keeps the bad records and the exit status is 0" {
    frames --keyed "a:1 b:x" "a:2 a:1.5.2" "a:3" >"$T/bad"
    run --separate-stderr win "$T/bad" -w 2 --reduce-by-key sum \
        --rejects "$T/rej"
    assert_success
    assert_output "$(printf '%s\n' '1000 a 1' '2000 a 3' '3000 a 5')"
    assert_equal "$(cat "$T/rej")" "$(printf 'b\tx\na\t1.5.2')"
    assert_equal "$stderr" "sstream-window: batch 1000, record 2: 'x' is not a number
sstream-window: batch 2000, record 2: '1.5.2' is not a number
sstream-window: 2 rejected records kept in '$T/rej'"
    batches "$T/d" "1 two 3"
    run --separate-stderr replay "$T/d" -w 1 --reduce mean
    assert_failure 1
    assert_output "1000 2"
}

@test "window: a window or slide that is not a multiple of the interval exits 2" {
    frames -b 2000 1 2 >"$T/i2"
    run --separate-stderr bash -c "sstream-window -w 3s <'$T/i2' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: window 3s and slide 2s must be multiples of the batch interval 2s"
    run --separate-stderr bash -c "sstream-window -w 4s -s 1s <'$T/i2' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: window 4s and slide 1s must be multiples of the batch interval 2s"
    run --separate-stderr bash -c "sstream-window --session-gap 1500ms --group-by-key <'$T/i2' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --session-gap 1500ms is not a multiple of the batch interval 2s"
}

@test "window: records without keys under --reduce-by-key exit 1" {
    batches "$T/d" "1 2"
    run --separate-stderr replay "$T/d" -w 1 --reduce-by-key sum
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 1000, record 1: records without keys (try sstream-map to make keys)"
}

@test "window: batch times that go back are refused" {
    { frames 1 2 | head -c 116; frames 1 | tail -c +1; } >"$T/back"
    run --separate-stderr win "$T/back" -w 1
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 1000 comes after batch 2000 (batch times must increase)"
}

@test "window: a far-future batch time stops at --max-gap, not after hours of empty windows" {
    { frames 1 | head -c 58; frames --start 999999999000 2; } >"$T/far"
    run --separate-stderr win "$T/far" -w 1 --count
    assert_failure 1
    assert_output "1000 1"
    assert_equal "$stderr" "sstream-window: batch 1000000000000 comes 999999999s after batch 1000: more than --max-gap 100000s of empty windows to send (if the stream really paused that long, give --max-gap 999999999s)
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    { frames 1 | head -c 58; frames --start 5000 2; } >"$T/gap"
    run --separate-stderr win "$T/gap" -w 1 --count --max-gap 3s
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 6000 comes 5s after batch 1000: more than --max-gap 3s of empty windows to send (if the stream really paused that long, give --max-gap 5s)"
    run --separate-stderr win "$T/gap" -w 2 --count --max-gap 5s
    assert_success
    assert_output "$(printf '1000 1\n2000 1\n3000 0\n4000 0\n5000 0\n6000 1')"
}

@test "window: usage errors exit 2 with a message" {
    run --separate-stderr sstream-window --count
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --window is required (or --session-gap)"
    run --separate-stderr sstream-window -w 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --window: '1x' is not a duration (try 500ms or 2s)"
    run --separate-stderr sstream-window -w 2 -s 0
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --slide: '0' is not a duration (try 500ms or 2s)"
    run --separate-stderr sstream-window -w 2 --reduce median
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --reduce: unknown operator 'median' (try sum, count, min, max, mean, first, last or concat)"
    run --separate-stderr sstream-window -w 2 --count --reduce sum
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --count, --count-by-value, --group-by-key, --reduce, --reduce-by-key and --reduce-exec exclude each other"
    run --separate-stderr sstream-window -w 2 --reduce-by-key max --keep-empty-keys
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --keep-empty-keys needs --count-by-value, or --reduce or --reduce-by-key with sum, count or mean"
    run --separate-stderr sstream-window -w 2 --session-gap 2 --group-by-key
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --session-gap excludes --window and --slide"
    run --separate-stderr sstream-window --session-gap 2 --count-by-value --max-gap 1h
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --max-gap is for sliding windows"
    run --separate-stderr sstream-window --session-gap 2 --count
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --session-gap needs --count-by-value, --group-by-key or --reduce-by-key OP"
    run --separate-stderr sstream-window -w 2 --separator ab
    assert_failure 2
    run --separate-stderr sstream-window -w 2 extra
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: unexpected argument 'extra'"
    run --separate-stderr sstream-window --bogus
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: unrecognized option '--bogus'"
}

@test "window: --help and --version go to stdout" {
    run --separate-stderr sstream-window --help
    assert_success
    assert_line --index 0 --partial "usage: sstream-window [-hV] -w DUR [-s DUR]"
    assert_line --partial "--session-gap DUR"
    run --separate-stderr sstream-window -V
    assert_success
    assert_output "sstream-window 0.1.0 (frame format 1)"
}

# ---- --checkpoint ----

# The stream of the restart tests: nine batches of keyed records.
nine() {
    frames --keyed "$@" "a:1 b:2" "a:3" "c:4 a:1" - "b:5" "a:2 c:1" "b:1" - \
        "a:9"
}

# show FILE : the whole frames of FILE as "time key value" lines
show() {
    "$PY" "$TESTS_DIR/helpers/frames.py" --show "$1"
}

@test "window: --checkpoint: kill -9 mid-stream, restart on the replayed rest, same output" {
    nine >"$T/all"
    sstream-window -w 3 --reduce-by-key sum <"$T/all" >"$T/full"
    mkfifo "$T/fifo"
    sstream-window -w 3 --reduce-by-key sum --checkpoint "$T/ck" \
        <"$T/fifo" >"$T/out1" 3>&- &
    pid=$!
    exec 7>"$T/fifo" # fd 3 is bats' own
    "$PY" "$TESTS_DIR/helpers/frames.py" --keyed --no-end "a:1 b:2" "a:3" \
        "c:4 a:1" - "b:5" >&7
    # Wait (up to 10 s) until the five batches' windows are out, then kill.
    for _ in $(seq 100); do
        [ "$(show "$T/out1" | cut -d' ' -f1 | sort -u | wc -l)" -eq 5 ] && break
        sleep 0.1
    done
    kill -9 "$pid"
    wait "$pid" || true
    exec 7>&-
    # The source replays from batch 3000 on (the sink had committed 2000).
    nine --skip 2 >"$T/rest"
    run --separate-stderr bash -c "sstream-window -w 3 --reduce-by-key sum \
        --checkpoint '$T/ck' <'$T/rest' >'$T/out2'"
    assert_success
    assert_equal "$stderr" "sstream-window: 3 replayed batches (3000 to 5000) not applied again, output re-emitted"
    # The replayed batches' windows come out again exactly as the first time.
    assert_equal "$(show "$T/out2" | awk '$1 <= 5000')" \
        "$(show "$T/out1" | awk '$1 >= 3000')"
    output=$({
        show "$T/out1" | awk '$1 < 3000'
        show "$T/out2"
    })
    assert_output "$(show "$T/full")"
    assert_output - <<'EOF2'
1000 a 1
1000 b 2
2000 a 4
2000 b 2
3000 a 5
3000 b 2
3000 c 4
4000 a 4
4000 c 4
5000 a 1
5000 b 5
5000 c 4
6000 a 2
6000 b 5
6000 c 1
7000 a 2
7000 b 6
7000 c 1
8000 a 2
8000 b 1
8000 c 1
9000 a 9
9000 b 1
EOF2
}

@test "window: --checkpoint: restarts agree with an uninterrupted run (10 operations)" {
    # Stop after batch k, restart at j <= k (replayed), random k and j,
    # for sliding, tumbling, keep-empty, group, plain, session windows.
    run --separate-stderr "$PY" "$TESTS_DIR/helpers/window-restart.py" 3
    assert_success
    assert_output "30 restarts agree"
}

@test "window: --checkpoint survives a kill during a checkpoint write" {
    nine >"$T/all"
    sstream-window -w 4 -s 2 --group-by-key <"$T/all" >"$T/full"
    # SIGKILL halfway through writing the 4th checkpoint file or entry.
    run bash -c "SSTREAM_TEST_CRASH_AT=ckpt-write:4 sstream-window -w 4 -s 2 \
        --group-by-key --checkpoint '$T/ck' <'$T/all' >'$T/out1'"
    assert_failure 137
    run --separate-stderr bash -c "sstream-window -w 4 -s 2 --group-by-key \
        --checkpoint '$T/ck' <'$T/all' >'$T/out2'"
    assert_success
    assert_equal "$(show "$T/out2")" "$(show "$T/full")"
}

@test "window: --checkpoint made with other options is refused (exit 2)" {
    nine >"$T/all"
    sstream-window -w 3 --reduce-by-key sum --checkpoint "$T/ck" <"$T/all" \
        >/dev/null
    run --separate-stderr bash -c "sstream-window -w 4 --reduce-by-key sum \
        --checkpoint '$T/ck' <'$T/all' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: checkpoint '$T/ck' was made with --window 3s, not --window 4s (use another --checkpoint DIR, or --dump it and --import)"
    run --separate-stderr bash -c "sstream-window -w 3 --group-by-key \
        --checkpoint '$T/ck' <'$T/all' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: checkpoint '$T/ck' was made with --reduce-by-key sum, not --reduce-by-key (unset) (use another --checkpoint DIR, or --dump it and --import)"
}

@test "window: a replay older than the kept outputs stops the stage, exit 1" {
    nine >"$T/all"
    nine --skip 1 >"$T/rest"
    sstream-window -w 3 --count-by-value --checkpoint "$T/ck" \
        --keep-outputs 2 <"$T/all" >/dev/null
    run --separate-stderr bash -c "sstream-window -w 3 --count-by-value \
        --checkpoint '$T/ck' --keep-outputs 2 <'$T/rest' >'$T/out'"
    assert_failure 1
    assert_equal "$(show "$T/out")" ""
    assert_equal "$stderr" "sstream-window: batch 2000 is a replay (checkpoint '$T/ck' is at 9000) older than the 2 batches whose output is kept, and cannot be sent again: restart from sstream-source --wal DIR with sstream-sink --commit DIR, which send again only what is not committed, or give a new stream a new --checkpoint DIR"
    run --separate-stderr sstream-window -w 3 --keep-outputs 2
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --keep-outputs needs --checkpoint DIR"
}

@test "window: a slide longer than what a restart may send again is refused (exit 2)" {
    frames --keyed --replay-ms 2000 "a:1" "a:2" >"$T/in"
    run --separate-stderr bash -c "sstream-window -w 4s -s 4s --reduce-by-key sum <'$T/in' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --slide 4s is longer than the 2s a restart may send again (sstream-source --max-uncommitted times its batch interval): the source would wait for a commit that comes only when a slide ends; give sstream-source a --max-uncommitted that reaches back 4s or more (4 batches of 1s)"
    frames --keyed --replay-ms 4000 "a:1" "a:2" >"$T/in"
    run --separate-stderr bash -c "sstream-window -w 4s -s 4s --reduce-by-key sum <'$T/in' >/dev/null"
    assert_success
}

@test "window: --keep-outputs too small for what a restart may send again: exit 2" {
    nine --replay-ms 3000 >"$T/all"
    run --separate-stderr bash -c "sstream-window -w 3 --reduce-by-key sum \
        --checkpoint '$T/ck' --keep-outputs 2 <'$T/all' >/dev/null"
    assert_failure 2
    assert_equal "$stderr" "sstream-window: --keep-outputs 2 keeps fewer batches than a restart may send again (sstream-source --max-uncommitted reaches back 3s: 3 batches of 1s); give --keep-outputs 3 or more, or leave it out"
}

@test "window: without --keep-outputs, what a restart may send again is kept" {
    mapfile -t recs < <(for i in $(seq 15); do echo "k:$i"; done)
    frames --keyed --replay-ms 12000 "${recs[@]}" >"$T/all"
    sstream-window -w 2 --reduce-by-key sum --checkpoint "$T/ck" <"$T/all" \
        >"$T/out1"
    frames --keyed --replay-ms 12000 --skip 3 "${recs[@]}" >"$T/last12"
    run --separate-stderr bash -c "sstream-window -w 2 --reduce-by-key sum \
        --checkpoint '$T/ck' <'$T/last12' >'$T/out2'"
    assert_success
    assert_equal "$stderr" "sstream-window: 12 replayed batches (4000 to 15000) not applied again, output re-emitted"
    assert_equal "$(show "$T/out2")" "$(show "$T/out1" | awk '$1 >= 4000')"
    frames --keyed --replay-ms 12000 --skip 2 "${recs[@]}" >"$T/last13"
    run --separate-stderr bash -c "sstream-window -w 2 --reduce-by-key sum \
        --checkpoint '$T/ck' <'$T/last13' >/dev/null"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 3000 is a replay (checkpoint '$T/ck' is at 15000) older than the 12 batches whose output is kept, and cannot be sent again: restart from sstream-source --wal DIR with sstream-sink --commit DIR, which send again only what is not committed, or give a new stream a new --checkpoint DIR"
}

# ---- a corrupt newest checkpoint ----
#
# nine through -w 3 --reduce-by-key sum leaves three generations; the
# newest: 3.snap at 7000 and its log, a header (40 bytes), the entry of
# 7000 (40-273, the snapshot's batch), 8000 (274-484), 9000 (485-744).
# ten: nine and one more batch, 10000.

ten() {
    frames --keyed "$@" "a:1 b:2" "a:3" "c:4 a:1" - "b:5" "a:2 c:1" "b:1" - \
        "a:9" "b:3"
}

# ck9: that checkpoint in $T/ck, and $T/full the uninterrupted ten
ck9() {
    nine >"$T/all"
    sstream-window -w 3 --reduce-by-key sum --checkpoint "$T/ck" \
        <"$T/all" >/dev/null
    ten >"$T/all10"
    sstream-window -w 3 --reduce-by-key sum <"$T/all10" >"$T/full"
}

# resume SKIP: ten from batch SKIP + 1 on, through the window on $T/ck,
# into $T/out
resume() {
    ten --skip "$1" >"$T/rest"
    sstream-window -w 3 --reduce-by-key sum --checkpoint "$T/ck" \
        <"$T/rest" >"$T/out"
}

wflip() {
    "$PY" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 4
open(sys.argv[1], "wb").write(b)' "$@"
}

@test "window: a corrupt newest snapshot costs nothing: the input may go on" {
    ck9
    wflip "$T/ck/000000000003.snap" 100
    run --separate-stderr resume 9
    assert_success
    assert_equal "$(show "$T/out")" "$(show "$T/full" | grep ^10000)"
    assert_equal "$stderr" "sstream-window: warning: checkpoint '$T/ck/000000000003.snap': checksum mismatch; using the one before it"
}

@test "window: a corrupt entry in the newest log: exact when its batches come again, else exit 1" {
    ck9
    cp -r "$T/ck" "$T/ck0"
    wflip "$T/ck/000000000003.log" 600
    run --separate-stderr resume 8
    assert_success
    assert_equal "$(show "$T/out")" "$(show "$T/full" | grep -E '^(9|10)000')"
    assert_equal "$stderr" "sstream-window: warning: checkpoint '$T/ck/000000000003.log': corrupt entry at byte 485; state restored to batch time 8000"
    rm -rf "$T/ck"
    mv "$T/ck0" "$T/ck"
    wflip "$T/ck/000000000003.log" 100
    run --separate-stderr resume 9
    assert_failure 1
    assert_equal "$stderr" "sstream-window: warning: checkpoint '$T/ck/000000000003.log': corrupt entry at byte 40; state restored to batch time 7000
sstream-window: checkpoint '$T/ck/000000000003.log' is corrupt: the state goes back to batch time 7000, but the input resumes at batch time 10000, so the batches in between would be missing
sstream-window: restore '$T/ck' from a backup, or send the input again from batch time 8000 (a --wal that still holds it), or cut '$T/ck/000000000003.log' to 40 bytes (truncate -s 40) to go on without those batches"
    assert_equal "$(show "$T/out")" ""
}

@test "window: a torn last log entry is a crash: no loss, no stop" {
    ck9
    truncate -s -3 "$T/ck/000000000003.log"
    run --separate-stderr resume 8
    assert_success
    assert_equal "$(show "$T/out")" "$(show "$T/full" | grep -E '^(9|10)000')"
    assert_equal "$stderr" "sstream-window: warning: checkpoint '$T/ck/000000000003.log': torn entry (a crash while writing) at byte 485; state restored to batch time 8000"
}

# ---- a batch time is never reused for different data ----

@test "window: a replay is checked against the records of the batch first applied" {
    nine >"$T/all"
    nine --parts 1 >"$T/parts"
    sstream-window -w 3 --reduce-by-key sum --checkpoint "$T/ck" <"$T/all" \
        >"$T/out1"
    # the same batches cut into other frames: replays
    run --separate-stderr bash -c "sstream-window -w 3 --reduce-by-key sum \
        --checkpoint '$T/ck' <'$T/parts' >'$T/out2'"
    assert_success
    assert_equal "$stderr" "sstream-window: 9 replayed batches (1000 to 9000) not applied again, output re-emitted"
    assert_equal "$(show "$T/out2")" "$(show "$T/out1")"
    # other records under the same times: refused at the first
    frames --keyed "a:1 b:2" "a:4" >"$T/other"
    run --separate-stderr bash -c "sstream-window -w 3 --reduce-by-key sum \
        --checkpoint '$T/ck' <'$T/other' >'$T/out3'"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 2000 was already used for other records (checkpoint '$T/ck' is at 9000): give a new stream a new --checkpoint DIR, and sstream-source --wal DIR (or --state DIR) so that a rerun does not reuse batch times"
    assert_equal "$(show "$T/out3")" "1000 a 1
1000 b 2"
}
