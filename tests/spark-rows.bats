#!/usr/bin/env bats
# The last differences from Spark's rows (issue 21): outer joins' missing
# sides, Spark's folder layout for saveAsTextFiles, floats in --print,
# a live source that catches up after downtime.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

# An independent model of the joins: $T/left/NNNN are batches of "k v"
# lines (k,v), $T/tab the table; writes $T/want.FORMAT for each join type.
join_model() {
    "$PY" - "$T" <<'PY'
import json, os, sys
t = sys.argv[1]
tab = []
for line in open(t + "/tab").read().splitlines():
    k, v = line.split("\t", 1)
    tab.append((k, v))
def keys(pairs):
    seen = []
    for k, _ in pairs:
        if k not in seen:
            seen.append(k)
    return seen
def join(left, typ):
    # (key, left or None, right or None): the pairs of keys on both sides,
    # then the left side's others, then the right side's (lib/join.h)
    out = []
    for k in keys(left):
        ls = [v for kk, v in left if kk == k]
        rs = [v for kk, v in tab if kk == k]
        out += [(k, l, r) for l in ls for r in rs]
    for k in keys(left):
        if typ in ("left", "full") and k not in [kk for kk, _ in tab]:
            out += [(k, l, None) for kk, l in left if kk == k]
    if typ in ("right", "full"):
        for k in keys(tab):
            if k not in [kk for kk, _ in left]:
                out += [(k, None, r) for kk, r in tab if kk == k]
    return out
def tsv(side, opt):
    if not opt:
        return side
    if side is None:
        return "\\N"
    return "\\" + side if side.startswith("\\") else side
def spark(side, opt):
    if not opt:
        return side
    return "None" if side is None else "Some(%s)" % side
for typ in ("inner", "left", "right", "full"):
    lo, ro = typ in ("right", "full"), typ in ("left", "full")
    w = {f: open("%s/want.%s.%s" % (t, typ, f), "w") for f in ("tsv", "print", "json")}
    for i, name in enumerate(sorted(os.listdir(t + "/left"))):
        time = (i + 1) * 1000
        left = [tuple(l.split(",", 1)) for l in open(t + "/left/" + name).read().splitlines()]
        rows = join(left, typ)
        w["print"].write("-" * 43 + "\nTime: %d ms\n" % time + "-" * 43 + "\n")
        for n, (k, l, r) in enumerate(rows):
            w["tsv"].write("%d\t%s\t%s\t%s\n" % (time, k, tsv(l, lo), tsv(r, ro)))
            if n < 10:
                w["print"].write("(%s,(%s,%s))\n" % (k, spark(l, lo), spark(r, ro)))
            elif n == 10:
                w["print"].write("...\n")
            v = [l, r] if lo or ro else l + "\t" + r
            w["json"].write(json.dumps({"time": time, "key": k, "value": v},
                                       separators=(",", ":")) + "\n")
        w["print"].write("\n")
PY
}

join_fixture() {
    mkdir -p "$T/left"
    # empty values, values that start with a backslash, a value that is
    # the marker itself, keys on one side only, several values per key,
    # an empty batch, and a batch with more than ten rows (print's "...")
    printf 'a,1\nb,\na,3\nd,\\x\ne,\\N\n' >"$T/left/0001"
    : >"$T/left/0002"
    printf 'z,9\nq,8\n' >"$T/left/0003"
    for i in $(seq 1 12); do echo "k$((i % 3)),$i"; done >"$T/left/0004"
    printf 'a\tA\nc\t\nd\t\\N\na\t\nk1\tone\nz\t\\\\\nk2\tx\ty\n' >"$T/tab"
}

@test "spark-rows: outer joins: --tsv, --print, --json against a model" {
    join_fixture
    join_model
    for t in inner left right full; do
        for f in tsv print json; do
            sstream-source --replay "$T/left" |
                sstream-map -F , --key-field 1 --value-field 2 --join "$T/tab" --join-type $t |
                sstream-sink --$f >"$T/got.$t.$f"
            diff -u "$T/want.$t.$f" "$T/got.$t.$f"
        done
    done
}

@test "spark-rows: outer joins: --lines and --save-as-text-files mark a missing side" {
    join_fixture
    join_model
    sstream-source --replay "$T/left" |
        sstream-map -F , --key-field 1 --value-field 2 --join "$T/tab" --join-type full |
        sstream-sink --lines --save-as-text-files "$T/out" >"$T/got.lines"
    cut -f2- "$T/want.full.tsv" | diff -u - "$T/got.lines"
    for t in 1000 2000 3000 4000; do
        grep "^$t	" "$T/want.full.tsv" | cut -f2- | diff -u - "$T/out-$t"
    done
}

