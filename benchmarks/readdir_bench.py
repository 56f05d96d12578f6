#!/usr/bin/env python3
"""Listings, jailfs against the floor of fs_bench.py, in many short rounds.

fs_bench.py times each operation once per size (best of --repeat), which on a
shared machine is mostly noise for the ~0.3 s a listing step takes.  This
mounts the floor and jailfs (fs_bench's), makes N jails in each, then runs
ROUNDS rounds, alternating which goes first, and prints the median and range
of the speed ratio (floor time / jailfs time: 1.0 or more is at least as fast)
of:

    cold    listing PER jail directories never listed before (a fresh slice
            each round: the kernel links their entries for the first time)
    warm    listing the same PER directories again
    root    listing the root (N jails and the root's own files)
    stat    stat of one parameter file in each of the PER jails

The client and the daemons run on one CPU unless ``--cpus`` says otherwise
(benchlib.PLACEMENTS).

    .venv/bin/python benchmarks/readdir_bench.py [--sizes 2000,20000] [--rounds 10] [--per 100]
        [--cpus same|split|free]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time

from benchlib import PLACEMENTS, place, stop
from fs_bench import mount

KINDS = ("floor", "jailfs")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def steps(mp: str, names: list[str]):
    return (("cold", lambda: [os.listdir(f"{mp}/{x}") for x in names]),
            ("warm", lambda: [os.listdir(f"{mp}/{x}") for x in names]),
            ("root", lambda: os.listdir(mp)),
            ("stat", lambda: [os.stat(f"{mp}/{x}/host.hostname") for x in names]))


@contextlib.contextmanager
def mounted(top: str):
    """The floor and jailfs mounted under ``top``: {kind: mount point}."""
    served = {}
    try:
        for kind in KINDS:
            mp = os.path.join(top, kind)
            os.mkdir(mp)
            served[kind] = (mount(kind, mp), mp)
        yield {kind: mp for kind, (_, mp) in served.items()}
    finally:
        for proc, mp in served.values():
            stop(proc, mp)


def run(n: int, rounds: int, per: int) -> None:
    rounds = min(rounds, n // per)
    with tempfile.TemporaryDirectory(prefix="readdirbench-") as top, mounted(top) as mps:
        names = [f"j{i}" for i in range(n)]
        for mp in mps.values():
            for x in names:
                os.mkdir(f"{mp}/{x}")
        ratios: dict[str, list[float]] = {}
        for r in range(rounds):
            chunk = names[r * per:(r + 1) * per]
            order = KINDS if r % 2 == 0 else KINDS[::-1]
            plans = {kind: steps(mps[kind], chunk) for kind in KINDS}
            for i, (label, _) in enumerate(plans["jailfs"]):
                t = {kind: timed(plans[kind][i][1]) for kind in order}
                ratios.setdefault(label, []).append(t["floor"] / t["jailfs"])
        for label, v in ratios.items():
            print(f"{n:>7} {label:<5} median {statistics.median(v):5.2f}   "
                  f"range {min(v):5.2f} - {max(v):5.2f}   ({len(v)} rounds of {per})")
            sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="2000", help="comma-separated jail counts (2000)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds per size (10)")
    ap.add_argument("--per", type=int, default=100, help="jail directories per round (100)")
    ap.add_argument("--cpus", choices=PLACEMENTS, default="same",
                    help="where the client and the daemons run (same)")
    args = ap.parse_args()
    place(args.cpus)
    for n in (int(s) for s in args.sizes.split(",")):
        run(n, args.rounds, args.per)
    return 0


if __name__ == "__main__":
    sys.exit(main())
