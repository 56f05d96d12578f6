#!/usr/bin/env python3
"""Kernel-level throughput and memory of the prison kernel, beside a baseline.

For each size N: create N jails, then time get by jid, get by name, update and remove
on a sample of them, and measure memory per jail (RSS growth while creating). Each is
printed beside a baseline measured in the same run: building and dict-inserting a
plain object with as many fields as a Prison (then a dict lookup, a field write, a
dict pop). Ratios = kernel / baseline. The aim: per-operation cost flat as N grows,
and all 999,999 jids alive within 2 GiB.

    .venv/bin/python benchmarks/kernel_bench.py            # 1,000  100,000  1,000,000
    .venv/bin/python benchmarks/kernel_bench.py --quick    # 1,000  10,000   100,000
    .venv/bin/python benchmarks/kernel_bench.py --sizes 1000,50000
    .venv/bin/python benchmarks/kernel_bench.py --changes [--rounds 7]

--changes: what one mkdir, echo and rmdir cost the daemon's CPU besides the
mount: jail_set create (name, persist), jail_set update (host.hostname) and
jail_remove of 5,000 jails, with no subscriber, with one that does nothing,
and with the filesystem subscribed (its event handling, inode bookkeeping and
.events lines, as mounted); the best of --rounds rounds, in microseconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jailfs.kernel import JAIL_CREATE, JAIL_MAX, JAIL_UPDATE, Caller, Kernel  # noqa: E402
from jailfs.kernel.prison import Prison  # noqa: E402

FIELDS = len(Prison.__slots__)
SAMPLE = 20_000          # operations timed per kind (get, update, remove)


class Plain:
    """The baseline object: as many fields as a Prison."""
    __slots__ = tuple(f"f{i}" for i in range(FIELDS))

    def __init__(self, i: int) -> None:
        for name in self.__slots__:
            setattr(self, name, i)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timed(fn, items) -> float:
    """Seconds per call of fn over items."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        return (time.perf_counter() - t0) / max(len(items), 1)
    finally:
        gc.enable()


def baseline(n: int, sample: list[int]) -> dict:
    gc.collect()
    r0 = rss()
    d: dict[int, Plain] = {}

    def create(i):
        d[i] = Plain(i)
    out = {"create": timed(create, range(1, n + 1))}
    out["mem"] = (rss() - r0) / n
    out["get_jid"] = timed(lambda j: d[j].f1, sample)
    names = {f"j{j}": d[j] for j in sample}
    out["get_name"] = timed(lambda j: names[f"j{j}"].f1, sample)

    def update(j):
        d[j].f2 = "x"
    out["update"] = timed(update, sample)
    out["remove"] = timed(d.pop, sample)
    return out


