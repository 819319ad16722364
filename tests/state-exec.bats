#!/usr/bin/env bats
# sstream-state --update-exec: the state's update through a long-lived
# command (sstream-coprocess(7), mode update), both reference clients,
# checked against the built-in --update where they should agree.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    # 1: a b a   2: b c   3: (empty)   4: a   5: d b (each word worth 1)
    batches "$T/w" "a b a" "b c" - "a" "d b"
    AWK_CLIENT="awk -W interactive -f $REPO/examples/coprocess_update.awk"
    awk -W version 2>/dev/null | grep -q mawk ||
        AWK_CLIENT="awk -f $REPO/examples/coprocess_update.awk"
    # sum.py: --update sum in Python
    pyfn sum <<'PY'
def f(key, state, values, t, timing_out):
    return str(int(state or 0) + sum(int(v) for v in values))
PY
}

# pyfn NAME: $T/NAME.py, the function f on stdin served by serve_update
pyfn() {
    {
        printf 'import sys\nsys.path.insert(0, "%s/examples")\n' "$REPO"
        printf 'from sstream_coprocess import serve_update\n'
        cat
        printf 'serve_update(f)\n'
    } >"$T/$1.py"
}

# st FIRST LAST ARGS...: batches FIRST..LAST of $T/w through sstream-state
# ARGS into sstream-sink --tsv
st() {
    local first=$1 last=$2
    shift 2
    set -o pipefail
    "$PY" "$TESTS_DIR/helpers/kvframes.py" "$T/w" "$first" "$last" |
        sstream-state "$@" | sstream-sink --tsv
}

@test "state-exec: the Python client's sum equals --update sum, every --emit" {
    run --separate-stderr st 1 5 --update-exec "python3 $T/sum.py" \
        --no-checkpoint
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
    for emit in all updated expired; do
        st 1 5 --update sum --emit $emit --timeout 1s --no-checkpoint \
            >"$T/want-$emit"
        run --separate-stderr st 1 5 --update-exec "python3 $T/sum.py" \
            --emit $emit --timeout 1s --no-checkpoint
        assert_success
        assert_output "$(cat "$T/want-$emit")"
    done
}

