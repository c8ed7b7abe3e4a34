#!/usr/bin/env python3
"""Where a process's resident memory is: RSS per mapped file (or [heap], [anon], ...).

Usage: rss_by_mapping.py PID [BASELINE_PID]
With two PIDs, also lists what only the first maps and the difference for what both map.
Used for the memory notes in bench/RESULTS.md (Linux /proc/PID/smaps, kB).
"""
import collections
import re
import sys


def by_mapping(pid):
    agg = collections.Counter()
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                cur = (parts[5] if len(parts) > 5 else "[anon]").split("/")[-1]
            elif line.startswith("Rss:"):
                agg[cur] += int(line.split()[1])
    return agg


def rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Rss", "Pss_Anon", "Pss_File"):
                out[k] = int(v.split()[0])
    return out


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 64
    a = by_mapping(sys.argv[1])
    print(f"{sys.argv[1]}: {rollup(sys.argv[1])}")
    for name, kb in a.most_common(20):
        print(f"  {kb:7d} kB  {name}")
    if len(sys.argv) == 3:
        b = by_mapping(sys.argv[2])
        print(f"{sys.argv[2]}: {rollup(sys.argv[2])}")
        only = sorted(((k, v) for k, v in a.items() if k not in b), key=lambda x: -x[1])
        print(f"only in {sys.argv[1]}: {sum(v for _, v in only)} kB")
        for name, kb in only:
            print(f"  {kb:7d} kB  {name}")
        both = sorted(((k, a[k] - b[k]) for k in a if k in b and a[k] != b[k]), key=lambda x: -abs(x[1]))
        print("in both, difference:")
        for name, kb in both[:10]:
            print(f"  {kb:+7d} kB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
