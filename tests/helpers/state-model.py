#!/usr/bin/python3
"""state-model.py DIR OP TIMEOUT_MS EMIT - what sstream-state should print.

An independent model of sstream-state over the batches of DIR, read as
tests/helpers/kvframes.py reads them (file i from 1 at time i * 1000; a
line "key<TAB>value", or a word worth "1"), written from Spark's
documented semantics rather than from the C code:

- OP sum or count; TIMEOUT_MS 0 for none.
- A key times out at the first batch whose time is strictly after its
  last update plus the timeout (Spark's StateMap.getByTime: last update <
  batch time - timeout), checked every batch.
- EMIT all: every key (byte order); updated: keys with records; expired:
  updated, and timed out keys with their last value and "expired";
  records: one record per input record, in input order, the key's state
  after it (mapWithState's mapped stream).

Prints time<TAB>key<TAB>value lines, as sstream-sink --tsv does.
"""
import os
import sys


def batches(d):
    for i, name in enumerate(sorted(os.listdir(d)), 1):
        with open(os.path.join(d, name), "rb") as f:
            recs = []
            for line in f.read().splitlines():
                k, tab, v = line.partition(b"\t")
                recs.append((k, v if tab else b"1"))
        yield i * 1000, recs


def main():
    d, op, timeout, emit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    state = {}  # key -> [value, last update]
    out = sys.stdout.buffer
    for t, recs in batches(d):
        lines, touched = [], set()
        for k, v in recs:
            cur = state.setdefault(k, [0, t])
            cur[0] += 1 if op == "count" else int(v)
            cur[1] = t
            touched.add(k)
            if emit == "records":
                lines.append((k, b"%d" % cur[0]))
        expired = {k: s for k, s in state.items()
                   if timeout and k not in touched and s[1] < t - timeout}
        for k in expired:
            del state[k]
        if emit == "all":
            lines = [(k, b"%d" % state[k][0]) for k in sorted(state)]
        elif emit in ("updated", "expired"):
            keys = touched | (set(expired) if emit == "expired" else set())
            lines = [(k, b"%d" % state[k][0]) if k in state else
                     (k, b"%d\texpired" % expired[k][0]) for k in sorted(keys)]
        for k, v in lines:
            out.write(b"%d\t%s\t%s\n" % (t, k, v))


main()
