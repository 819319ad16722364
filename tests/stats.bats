#!/usr/bin/env bats
# Monitoring and flow control: --stats, --stats-file, the summary at exit
# and on SIGUSR1, the sink's falling-behind warning and --progress, the
# stage trail, and the source's batch limits. Replay wherever the clock
# is not the feature.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    batches "$T/d" "hello big world" - "a b"
}

# json_rows FILE: the --stats-file objects, checked field by field, as
# "stage time in out bytes_in bytes_out sched [e2e] [keys]" sorted by
# stage order and time; the times that the clock decides are only
# checked for their type.
json_rows() {
    "$PY" - "$1" <<'PY'
import json, sys
order = {"source": 0, "map": 1, "window": 2, "state": 3, "sink": 4}
need = ["stage", "time", "wall_ms", "records_in", "records_out",
        "bytes_in", "bytes_out", "processing_ms", "scheduling_delay_ms"]
rows = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    for k in need:
        assert k in o, (k, o)
    assert isinstance(o["processing_ms"], int) and o["processing_ms"] >= 0
    assert isinstance(o["wall_ms"], int)
    extra = []
    if o["stage"] == "sink":
        extra.append(str(o["end_to_end_ms"]))
    if "state_keys" in o:
        extra.append("keys=%d" % o["state_keys"])
    rows.append((order[o["stage"]], o["time"], " ".join(
        [o["stage"], str(o["time"]), str(o["records_in"]),
         str(o["records_out"]), str(o["bytes_in"]), str(o["bytes_out"]),
         str(o["scheduling_delay_ms"])] + extra)))
for _, _, r in sorted(rows):
    print(r)
PY
}

@test "stats: --stats-file gives one JSON object per batch per stage, counts exact" {
    run bash -c "set -o pipefail
        sstream-source --replay '$T/d' --stats-file '$T/s.json' |
        sstream-map -f words --filter-out '^b' --stats-file '$T/s.json' |
        sstream-sink --tsv --stats-file '$T/s.json'"
    assert_success
    assert_output "$(printf '1000\thello\n1000\tworld\n3000\ta')"
    run json_rows "$T/s.json"
    assert_success
    # source: record bytes in, frame bytes out (56-byte headers); map: 16
    # bytes of stage trail and 12 of ingest field on each frame out; sink:
    # the text it wrote.
    # Replay has no close time: the delays are null (None).
    assert_output - <<'EOF'
source 1000 3 3 13 72 None
source 2000 0 0 0 56 None
source 3000 2 2 2 60 None
map 1000 3 2 72 96 None
map 2000 0 0 56 84 None
map 3000 2 1 60 86 None
sink 1000 2 2 96 22 None None
sink 2000 0 0 84 0 None None
sink 3000 1 1 86 7 None None
EOF
}

@test "stats: --stats prints a line per batch and the summary at exit" {
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-map --map lower --stats |
        sstream-sink --lines"
    assert_success
    assert_output "$(printf 'hello\nbig\nworld\na\nb')"
    assert_equal "$(sed 's/processing [0-9]* ms/processing N ms/' <<<"$stderr")" "$(printf '%s\n' \
        "sstream-map: batch 1000: records 3 in 3 out, bytes 72 in 100 out, processing N ms, scheduling delay -" \
        "sstream-map: batch 2000: records 0 in 0 out, bytes 56 in 84 out, processing N ms, scheduling delay -" \
        "sstream-map: batch 3000: records 2 in 2 out, bytes 60 in 88 out, processing N ms, scheduling delay -" \
        "sstream-map: 3 batches, 5 records in, 5 out, 0 rejects, 0 replays skipped")"
}

