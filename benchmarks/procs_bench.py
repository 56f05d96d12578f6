#!/usr/bin/env python3
"""A host whose jails all hold a process and an rctl rule: is one operation's
cost flat in the number of jails (processes, rules)?

One mount grows to each checkpoint (1,000, 4,000 and 16,000 jails by default),
every jail made through `.ctl` with a simulated process in it (`spawn`: a
process holds a user reference and a credential, as a jail manager's
workload would) and a limit (`rctl -a jail:NAME:maxproc:deny=100`, as jail
managers set them).  At each checkpoint a sample of 50 is timed per operation,
on jails not touched before:

    stat .refs, cat .refs      who holds a jail (credentials, processes, files)
    ls -l of a jail            its files' attributes (.refs among them)
    rmdir                      a jail with a process (killed, then freed)
    ls .dying                  the dying jails (10, each held by a mount)
    spawn                      one more process, in a new jail (its rule checked)
    rctl -a                    one more rule on a jail
    echo                       a parameter written

Printed: microseconds per operation, wall clock and the daemon's CPU time
(every thread's run time, /proc/PID/task/*/schedstat), and the CPU time
against the first checkpoint's (flat: within 1.3x).  Before the kernel kept
who holds what as it changes, .refs and rmdir walked every process (5x at
8,000 jails), and listing .dying walked every jail (5.5x at 16,000); before
rctl kept its rules by subject, with a rule per jail, spawn, rmdir and
rctl -a walked every rule and every jail (6-8x at 4,000).

    .venv/bin/python benchmarks/procs_bench.py [--sizes 1000,4000,16000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from benchlib import cpu_seconds, jailfs_cmd, start, stop

SAMPLE = 50


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,4000,16000",
                    help="jail counts at the checkpoints (1000,4000,16000)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, list[tuple[int, float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="procsbench-") as mp:
        proc = start(jailfs_cmd(mp), mp)
        try:
            fd = os.open(os.path.join(mp, ".ctl"), os.O_RDWR)

            def ctl(request: str) -> None:
                os.pwrite(fd, (request + "\n").encode(), 0)

            def make(name: str) -> None:
                ctl(f"create name={name} persist")
                ctl(f"spawn {name}")
                ctl(f"rctl -a jail:{name}:maxproc:deny=100")

            for i in range(10):             # dying jails: a mount holds each
                ctl(f"create name=held{i} persist")
                os.pwrite(fd, f"spawn held{i}\n".encode(), 0)
                pid = os.pread(fd, 4096, 0).split()[1].decode()
                ctl(f"mount {pid} devfs /dev")
                ctl(f"kill {pid}")
                ctl(f"remove held{i}")
            made = 0
            for size in sizes:
                while made < size:
                    make(f"j{made}")
                    made += 1
                # each operation gets its own jails, made now (not counted)
                fresh = [f"s{size}_{i}" for i in range(SAMPLE * 5)]
                for name in fresh:
                    make(name)
                groups = [fresh[i * SAMPLE:(i + 1) * SAMPLE] for i in range(5)]
                ops = {
                    "stat .refs": lambda j: os.stat(f"{mp}/{j}/.refs"),
                    "cat .refs": lambda j: open(f"{mp}/{j}/.refs", "rb").read(),
                    "ls -l jail": lambda j: [os.stat(f"{mp}/{j}/{x}")
                                             for x in os.listdir(f"{mp}/{j}")],
                    "rmdir": lambda j: os.rmdir(f"{mp}/{j}"),
                    "echo": lambda j: open(f"{mp}/{j}/host.hostname", "w").write("x\n"),
                }
                names = dict(zip(ops, [groups[0], groups[0], groups[1], groups[2], groups[3]]))
                for label, fn in ops.items():
                    c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                    for j in names[label]:
                        fn(j)
                    wall = (time.perf_counter() - t0) / SAMPLE * 1e6
                    cpu = (cpu_seconds(proc.pid) - c0) / SAMPLE * 1e6
                    results.setdefault(label, []).append((size, wall, cpu))
                timed = {"spawn": lambda: [ctl(f"spawn {j}") for j in groups[4]],
                         "rctl -a": lambda: [ctl(f"rctl -a jail:{j}:openfiles:deny=100")
                                             for j in groups[4]],
                         "ls .dying": lambda: [os.listdir(f"{mp}/.dying") for _ in range(SAMPLE)]}
                for label, fn in timed.items():
                    c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
                    fn()
                    results.setdefault(label, []).append(
                        (size, (time.perf_counter() - t0) / SAMPLE * 1e6,
                         (cpu_seconds(proc.pid) - c0) / SAMPLE * 1e6))
            os.close(fd)
        finally:
            stop(proc, mp)
    print(f"{'operation':<12} {'jails':>7} {'wall us':>9} {'cpu us':>8} {'cpu vs first':>13}")
    for label, rows in results.items():
        first = rows[0][2]
        for size, wall, cpu in rows:
            print(f"{label:<12} {size:>7} {wall:>9.0f} {cpu:>8.0f} {cpu / first:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
