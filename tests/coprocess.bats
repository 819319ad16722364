#!/usr/bin/env bats
# sstream-map --exec-coprocess: one command for the whole run, spoken to
# in the protocol of sstream-coprocess(7), through both reference clients.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    AWK_CLIENT="awk -W interactive -f $REPO/examples/coprocess.awk"
    # mawk needs -W interactive (the man page says why); gawk has no such
    # option and needs none.
    awk -W version 2>/dev/null | grep -q mawk ||
        AWK_CLIENT="awk -f $REPO/examples/coprocess.awk"
    # Keyed records holding a tab, a newline, a backslash; an empty key
    # and value; an empty batch between two others.
    mkdir -p "$T/kv"
    printf 'k1,a\tb;k\\2,x\ny;;' >"$T/kv/1"
    : >"$T/kv/2"
    printf 'z' >"$T/kv/3"
    # The Python client: batch time and uppercase, its pid per batch.
    cat >"$T/up.py" <<PY
import os, sys
sys.path.insert(0, "$REPO/examples")
from sstream_coprocess import serve_map

def up(t, records):
    with open("$T/pids", "a") as f:
        f.write("%d\n" % os.getpid())
    return [(k, "%d:%s" % (t, v.upper())) for k, v in records]

serve_map(up)
PY
}

# kv MAP-ARGS...: the keyed replay through map, as tsv.
kv() {
    set -o pipefail
    sstream-source --replay "$T/kv" -b 1s --delimiter ';' |
        sstream-map -F , --key-field 1 "$@" | sstream-sink --tsv
}

@test "coprocess: the awk client maps keyless batches, empty ones and tabs included" {
    mkdir -p "$T/d"
    printf 'hello world\ntab\there\n' >"$T/d/1"
    : >"$T/d/2"
    printf 'a\\b x\n' >"$T/d/3"
    run --separate-stderr pipeline "$T/d" sstream-map --exec-coprocess "$AWK_CLIENT"
    assert_success
    assert_output "$(printf '1000\tHELLO WORLD\n1000\tTAB\tHERE\n3000\tA\\B X')"
    assert_equal "$stderr" ""
}

@test "coprocess: the awk client keeps keys; tabs, newlines, backslashes survive" {
    run --separate-stderr kv --exec-coprocess "$AWK_CLIENT"
    assert_success
    assert_output "$(printf '1000\tk1\tK1,A\tB\n1000\tk\\2\tK\\2,X\nY\n1000\t\t\n3000\tz\tZ')"
    assert_equal "$stderr" ""
}

@test "coprocess: the Python client, started once for every batch" {
    run --separate-stderr kv --exec-coprocess "python3 $T/up.py"
    assert_success
    assert_output "$(printf '1000\tk1\t1000:K1,A\tB\n1000\tk\\2\t1000:K\\2,X\nY\n1000\t\t1000:\n3000\tz\t3000:Z')"
    assert_equal "$stderr" ""
    # one call per batch, the empty one included, all from one process
    assert_equal "$(wc -l <"$T/pids")" 3
    assert_equal "$(sort -u "$T/pids" | wc -l)" 1
}

@test "coprocess: the Python client imports without side effects" {
    run python3 -c "import sys; sys.path.insert(0, '$REPO/examples'); import sstream_coprocess; print('ok')" </dev/null
    assert_success
    assert_output ok
}

@test "coprocess: a command that dies at every try is restarted 3 times, then exit 1" {
    batches "$T/d" a b c
    cat >"$T/die.py" <<PY
import sys
sys.path.insert(0, "$REPO/examples")
from sstream_coprocess import serve_map

def f(t, records):
    if t == 2000:
        sys.exit(3)
    return records

serve_map(f)
PY
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 1s |
        sstream-map --exec-coprocess 'python3 $T/die.py' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 250ms
sstream-map: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 500ms
sstream-map: coprocess 'python3 $T/die.py': exited with status 3; restarting it in 1s
sstream-map: batch 2000: --exec-coprocess 'python3 $T/die.py': exited with status 3, restarted 3 times"
}

@test "coprocess: a command that is not there fails at the first batch" {
    batches "$T/d" a
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 1s |
        sstream-map --exec-coprocess 'exit 7' >/dev/null"
    assert_failure 1
    assert_equal "${stderr##*$'\n'}" "sstream-map: batch 1000: --exec-coprocess 'exit 7': exited with status 7, restarted 3 times"
}

@test "coprocess: an answer past its end line is a protocol error, exit 1" {
    batches "$T/d" a b
    cat >"$T/chatty.py" <<'PY'
import sys
sys.stdin.buffer.readline()
for line in sys.stdin.buffer:
    if line == b"\\.\n":
        sys.stdout.buffer.write(b"A\n\\.\nmore\n")
        sys.stdout.buffer.flush()
PY
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 1s |
        sstream-map --exec-coprocess 'python3 $T/chatty.py' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: batch 1000: --exec-coprocess 'python3 $T/chatty.py': wrote past its end line '\\.'"
}

@test "coprocess: an answer line that is not a record is rejected, the run goes on" {
    batches "$T/d" a
    cat >"$T/bad.py" <<'PY'
import sys
sys.stdin.buffer.readline()
for line in sys.stdin.buffer:
    if line == b"\\.\n":
        sys.stdout.buffer.write(b"ok\nb\\ad\n\\.\n")
        sys.stdout.buffer.flush()
PY
    run --separate-stderr pipeline "$T/d" sstream-map --exec-coprocess "python3 $T/bad.py"
    assert_failure 1
    assert_output "$(printf '1000\tok')"
    assert_equal "$(printf '%s\n' "$stderr" | head -1)" \
        "sstream-map: batch 1000, record 2: --exec-coprocess: 'b\\ad' has a backslash that is not \\\\, \\t or \\n"
}

@test "coprocess: usage errors exit 2" {
    run --separate-stderr sstream-map --exec-coprocess ''
    assert_failure 2
    run --separate-stderr sstream-map --exec-coprocess
    assert_failure 2
}