@test "stats: the summary counts rejects, and the sink's --stats has end-to-end" {
    batches "$T/n" "1 x 2" - "4"
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/n' | sstream-map -r sum --rejects '$T/rej' --stats 2>/dev/null |
        sstream-sink --tsv --stats"
    assert_success
    assert_output "$(printf '1000\t3\n3000\t4')"
    assert_equal "$(cat "$T/rej")" "x"
    assert_equal "$(grep -c 'end-to-end delay -$' <<<"$stderr")" 3
    assert_equal "$(tail -1 <<<"$stderr")" "sstream-sink: 3 batches, 2 records in, 2 out, 0 rejects, 0 replays skipped"
    run --separate-stderr bash -c "sstream-source --replay '$T/n' | sstream-map -r sum --stats >/dev/null"
    assert_failure 1
    assert_equal "$(tail -2 <<<"$stderr")" "$(printf '%s\n' \
        "sstream-map: 1 rejected record not kept (use --rejects FILE)" \
        "sstream-map: 3 batches, 4 records in, 2 out, 1 reject, 0 replays skipped")"
}

@test "stats: live batches carry their close time: delays are measured" {
    run --separate-stderr bash -c "set -o pipefail
        { echo a; sleep 0.3; echo b; } | sstream-source -b 100ms |
        sstream-map --map upper | sstream-sink --lines --stats-file '$T/s.json'"
    assert_success
    assert_output "$(printf 'A\nB')"
    run "$PY" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(isinstance(r["end_to_end_ms"], int) and r["end_to_end_ms"] >= 0
           for r in rows), rows
assert all(isinstance(r["scheduling_delay_ms"], int) for r in rows), rows
print(sum(r["records_in"] for r in rows))' "$T/s.json"
    assert_success
    assert_output "2"
}

@test "stats: a stage slower than the interval makes the sink warn, naming it" {
    # Live input: 12 lines over 1.2 s in 200ms batches; the map stage
    # takes 300ms a batch, so batches queue up behind it.
    run --separate-stderr bash -c "set -o pipefail
        for i in \$(seq 1 12); do echo \$i; sleep 0.1; done |
        sstream-source -b 200ms | sstream-map --exec 'sleep 0.3; cat' |
        sstream-sink --lines --stats"
    assert_success
    assert_output "$(seq 1 12)"
    warn=$(grep 'falling behind' <<<"$stderr")
    assert_equal "$(wc -l <<<"$warn")" 1
    [[ $warn =~ ^"sstream-sink: falling behind: batches take longer than the 200 ms interval (3 in a row); slowest stage: #1 map, "[0-9]+" ms for batch "[0-9]+$ ]]
    # the map stage's time, as the sink read it from the trail
    ms=$(sed 's/.*#1 map, \([0-9]*\) ms.*/\1/' <<<"$warn")
    [ "$ms" -ge 290 ]
}

@test "stats: the slowest of several stages is the one named" {
    run --separate-stderr bash -c "set -o pipefail
        for i in \$(seq 1 10); do echo \$i; sleep 0.1; done |
        sstream-source -b 200ms | sstream-map --map upper |
        sstream-map --exec 'sleep 0.3; cat' | sstream-map --map lower |
        sstream-sink --lines --stats-file /dev/null"
    assert_success
    assert_output "$(seq 1 10)"
    [[ $stderr =~ "slowest stage: #2 map, " ]]
}

@test "stats: a fast pipeline never warns" {
    run --separate-stderr bash -c "set -o pipefail
        for i in \$(seq 1 12); do echo \$i; sleep 0.1; done |
        sstream-source -b 200ms | sstream-map --exec cat |
        sstream-sink --lines --stats"
    assert_success
    assert_output "$(seq 1 12)"
    refute [ -z "$stderr" ]
    run grep -c 'falling behind' <<<"$stderr"
    assert_output 0
}

