#!/usr/bin/env bash
# bench/window-slide.sh - per-slide time of sstream-window
# --reduce-by-key sum for a window of 60 slides against one of 6 over the
# same stream: with inverse reduce the ratio must stay <= 1.3 (the work per
# slide does not grow with the window); with --no-inverse it grows about
# 10x. The awk references of /work/shared/bench (incremental and naive
# word counts) run on the same records for comparison. Then the peak RSS
# of a 60-slide window over 100000 keys.
#
# Stream: 200 batches of 1s, 20000 key/value records each, keys drawn
# from 10000 (so nearly every key is in every window, whatever its length:
# the output per slide is the same for 6 and 60 slides). Best of 3.
# Standalone: bash bench/window-slide.sh (after make).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"
data=bench/data
mkdir -p "$data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

BATCHES=200 RECS=20000 KEYS=10000

# gen FILE BATCHES RECS KEYS [WORDS]: keyed frames (and the keys, one per
# line, for awk), made once, deterministically.
gen() {
    [ -s "$1" ] && return
    /usr/bin/python3 - "$@" <<'PY'
import random, sys
sys.path.insert(0, "tests/helpers")
import frames
out, nb, nr, nk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
words = sys.argv[5] if len(sys.argv) > 5 else None
rnd = random.Random(42)
keys = [b"k%d" % i for i in range(nk)]
vals = [b"%d" % i for i in range(100)]
with open(out + ".tmp", "wb") as f, open(words or "/dev/null", "wb") as w:
    for b in range(nb):
        if nr == nk:  # every key once a batch
            recs = [(k, rnd.choice(vals)) for k in keys]
        else:
            recs = [(rnd.choice(keys), rnd.choice(vals)) for _ in range(nr)]
        f.write(frames.frame(frames.BATCH, (b + 1) * 1000, 1000,
                             frames.KEYED, recs))
        if words:
            w.write(b"".join(k + b"\n" for k, _ in recs))
    f.write(frames.frame(frames.END, nb * 1000, 1000, 0, []))
import os
os.rename(out + ".tmp", out)
PY
}
gen "$data/window-kv.frames" $BATCHES $RECS $KEYS "$data/window-kv.words"
gen "$data/window-100k.frames" 70 100000 100000

now() { date +%s%N; }
# best N CMD: the least CPU time (user + system, ns) of N runs of CMD.
# CPU time rather than wall time: other work on the machine shifts wall
# times by tens of percent, which would swamp a 1.3x bound.
best() {
    local n=$1 cmd=$2 b= t
    for _ in $(seq "$n"); do
        /usr/bin/time -f '%U %S' -o "$tmp/cpu" bash -c "$cmd"
        t=$(awk '{ printf "%.0f", ($1 + $2) * 1e9 }' "$tmp/cpu")
        if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
    done
    echo "$b"
}

ref=$data/window-kv.frames
awkref=../shared/bench
printf '%-34s %12s %12s %7s\n' command "6 slides" "60 slides" ratio
row() { # row RUNS LABEL CMD-with-@W@: per-slide ms for W=6 and 60, ratio
    local runs=$1 label=$2 cmd=$3 a b
    a=$(best "$runs" "${cmd//@W@/6}")
    b=$(best "$runs" "${cmd//@W@/60}")
    awk -v l="$label" -v a="$a" -v b="$b" -v n=$BATCHES 'BEGIN {
        printf "%-34s %9.3f ms %9.3f ms %6.2fx\n", l, a / n / 1e6,
               b / n / 1e6, b / a }'
    echo "$a $b" >"$tmp/row.$4"
}
row 5 "window --reduce-by-key sum" \
    "sstream-window -w @W@ --reduce-by-key sum <'$ref' >/dev/null" inv
row 5 "window ... --no-inverse" \
    "sstream-window -w @W@ --reduce-by-key sum --no-inverse <'$ref' >/dev/null" noinv
if [ -f "$awkref/window-incremental.awk" ]; then
    row 1 "mawk window-incremental.awk" \
        "mawk -v B=$RECS -v W=@W@ -f $awkref/window-incremental.awk $data/window-kv.words >/dev/null" awkinc
    row 1 "mawk window-naive.awk" \
        "mawk -v B=$RECS -v W=@W@ -f $awkref/window-naive.awk $data/window-kv.words >/dev/null" awknaive
fi
# What a slide costs besides the window: reading and folding the batch
# (a 1-slide window). The rest of a --no-inverse slide is the merging of
# the window's panes, which grows with the window (with inverse, the rest
# is within the noise of a shared machine, so it is not shown).
one=$(best 5 "sstream-window -w 1 --reduce-by-key sum <'$ref' >/dev/null")
read -r a b <"$tmp/row.noinv"
awk -v o="$one" -v a="$a" -v b="$b" -v n=$BATCHES 'BEGIN {
    printf "%-34s %9.3f ms\n", "input alone (-w 1)", o / n / 1e6
    printf "%-34s %9.3f ms %9.3f ms %6.2fx\n", "  --no-inverse minus input",
           (a - o) / n / 1e6, (b - o) / n / 1e6, (b - o) / (a - o) }'
echo "($BATCHES batches x $RECS records, $KEYS keys; per slide = CPU time /" \
    "batches; sstream best of 5, awk 1 run)"

# The same answer as the naive awk, or the figures mean nothing: the last
# window's counts (--reduce-by-key count over the words) must agree.
last=$((BATCHES * 1000))
mine=$(sstream-window -w 6 --reduce-by-key count <"$ref" | sstream-sink --tsv |
    awk -v t=$last '$1 == t { print $2, $3 }' | sort | cksum)
if [ -f "$awkref/window-naive.awk" ]; then
    theirs=$(mawk -v B=$RECS -v W=6 -f "$awkref/window-naive.awk" \
        "$data/window-kv.words" | awk -v b=$BATCHES '$1 == b { print $2, $3 }' |
        sort | cksum)
    [ "$mine" = "$theirs" ] || { echo "window-slide: output differs from window-naive.awk" >&2; exit 1; }
fi

inv=$(awk '{ printf "%.2f", $2 / $1 }' "$tmp/row.inv")
awk -v r="$inv" 'BEGIN { exit !(r <= 1.3) }' ||
    { echo "window-slide: inverse reduce 60/6 slides ratio $inv > 1.3" >&2; exit 1; }

echo
printf '%-44s %10s %10s\n' "window over 100000 keys (70 batches)" "peak RSS" "time"
for w in 6 60; do
    for inv in "" --no-inverse; do
        t0=$(now)
        /usr/bin/time -f %M -o "$tmp/rss" sstream-window -w $w \
            --reduce-by-key sum $inv <"$data/window-100k.frames" >/dev/null
        t1=$(now)
        printf '%-44s %7d MB %7.2f s\n' "-w $w --reduce-by-key sum $inv" \
            $(($(cat "$tmp/rss") / 1024)) "$(awk -v n=$((t1 - t0)) 'BEGIN { print n / 1e9 }')"
    done
done
