#!/usr/bin/env python3
# lateness-model.py - an independent model of event time with allowed
# lateness, for tests/lateness.bats: what
#
#   sstream-source --event-time 1 -b IV --max-delay D \
#       --late-policy update --allowed-lateness LS --late LATE |
#   sstream-map --map field:2 [| sstream-window -w W -s S --count-by-value
#       --allowed-lateness LW] | sstream-sink --print=100000
#
# prints, from the man pages' rules (sstream-source(1), sstream-window(1),
# sstream(5) UPDATES), not from the code.
#
# Usage: lateness-model.py LOG IV D LS [W S LW] > expected-print
#        (the late file's expected lines go to the file named by $LATE_OUT,
#        the window's rejects to $REJECTS_OUT)
#        lateness-model.py --upsert < print-output
#        (each time's last frame, in time order: what a consumer that
#        upserts the updates ends with)
import os
import sys


def ceil_to(t, m):
    return -(-t // m) * m


def source(rows, iv, delay, ls):
    """Frames as (time, kind, values): kind 'batch' or 'adds'; and the
    records beyond the lateness."""
    frames, beyond = [], []
    open_ = {}  # batch time -> values
    pending = {}  # batch time -> late values, for an update
    wm = mx = nxt = first = None
    newest = None

    def send_upto(limit):
        nonlocal nxt, first
        while nxt is not None and nxt <= limit:
            if first is None:
                first = nxt
            for t in sorted(pending):
                frames.append((t, "adds", pending[t]))
            pending.clear()
            frames.append((nxt, "batch", open_.pop(nxt, [])))
            nxt += iv

    for t, v in rows:
        b = ceil_to(t, iv)
        if wm is not None and b <= wm:
            # a batch sent, not too long ago (none before the first)
            if first is not None and b >= first and wm - b <= ls:
                pending.setdefault(b, []).append(v)
            else:
                beyond.append("%d\t%s" % (t, v))
            continue
        if nxt is None or b < nxt:
            nxt = b
        newest = b if newest is None else max(newest, b)
        open_.setdefault(b, []).append(v)
        if mx is None or t > mx:
            mx = t
            wm = mx - delay
            send_upto(wm)
    if nxt is not None:
        send_upto(newest)
        for t in sorted(pending):
            frames.append((t, "adds", pending[t]))
    return frames, beyond


def count_by_value(values):
    counts = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return [(k, str(counts[k])) for k in sorted(counts, key=str.encode)]


def window(frames, w, s, lw):
    """The window stage: frames as (time, kind, records) with kind
    'batch' or 'replaces'; the rejected late values. Updates that come
    between two batches are applied together before the next batch (or
    the end): each window they change goes out again once."""
    data, out, rejects, touched = {}, [], [], set()
    last = emitted = None

    def value(e):
        vals = []
        for t in sorted(data):
            if e - w < t <= e:
                vals += data[t]
        return count_by_value(vals)

    def holds(e, t):
        return e >= t and e - w < t

    def flush():
        if not touched:
            return
        e = ceil_to(last - lw, s)
        while e <= emitted:
            if any(holds(e, t) for t in touched):
                out.append((e, "replaces", value(e)))
            e += s
        touched.clear()

    for t, kind, vals in frames:
        if kind == "batch":
            flush()
            data.setdefault(t, []).extend(vals)
            e = ceil_to(t, s) if emitted is None else emitted + s
            while e <= t:
                out.append((e, "batch", value(e)))
                emitted = e
                e += s
            last = t
            continue
        first = max(ceil_to(t, s), ceil_to(last - lw, s))
        if not holds(first, t):
            rejects += vals
            continue
        data.setdefault(t, []).extend(vals)
        touched.add(t)
    flush()
    return out, rejects


def show(frames):
    mark = {"batch": "", "adds": " (update: adds)",
            "replaces": " (update: replaces)"}
    dash = "-" * 43
    for t, kind, recs in frames:
        print(dash)
        print("Time: %d ms%s" % (t, mark[kind]))
        print(dash)
        for r in recs:
            print("(%s,%s)" % r if isinstance(r, tuple) else r)
        print()


def upsert():
    last, order, cur = {}, [], None
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.startswith("Time: "):
            cur = int(line.split()[1])
            if cur not in last:
                order.append(cur)
            last[cur] = []
        elif cur is not None and line and not line.startswith("---"):
            last[cur].append(line)
    for t in sorted(order):
        print("%d\t%s" % (t, " ".join(last[t])))


def main():
    if sys.argv[1] == "--upsert":
        upsert()
        return
    rows = []
    for line in open(sys.argv[1]):
        t, v = line.rstrip("\n").split("\t")
        rows.append((int(t), "%s" % v))
    iv, delay, ls = (int(a) for a in sys.argv[2:5])
    frames, beyond = source(rows, iv, delay, ls)
    if os.environ.get("LATE_OUT"):
        with open(os.environ["LATE_OUT"], "w") as f:
            f.write("".join(b + "\n" for b in beyond))
    if len(sys.argv) > 5:
        w, s, lw = (int(a) for a in sys.argv[5:8])
        frames, rejects = window(frames, w, s, lw)
        if os.environ.get("REJECTS_OUT"):
            with open(os.environ["REJECTS_OUT"], "w") as f:
                f.write("".join(r + "\n" for r in rejects))
    show(frames)


if __name__ == "__main__":
    main()