@test "stats: the stage trail shows in --dump and passes the Python stage" {
    run bash -c "sstream-source --replay '$T/d' | sstream-map -f words |
        sstream-map --filter o | sstream-sink --dump | grep trail |
        sed 's/=[0-9]*ms/=Nms/g'"
    assert_success
    assert_output "$(printf '  trail: map=Nms map=Nms\n%.0s' 1 2 3)"
    # The man page's Python stage skips the trail (header_len) and writes
    # none: the stream stays correct, the trail restarts after it.
    sed -n '/^\.\\" example-begin upper\.py$/,/^\.\\" example-end upper\.py$/p' \
        "$REPO/man/sstream.5" | sed -e '1,2d' -e '$d' | sed '$d' |
        sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' >"$T/upper.py"
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-map -f words |
        '$PY' '$T/upper.py' | sstream-map --map lower | sstream-sink --dump |
        grep -c 'trail: map=[0-9]*ms$'"
    assert_success
    assert_output 3
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-map -f words |
        '$PY' '$T/upper.py' | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\tHELLO\n1000\tBIG\n1000\tWORLD\n3000\tA\n3000\tB')"
    assert_equal "$stderr" ""
}

@test "stats: a trail of 8 stages drops the oldest entry for the next" {
    run bash -c "sstream-source --replay '$T/d' | sstream-map --map upper |
        sstream-map -f words | sstream-map --map lower | sstream-map --map upper |
        sstream-map --map lower | sstream-map --map upper | sstream-map --map lower |
        sstream-map --map upper | sstream-map --map lower | sstream-sink --dump |
        grep -m1 trail | tr ' ' '\n' | grep -c '^map='"
    assert_success
    assert_output 8
}

@test "stats: kill -USR1 prints the summary at once and the pipeline goes on" {
    mkfifo "$T/f1" "$T/f2"
    { echo a; sleep 1.2; echo b; } | sstream-source -b 100ms >"$T/f1" 2>"$T/src.err" &
    local src=$!
    sstream-map --map upper <"$T/f1" >"$T/f2" 2>"$T/map.err" &
    local map=$!
    sstream-sink --lines <"$T/f2" >"$T/out" 2>"$T/sink.err" &
    local sink=$!
    sleep 0.6
    kill -USR1 "$src" "$map" "$sink"
    sleep 0.2
    # said at once, while the stream is still running (b comes at 1.2 s)
    [[ $(cat "$T/src.err") =~ ^"sstream-source: "[0-9]+" batches, 1 record in, 1 out, 0 rejects, 0 replays skipped"$ ]]
    [[ $(cat "$T/map.err") =~ ^"sstream-map: "[0-9]+" batches, 1 record in, 1 out, 0 rejects, 0 replays skipped"$ ]]
    [[ $(cat "$T/sink.err") =~ ^"sstream-sink: "[0-9]+" batches, 1 record in, 1 out, 0 rejects, 0 replays skipped"$ ]]
    wait "$src"
    wait "$map"
    wait "$sink"
    assert_equal "$(cat "$T/out")" "$(printf 'A\nB')"
    assert_equal "$(wc -l <"$T/sink.err")" 1
}

@test "stats: --progress draws the ingest rate in place on a terminal and clears it" {
    # script(1) gives the pipeline a terminal; the sink's stdout is a file.
    # The rate is the source's (3 records in the first 1 s batch), not the
    # one count per batch that reaches the sink.
    run script -qec "sstream-source --replay '$T/d' | sstream-map --count | sstream-sink --lines --progress >'$T/out'" /dev/null
    assert_success
    assert_equal "$(cat "$T/out")" "$(printf '3\n0\n2')"
    [[ $output == $'\r'"sstream-sink: batch 1000: 1 batch, ingest 3 records/s, delay -"$'\e[K'* ]]
    [[ $output == *$'\r\e[K' ]]
}

