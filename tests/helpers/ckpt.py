"""ckpt.py - read and write checkpoint files (man/sstream-state.1,
CHECKPOINT FORMAT; lib/ckpt.c) for tests that craft hostile ones:

    import ckpt
    s = ckpt.load("c/000000000001.snap")
    s.recs[0][1] = b"..."          # change a value
    ckpt.save("c/000000000001.snap", s)   # checksums made to match

A snapshot has opts [(name, value)], recs [[key, value]] and blobs
[[time, bytes]] (a stage's blob: its input batch's digest, 8 bytes, then
what it keeps); a log has entries [[time, [[op, key, value]]]] (op 1
put, 2 delete with value None, 3 blob with key the bytes and value None).
Bytes are bytes. Times are ints.
"""
import struct

import xxhash

SNAP, LOG = 1, 2
PUT, DEL, BLOB = 1, 2, 3


class File:
    pass


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def string(b):
    return varint(len(b)) + b


class Reader:
    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def varint(self):
        v, shift = 0, 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    def string(self):
        n = self.varint()
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s

    def u64(self):
        v = struct.unpack_from("<Q", self.data, self.pos)[0]
        self.pos += 8
        return v

    def i64(self):
        v = struct.unpack_from("<q", self.data, self.pos)[0]
        self.pos += 8
        return v


def load(path):
    data = open(path, "rb").read()
    f = File()
    f.version, f.kind = struct.unpack_from("<HH", data, 4)
    f.gen, f.time = struct.unpack_from("<Qq", data, 8)
    r = Reader(data, 40)
    if f.kind == SNAP:
        f.opts = [(r.string(), r.string()) for _ in range(r.varint())]
        f.recs = [[r.string(), r.string()] for _ in range(r.u64())]
        f.blobs = [[r.i64(), r.string()] for _ in range(r.u64())]
        return f
    f.entries = []
    while r.pos < len(data):
        blen, t = struct.unpack_from("<Iq", data, r.pos + 4)
        e = Reader(data[r.pos + 24:r.pos + 24 + blen])
        ops = []
        while e.pos < blen:
            op = e.data[e.pos]
            e.pos += 1
            k = e.string()
            ops.append([op, k, e.string() if op == PUT else None])
        f.entries.append([t, ops])
        r.pos += 24 + blen
    return f


def header(version, kind, gen, time, body):
    return struct.pack("<4sHHQqQQ", b"SSCK", version, kind, gen, time, body, 0)


def seal(h, rest=b""):
    """h (40 bytes, checksum field zero) with its XXH64 over h and rest."""
    s = xxhash.xxh64(h + rest).intdigest()
    return h[:32] + struct.pack("<Q", s)


def save(path, f):
    if f.kind == SNAP:
        body = varint(len(f.opts))
        for k, v in f.opts:
            body += string(k) + string(v)
        body += struct.pack("<Q", len(f.recs))
        for k, v in f.recs:
            body += string(k) + string(v)
        body += struct.pack("<Q", len(f.blobs))
        for t, b in f.blobs:
            body += struct.pack("<q", t) + string(b)
        data = seal(header(f.version, SNAP, f.gen, f.time, len(body)), body) + body
    else:
        data = seal(header(f.version, LOG, f.gen, f.time, 0))
        for t, ops in f.entries:
            body = b""
            for op, k, v in ops:
                body += bytes([op]) + string(k)
                if op == PUT:
                    body += string(v)
            head = b"SSCD" + struct.pack("<Iq", len(body), t)
            s = xxhash.xxh64(head, seed=xxhash.xxh64(body).intdigest())
            data += head + struct.pack("<Q", s.intdigest()) + body
    open(path, "wb").write(data)
