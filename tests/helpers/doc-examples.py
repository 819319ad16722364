#!/usr/bin/python3
"""doc-examples.py - the shell sessions of README.md and the man pages.

    doc-examples.py FILE            list them, as JSON
    doc-examples.py --run DIR FILE  run them in DIR, in order
    doc-examples.py --capture NAME FILE [NEW]
                                    print the block after the line
                                    "<!-- capture: NAME -->"; with NEW,
                                    first replace it with NEW's lines

Every example session of FILE: a block (an indented
code block of Markdown, an .EX/.EE block of roff) that holds lines
starting with "$ ". Each session is {"line": N, "cmds": "...", "out":
"..."}: the commands of one "$ " line (with the lines that continue it,
after a line ending in '|' or a backslash) and the output printed under
it, up to the next "$ " line or the end of the block, as a reader sees
them (roff escapes undone). tests/docs.bats runs them.

--run runs the sessions one after the other with bash in DIR (so that a
file made by one is there for the next, as for a reader who types them
in order), stdout and stderr together, and compares what they print
with the page, byte for byte. Sessions that need a live producer or a
server (their commands match LIVE) are skipped. It prints one line per
session (ok, skip, or the difference) and "N run, N skipped, N failed";
the exit status is 1 when one failed.
"""
import difflib
import json
import re
import subprocess
import sys

LIVE = re.compile(r"tail -F|\bnc |--connect|--listen|--exec|psql")

ROFF = [(r"\-", "-"), (r"\(aq", "'"), (r"\(dq", '"'), (r"\e", "\\"),
        (r"\&", ""), (r"\(em", "--")]


def unroff(line):
    for a, b in ROFF:
        line = line.replace(a, b)
    return line


def blocks_md(text):
    """Indented code blocks: runs of lines indented 4 spaces (blank lines
    inside kept), as (first line number, lines)."""
    block, start = [], 0
    for i, line in enumerate(text.split("\n") + ["END"], 1):
        if line.startswith("    ") or (block and line == ""):
            if not block:
                start = i
            block.append(line[4:])
            continue
        while block and block[-1] == "":
            block.pop()
        if block:
            yield start, block
        block = []


def blocks_roff(text):
    block, start = None, 0
    for i, line in enumerate(text.split("\n"), 1):
        if line.startswith(".EX"):
            block, start = [], i + 1
        elif line.startswith(".EE") and block is not None:
            yield start, block
            block = None
        elif block is not None and not line.startswith(".\\\""):
            block.append(unroff(line))


def sessions(start, block):
    out, cur = [], None
    i = 0
    while i < len(block):
        line = block[i]
        if line.startswith("$ "):
            at = start + i
            cmds = [line[2:]]
            while re.search(r"(\||\\)$", cmds[-1]) and i + 1 < len(block):
                i += 1
                cmds.append(block[i].strip())
            cur = {"line": at, "cmds": "\n".join(cmds), "out": []}
            out.append(cur)
        elif cur is not None:
            cur["out"].append(line)
        i += 1
    for s in out:
        while s["out"] and s["out"][-1] == "":
            s["out"].pop()
        s["out"] = "\n".join(s["out"])
    return out


def find(path):
    text = open(path, encoding="utf-8").read()
    blocks = blocks_md(text) if path.endswith(".md") else blocks_roff(text)
    found = []
    for start, block in blocks:
        found += sessions(start, block)
    return found


def save_examples(where, path):
    """The page's named examples (.\\" example-begin NAME) as files in
    'where', for the sessions that run them (sstream(5): upper.py)."""
    name, lines = None, []
    for line in open(path, encoding="utf-8").read().split("\n"):
        m = re.match(r'\.\\" example-(begin|end) (\S+)$', line)
        if m and m.group(1) == "begin":
            name, lines = m.group(2), []
        elif m and name:
            body = [unroff(x) for x in lines if not x.startswith(".")]
            open("%s/%s" % (where, name), "w").write("\n".join(body) + "\n")
            name = None
        elif name:
            lines.append(line)


def run(where, path):
    ran = skipped = failed = 0
    save_examples(where, path)
    for s in find(path):
        name = "%s:%d" % (path.rsplit("/", 1)[-1], s["line"])
        if LIVE.search(s["cmds"]):
            print("skip %s (live)" % name)
            skipped += 1
            continue
        ran += 1
        got = subprocess.run(["bash", "-c", s["cmds"]], cwd=where,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=60).stdout.decode("utf-8", "replace")
        got = got.rstrip("\n")
        if got == s["out"]:
            print("ok %s" % name)
            continue
        failed += 1
        print("FAIL %s: $ %s" % (name, s["cmds"]))
        for d in difflib.unified_diff(s["out"].split("\n"), got.split("\n"),
                                      "page", "run", lineterm=""):
            print("  " + d)
    print("%d run, %d skipped, %d failed" % (ran, skipped, failed))
    return 1 if failed else 0


def capture(name, path, new=None):
    """A screen a test captured (tests/top.bats), kept in a Markdown page
    as the indented block after '<!-- capture: NAME -->': the test
    compares it with what the terminal shows, or (NEW) writes it."""
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    mark = lines.index("<!-- capture: %s -->" % name)
    for start, block in blocks_md(text):
        if start > mark + 1:
            break
    else:
        raise SystemExit("doc-examples.py: no block after the %s mark" % name)
    if new is not None:
        shown = open(new, encoding="utf-8").read().rstrip("\n").split("\n")
        lines[start - 1:start - 1 + len(block)] = [
            ("    " + x).rstrip() for x in shown]
        open(path, "w", encoding="utf-8").write("\n".join(lines))
        block = shown
    print("\n".join(block))
    return 0


def main():
    if sys.argv[1] == "--capture":
        return capture(*sys.argv[2:5])
    if sys.argv[1] == "--run":
        return run(sys.argv[2], sys.argv[3])
    json.dump(find(sys.argv[1]), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