@test "stats: --progress is a plain line per batch when stderr is not a terminal" {
    # after a count: the source's records/s (records / interval), from
    # the ingest field the map stage wrote
    run --separate-stderr bash -c "sstream-source -b 500ms --replay '$T/d' | sstream-map --count | sstream-sink --lines --progress"
    assert_success
    assert_output "$(printf '3\n0\n2')"
    assert_equal "$stderr" "sstream-sink: batch 500: 1 batch, ingest 6 records/s, delay -
sstream-sink: batch 1000: 2 batches, ingest 0 records/s, delay -
sstream-sink: batch 1500: 3 batches, ingest 4 records/s, delay -"
    # right after the source, the sink's own input is what it read; after
    # a window, the rate of the batch that closed the window
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-sink --lines --progress >/dev/null"
    assert_success
    assert_equal "$stderr" "sstream-sink: batch 1000: 1 batch, ingest 3 records/s, delay -
sstream-sink: batch 2000: 2 batches, ingest 0 records/s, delay -
sstream-sink: batch 3000: 3 batches, ingest 2 records/s, delay -"
    batches "$T/w" "a" "b c"
    run --separate-stderr bash -c "sstream-source --replay '$T/w' | sstream-window -w 2s -s 2s --count | sstream-sink --lines --progress"
    assert_success
    assert_output 3
    assert_equal "$stderr" "sstream-sink: batch 2000: 1 batch, ingest 2 records/s, delay -"
}

@test "stats: --max-batch-records holds each batch to N records, none lost" {
    run bash -c "set -o pipefail
        seq 1 25 | sstream-source -b 300ms --max-batch-records 10 |
        sstream-sink --tsv | cut -f1 | uniq -c | awk '{print \$1}'"
    assert_success
    assert_output "$(printf '10\n10\n5')"
    run bash -c "seq 1 25 | sstream-source -b 300ms --max-batch-records 10 | sstream-sink --lines"
    assert_output "$(seq 1 25)"
}

@test "stats: --max-batch-bytes stops a batch at the record that crosses N" {
    run bash -c "set -o pipefail
        printf 'aaaa\n%.0s' \$(seq 1 10) |
        sstream-source -b 300ms --max-batch-bytes 10 |
        sstream-sink --tsv | cut -f1 | uniq -c | awk '{print \$1}'"
    assert_success
    assert_output "$(printf '3\n3\n3\n1')"
}

@test "stats: --max-rate 100 over 500 records takes about 5 intervals" {
    # The clock is the feature: 100 records a second, 1s batches; the
    # first batch ends on the second boundary after the start (1 to 2 s),
    # the records on the fifth second: 4 or 5 batches, more when slow.
    run bash -c "set -o pipefail
        seq 1 500 | sstream-source -b 1s --max-rate 100 |
        sstream-sink --tsv | cut -f1 | uniq -c | awk '{print \$1}'"
    assert_success
    local n=0 total=0 c
    for c in $output; do
        n=$((n + 1))
        total=$((total + c))
        [ "$c" -le $((n == 1 ? 220 : 120)) ]
    done
    assert_equal "$total" 500
    [ "$n" -ge 4 ] && [ "$n" -le 7 ]
}

@test "stats: usage errors exit 2 with a message" {
    local bin
    for bin in "sstream-source --replay $T/d" "sstream-map --count" sstream-sink; do
        run --separate-stderr $bin --stats-file ''
        assert_failure 2
        assert_equal "$stderr" "${bin%% *}: --stats-file: empty path"
        run --separate-stderr $bin --stats=1
        assert_failure 2
        assert_equal "$(head -1 <<<"$stderr")" "${bin%% *}: option '--stats' doesn't allow an argument"
    done
    run --separate-stderr sstream-source --max-batch-records 0
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --max-batch-records: '0' is not a whole number from 1 to 4294967295"
    run --separate-stderr sstream-source --max-batch-bytes 1x
    assert_failure 2
    assert_equal "$stderr" "sstream-source: --max-batch-bytes: '1x' is not a size (try 4096, 64k or 1M)"
    run --separate-stderr sstream-source --replay "$T/d" --max-batch-records 5
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-source: --max-batch-records: not with --replay (a replay batch is one whole file)"
    run --separate-stderr sstream-sink --progress=1
    assert_failure 2
    run --separate-stderr bash -c "sstream-source --replay '$T/d' | sstream-sink --stats-file '$T/no/such/file'"
    assert_failure 1
    assert_equal "$stderr" "sstream-sink: --stats-file: cannot open '$T/no/such/file': No such file or directory"
}

