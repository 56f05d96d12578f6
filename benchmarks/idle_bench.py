#!/usr/bin/env python3
"""What a host of running jails costs the daemon while nothing happens.

One mount; at each checkpoint (25, 100 and 200 confined jails by default)
every jail has been entered once (`jexec J true`: its anchor runs, the
namespaces its processes join), then the daemon's CPU time is measured over
``--seconds`` of quiet (every thread's run time, /proc/PID/task/*/schedstat).
Printed: milliseconds of CPU per second of quiet, and per running jail.  An
anchor that ends, or a hostname set inside, is noticed as it happens (one
epoll set of every anchor's pipe and pidfds); before, every anchor was
polled twice a second, which grew linearly with the running jails.

Needs what confinement needs (root, namespaces); the jails' root is the
host's (path=/), so nothing is built.

    .venv/bin/python benchmarks/idle_bench.py [--sizes 25,100,200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, cpu_seconds, env, jailfs_cmd, start, stop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="25,100,200", help="running jails (25,100,200)")
    ap.add_argument("--seconds", type=float, default=5.0, help="quiet measured (5)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tools = env()
    tools["PATH"] = f"{REPO}/.venv/bin:{tools.get('PATH', '')}"
    print(f"{'jails':>6} {'cpu ms/s':>9} {'us/s per jail':>14}")
    with tempfile.TemporaryDirectory(prefix="idlebench-") as mp:
        tools["JAILFS_MOUNT"] = mp
        proc = start(jailfs_cmd(mp), mp)
        try:
            running = 0
            for size in sizes:
                while running < size:
                    name = f"r{running}"
                    subprocess.run(["jail", "-c", f"name={name}", "path=/", "persist"],
                                   env=tools, check=True, capture_output=True)
                    subprocess.run(["jexec", name, "true"], env=tools, check=True,
                                   capture_output=True)
                    running += 1
                time.sleep(1.0)                 # let the entries settle
                c0 = cpu_seconds(proc.pid)
                time.sleep(args.seconds)
                per_s = (cpu_seconds(proc.pid) - c0) / args.seconds
                print(f"{size:>6} {per_s * 1e3:>9.2f} {per_s / size * 1e6:>14.1f}")
                sys.stdout.flush()
            for i in range(running):
                subprocess.run(["jail", "-r", f"r{i}"], env=tools, capture_output=True)
        finally:
            stop(proc, mp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
