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
