#!/usr/bin/env python3
"""Summarise `/usr/bin/time -v` reports written by compare.sh.

    timings.py DIR TOOL [TOOL ...]

Reads DIR/TOOL.RUN.time for every run and prints, per tool, the median wall-clock seconds,
the median peak resident set size (MB = 10^6 bytes) and both as ratios to the first tool.
"""
import glob
import os
import re
import statistics
import sys


def parse(path):
    wall = rss = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                t = line.rsplit(": ", 1)[1]
                parts = [float(p) for p in t.split(":")]
                wall = 0.0
                for p in parts:
                    wall = wall * 60 + p
            elif line.startswith("Maximum resident set size"):
                rss = int(line.rsplit(": ", 1)[1]) * 1024 / 1e6
    if wall is None or rss is None:
        sys.exit(f"error: {path}: not a /usr/bin/time -v report")
    return wall, rss


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: timings.py DIR TOOL [TOOL ...]")
    d, tools = sys.argv[1], sys.argv[2:]
    rows = []
    for tool in tools:
        files = sorted(glob.glob(os.path.join(d, f"{tool}.*.time")),
                       key=lambda p: int(re.search(r"\.(\d+)\.time$", p).group(1)))
        if not files:
            sys.exit(f"error: no timings for {tool} in {d}")
        runs = [parse(p) for p in files]
        rows.append((tool, len(runs), statistics.median(w for w, _ in runs),
                     statistics.median(r for _, r in runs)))
    base_w, base_r = rows[0][2], rows[0][3]
    head = ("tool", "runs", "median wall s", "median peak RSS MB",
            f"time / {rows[0][0]}", f"memory / {rows[0][0]}")
    table = [head] + [(t, str(n), f"{w:.2f}", f"{r:.1f}",
                       f"{w / base_w:.2f}x" if base_w > 0 else "n/a",
                       f"{r / base_r:.2f}x" if base_r > 0 else "n/a")
                      for t, n, w, r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for k, row in enumerate(table):
        print("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                        for i, c in enumerate(row)))
        if k == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