def kernel(n: int, sample: list[int]) -> dict:
    gc.collect()
    r0 = rss()
    k = Kernel(hostname="bench", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    out = {"create": timed(lambda i: k.jail_set(host, [("name", f"j{i}"), ("persist", None)],
                                                JAIL_CREATE), range(1, n + 1))}
    out["mem"] = (rss() - r0) / n
    out["rss_total"] = rss()
    assert len(k.jids) == n
    out["get_jid"] = timed(lambda j: k.jail_get(host, ("jid", j), ["name"]), sample)
    out["get_name"] = timed(lambda j: k.jail_get(host, ("name", f"j{j}"), ["jid"]), sample)
    out["update"] = timed(lambda j: k.jail_set(host, [("jid", str(j)), ("host.hostname", "x")],
                                               JAIL_UPDATE), sample)
    out["remove"] = timed(lambda j: k.jail_remove(host, j), sample)
    assert len(k.jids) == n - len(sample)
    return out


CHANGES = 5000


def changes(rounds: int) -> None:
    from jailfs.fs.operations import JailFS

    def noop(ev):
        pass

    setups = (("no subscriber", lambda k: None), ("one no-op subscriber", lambda k: k.subscribe(noop)),
              ("the filesystem", lambda k: setattr(JailFS(k), "mounted", True)))
    print(f"{'subscribed':<22} {'create':>8} {'update':>8} {'remove':>8}   (us per call, "
          f"best of {rounds} rounds of {CHANGES})")
    for label, setup in setups:
        best = [float("inf")] * 3
        for _ in range(rounds):
            k = Kernel(hostname="bench", resolve_path=lambda root, path: "/")
            setup(k)
            host = Caller(k.prison0, 0)
            jids = range(1, CHANGES + 1)
            got = (timed(lambda i: k.jail_set(host, [("name", f"j{i}"), ("persist", None)],
                                               JAIL_CREATE), jids),
                   timed(lambda j: k.jail_set(host, [("jid", str(j)), ("host.hostname", f"h{j}")],
                                              JAIL_UPDATE), jids),
                   timed(lambda j: k.jail_remove(host, j), jids))
            best = [min(b, g) for b, g in zip(best, got)]
        print(f"{label:<22} " + " ".join(f"{b * 1e6:>8.1f}" for b in best))


def measure(n: int, which: str, seed: int) -> dict:
    """One measurement in a fresh interpreter, so that RSS growth is this run's alone."""
    out = subprocess.run([sys.executable, __file__, "--one", which, str(n), str(seed)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        which, n, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        sample = random.Random(seed).sample(range(1, n + 1), min(n, SAMPLE))
        print(json.dumps((kernel if which == "kernel" else baseline)(n, sample)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1,000 10,000 100,000")
    ap.add_argument("--sizes", help="comma-separated jail counts (max %d)" % JAIL_MAX)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--changes", action="store_true",
                    help="create/update/remove with and without the filesystem subscribed")
    ap.add_argument("--rounds", type=int, default=7, help="rounds of --changes (best of)")
    args = ap.parse_args()
    if args.changes:
        changes(args.rounds)
        return 0
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    elif args.quick:
        sizes = [1_000, 10_000, 100_000]
    else:
        sizes = [1_000, 100_000, 999_999]
    if any(not 1 <= n <= JAIL_MAX for n in sizes):
        ap.error(f"sizes must be 1..{JAIL_MAX}")
    print(f"prison kernel benchmark (Python {sys.version.split()[0]}); Prison has {FIELDS} fields;"
          f" {SAMPLE} timed operations per kind")
    print(f"{'jails':>9} {'op':<9} {'kernel':>12} {'baseline':>12} {'ratio':>7}")
    results = {}
    for n in sizes:
        b = measure(n, "baseline", args.seed)
        kr = measure(n, "kernel", args.seed)
        results[n] = (kr, b)
        for op in ("create", "get_jid", "get_name", "update", "remove"):
            print(f"{n:>9} {op:<9} {kr[op] * 1e6:>9.2f} us {b[op] * 1e6:>9.2f} us "
                  f"{kr[op] / b[op]:>7.1f}")
        print(f"{n:>9} {'mem/jail':<9} {kr['mem']:>9.0f} B  {b['mem']:>9.0f} B  "
              f"{kr['mem'] / max(b['mem'], 1):>7.1f}   (process RSS {kr['rss_total'] / 2**20:.0f} MiB)")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        print(f"\ngrowth of cost per operation from {lo} to {hi} jails (1.0 = flat):")
        for op in ("create", "get_jid", "get_name", "update", "remove"):
            print(f"  {op:<9} {results[hi][0][op] / results[lo][0][op]:5.2f}"
                  f"   (baseline {results[hi][1][op] / results[lo][1][op]:5.2f})")
    big = max(sizes)
    est = results[big][0]["mem"] * JAIL_MAX / 2**30
    print(f"\nmemory: {results[big][0]['mem']:.0f} B per jail at {big} jails"
          f" -> {est:.2f} GiB for {JAIL_MAX} jails (aim: under 2 GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
