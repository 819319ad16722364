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
    out = []  # (key, left or None, right or None)
    for k in keys(left):
        ls = [v for kk, v in left if kk == k]
        rs = [v for kk, v in tab if kk == k]
        if rs:
            out += [(k, l, r) for l in ls for r in rs]
        elif typ in ("left", "full"):
            out += [(k, l, None) for l in ls]
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
    run bash -c "sstream-source --replay '$T/d' | sstream-map --key-field 1 --value-field 2 --join '$T/tab' --join-type left --map-values upper | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\t1\tA\n1000\tb\t2\t')"
}
