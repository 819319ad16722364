#!/usr/bin/env bash
# run.sh BOOTSTRAP - the seeds' transaction-stream analysis over Kafka:
# 1000 random card transactions into the topic 'tx', keyed by merchant,
# then, every second, the last 10 s per merchant: the number of
# transactions and their amount, a line per merchant and window,
#
#     WINDOW-END-MS<TAB>MERCHANT<TAB>COUNT<TAB>AMOUNT
#
# The window groups each merchant's amounts (--group-by-key); an awk
# through --exec (Spark's transform) counts and sums each group. --once
# reads what the topic holds and ends: the last window holds it all.
set -euo pipefail
boot=$1
here=$(dirname "$0")
"$here/produce" --count 1000 | kcat -b "$boot" -P -t tx -K $'\t'
sstream-source --kafka "$boot" --topic tx --group cards --kafka-key \
    --from-beginning --once -b 1s |
    sstream-window -w 10s -s 1s --group-by-key |
    sstream-map --exec "awk -F'\t' '{ n = split(\$2, a, \",\"); s = 0
        for (i = 1; i <= n; i++) s += a[i]
        printf \"%s\t%d\t%.2f\n\", \$1, n, s }'" |
    sstream-sink --tsv
