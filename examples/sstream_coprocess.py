"""sstream_coprocess - a reference client of sstream-coprocess(7).

Importing it does nothing; a user's script is a few lines:

    from sstream_coprocess import serve_map

    def shout(batch_time_ms, records):
        return [(k, v.upper()) for k, v in records]

    serve_map(shout)

run as: sstream-map --exec-coprocess 'python3 -u my_map.py' (with this
file on PYTHONPATH). Records are str: bytes decoded as UTF-8, any byte
that is not kept as a surrogate (errors='surrogateescape') and written
back as it came, so binary records survive.

serve_update(f) (for sstream-state --update-exec) is not here yet: that
mode of the protocol is not defined (see the man page).
"""

import sys

VERSION = 1
END = b"\\."


def _unescape(b):
    out = bytearray()
    i, n = 0, len(b)
    while i < n:
        j = b.find(b"\\", i)
        if j < 0:
            out += b[i:]
            break
        out += b[i:j]
        if j + 1 >= n:
            raise ValueError("backslash at the end of %r" % b)
        c = b[j + 1:j + 2]
        if c == b"\\":
            out += b"\\"
        elif c == b"t":
            out += b"\t"
        elif c == b"n":
            out += b"\n"
        else:
            raise ValueError("unknown escape in %r" % b)
        i = j + 2
    return out.decode("utf-8", "surrogateescape")


def _escape(s):
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
    return b.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n")


def _record(line, keyed):
    if not keyed:
        return _unescape(line)
    k, sep, v = line.partition(b"\t")
    if not sep:
        raise ValueError("no tab between key and value in %r" % line)
    return (_unescape(k), _unescape(v))


def _answer(out, rec, keyed):
    if keyed:
        k, v = rec
        out.write(_escape(str(k)) + b"\t" + _escape(str(v)) + b"\n")
    else:
        out.write(_escape(str(rec)) + b"\n")


def _batches(inp, mode):
    """(batch_time_ms, keyed, records) for each request on inp."""
    hello = inp.readline().split()
    if hello[:1] != [b"sstream-coprocess"] or hello[1:] != [
            str(VERSION).encode(), mode.encode()]:
        raise SystemExit("sstream_coprocess: unexpected hello %r" % hello)
    for line in inp:
        head = line.split()
        if len(head) != 4 or head[0] != b"batch":
            raise SystemExit("sstream_coprocess: bad batch line %r" % line)
        keyed = head[3] == b"keyed"
        records = []
        for rec in inp:
            rec = rec.rstrip(b"\n")
            if rec == END:
                break
            records.append(_record(rec, keyed))
        else:
            raise SystemExit("sstream_coprocess: no end line")
        yield int(head[1]), keyed, records


def serve_map(f, inp=None, out=None):
    """Answer every batch with f(batch_time_ms, records): records are
    (key, value) pairs when the batch's records have keys, else values;
    f returns the batch's records, in the same shape."""
    inp = inp or sys.stdin.buffer
    out = out or sys.stdout.buffer
    for time_ms, keyed, records in _batches(inp, "map"):
        for rec in f(time_ms, records) or ():
            _answer(out, rec, keyed)
        out.write(END + b"\n")
        out.flush()


# ---- sstream-window --reduce-exec, --inverse-exec, --filter-exec ----
#
# In these modes a request line is a key and its values, tab-separated:
# serve_reduce(f) folds them pairwise, as Spark's reduceFunc:
#
#     from sstream_coprocess import serve_reduce
#     serve_reduce(lambda a, b: str(int(a) + int(b)))
#
# serve_inverse(f) answers f(window_value, leaving_value) (invReduceFunc),
# serve_filter(f) keeps the (key, value) records for which f(key, value)
# is true (filterFunc). Values are str, as in serve_map; what f returns
# is written with str().

def _lines(inp, mode):
    """(batch_time_ms, [(raw_line, fields)]) for each request on inp, the
    fields unescaped."""
    hello = inp.readline().split()
    if not hello:
        return  # never asked: the hello goes with the first request
    if hello != [b"sstream-coprocess", str(VERSION).encode(), mode.encode()]:
        raise SystemExit("sstream_coprocess: unexpected hello %r" % hello)
    for line in inp:
        head = line.split()
        if len(head) != 4 or head[0] != b"batch":
            raise SystemExit("sstream_coprocess: bad batch line %r" % line)
        lines = []
        for rec in inp:
            rec = rec.rstrip(b"\n")
            if rec == END:
                break
            lines.append((rec, [_unescape(x) for x in rec.split(b"\t")]))
        else:
            raise SystemExit("sstream_coprocess: no end line")
        yield int(head[1]), lines


def _serve_fold(mode, fold, inp, out):
    inp = inp or sys.stdin.buffer
    out = out or sys.stdout.buffer
    for _, lines in _lines(inp, mode):
        for _, fields in lines:
            out.write(_escape(str(fold(fields[1:]))) + b"\n")
        out.write(END + b"\n")
        out.flush()


def serve_reduce(f, inp=None, out=None):
    """Mode reduce: answer each key's values folded as f(f(v1, v2), v3)..."""
    import functools
    _serve_fold("reduce", lambda vals: functools.reduce(f, vals), inp, out)


def serve_inverse(f, inp=None, out=None):
    """Mode inverse: answer f(window_value, leaving_value) for each key."""
    _serve_fold("inverse", lambda vals: f(vals[0], vals[1]), inp, out)


def serve_filter(f, inp=None, out=None):
    """Mode filter: answer the (key, value) records for which f(key, value)
    is true, each as it came."""
    inp = inp or sys.stdin.buffer
    out = out or sys.stdout.buffer
    for _, lines in _lines(inp, "filter"):
        for raw, fields in lines:
            if f(fields[0], fields[1]):
                out.write(raw + b"\n")
        out.write(END + b"\n")
        out.flush()
