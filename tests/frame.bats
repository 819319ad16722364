#!/usr/bin/env bats
# The frame contract of man/sstream.5: its Python example stage, run in
# pipelines, and the page's byte layout checked against what we write.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    # The example between its markers, roff escapes undone: what a user
    # copies from the rendered page.
    sed -n '/^\.\\" example-begin upper\.py$/,/^\.\\" example-end upper\.py$/p' \
        "$REPO/man/sstream.5" | sed -e '1,2d' -e '$d' | sed '$d' |
        sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' >"$T/upper.py"
    # The same example with the xxhash module out of reach, so that its
    # pure-Python XXH64 runs.
    cat >"$T/pure.py" <<'PY'
import runpy, sys
sys.modules["xxhash"] = None  # "import xxhash" now raises ImportError
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
PY
    batches "$T/d" "hello world" - "x"
}

@test "frame: the example is a whole Python program" {
    assert_equal "$(head -1 "$T/upper.py")" "#!/usr/bin/env python3"
    assert_equal "$(tail -1 "$T/upper.py")" "    sys.exit(main())"
    run "$PY" -m py_compile "$T/upper.py"
    assert_success
}

@test "frame: the man page's Python stage in a pipeline (xxhash module)" {
    "$PY" -c 'import xxhash' # the Debian module this test is about
    run --separate-stderr pipeline "$T/d" "$PY" "$T/upper.py"
    assert_success
    assert_output "$(printf '1000\tHELLO\n1000\tWORLD\n3000\tX')"
    assert_equal "$stderr" ""
}

@test "frame: the man page's Python stage with its pure-Python XXH64" {
    run --separate-stderr pipeline "$T/d" "$PY" "$T/pure.py" "$T/upper.py"
    assert_success
    assert_output "$(printf '1000\tHELLO\n1000\tWORLD\n3000\tX')"
    assert_equal "$stderr" ""
}

@test "frame: the pure-Python XXH64 agrees with the xxhash module" {
    run "$PY" - "$T/upper.py" <<'PY'
import random, runpy, sys, xxhash
real = xxhash.xxh64
sys.modules["xxhash"] = None
pure = runpy.run_path(sys.argv[1])["xxh64"]
rng = random.Random(7)
for n in list(range(100)) + [1000, 4099]:
    data = bytes(rng.randrange(256) for _ in range(n))
    assert pure(data) == real(data).intdigest(), n
print(hex(pure(b"")), hex(pure(b"abc")))
PY
    assert_success
    # the empty string and "abc": the published XXH64 test vectors
    assert_output "0xef46db3751d8e999 0x44bc2cf5ad770999"
}

@test "frame: what the Python stage writes passes our reader's checks" {
    for py in "$T/upper.py" "$T/pure.py $T/upper.py"; do
        run --separate-stderr bash -c "sstream-source --replay '$T/d' | '$PY' $py | sstream-sink --dump"
        assert_success
        assert_output - <<'EOF2'
@0 batch time=1000 interval=1000 count=2 payload=12 flags=- closed=0
  1: "HELLO"
  2: "WORLD"
@68 batch time=2000 interval=1000 count=0 payload=0 flags=- closed=0
@124 batch time=3000 interval=1000 count=1 payload=2 flags=- closed=0
  1: "X"
@182 end time=3000 interval=1000 count=0 payload=0 flags=- closed=0
EOF2
        assert_equal "$stderr" ""
    done
}

@test "frame: keyed frames through the Python stage keep their keys" {
    # The fixture was written by lib/frame.c: keys a, b and the empty key.
    run --separate-stderr bash -c "'$PY' '$T/upper.py' <'$FIXTURES/keyed.frames' | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '2000\ta\t1\n2000\tb\t2\n2000\t\t3')"
    assert_equal "$stderr" ""
    # A keyed stream written by the example's own encoder, through the
    # example stage (pure XXH64) into our reader.
    "$PY" - "$T/upper.py" >"$T/keyed" <<'PY'
import runpy, sys
m = runpy.run_path(sys.argv[1])
recs = [(b"k1", b"apple"), (b"", b"pear"), (b"k\tx", b""), (b"b", b"\x00z")]
sys.stdout.buffer.write(m["frame"](1, 5000, 5000, 1, 0, 0, recs))
sys.stdout.buffer.write(m["frame"](2, 5000, 5000, 0, 0, 0, []))
PY
    run --separate-stderr bash -c "'$PY' '$T/pure.py' '$T/upper.py' <'$T/keyed' | sstream-sink --dump"
    assert_success
    assert_output - <<'EOF2'
@0 batch time=5000 interval=5000 count=4 payload=25 flags=keyed closed=0
  1: "k1" => "APPLE"
  2: "" => "PEAR"
  3: "k\tx" => ""
  4: "b" => "\x00Z"
@81 end time=5000 interval=5000 count=0 payload=0 flags=- closed=0
EOF2
    assert_equal "$stderr" ""
}

@test "frame: a batch in parts keeps its MORE flags through the Python stage" {
    mkdir -p "$T/big"
    seq 1 300000 >"$T/big/1"
    printf 'last\n' >"$T/big/2"
    run bash -c "sstream-source --replay '$T/big' | '$PY' '$T/upper.py' | sstream-sink --dump | grep '^@' | cut -d' ' -f2-3,5,7"
    assert_success
    # seq 1 300000 in 256 KiB parts, then the last batch and the end
    assert_output "$(cat "$FIXTURES/parts-seq300000.txt")"
    run bash -c "sstream-source --replay '$T/big' | '$PY' '$T/upper.py' | sstream-sink --lines | sha1sum"
    assert_output "$( { seq 1 300000; echo LAST; } | sha1sum)"
}

