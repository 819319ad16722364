#!/usr/bin/env bats
# sstream-sink: Spark's print(), --lines, --tsv, --dump, and bad frames.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
}

@test "sink: --print shows 10 of 12 records, then ..., as Spark's print()" {
    mkdir -p "$T/d"
    seq 1 12 >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-sink --print"
    assert_success
    assert_output - <<'EOF2'
-------------------------------------------
Time: 1000 ms
-------------------------------------------
1
2
3
4
5
6
7
8
9
10
...

EOF2
}

@test "sink: --print of an empty batch is the header alone; --print=N" {
    batches "$T/d" - "a b c"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --print=2"
    assert_success
    assert_output - <<'EOF2'
-------------------------------------------
Time: 1000 ms
-------------------------------------------

-------------------------------------------
Time: 2000 ms
-------------------------------------------
a
b
...

EOF2
}

@test "sink: --print shows key/value records as (k,v)" {
    # A keyed frame written by the Python stage of man/sstream.5 is tested
    # there; here a keyed stream comes from a stored fixture.
    run bash -c "sstream-sink --print < '$FIXTURES/keyed.frames'"
    assert_success
    assert_output - <<'EOF2'
-------------------------------------------
Time: 2000 ms
-------------------------------------------
(a,1)
(b,2)
(,3)

EOF2
}

@test "sink: --lines and --tsv of key/value records" {
    run sstream-sink --lines <"$FIXTURES/keyed.frames"
    assert_output "$(printf 'a\t1\nb\t2\n\t3')"
    run sstream-sink --tsv <"$FIXTURES/keyed.frames"
    assert_output "$(printf '2000\ta\t1\n2000\tb\t2\n2000\t\t3')"
}

@test "sink: --dump escapes bytes and shows every header" {
    mkdir -p "$T/d"
    printf 'tab\there "q" \\ \001\n' >"$T/d/1"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --dump"
    assert_success
    assert_output - <<'EOF2'
@0 batch time=1000 interval=1000 count=1 payload=17 flags=- closed=0
  1: "tab\there \"q\" \\ \x01"
@73 end time=1000 interval=1000 count=0 payload=0 flags=- closed=0
EOF2
}

@test "sink: a batch larger than a frame part arrives whole, in parts" {
    mkdir -p "$T/d"
    seq 1 300000 >"$T/d/1"
    printf 'last\n' >"$T/d/2"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --dump | grep '^@' | cut -d' ' -f2-3,5,7"
    # seq 1 300000 in 256 KiB parts, then the last batch and the end
    assert_output "$(cat "$FIXTURES/parts-seq300000.txt")"
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --print=1 | head -4 | tail -1"
    assert_output 1
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --lines | sha1sum"
    assert_output "$( { seq 1 300000; echo last; } | sha1sum)"
}

@test "sink: a flipped payload byte: exit 1 naming the byte offset" {
    batches "$T/d" "a b" "c d"
    sstream-source --replay "$T/d" >"$T/frames"
    # second frame starts at 60; its payload at 60 + 56
    printf 'X' | dd of="$T/frames" bs=1 seek=117 conv=notrunc status=none
    run --separate-stderr sstream-sink --lines <"$T/frames"
    assert_failure 1
    assert_output "$(printf 'a\nb')"
    assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset 60: checksum mismatch"
}

@test "sink: a stream cut mid-frame: exit 1, upstream ended without end-of-stream" {
    batches "$T/d" "a b" "c d"
    sstream-source --replay "$T/d" | head -c 100 >"$T/frames"
    run --separate-stderr sstream-sink --lines <"$T/frames"
    assert_failure 1
    assert_output "$(printf 'a\nb')"
    assert_equal "$stderr" "sstream-sink: stdin: upstream ended without end-of-stream (torn frame at byte offset 60)"
    sstream-source --replay "$T/d" | head -c 120 >"$T/frames"
    run --separate-stderr sstream-sink --lines <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: stdin: upstream ended without end-of-stream"
}

@test "sink: text that is not frames is refused at offset 0" {
    run --separate-stderr bash -c "echo hello world, this is not a frame | sstream-sink"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: stdin: the input is not sstream frames (a pipeline starts with sstream-source, e.g. 'sstream-source < FILE | sstream-sink')"
    run --separate-stderr bash -c "printf 'hi' | sstream-map --count"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: stdin: the input is not sstream frames (a pipeline starts with sstream-source, e.g. 'sstream-source < FILE | sstream-map')"
    # a stream that starts as frames and goes wrong later is a corrupt frame
    mkdir "$T/d"
    echo a >"$T/d/1"
    run --separate-stderr bash -c "{ sstream-source --replay '$T/d' | head -c 58; echo this is not a frame; } | sstream-sink --lines"
    assert_failure 1
    assert_output "a"
    assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset 58: bad magic (not an sstream frame)"
}

