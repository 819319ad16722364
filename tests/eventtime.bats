#!/usr/bin/env bats
# Event time: sstream-source --event-time puts each record in the batch of
# its own time; the watermark (largest time - --max-delay) sends batches;
# late records are counted and kept, dropped or put in the next batch.

load helpers/common

setup() {
    T=$BATS_TEST_TMPDIR
    mkdir -p "$T/d"
    PIDS=()
}

teardown() {
    # a producer still waiting for its go (a test that failed early)
    [ -p "$T/go" ] && timeout 2 sh -c "echo >'$T/go'" 2>/dev/null
    kill_bg
}

# Times in ms, out of order; tab-separated: time, word.
ooo() {
    printf '%s\t%s\n' 1500 a 800 b 2100 c 1900 d 3500 e 1200 f 2999 g 5000 h 2500 i
}

@test "eventtime: out-of-order records land in the batches of their times" {
    ooo >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s | sstream-sink --tsv"
    assert_success
    # 1200 comes after the watermark reached 1500 (3500 - 2s): its batch,
    # 2000, is still open. 2500 comes after 5000: the watermark is 3000,
    # batch 3000 has gone out: late, dropped by default, and said.
    assert_output - <<'EOF2'
1000	800	b
2000	1500	a
2000	1900	d
2000	1200	f
3000	2100	c
3000	2999	g
4000	3500	e
5000	5000	h
EOF2
    assert_equal "$stderr" "sstream-source: 1 late record, behind the watermark by 500ms at most, 500ms on average: dropped (--late FILE keeps them)"
}

