#!/usr/bin/env bats
# Allowed lateness: sstream-source --late-policy update sends a late record
# in an update frame of its own batch (man/sstream.5 UPDATES);
# sstream-window --allowed-lateness sends the windows holding it again,
# whole. Expected output from tests/helpers/lateness-model.py, a model
# written from the man pages.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    MODEL=$TESTS_DIR/helpers/lateness-model.py
    mkdir -p "$T/d"
    # 300 records, out of order by up to 5 s, some jumps ahead
    "$PY" - >"$T/d/log" <<'PY'
import random
random.seed(18)
t = 10000
for i in range(300):
    t += random.randint(0, 80) + random.choice([0] * 40 + [1500, 3000])
    j = random.choice([0, 0, 0, 200, 700, 1300, 2100, 3300, 5000])
    print("%d\t%s" % (t - j, random.choice("abcdefg")))
PY
}

# source ARGS...: the replayed log, 500ms batches, 1s max delay, updates
# within 2s, the word of each record
source_words() {
    sstream-source --replay "$T/d" -b 500ms --event-time 1 --max-delay 1s \
        --late-policy update "$@" | sstream-map --map field:2
}

# A small log: 2500 comes after 5000 (watermark 3000: batch 3000 updated),
# 900 is 2.1 s behind (beyond 1s).
small() {
    printf '%s\t%s\n' 1500 a 800 b 2100 c 1900 d 3500 e 1200 f 2999 g \
        5000 h 2500 i 900 j 4100 k
}

@test "lateness: a late record goes out in an update frame of its batch" {
    small >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --late-policy update --allowed-lateness 1s --late '$T/late' | sstream-sink --dump | grep -v '^  [0-9]'"
    assert_success
    assert_output - <<'EOF'
@0 batch time=1000 interval=1000 count=1 payload=6 flags=- closed=0
@62 batch time=2000 interval=1000 count=3 payload=21 flags=- closed=0
@139 batch time=3000 interval=1000 count=2 payload=14 flags=- closed=0
@209 batch time=3000 interval=1000 count=1 payload=7 flags=update closed=0
@272 batch time=4000 interval=1000 count=1 payload=7 flags=- closed=0
@335 batch time=5000 interval=1000 count=2 payload=14 flags=- closed=0
@405 end time=5000 interval=1000 count=0 payload=0 flags=- closed=0
EOF
    assert_equal "$stderr" "sstream-source: 2 late records, behind the watermark by 2100ms at most, 1300ms on average: 1 sent in update frames, 1 beyond --allowed-lateness kept in '$T/late'"
    assert_equal "$(cat "$T/late")" "$(printf '900\tj')"
    # version 2 for the update, 1 for the rest
    run bash -c "sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --late-policy update --allowed-lateness 1s 2>/dev/null | od -A n -t u1 -j 213 -N 1"
    assert_output "   2"
}

@test "lateness: the source's batches and updates match the model, the rest in --late" {
    LATE_OUT=$T/expect-late "$PY" "$MODEL" "$T/d/log" 500 1000 2000 >"$T/expect"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' -b 500ms --event-time 1 --max-delay 1s --late-policy update --allowed-lateness 2s --late '$T/late' | sstream-map --map field:2 | sstream-sink --print=100000 >'$T/got'"
    assert_success
    run diff "$T/expect" "$T/got"
    assert_success
    run diff "$T/expect-late" "$T/late"
    assert_success
    assert_equal "$(grep -c '(update: adds)' "$T/got")" 46
    assert_equal "$(wc -l <"$T/late")" 47
    assert_equal "$stderr" "sstream-source: 121 late records, behind the watermark by 3999ms at most, 2122ms on average: 74 sent in update frames, 47 beyond --allowed-lateness kept in '$T/late'"
}

@test "lateness: windows sent again whole match the model; beyond the lateness, rejects" {
    while read -r w s lw nrej; do
        REJECTS_OUT=$T/expect-rej "$PY" "$MODEL" "$T/d/log" 500 1000 2000 \
            "$w" "$s" "$lw" >"$T/expect"
        rm -f "$T/rej"
        run --separate-stderr bash -c "set -o pipefail; source_words() { sstream-source --replay '$T/d' -b 500ms --event-time 1 --max-delay 1s --late-policy update --allowed-lateness 2s | sstream-map --map field:2; }; source_words 2>/dev/null | sstream-window -w ${w}ms -s ${s}ms --count-by-value --allowed-lateness ${lw}ms --rejects '$T/rej' | sstream-sink --print=100000 >'$T/got'"
        assert_success
        run diff "$T/expect" "$T/got"
        assert_success
        assert_equal "$(cut -f2 "$T/rej")" "$(cat "$T/expect-rej")"
        assert_equal "$(wc -l <"$T/rej")" "$nrej"
    done <<'EOF'
2000 1000 1500 0
1500 500 500 0
3000 1500 2500 0
1000 1000 1000 11
EOF
    grep -q '(update: replaces)' "$T/got"
    assert_equal "${stderr%%$'\n'*}" "sstream-window: batch 8000, record 1: later than --allowed-lateness (every window holding its batch ended before that)"
}

