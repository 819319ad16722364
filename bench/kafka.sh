#!/usr/bin/env bash
# bench/kafka.sh - Kafka in and out, against kcat on the same mock
# cluster (build/tests/kafka-mock: 3 brokers, 4 partitions) in the same
# run: N messages of 4 words each (KAFKA_MESSAGES, 300000) are produced
# once, then
#
#   read:  kcat -C ... | wc -l                              (the reference)
#          sstream-source --kafka --once | map words | count-by-value | sink
#   copy:  kcat -C ... | kcat -P (topic to topic)           (the reference)
#          sstream-source --kafka --once | sstream-sink --kafka
#   state: source | map words | pair | reduce | state --update sum
#          --checkpoint                                     (the reference)
#          the same with the state by partition (source --partition-state,
#          state --by-partition: a checkpoint and a position per partition)
#
# Joining a group costs the mock coordinator's 3 s initial rebalance
# delay, which kcat -C (no group) does not pay: each sstream row is
# timed whole and, as "net", from the source's own --stats-file: from
# the close of the first batch that held messages to that of the last
# one, plus one interval (100 ms). The mock keeps only part of a large
# topic: rates count the messages kcat reads back, not those produced.
# Each command runs twice; the best time counts.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"
mock=${SSTREAM_BIN:-$PWD/build}/tests/kafka-mock
n=${KAFKA_MESSAGES:-300000}
command -v kcat >/dev/null || { echo "bench/kafka: kcat is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
"$mock" -p 4 big >"$tmp/boot" 2>"$tmp/mock.err" &
mockpid=$!
trap 'kill $mockpid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
    [ -s "$tmp/boot" ] && break
    sleep 0.05
done
boot=$(head -1 "$tmp/boot")
[ -n "$boot" ] || { echo "bench/kafka: kafka-mock did not start" >&2; exit 1; }

python3 bench/gen-lines.py --lines "$n" --words-per-line 4 |
    kcat -b "$boot" -P -t big
msgs=$(kcat -b "$boot" -C -t big -e -o beginning -q | wc -l)

now() { date +%s%N; }
# best CMD: the best wall time in ns of 2 runs of CMD, each with a new
# group id in $G (so that each reads the topic from its beginning: best
# runs in a subshell, so the id comes from the clock); the
# best net time (see the top) of a source writing $tmp/s.json in $tmp/net
best() {
    local b= t0 t1 i net
    rm -f "$tmp/net"
    for i in 1 2; do
        rm -f "$tmp/s.json"
        t0=$(now)
        G=g$t0 bash -c "set -o pipefail; $1" >/dev/null
        t1=$(now)
        if [ -z "$b" ] || [ $((t1 - t0)) -lt "$b" ]; then
            b=$((t1 - t0))
        fi
        [ -s "$tmp/s.json" ] || continue
        net=$(python3 -c 'import json, sys
w = [o["wall_ms"] for o in map(json.loads, open(sys.argv[1]))
     if o["stage"] == "source" and o["records_in"] > 0]
print((max(w) - min(w) + 100) * 1000000 if w else 0)' "$tmp/s.json")
        if [ ! -s "$tmp/net" ] || [ "$net" -lt "$(cat "$tmp/net")" ]; then
            echo "$net" >"$tmp/net"
        fi
    done
    echo "$b"
}

src="sstream-source --kafka $boot --group \$G --from-beginning --once -b 100ms"
src="$src --stats-file $tmp/s.json"
rd_ref=$(best "kcat -b $boot -C -t big -e -o beginning -q | wc -l")
rd=$(best "$src --topic big | sstream-map --flat-map words --count-by-value |
    sstream-sink --lines | wc -l")
rd_net=$(cat "$tmp/net")
cp_ref=$(best "kcat -b $boot -C -t big -e -o beginning -q |
    kcat -b $boot -P -t copy-\$G")
cp=$(best "$src --topic big | sstream-sink --kafka $boot --topic out-\$G")
cp_net=$(cat "$tmp/net")
wc_pairs="sstream-map --flat-map words --pair 1 --reduce-by-key sum"
st_ref=$(best "$src --topic big | $wc_pairs |
    sstream-state --update sum --emit updated --checkpoint $tmp/ck-\$G |
    sstream-sink --lines | wc -l")
st=$(best "$src --topic big --partition-state $tmp/pk-\$G | $wc_pairs |
    sstream-state --update sum --emit updated --by-partition \
        --checkpoint $tmp/pk-\$G | sstream-sink --lines | wc -l")

echo "mock cluster, 4 partitions, $msgs messages of 4 words read back" \
    "($n produced)"
printf '%-6s %-44s %9s %10s %9s\n' what command "time s" "kmsg/s" "vs ref"
row() { # row WHAT LABEL NS REF_NS
    awk -v w="$1" -v l="$2" -v ns="$3" -v ref="$4" -v m="$msgs" '
    BEGIN {
        t = ns / 1e9
        printf "%-6s %-44s %9.2f %10.0f %8.2fx\n", w, l, t, m / t / 1000,
            (ref / 1e9) / t
    }'
}
row read "kcat -C | wc -l" "$rd_ref" "$rd_ref"
row read "source | map words | count | sink (whole)" "$rd" "$rd_ref"
row read "source | map words | count | sink (net)" "$rd_net" "$rd_ref"
row copy "kcat -C | kcat -P" "$cp_ref" "$cp_ref"
row copy "source | sink --kafka (whole)" "$cp" "$cp_ref"
row copy "source | sink --kafka (net)" "$cp_net" "$cp_ref"
row state "source | map | state (the reference)" "$st_ref" "$st_ref"
row state "... | state --by-partition" "$st" "$st_ref"
