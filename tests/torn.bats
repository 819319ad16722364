#!/usr/bin/env bats
# A torn batch (man/sstream.5, "BATCHES"): a batch whose last part never
# comes. Every stage reads batches through the one reader of lib/frame,
# so every stage says the same thing and exits 1.

load helpers/common

# torn FILE WHAT: batch 1000 in a part that announces more, then WHAT:
# "next" (batch 2000 whole, then the end) or "end" (the end at once).
torn() {
    "$PY" - "$1" "$2" <<'PY'
import sys
sys.path.insert(0, "tests/helpers")
import frames as F
out = F.frame(F.BATCH, 1000, 1000, F.KEYED | F.MORE, [(b"a", b"1")])
if sys.argv[2] == "next":
    out += F.frame(F.BATCH, 2000, 1000, F.KEYED, [(b"b", b"2")])
    out += F.frame(F.END, 2000, 1000, 0, [])
else:
    out += F.frame(F.END, 1000, 1000, 0, [])
open(sys.argv[1], "wb").write(out)
PY
}

setup() {
    T=$BATS_TEST_TMPDIR
    cd "$REPO"
}

# each: run every stage on $T/in; its status and message, a line each.
each() {
    local name
    for name in map window state sink; do
        case $name in
        map) set -- sstream-map --reduce-by-key sum ;;
        window) set -- sstream-window -w 2s --reduce-by-key sum ;;
        state) set -- sstream-state --update sum --no-checkpoint ;;
        sink) set -- sstream-sink --lines ;;
        esac
        "$@" <"$T/in" >"$T/out-$name" 2>"$T/err"
        echo "$? $(cat "$T/err")"
    done
}

@test "torn: a part, then another batch: every stage, one message, exit 1" {
    torn "$T/in" next
    run each
    assert_output - <<'EOF'
1 sstream-map: stdin: batch 1000 ends without its last part (batch 2000 follows at byte offset 60)
1 sstream-window: stdin: batch 1000 ends without its last part (batch 2000 follows at byte offset 60)
1 sstream-state: stdin: batch 1000 ends without its last part (batch 2000 follows at byte offset 60)
1 sstream-sink: stdin: batch 1000 ends without its last part (batch 2000 follows at byte offset 60)
EOF
    # Nothing of either batch is written: the sink writes no line, and
    # the others end their stream as aborted, so the next stage fails.
    assert_equal "$(wc -c <"$T/out-sink")" 0
    for name in map window state; do
        run --separate-stderr sstream-sink --lines <"$T/out-$name"
        assert_failure 1
        assert_output ""
        assert_equal "$stderr" "sstream-sink: stdin: the stream was aborted: a stage before this one failed (see its message)"
    done
}

@test "torn: a part, then the end of the stream: the same message" {
    torn "$T/in" end
    run each
    assert_output - <<'EOF'
1 sstream-map: stdin: batch 1000 ends without its last part (end-of-stream follows at byte offset 60)
1 sstream-window: stdin: batch 1000 ends without its last part (end-of-stream follows at byte offset 60)
1 sstream-state: stdin: batch 1000 ends without its last part (end-of-stream follows at byte offset 60)
1 sstream-sink: stdin: batch 1000 ends without its last part (end-of-stream follows at byte offset 60)
EOF
}

@test "torn: a --union input that tears is named in the message" {
    torn "$T/u" next
    "$PY" tests/helpers/frames.py --keyed "x:1 y:2" "z:3" >"$T/main"
    run --separate-stderr sstream-map --union "$T/u" <"$T/main"
    assert_failure 1
    assert_equal "$stderr" "sstream-map: $T/u: batch 1000 ends without its last part (batch 2000 follows at byte offset 60)"
}
