#!/usr/bin/env python3
"""jailfs through the mount vs. a minimal pyfuse3 filesystem of the same shape.

The baseline (``--serve-baseline``, served by this same script) is the least a
FUSE filesystem of this shape can do: directories made by mkdir, each holding
the same parameter files with constant small contents.  It runs in two
settings: the floor (the timeouts jailfs had without caching: attributes 0,
entries below the root 60 s, direct_io files) and cached (entries and
attributes 1 s, the kernel's cache limit for the comparison, page-cached
files).  All three are mounted at once and driven by the same client code,
each operation run on the floor and on jailfs one after the other:

    mkdir N jails, stat one file in each, cat it, echo a value into it,
    readdir the root (N entries) and 1,000 jail directories, rmdir N jails;
    then, beside the cached baseline: warm stat and repeated cat of one
    parameter file (WARM times each).

Prints seconds (for the operations that change nothing, the best of --repeat
runs, the baseline's and jailfs's alternating; the changes, made once, take
turns 100 jails at a time),
operations per second, and the speed ratio baseline time / jailfs time
(1.0 or more: jailfs at least as fast), and each daemon's resident memory
after the mkdirs.

The client and the daemons run on one CPU unless ``--cpus`` says otherwise
(benchlib.PLACEMENTS); ``--self-check`` mounts the floor in jailfs's place,
so every ratio it prints is the method's own error (1.0 when fair).

    .venv/bin/python benchmarks/fs_bench.py [--quick] [--sizes 1000,10000] [--repeat 3]
        [--cpus same|split|free] [--self-check]
"""

from __future__ import annotations

import argparse
import errno
import os
import stat
import sys
import tempfile
import time

from benchlib import PLACEMENTS, best_of, jailfs_cmd, place, rss_mib, start, stop

WARM = 5000


