#!/usr/bin/env python3
"""gen-lines.py [--lines N] [--words-per-line K] - deterministic text.

The fallback of bench/*.sh when ../shared/bench/gen-words.py is absent:
N lines of K words, drawn from a 50000-word vocabulary with a skew
towards short, frequent words, from a fixed seed. The same arguments
always give the same bytes.
"""
import argparse
import random
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--words-per-line", type=int, default=10)
    a = p.parse_args()
    rng = random.Random(42)
    vocab = ["w%d" % r for r in range(1, 50001)]
    out = sys.stdout
    for start in range(0, a.lines, 10000):
        n = min(10000, a.lines - start)
        # rank ~ exp(uniform): small ranks (short words) are frequent
        words = [vocab[min(int(rng.expovariate(1.0) ** 3 * 20), 49999)]
                 for _ in range(n * a.words_per_line)]
        k = a.words_per_line
        out.write("\n".join(" ".join(words[i:i + k])
                            for i in range(0, len(words), k)))
        out.write("\n")


if __name__ == "__main__":
    main()
