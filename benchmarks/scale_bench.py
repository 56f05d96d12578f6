#!/usr/bin/env python3
"""A daemon holding many jails: memory per jail and flat latency.

One ``jailfs mount`` is filled through the mount (mkdir, as a user would)
up to 1,000, 100,000 and 999,999 jails (``--quick``: up to 100,000); a
second mount holds 1,000 jails throughout, the baseline.  At each
checkpoint:

- memory per jail: (daemon RSS - its RSS with no jails) / jails;
- stat and cat of ``host.hostname`` in 1,000 jails spread over the whole
  table (as many as the baseline holds, each touched once: both mounts ask
  Linux's caches for the same number of distinct dentries and inodes; a
  sample of 2,000 against the baseline's 1,000 measured the CPU's caches,
  1.8-2x, not the number of jails), as µs per operation, run alternately with the same on the
  baseline mount (best of 3 each), and the ratio of the two (flat: at
  most 1.2).

    .venv/bin/python benchmarks/scale_bench.py [--quick] [--sizes 1000,100000,999999]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from benchlib import best_of, jailfs_cmd, rss_mib, start, stop

BASE_JAILS = 1000
SAMPLE = BASE_JAILS
STAT_PASSES = 20            # a stat takes ~2 µs: one pass over the sample is too short to time


def sample(n: int) -> list[str]:
    """SAMPLE names spread over j0 .. j(n-1) (repeating when n is smaller)."""
    return [f"j{i * n // SAMPLE}" for i in range(SAMPLE)]


def stat_all(paths: list[str]) -> None:
    for _ in range(STAT_PASSES):
        for path in paths:
            os.stat(path)


def cat_all(paths: list[str]) -> None:
    for path in paths:
        with open(path, "rb") as f:
            f.read()


def files(mp: str, names: list[str]) -> list[str]:
    return [f"{mp}/{x}/host.hostname" for x in names]


def fill(mp: str, start: int, end: int) -> float:
    t0 = time.perf_counter()
    for i in range(start, end):
        os.mkdir(f"{mp}/j{i}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1000 and 100000")
    ap.add_argument("--sizes", help="comma-separated checkpoints (default 1000,100000,999999)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([1000, 100000] if args.quick else [1000, 100000, 999999])
    with tempfile.TemporaryDirectory(prefix="scalebench-") as mp, \
            tempfile.TemporaryDirectory(prefix="scalebench-base-") as base_mp:
        procs = {}
        try:
            procs[base_mp] = start(jailfs_cmd(base_mp), base_mp)
            fill(base_mp, 0, BASE_JAILS)
            base_paths = files(base_mp, sample(BASE_JAILS))
            procs[mp] = start(jailfs_cmd(mp), mp)
            empty = rss_mib(procs[mp].pid)
            print(f"empty daemon: {empty:.1f} MiB RSS; baseline mount: {BASE_JAILS} jails")
            print(f"{'jails':>7} {'RSS MiB':>8} {'B/jail':>7} {'mkdir s':>8} "
                  f"{'stat µs':>8} {'base':>6} {'cat µs':>7} {'base':>6} {'stat ×':>7} {'cat ×':>6}")
            made = 0
            for n in sizes:
                made_s = fill(mp, made, n)
                made = n
                rss = rss_mib(procs[mp].pid)
                paths = files(mp, sample(n))
                st, bst = (t / SAMPLE / STAT_PASSES * 1e6 for t in best_of(
                    5, lambda: stat_all(paths), lambda: stat_all(base_paths)))
                ct, bct = (t / SAMPLE * 1e6 for t in best_of(
                    5, lambda: cat_all(paths), lambda: cat_all(base_paths)))
                print(f"{n:>7} {rss:>8.1f} {(rss - empty) * 2**20 / n:>7.0f} {made_s:>8.1f} "
                      f"{st:>8.1f} {bst:>6.1f} {ct:>7.1f} {bct:>6.1f} {st / bst:>7.2f} {ct / bct:>6.2f}")
                sys.stdout.flush()
        finally:
            for where, proc in procs.items():
                stop(proc, where)
    return 0


if __name__ == "__main__":
    sys.exit(main())