# --------------------------------------------------------------- the baseline
def serve_baseline(mountpoint: str, cached: bool) -> None:
    import pyfuse3
    import trio
    from pyfuse3 import FUSEError

    from jailfs.kernel import Kernel
    files = list(Kernel().param_names())
    ROOT = pyfuse3.ROOT_INODE

    class Baseline(pyfuse3.Operations):
        supports_dot_lookup = False

        def __init__(self):
            super().__init__()
            self.dirs = {}             # name -> ino
            self.names = {}            # ino -> name
            self.born = {ROOT: time.time_ns()}   # ino -> creation time (files: their directory's)
            self.next = 1 << 20
            self.values = {}           # (dir ino, file index) -> bytes
            self.fh = {}
            self.nfh = 1

        def _attr(self, ino, mode, size, timeout=0.0):
            a = pyfuse3.EntryAttributes()
            a.st_ino = ino
            a.st_mode = mode
            a.st_nlink = 2 if stat.S_ISDIR(mode) else 1
            a.st_size = size
            a.entry_timeout = CACHE_TIMEOUT if cached else timeout
            a.attr_timeout = CACHE_TIMEOUT if cached else 0
            a.st_blksize = 4096
            a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = self.born.get(
                ino if ino in self.born else self._split(ino)[0], 0)
            return a

        def _file_ino(self, d, i):
            return d * 128 + i + 1

        def _split(self, ino):
            return ino // 128, ino % 128 - 1

        def _dir_attr(self, ino, timeout=0.0):
            return self._attr(ino, stat.S_IFDIR | 0o755, 0, timeout)

        def _file_attr(self, ino, timeout=0.0):
            d, i = self._split(ino)
            return self._attr(ino, stat.S_IFREG | 0o644, len(self.values.get((d, i), b"0\n")),
                              timeout)

        async def lookup(self, parent, name, ctx):
            n = name.decode()
            if parent == ROOT:
                if n in self.dirs:
                    return self._dir_attr(self.dirs[n])
                raise FUSEError(errno.ENOENT)
            if parent in self.names and n in self._index:
                return self._file_attr(self._file_ino(parent, self._index[n]), 60.0)
            raise FUSEError(errno.ENOENT)

        _index = {n: i for i, n in enumerate(files)}

        async def getattr(self, ino, ctx):
            if ino == ROOT or ino in self.names:
                return self._dir_attr(ino)
            d, i = self._split(ino)
            if d in self.names:
                return self._file_attr(ino)
            raise FUSEError(errno.ENOENT)

        async def forget(self, inode_list):
            return None

        async def mkdir(self, parent, name, mode, ctx):
            n = name.decode()
            if parent != ROOT:
                raise FUSEError(errno.EPERM)
            if n in self.dirs:
                raise FUSEError(errno.EEXIST)
            ino = self.next
            self.next += 1
            self.dirs[n] = ino
            self.names[ino] = n
            self.born[ino] = time.time_ns()
            return self._dir_attr(ino)

        async def rmdir(self, parent, name, ctx):
            n = name.decode()
            ino = self.dirs.pop(n, None)
            if ino is None:
                raise FUSEError(errno.ENOENT)
            del self.names[ino]
            del self.born[ino]

        async def opendir(self, ino, ctx):
            fh = self.nfh
            self.nfh += 1
            self.fh[fh] = (ino, sorted(self.names) if ino == ROOT else None)
            return fh

        async def readdir(self, fh, start, token):
            ino, kids = self.fh[fh]
            if ino == ROOT:
                import bisect
                i = bisect.bisect_right(kids, start)
                for k in kids[i:]:
                    if k in self.names and not pyfuse3.readdir_reply(
                            token, self.names[k].encode(), self._dir_attr(k), k):
                        return
                return
            for i in range(max(start, 0), len(files)):
                if not pyfuse3.readdir_reply(token, files[i].encode(),
                                             self._file_attr(self._file_ino(ino, i), 60.0), i + 1):
                    return

        async def releasedir(self, fh):
            self.fh.pop(fh, None)

        async def open(self, ino, flags, ctx):
            fh = self.nfh
            self.nfh += 1
            self.fh[fh] = ino
            return pyfuse3.FileInfo(fh=fh, direct_io=not cached, keep_cache=cached)

        async def read(self, fh, off, size):
            d, i = self._split(self.fh[fh])
            return self.values.get((d, i), b"0\n")[off:off + size]

        async def write(self, fh, off, buf):
            d, i = self._split(self.fh[fh])
            self.values[(d, i)] = buf
            return len(buf)

        async def setattr(self, ino, attr, fields, fh, ctx):
            return await self.getattr(ino, ctx)

        async def release(self, fh):
            self.fh.pop(fh, None)

        async def flush(self, fh):
            return None

    pyfuse3.init(Baseline(), mountpoint, {"fsname=baseline", "subtype=baseline"})
    try:
        trio.run(pyfuse3.main)
    finally:
        pyfuse3.close(unmount=True)


# ------------------------------------------------------------------- driving
CACHE_TIMEOUT = 1.0
KINDS = ("floor", "jailfs", "cached")
CHUNK = 100                     # jails per turn when the changes are interleaved


def mount(kind: str, mp: str):
    if kind == "jailfs":
        return start(jailfs_cmd(mp), mp)
    cmd = [sys.executable, __file__, "--serve-baseline", mp]
    return start(cmd + (["--cached"] if kind == "cached" else []), mp, probe=None)


def operations(mp: str, n: int):
    """(label, count, fn, changes-state) for each operation, in order.  An
    operation that changes state takes the jail names it works on (the
    interleaved runs below give it a slice at a time)."""
    names = [f"j{i}" for i in range(n)]
    one = f"{mp}/j0/host.hostname"

    def mkdir(some):
        for x in some:
            os.mkdir(f"{mp}/{x}")

    def cat():
        for x in names:
            with open(f"{mp}/{x}/host.hostname", "rb") as f:
                f.read()

    def echo(some):
        for x in some:
            fd = os.open(f"{mp}/{x}/host.hostname", os.O_WRONLY | os.O_TRUNC)
            os.write(fd, f"h{x}\n".encode())
            os.close(fd)

    def readdir():
        assert len(os.listdir(mp)) >= n
        for x in names[:min(n, 1000)]:
            os.listdir(f"{mp}/{x}")

    def warm_stat():
        for _ in range(WARM):
            os.stat(one)

    def warm_cat():
        for _ in range(WARM):
            with open(one, "rb") as f:
                f.read()

    def rmdir(some):
        for x in some:
            os.rmdir(f"{mp}/{x}")

    return [("mkdir", n, mkdir, True),
            ("stat", n, lambda: [os.stat(f"{mp}/{x}/host.hostname") for x in names], False),
            ("cat", n, cat, False),
            ("echo", n, echo, True),
            ("readdir", 1 + min(n, 1000), readdir, False),
            ("warm stat", WARM, warm_stat, False),
            ("warm cat", WARM, warm_cat, False),
            ("rmdir", n, rmdir, True)]


