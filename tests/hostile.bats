#!/usr/bin/env bats
# Hostile and corrupt input (issue 14, item 10): frames crafted with
# valid checksums, so that only the readers' checks of every length and
# time stand between them and memory or arithmetic gone wrong.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/r" "a b" "a" "b c" "a"
    sstream-source --replay "$T/r" -b 1s | sstream-map --pair 1 >"$T/in.frames"
}

# frame TIME PLEN [PAYLOAD]: a batch frame header claiming PLEN bytes of
# payload and one record, then PAYLOAD, checksummed as if all were there.
frame() {
    "$PY" - "$@" <<'PY'
import struct, sys, xxhash
time, plen = int(sys.argv[1]), int(sys.argv[2])
payload = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b""
head = struct.pack("<4sBBHqIIIIQQq", b"SSTM", 1, 1, 56, time, 1000, 0, 1, 0,
                   plen, 0, 0)
h = xxhash.xxh64(head + payload).intdigest()
sys.stdout.buffer.write(head[:40] + struct.pack("<Q", h) + head[48:] + payload)
PY
}

@test "hostile: a header claiming 2 GiB, then the end: a torn frame, no 2 GiB reserved" {
    sstream-source --replay "$T/r" -b 1s | head -c 60 >"$T/f" # batch 1000
    frame 2000 $((1 << 31)) >>"$T/f"
    # Under 1 GiB of address space a reservation of 2 GiB would fail
    # (ASan builds need terabytes of it: no limit there).
    [ -n "${SSTREAM_ASAN:-}" ] || ulimit -v 1048576
    run --separate-stderr sstream-sink --lines <"$T/f"
    assert_failure 1
    assert_output "$(printf 'a\nb')"
    assert_equal "$stderr" "sstream-sink: stdin: upstream ended without end-of-stream (torn frame at byte offset 60)"
}

@test "hostile: a record length longer than 64 bits is a corrupt frame" {
    # ten varint bytes whose 10th is 2: bit 64, which no length has
    frame 1000 10 80808080808080808002 >"$T/f"
    run --separate-stderr sstream-sink --lines <"$T/f"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset 0: record lengths do not match the payload"
}

@test "hostile: a batch time out of range is a corrupt frame" {
    # --initial keys idle from the first batch's time less its interval:
    # at INT64_MIN that was a signed overflow
    frame -9223372036854775808 2 0178 >"$T/f"
    printf 'k\t1\n' >"$T/init"
    run --separate-stderr sstream-state --update sum --initial "$T/init" --timeout 2s --no-checkpoint <"$T/f"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-state: stdin: corrupt frame at byte offset 0: time out of range"
}

@test "hostile: a commit record out of the range of batch times is refused" {
    mkdir "$T/w"
    printf '%s\n' -9223372036854775808 >"$T/w/commit"
    run --separate-stderr bash -c "sstream-source --replay '$T/r' --wal '$T/w' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: cannot read '$T/w/commit': Bad message"
}
