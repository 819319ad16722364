#!/usr/bin/python3
"""kvframes.py DIR [FIRST [LAST]] - keyed frames for tests, on stdout.

Each file of DIR, in name order, is one batch; batch i (from 1) has time
i * 1000 and interval 1000, as `sstream-source --replay DIR -b 1s` gives.
A line "key<TAB>value" is that record; a line without a tab is a word,
the record (word, "1"), as a word count's map step makes. FIRST and LAST
(from 1) send only those batches, with their times unchanged, so that a
test can replay part of a stream. Ends with an end-of-stream frame.
"""
import os
import struct
import sys

import xxhash


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def frame(kind, time, interval, flags, records):
    payload = b"".join(varint(len(k)) + k + varint(len(v)) + v for k, v in records)
    head = struct.pack("<4sBBHqIIIIQQq", b"SSTM", 1, kind, 56, time, interval,
                       flags, len(records), 0, len(payload), 0, 0)
    h = xxhash.xxh64(head + payload, seed=0).intdigest()
    return head[:40] + struct.pack("<Q", h) + head[48:] + payload


def main():
    d = sys.argv[1]
    files = sorted(f for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)))
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    last = int(sys.argv[3]) if len(sys.argv) > 3 else len(files)
    out = sys.stdout.buffer
    t = 0
    for i, name in enumerate(files, 1):
        if i < first or i > last:
            continue
        t = i * 1000
        recs = []
        with open(os.path.join(d, name), "rb") as f:
            for line in f.read().splitlines():
                k, tab, v = line.partition(b"\t")
                recs.append((k, v) if tab else (k, b"1"))
        out.write(frame(1, t, 1000, 1, recs))
    out.write(frame(2, t, 1000, 0, []))


main()
