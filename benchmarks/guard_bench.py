#!/usr/bin/env python3
"""A host's writes while a confined jail's process holds many descriptors.

The write guard (jailfs/fs/ctlguard.py) finds each write's writer; until
session 6 it read every descriptor of every jailed process on every write.
For each size N, a process in a confined jail (path=/) opens N descriptors
and waits; the host then writes a parameter file of another jail WRITES times
(open, write, close, as `echo v > file`).  Prints the time and the daemon's
CPU per write, and the ratio to the smallest size (flat: the same cost
whatever the jails hold).  Needs root and namespaces.

    .venv/bin/python benchmarks/guard_bench.py [--sizes 10,1000,5000] [--writes 500]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, cpu_seconds, jailfs_cmd, start, stop

HOLDER = """import os, sys, time
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(int(sys.argv[1]))]
print("ready", flush=True)
time.sleep(3600)
"""


def measure(mp: str, env: dict, daemon: int, n: int, writes: int) -> tuple[float, float]:
    """(seconds, daemon CPU seconds) per host write while a jailed process holds n descriptors."""
    holder = subprocess.Popen(["jexec", "web", sys.executable, "-c", HOLDER, str(n)],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        if holder.stdout.readline().strip() != "ready":
            raise SystemExit("the jailed process did not start")
        target = os.path.join(mp, "sib", "host.hostname")
        c0, t0 = cpu_seconds(daemon), time.perf_counter()
        for i in range(writes):
            fd = os.open(target, os.O_WRONLY | os.O_TRUNC)
            os.write(fd, f"h{i}\n".encode())
            os.close(fd)
        return (time.perf_counter() - t0) / writes, (cpu_seconds(daemon) - c0) / writes
    finally:
        holder.kill()
        holder.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10,1000,5000",
                    help="descriptors the jailed process holds (10,1000,5000)")
    ap.add_argument("--writes", type=int, default=500, help="host writes per size (500)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="guardbench-") as mp:
        daemon = start(jailfs_cmd(mp), mp)
        env = dict(os.environ, JAILFS_MOUNT=mp,
                   PATH=f"{REPO}/.venv/bin:{os.environ.get('PATH', '')}")
        try:
            subprocess.run(["jail", "-c", "name=web", "path=/", "persist"], env=env, check=True)
            os.mkdir(os.path.join(mp, "sib"))
            print(f"{'descriptors':>11} {'ms/write':>9} {'daemon ms':>10} {'vs first':>9}")
            first = None
            for n in sizes:
                t, cpu = measure(mp, env, daemon.pid, n, args.writes)
                first = first or cpu
                print(f"{n:>11} {t * 1e3:>9.3f} {cpu * 1e3:>10.3f} {cpu / first:>9.2f}")
                sys.stdout.flush()
        finally:
            subprocess.run(["jail", "-r", "web"], env=env, capture_output=True)
            stop(daemon, mp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
