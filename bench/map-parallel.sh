#!/usr/bin/env bash
# bench/map-parallel.sh - sstream-map --parallel 2 against --parallel 1 on
# a CPU-bound stage: a backtracking regex --filter over long lines (a word
# of 3+ digits that comes back later in the line: 7% of the lines, some
# 60 us of PCRE2 a line), and the word count, each stage alone
# over frames made once (so that the source and sink, the same in both
# runs, do not dilute the ratio).
#
# Corpus: ../shared/bench/gen-words.py, 60,000 lines of 50 Zipf(1.1)
# words (13 MB), and the word count's 100 MB corpus (map-wordcount.sh).
# Each runs RUNS times (default 3); the median wall and CPU times are
# reported, with the load average before and after.
# Target on 2 cores: the filter at --parallel 2 >= 1.7x faster. Both
# outputs are checked equal to --parallel 1's. The cores are shared:
# another busy process on the machine takes the second core and the ratio
# with it (compare with `uptime`).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BIN=${SSTREAM_BIN:-$PWD/build}
DATA=bench/data
GEN=../shared/bench/gen-words.py
LONG=$DATA/words-long-13m.txt
WORDS=$DATA/words-zipf-100m.txt
mkdir -p "$DATA"
[ -f "$GEN" ] || { echo "map-parallel: $GEN not found" >&2; exit 1; }
if [ ! -s "$LONG" ]; then
    python3 "$GEN" --lines 60000 --words-per-line 50 --vocab 100000 \
        --zipf 1.1 >"$LONG.tmp"
    mv "$LONG.tmp" "$LONG"
fi
if [ ! -s "$WORDS" ]; then
    python3 "$GEN" --lines 2260000 --words-per-line 10 --vocab 100000 \
        --zipf 1.1 >"$WORDS.tmp"
    mv "$WORDS.tmp" "$WORDS"
fi
[ -x "$BIN/sstream-map" ] || make -s
FRAMES=$(mktemp -d "$DATA/frames.XXXXXX")
trap 'rm -rf "$FRAMES"' EXIT
# one batch per corpus, whatever the clock: --replay of a folder holding
# the corpus alone (a hard link, no copy)
mkdir -p "$FRAMES/long" "$FRAMES/words"
ln "$LONG" "$FRAMES/long/1"
ln "$WORDS" "$FRAMES/words/1"
"$BIN/sstream-source" --replay "$FRAMES/long" >"$FRAMES/long.fr"
"$BIN/sstream-source" --replay "$FRAMES/words" >"$FRAMES/words.fr"

# "wall cpu": the median wall and the median CPU seconds (user + system)
# of RUNS runs of a shell command: with the other core busy the wall
# time loses its meaning, the CPU time much less
mid() { sort -n | awk '{ t[NR] = $1 } END { printf "%.3f", t[int((NR + 1) / 2)] }'; }
median() {
    local runs TIMEFORMAT='%3R %3U %3S'
    runs=$(for _ in $(seq "$RUNS"); do
        { time bash -c "$1" >/dev/null 2>&1; } 2>&1
    done)
    echo "$(awk '{ print $1 }' <<<"$runs" | mid) $(awk '{ print $2 + $3 }' <<<"$runs" | mid)"
}

RE='\b(w\d{3,}) .*\b\1\b'
status=0
echo "map-parallel: $(uptime | sed 's/.*load/load/'), $(nproc) CPUs"
printf '%-44s %8s %8s %10s %8s %8s\n' "map-parallel (median of $RUNS)" "p1 s" "p2 s" "speed-up" \
    "p1 cpu" "p2 cpu"
bench() { # name frames map-arguments...
    local name=$1 fr=$2 a b
    shift 2
    if ! cmp -s <("$BIN/sstream-map" --parallel 1 "$@" <"$fr" | "$BIN/sstream-sink" --lines) \
        <("$BIN/sstream-map" --parallel 2 "$@" <"$fr" | "$BIN/sstream-sink" --lines); then
        echo "map-parallel: $name: --parallel 2 differs from --parallel 1" >&2
        status=1
    fi
    a=$(median "'$BIN/sstream-map' --parallel 1 $(printf "'%s' " "$@") <'$fr'")
    b=$(median "'$BIN/sstream-map' --parallel 2 $(printf "'%s' " "$@") <'$fr'")
    printf '%-44s %8.3f %8.3f %9.2fx %8.3f %8.3f\n' "$name" "${a% *}" "${b% *}" \
        "$(echo "${a% *} / ${b% *}" | bc -l)" "${a#* }" "${b#* }"
}
bench "regex --filter (13 MB, long lines)" "$FRAMES/long.fr" --filter "$RE"
bench "--flat-map words --count-by-value (100 MB)" "$FRAMES/words.fr" \
    --flat-map words --count-by-value
echo "target: at --parallel 2 on 2 idle cores, the regex --filter >= 1.7x, the word count >= 1.5x"
echo "map-parallel: after, $(uptime | sed 's/.*load/load/')"
exit $status