@test "spark-rows: the frame carries the sides; a step after the join drops them" {
    mkdir -p "$T/d"
    printf 'a 1\nb 2\n' >"$T/d/1"
    printf 'a\tA\nc\tC\n' >"$T/tab"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 --join '$T/tab' --join-type full | sstream-sink --dump | grep '^@' | cut -d' ' -f2,5,7"
    assert_success
    assert_output "$(printf '%s\n' \
        "batch count=1 flags=keyed,more,pairs,opt-left,opt-right" \
        "batch count=1 flags=keyed,more,pairs,opt-left,opt-right,no-right" \
        "batch count=1 flags=keyed,pairs,opt-left,opt-right,no-left" \
        "end count=0 flags=-")"
    # keys matched and not in turn: still three parts, one per run
    mkdir -p "$T/d2"
    printf 'a 1\nb 2\nc 3\nd 4\ne 5\n' >"$T/d2/1"
    printf 'a\tA\nc\tC\ne\tE\nz\tZ\n' >"$T/tab2"
    run bash -c "sstream-source --replay '$T/d2' | sstream-map --key-field 1 --value-field 2 --join '$T/tab2' --join-type full | sstream-sink --dump | grep '^@' | cut -d' ' -f2,5,7"
    assert_output "$(printf '%s\n' \
        "batch count=3 flags=keyed,more,pairs,opt-left,opt-right" \
        "batch count=2 flags=keyed,more,pairs,opt-left,opt-right,no-right" \
        "batch count=1 flags=keyed,pairs,opt-left,opt-right,no-left" \
        "end count=0 flags=-")"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 --join '$T/tab' --join-type left --map-values upper | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\t1\tA\n1000\tb\t2\t')"
}

# ---- --spark-layout ----

# Every path under $1 (hidden ones too), relative, one a line, with the
# bytes of each file after a colon.
tree() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
        if [ -f "$p" ]; then printf '%s:%s\n' "$p" "$(tr '\n' ' ' <"$p")"; else printf '%s\n' "$p"; fi
    done)
}

@test "spark-rows: --spark-layout writes PREFIX-TIME.S/part-00000 and _SUCCESS" {
    batches "$T/in" "a b" "-" "c"
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/out/p' --suffix txt --spark-layout"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(tree "$T/out")" "$(printf '%s\n' \
        ./p-1000.txt ./p-1000.txt/_SUCCESS: "./p-1000.txt/part-00000:a b " \
        ./p-2000.txt ./p-2000.txt/_SUCCESS: ./p-2000.txt/part-00000: \
        ./p-3000.txt ./p-3000.txt/_SUCCESS: "./p-3000.txt/part-00000:c ")"
    # without a suffix, and no folder for an empty batch with --skip-empty
    run --separate-stderr bash -c "sstream-source --replay '$T/in' | sstream-sink --save-as-text-files '$T/o2/p' --spark-layout --skip-empty"
    assert_success
    assert_equal "$(tree "$T/o2")" "$(printf '%s\n' \
        ./p-1000 ./p-1000/_SUCCESS: "./p-1000/part-00000:a b " \
        ./p-3000 ./p-3000/_SUCCESS: "./p-3000/part-00000:c ")"
}

@test "spark-rows: --spark-layout: a batch written again replaces its folder whole" {
    batches "$T/in" "a" "b"
    sstream-source --replay "$T/in" | sstream-sink --save-as-text-files "$T/out/p" --spark-layout
    # the same batch times with other records, and a file where a folder goes
    rm -r "$T/out/p-2000" && echo old >"$T/out/p-2000"
    batches "$T/in2" "x y" "z"
    run --separate-stderr bash -c "sstream-source --replay '$T/in2' | sstream-sink --save-as-text-files '$T/out/p' --spark-layout"
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(tree "$T/out")" "$(printf '%s\n' \
        ./p-1000 ./p-1000/_SUCCESS: "./p-1000/part-00000:x y " \
        ./p-2000 ./p-2000/_SUCCESS: "./p-2000/part-00000:z ")"
}

