#!/usr/bin/env bats
# lib/num, lib/acc, lib/keytab through tests/unit/ops-cli.c.

load helpers/common

cli() {
    "$SSTREAM_BIN/tests/ops-cli" "$@"
}

@test "ops: sums stay exact integers until a decimal arrives" {
    run cli fold sum 1 2 3
    assert_output 6
    run cli fold sum 1 2.5 -0.5
    assert_output 3
    run cli fold sum 0.1 0.2
    assert_output 0.30000000000000004
    run cli fold sum 9007199254740993 1
    assert_output 9007199254740994
}

@test "ops: integer overflow is an error, not a wrap" {
    run cli fold sum 9223372036854775807 1
    assert_output "overflow at '1'"
    run cli fold sum -9223372036854775808 -1
    assert_output "overflow at '-1'"
}

@test "ops: integers print whole, to the 64-bit limits" {
    for v in 0 7 -7 10 -100 1234567890 9223372036854775807 \
        -9223372036854775808; do
        run cli fold sum "$v"
        assert_output "$v"
    done
    run cli fold sum +5 -0
    assert_output 5
}

@test "ops: what parses as a number" {
    for v in 1 -1 +1 1.5 .5 5. 1e3 1E-3 -2.5e+2; do
        run cli fold sum "$v"
        refute_output --partial "not a number"
    done
    for v in abc "" " 1" "1 " 0x10 inf nan 1e 1..2 - . e3 1,5; do
        run cli fold sum "$v"
        assert_output "'$v' is not a number"
    done
    run cli fold sum 99999999999999999999
    assert_output 1e+20
}

@test "ops: count, min, max, mean, first, last, concat" {
    run cli fold count a b c
    assert_output 3
    run cli fold min 3 -1 2.5
    assert_output -1
    run cli fold max 3 -1 2.5 10
    assert_output 10
    run cli fold mean 1 2
    assert_output 1.5
    run cli fold mean 2 4
    assert_output 3
    run cli fold first x y z
    assert_output x
    run cli fold last x y z
    assert_output z
    run cli fold concat a "" c
    assert_output "a,,c"
}

@test "ops: merge and unmerge give a sliding sum, count and mean" {
    run cli window sum 2 1 2 3 4
    assert_output "$(printf '1\n3\n5\n7')"
    run cli window count 3 a b c d e
    assert_output "$(printf '1\n2\n3\n3\n3')"
    run cli window mean 2 1 2 3 4
    assert_output "$(printf '1\n1.5\n2.5\n3.5')"
    # Doubles drift under subtraction, as in Spark's inverse reduce: the
    # window engine bounds it by recomputing; here the raw drift shows.
    run cli window sum 1 0.1 0.2 5
    assert_output "$(printf '0.1\n0.20000000000000004\n5')"
}

@test "ops: accumulators survive encode and decode" {
    run cli codec concat a b
    assert_output "a,b"
    run cli codec sum 1.5 2
    assert_output 3.5
    run cli codec sum -9223372036854775808
    assert_output -9223372036854775808
    run cli codec mean 1 2 4
    assert_output 2.3333333333333335
}

@test "keytab: insertion order, delete, compact" {
    run cli keytab <<'EOF2'
+a
+b
+a
-b
+c
l
-a
-zz
c
+b
l
EOF2
    assert_output - <<'EOF2'
del b 1
2 keys: a=2 c=1
del a 1
del zz 0
2 keys: c=1 b=1
EOF2
}

@test "keytab: a reserve for N keys takes N inserts without growing" {
    {
        echo +old
        echo -old
        echo r1000
        seq 1000 | sed 's/^/+k/'
        echo s
        echo +k1
        echo s
        echo +k1001
        echo l
    } >"$BATS_TEST_TMPDIR/script"
    run bash -c "'$SSTREAM_BIN/tests/ops-cli' keytab < '$BATS_TEST_TMPDIR/script' | sed 's/ k2.*k1000=1//'"
    assert_output - <<'EOF2'
del old 1
kept
kept
1001 keys: k1=2 k1001=1
EOF2
    # past the room reserved it grows as before
    run bash -c "{ echo r10; seq 100 | sed 's/^/+k/'; echo s; } | '$SSTREAM_BIN/tests/ops-cli' keytab"
    assert_output grew
}

