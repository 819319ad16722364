#!/usr/bin/python3
"""window-restart.py - restart property of sstream-window --checkpoint:
a stage that read batches [0, k) and stopped, started again on batches
[j, N) with j <= k (the batches after j replayed, as a source's WAL
replays what the sink had not committed), prints exactly the frames an
uninterrupted run prints after batch j: the replayed batches' output
again, byte for byte, then the rest.

    window-restart.py SEEDS   prints "N restarts agree", or the mismatch
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames  # noqa: E402
from importlib import import_module  # noqa: E402

prop = import_module("window-prop")

CASES = [
    ["-w", "3", "-s", "1", "--reduce-by-key", "sum"],
    ["-w", "4", "-s", "2", "--reduce-by-key", "mean"],
    ["-w", "6", "-s", "4", "--reduce-by-key", "sum", "--keep-empty-keys"],
    ["-w", "5", "-s", "1", "--group-by-key"],
    ["-w", "3", "-s", "3", "--count-by-value", "--no-inverse"],
    ["-w", "2", "-s", "3"],
    ["-w", "12", "--reduce", "max"],
    ["-w", "12", "--count"],
    ["--session-gap", "3", "--reduce-by-key", "sum"],
    ["--session-gap", "2", "--group-by-key"],
]


def run(data, args):
    p = subprocess.run(["sstream-window"] + args, input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode())
        raise SystemExit("sstream-window %s: exit %d" % (" ".join(args),
                                                          p.returncode))
    return frames.read_frames(p.stdout)


def main():
    n = 0
    tmp = tempfile.mkdtemp()
    try:
        for seed in range(int(sys.argv[1])):
            rnd = random.Random(seed)
            batches = prop.gen(seed, 40, 12, seed % 2 == 0)
            data = frames.stream(batches, 1000, 0, True, 3)
            for args in CASES:
                full = run(data, args)
                k = rnd.randint(1, len(batches) - 1)
                j = rnd.randint(max(0, k - 5), k)
                ck = os.path.join(tmp, "ck%d" % n)
                a = ["--checkpoint", ck] + args
                first = run(frames.stream(batches[:k], 1000, 0, True, 3), a)
                second = run(frames.stream(batches, 1000, 0, True, 3, j), a)
                want1 = [f for f in full[:-1] if f[1] <= k * 1000]
                want2 = [f for f in full[:-1] if f[1] > j * 1000]
                if first[:-1] != want1 or second[:-1] != want2:
                    print("seed %d, %s: stop after %d, restart at %d: "
                          "output differs" % (seed, " ".join(args), k, j))
                    print("  got  %r\n  want %r" % (second[:-1][:3],
                                                    want2[:3]))
                    return 1
                n += 1
    finally:
        shutil.rmtree(tmp)
    print("%d restarts agree" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
