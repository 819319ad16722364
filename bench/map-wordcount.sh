#!/usr/bin/env bash
# bench/map-wordcount.sh - the word count pipeline against mawk and a plain
# C one-hash-table word count (bench/wc-ref.c), in the same run.
#
#   source < CORPUS | map --flat-map words --count-by-value | sink --lines
#
# Corpus: ../shared/bench/gen-words.py, 2.26M lines of 10 Zipf(1.1) words
# over a 100k vocabulary (100 MB), made once into bench/data/. Each tool
# runs RUNS times (default 3); the median wall time is reported, with
# ratios. Targets: at least 5x faster than mawk, within 1.5x of the C loop.
# Runs standalone (bench/map-wordcount.sh) or from bench/run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BIN=${SSTREAM_BIN:-$PWD/build}
DATA=bench/data
GEN=../shared/bench/gen-words.py
CORPUS=$DATA/words-zipf-100m.txt
mkdir -p "$DATA"
if [ ! -s "$CORPUS" ]; then
    [ -f "$GEN" ] || { echo "map-wordcount: $GEN not found" >&2; exit 1; }
    python3 "$GEN" --lines 2260000 --words-per-line 10 --vocab 100000 \
        --zipf 1.1 >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi
[ -x "$BIN/sstream-map" ] || make -s
cc -O2 -o "$DATA/wc-ref" bench/wc-ref.c -lxxhash
command -v mawk >/dev/null || { echo "map-wordcount: mawk not installed" >&2; exit 1; }

# median wall seconds of RUNS runs of a shell command
median() {
    local i t
    for i in $(seq "$RUNS"); do
        t0=$(date +%s.%N)
        bash -c "$1" >/dev/null
        t1=$(date +%s.%N)
        echo "$t1 - $t0" | bc -l
    done | sort -n | awk '{ t[NR] = $1 } END { printf "%.3f\n", t[int((NR + 1) / 2)] }'
}

S=$(median "'$BIN/sstream-source' <'$CORPUS' | '$BIN/sstream-map' --flat-map words --count-by-value | '$BIN/sstream-sink' --lines")
M=$(median "mawk '{ for (i = 1; i <= NF; i++) c[\$i]++ } END { for (w in c) print w, c[w] }' '$CORPUS'")
C=$(median "'$DATA/wc-ref' <'$CORPUS'")
MB=$(($(stat -L -c %s "$CORPUS") / 1000000))

printf '%-44s %8s %8s %10s\n' "map-wordcount ($MB MB, median of $RUNS)" "s" "MB/s" "ratio"
row() { printf '%-44s %8.3f %8.0f %10s\n' "$1" "$2" "$(echo "$MB / $2" | bc -l)" "$3"; }
row "sstream source | map | sink" "$S" "1.00x"
row "mawk {for(i=1;i<=NF;i++)c[\$i]++}" "$M" "$(printf '%.2fx' "$(echo "$M / $S" | bc -l)")"
row "C one-table loop (bench/wc-ref.c)" "$C" "$(printf '%.2fx' "$(echo "$C / $S" | bc -l)")"
printf 'sstream vs mawk: %.2fx faster (target >= 5x); vs C loop: %.2fx its time (target <= 1.5x)\n' \
    "$(echo "$M / $S" | bc -l)" "$(echo "$S / $C" | bc -l)"
