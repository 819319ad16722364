#!/usr/bin/env bats
# Hostile and corrupt input (issue 14, items 8 and 10): frames and
# checkpoints crafted with valid checksums, so that only the readers'
# checks of every length, count, time and divisor stand between them and
# a crash. A crafted file gives exit 1 and a message naming it, never a
# crash, a division by zero, or bytes that were never records. The
# fuzz targets of tests/fuzz/ look for more of the same.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/r" "a b" "a" "b c" "a"
    sstream-source --replay "$T/r" -b 1s | sstream-map --pair 1 >"$T/in.frames"
}

# craft FILE PYTHON: run PYTHON with f = ckpt.load(FILE), then save f back
# with checksums that match (tests/helpers/ckpt.py).
craft() {
    "$PY" - "$1" <<PY
import struct, sys
sys.path.insert(0, "$TESTS_DIR/helpers")
import ckpt
f = ckpt.load(sys.argv[1])
rec = {r[0]: r for r in getattr(f, "recs", [])}
$2
ckpt.save(sys.argv[1], f)
PY
}

# A window checkpoint of the four batches: 000000000002.snap is the newest.
window_ckpt() {
    sstream-window "$@" --checkpoint "$T/c" <"$T/in.frames" >/dev/null
}

# (stdout aside: what a failing stage sends there is not the point here)
window_refuses() {
    run --separate-stderr sstream-window "$@" --checkpoint "$T/c" \
        <"$T/in.frames" >/dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-window: checkpoint '$T/c/000000000002.snap': malformed contents"
}

PANE4000='b"p" + struct.pack("<q", 4000)' # closed: batch 4000 ended it
PANE5000='b"p" + struct.pack("<q", 5000)' # open

@test "hostile: a window checkpoint with batch interval 0 is refused, not divided by" {
    window_ckpt -w 2s --reduce-by-key sum
    craft "$T/c/000000000002.snap" 'm = rec[b"m"]; m[1] = struct.pack("<q", 0) + m[1][8:]'
    window_refuses -w 2s --reduce-by-key sum
}

@test "hostile: a window checkpoint's pane in a session window is refused" {
    window_ckpt --session-gap 2s --reduce-by-key sum
    craft "$T/c/000000000002.snap" "f.recs.append([$PANE4000, struct.pack('<qIbb', 4000, 0, 0, 0)])"
    window_refuses --session-gap 2s --reduce-by-key sum
}

@test "hostile: a window pane whose key length runs past its end is refused" {
    window_ckpt -w 2s --reduce-by-key sum
    craft "$T/c/000000000002.snap" "rec[$PANE5000][1] += b'\\xff\\xff\\xff'"
    window_refuses -w 2s --reduce-by-key sum
}

@test "hostile: a plain window pane whose records overrun it is refused" {
    window_ckpt -w 2s
    # one record whose key claims 512 bytes where 2 are
    craft "$T/c/000000000002.snap" "p = rec[$PANE4000]; p[1] = p[1][:8] + struct.pack('<I', 1) + p[1][12:14] + b'\\x80\\x04ab'"
    window_refuses -w 2s
}

@test "hostile: a window's kept output whose records overrun it is not re-emitted" {
    window_ckpt -w 2s --reduce-by-key sum
    # the output kept for batch 4000 (after its input's digest): a record
    # length past its payload,
    # which a replay of batch 4000 would have filled from stale memory
    craft "$T/c/000000000002.snap" 'b = bytearray(f.blobs[-1][1]); b[36] = 0x7f; f.blobs[-1][1] = bytes(b)'
    window_refuses -w 2s --reduce-by-key sum
}

@test "hostile: a window meta with the open pane far from the last batch is refused" {
    window_ckpt -w 2s --reduce-by-key sum
    craft "$T/c/000000000002.snap" 'm = rec[b"m"]; m[1] = m[1][:8] + struct.pack("<q", -(1 << 62)) + m[1][16:]'
    window_refuses -w 2s --reduce-by-key sum
}

# A state checkpoint of the four batches (a snapshot at 1000 and a log of
# 2000 and 3000, a snapshot at 4000), then the same batches again:
# replays, whose output is rebuilt from the undo lists kept.
state_ckpt() {
    sstream-state --update sum "$@" --checkpoint "$T/c" <"$T/in.frames" >/dev/null
}

state_refuses() {
    local file=$1 msg=$2
    shift 2
    run --separate-stderr sstream-state --update sum "$@" --checkpoint "$T/c" \
        <"$T/in.frames" >/dev/null
    assert_failure 1
    assert_equal "$stderr" "sstream-state: checkpoint '$T/c/$file': $msg"
}

# An undo list of key 'zz' (in no state) with a value present but too
# short to decode: rebuilding its batch's output dereferenced NULL.
BADUNDO='b"\x02zz\x01\x03abc"'

@test "hostile: a state snapshot's undo list that does not decode is refused" {
    state_ckpt
    # the undo list of batch 3000, which the replays of 1000 and 2000 undo
    craft "$T/c/000000000002.snap" "f.blobs[-1][1] = f.blobs[-1][1][:8] + $BADUNDO"
    state_refuses 000000000002.snap "malformed contents"
}

@test "hostile: a state delta log's undo list that does not decode is refused" {
    state_ckpt
    # generation 1 the newest: its log's second entry (the first is the
    # snapshot's own batch), batch 2000, whose undo list (the last op) the
    # replay of batch 1000 undoes
    rm "$T/c"/000000000002.*
    craft "$T/c/000000000001.log" "f.entries[1][1][-1][1] = f.entries[1][1][-1][1][:8] + $BADUNDO"
    state_refuses 000000000001.log "malformed entry at byte 146"
}

@test "hostile: a state key's last time out of range is refused (--timeout)" {
    state_ckpt --timeout 2s
    # --timeout subtracts it from the batch time: INT64_MIN + 1 overflows
    craft "$T/c/000000000002.snap" 'r = f.recs[0]; r[1] = struct.pack("<q", -(1 << 63) + 1) + r[1][8:]'
    state_refuses 000000000002.snap "malformed contents" --timeout 2s
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
    run --separate-stderr bash -c "sstream-state --update sum --initial '$T/init' --timeout 2s --no-checkpoint <'$T/f' | sstream-sink --lines"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-state: stdin: corrupt frame at byte offset 0: time out of range
sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
}

@test "hostile: a commit record out of the range of batch times is refused" {
    mkdir "$T/w"
    printf '%s\n' -9223372036854775808 >"$T/w/commit"
    run --separate-stderr bash -c "sstream-source --replay '$T/r' --wal '$T/w' >/dev/null"
    assert_failure 1
    assert_equal "$stderr" "sstream-source: --wal: cannot read '$T/w/commit': Bad message"
}
