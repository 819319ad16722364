#!/usr/bin/python3
"""window-prop.py - property test of sstream-window: over random streams
(fixed seeds, many keys, empty batches, batches in parts), the output with
inverse reduce, the output with --no-inverse, and a naive recomputation
written here from the definition (a window ending at E holds the batches
whose time is in (E - W, E]; ends are multiples of the slide) must be the
same frames, byte for byte.

    window-prop.py SEEDS    prints "N cases agree", or the first mismatch
"""
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames  # noqa: E402

INTERVAL = 1000
PAIRS = [(1, 1), (3, 1), (4, 2), (2, 3), (6, 4), (5, 5), (12, 1)]


def gen(seed, nbatches, nkeys, fractions):
    rnd = random.Random(seed)
    keys = [b"k%d" % i for i in range(nkeys)] + [b""]
    batches = []
    for _ in range(nbatches):
        if rnd.random() < 0.2:
            batches.append([])
            continue
        recs = []
        for _ in range(rnd.randint(1, 12)):
            v = rnd.randint(-50, 50)
            if fractions and rnd.random() < 0.3:
                val = b"%d.%s" % (v, rnd.choice([b"5", b"25", b"75"]))
            else:
                val = b"%d" % v
            recs.append((rnd.choice(keys), val))
        batches.append(recs)
    return batches


def fmt(x):
    if x == int(x) and abs(x) < 1e15:
        return b"%d" % int(x)
    return repr(x).encode()


def num(v):
    return float(v) if b"." in v else int(v)


def aggregate(mode, recs, sep):
    """Records of one window -> {key: value bytes} (keyless: key b"")."""
    groups = {}
    for k, v in recs:
        if mode in ("count", "reduce-sum", "reduce-mean"):
            k = b""
        elif mode == "count-by-value":
            k, v = k + b"\t" + v, v
        groups.setdefault(k, []).append(v)
    out = {}
    for k, vs in groups.items():
        if mode in ("sum", "reduce-sum"):
            out[k] = fmt(sum(num(v) for v in vs))
        elif mode in ("mean", "reduce-mean"):
            out[k] = fmt(sum(num(v) for v in vs) / len(vs))
        elif mode in ("count", "count-by-value"):
            out[k] = b"%d" % len(vs)
        elif mode == "max":
            out[k] = fmt(max(num(v) for v in vs))
        elif mode == "group":
            out[k] = sep.join(vs)
    return out


def naive(batches, w, s, mode, keep_empty):
    w, s = w * INTERVAL, s * INTERVAL
    times = [(i + 1) * INTERVAL for i in range(len(batches))]
    first = -(-times[0] // s) * s
    out, seen = [], set()
    for end in range(first, times[-1] + 1, s):
        recs = [r for t, b in zip(times, batches) if end - w < t <= end
                for r in b]
        if mode == "plain":
            out.append((end, s, frames.KEYED, recs))
            continue
        agg = aggregate(mode, recs, b",")
        seen |= set(agg)
        if keep_empty:
            for k in seen - set(agg):
                agg[k] = b"0"
        keyless = mode in ("count", "reduce-sum", "reduce-mean")
        if mode == "count" and not agg and seen:  # Spark: none before
            agg[b""] = b"0"
        rows = [(None if keyless else k, agg[k]) for k in sorted(agg)]
        out.append((end, s, 0 if keyless else frames.KEYED, rows))
    return out


ARGS = {
    "plain": [],
    "sum": ["--reduce-by-key", "sum"],
    "mean": ["--reduce-by-key", "mean"],
    "max": ["--reduce-by-key", "max"],
    "count": ["--count"],
    "count-by-value": ["--count-by-value"],
    "group": ["--group-by-key"],
    "reduce-sum": ["--reduce", "sum"],
    "reduce-mean": ["--reduce", "mean"],
}


def run(data, args):
    p = subprocess.run(["sstream-window"] + args, input=data,
                       stdout=subprocess.PIPE, check=True)
    got = frames.read_frames(p.stdout)
    assert got[-1][0] == frames.END
    return [(t, i, f & frames.KEYED, r) for _, t, i, f, r in got[:-1]]


def main():
    cases = 0
    for seed in range(int(sys.argv[1])):
        rnd = random.Random(seed)
        fractions = seed % 2 == 0
        batches = gen(seed, 150 if seed == 0 else 40, 30, fractions)
        data = frames.stream(batches, INTERVAL, 0, True, rnd.choice([0, 3]))
        for w, s in PAIRS:
            for mode in ARGS:
                for keep in ([False, True] if mode in ("sum", "count-by-value")
                             else [False]):
                    want = naive(batches, w, s, mode, keep)
                    base = ["-w", str(w), "-s", str(s)] + ARGS[mode]
                    if keep:
                        base.append("--keep-empty-keys")
                    for extra in ([], ["--no-inverse"]):
                        got = run(data, base + extra)
                        if got != want:
                            print("seed %d: %s differs from the naive "
                                  "recomputation" % (seed, " ".join(base +
                                                                    extra)))
                            for a, b in zip(got, want):
                                if a != b:
                                    print("  got  %r\n  want %r" % (a, b))
                                    break
                            return 1
                        cases += 1
    print("%d cases agree" % cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
