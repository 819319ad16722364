#!/usr/bin/env bash
# bench/wal.sh - what the write-ahead log and the commits cost per batch.
#
# 1000 replay batches of 1000 records (20 MB), source -> sink --lines,
# run three ways, best of 3 each:
#   plain    no log
#   wal      sstream-source --wal: each batch appended and fdatasync()ed
#            before it is sent (--max-uncommitted N: no sink commits, and
#            the default bound of 10 would stop the source)
#   commit   and sstream-sink --commit: each batch's time written to a
#            temp file, fsync()ed, renamed, the folder fsync()ed
# Per batch: (run - plain) / batches. The cost is the disk's sync latency,
# not the records: batches of 1 record cost the same.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${SSTREAM_BIN:-$PWD/build}:$PATH"
N=${N:-1000}
REC=${REC:-1000}
data=bench/data/wal-$N-$REC
if [ ! -d "$data/in" ]; then
    mkdir -p "$data/in.tmp"
    /usr/bin/python3 - "$data/in.tmp" "$N" "$REC" <<'PY'
import os, sys
d, n, rec = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, "%05d" % i), "w") as f:
        f.write("".join("word%d other%d\n" % (j, i) for j in range(rec)))
PY
    mv "$data/in.tmp" "$data/in"
fi

best() { # best of 3 wall times, in ms, of the shell command $1
    local b= t0 t1 ms
    for _ in 1 2 3; do
        rm -rf "$data/w"
        t0=$(date +%s%N)
        sh -c "$1" >/dev/null
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        [ -z "$b" ] || [ "$ms" -lt "$b" ] && b=$ms
    done
    echo "$b"
}

in=$data/in w=$data/w
plain=$(best "sstream-source --replay $in | sstream-sink --lines")
wal=$(best "sstream-source --replay $in --wal $w --max-uncommitted $N | sstream-sink --lines")
commit=$(best "sstream-source --replay $in --wal $w | sstream-sink --lines --commit $w")
rm -rf "$w"
printf '%-8s %8s %14s\n' mode ms "us/batch more"
printf '%-8s %8d %14s\n' plain "$plain" -
printf '%-8s %8d %14d\n' wal "$wal" $(((wal - plain) * 1000 / N))
printf '%-8s %8d %14d\n' commit "$commit" $(((commit - plain) * 1000 / N))
