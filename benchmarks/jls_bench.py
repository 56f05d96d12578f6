#!/usr/bin/env python3
"""jls over 200, 2,000 and 20,000 jails: time per jail for ``jls``,
``jls -n`` and ``jls --libxo json``.

Each size gets its own mount, filled by ``jailfs mount --conf`` (not timed);
the baseline is the same command on a mount with no jails, run alternately
with it, so that

    per jail = (best of R with N jails - best of R with none) / N

The runs are warm: one Python process imports jls once and calls its main
again and again (output to a buffer, counted), so an interpreter's start-up
(tens of milliseconds, and noisy) does not drown the few milliseconds 200
jails cost; what is measured is all jls does per run: its two ``.ctl``
requests, the daemon's answers, parsing and printing.  R is 5 (--repeat)
from 2,000 jails up and grows as the size shrinks (up to 50 at 200 jails).

The per-jail figure is CPU time, jls's and the daemon's (every thread's
run time from /proc/PID/task/*/schedstat): on a machine shared with other
work, a run of seconds is rarely left alone for all of it, so its best
wall-clock time grows with its length while a run of milliseconds often is;
CPU time does not count the waiting.  The ``warm s`` column is the wall
clock of the same runs and ``cold s`` the whole command as a shell runs it
(a fresh process, best of 3).  Flat means the largest size's time per jail
within 1.3x of the smallest's.

    .venv/bin/python benchmarks/jls_bench.py [--quick] [--sizes 200,2000,20000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time

from benchlib import best_of, cpu_seconds, env, jailfs_cmd, start, stop, write_conf

JLS = os.path.join(os.path.dirname(sys.executable), "jls")
FORMS = {"jls": [], "jls -n": ["-n"], "jls --libxo json": ["--libxo", "json"]}


def runs_for(n: int, repeat: int) -> int:
    """Best of how many: `repeat` from 2,000 jails up, more below (see the module doc)."""
    return max(repeat, min(50, repeat * 2000 // max(n, 1)))


def run_jls_cold(mp: str, args: list[str]) -> None:
    r = subprocess.run([JLS, *args], env=dict(env(), JAILFS_MOUNT=mp),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"jls {' '.join(args)}: {r.stderr.decode().strip()}")


def warm_times(full: tuple[str, int], empty: tuple[str, int], n: int, args: list[str],
               repeat: int) -> list[list[float]]:
    """[[best wall, best CPU] with n jails, [best wall, best CPU] with none]: `repeat`
    warm runs on each mount, alternating, in a child process.  full and empty are
    (mount point, daemon pid)."""
    out = subprocess.run([sys.executable, __file__, "--warm", json.dumps([full, empty, n, repeat,
                                                                           args])],
                         env=env(), check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def warm_child(full: list, empty: list, n: int, repeat: int, args: list[str]) -> None:
    from jailfs.cli import jls

    def run(mp: str, pid: int, jails: int) -> tuple[float, float]:
        os.environ["JAILFS_MOUNT"] = mp
        buf = io.StringIO()
        wall, cpu, dcpu = time.perf_counter(), time.process_time(), cpu_seconds(pid)
        with contextlib.redirect_stdout(buf):
            rc = jls.main(list(args))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu + cpu_seconds(pid) - dcpu
        if rc != 0:
            raise SystemExit(f"jls {' '.join(args)}: exit {rc}")
        if jails and "--libxo" not in args and buf.getvalue().count("\n") < jails:
            raise SystemExit(f"jls {' '.join(args)}: printed fewer than {jails} lines")
        return wall, cpu

    best = [[float("inf")] * 2, [float("inf")] * 2]
    for _ in range(repeat):
        for which, (mp, pid, jails) in enumerate(((*full, n), (*empty, 0))):
            got = run(mp, pid, jails)
            best[which] = [min(b, g) for b, g in zip(best[which], got)]
    print(json.dumps(best))


def measure(conf_dir: str, empty: tuple[str, int], n: int, repeat: int) -> dict[str, tuple]:
    """Per form: (cold command time with n jails, [warm wall, CPU] with n, the same with none)."""
    conf = write_conf(conf_dir, n)
    with tempfile.TemporaryDirectory(prefix="jlsbench-") as mp:
        proc = start(jailfs_cmd(mp, "--conf", conf), mp)
        try:
            out = {}
            for form, args in FORMS.items():
                cold = best_of(3, lambda: run_jls_cold(mp, args))
                full, base = warm_times((mp, proc.pid), empty, n, args, runs_for(n, repeat))
                out[form] = (cold, full, base)
            return out
        finally:
            stop(proc, mp)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--warm":
        warm_child(*json.loads(sys.argv[2]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 200 and 2000")
    ap.add_argument("--sizes", help="comma-separated jail counts (default 200,2000,20000)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="best of this many runs from 2,000 jails up (5; more below)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([200, 2000] if args.quick else [200, 2000, 20000])
    per_jail: dict[str, dict[int, float]] = {form: {} for form in FORMS}
    print(f"{'jails':>7} {'command':<18} {'cold s':>8} {'warm s':>8} {'CPU s':>8} "
          f"{'base CPU':>8} {'CPU µs/jail':>11}")
    with tempfile.TemporaryDirectory(prefix="jlsbench-files-") as d, \
            tempfile.TemporaryDirectory(prefix="jlsbench-empty-") as empty_mp:
        empty = start(jailfs_cmd(empty_mp), empty_mp)
        try:
            for n in sizes:
                t = measure(d, (empty_mp, empty.pid), n, args.repeat)
                for form, (cold, (wall, cpu), (_, base)) in t.items():
                    per_jail[form][n] = (cpu - base) / n
                    print(f"{n:>7} {form:<18} {cold:>8.3f} {wall:>8.4f} {cpu:>8.4f} {base:>8.4f} "
                          f"{per_jail[form][n] * 1e6:>11.1f}")
                sys.stdout.flush()
        finally:
            stop(empty, empty_mp)
    lo, hi = sizes[0], sizes[-1]
    for form in FORMS:
        print(f"{form}: time per jail at {hi} ÷ at {lo}: "
              f"{per_jail[form][hi] / per_jail[form][lo]:.2f} (flat: at most 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
