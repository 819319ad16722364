#!/usr/bin/env bash
# bench/map-wordcount.sh - the word count pipeline against mawk and a plain
# C one-hash-table word count (bench/wc-ref.c), in the same run.
#
#   source --state DIR < CORPUS | map --flat-map words --count-by-value
#       [--parallel N] | sink --lines
#
# Corpus: ../shared/bench/gen-words.py, 2.26M lines of 10 Zipf(1.1) words
# over a 100k vocabulary (100 MB), made once into bench/data/, and its
# first 250,000 lines (11 MB). Each tool runs RUNS times (default 3); the
# median wall time is reported, with ratios. The source keeps its last
# batch time (--state): without a record a run shorter than its batch
# interval waits for the interval to begin (sstream-source(1), Across
# runs), up to a second of -b 1s, which would be most of what is timed.
# Targets: at 100 MB, >= 10x mawk at --parallel 2 (2 cores), within 1.5x
# of the C loop at --parallel 1; the 11 MB ratio within 1.5x of the 100 MB
# one. Each sstream output is checked against mawk's counts.
# Runs standalone (bench/map-wordcount.sh) or from bench/run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BIN=${SSTREAM_BIN:-$PWD/build}
DATA=bench/data
GEN=../shared/bench/gen-words.py
CORPUS=$DATA/words-zipf-100m.txt
SMALL=$DATA/words-zipf-11m.txt
mkdir -p "$DATA"
if [ ! -s "$CORPUS" ]; then
    [ -f "$GEN" ] || { echo "map-wordcount: $GEN not found" >&2; exit 1; }
    python3 "$GEN" --lines 2260000 --words-per-line 10 --vocab 100000 \
        --zipf 1.1 >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi
[ -s "$SMALL" ] || head -n 250000 "$CORPUS" >"$SMALL"
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

STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
MAWK='{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w "\t" c[w] }'
# the pipeline over $1 at --parallel $2
pipeline() {
    echo "'$BIN/sstream-source' --state '$STATE' <'$1' | '$BIN/sstream-map' --flat-map words --count-by-value --parallel $2 | '$BIN/sstream-sink' --lines"
}
# the same counts as mawk's, or say which differ
same_counts() {
    if ! cmp -s <(bash -c "$(pipeline "$1" "$2")" | sort) <(mawk "$MAWK" "$1" | sort); then
        echo "map-wordcount: --parallel $2 over $1: counts differ from mawk's" >&2
        return 1
    fi
}
ratio() { printf '%.2fx' "$(echo "$1 / $2" | bc -l)"; }
row() { printf '%-44s %8.3f %8.0f %10s\n' "$1" "$2" "$(echo "$3 / $2" | bc -l)" "$4"; }

status=0
C=$(median "'$DATA/wc-ref' <'$CORPUS'")
for corpus in "$SMALL" "$CORPUS"; do
    MB=$(($(stat -L -c %s "$corpus") / 1000000))
    same_counts "$corpus" 1 || status=1
    same_counts "$corpus" 2 || status=1
    S1=$(median "$(pipeline "$corpus" 1)")
    S2=$(median "$(pipeline "$corpus" 2)")
    M=$(median "mawk '$MAWK' '$corpus'")
    printf '%-44s %8s %8s %10s\n' "map-wordcount ($MB MB, median of $RUNS)" "s" "MB/s" "vs mawk"
    row "sstream source | map | sink" "$S1" "$MB" "$(ratio "$M" "$S1")"
    row "sstream ... map --parallel 2 ..." "$S2" "$MB" "$(ratio "$M" "$S2")"
    row "mawk {for(i=1;i<=NF;i++)c[\$i]++}" "$M" "$MB" "1.00x"
    [ "$corpus" = "$CORPUS" ] &&
        row "C one-table loop (bench/wc-ref.c)" "$C" "$MB" "$(ratio "$M" "$C")"
    eval "R$MB=\$(echo \"\$M / \$S1\" | bc -l)"
    eval "P$MB=\$(echo \"\$M / \$S2\" | bc -l)"
done
printf 'sstream vs mawk at 100 MB: %.2fx, %.2fx at --parallel 2 (target >= 10x); vs C loop: %.2fx its time (target <= 1.5x)\n' \
    "$R100" "$P100" "$(echo "$S1 / $C" | bc -l)"
printf 'small vs large: %.2fx at 11 MB, %.2fx at 100 MB: the large ratio is %.2fx the small one (target <= 1.5x)\n' \
    "$R11" "$R100" "$(echo "$R100 / $R11" | bc -l)"
exit $status