@test "sink: usage errors exit 2; --help and --version exit 0" {
    run --separate-stderr sstream-sink --lines --tsv
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-sink: --dump, --json, --lines, --print, --top and --tsv exclude each other"
    run --separate-stderr sstream-sink --print=x
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --print: 'x' is not a whole number from 0 to 9223372036854775807"
    run --separate-stderr sstream-sink -x
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-sink: invalid option -- 'x'"
    run sstream-sink --version
    assert_success
    assert_output "sstream-sink 0.1.0 (frame format 1)"
    run sstream-sink -h
    assert_success
    assert_line --index 0 "usage: sstream-sink [-hV] [--dump | --json | --lines | --print[=N] |"
}

@test "sink: record lengths that do not add up are a corrupt frame, however it reads them" {
    # --lines checks record lengths as it copies them out, other modes
    # before: a frame whose checksum is right but whose lengths overrun
    # the payload, or whose count is wrong, is refused either way, with
    # its byte offset, after the good frame before it.
    "$PY" - "$T" <<'PY'
import struct, sys, xxhash
t = sys.argv[1]
def frame(time, count, payload, kind=1):
    head = bytearray(56)
    head[0:4] = b"SSTM"
    head[4], head[5] = 1, kind
    struct.pack_into("<HQIIIIQ", head, 6, 56, time, 1000, 0, count, 0, len(payload))
    struct.pack_into("<Q", head, 40, xxhash.xxh64(bytes(head) + payload).intdigest())
    return bytes(head) + payload
good = frame(1000, 2, b"\x02ok\x03yes")
long = b"\x81\x01" + b"x" * 129
bad = {
    "overrun": frame(2000, 2, b"\x01a\x05bc"),
    "count": frame(2000, 3, b"\x01a\x02bc"),
    "long-count": frame(2000, 3, b"\x01a" + long),
}
for name, f in bad.items():
    open("%s/%s" % (t, name), "wb").write(good + f + frame(2000, 0, b"", kind=2))
PY
    for bad in overrun count long-count; do
        for mode in --lines --tsv; do
            run --separate-stderr sstream-sink $mode <"$T/$bad"
            assert_failure 1
            assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset 63: record lengths do not match the payload"
        done
        run --separate-stderr sstream-sink --lines <"$T/$bad"
        assert_output "$(printf 'ok\nyes')"
    done
}

@test "sink: key/value records: --lines at once, long fields and bad lengths alike" {
    # --lines copies a key/value frame out whole when every field is
    # shorter than 128 bytes (key<TAB>value is as long as the record), and
    # checks the lengths as it goes: a key without its value's length, an
    # overrun, a wrong count are refused as the reader refuses them.
    "$PY" - "$T" <<'PY'
import struct, sys, xxhash
t = sys.argv[1]
def frame(time, count, payload, kind=1, flags=1):
    head = bytearray(56)
    head[0:4] = b"SSTM"
    head[4], head[5] = 1, kind
    struct.pack_into("<HQIIIIQ", head, 6, 56, time, 1000, flags, count, 0, len(payload))
    struct.pack_into("<Q", head, 40, xxhash.xxh64(bytes(head) + payload).intdigest())
    return bytes(head) + payload
good = frame(1000, 2, b"\x01k\x01v\x00\x02ab")
end = frame(2000, 0, b"", kind=2, flags=0)
long = b"\x81\x01" + b"x" * 129
cases = {
    "long": frame(2000, 2, b"\x02ok" + long + long + b"\x01v"),
    "overrun": frame(2000, 1, b"\x01k\x05v"),
    "no-value": frame(2000, 2, b"\x01k\x01v\x01k"),
    "count": frame(2000, 3, b"\x01k\x01v\x01k\x01v"),
    "long-count": frame(2000, 2, b"\x01k" + long),
}
for name, f in cases.items():
    open("%s/%s" % (t, name), "wb").write(good + f + end)
PY
    run --separate-stderr sstream-sink --lines <"$T/long"
    assert_success
    assert_output "$(printf 'k\tv\n\tab\nok\t%s\n%s\tv' "$(printf 'x%.0s' {1..129})" "$(printf 'x%.0s' {1..129})")"
    for bad in overrun no-value count long-count; do
        run --separate-stderr sstream-sink --lines <"$T/$bad"
        assert_failure 1
        assert_output "$(printf 'k\tv\n\tab')"
        assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset 64: record lengths do not match the payload"
    done
}

# ---- --json ----

@test "sink: --json escapes quotes, backslashes, tabs and control bytes" {
    mkdir -p "$T/d"
    printf 'plain\nq"uote\\back\ttab\n\x01\x08\x0c\rz\x7f\x1b[31m\na\0b\n\n' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-sink --json"
    assert_success
    assert_output - <<'EOF2'
{"time":1000,"value":"plain"}
{"time":1000,"value":"q\"uote\\back\ttab"}
{"time":1000,"value":"\u0001\b\f\rz\u007f\u001b[31m"}
{"time":1000,"value":"a\u0000b"}
{"time":1000,"value":""}
EOF2
    assert_equal "$stderr" ""
}

