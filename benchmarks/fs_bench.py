#!/usr/bin/env python3
"""jailfs through the mount vs. a minimal pyfuse3 filesystem of the same shape.

The baseline (``--serve-baseline``, served by this same script) is the least a
FUSE filesystem of this shape can do: directories made by mkdir, each holding
the same parameter files with constant small contents, the same timeouts as
jailfs (attributes 0, entries below the root cached), direct_io files.  Both
are measured in the same run, on the same machine, by the same client code:

    mkdir N jails, stat one file in each, cat it, echo a value into it,
    readdir the root (N entries) and a jail directory, rmdir N jails.

Prints seconds, operations per second, ratio jailfs/baseline, and each
daemon's resident memory after the mkdirs.

    .venv/bin/python benchmarks/fs_bench.py [--quick] [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import errno
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


# --------------------------------------------------------------- the baseline
def serve_baseline(mountpoint: str) -> None:
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
            a.entry_timeout = timeout
            a.attr_timeout = 0
            a.st_blksize = 4096
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
            return self._dir_attr(ino)

        async def rmdir(self, parent, name, ctx):
            n = name.decode()
            ino = self.dirs.pop(n, None)
            if ino is None:
                raise FUSEError(errno.ENOENT)
            del self.names[ino]

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
            return pyfuse3.FileInfo(fh=fh, direct_io=True)

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
def start(kind: str, mp: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if kind == "jailfs":
        cmd = [sys.executable, "-m", "jailfs.cli.jailfs", "mount", mp]
    else:
        cmd = [sys.executable, __file__, "--serve-baseline", mp]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = ".ctl" if kind == "jailfs" else None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{kind} exited with {proc.returncode}")
        if probe and os.path.exists(os.path.join(mp, probe)):
            return proc
        if not probe and os.path.ismount(mp):
            return proc
        time.sleep(0.02)
    raise SystemExit(f"{kind} did not mount")


def stop(proc: subprocess.Popen, mp: str) -> None:
    subprocess.run(["fusermount3", "-u", "-z", mp], capture_output=True)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def workload(mp: str, n: int, pid: int) -> dict:
    names = [f"j{i}" for i in range(n)]
    t = {}

    def timed(label, fn):
        t0 = time.perf_counter()
        fn()
        t[label] = time.perf_counter() - t0

    timed("mkdir", lambda: [os.mkdir(f"{mp}/{x}") for x in names])
    t["rss_mib"] = rss_mib(pid)
    timed("stat", lambda: [os.stat(f"{mp}/{x}/host.hostname") for x in names])

    def cat():
        for x in names:
            with open(f"{mp}/{x}/host.hostname", "rb") as f:
                f.read()
    timed("cat", cat)

    def echo():
        for i, x in enumerate(names):
            fd = os.open(f"{mp}/{x}/host.hostname", os.O_WRONLY | os.O_TRUNC)
            os.write(fd, f"h{i}\n".encode())
            os.close(fd)
    timed("echo", echo)

    def readdir():
        assert len(os.listdir(mp)) >= n
        for x in names[:min(n, 1000)]:
            os.listdir(f"{mp}/{x}")
    timed("readdir", readdir)
    timed("rmdir", lambda: [os.rmdir(f"{mp}/{x}") for x in names])
    return t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 100 and 1000")
    ap.add_argument("--sizes", help="comma-separated jail counts (default 1000,10000,100000)")
    ap.add_argument("--serve-baseline", metavar="MNT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([100, 1000] if args.quick else [1000, 10000, 100000])
    ops = ["mkdir", "stat", "cat", "echo", "readdir", "rmdir"]
    print(f"{'jails':>7} {'op':<8} {'jailfs s':>9} {'base s':>9} {'jailfs op/s':>12} "
          f"{'ratio':>6}")
    for n in sizes:
        results = {}
        for kind in ("baseline", "jailfs"):
            with tempfile.TemporaryDirectory(prefix=f"fsbench-{kind}-") as mp:
                proc = start(kind, mp)
                try:
                    results[kind] = workload(mp, n, proc.pid)
                finally:
                    stop(proc, mp)
        j, b = results["jailfs"], results["baseline"]
        for op in ops:
            count = n if op != "readdir" else 1 + min(n, 1000)
            print(f"{n:>7} {op:<8} {j[op]:>9.3f} {b[op]:>9.3f} {count / j[op]:>12.0f} "
                  f"{j[op] / b[op]:>6.2f}")
        print(f"{n:>7} {'rss MiB':<8} {j['rss_mib']:>9.1f} {b['rss_mib']:>9.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
