#!/usr/bin/env bash
# bench/nats.sh - messages per second from a NATS JetStream consumer into
# a word count (sstream-source --nats | sstream-map | sstream-sink),
# against the publishing throughput into the same stream measured in the
# same run (tests/helpers/nats-js pub: async publishes, every ack
# awaited, as `nats bench --js --pub` does). A nats-server -js on a free
# port of 127.0.0.1, its store in a temp dir; N messages of 4 words.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH:/usr/sbin"
js_bin="${SSTREAM_BIN:-$PWD/build}/tests/nats-js"
n=${NATS_BENCH_MESSAGES:-200000}

command -v nats-server >/dev/null || { echo "nats: no nats-server (scripts/deps test)"; exit 0; }
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="nats://127.0.0.1:$port"
nats-server -js -a 127.0.0.1 -p "$port" -sd "$tmp/store" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
js() { "$js_bin" "$url" "$@"; }
until js stream-add BENCH 'bench.>' 2>/dev/null; do sleep 0.1; done
js consumer-add BENCH wc 30000 1000000 # MaxAckPending: past a batch

now() { date +%s%N; }
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) print "w" i % 97, "x" i % 13, "the", "stream" }' >"$tmp/in"

t0=$(now)
js pub bench.in <"$tmp/in"
t1=$(now)
pub_ns=$((t1 - t0))

t0=$(now)
bash -c 'echo $$ >"$0"; exec sstream-source --nats "$1" --stream BENCH --consumer wc -b 1s' \
    "$tmp/src.pid" "$url" |
    sstream-map --flat-map words --pair 1 --reduce-by-key sum |
    sstream-sink --lines >"$tmp/out" &
pipe=$!
until [ "$(js info BENCH wc)" = "pending 0 ack_pending 0" ]; do sleep 0.05; done
t1=$(now)
kill -TERM "$(cat "$tmp/src.pid")"
wait "$pipe"
wc_ns=$((t1 - t0))

words=$(awk -F'\t' '{ s += $2 } END { print s }' "$tmp/out")
[ "$words" -eq $((4 * n)) ] || { echo "nats: counted $words words, not $((4 * n))"; exit 1; }
row() { # row LABEL NS
    awk -v l="$1" -v ns="$2" -v n="$n" \
        'BEGIN { printf "%-44s %10.2f %12.0f\n", l, ns / 1e9, n / (ns / 1e9) }'
}
printf '%-44s %10s %12s\n' "$n messages of 4 words" seconds "messages/s"
row "nats-js pub (JetStream, acks awaited)" "$pub_ns"
row "source --nats | map words | sink (drained)" "$wc_ns"