@test "sink: --json keeps valid UTF-8, and each byte of invalid UTF-8 is \\ufffd" {
    mkdir -p "$T/d"
    # Latin-1 é; valid é € 😀; overlong /, a surrogate, past U+10FFFF, a cut €
    printf 'caf\xe9 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82\n' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-sink --json"
    assert_success
    assert_output - <<'EOF2'
{"time":1000,"value":"caf\ufffd café € 😀"}
{"time":1000,"value":"\ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd"}
EOF2
    run bash -c "sstream-source --replay '$T/d' | sstream-sink --json |
        $PY -c 'import json, sys
for l in sys.stdin.buffer: print(ascii(json.loads(l.decode(\"utf-8\", \"strict\"))[\"value\"]))'"
    assert_success
    assert_output - <<'EOF2'
'caf\ufffd caf\xe9 \u20ac \U0001f600'
'\ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd'
EOF2
}

@test "sink: --json gives key/value records their key; a JSON parser reads every line" {
    batches "$T/d" "a:1 b\"x:2" - "c\\:3"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-map -F : --key-field 1 --value-field 2 | sstream-sink --json"
    assert_success
    assert_output - <<'EOF2'
{"time":1000,"key":"a","value":"1"}
{"time":1000,"key":"b\"x","value":"2"}
{"time":3000,"key":"c\\","value":"3"}
EOF2
    # strict UTF-8 and JSON: what jq and log shippers read
    run bash -c "sstream-source --replay '$T/d' | sstream-map -F : --key-field 1 --value-field 2 | sstream-sink --json |
        $PY -c 'import json, sys
for l in sys.stdin.buffer: print(json.loads(l.decode(\"utf-8\", \"strict\")))'"
    assert_success
    assert_output - <<'EOF2'
{'time': 1000, 'key': 'a', 'value': '1'}
{'time': 1000, 'key': 'b"x', 'value': '2'}
{'time': 3000, 'key': 'c\\', 'value': '3'}
EOF2
}

# ---- --time-format ----

@test "sink: --time-format iso is UTC with milliseconds, whatever TZ says" {
    batches "$T/d" "a" "b c"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 500ms --start-time 1796281199500 | TZ=XST-5:30 sstream-sink --print --time-format iso"
    assert_success
    assert_output - <<'EOF2'
-------------------------------------------
Time: 2026-12-03T07:00:00.000Z
-------------------------------------------
a

-------------------------------------------
Time: 2026-12-03T07:00:00.500Z
-------------------------------------------
b
c
EOF2
    run --separate-stderr bash -c "sstream-source --replay '$T/d' -b 500ms --start-time 1796281199500 | TZ=PST8PDT sstream-sink --tsv --time-format iso"
    assert_output "$(printf '2026-12-03T07:00:00.000Z\ta\n2026-12-03T07:00:00.500Z\tb\n2026-12-03T07:00:00.500Z\tc')"
}

@test "sink: --time-format local and strftime formats follow TZ; ms is the default" {
    batches "$T/d" "a" "b"
    src="sstream-source --replay '$T/d' -b 1s --start-time 1796281199000"
    run bash -c "$src | TZ=XST-5:30 sstream-sink --tsv --time-format local"
    assert_output "$(printf '2026-12-03T12:30:00.000+05:30\ta\n2026-12-03T12:30:01.000+05:30\tb')"
    run bash -c "$src | TZ=PST8PDT sstream-sink --tsv --time-format local"
    assert_output "$(printf '2026-12-02T23:00:00.000-08:00\ta\n2026-12-02T23:00:01.000-08:00\tb')"
    run bash -c "$src | TZ=PST8PDT sstream-sink --tsv --time-format '%F %T %Z'"
    assert_output "$(printf '2026-12-02 23:00:00 PST\ta\n2026-12-02 23:00:01 PST\tb')"
    run bash -c "$src | TZ=UTC0 sstream-sink --print --time-format '%H:%M:%S' | sed -n 2p"
    assert_output "Time: 07:00:00"
    run bash -c "$src | TZ=UTC0 sstream-sink --tsv --time-format ms"
    assert_output "$(printf '1796281200000\ta\n1796281201000\tb')"
    run bash -c "$src | TZ=UTC0 sstream-sink --time-format ms | sed -n 2p"
    assert_output "Time: 1796281200000 ms"
}

@test "sink: --time-format usage errors, exit 2" {
    run --separate-stderr sstream-sink --time-format utc
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --time-format: 'utc' is not ms, iso, local or a strftime format (try '%F %T')"
    # a format whose text would not fit (30 dates of 10 bytes)
    f=$(printf '%%F%.0s' {1..30})
    run --separate-stderr sstream-sink --time-format "$f"
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --time-format: '$f' gives an empty time or one over 255 bytes"
    run --separate-stderr sstream-sink --lines --time-format iso
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-sink: --time-format: only for --print, --tsv and --top"
}
