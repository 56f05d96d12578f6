#!/usr/bin/env python3
"""A daemon holding many jails: memory per jail and flat latency.

One ``jailfs mount`` is filled through the mount (mkdir, as a user would)
up to 1,000, 100,000 and 999,999 jails (``--quick``: up to 100,000).  At
each checkpoint:

- memory per jail: (daemon RSS - its RSS with no jails) / jails;
- stat and cat of ``host.hostname`` in 2,000 jails spread over the whole
  table (best of 3), as µs per operation, and its ratio to the figure at
  the first checkpoint (flat: at most 1.2).

    .venv/bin/python benchmarks/scale_bench.py [--quick] [--sizes 1000,100000,999999]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from benchlib import best_of, jailfs_cmd, rss_mib, start, stop

SAMPLE = 2000


def sample(n: int) -> list[str]:
    step = max(1, n // SAMPLE)
    return [f"j{i}" for i in range(0, n, step)][:SAMPLE]


def stat_all(mp: str, names: list[str]) -> None:
    for x in names:
        os.stat(f"{mp}/{x}/host.hostname")


def cat_all(mp: str, names: list[str]) -> None:
    for x in names:
        with open(f"{mp}/{x}/host.hostname", "rb") as f:
            f.read()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1000 and 100000")
    ap.add_argument("--sizes", help="comma-separated checkpoints (default 1000,100000,999999)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([1000, 100000] if args.quick else [1000, 100000, 999999])
    with tempfile.TemporaryDirectory(prefix="scalebench-") as mp:
        proc = start(jailfs_cmd(mp), mp)
        try:
            empty = rss_mib(proc.pid)
            print(f"empty daemon: {empty:.1f} MiB RSS")
            print(f"{'jails':>7} {'RSS MiB':>8} {'B/jail':>7} {'mkdir s':>8} "
                  f"{'stat µs':>8} {'cat µs':>7} {'stat ×':>7} {'cat ×':>6}")
            made = 0
            first = None
            for n in sizes:
                t0 = time.perf_counter()
                for i in range(made, n):
                    os.mkdir(f"{mp}/j{i}")
                made_s = time.perf_counter() - t0
                made = n
                rss = rss_mib(proc.pid)
                names = sample(n)
                st = best_of(3, lambda: stat_all(mp, names)) / len(names) * 1e6
                ct = best_of(3, lambda: cat_all(mp, names)) / len(names) * 1e6
                first = first or (st, ct)
                print(f"{n:>7} {rss:>8.1f} {(rss - empty) * 2**20 / n:>7.0f} {made_s:>8.1f} "
                      f"{st:>8.1f} {ct:>7.1f} {st / first[0]:>7.2f} {ct / first[1]:>6.2f}")
                sys.stdout.flush()
        finally:
            stop(proc, mp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
