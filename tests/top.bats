#!/usr/bin/env bats
# sstream-sink --top N: the plain lines off a terminal, and the live view
# as a person sees it, in tmux (a private server, 80x24): the exact
# screen at a batch, after a resize, and the terminal as it was after
# Ctrl-C. The screen of the first is README.md's "Top 10 live" capture.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    SOCK="sstream-top-$$-$BATS_TEST_NUMBER"
}

teardown() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
}

tm() {
    tmux -L "$SOCK" -f /dev/null "$@"
}

# screen: the pane as shown, trailing blank lines left out.
screen() {
    tm capture-pane -p -t top
}

# wait_screen TEXT: until the pane shows TEXT (at most 20 s).
wait_screen() {
    local i
    for i in $(seq 1 200); do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$1' on the screen:" >&2
    screen >&2
    return 1
}

# wait_screen_is TEXT: until the pane shows exactly TEXT (at most 20 s;
# a screen is drawn in pieces, and tmux crops a resized one before the
# program redraws it), then assert it, with the difference if it never
# did.
wait_screen_is() {
    local i
    for i in $(seq 1 200); do
        [ "$(screen)" = "$1" ] && break
        sleep 0.1
    done
    assert_equal "$(screen)" "$1"
}

# live CMD: run CMD in a new 80x24 tmux window named top (TERM=screen,
# whose terminfo every ncurses install has).
live() {
    tm new-session -d -s top -x 80 -y 24 \
        "env TERM=screen PATH='$PATH' bash --norc --noprofile -c '$1'"
}

# The most traded stocks of a 5 s slide, summed volumes, as a window
# stage would send them; a stage trail and an ingest field that say a
# window stage took 38 ms and the source read 9200 records/s. No end of
# stream: the view stays up, as over a live source.
trades() {
    "$PY" "$TESTS_DIR/helpers/frames.py" --keyed -b 5000 \
        --start 1764756000000 --trail map=4,window=38 --ingest 9200,1000 \
        --no-end "AAPL:4210 MSFT:3980 NVDA:3975 AMZN:2650 TSLA:2410 \
GOOG:1890 META:1520 INTC:1210 AMD:1210 NFLX:640 ORCL:410 IBM:380 CSCO:220 \
ADBE:150" >"$T/trades"
}

@test "top: off a terminal, time<TAB>rank<TAB>key<TAB>value per batch, ties by key" {
    batches "$T/d" "a b c a b a d" - "x y x z z"
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-map -f words --count-by-value |
        sstream-sink --top 2 --time-format iso"
    assert_success
    assert_output "$(printf '%s\n' \
        $'1970-01-01T00:00:01.000Z\t1\ta\t3' \
        $'1970-01-01T00:00:01.000Z\t2\tb\t2' \
        $'1970-01-01T00:00:03.000Z\t1\tx\t2' \
        $'1970-01-01T00:00:03.000Z\t2\tz\t2')"
    assert_equal "$stderr" ""
}

@test "top: after sstream-window, the top N of each window" {
    batches "$T/d" "a b b" "a a c" "c c c"
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-map -f words --count-by-value |
        sstream-window -w 2s -s 1s --reduce-by-key sum | sstream-sink --top 2"
    assert_success
    assert_output "$(printf '%s\n' \
        $'1000\t1\tb\t2' $'1000\t2\ta\t1' \
        $'2000\t1\ta\t3' $'2000\t2\tb\t2' \
        $'3000\t1\tc\t4' $'3000\t2\ta\t2')"
}

@test "top: a bad N is a usage error, exit 2" {
    run --separate-stderr sstream-sink --top 0
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --top: '0' is not a whole number from 1 to 100000"
    run --separate-stderr sstream-sink --top x
    assert_failure 2
    assert_equal "$stderr" "sstream-sink: --top: 'x' is not a whole number from 1 to 100000"
    run --separate-stderr sstream-sink --top 3 --lines
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-sink: --dump, --json, --lines, --print, --top and --tsv exclude each other"
}

@test "top: keyless records say how to make keys, exit 1" {
    batches "$T/d" "a b"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-sink --top 3"
    assert_failure 1
    assert_output ""
    assert_equal "$stderr" "sstream-sink: --top needs key/value records (make them with sstream-map --count-by-value, --pair or --key-field)"
}

@test "top: the live view at a batch, exactly; it is README.md's capture" {
    trades
    live "{ cat $T/trades; exec sleep 600; } | sstream-sink --top 10 --time-format iso"
    wait_screen_is "$(cat <<'EOF'
Time: 2025-12-03T10:00:05.000Z   top 10 of 14 keys
records/s in 9200, out 3   delay -   slowest #2 window 38 ms

 1 AAPL ################################################################## 4210
 2 MSFT ##############################################################     3980
 3 NVDA ##############################################################     3975
 4 AMZN ##########################################                         2650
 5 TSLA ######################################                             2410
 6 GOOG ##############################                                     1890
 7 META ########################                                           1520
 8 AMD  ###################                                                1210
 9 INTC ###################                                                1210
10 NFLX ##########                                                          640
EOF
)"
    screen >"$T/screen"
    # README.md shows this screen; SSTREAM_UPDATE_DOCS=1 writes it there
    run "$PY" "$TESTS_DIR/helpers/doc-examples.py" --capture top-10 \
        "$REPO/README.md" ${SSTREAM_UPDATE_DOCS:+"$T/screen"}
    assert_success
    assert_output "$(cat "$T/screen")"
}

@test "top: a resize redraws the view to the new size" {
    trades
    live "{ cat $T/trades; exec sleep 600; } | sstream-sink --top 10"
    wait_screen "10 NFLX"
    tm resize-window -t top -x 44 -y 8
    wait_screen_is "$(cat <<'EOF'
Time: 1764756005000 ms   top 10 of 14 keys
records/s in 9200, out 3   delay -   slowest

 1 AAPL ############################## 4210
 2 MSFT ############################   3980
 3 NVDA ############################   3975
 4 AMZN ###################            2650
 5 TSLA #################              2410
EOF
)"
}

@test "top: Ctrl-C ends the pipeline and gives the terminal back as it was" {
    # a, b, a in every batch, not in the first alone: the view of one
    # 200ms batch is gone before a loaded machine looks at the pane again
    # (a Python loop: SIGTERM, when the source ends it, ends it at once)
    cat >"$T/feed" <<'EOF'
import sys, time
while True:
    sys.stdout.write("a\nb\na\n")
    sys.stdout.flush()
    time.sleep(0.05)
EOF
    cat >"$T/run" <<EOF
trap : INT
stty -a >$T/before
sstream-source -b 200ms --exec "exec $PY $T/feed" |
    sstream-map --count-by-value | sstream-sink --top 3
echo "status \${PIPESTATUS[*]}" >$T/status
stty -a >$T/after
echo done
exec sleep 600
EOF
    live "bash $T/run"
    wait_screen "1 a"
    tm send-keys -t top C-c
    wait_screen "done"
    assert_equal "$(cat "$T/status")" "status 0 0 0"
    assert_equal "$(cat "$T/after")" "$(cat "$T/before")"
    # the alternate screen is left: the view is gone, "done" at the top
    assert_equal "$(screen)" "done"
}
