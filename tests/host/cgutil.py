"""Helpers for the cgroup tests: a throw-away tree and the processes a test
starts, both removed (by path and by pid) whatever the test's outcome."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time

import pytest

from jailfs.host.cgroups import CgroupTree

_names = itertools.count()


class FakePrison:
    """What CgroupTree needs of a Prison: serial and parent."""

    def __init__(self, serial: int, parent=None):
        self.serial = serial
        self.parent = parent


HOST0 = FakePrison(0)


def make_tree() -> CgroupTree:
    # Not jailfs-<pid>-<start>: no daemon's orphan sweep ever takes it for one.
    tree = CgroupTree.create(name=f"jailfs-test-{os.getpid()}-{next(_names)}", sweep=False)
    if tree is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no usable cgroup hierarchy (CI=true makes this a failure)")
        pytest.skip("no usable cgroup hierarchy")
    return tree


class Procs:
    """Processes a test started; all SIGKILLed by pid at the end."""

    def __init__(self):
        self.pids: list[int] = []
        self._popen: list[subprocess.Popen] = []

    def start(self, *argv: str) -> subprocess.Popen:
        p = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self._popen.append(p)
        self.pids.append(p.pid)
        return p

    def start_in(self, tree, prison, script: str) -> subprocess.Popen:
        """``sh -c SCRIPT`` whose every child is in ``prison``'s cgroup: the
        shell stops itself before it runs SCRIPT, is placed, then continued
        (placing a running shell would let children it forked first escape)."""
        p = self.start("sh", "-c", 'kill -STOP $$; eval "$1"', "sh", script)
        assert wait_until(lambda: _state(p.pid) == "T")
        tree.place(p.pid, prison)
        os.kill(p.pid, signal.SIGCONT)
        return p

    def add(self, pid: int) -> int:
        self.pids.append(pid)
        return pid

    def end(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in self._popen:
            p.wait()


def wait_until(pred, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return data[data.rfind(b")") + 2:][:1].decode()


def gone(pid: int) -> bool:
    return _state(pid) in ("", "Z")
