#!/usr/bin/env bash
# bench/map-wordcount.sh - the word count pipeline against mawk and a plain
# C one-hash-table word count (bench/wc-ref.c), in the same run.
#
#   source -b 60s --state DIR < CORPUS | map --flat-map words
#       --count-by-value [--parallel N] | sink --lines
#
# Corpus: ../shared/bench/gen-words.py, 2.26M lines of 10 Zipf(1.1) words
# over a 100k vocabulary (100 MB), made once into bench/data/, and its
# first 250,000 lines (11 MB). Each tool runs RUNS times (default 3); the
# median wall time is reported, with ratios, and the median CPU time
# (user + system, all its processes): on a shared machine the wall time
# moves with the other loads, the CPU time much less (the first line
# gives the load average). The source keeps its last batch time
# (--state): without a record a run shorter than its batch interval waits
# for the interval to begin (sstream-source(1), Across runs), up to a
# second of -b 1s, which would be most of what is timed. Its interval is
# 60 s: a corpus is then one batch however slow the run, where at 1 s a
# slow one was cut in two and its counts, per batch, were not mawk's.
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

# "wall cpu": the median wall and the median CPU seconds (user + system of
# every process it waited for) of RUNS runs of a shell command
mid() { sort -n | awk '{ t[NR] = $1 } END { printf "%.3f", t[int((NR + 1) / 2)] }'; }
median() {
    local runs TIMEFORMAT='%3R %3U %3S'
    runs=$(for _ in $(seq "$RUNS"); do
        { time bash -c "$1" >/dev/null 2>&1; } 2>&1
    done)
    echo "$(awk '{ print $1 }' <<<"$runs" | mid) $(awk '{ print $2 + $3 }' <<<"$runs" | mid)"
}

STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
MAWK='{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w "\t" c[w] }'
# the pipeline over $1 at --parallel $2
pipeline() {
    echo "'$BIN/sstream-source' -b 60s --state '$STATE' <'$1' | '$BIN/sstream-map' --flat-map words --count-by-value --parallel $2 | '$BIN/sstream-sink' --lines"
}
# the same counts as mawk's, or say which differ
same_counts() {
    if ! cmp -s <(bash -c "$(pipeline "$1" "$2")" | sort) <(mawk "$MAWK" "$1" | sort); then
        echo "map-wordcount: --parallel $2 over $1: counts differ from mawk's" >&2
        return 1
    fi
}
ratio() { printf '%.2fx' "$(echo "$1 / $2" | bc -l)"; }
# row NAME "WALL CPU" MB "MAWK_WALL MAWK_CPU"
row() {
    local w=${2% *} c=${2#* } mw=${4% *} mc=${4#* }
    printf '%-40s %7.3f %7.3f %6.0f %9s %9s\n' "$1" "$w" "$c" "$(echo "$3 / $w" | bc -l)" \
        "$(ratio "$mw" "$w")" "$(ratio "$mc" "$c")"
}
wall() { echo "${1% *}"; }
cpu() { echo "${1#* }"; }

echo "map-wordcount: $(uptime | sed 's/.*load/load/'), $(nproc) CPUs"
status=0
C=$(median "'$DATA/wc-ref' <'$CORPUS'")
for corpus in "$SMALL" "$CORPUS"; do
    MB=$(($(stat -L -c %s "$corpus") / 1000000))
    same_counts "$corpus" 1 || status=1
    same_counts "$corpus" 2 || status=1
    S1=$(median "$(pipeline "$corpus" 1)")
    S2=$(median "$(pipeline "$corpus" 2)")
    M=$(median "mawk '$MAWK' '$corpus'")
    printf '%-40s %7s %7s %6s %9s %9s\n' "map-wordcount ($MB MB, median of $RUNS)" \
        "wall s" "cpu s" "MB/s" "vs mawk" "cpu vs"
    row "sstream source | map | sink" "$S1" "$MB" "$M"
    row "sstream ... map --parallel 2 ..." "$S2" "$MB" "$M"
    row "mawk {for(i=1;i<=NF;i++)c[\$i]++}" "$M" "$MB" "$M"
    [ "$corpus" = "$CORPUS" ] &&
        row "C one-table loop (bench/wc-ref.c)" "$C" "$MB" "$M"
    eval "R$MB=\$(echo \"$(wall "$M") / $(wall "$S1")\" | bc -l)"
    eval "P$MB=\$(echo \"$(wall "$M") / $(wall "$S2")\" | bc -l)"
    eval "U$MB=\$(echo \"$(cpu "$M") / $(cpu "$S1")\" | bc -l)"
done
printf 'sstream vs mawk at 100 MB: %.2fx, %.2fx at --parallel 2 (target >= 10x); vs C loop: %.2fx its time (target <= 1.5x)\n' \
    "$R100" "$P100" "$(echo "$(wall "$S1") / $(wall "$C")" | bc -l)"
printf 'small vs large: %.2fx at 11 MB, %.2fx at 100 MB: the large ratio is %.2fx the small one (target <= 1.5x)\n' \
    "$R11" "$R100" "$(echo "$R100 / $R11" | bc -l)"
# The same by CPU time: on a busy machine the three stages of a short run
# wait for a core more than mawk's one process does, and the wall ratio at
# 11 MB moves with the load; the CPU one much less.
printf 'small vs large, cpu: %.2fx at 11 MB, %.2fx at 100 MB: %.2fx; %s at the end\n' \
    "$U11" "$U100" "$(echo "$U100 / $U11" | bc -l)" "$(uptime | sed 's/.*load/load/')"
exit $status
