#!/usr/bin/env python3
"""`jailfs mount --conf FILE`: time per jail at 2,000 and 20,000 jails.

Each size is measured beside its baseline in the same run: the same command
with a file of no jails (the daemon's start-up), so that

    per jail = (time to mounted with N jails - time with none) / N

The file is benchlib.make_conf: global defaults with variables and one
block per jail with a meta comment and an IPv4 address (``--no-ip``: no
address).  A second row times conf's own share in this process (parse,
merge and plan of the same file, no kernel); a third, ``jail -f FILE -c``
creating the same jails through an empty mount, one run (jail(8) makes a
lookup and a create per jail, on one .ctl descriptor).  Each time is the best of
``--repeat`` runs (3), with and without jails alternating.  Besides the wall
clock, the daemon's CPU time until it is mounted (every thread's run time,
/proc/PID/task/*/schedstat) is given per jail: on a machine shared with
other work a run of seconds is rarely left alone, so wall-clock time grows
with a run's length where CPU time does not.  Flat means the largest size's
CPU time per jail within 1.3x of the smallest's.

    .venv/bin/python benchmarks/conf_bench.py [--quick] [--sizes 2000,20000] [--no-ip] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, cpu_seconds, env, jailfs_cmd, start, stop, write_conf


def mount_seconds(conf: str) -> tuple[float, float]:
    """(wall-clock seconds to mounted, the daemon's CPU seconds by then)."""
    with tempfile.TemporaryDirectory(prefix="confbench-") as mp:
        t0 = time.perf_counter()
        proc = start(jailfs_cmd(mp, "--conf", conf), mp)
        took = time.perf_counter() - t0
        cpu = cpu_seconds(proc.pid)
        stop(proc, mp)
    return took, cpu


def best_mount(conf: str, empty: str, repeat: int) -> tuple[tuple, tuple]:
    """Best (wall, CPU) with the jails and without, runs alternating."""
    full, base = (float("inf"),) * 2, (float("inf"),) * 2
    for _ in range(repeat):
        base = tuple(map(min, base, mount_seconds(empty)))
        full = tuple(map(min, full, mount_seconds(conf)))
    return full, base


def jail_tool_seconds(conf: str) -> tuple[float, float, float]:
    """``jail -f CONF -c`` on an empty mount: (wall seconds, the daemon's CPU
    seconds, jail(8)'s CPU seconds)."""
    with tempfile.TemporaryDirectory(prefix="confbench-") as mp:
        proc = start(jailfs_cmd(mp), mp)
        try:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
            subprocess.run([str(REPO / ".venv/bin/jail"), "-f", conf, "-c"],
                           env=dict(env(), JAILFS_MOUNT=mp), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            took, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - c0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        finally:
            stop(proc, mp)
    return took, cpu, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def plan_seconds(conf: str) -> float:
    from jailfs.conf import plan_file
    t0 = time.perf_counter()
    plan = plan_file(conf)
    for jid, c in enumerate(plan.creations(), 1):
        c.created(jid)
    took = time.perf_counter() - t0
    assert not plan.errors, plan.errors[:3]
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 200 and 2000")
    ap.add_argument("--sizes", help="comma-separated jail counts (default 2000,20000)")
    ap.add_argument("--no-ip", action="store_true", help="jails without an address")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many mounts (3)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([200, 2000] if args.quick else [2000, 20000])
    addresses = not args.no_ip
    per_jail, tool_per_jail = {}, {}
    print(f"{'jails':>7} {'what':<22} {'total s':>9} {'base s':>8} {'µs/jail':>9} "
          f"{'CPU s':>8} {'base CPU':>8} {'CPU µs/jail':>11}")
    with tempfile.TemporaryDirectory(prefix="confbench-files-") as d:
        empty = write_conf(d, 0, addresses)
        for n in sizes:
            conf = write_conf(d, n, addresses)
            (total, cpu), (base, base_cpu) = best_mount(conf, empty, args.repeat)
            per_jail[n] = (cpu - base_cpu) / n
            print(f"{n:>7} {'jailfs mount --conf':<22} {total:>9.2f} {base:>8.2f} "
                  f"{(total - base) / n * 1e6:>9.1f} {cpu:>8.2f} {base_cpu:>8.2f} "
                  f"{per_jail[n] * 1e6:>11.1f}")
            planned = min(plan_seconds(conf) for _ in range(args.repeat))
            print(f"{n:>7} {'  of it: conf (plan)':<22} {planned:>9.2f} {'':>8} "
                  f"{planned / n * 1e6:>9.1f}")
            took, cpu, tool = jail_tool_seconds(conf)
            tool_per_jail[n] = cpu / n
            print(f"{n:>7} {'jail -f FILE -c':<22} {took:>9.2f} {'':>8} {took / n * 1e6:>9.1f} "
                  f"{cpu:>8.2f} {'':>8} {cpu / n * 1e6:>11.1f}   (jail(8): "
                  f"{tool / n * 1e6:.1f} µs/jail)")
            sys.stdout.flush()
    lo, hi = sizes[0], sizes[-1]
    print(f"CPU time per jail at {hi} ÷ at {lo}: {per_jail[hi] / per_jail[lo]:.2f} "
          f"(flat: at most 1.3)")
    print(f"jail -f FILE -c, the daemon's CPU per jail at {hi} ÷ at {lo}: "
          f"{tool_per_jail[hi] / tool_per_jail[lo]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