@test "lateness: upserted, the windows equal those of the records in order" {
    # --max-delay 10s: nothing is late, every record in its batch; with
    # lateness 10s at both stages the updates must end at the same values
    # (a first record older than the rest: no late one is before the
    # first batch, which nothing downstream could update)
    { printf '5000\tz\n'; cat "$T/d/log"; } >"$T/log" && mv "$T/log" "$T/d/log"
    for mode in "--count-by-value" "--reduce-by-key sum" "--count" \
        "--reduce-by-key mean --no-inverse" "--group-by-key" ""; do
        pair=(--pair 1)
        case $mode in --count-by-value | --count | "") pair=(--map trim) ;; esac
        # shellcheck disable=SC2086
        sstream-source --replay "$T/d" -b 500ms --event-time 1 --max-delay 10s |
            sstream-map --map field:2 "${pair[@]}" |
            sstream-window -w 2s -s 1s $mode |
            sstream-sink --print=100000 | "$PY" "$MODEL" --upsert >"$T/ordered"
        # shellcheck disable=SC2086
        source_words --allowed-lateness 10s 2>/dev/null |
            sstream-map "${pair[@]}" |
            sstream-window -w 2s -s 1s $mode --allowed-lateness 10s \
                2>/dev/null | sstream-sink --print=100000 >"$T/print"
        grep -q '(update: replaces)' "$T/print"
        "$PY" "$MODEL" --upsert <"$T/print" >"$T/late"
        run diff "$T/ordered" "$T/late"
        assert_success
    done
}

@test "lateness: a log at full speed and one fed slowly give the same updates" {
    small >"$T/log"
    args=(--event-time 1 --max-delay 2s --late-policy update
        --allowed-lateness 1s)
    sstream-source "${args[@]}" <"$T/log" 2>/dev/null |
        sstream-map --map field:2 --pair 1 |
        sstream-window -w 2s --reduce-by-key count --allowed-lateness 2s |
        sstream-sink --print >"$T/fast"
    while read -r line; do
        printf '%s\n' "$line"
        sleep 0.05
    done <"$T/log" | sstream-source "${args[@]}" 2>/dev/null |
        sstream-map --map field:2 --pair 1 |
        sstream-window -w 2s --reduce-by-key count --allowed-lateness 2s |
        sstream-sink --print >"$T/slow"
    run cat "$T/slow"
    assert_output "$(cat "$T/fast")"
    assert_equal "$(grep -c 'update: replaces' "$T/fast")" 1
}

@test "lateness: stages that cannot fold an update in stop with one line" {
    small >"$T/d/log"
    src="sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --late-policy update --allowed-lateness 1s 2>/dev/null"
    run --separate-stderr bash -c "$src | sstream-map --pair 1 | sstream-state --update count --checkpoint '$T/ck' | sstream-sink --tsv"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-state: stdin: update frame for batch 3000 at byte offset 305: sstream-state does not take updates (late records for a batch already sent, sstream(5) UPDATES; they come from --late-policy update or --allowed-lateness upstream)"
    run --separate-stderr bash -c "$src | sstream-map --count | sstream-sink --tsv"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-map: stdin: update frame for batch 3000: --count does not take updates (late records for a batch already sent); only steps on one record at a time do"
    run --separate-stderr bash -c "$src | sstream-window -w 2s --count | sstream-sink --tsv"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: stdin: update frame for batch 3000 at byte offset 209: sstream-window does not take updates (late records for a batch already sent, sstream(5) UPDATES; they come from --late-policy update or --allowed-lateness upstream)"
    # a window's updates replace: not for a window after it
    run --separate-stderr bash -c "$src | sstream-window -w 1s --count --allowed-lateness 1s 2>/dev/null | sstream-window -w 2s --reduce sum --allowed-lateness 2s | sstream-sink --tsv"
    assert_failure 1
    assert_equal "${stderr%%$'\n'*}" "sstream-window: stdin: update frame for batch 3000 replaces the batch: a window takes late records that add to one (sstream-source --late-policy update)"
    run --separate-stderr bash -c "$src | sstream-sink --commit '$T/wal'"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: stdin: update frame for batch 3000: --commit does not take updates (late records for a batch already sent); use --print, --lines, --tsv, --json, --save-as-text-files or --foreach"
}

