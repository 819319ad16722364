#!/usr/bin/env bash
# bench/state-ckpt.sh - sstream-state's checkpoint cost per batch against a
# full rewrite of the state, in the same run, and its restart time.
#
# State: 1,000,000 keys (--import), then 20 batches of 10,000 updated keys
# each (--update sum --emit updated), run three ways, best of 3 each:
#   none     --no-checkpoint: the processing alone
#   delta    --checkpoint DIR: a snapshot, then one log entry per batch
#   full     --checkpoint DIR --checkpoint-interval 1ms: a full snapshot
#            every batch (a rewrite of the whole state)
# Bytes per batch: the log's growth over 20 batches against a snapshot's
# size. Time per batch: (run - none) / batches. Restart: sstream-state
# loading the 1M-key checkpoint and stopping at an empty stream.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"
KEYS=${KEYS:-1000000}
UPD=${UPD:-10000}
N=${N:-20}
data=bench/data/state-$KEYS-$UPD-$N
mkdir -p "$data"

if [ ! -s "$data/frames" ]; then
    rm -rf "$data/batches"
    /usr/bin/python3 - "$data" "$KEYS" "$UPD" "$N" <<'PY'
import os, random, sys
d, keys, upd, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(os.path.join(d, "import.tsv"), "w") as f:
    f.writelines("k%07d\t1\n" % i for i in range(keys))
rng = random.Random(1)
os.makedirs(os.path.join(d, "batches"))
open(os.path.join(d, "batches", "0000"), "w").close()  # the first snapshot
for b in range(1, n + 1):
    with open(os.path.join(d, "batches", "%04d" % b), "w") as f:
        f.writelines("k%07d\t1\n" % k for k in rng.sample(range(keys), upd))
PY
    mkdir -p "$data/none"
    /usr/bin/python3 tests/helpers/kvframes.py "$data/none" >"$data/empty"
    /usr/bin/python3 tests/helpers/kvframes.py "$data/batches" \
        >"$data/frames.tmp"
    mv "$data/frames.tmp" "$data/frames"
fi
frames="$data/frames"

now() { date +%s%N; }

# best NAME ARGS...: the best of 3 wall times (ns) of one run, a fresh
# checkpoint each time; the last run's checkpoint stays in $data/ck-NAME.
best() {
    local name=$1 b= t0 t1 i
    shift
    for i in 1 2 3; do
        rm -rf "$data/ck-$name"
        t0=$(now)
        sstream-state --update sum --emit updated --import "$data/import.tsv" \
            "$@" <"$frames" >/dev/null
        t1=$(now)
        if [ -z "$b" ] || [ $((t1 - t0)) -lt "$b" ]; then b=$((t1 - t0)); fi
    done
    echo "$b"
}

t_none=$(best none --no-checkpoint)
t_delta=$(best delta --checkpoint "$data/ck-delta")
t_full=$(best full --checkpoint "$data/ck-full" --checkpoint-interval 1ms)

snap=$(stat -c %s "$(ls "$data/ck-delta"/*.snap | tail -n 1)")
log=$(stat -c %s "$(ls "$data/ck-delta"/*.log | tail -n 1)")
per_delta=$(((log - 40) / N))

# restart: load the 1M-key checkpoint, read an empty stream, stop
rb=
for i in 1 2 3; do
    t0=$(now)
    sstream-state --update sum --emit updated --checkpoint "$data/ck-delta" \
        <"$data/empty" >/dev/null
    t1=$(now)
    if [ -z "$rb" ] || [ $((t1 - t0)) -lt "$rb" ]; then rb=$((t1 - t0)); fi
done

awk -v keys="$KEYS" -v upd="$UPD" -v n="$N" -v tn="$t_none" -v td="$t_delta" \
    -v tf="$t_full" -v snap="$snap" -v pd="$per_delta" -v rb="$rb" 'BEGIN {
    # the delta run wrote one full snapshot (the first batch) too
    full_ms = (tf - tn) / (n + 1) / 1e6
    delta_ms = ((td - tn) / 1e6 - full_ms) / n
    if (delta_ms < 0.001) delta_ms = 0.001
    printf "state %d keys, %d updated per batch, %d batches\n", keys, upd, n
    printf "%-28s %14s %12s\n", "per batch", "bytes", "ms"
    printf "%-28s %14d %12.2f\n", "full rewrite (snapshot)", snap, full_ms
    printf "%-28s %14d %12.2f\n", "delta log entry", pd, delta_ms
    printf "%-28s %14d %12.2f\n", "delta + compaction (amort.)", 2 * pd, \
        delta_ms + full_ms * pd / snap
    printf "ratio full/delta: %.1fx bytes, %.1fx time (amortized %.1fx bytes)\n", \
        snap / pd, full_ms / delta_ms, snap / (2 * pd)
    printf "restart (load %d keys): %.0f ms\n", keys, rb / 1e6
}'
