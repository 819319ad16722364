#!/usr/bin/env bats
# Fields by name: sstream-source --format tsv|csv|json turns rows into
# JSON objects; sstream-map --key and --value take their fields.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/d"
}

@test "fields: a CSV header names the fields; quotes, commas, newlines in quotes" {
    cat >"$T/d/0001" <<'CSV'
time,status,path
1,200,"/a,b"
2,404,"say ""hi"""
3,200,"two
lines"
4,,
CSV
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --format csv | sstream-sink --lines"
    assert_success
    assert_output - <<'EOF2'
{"time":"1","status":"200","path":"/a,b"}
{"time":"2","status":"404","path":"say \"hi\""}
{"time":"3","status":"200","path":"two\nlines"}
{"time":"4","status":"","path":""}
EOF2
    assert_equal "$stderr" ""
}

@test "fields: each replay file has its own CSV header" {
    printf 'a,b\n1,2\n' >"$T/d/0001"
    printf 'b,a\n3,4\n' >"$T/d/0002"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format csv | sstream-map --key a --value b | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\t1\t2\n2000\t4\t3')"
}

@test "fields: TSV rows become JSON objects, text kept whole" {
    printf 'user\tmsg\nann\théllo, "world"\nbob\t\\n\n' >"$T/d/0001"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format tsv | sstream-sink --lines"
    assert_success
    assert_output - <<'EOF2'
{"user":"ann","msg":"héllo, \"world\""}
{"user":"bob","msg":"\\n"}
EOF2
}

@test "fields: JSON Lines go on as they came; --key takes nested fields, non-ASCII text" {
    cat >"$T/d/0001" <<'JSON'
{"user":{"name":"Zoë","id":7},"n":1.50,"tags":["a","b"],"ok":true}
{"user":{"name":"李","id":8},"n":2,"tags":[],"ok":null}
JSON
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json | sstream-map --key user.name --value n | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\tZoë\t1.5\n1000\t李\t2')"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json | sstream-map --key 4 --value tags | sstream-sink --lines"
    assert_success
    assert_output "$(printf 'true\t["a","b"]\nnull\t[]')"
}

@test "fields: --key and --value by name count a CSV per status" {
    cat >"$T/d/0001" <<'CSV'
status,bytes
200,10
404,1
200,5
CSV
    printf 'status,bytes\n500,7\n' >"$T/d/0002"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format csv | sstream-map --key status --value bytes --reduce-by-key sum | sstream-sink --tsv"
    assert_output "$(printf '1000\t200\t15\n1000\t404\t1\n2000\t500\t7')"
    # by number: the object's members keep the header's order
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format csv | sstream-map --key 1 --value 2 --reduce-by-key sum | sstream-sink --tsv"
    assert_output "$(printf '1000\t200\t15\n1000\t404\t1\n2000\t500\t7')"
}

@test "fields: malformed rows are rejects with their input and line" {
    cat >"$T/d/0001" <<'CSV'
a,b
1,2
3,"x"y
5
6,7,8
"never closed,9
CSV
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --format csv --rejects '$T/rej' | sstream-sink --lines"
    assert_success
    assert_output '{"a":"1","b":"2"}'
    assert_equal "$stderr" "sstream-source: $T/d/0001: line 3: bad CSV quoting: text after the closing quote of field 2
sstream-source: $T/d/0001: line 4: row has 1 field, the header 2
sstream-source: $T/d/0001: line 5: row has 3 fields, the header 2
sstream-source: $T/d/0001: line 6: bad CSV quoting: a quoted field is never closed
sstream-source: 4 rejected records kept in '$T/rej'"
    assert_equal "$(cat "$T/rej")" '3,"x"y
5
6,7,8
"never closed,9'
}

@test "fields: bad JSON is a reject; without --rejects the exit status is 1" {
    printf '{"a":1}\n[1]\n{"a":\n\n' >"$T/d/0001"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json | sstream-sink --lines"
    assert_failure 1
    assert_output '{"a":1}'
    assert_equal "$stderr" "sstream-source: $T/d/0001: line 2: not a JSON object
sstream-source: $T/d/0001: line 3: bad JSON at column 5: unexpected token near end of file
sstream-source: $T/d/0001: line 4: bad JSON at column 0: '[' or '{' expected near end of file
sstream-source: 3 rejected records not kept (use --rejects FILE)"
}

@test "fields: map --key on a record without the field, or not an object, rejects it" {
    printf '{"a":"x"}\n{"b":"y"}\nplain\n' >"$T/d/0001"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' | sstream-map --key a --rejects '$T/rej' | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\tx\t{"a":"x"}')"
    assert_equal "$stderr" "sstream-map: batch 1000, record 2: --key: no field 'a'
sstream-map: batch 1000, record 3: --key: bad JSON at column 5: '[' or '{' expected near 'plain'
sstream-map: 2 rejected records kept in '$T/rej'"
}

@test "fields: usage errors exit 2 with one line" {
    run --separate-stderr sstream-source --format xml
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --format: unknown format 'xml' (try tsv, csv or json)"
    run --separate-stderr sstream-source --format csv --record-bytes 4
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --format: reads lines (not with --record-bytes)"
    run --separate-stderr sstream-map --key ''
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-map: --key: empty field name"
}
