#!/usr/bin/env python3
"""Issue 9's churn: jails each holding a real process, made and removed.

One daemon, three phases, each ``--jails`` (10,000) iterations:

1. plain: mkdir J, rmdir J (no process) -- the baseline;
2. processes: mkdir J, start ``sleep``, ``attach J PID`` through .ctl (it
   joins J's cgroup), rmdir J (the cgroup is killed, the process reaped, the
   jail freed);
3. plain again.

Prints the median mkdir+rmdir time of phases 1 and 3 and the daemon's
resident memory after each phase, and whether phase 3 is within 10% of
phase 1 (time and memory): a daemon that keeps something per jail that ever
had a process (a view, a cgroup, a watcher) fails it.

    .venv/bin/python benchmarks/churn_bench.py [--jails 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import jailfs_cmd, rss_mib, start, stop

from jailfs.ctlproto import ctl_answer

TOLERANCE = 0.10


def plain(mp: str, n: int) -> list[float]:
    times = []
    for i in range(n):
        path = os.path.join(mp, f"p{i}")
        t0 = time.perf_counter()
        os.mkdir(path)
        os.rmdir(path)
        times.append(time.perf_counter() - t0)
    return times


def with_processes(mp: str, n: int) -> None:
    for i in range(n):
        name = f"r{i}"
        os.mkdir(os.path.join(mp, name))
        child = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
        try:
            ans = ctl_answer(mp, f"attach {name} {child.pid}")
            if not ans.ok:
                raise SystemExit(f"attach {name} {child.pid}: {ans.errname} {ans.value}")
            os.rmdir(os.path.join(mp, name))
            child.wait(30)          # killed with its jail's cgroup
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def settle(mp: str, timeout: float = 60) -> None:
    """Until every removed jail is freed (nothing in .dying)."""
    deadline = time.monotonic() + timeout
    while os.listdir(os.path.join(mp, ".dying")) and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jails", type=int, default=10_000)
    args = ap.parse_args()
    n = args.jails
    top = tempfile.mkdtemp(prefix="jailfs-churn-")
    os.chmod(top, 0o755)
    mp = os.path.join(top, "mnt")
    os.mkdir(mp)
    daemon = start(jailfs_cmd(mp), mp)
    try:
        t = time.perf_counter()
        before = statistics.median(plain(mp, n))
        settle(mp)
        rss1 = rss_mib(daemon.pid)
        print(f"plain churn of {n}: {time.perf_counter() - t:.1f} s, "
              f"median mkdir+rmdir {before * 1e3:.3f} ms, daemon {rss1:.1f} MiB")
        t = time.perf_counter()
        with_processes(mp, n)
        settle(mp)
        rss2 = rss_mib(daemon.pid)
        print(f"churn of {n} jails with a real process: {time.perf_counter() - t:.1f} s, "
              f"daemon {rss2:.1f} MiB")
        after = statistics.median(plain(mp, n))
        settle(mp)
        rss3 = rss_mib(daemon.pid)
        print(f"plain churn again: median mkdir+rmdir {after * 1e3:.3f} ms, "
              f"daemon {rss3:.1f} MiB")
        dt, dm = after / before - 1, rss3 / rss1 - 1
        ok = dt <= TOLERANCE and dm <= TOLERANCE
        print(f"after the process churn: latency {dt:+.1%}, memory {dm:+.1%} "
              f"({'within' if ok else 'NOT within'} {TOLERANCE:.0%})")
        return 0 if ok else 1
    finally:
        stop(daemon, mp)
        os.rmdir(mp)
        os.rmdir(top)


if __name__ == "__main__":
    sys.exit(main())