@test "spark-rows: --spark-layout with --commit: killed before a folder is placed, the restart is exact" {
    batches "$T/in" "a" "b c" "-" "d"
    run bash -c "sstream-source --replay '$T/in' --wal '$T/w' | SSTREAM_TEST_CRASH_AT=spark-folder:2 sstream-sink --save-as-text-files '$T/out/p' --spark-layout --commit '$T/w'"
    assert_failure
    # the second batch's folder is whole, under its temporary name only
    run ls -A "$T/out"
    assert_output --regexp '^\.p-2000\.[A-Za-z0-9]{8}\.tmp
p-1000$'
    assert_equal "$(cat "$T/w/commit")" 1000
    run --separate-stderr bash -c "sstream-source --replay '$T/in' --wal '$T/w' | sstream-sink --save-as-text-files '$T/out/p' --spark-layout --commit '$T/w'"
    assert_success
    assert_equal "$(tree "$T/out")" "$(printf '%s\n' \
        ./p-1000 ./p-1000/_SUCCESS: "./p-1000/part-00000:a " \
        ./p-2000 ./p-2000/_SUCCESS: "./p-2000/part-00000:b c " \
        ./p-3000 ./p-3000/_SUCCESS: ./p-3000/part-00000: \
        ./p-4000 ./p-4000/_SUCCESS: "./p-4000/part-00000:d ")"
    assert_equal "$(cat "$T/w/commit")" 4000
}

@test "spark-rows: --spark-layout needs --save-as-text-files" {
    run --separate-stderr sstream-sink --spark-layout </dev/null
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-sink: --spark-layout: needs --save-as-text-files"
}

# ---- floats in --print ----

@test "spark-rows: --print shows floats as Java's Double.toString, integers as they are" {
    mkdir -p "$T/d"
    # an independent model: Python's shortest repr, laid out as Java does
    "$PY" - "$T" <<'PY'
import math, random, sys
from decimal import Decimal
t = sys.argv[1]
def java(d):
    if d == 0:
        return "-0.0" if math.copysign(1, d) < 0 else "0.0"
    sign = "-" if d < 0 else ""
    digits, exp = Decimal(repr(abs(d))).normalize().as_tuple()[1:]
    ds = "".join(map(str, digits))
    e = len(ds) + exp - 1  # the exponent of the first digit
    if -3 <= e < 7:
        if e < 0:
            return sign + "0." + "0" * (-e - 1) + ds
        whole = ds[: e + 1].ljust(e + 1, "0")
        return sign + whole + "." + (ds[e + 1 :] or "0")
    return sign + ds[0] + "." + (ds[1:] or "0") + "E" + str(e)
r = random.Random(21)
texts = ["3.0", "2.50", "1e10", "-0.0", "0.0", "0.001", "0.0001", "1234567.5",
         "12345678.5", "1E7", "9999999.0", "1.7976931348623157e308", "4.9e-324",
         "0.1", "-2.5e-7", "+1.5", ".5", "5.", "1e-3"]
for _ in range(200):
    x = r.uniform(-1, 1) * 10 ** r.randint(-12, 12)
    texts.append(repr(x) if r.random() < 0.5 else "%.*g" % (r.randint(1, 17), x))
want = []
for s in texts:  # integer text ("%g" gives some) stays as it is
    want.append(java(float(s)) if any(c in s for c in ".eE") else s)
# not floats: printed as they are
plain = ["3", "-17", "99999999999999999999", "NaN", "Infinity", "1.10.1", "e5",
         "1.5x", "", " 1.5"]
texts += plain
want += plain
open(t + "/d/1", "w").write("".join(s + "\n" for s in texts))
open(t + "/want", "w").write("".join(s + "\n" for s in want))
PY
    n=$(wc -l <"$T/d/1")
    sstream-source --replay "$T/d" | sstream-sink --print=$n | sed '1,3d;$d' >"$T/got"
    diff -u "$T/want" "$T/got"
}

@test "spark-rows: --print: floats as values of pairs and of join sides, keys as they are" {
    mkdir -p "$T/d"
    printf 'a 1.50\nb 2\n1.0 3e0\n' >"$T/d/1"
    printf 'a\t2.0\n' >"$T/tab"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 --join '$T/tab' --join-type left | sstream-sink --print"
    assert_success
    assert_output "$(printf '%s\n' ------------------------------------------- 'Time: 1000 ms' \
        ------------------------------------------- \
        '(a,(1.5,Some(2.0)))' '(b,(2,None))' '(1.0,(3.0,None))')"
    # other formats keep the bytes
    run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 | sstream-sink --tsv"
    assert_output "$(printf '1000\ta\t1.50\n1000\tb\t2\n1000\t1.0\t3e0')"
}

# ---- --catch-up ----

# times FROM TO: the batch times FROM, FROM + 1h, ... TO as --print heads them.
hours() {
    local t
    for ((t = $1; t <= $2; t += 3600000)); do echo "Time: $t ms"; done
}

