#!/usr/bin/env bash
# bench/fields.sh - fields by name (sstream-source --format, sstream-map
# --key/--value) against jq, Miller and mawk doing the same work, in the
# same run, as ratios.
#
#   source --format json < JSONL | map --key status --value bytes
#       --reduce-by-key sum | sink --lines         vs jq and mlr --ijson
#   source --format csv < CSV | map ... (the same)  vs mlr --icsv, mawk -F,
#   source --format json | sink  vs source | sink  (the cost of --format)
#
# Data: 500,000 access-log rows made once into bench/data/ by a seeded
# generator below: JSON Lines (nested "user" object, non-ASCII names,
# escapes) and the same rows as CSV. Each command runs RUNS times
# (default 3); the median wall time is reported. Every sstream output is
# checked against jq's (JSON) or mawk's (CSV) sums first.
# Runs standalone (bench/fields.sh) or from bench/run (BENCH=fields).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BIN=${SSTREAM_BIN:-$PWD/build}
DATA=bench/data
ROWS=${ROWS:-500000}
JSONL=$DATA/fields-$ROWS.jsonl
CSV=$DATA/fields-$ROWS.csv
mkdir -p "$DATA"
[ -x "$BIN/sstream-map" ] || make -s
for t in jq mlr mawk; do
    command -v $t >/dev/null || { echo "fields: $t not installed (scripts/deps bench)" >&2; exit 1; }
done
if [ ! -s "$JSONL" ] || [ ! -s "$CSV" ]; then
    python3 - "$ROWS" "$JSONL.tmp" "$CSV.tmp" <<'PY'
import json, random, sys
n, jpath, cpath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rnd = random.Random(18)
names = ["ann", "bob", "Zoë", "李", "José \"pepe\"", "o'neil", "a\\b", "tab\there"]
paths = ["/", "/index.html", "/api/v1/items", "/search?q=a,b", "/img/ç.png"]
with open(jpath, "w") as j, open(cpath, "w") as c:
    # status and bytes first, so that mawk -F, (no quoting) finds them
    c.write("time,status,bytes,path,user,agent\n")
    for i in range(n):
        row = {
            "time": 1700000000000 + i * 10 + rnd.randint(-5000, 0),
            "status": rnd.choice([200, 200, 200, 200, 301, 304, 404, 500]),
            "path": rnd.choice(paths),
            "bytes": rnd.randint(0, 100000),
            "user": {"name": rnd.choice(names), "id": rnd.randint(1, 10000)},
            "agent": "Mozilla/5.0 (X11; Linux x86_64) curl/7.%d" % rnd.randint(0, 99),
        }
        j.write(json.dumps(row, ensure_ascii=rnd.random() < 0.5,
                           separators=(",", ":")) + "\n")
        f = [str(row["time"]), str(row["status"]), str(row["bytes"]),
             row["path"], row["user"]["name"], row["agent"]]
        c.write(",".join('"%s"' % x.replace('"', '""')
                         if any(ch in x for ch in ',"\n') else x
                         for x in f) + "\n")
PY
    mv "$JSONL.tmp" "$JSONL"
    mv "$CSV.tmp" "$CSV"
fi

STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
# The source keeps its last batch time (--state): without it a run
# shorter than the batch interval would wait for the interval to begin.
SRC="'$BIN/sstream-source' --state '$STATE' -b 10s"
MAP="'$BIN/sstream-map' --key status --value bytes --reduce-by-key sum"
SINK="'$BIN/sstream-sink' --lines"
S_JSON="$SRC --format json <'$JSONL' | $MAP | $SINK"
S_CSV="$SRC --format csv <'$CSV' | $MAP | $SINK"
S_PLAIN="$SRC <'$CSV' | '$BIN/sstream-map' -F , --key-field 2 --value-field 3 --reduce-by-key sum --rejects /dev/null 2>/dev/null | $SINK"
JQ="jq -n -r 'reduce inputs as \$r ({}; .[\$r.status|tostring] += \$r.bytes) | to_entries[] | \"\\(.key)\t\\(.value)\"' '$JSONL'"
MLR_J="mlr --ijson --otsv --headerless-csv-output stats1 -a sum -f bytes -g status '$JSONL'"
MLR_C="mlr --icsv --otsv --headerless-csv-output stats1 -a sum -f bytes -g status '$CSV'"
MAWK="mawk -F, 'NR > 1 { s[\$2] += \$3 } END { for (k in s) printf \"%s\t%.0f\\n\", k, s[k] }' '$CSV'"