@test "lateness: the Python stage of sstream(5) passes update frames through" {
    sed -n '/^\.\\" example-begin upper\.py$/,/^\.\\" example-end upper\.py$/p' \
        "$REPO/man/sstream.5" | sed -e '1,2d' -e '$d' | sed '$d' |
        sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' >"$T/upper.py"
    small >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --late-policy update --allowed-lateness 1s | '$PY' '$T/upper.py' | sstream-sink --print | sed -n '/update/,/^\$/p'"
    assert_success
    assert_output - <<'EOF'
Time: 3000 ms (update: adds)
-------------------------------------------
2500	I

EOF
}

@test "lateness: files are written again, --foreach is told" {
    small >"$T/d/log"
    sstream-source --replay "$T/d" --event-time 1 --max-delay 2s \
        --late-policy update --allowed-lateness 1s 2>/dev/null |
        sstream-sink --save-as-text-files "$T/out/b" \
            --foreach 'echo "$SSTREAM_BATCH_TIME ${SSTREAM_BATCH_UPDATE:-batch} $(wc -l)" >>'"'$T/runs'" \
            >/dev/null
    assert_equal "$(cat "$T/out/b-3000")" "$(printf '2100\tc\n2999\tg\n2500\ti')"
    run cat "$T/runs"
    assert_output - <<'EOF'
1000 batch 1
2000 batch 3
3000 batch 2
3000 add 1
4000 batch 1
5000 batch 2
EOF
    # a window's update replaces the file
    sstream-source --replay "$T/d" --event-time 1 --max-delay 2s \
        --late-policy update --allowed-lateness 1s 2>/dev/null |
        sstream-window -w 1s --count --allowed-lateness 1s 2>/dev/null |
        sstream-sink --save-as-text-files "$T/win/c" --dump >"$T/dump"
    assert_equal "$(cat "$T/win/c-3000")" 3
    grep -q 'time=3000 .*flags=update,whole' "$T/dump"
}

@test "lateness: usage errors exit 2 with one line" {
    run --separate-stderr sstream-source --event-time 1 --allowed-lateness 1s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --allowed-lateness and --late-policy update: go together (how late a record may be and still update its batch)"
    run --separate-stderr sstream-source --event-time 1 --late-policy update
    assert_failure 2
    run --separate-stderr sstream-source --allowed-lateness 1s
    assert_failure 2
    run --separate-stderr sstream-source --event-time 1 --late-policy update --allowed-lateness 1x
    assert_failure 2
    mkdir -p "$T/d"
    run --separate-stderr sstream-source --replay "$T/d" --wal "$T/wal" --event-time 1 --late-policy update --allowed-lateness 1s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --late-policy update: not with --wal (update frames are not kept in the log; use --late-policy file)"
    run --separate-stderr sstream-window -w 2s --allowed-lateness 1s --checkpoint "$T/ck"
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --allowed-lateness: not with --checkpoint (yet: the batches it keeps are not in the checkpoint)"
    run --separate-stderr sstream-window -w 2s --reduce-exec 'awk 1' --allowed-lateness 1s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --allowed-lateness: not with --reduce-exec (yet)"
    run --separate-stderr sstream-window --session-gap 2s --count-by-value --allowed-lateness 1s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-window: --allowed-lateness is for sliding windows"
}

@test "lateness: update flags that do not match the frame's version are corrupt" {
    small >"$T/d/log"
    sstream-source --replay "$T/d" --event-time 1 --max-delay 2s \
        --late-policy update --allowed-lateness 1s 2>/dev/null >"$T/frames"
    # the first frame (version 1) with UPDATE, then the update (at 209,
    # version 2) without it, checksums made right again
    for at in "0 20 8" "209 20 0" "0 4 2"; do
        "$PY" - "$T/frames" $at >"$T/bad" <<'PY'
import struct, sys, xxhash
data = bytearray(open(sys.argv[1], "rb").read())
at, off, val = (int(a) for a in sys.argv[2:5])
if off == 4:
    data[at + 4] = val
else:
    struct.pack_into("<I", data, at + off, val)
hlen = struct.unpack_from("<H", data, at + 6)[0]
plen = struct.unpack_from("<Q", data, at + 32)[0]
struct.pack_into("<Q", data, at + 40, 0)
frame = bytes(data[at:at + hlen + plen])
struct.pack_into("<Q", data, at + 40, xxhash.xxh64(frame).intdigest())
sys.stdout.buffer.write(data)
PY
        run --separate-stderr sstream-sink --dump <"$T/bad"
        assert_failure 1
        assert_equal "$stderr" "sstream-sink: stdin: corrupt frame at byte offset ${at%% *}: update flags do not match the version"
    done
}
