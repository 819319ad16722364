#!/usr/bin/python3
"""frames.py - write sstream frames (man/sstream.5) for tests, without
sstream-source or sstream-map.

    frames.py [-b MS] [--start MS] [--keyed] [--parts N] BATCH...

Each BATCH argument is one batch: records separated by spaces, "-" for an
empty batch. With --keyed a record is KEY:VALUE (split at the first ':').
Batch i (from 0) has time START + (i + 1) * MS, as sstream-source --replay
gives. --parts N sends each batch as frames of at most N records, all but
the last flagged MORE. --skip N leaves out the first N batches (their
times still count: a restart's input). --replay-ms MS sets the frames'
replay_ms (how far back a restart may send batches again; 0 by default).
--trail NAME=MS,... gives each batch's last frame that stage trail, and
--ingest N,MS its ingest field (N records in a source batch of MS ms).
--offsets SPEC, once per batch in order, gives a batch's last frame the
offsets field of a Kafka source (man/sstream.5): SPEC is
TOPIC:PARTS:P=FROM-NEXT,... (the topic, its partition count, and each
partition the member holds with where the batch began and ended; nothing
after the second ':' for none held), or "-" for no field; the ingest field
is then the batch's record count unless --ingest says otherwise.
--kafka TOPIC:PARTS makes the batches a Kafka topic's messages (with
--keyed), each on partition zlib.crc32(key) % PARTS (librdkafka's default
partitioner; an empty key: partition 0), offsets counted per partition from
0 over all the batches; --hold P,P,... (or "none"), once per batch, says
which partitions the member holds: the batch carries their records and
their offsets field, and with --deliver all the other records too.
The stream ends with an end-of-stream frame, unless --no-end.
"""
import argparse
import struct
import sys
import zlib

import xxhash

MAGIC = b"SSTM"
HLEN = 56
BATCH, END = 1, 2
KEYED, MORE = 0x1, 0x2
REPLAY_MS = 0  # --replay-ms
TRAIL = []  # --trail: (name, ms) for each batch's last frame
INGEST = None  # --ingest: (records, interval ms)
OFFSETS = []  # --offsets: per batch, None or (topic, parts, [(p, from, next)])


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def offsets_field(spec):
    topic, parts, entries = spec
    out = struct.pack("<HBxI", len(entries), len(topic), parts) + topic
    for p, f, n in entries:
        out += struct.pack("<iqq", p, f, n)
    return out


def parse_offsets(spec):
    if spec == "-":
        return None
    topic, parts, rest = spec.split(":", 2)
    entries = []
    for e in rest.split(",") if rest else []:
        p, _, rng = e.partition("=")
        f, _, n = rng.partition("-")
        entries.append((int(p), int(f), int(n)))
    return (topic.encode(), int(parts), entries)


def frame(kind, time, interval, flags, records, offsets=None, total=0):
    """records: list of (key or None, value) byte strings; offsets: the
    offsets field of a batch's last frame (parse_offsets()), total the
    batch's record count for its ingest field."""
    payload = bytearray()
    for k, v in records:
        if flags & KEYED:
            payload += varint(len(k)) + k
        payload += varint(len(v)) + v
    extra = b""
    if kind == BATCH and not flags & MORE and (TRAIL or INGEST or offsets):
        extra = struct.pack("<B3x", len(TRAIL))
        for name, ms in TRAIL:
            extra += struct.pack("<8sI", name.encode(), ms)
        if INGEST or offsets:
            extra += struct.pack("<QI", *(INGEST or (total, interval)))
        if offsets:
            extra += offsets_field(offsets)
    head = struct.pack("<4sBBHqIIIIQQq", MAGIC, 1, kind, HLEN + len(extra),
                       time, interval, flags, len(records), REPLAY_MS,
                       len(payload), 0, 0) + extra
    h = xxhash.xxh64(head + bytes(payload), seed=0).intdigest()
    head = head[:40] + struct.pack("<Q", h) + head[48:]
    return head + bytes(payload)


def stream(batches, interval=1000, start=0, keyed=False, parts=0, skip=0,
           end=True):
    """batches: list of lists of records (bytes, or (key, value) pairs).
    The first 'skip' batches are left out (their times still count)."""
    out = bytearray()
    flags = KEYED if keyed else 0
    t = start
    for i, recs in enumerate(batches):
        t += interval
        if i < skip:
            continue
        recs = [r if keyed else (None, r) for r in recs]
        n = parts if parts > 0 else max(len(recs), 1)
        chunks = [recs[i:i + n] for i in range(0, len(recs), n)] or [[]]
        offs = OFFSETS[i] if i < len(OFFSETS) else None
        for j, c in enumerate(chunks):
            more = MORE if j < len(chunks) - 1 else 0
            out += frame(BATCH, t, interval, flags | more, c, offs, len(recs))
    if end:
        out += frame(END, t, interval, 0, [])
    return bytes(out)