@test "eventtime: the batches match an independent model, late records in the late file" {
    "$PY" - "$T/d/log" "$T/expect" "$T/expect-late" <<'PY'
import random, sys
random.seed(18)
rows, t = [], 10000
for i in range(400):
    t += random.randint(0, 60) + random.choice([0] * 40 + [2200, 4000])
    jitter = random.choice([0, 0, 0, 300, 900, 1700, 2600])
    rows.append((t - jitter, "r%d" % i))
open(sys.argv[1], "w").write("".join("%d\t%s\n" % r for r in rows))
# the model: batch = first multiple of 500 at or after t; late when the
# watermark (max seen - 1500) has reached the batch's end
iv, delay, wm, mx = 500, 1500, None, None
batches, late = {}, []
for t, v in rows:
    b = -(-t // iv) * iv
    if wm is not None and b <= wm:
        late.append("%d\t%s" % (t, v))
        continue
    batches.setdefault(b, []).append("%d\t%s" % (t, v))
    if mx is None or t > mx:
        mx = t
        wm = mx - delay
out = []
for b in range(min(batches), max(batches) + iv, iv):
    out += ["%d\t%s" % (b, r) for r in batches.get(b, [])]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
open(sys.argv[3], "w").write("\n".join(late) + "\n")
PY
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' -b 500ms --event-time 1 --max-delay 1500ms --late '$T/late' | sstream-sink --tsv >'$T/got'"
    assert_success
    run diff "$T/expect" "$T/got"
    assert_success
    run diff "$T/expect-late" "$T/late"
    assert_success
    [ "$(wc -l <"$T/late")" -gt 5 ]
}

@test "eventtime: a log at full speed and one fed slowly give the same batches" {
    ooo >"$T/log"
    sstream-source --event-time 1 --max-delay 2s <"$T/log" 2>/dev/null |
        sstream-sink --tsv >"$T/fast"
    while read -r line; do
        printf '%s\n' "$line"
        sleep 0.1
    done <"$T/log" | sstream-source --event-time 1 --max-delay 2s 2>/dev/null |
        sstream-sink --tsv >"$T/slow"
    run cat "$T/slow"
    assert_output "$(cat "$T/fast")"
    assert_line --index 0 "$(printf '1000\t800\tb')"
    [ "${#lines[@]}" -eq 8 ]
}

@test "eventtime: a jump ahead sends the batches it passes, its own stays open" {
    printf '%s\t%s\n' 1500 a 1100 b 3200 c 8000 d 6100 e 7500 f >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s | sstream-sink --tsv"
    assert_success
    assert_output - <<'EOF2'
2000	1500	a
2000	1100	b
4000	3200	c
7000	6100	e
8000	8000	d
8000	7500	f
EOF2
}

@test "eventtime: sessions downstream count in event time" {
    printf '%s\t%s\n' 1500 ann 1100 bob 3200 ann 900 ann 2500 bob 9000 ann 6100 bob >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --late '$T/late' | sstream-map -F '\t' --value-field 2 --pair 1 | sstream-window --session-gap 2s --reduce-by-key count | sstream-sink --tsv"
    assert_success
    # 900 comes when the watermark is 1200, 6100 when it is 7000: late;
    # ann's first session is 1500 and 3200 (batches 2000 to 4000), closed
    # at 6000; the stream ends before the later sessions close
    assert_output "$(printf '5000\tbob\t2000\t3000\t2\n6000\tann\t2000\t4000\t2')"
    assert_equal "$(cat "$T/late")" "$(printf '900\tann\n6100\tbob')"
}

@test "eventtime: windows downstream count in event time" {
    ooo >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s | sstream-window -w 2s -s 2s --count | sstream-sink --tsv"
    assert_success
    # the stream ends with batch 5000: window (4000, 6000] never closes
    assert_output "$(printf '2000\t4\n4000\t3')"
}

@test "eventtime: --late-policy next-batch puts a late record in the next batch" {
    ooo >"$T/d/log"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --late-policy next-batch | sstream-sink --tsv | tail -2"
    assert_success
    # 2500 comes after 5000 (batches up to 3000 sent): into batch 4000
    assert_output "$(printf '4000\t2500\ti\n5000\t5000\th')"
    assert_equal "$stderr" "sstream-source: 1 late record, behind the watermark by 500ms at most, 500ms on average: put in the next batch"
}

@test "eventtime: time formats: epoch-s, iso8601 with offsets, strptime" {
    printf 't,v\n1.5,a\n2,b\n0.25,c\n' >"$T/d/1"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format csv --event-time t --time-format epoch-s --max-delay 5s | sstream-map --value v | sstream-sink --tsv"
    assert_output "$(printf '1000\tc\n2000\ta\n2000\tb')"
    rm "$T/d/1"
    printf '{"at":"2022-12-19T18:14:10.5Z"}\n{"at":"2022-12-19 19:14:11+01:00"}\n{"at":"2022-12-19T20:14:12+0200"}\n' >"$T/d/1"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --format json --event-time at --time-format iso8601 | sstream-sink --tsv | cut -f1"
    assert_output "$(printf '1671473651000\n1671473651000\n1671473652000')"
    rm "$T/d/1"
    printf '19/Dec/2022:18:14:10 +0000\tGET\n19/Dec/2022:19:14:12 +0100\tPUT\n' >"$T/d/1"
    run bash -c "set -o pipefail; sstream-source --replay '$T/d' --event-time 1 --time-format '%d/%b/%Y:%H:%M:%S %z' | sstream-sink --tsv | cut -f1,3"
    assert_output "$(printf '1671473650000\tGET\n1671473652000\tPUT')"
    # no 29 February in 2022: a reject, not 1 March
    printf '{"at":"2022-02-29T00:00:00Z"}\n{"at":"2024-02-29T00:00:00Z"}\n' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --format json --event-time at --time-format iso8601 --rejects '$T/rej' | sstream-sink --tsv | cut -f1"
    assert_output 1709164800000
    assert_equal "${stderr%%$'\n'*}" "sstream-source: $T/d/1: line 1: --event-time: '2022-02-29T00:00:00Z' is not a time in the --time-format"
}

@test "eventtime: a record without its time is a reject with its line" {
    printf 't,v\n1000,a\n,b\nsoon,c\n2000,d\n' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --format csv --event-time t --rejects '$T/rej' | sstream-map --value v | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '1000\ta\n2000\td')"
    assert_equal "$stderr" "sstream-source: $T/d/1: line 3: --event-time: '' is not a time in the --time-format
sstream-source: $T/d/1: line 4: --event-time: 'soon' is not a time in the --time-format
sstream-source: 2 rejected records kept in '$T/rej'"
    printf 'v\nx\n' >"$T/d/1"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --format csv --event-time t --rejects '$T/rej' | sstream-sink --tsv"
    assert_equal "${stderr%%$'\n'*}" "sstream-source: $T/d/1: line 2: --event-time: no field 't'"
}

