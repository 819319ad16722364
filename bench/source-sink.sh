#!/usr/bin/env bash
# bench/source-sink.sh - sstream-source | sstream-sink --lines against
# cat | cat, on >= 100 MB of short lines, measured in the same run.
#
# Two inputs: "lines" (10 words a line, ~45 bytes) and "words" (one word
# a line, ~4 bytes: the worst case, all per-record cost). Each command
# runs 3 times; the best time counts. Peak RSS comes from /usr/bin/time.
# Then valgrind's "total heap usage" of source and sink on 1k and 100k
# records in one batch: allocations must not grow with records.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"
data=bench/data
mkdir -p "$data"

gen() { # gen FILE ARGS...: make FILE once, deterministically
    local file=$1
    shift
    [ -s "$file" ] && return
    if [ -f ../shared/bench/gen-words.py ]; then
        python3 ../shared/bench/gen-words.py "$@" >"$file.tmp"
    else
        python3 bench/gen-lines.py "$@" >"$file.tmp"
    fi
    mv "$file.tmp" "$file"
}
gen "$data/lines.txt" --lines 2260000 --words-per-line 10
gen "$data/words.txt" --lines 23000000 --words-per-line 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s%N; }

# best CMD: the best wall time in ns of 3 runs of the shell command CMD;
# the peak RSS (KiB) files of the run are left in $tmp/src.rss and
# $tmp/sink.rss when CMD writes them.
best() {
    local b= t0 t1 i
    for i in 1 2 3; do
        t0=$(now)
        bash -c "set -o pipefail; $1"
        t1=$(now)
        if [ -z "$b" ] || [ $((t1 - t0)) -lt "$b" ]; then
            b=$((t1 - t0))
            for f in src sink; do
                [ -f "$tmp/$f.rss.now" ] && cp "$tmp/$f.rss.now" "$tmp/$f.rss"
            done
        fi
    done
    echo "$b"
}

T="/usr/bin/time -f %M"
src="$T -o $tmp/src.rss.now sstream-source -b 1s"
sink="$T -o $tmp/sink.rss.now sstream-sink --lines"

printf '%-7s %-36s %9s %9s %9s %9s %7s\n' input command MB/s Mrec/s \
    "src RSS" "sink RSS" "vs cat"
for input in lines words; do
    file=$data/$input.txt
    bytes=$(stat -c %s "$file")
    recs=$(wc -l <"$file")
    ref=
    while IFS=@ read -r label cmd; do
        rm -f "$tmp"/*.rss "$tmp"/*.rss.now
        ns=$(best "$cmd")
        [ -n "$ref" ] || ref=$ns
        rss() { [ -f "$tmp/$1.rss" ] && echo "$(($(cat "$tmp/$1.rss") / 1024)) MB" || echo -; }
        awk -v b="$bytes" -v r="$recs" -v ns="$ns" -v ref="$ref" \
            -v inp="$input" -v l="$label" -v s="$(rss src)" -v k="$(rss sink)" \
            'BEGIN { printf "%-7s %-36s %9.0f %9.1f %9s %9s %6.0f%%\n",
                     inp, l, b / ns * 1e3, r / ns * 1e3, s, k, ref / ns * 100 }'
    done <<EOF2
cat FILE | cat@cat '$file' | cat >/dev/null
cat FILE | source | sink --lines@cat '$file' | $src | $sink >/dev/null
source < FILE | sink --lines@$src <'$file' | $sink >/dev/null
EOF2
    # the output must be the input, or the figures mean nothing
    [ "$(sstream-source -b 1s <"$file" | sstream-sink --lines | cksum)" = \
        "$(cksum <"$file")" ] || { echo "source-sink: $input: output differs from input" >&2; exit 1; }
done
echo "($(($(stat -c %s "$data/lines.txt") / 1000000)) MB lines.txt," \
    "$(($(stat -c %s "$data/words.txt") / 1000000)) MB words.txt; best of 3;" \
    "vs cat = throughput / that of cat FILE | cat)"

# Allocations per run must not grow with the records: 1k, 100k and 1M
# records, one batch each (-b 1h), through source and sink. Buffers
# grow by doubling up to the 1 MiB frame part, so 1k -> 100k adds a few
# reallocs; 100k -> 1M must add none.
allocs() { # allocs LOG: N of "total heap usage: N allocs"
    sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$1" | tr -d ,
}
echo
printf '%-8s %14s %14s\n' records "source allocs" "sink allocs"
for n in 1000 100000 1000000; do
    head -n "$n" "$data/lines.txt" >"$tmp/in"
    valgrind --log-file="$tmp/vsrc" sstream-source -b 1h <"$tmp/in" >"$tmp/frames"
    valgrind --log-file="$tmp/vsink" sstream-sink --lines <"$tmp/frames" >/dev/null
    printf '%-8s %14s %14s\n' "$n" "$(allocs "$tmp/vsrc")" "$(allocs "$tmp/vsink")"
done
