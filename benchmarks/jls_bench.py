#!/usr/bin/env python3
"""jls over 200, 2,000 and 20,000 jails: time per jail for ``jls``,
``jls -n`` and ``jls --libxo json``.

Each size gets its own mount, filled by ``jailfs mount --conf`` (not timed);
the baseline is the same command on a mount with no jails (the tool's
start-up and its first requests), run alternately with it, so that

    per jail = (best of 5 with N jails - best of 5 with none) / N

Flat means the largest size's time per jail within 1.3x of the smallest's.

    .venv/bin/python benchmarks/jls_bench.py [--quick] [--sizes 200,2000,20000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from benchlib import best_of, env, jailfs_cmd, start, stop, write_conf

JLS = os.path.join(os.path.dirname(sys.executable), "jls")
FORMS = {"jls": [], "jls -n": ["-n"], "jls --libxo json": ["--libxo", "json"]}


def run_jls(mp: str, args: list[str], n: int, form: str) -> None:
    r = subprocess.run([JLS, *args], env=dict(env(), JAILFS_MOUNT=mp),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"jls {' '.join(args)}: {r.stderr.decode().strip()}")
    if n and form != "jls --libxo json" and r.stdout.count(b"\n") < n:
        raise SystemExit(f"jls {' '.join(args)}: printed fewer than {n} lines")


def measure(conf_dir: str, empty_mp: str, n: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Per form: (best time with n jails, best time on the empty mount),
    the two run alternately."""
    conf = write_conf(conf_dir, n)
    with tempfile.TemporaryDirectory(prefix="jlsbench-") as mp:
        proc = start(jailfs_cmd(mp, "--conf", conf), mp)
        try:
            return {form: tuple(best_of(repeat, lambda: run_jls(mp, args, n, form),
                                        lambda: run_jls(empty_mp, args, 0, form)))
                    for form, args in FORMS.items()}
        finally:
            stop(proc, mp)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 200 and 2000")
    ap.add_argument("--sizes", help="comma-separated jail counts (default 200,2000,20000)")
    ap.add_argument("--repeat", type=int, default=5, help="best of this many runs (5)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([200, 2000] if args.quick else [200, 2000, 20000])
    per_jail: dict[str, dict[int, float]] = {form: {} for form in FORMS}
    print(f"{'jails':>7} {'command':<18} {'s':>8} {'base s':>8} {'µs/jail':>9}")
    with tempfile.TemporaryDirectory(prefix="jlsbench-files-") as d, \
            tempfile.TemporaryDirectory(prefix="jlsbench-empty-") as empty_mp:
        empty = start(jailfs_cmd(empty_mp), empty_mp)
        try:
            for n in sizes:
                t = measure(d, empty_mp, n, args.repeat)
                for form, (full, base) in t.items():
                    per_jail[form][n] = (full - base) / n
                    print(f"{n:>7} {form:<18} {full:>8.3f} {base:>8.3f} "
                          f"{per_jail[form][n] * 1e6:>9.1f}")
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
