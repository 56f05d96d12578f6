#!/usr/bin/env python3
"""jls over 200, 2,000 and 20,000 jails: time per jail for ``jls``,
``jls -n`` and ``jls --libxo json``.

Each size gets its own mount, filled by ``jailfs mount --conf`` (not timed);
the baseline, measured in the same run, is the same command on a mount with
no jails (the tool's start-up and its first requests), so that

    per jail = (best of 3 with N jails - best of 3 with none) / N

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


def run_jls(mp: str, args: list[str], n: int) -> None:
    r = subprocess.run([JLS, *args], env=dict(env(), JAILFS_MOUNT=mp),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit(f"jls {' '.join(args)}: {r.stderr.decode().strip()}")
    if n and r.stdout.count(b"\n") < n:
        raise SystemExit(f"jls {' '.join(args)}: printed fewer than {n} lines")


def measure(conf_dir: str, n: int, repeat: int) -> dict[str, float]:
    conf = write_conf(conf_dir, n)
    with tempfile.TemporaryDirectory(prefix="jlsbench-") as mp:
        proc = start(jailfs_cmd(mp, "--conf", conf), mp)
        try:
            return {form: best_of(repeat, lambda: run_jls(mp, args, n if form != "jls --libxo json" else 0))
                    for form, args in FORMS.items()}
        finally:
            stop(proc, mp)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 200 and 2000")
    ap.add_argument("--sizes", help="comma-separated jail counts (default 200,2000,20000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs (3)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([200, 2000] if args.quick else [200, 2000, 20000])
    with tempfile.TemporaryDirectory(prefix="jlsbench-files-") as d:
        base = measure(d, 0, args.repeat)
        print(f"{'jails':>7} {'command':<18} {'s':>8} {'base s':>8} {'µs/jail':>9}")
        per_jail: dict[str, dict[int, float]] = {form: {} for form in FORMS}
        for n in sizes:
            t = measure(d, n, args.repeat)
            for form in FORMS:
                per_jail[form][n] = (t[form] - base[form]) / n
                print(f"{n:>7} {form:<18} {t[form]:>8.3f} {base[form]:>8.3f} "
                      f"{per_jail[form][n] * 1e6:>9.1f}")
            sys.stdout.flush()
    lo, hi = sizes[0], sizes[-1]
    for form in FORMS:
        print(f"{form}: time per jail at {hi} ÷ at {lo}: "
              f"{per_jail[form][hi] / per_jail[form][lo]:.2f} (flat: at most 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
