"""Shared fixtures: a real jailfs mount served by a daemon this test started.

``jailfs_mount`` (function scope) mounts a fresh kernel on a temporary
directory and yields a :class:`Mount`; ``mount_factory`` does the same with
extra ``jailfs mount`` arguments.  Teardown always runs ``fusermount3 -u -z``
on the point and ends only the daemon it started, even when the test failed.

Without /dev/fuse these tests are skipped, except under CI=true where that is
a failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from jailfs.ctlproto import CtlAnswer, ctl_answer, ctl_transact  # noqa: E402
from jailfs.ops.runfiles import remove_pid  # noqa: E402

READY_TIMEOUT = 30.0


def fuse_available() -> bool:
    return os.path.exists("/dev/fuse") and not os.environ.get("JAILFS_SKIP_FUSE")


def require_fuse() -> None:
    if fuse_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("/dev/fuse is missing: the filesystem tests cannot run")
    pytest.skip("no /dev/fuse")


def jailfs_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "jailfs", *args]


def daemon_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class Mount:
    """A live mount: ``path`` (a Path), the daemon ``proc`` and its log file."""

    def __init__(self, path: Path, proc: subprocess.Popen, log: Path):
        self.path = path
        self.proc = proc
        self.log = log

    def __truediv__(self, other) -> Path:
        return self.path / other

    def __str__(self) -> str:
        return str(self.path)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def ctl(self, request: str) -> tuple[int, str]:
        """One .ctl transaction -> (errno of the write or 0, answer text)."""
        write_err, text = ctl_transact(str(self.path), request)
        return (write_err.errno if write_err else 0), text

    def answer(self, request: str) -> CtlAnswer:
        """One .ctl transaction, parsed."""
        return ctl_answer(str(self.path), request)


def start_daemon(mp: Path, log: Path, *extra: str) -> subprocess.Popen:
    logf = open(log, "ab")
    try:
        return subprocess.Popen(jailfs_cmd("mount", str(mp), *extra), stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=logf, env=daemon_env(), cwd=str(REPO))
    finally:
        logf.close()


def wait_ready(mp: Path, proc: subprocess.Popen, log: Path, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jailfs exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        # the root's attributes are never cached: a stale mount (its daemon
        # dead) answers ENOTCONN there, whatever names the VFS still holds
        try:
            if os.path.exists(mp / ".ctl") and os.stat(mp).st_ino == 1:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"jailfs not ready after {timeout}s:\n{log.read_text(errors='replace')}")


def stop_daemon(mp: Path, proc: subprocess.Popen) -> None:
    subprocess.run(["fusermount3", "-u", "-z", str(mp)], capture_output=True)
    if proc.poll() is None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    remove_pid(str(mp), proc.pid)       # left behind when the test killed it with SIGKILL


@pytest.fixture
def mount_factory(tmp_path):
    """mount_factory(*extra_args) -> Mount; every mount made is undone at teardown.

    Mount points live in a world-searchable temporary directory (pytest's own
    is 0700) so that tests can act as an unprivileged user."""
    require_fuse()
    made: list[Mount] = []
    top = Path(tempfile.mkdtemp(prefix="jailfs-pytest-"))
    os.chmod(top, 0o755)

    def make(*extra: str) -> Mount:
        mp = top / f"mnt{len(made)}"
        mp.mkdir()
        log = tmp_path / f"jailfs{len(made)}.log"
        proc = start_daemon(mp, log, *extra)
        m = Mount(mp, proc, log)
        made.append(m)
        wait_ready(mp, proc, log)
        return m

    try:
        yield make
    finally:
        for m in made:
            stop_daemon(m.path, m.proc)
        for m in made:
            try:
                m.path.rmdir()
            except OSError:
                pass
        try:
            top.rmdir()
        except OSError:
            pass


@pytest.fixture
def jailfs_mount(mount_factory) -> Mount:
    return mount_factory()


@pytest.fixture
def loop(monkeypatch, tmp_path):
    """The tools' loopback: ``.ctl`` answered by the real ctl.execute on a
    real Kernel, no mount (tests/tools/loopback.py)."""
    from tests.tools.loopback import install
    return install(monkeypatch, tmp_path)
