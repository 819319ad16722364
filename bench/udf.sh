#!/usr/bin/env bash
# bench/udf.sh - a state update in Python (sstream-state --update-exec,
# examples/sstream_coprocess.py's serve_update) against the built-in
# --update sum, per batch, in the same run.
#
# KEYS (100,000) keys per batch, each with one value, N (5) batches: every
# key is sent to the command, with its state, every batch, and answered.
# Both runs use --no-checkpoint (the checkpoint costs the same for both;
# bench/state-ckpt.sh measures it) and --emit updated; their outputs must
# be the same. Time per batch: the run's wall time / N, best of 3 for the
# built-in, one run for Python.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"
KEYS=${KEYS:-100000}
N=${N:-5}
data=bench/data/udf-$KEYS-$N
mkdir -p "$data"

if [ ! -s "$data/frames" ]; then
    rm -rf "$data/batches"
    mkdir -p "$data/batches"
    /usr/bin/python3 - "$data/batches" "$KEYS" "$N" <<'PY'
import os, sys
d, keys, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for b in range(1, n + 1):
    with open(os.path.join(d, "%04d" % b), "w") as f:
        f.writelines("k%07d\t%d\n" % (k, b) for k in range(keys))
PY
    /usr/bin/python3 tests/helpers/kvframes.py "$data/batches" \
        >"$data/frames.tmp"
    mv "$data/frames.tmp" "$data/frames"
fi
cat >"$data/sum.py" <<PY
import sys
sys.path.insert(0, "$PWD/examples")
from sstream_coprocess import serve_update

def total(key, state, values, batch_time_ms, timing_out):
    return str(int(state or 0) + sum(int(v) for v in values))

serve_update(total)
PY

now() { date +%s%N; }

# run OUT ARGS...: the wall time (ns) of sstream-state ARGS over the frames
run() {
    local out=$1 t0 t1
    shift
    t0=$(now)
    sstream-state --emit updated --no-checkpoint "$@" <"$data/frames" \
        >"$data/$out"
    t1=$(now)
    echo $((t1 - t0))
}

b=
for i in 1 2 3; do
    t=$(run builtin.out --update sum)
    if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
done
p=$(run python.out --update-exec "python3 $data/sum.py")
# frames carry timings: compare the records
cmp -s <(sstream-sink --tsv <"$data/builtin.out") \
    <(sstream-sink --tsv <"$data/python.out") ||
    { echo "udf: the outputs differ" >&2; exit 1; }
awk -v b="$b" -v p="$p" -v n="$N" -v k="$KEYS" 'BEGIN {
    printf "%-28s %12s %14s\n", "update (" k " keys/batch)", "ms/batch",
        "ns/key"
    printf "%-28s %12.1f %14.0f\n", "--update sum", b / n / 1e6, b / n / k
    printf "%-28s %12.1f %14.0f\n", "--update-exec python3", p / n / 1e6,
        p / n / k
    printf "python / built-in: %.1fx per batch\n", p / b
}'