@test "keytab: 30000 random operations agree with a Python dict" {
    $PY - "$BATS_TEST_TMPDIR" <<'EOF2'
import random, sys
d = sys.argv[1]
rng = random.Random(7)
ref, script = {}, []
for i in range(30000):
    x = rng.randrange(3000)
    # lengths 2 to 28: short keys (two words in the entry) and long ones
    k = "k%d" % x + "x" * (x % 23)
    r = rng.random()
    if r < 0.6:
        script.append("+" + k); ref[k] = ref.get(k, 0) + 1
    elif r < 0.95:
        script.append("-" + k); ref.pop(k, None)
    elif r < 0.99:
        script.append("c")
    else:
        script.append("r%d" % rng.randrange(2000))
script.append("l")
open(d + "/script", "w").write("\n".join(script) + "\n")
open(d + "/want", "w").write("%d keys:%s\n" % (len(ref), "".join(" %s=%d" % kv for kv in ref.items())))
EOF2
    run bash -c "'$SSTREAM_BIN/tests/ops-cli' keytab < '$BATS_TEST_TMPDIR/script' | grep keys:"
    assert_output "$(cat "$BATS_TEST_TMPDIR/want")"
}

@test "kafka-offsets: the newest snapshot the log holds, malformed lines skipped" {
    ledger() {
        "$SSTREAM_BIN/tests/ledger-cli" "$@"
    }
    run -0 ledger 3500 <<'EOF2'
1000 lines 0 2
1000 lines 1 5
3000 lines 0 12
3000 lines 1 9
4000 lines 0 20
EOF2
    assert_output - <<'EOF2'
snapshot 3000
lines 0 12
lines 1 9
EOF2
    # a field too many or too few, a space doubled, out of range, a sign
    # where none belongs, a topic character Kafka refuses: skipped
    run -0 ledger 9223372036854775807 <<'EOF2'
5 t 0 1 2
5 t 0
5 t  0 1
5 t 2147483648 1
5 t 0 9223372036854775808
5 t -1 1
5 t/x 0 1
-9223372036854775808 t 0 1
-9223372036854775807 a.b_C-9 2147483647 9223372036854775807
EOF2
    assert_output - <<'EOF2'
snapshot -9223372036854775807
a.b_C-9 2147483647 9223372036854775807
EOF2
    run -0 ledger 0 </dev/null
    assert_output none
}

@test "nats-pending: one reader with kafka-offsets; a time alone is an empty snapshot" {
    ledger() {
        "$SSTREAM_BIN/tests/ledger-cli" --nats EV "$@"
    }
    run -0 ledger 3500 <<'EOF2'
1000 EV 1-4 9-9
3000 EV 5-7 12-20
4000 EV 30-31
EOF2
    assert_output - <<'EOF2'
snapshot 3000
5-7
12-20
EOF2
    # another stream's line, a range backwards or half there, a doubled
    # blank, a stream name with a dot: skipped; a time alone is the newest
    run -0 ledger 9000 <<'EOF2'
5000 EV 1-2
6000 OTHER 1-2
6000 EV 3-2
6000 EV 4-
6000 EV  5-6
6000 E.V 5-6
7000
EOF2
    assert_output "snapshot 7000"
    run -0 ledger 6500 <<'EOF2'
5000 EV 1-2
6000 OTHER 1-2
6000 EV 3-2 8-9
EOF2
    assert_output - <<'EOF2'
snapshot 5000
1-2
EOF2
}