@test "eventtime: --stats counts late records per batch and in the summary" {
    ooo >"$T/d/log"
    run --separate-stderr bash -c "sstream-source --replay '$T/d' --event-time 1 --max-delay 2s --stats-file '$T/s.json' --stats >/dev/null"
    assert_success
    run grep -o '"time":[0-9]*,\|"late":[0-9]*' "$T/s.json"
    assert_output - <<'EOF2'
"time":1000,
"late":0
"time":2000,
"late":0
"time":3000,
"late":0
"time":4000,
"late":1
"time":5000,
"late":0
EOF2
    assert_equal "$(grep -c 'late' <<<"$stderr")" 7
    assert_equal "${stderr##*$'\n'}" "sstream-source: 5 batches, 8 records in, 8 out, 0 rejects, 1 late, 0 replays skipped"
}

@test "eventtime: --idle-timeout sends the open batches of a silent stream" {
    mkfifo "$T/go"
    # the producer sends one record, then stays silent until its go
    bash -c "{ printf '1500\tx\n'; read -r _ <'$T/go'; } |
        sstream-source --event-time 1 --max-delay 10s --idle-timeout 200ms |
        sstream-sink --tsv >'$T/out'" 3>&- &
    PIDS+=($!)
    wait_lines "$T/out" 1
    run cat "$T/out"
    assert_output "$(printf '2000\t1500\tx')"
    echo >"$T/go"
    wait "${PIDS[0]}"
    rm "$T/go"
}

@test "eventtime: with --state a later run never sends a batch time again" {
    mkdir "$T/w"
    printf '1500\ta\n2500\tb\n' >"$T/w/f1"
    run bash -c "set -o pipefail; sstream-source --watch '$T/w' --once --settle 50ms --state '$T/st' --event-time 1 | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '2000\t1500\ta\n3000\t2500\tb')"
    # 2100 belongs in batch 3000, which the first run sent: late
    printf '2100\tc\n3100\td\n' >"$T/w/f2"
    run --separate-stderr bash -c "set -o pipefail; sstream-source --watch '$T/w' --once --settle 50ms --state '$T/st' --event-time 1 --late '$T/late' | sstream-sink --tsv"
    assert_success
    assert_output "$(printf '4000\t3100\td')"
    assert_equal "$(cat "$T/late")" "$(printf '2100\tc')"
    assert_equal "$stderr" "sstream-source: 1 late record, behind the watermark by 900ms at most, 900ms on average: kept in '$T/late'"
}

@test "eventtime: usage errors exit 2 with one line" {
    run --separate-stderr sstream-source --max-delay 2s
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --time-format, --max-delay, --idle-timeout, --late, --late-policy and --allowed-lateness: need --event-time"
    run --separate-stderr sstream-source --event-time ts
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --event-time: 'ts' is a field name: needs --format (a number N takes the Nth tab-separated field)"
    run --separate-stderr sstream-source --event-time 1 --late-policy file
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --late-policy file: needs --late FILE"
    run --separate-stderr sstream-source --event-time 1 --wal "$T/w"
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --wal: with --event-time, needs --replay (after a crash the open batches are rebuilt by reading the input again)"
    run --separate-stderr sstream-source --event-time 1 --time-format week
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --time-format: unknown format 'week' (try epoch-ms, epoch-s, iso8601 or a strptime format with %)"
    run --separate-stderr sstream-source --event-time 1 --max-delay 24h -b 1ms
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --max-delay: more than 1048576 batch intervals (-b)"
    run --separate-stderr sstream-source --event-time 1 --late-policy later
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" "sstream-source: --late-policy: unknown policy 'later' (try drop, file, next-batch or update)"
}