@test "stats: sstream-state reports its keys, and replays skipped on a rerun" {
    for run in 1 2; do
        run --separate-stderr bash -c "set -o pipefail
            sstream-source --replay '$T/d' | sstream-map -f words --pair 1 |
            sstream-state --update sum --checkpoint '$T/ck' --stats --stats-file '$T/s$run.json' |
            sstream-sink --tsv"
        assert_success
        assert_equal "${#lines[@]}" 11
    done
    run json_rows "$T/s1.json"
    assert_output - <<'EOF2'
state 1000 3 3 106 118 None keys=3
state 2000 0 3 84 118 None keys=3
state 3000 2 5 92 126 None keys=5
EOF2
    # the rerun is all replays: the state stays, the output comes again
    assert_equal "$(tail -1 <<<"$stderr")" "sstream-state: 3 batches, 5 records in, 11 out, 0 rejects, 3 replays skipped"
    run --separate-stderr sstream-state --update sum --no-checkpoint --stats-file ''
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-state: --stats-file: empty path"
}

@test "stats: sstream-window reports the keys in its window" {
    run --separate-stderr bash -c "set -o pipefail
        sstream-source --replay '$T/d' | sstream-map -f words --pair 1 |
        sstream-window -w 2s --reduce-by-key sum --stats --stats-file '$T/s.json' |
        sstream-sink --tsv"
    assert_success
    assert_equal "${#lines[@]}" 8
    assert_equal "$(tail -1 <<<"$stderr")" "sstream-window: 3 batches, 5 records in, 8 out, 0 rejects, 0 replays skipped"
    run json_rows "$T/s.json"
    assert_output - <<'EOF2'
window 1000 3 3 106 118 None keys=3
window 2000 0 3 84 118 None keys=3
window 3000 2 2 92 104 None keys=2
EOF2
    run --separate-stderr sstream-window -w 2 --count --stats-file ''
    assert_failure 2
    assert_equal "$(head -1 <<<"$stderr")" "sstream-window: --stats-file: empty path"
}

@test "stats: every stage passes the close time on: the sink measures end to end" {
    run --separate-stderr bash -c "set -o pipefail
        { echo a b; sleep 0.3; echo a; } | sstream-source -b 100ms |
        sstream-map -f words --pair 1 | sstream-window -w 200ms --reduce-by-key sum |
        sstream-state --update sum --no-checkpoint --emit updated |
        sstream-sink --dump --stats-file '$T/s.json' | grep -c 'closed=0'"
    assert_output 0
    run "$PY" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(isinstance(r["end_to_end_ms"], int) for r in rows), rows
print("ok")' "$T/s.json"
    assert_output ok
}

@test "stats: a trail count the header cannot hold is ignored, not the frame" {
    sstream-source --replay "$T/d" >"$T/frames"
    # header_len 64 with trail_count 1 (which needs 76): a writer that
    # used byte 56 for something else; the checksum covers all 64 bytes.
    "$PY" - "$T/frames" >"$T/odd" <<'PY'
import struct, sys, xxhash
data, out, i = open(sys.argv[1], "rb").read(), sys.stdout.buffer, 0
while i < len(data):
    plen = struct.unpack_from("<Q", data, i + 32)[0]
    head = bytearray(data[i:i + 56]) + b"\x01\0\0\0ABCD"
    payload = data[i + 56:i + 56 + plen]
    struct.pack_into("<H", head, 6, 64)
    struct.pack_into("<Q", head, 40, 0)
    struct.pack_into("<Q", head, 40, xxhash.xxh64(bytes(head) + payload).intdigest())
    out.write(bytes(head) + payload)
    i += 56 + plen
PY
    run --separate-stderr bash -c "sstream-sink --dump --stats <'$T/odd' | grep -c trail"
    assert_output 0
    run --separate-stderr bash -c "sstream-map --map upper <'$T/odd' | sstream-sink --dump | grep trail | sed 's/=[0-9]*ms/=Nms/'"
    assert_success
    assert_output "$(printf '  trail: map=Nms\n%.0s' 1 2 3)"
}