# median wall seconds of RUNS runs of a shell command
median() {
    local i t0 t1
    for i in $(seq "$RUNS"); do
        t0=$(date +%s.%N)
        bash -c "set -o pipefail; $1" >/dev/null
        t1=$(date +%s.%N)
        echo "$t1 - $t0" | bc -l
    done | sort -n | awk '{ t[NR] = $1 } END { printf "%.3f\n", t[int((NR + 1) / 2)] }'
}
sums() { bash -c "set -o pipefail; $1" | sort; }
same() { # same NAME CMD REF: CMD prints the sums REF prints
    if ! cmp -s <(sums "$2") <(sums "$3"); then
        echo "fields: $1: sums differ from the reference's" >&2
        return 1
    fi
}

status=0
# one batch per run (-b 10s): the sums, not per batch, are compared
same "--format json" "$S_JSON" "$JQ" || status=1
same "--format csv" "$S_CSV" "$MAWK" || status=1
same "-F , --key-field" "$S_PLAIN" "$MAWK" || status=1
same "mlr json" "$MLR_J" "$JQ" || status=1

MB_J=$(($(stat -L -c %s "$JSONL") / 1000000))
MB_C=$(($(stat -L -c %s "$CSV") / 1000000))
row() { printf '%-52s %8.3f %8.0f %9.2fx\n' "$1" "$2" "$3" "$(echo "$4 / $2" | bc -l)"; }
printf '%-52s %8s %8s %10s\n' "fields, $ROWS rows (median of $RUNS)" s MB/s "speed-up"

t_sj=$(median "$S_JSON")
t_jq=$(median "$JQ")
t_mj=$(median "$MLR_J")
echo "-- JSON Lines ($MB_J MB): sum of bytes by status (vs jq)"
row "sstream source --format json | map --key --value" "$t_sj" "$MB_J" "$t_jq"
row "jq -n 'reduce inputs ...'" "$t_jq" "$MB_J" "$t_jq"
row "mlr --ijson stats1 -a sum -f bytes -g status" "$t_mj" "$MB_J" "$t_jq"

t_sc=$(median "$S_CSV")
t_sp=$(median "$S_PLAIN")
t_mc=$(median "$MLR_C")
t_aw=$(median "$MAWK")
echo "-- CSV ($MB_C MB): the same sums (vs mawk)"
row "sstream source --format csv | map --key --value" "$t_sc" "$MB_C" "$t_aw"
row "sstream source | map -F , --key-field 2 (no --format)" "$t_sp" "$MB_C" "$t_aw"
row "mlr --icsv stats1 -a sum -f bytes -g status" "$t_mc" "$MB_C" "$t_aw"
row "mawk -F, '{ s[\$2] += \$3 }'" "$t_aw" "$MB_C" "$t_aw"

t_fj=$(median "$SRC --format json <'$JSONL' | $SINK")
t_pj=$(median "$SRC <'$JSONL' | $SINK")
echo "-- the cost of --format json in the source alone (vs without)"
row "sstream source --format json | sink" "$t_fj" "$MB_J" "$t_pj"
row "sstream source | sink" "$t_pj" "$MB_J" "$t_pj"

# Allocations must not grow with records (STYLE.md): valgrind's count for
# 1k and 100k rows in one batch, source --format json and map --key.
if command -v valgrind >/dev/null; then
    echo "-- heap allocations, 1k vs 100k rows (must not grow)"
    FR=$(mktemp -d)
    for n in 1000 100000; do
        head -n $n "$JSONL" >"$FR/in"
        s=$(valgrind "$BIN/sstream-source" --state "$STATE" -b 10s --format json \
            <"$FR/in" 2>&1 >"$FR/frames" | grep -o 'total heap usage: [0-9,]* allocs')
        m=$(valgrind "$BIN/sstream-map" --key user.name --value bytes \
            <"$FR/frames" 2>&1 >/dev/null | grep -o 'total heap usage: [0-9,]* allocs')
        printf '%-8s source --format json: %s; map --key --value: %s\n' "$n" "${s#total heap usage: }" "${m#total heap usage: }"
    done
    rm -rf "$FR"
fi
exit $status
