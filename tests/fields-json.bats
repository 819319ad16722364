#!/usr/bin/env bats
# JSON fields read in place (lib/json_scan.c) must mean what Jansson and
# jq mean: escapes, surrogate pairs and \u0000 decoded, non-ASCII keys,
# nested and dotted names, a key given twice (the last value wins, at the
# place of the first), numbers as Jansson's reading printed them (reals
# as the shortest %g text that reads back the same); and what the scan
# leaves to Jansson (objects and arrays as values, out-of-range numbers,
# malformed text) still gets Jansson's answer and message.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/d"
}

# fields KEY VALUE: the --key and --value of each JSON line of $T/d as
# key<TAB>value lines, NUL bytes shown as '@'
fields() {
    set -o pipefail
    sstream-source --replay "$T/d" --format json |
        sstream-map --key "$1" --value "$2" | sstream-sink --lines | tr '\0' @
}

@test "fields-json: escapes, surrogate pairs, NUL and non-ASCII text decode" {
    cat >"$T/d/0001" <<'JSON'
{"k":"a\u0000b","s":"\ud83d\ude00 \u00e9\u4E2D","e":"tab\there \"q\" \/ \\"}
{"k":"Zoë","s":"李","e":"plain"}
JSON
    run fields k s
    assert_success
    assert_output "$(printf 'a@b\t😀 é中\nZoë\t李')"
    run fields e k
    assert_success
    assert_output "$(printf 'tab\there "q" / \\\ta@b\nplain\tZoë')"
}

@test "fields-json: a key given twice keeps its last value, at its first place" {
    printf '%s\n' '{"a":1,"b":2,"a":3}' '{"b":4,"a":5,"a":6}' >"$T/d/0001"
    run fields a 1
    assert_success
    assert_output "$(printf '3\t3\n6\t4')"
    run fields 2 b
    assert_output "$(printf '2\t2\n6\t4')"
    # the same key written with an escape, and numbers over escaped keys
    printf '%s\n' '{"é":"x","\u00e9":"y","z":0}' '{"\u0061":1,"b":2,"a":3}' \
        >"$T/d/0001"
    run fields 1 2
    assert_success
    assert_output "$(printf 'y\t0\n3\t2')"
}

@test "fields-json: dotted names: a member named so first, then nested ones" {
    printf '%s\n' '{"a.b":"flat","a":{"b":"nested"},"x":[1, {"y" : "z"}]}' \
        '{"a":{"b":{"c":5}},"x":{ }}' '{"a":{"b":1},"a.b.c":"top","x":"\\"}' \
        >"$T/d/0001"
    run fields a.b x
    assert_success
    assert_output - <<'EOF2'
flat	[1,{"y":"z"}]
{"c":5}	{}
1	\
EOF2
    # the first row has no a.b.c: a reject, and the others go on
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json | sstream-map --key a.b.c --value a.b --rejects '$T/rej' | sstream-sink --lines"
    assert_success
    assert_output "$(printf '5\t{"c":5}\ntop\t1')"
    assert_equal "$stderr" "sstream-map: batch 1000, record 1: --key: no field 'a.b.c'
sstream-map: 1 rejected record kept in '$T/rej'"
}

@test "fields-json: numbers print as before the scan; Jansson's limits stay" {
    printf '%s\n' '{"n":-0,"r":1E5,"s":0.10,"t":-1.5e-3,"u":true,"v":null}' \
        '{"n":9223372036854775807,"r":1e-400,"s":-12,"t":false,"u":"","v":{}}' \
        '{"n":9223372036854775808}' '{"n":1e400}' '{"n":"\ud800"}' \
        "$(printf '{"n":"\355\240\200"}')" '{"n\u0000":1}' >"$T/d/0001"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json --rejects '$T/rej' | sstream-map --key n --value r | sstream-sink --lines"
    assert_success
    assert_output "$(printf '0\t1e+05\n9223372036854775807\t0')"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json --rejects /dev/null | sstream-map --key s --value t | sstream-sink --lines"
    assert_output "$(printf '0.1\t-0.0015\n-12\tfalse')"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json --rejects /dev/null | sstream-map --key u --value v | sstream-sink --lines"
    assert_output "$(printf 'true\tnull\n\t{}')"
    assert_equal "$stderr" "sstream-source: $T/d/0001: line 3: bad JSON at column 24: too big integer near '9223372036854775808'
sstream-source: $T/d/0001: line 4: bad JSON at column 10: real number overflow near '1e400'
sstream-source: $T/d/0001: line 5: bad JSON at column 13: invalid Unicode '\\uD800' near '\"\\ud800\"'
sstream-source: $T/d/0001: line 6: bad JSON at column 6: unable to decode byte 0xed near '\"'
sstream-source: $T/d/0001: line 7: bad JSON at column 10: NUL byte in object key not supported near '\"n\\u0000\"'
sstream-source: 5 rejected records kept in '/dev/null'"
}
