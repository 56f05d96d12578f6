#!/usr/bin/env python3
"""Creating jails one request at a time on a mount that already holds many:
is the cost of one more jail flat in the number of jails?

Jails are created through `.ctl` (`create name=... persist`, one write each):
first 1,000 untimed (the daemon's first jails warm its caches), then in rounds
that double the mount's population (to 2,000, 4,000, ... up to ``--jails``),
and each round's cost per jail is printed: wall clock and the
daemon's CPU time (every thread's run time, /proc/PID/task/*/schedstat), the
latter being what a shared machine leaves undisturbed.  The same rounds run
with plain jails and with vnet jails (``vnet``: each gets its own network
stack, which the daemon's interface keeper follows), each on its own mount.
Flat means the last round's CPU time per jail within 1.3x of the first's.
(Before the vnet module kept an index of its epairs, the interface keeper
walked every vnet jail's stack on every event: 6x at 8,000 vnet jails.)

    .venv/bin/python benchmarks/create_bench.py [--jails 16000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from benchlib import cpu_seconds, jailfs_cmd, start, stop

WARM_UP = 1000


def rounds(total: int) -> list[int]:
    """Jails made per round, the first (untimed) included: each round doubles
    the population."""
    out = [WARM_UP]
    while 2 * sum(out) <= total:
        out.append(sum(out))
    return out


def run(kind: str, total: int) -> list[tuple[int, float, float]]:
    """(jails after the round, wall us per jail, daemon CPU us per jail) per round."""
    extra = " vnet" if kind == "vnet" else ""
    out = []
    with tempfile.TemporaryDirectory(prefix="createbench-") as mp:
        proc = start(jailfs_cmd(mp), mp)
        try:
            fd = os.open(os.path.join(mp, ".ctl"), os.O_RDWR)
            try:
                made = 0
                for size in rounds(total):
                    c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                    for i in range(made, made + size):
                        os.pwrite(fd, f"create name=j{i} persist{extra}\n".encode(), 0)
                    wall = time.perf_counter() - t0
                    if made:
                        out.append((made + size, wall / size * 1e6,
                                    (cpu_seconds(proc.pid) - c0) / size * 1e6))
                    made += size
            finally:
                os.close(fd)
        finally:
            stop(proc, mp)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jails", type=int, default=16000,
                    help="jails at the end of the last round (16000)")
    args = ap.parse_args()
    print(f"{'kind':<6} {'jails':>7} {'wall us/jail':>13} {'cpu us/jail':>12} {'cpu vs first':>13}")
    for kind in ("plain", "vnet"):
        results = run(kind, args.jails)
        first = results[0][2]
        for made, wall, cpu in results:
            print(f"{kind:<6} {made:>7} {wall:>13.0f} {cpu:>12.0f} {cpu / first:>13.2f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
