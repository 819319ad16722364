#!/usr/bin/env bash
# bench/flow.sh - flow control: a producer far faster than the pipeline
# (yes(1), about a GB/s) into sstream-source, then a stage that takes
# 300ms per 200ms batch (sstream-map --exec 'sleep 0.3; cat'), then the
# sink. The source must read no further than the pipeline takes: its
# resident memory (VmRSS, sampled from /proc) stays flat from second 1 to
# second 8, with and without batch limits; the limits also bound the
# batch that the slow stage has to hold (its RSS). "max/batch" is the
# largest batch the sink saw, but for the last one (at SIGTERM the source
# puts everything it had read into the last batch).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -; }

# run NAME SOURCE-OPTIONS...: one row of the table.
run() {
    local name=$1 src map sink t rows=() lines
    shift
    rm -f "$tmp/f1" "$tmp/f2"
    mkfifo "$tmp/f1" "$tmp/f2"
    yes 'a line of text, as a producer would write it' |
        sstream-source -b 200ms "$@" >"$tmp/f1" &
    src=$!
    sstream-map --exec 'sleep 0.3; cat' <"$tmp/f1" >"$tmp/f2" &
    map=$!
    sstream-sink --lines --stats-file "$tmp/s.json" <"$tmp/f2" >/dev/null \
        2>/dev/null & # it warns that it falls behind, as it should

    sink=$!
    for t in 1 2 4 8; do
        sleep $((t - ${last:-0}))
        last=$t
        rows+=("$(rss "$src")")
    done
    unset last
    rows+=("$(rss "$map")")
    kill -TERM "$src"
    wait "$src" "$map" "$sink" || true
    lines=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
# the last batch takes what was read before SIGTERM, whatever the limits
print(sum(r["records_in"] for r in rows),
      max(r["records_in"] for r in rows[:-1]))
' "$tmp/s.json")
    rm -f "$tmp/s.json"
    printf '%-28s %8s %8s %8s %8s %9s %10s %10s\n' "$name" "${rows[@]}" $lines
}

printf '%-28s %8s %8s %8s %8s %9s %10s %10s\n' "source options" \
    "rss@1s" "rss@2s" "rss@4s" "rss@8s" "map rss" "records" "max/batch"
printf '%-28s %8s %8s %8s %8s %9s %10s %10s\n' "" KiB KiB KiB KiB KiB "" ""
run "(none)"
run "--max-batch-records 10000" --max-batch-records 10000
run "--max-batch-bytes 256k" --max-batch-bytes 256k
run "--max-rate 50000" --max-rate 50000