@test "state-exec: the awk client's sum equals --update sum; its records" {
    for emit in all expired; do
        st 1 5 --update sum --emit $emit --timeout 1s --no-checkpoint \
            >"$T/want-$emit"
        run --separate-stderr st 1 5 --update-exec "$AWK_CLIENT" \
            --emit $emit --timeout 1s --no-checkpoint
        assert_success
        assert_output "$(cat "$T/want-$emit")"
        assert_equal "$stderr" ""
    done
    # --emit records: what it emitted, a record per key with values, keys
    # in byte order; b, seen at 2000, idle more than 1s at 4000, is new at 5000
    run --separate-stderr st 1 5 --update-exec "$AWK_CLIENT" \
        --emit records --timeout 1s --no-checkpoint
    assert_success
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

@test "state-exec: tabs, newlines, backslashes, empty keys and values; none is not empty" {
    # concat in Python, against --update concat: a state "" (one empty
    # value) taken for none would lose the separator before 'y'
    pyfn cat <<'PY'
def f(key, state, values, t, timing_out):
    return ",".join(([] if state is None else [state]) + values)
PY
    mkdir "$T/kv"
    printf 'k1,a\tb;k\\2,x\ny;e,;,;' >"$T/kv/1"
    : >"$T/kv/2"
    printf 'e,y;k\\2,z' >"$T/kv/3"
    kvst() {
        set -o pipefail
        sstream-source --replay "$T/kv" -b 1s --delimiter ';' |
            sstream-map -F , --key-field 1 --value-field 2 |
            sstream-state "$@" --no-checkpoint | sstream-sink --tsv
    }
    kvst --update concat >"$T/want"
    run --separate-stderr kvst --update-exec "python3 $T/cat.py"
    assert_success
    assert_output "$(cat "$T/want")"
    assert_output "$(printf '1000\t\t\n1000\te\t\n1000\tk1\ta\tb\n1000\tk\\2\tx\ny
2000\t\t\n2000\te\t\n2000\tk1\ta\tb\n2000\tk\\2\tx\ny
3000\t\t\n3000\te\t,y\n3000\tk1\ta\tb\n3000\tk\\2\tx\ny,z')"
    assert_equal "$stderr" ""
}

@test "state-exec: a key removed by its function, emitted records, the timing-out flag" {
    # emit what the function was given, timing-out keys included
    pyfn seen <<'PY'
def f(key, state, values, t, timing_out):
    n = int(state or 0) + len(values)
    return str(n), [(key, "%d:%s:%d:%s" % (t, state, len(values), timing_out))]
PY
    run --separate-stderr st 1 5 --update-exec "python3 $T/seen.py" \
        --emit records --timeout 1s --no-checkpoint
    assert_success
    assert_output - <<'EOF'
1000	a	1000:None:2:False
1000	b	1000:None:1:False
2000	a	2000:2:0:False
2000	b	2000:1:1:False
2000	c	2000:None:1:False
3000	a	3000:2:0:True
3000	b	3000:2:0:False
3000	c	3000:1:0:False
4000	a	4000:None:1:False
4000	b	4000:2:0:True
4000	c	4000:1:0:True
5000	a	5000:1:0:False
5000	b	5000:None:1:False
5000	d	5000:None:1:False
EOF
    # the sum reaching 3 removes the key (a at 4000, b at 5000)
    pyfn rm3 <<'PY'
def f(key, state, values, t, timing_out):
    n = int(state or 0) + len(values)
    return None if n >= 3 else str(n)
PY
    run --separate-stderr st 1 5 --update-exec "python3 $T/rm3.py" \
        --emit expired --no-checkpoint
    assert_success
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	b	2
2000	c	1
4000	a	2	expired
5000	b	2	expired
5000	d	1
EOF
}

# crash POINT:N: batches 1-5 with the crash hook, then the restart on the
# batches from the first one whose output did not arrive; together they
# must equal an uninterrupted run, and so must the final state.
crash_case() {
    local c="$T/c-${1/:/-}" k
    rm -rf "$c"
    "$PY" "$TESTS_DIR/helpers/kvframes.py" "$T/w" 1 5 |
        SSTREAM_TEST_CRASH_AT=$1 sstream-state "${args[@]}" --checkpoint "$c" 2>/dev/null |
        sstream-sink --print >"$T/got" 2>/dev/null && return 1
    k=$(($(grep -c '^Time:' "$T/got") + 1))
    [ "$k" -le 5 ] || return 1
    "$PY" "$TESTS_DIR/helpers/kvframes.py" "$T/w" "$k" 5 |
        sstream-state "${args[@]}" --checkpoint "$c" 2>/dev/null |
        sstream-sink --print >>"$T/got"
    diff "$T/want" "$T/got" || return 1
    sstream-state --dump "$c" 2>/dev/null | diff "$T/want-dump" - || return 1
}

@test "state-exec: kill -9 at any point, restart: the same output and state" {
    for emit in records expired; do
        args=(--update-exec "python3 $T/sum.py" --emit $emit --timeout 1s)
        "$PY" "$TESTS_DIR/helpers/kvframes.py" "$T/w" |
            sstream-state "${args[@]}" --no-checkpoint |
            sstream-sink --print >"$T/want"
        rm -rf "$T/ref"
        st 1 5 "${args[@]}" --checkpoint "$T/ref" >/dev/null
        sstream-state --dump "$T/ref" >"$T/want-dump" 2>/dev/null
        for p in batch:2 save:3 emit:1 emit:4 ckpt-write:3; do
            run crash_case "$p"
            assert_success
        done
    done
    # the state is the command's text, as --dump prints it
    assert_equal "$(cat "$T/want-dump")" "$(printf 'a\t1\nb\t1\nd\t1')"
}

@test "state-exec: a bad answer line is rejected, the key keeps its state" {
    # 'b' answers a state with a bad escape, then a line that is no answer
    cat >"$T/bad.py" <<PY
import sys
sys.path.insert(0, "$REPO/examples")
import sstream_coprocess as sc
sc._escape = lambda s: str(s).encode()
def f(key, state, values, t, timing_out):
    n = int(state or 0) + len(values)
    if key == "b" and t == 2000:
        sys.stdout.buffer.write(b"hello\n")
        return "x\\\\q"
    return str(n)
sc.serve_update(f)
PY
    run --separate-stderr st 1 2 --update-exec "python3 $T/bad.py" \
        --rejects "$T/rej" --no-checkpoint
    assert_success
    assert_output - <<'EOF'
1000	a	2
1000	b	1
2000	a	2
2000	b	1
2000	c	1
EOF
    assert_equal "$stderr" "sstream-state: batch 2000, record 2: --update-exec: 'hello' is not a state, remove or emit line
sstream-state: batch 2000, record 3: --update-exec: 'state	x\\q' has a backslash that is not \\\\, \\t or \\n
sstream-state: 2 rejected records kept in '$T/rej'"
    assert_equal "$(cat "$T/rej")" "$(printf 'hello\nstate\tx\\q')"
}

@test "state-exec: an answer with a state too few or too many ends the run, exit 1" {
    for extra in 'pass' 'print(("state" + chr(9) + "1" + chr(10)) * 3, end="")'; do
        cat >"$T/count.py" <<PY
import sys
sys.stdin.buffer.readline()
for line in sys.stdin.buffer:
    if line == b"\\\\.\\n":
        $extra
        print("\\\\.", flush=True)
PY
        run --separate-stderr st 1 2 --update-exec "python3 $T/count.py" \
            --no-checkpoint
        assert_failure 1
        assert_output ""
        [ "$extra" = pass ] && want=fewer || want=more
        assert_equal "${stderr%%$'\n'*}" "sstream-state: batch 1000: --update-exec 'python3 $T/count.py': answered $want states for 2 keys"
    done
}

@test "state-exec: a command that dies is restarted and asked again: the same output" {
    # it dies in the middle of its answer at 2000, once (a file says so)
    pyfn die <<PY
import os
def f(key, state, values, t, timing_out):
    if t == 2000 and key == "b" and not os.path.exists("$T/died"):
        open("$T/died", "w").close()
        sys.stdout.flush()
        os._exit(3)
    return str(int(state or 0) + sum(int(v) for v in values))
PY
    run --separate-stderr st 1 5 --update-exec "python3 $T/die.py" \
        --no-checkpoint
    assert_success
    assert_output "$(st 1 5 --update sum --no-checkpoint)"
    assert_equal "$stderr" "sstream-state: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 250ms"
}

@test "state-exec: a command that dies at every try is restarted 3 times, then exit 1" {
    pyfn die <<'PY'
def f(key, state, values, t, timing_out):
    if t == 2000:
        sys.exit(3)
    return "1"
PY
    run --separate-stderr st 1 3 --update-exec "python3 $T/die.py" \
        --no-checkpoint
    assert_failure 1
    assert_output "$(printf '1000\ta\t1\n1000\tb\t1')"
    assert_equal "$stderr" "sstream-state: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 250ms
sstream-state: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 500ms
sstream-state: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 1s
sstream-state: batch 2000: --update-exec 'python3 $T/die.py': exited with status 3, restarted 3 times
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "state-exec: usage errors exit 2" {
    check() {
        run --separate-stderr sstream-state "$@"
        assert_failure 2
        assert_output ""
        assert_equal "${stderr%%$'\n'*}" "$msg"
    }
    msg="sstream-state: --update and --update-exec exclude each other"
    check --update sum --update-exec cat --no-checkpoint
    msg="sstream-state: --update-exec: the command is empty"
    check --update-exec '' --no-checkpoint
    msg="sstream-state: --update OP or --update-exec CMD is required"
    check --no-checkpoint
    msg="sstream-state: --emit: 'some' is not all, updated, expired or records"
    check --update-exec cat --emit some --no-checkpoint
    # a checkpoint of --update sum is not one of --update-exec
    st 1 1 --update sum --checkpoint "$T/c" >/dev/null
    run --separate-stderr sstream-state --update-exec cat --checkpoint "$T/c" </dev/null
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-state: checkpoint '$T/c' was made with --update sum, not --update exec (use another --checkpoint DIR, or --dump it and --import)"
}

@test "state-exec: --initial states reach the command as states" {
    pyfn cat <<'PY'
def f(key, state, values, t, timing_out):
    return ",".join(([] if state is None else [state]) + values)
PY
    printf 'a\tinit\tx\nz\t\n' >"$T/init"
    run --separate-stderr st 1 1 --update-exec "python3 $T/cat.py" \
        --initial "$T/init" --no-checkpoint
    assert_success
    assert_output "$(printf '1000\ta\tinit\tx,1,1\n1000\tb\t1\n1000\tz\t')"
    assert_equal "$stderr" ""
}

@test "state-exec: the awk client keeps keys with tabs, newlines, backslashes" {
    mkdir "$T/kv"
    printf 'a\tb,2;x\ny,3;a\tb,4;\\,1' >"$T/kv/1"
    : >"$T/kv/2"
    printf 'x\ny,5' >"$T/kv/3"
    kvst() {
        set -o pipefail
        sstream-source --replay "$T/kv" -b 1s --delimiter ';' |
            sstream-map -F , --key-field 1 --value-field 2 |
            sstream-state "$@" --no-checkpoint | sstream-sink --tsv
    }
    run --separate-stderr kvst --update-exec "$AWK_CLIENT"
    assert_success
    assert_output "$(printf '1000\t\\\t1\n1000\ta\tb\t6\n1000\tx\ny\t3
2000\t\\\t1\n2000\ta\tb\t6\n2000\tx\ny\t3
3000\t\\\t1\n3000\ta\tb\t6\n3000\tx\ny\t8')"
    assert_equal "$stderr" ""
    assert_output "$(kvst --update sum)"
    run --separate-stderr kvst --update-exec "$AWK_CLIENT" --emit records
    assert_output "$(printf '1000\t\\\t1\n1000\ta\tb\t6\n1000\tx\ny\t3\n3000\tx\ny\t8')"
}

@test "state-exec: a batch of one empty key with an empty value" {
    pyfn cat <<'PY'
def f(key, state, values, t, timing_out):
    return ",".join(([] if state is None else [state]) + values)
PY
    mkdir "$T/e"
    printf '\t\n' >"$T/e/1"
    printf '\t\n' >"$T/e/2"
    run --separate-stderr bash -c "set -o pipefail; '$PY' '$TESTS_DIR/helpers/kvframes.py' '$T/e' |
        sstream-state --update-exec 'python3 $T/cat.py' --no-checkpoint | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\t\t\n2000\t\t,')"
    # the built-in concat alike (it failed an assertion on this batch)
    run --separate-stderr bash -c "set -o pipefail; '$PY' '$TESTS_DIR/helpers/kvframes.py' '$T/e' |
        sstream-state --update concat --no-checkpoint | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\t\t\n2000\t\t,')"
}