def interleaved(n: int, fns) -> list[float]:
    """Time each fn over the jail names j0..j<n-1>, CHUNK names at a time,
    the fns taking turns (the first to go alternating): a change cannot be
    repeated, so instead of a best of several runs every mount sees the
    same moments of a shared machine."""
    names = [f"j{i}" for i in range(n)]
    total = [0.0] * len(fns)
    order = list(range(len(fns)))
    for start_at in range(0, n, CHUNK):
        some = names[start_at:start_at + CHUNK]
        for k in order:
            t0 = time.perf_counter()
            fns[k](some)
            total[k] += time.perf_counter() - t0
        order.reverse()
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 100 and 1000")
    ap.add_argument("--sizes", help="comma-separated jail counts (default 1000,10000,100000)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="best of this many runs of the operations that change nothing (3)")
    ap.add_argument("--cpus", choices=PLACEMENTS, default="same",
                    help="where the client and the daemons run: "
                    + "; ".join(f"{k}: {v}" for k, v in PLACEMENTS.items()))
    ap.add_argument("--self-check", action="store_true",
                    help="mount the floor in jailfs's place: the ratios are the method's error")
    ap.add_argument("--serve-baseline", metavar="MNT", help=argparse.SUPPRESS)
    ap.add_argument("--cached", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline, args.cached)
        return 0
    place(args.cpus)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([100, 1000] if args.quick else [1000, 10000, 100000])
    if args.self_check:
        print("self-check: the floor in jailfs's place (the column 'jailfs')")
    print(f"{'jails':>7} {'op':<10} {'jailfs s':>9} {'base s':>9} {'base':<7} "
          f"{'jailfs op/s':>12} {'speed':>6}")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="fsbench-") as top:
            mps = {kind: os.path.join(top, kind) for kind in KINDS}
            procs = {}
            try:
                for kind, mp in mps.items():
                    os.mkdir(mp)
                    procs[kind] = mount("floor" if args.self_check and kind == "jailfs"
                                        else kind, mp)
                ops = {kind: operations(mps[kind], n) for kind in KINDS}
                for k, (label, count, _, changes) in enumerate(ops["jailfs"]):
                    # the warm operations compare with the cached baseline,
                    # which must hold the jail first; the others with the floor
                    warm = label.startswith("warm")
                    if warm and args.self_check:
                        continue        # an uncached floor against the cached baseline
                    base_kind = "cached" if warm else "floor"
                    kinds = (base_kind, "jailfs") + (("cached",) if label in ("mkdir", "rmdir") else ())
                    fns = [ops[kind][k][2] for kind in kinds]
                    times = interleaved(n, fns) if changes else best_of(args.repeat, *fns)
                    t = dict(zip(kinds, times))
                    if label == "mkdir":
                        rss = {kind: rss_mib(procs[kind].pid) for kind in kinds}
                    j, b = t["jailfs"], t[base_kind]
                    print(f"{n:>7} {label:<10} {j:>9.3f} {b:>9.3f} {base_kind:<7} "
                          f"{count / j:>12.0f} {b / j:>6.2f}")
                    sys.stdout.flush()
                print(f"{n:>7} {'RSS MiB':<10} {rss['jailfs']:>9.1f} {rss['floor']:>9.1f} floor")
            finally:
                for kind, proc in procs.items():
                    stop(proc, mps[kind])
    return 0


if __name__ == "__main__":
    sys.exit(main())