@test "spark-rows: --catch-up: the empty batches of the downtime since --state's last, then the live one" {
    mkdir "$T/st"
    iv=3600000
    before=$(date +%s%3N)
    last=$((before / iv * iv - 3 * iv)) # the run before ended 3 hours ago
    echo "$last" >"$T/st/last-batch-time"
    run --separate-stderr bash -c "set -o pipefail; echo x | sstream-source -b 1h --state '$T/st' --catch-up | sstream-sink --print | grep -v '^---'"
    after=$(date +%s%3N)
    assert_success
    # the live batch is the boundary after the clock as the run read it
    live=$(grep '^Time' <<<"$output" | tail -1 | cut -d' ' -f2)
    ((live == (before + iv - 1) / iv * iv || live == (after + iv - 1) / iv * iv))
    assert_equal "$(grep '^Time' <<<"$output")" "$(hours $((last + iv)) "$live")"
    # the record is in the live batch, the others are empty
    assert_equal "$(grep -v '^Time' <<<"$output" | grep -v '^$')" "x"
    assert_equal "$stderr" "sstream-source: --catch-up: $(((live - last) / iv - 1)) empty batches for the downtime ($((last + iv)) to $((live - iv)))"
    assert_equal "$(cat "$T/st/last-batch-time")" "$live"
    # a run right after: no downtime, nothing to catch up
    run --separate-stderr bash -c "set -o pipefail; echo y | sstream-source -b 1h --state '$T/st' --catch-up | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '%s\ty' $((live + iv)))"
    assert_equal "$stderr" ""
}

@test "spark-rows: without --catch-up the stream jumps over the downtime (the default)" {
    mkdir "$T/st"
    iv=3600000
    before=$(date +%s%3N)
    echo $((before / iv * iv - 3 * iv)) >"$T/st/last-batch-time"
    run --separate-stderr bash -c "set -o pipefail; echo x | sstream-source -b 1h --state '$T/st' | sstream-sink --print | grep -c '^Time'"
    assert_success
    assert_output 1
    assert_equal "$stderr" ""
}

@test "spark-rows: --catch-up after a --wal run: contiguous times from the log's last batch" {
    run --separate-stderr bash -c "set -o pipefail; echo a | sstream-source -b 100ms --wal '$T/w' | sstream-sink --tsv --commit '$T/w'"
    assert_success
    last=$(cut -f1 <<<"$output")
    # downtime: the next run starts at least 3 intervals after the last batch
    while (($(date +%s%3N) < last + 300)); do sleep 0.1; done
    run --separate-stderr bash -c "set -o pipefail; echo b | sstream-source -b 100ms --wal '$T/w' --catch-up | sstream-sink --print --commit '$T/w' | grep '^Time'"
    assert_success
    first=$(head -1 <<<"$output" | cut -d' ' -f2)
    live=$(tail -1 <<<"$output" | cut -d' ' -f2)
    assert_equal "$first" $((last + 100))
    ((live - last >= 300))
    assert_equal "$output" "$(for ((t = last + 100; t <= live; t += 100)); do echo "Time: $t ms"; done)"
    # the downtime ends before the first live batch (a slow machine may
    # have sent more live batches after it, as the clock went on)
    [[ "$stderr" =~ ^"sstream-source: --catch-up: "([0-9]+)" empty batches for the downtime ($((last + 100)) to "([0-9]+)")"$ ]]
    n=${BASH_REMATCH[1]} to=${BASH_REMATCH[2]}
    ((to == last + 100 * n && to < live))
    assert_equal "$(cat "$T/w/commit")" "$live"
}

@test "spark-rows: --catch-up refuses a downtime past its bound, and needs a record" {
    mkdir "$T/st"
    iv=3600000
    before=$(date +%s%3N)
    last=$((before / iv * iv - 30 * iv))
    echo "$last" >"$T/st/last-batch-time"
    run --separate-stderr bash -c "echo x | sstream-source -b 1h --state '$T/st' --catch-up=1d | sstream-sink --tsv"
    after=$(date +%s%3N)
    assert_failure 1
    assert_output ""
    msg() { echo "sstream-source: --catch-up: $((($1 - last) / iv - 1)) batches missed since batch $last, more than the 24 it fills (give a longer --catch-up=DUR, or start without --catch-up to go on from batch $1)"; }
    first=$(head -1 <<<"$stderr")
    [[ "$first" == "$(msg $(((before + iv - 1) / iv * iv)))" || "$first" == "$(msg $(((after + iv - 1) / iv * iv)))" ]]
    # nothing was sent, and the record is unchanged
    assert_equal "$(cat "$T/st/last-batch-time")" "$last"
    run --separate-stderr sstream-source --catch-up </dev/null
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --catch-up: needs --wal or --state (the record of the last batch sent)"
    run --separate-stderr sstream-source --catch-up --wal "$T/w" --replay "$T"
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --catch-up: not with --replay (replay time has no downtime)"
    run --separate-stderr sstream-source --catch-up=1x --state "$T/st" </dev/null
    assert_failure 2
}