@test "frame: an aborted stream goes through the Python stage and fails every stage after it" {
    run --separate-stderr sh -c "sstream-source --watch '$T/nope' | '$PY' '$T/upper.py' | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "$(printf '%s\n%s\n%s' \
        "sstream-source: --watch: cannot open '$T/nope': No such file or directory" \
        "upper.py: the stream was aborted: a stage before this one failed" \
        "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)")"
}

@test "frame: replay_ms goes from the source through every stage, the Python one too" {
    mkdir "$T/c"
    sstream-source --replay "$T/d" --wal "$T/w" --max-uncommitted 3 |
        sstream-map --flat-map words --pair 1 | "$PY" "$T/upper.py" |
        sstream-window -w 2 --reduce-by-key sum |
        sstream-state --update sum --no-checkpoint >"$T/out"
    # offset 28 of every frame: 3 batches of 1000 ms
    run "$PY" -c "
import struct, sys
data, pos, seen = open(sys.argv[1], 'rb').read(), 0, set()
while pos < len(data):
    hlen, = struct.unpack_from('<H', data, pos + 6)
    replay, = struct.unpack_from('<I', data, pos + 28)
    plen, = struct.unpack_from('<Q', data, pos + 32)
    seen.add(replay)
    pos += hlen + plen
print(sorted(seen))" "$T/out"
    assert_output "[3000]"
    run bash -c "sstream-source --replay '$T/d' | sstream-map --count | head -c 32 | tail -c 4 | od -An -tu4"
    assert_output "          0"
}

@test "frame: the Python stage refuses torn and corrupt input, exit 1" {
    sstream-source --replay "$T/d" >"$T/frames"
    head -c 100 "$T/frames" >"$T/torn"
    run --separate-stderr bash -c "'$PY' '$T/upper.py' <'$T/torn' | sstream-sink --lines; echo \${PIPESTATUS[*]}"
    assert_output "$(printf 'HELLO\nWORLD\n1 1')"
    assert_equal "$stderr" "$(printf '%s\n%s' \
        "upper.py: upstream ended without end-of-stream" \
        "sstream-sink: stdin: upstream ended without end-of-stream")"
    cp "$T/frames" "$T/bad"
    printf 'X' | dd of="$T/bad" bs=1 seek=60 conv=notrunc status=none
    run --separate-stderr bash -c "'$PY' '$T/pure.py' '$T/upper.py' <'$T/bad' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "upper.py: checksum mismatch"
}

@test "frame: the Python stage refuses to write frames to a terminal" {
    command -v script >/dev/null || skip "script(1) not installed"
    run script -qec "'$PY' '$T/upper.py' </dev/null" /dev/null
    assert_failure 2
    assert_output --partial "upper.py: frames are not written to a terminal"
}

@test "frame: the page's example frame is byte for byte what the source writes" {
    mkdir -p "$T/h"
    printf 'a\nbc\n' >"$T/h/1"
    sed -n '/^\.\\" example-begin frame\.hex$/,/^\.\\" example-end frame\.hex$/p' \
        "$REPO/man/sstream.5" | sed -e '1,2d' -e '$d' | sed '$d' >"$T/want"
    run bash -c "sstream-source --replay '$T/h' -b 1s | od -A d -t x1 -N 61"
    assert_success
    assert_output "$(cat "$T/want")"
}

@test "frame: the page's header table has lib/frame.c's offsets" {
    code=$(grep -o 'OFF_[A-Z]* = [0-9]*' "$REPO/lib/frame.c" | awk '{print $3}' | tr '\n' ' ')
    # the first table only: the stage trail's has a row at 56 as well
    page=$(sed -n '/^offset size type/,/^ *56 /{p;/^ *56 /q}' "$REPO/man/sstream.5" |
        awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
    assert_equal "$page" "$code"
    assert_equal "$(grep -c '^#define SS_FRAME_HEADER_LEN  56$' "$REPO/lib/frame.h")" 1
}

@test "frame: a longer header (a newer writer's fields) is skipped by readers" {
    # Rewrite every frame with header_len 64: 8 more header bytes, the
    # checksum over all 64 of them.
    sstream-source --replay "$T/d" >"$T/frames"
    "$PY" - "$T/frames" >"$T/long" <<'PY'
import struct, sys, xxhash
data, out, i = open(sys.argv[1], "rb").read(), sys.stdout.buffer, 0
while i < len(data):
    plen = struct.unpack_from("<Q", data, i + 32)[0]
    head = bytearray(data[i:i + 56]) + b"newfield"
    payload = data[i + 56:i + 56 + plen]
    struct.pack_into("<H", head, 6, 64)
    struct.pack_into("<Q", head, 40, 0)
    struct.pack_into("<Q", head, 40, xxhash.xxh64(bytes(head) + payload).intdigest())
    out.write(bytes(head) + payload)
    i += 56 + plen
PY
    run sstream-sink --tsv <"$T/long"
    assert_success
    assert_output "$(printf '1000\thello\n1000\tworld\n3000\tx')"
    run bash -c "'$PY' '$T/pure.py' '$T/upper.py' <'$T/long' | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\tHELLO\n1000\tWORLD\n3000\tX')"
}

@test "frame: an unknown version is refused by both readers" {
    sstream-source --replay "$T/d" >"$T/frames"
    printf '\003' | dd of="$T/frames" bs=1 seek=4 conv=notrunc status=none
    run --separate-stderr sstream-sink --tsv <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset 0: unsupported frame format version"
    run --separate-stderr "$PY" "$T/upper.py" <"$T/frames"
    assert_failure 1
    assert_equal "$stderr" "upper.py: not an sstream frame (or an unknown version)"
}