def read_frames(data):
    """Parse a frame stream: a list of (kind, time, interval, flags, records),
    records as (key or None, value) byte strings."""
    out, pos = [], 0
    while pos < len(data):
        (magic, _, kind, hlen, time, interval, flags, count, _, plen, _,
         _) = struct.unpack_from("<4sBBHqIIIIQQq", data, pos)
        assert magic == MAGIC
        p, end = pos + hlen, pos + hlen + plen
        recs = []
        while p < end:
            k = None
            if flags & KEYED:
                n, p = _varint_get(data, p)
                k, p = data[p:p + n], p + n
            n, p = _varint_get(data, p)
            recs.append((k, data[p:p + n]))
            p += n
        assert len(recs) == count
        out.append((kind, time, interval, flags, recs))
        pos = end
    return out


def _varint_get(data, p):
    v, shift = 0, 0
    while data[p] & 0x80:
        v |= (data[p] & 0x7F) << shift
        shift += 7
        p += 1
    return v | (data[p] << shift), p + 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-b", type=int, default=1000)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--keyed", action="store_true")
    p.add_argument("--parts", type=int, default=0)
    p.add_argument("--skip", type=int, default=0)
    p.add_argument("--no-end", action="store_true")
    p.add_argument("--replay-ms", type=int, default=0)
    p.add_argument("--trail", default="")
    p.add_argument("--ingest", default="")
    p.add_argument("--offsets", action="append", default=[])
    p.add_argument("--kafka", default="")
    p.add_argument("--hold", action="append", default=[])
    p.add_argument("--deliver", choices=["held", "all"], default="held")
    p.add_argument("--show", metavar="FILE",
                   help="print FILE's whole batch frames as time key value")
    p.add_argument("batch", nargs="*")
    a = p.parse_args()
    if a.show:
        data = open(a.show, "rb").read()
        whole = []
        pos = 0
        while pos + HLEN <= len(data):  # complete frames only
            hlen = struct.unpack_from("<H", data, pos + 6)[0]  # a trail too
            plen = struct.unpack_from("<Q", data, pos + 32)[0]
            if pos + hlen + plen > len(data):
                break
            pos += hlen + plen
        for kind, t, _, _, recs in read_frames(data[:pos]):
            for k, v in recs if kind == BATCH else []:
                parts = [str(t)] + ([k.decode()] if k is not None else [])
                print(" ".join(parts + [v.decode()]))
        return
    global REPLAY_MS, TRAIL, INGEST, OFFSETS
    OFFSETS = [parse_offsets(o) for o in a.offsets]
    REPLAY_MS = a.replay_ms
    TRAIL = [(e.split("=")[0], int(e.split("=")[1]))
             for e in a.trail.split(",") if e]
    if a.ingest:
        INGEST = tuple(int(x) for x in a.ingest.split(","))
    batches = []
    for arg in a.batch:
        words = [] if arg == "-" else arg.split(" ")
        if a.keyed:
            recs = []
            for w in words:
                k, _, v = w.partition(":")
                recs.append((k.encode(), v.encode()))
        else:
            recs = [w.encode() for w in words]
        batches.append(recs)
    if a.kafka:
        batches = kafka(batches, a.kafka, a.hold, a.deliver == "all")
    sys.stdout.buffer.write(stream(batches, a.b, a.start, a.keyed, a.parts,
                                   a.skip, not a.no_end))


def kafka(batches, spec, holds, deliver_all):
    """A member's share of a topic's batches (--kafka): sets OFFSETS."""
    global OFFSETS
    topic, parts = spec.split(":")
    parts = int(parts)
    at = [0] * parts
    out, OFFSETS = [], []
    for i, recs in enumerate(batches):
        hold = holds[i] if i < len(holds) else "none"
        held = [] if hold == "none" else [int(p) for p in hold.split(",")]
        of = [zlib.crc32(k) % parts if k else 0 for k, _ in recs]
        n = [of.count(p) for p in range(parts)]
        OFFSETS.append((topic.encode(), parts,
                        [(p, at[p], at[p] + n[p]) for p in held]))
        out.append([r for r, p in zip(recs, of)
                    if deliver_all or p in held])
        at = [at[p] + n[p] for p in range(parts)]
    return out


if __name__ == "__main__":
    main()
