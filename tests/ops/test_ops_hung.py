"""Issue 9 item 13: jailfs umount, mount and status over a daemon that does
not answer (SIGSTOPped here, by this test, its own daemon) return within a
deadline and say why, instead of hanging in stat(2)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from conftest import REPO, daemon_env

BIN = REPO / ".venv/bin"
DEADLINE = 30          # the commands give up after 5 s; generous for a loaded machine


def jailfs(*args) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    r = subprocess.run([str(BIN / "jailfs"), *args], capture_output=True, text=True,
                       env=daemon_env(), timeout=DEADLINE)
    return r, time.monotonic() - start


def test_commands_do_not_hang_on_a_stopped_daemon_with_a_busy_mount(jailfs_mount):
    m = jailfs_mount
    (m / "web").mkdir()
    busy = subprocess.Popen(["sleep", "300"], cwd=str(m.path))      # the mount is busy
    daemon = m.proc.pid
    os.kill(daemon, signal.SIGSTOP)
    try:
        r, took = jailfs("umount", str(m.path))
        assert r.returncode == 1 and took < 20
        assert "does not answer (stopped or hung)" in r.stderr
        assert f"jailfs umount --lazy {m.path}" in r.stderr
        assert r.stderr.startswith(f"jailfs: {m.path}: ") and r.stderr.count("\n") == 1

        r, took = jailfs("mount", str(m.path))
        assert r.returncode == 1 and took < 20
        assert r.stderr == (f"jailfs: {m.path}: mounted (fuse.jailfs), and its daemon "
                            f"(pid {daemon}) does not answer (stopped or hung); "
                            f"`jailfs umount --lazy {m.path}` first\n")

        r, took = jailfs("status", "-m", str(m.path))
        assert r.returncode == 0 and took < 20
        assert r.stdout == (f"{m.path}: daemon pid {daemon} (stopped)\n"
                            "  no answer within 5 s (daemon stopped or hung)\n")

        r, took = jailfs("umount", "--lazy", str(m.path))
        assert r.returncode == 0 and took < 20
        assert r.stderr == (f"jailfs: {m.path}: unmounted; the daemon (pid {daemon}) is "
                            f"stopped: sent SIGTERM, it ends when continued "
                            f"(kill -CONT {daemon})\n")
    finally:
        os.kill(daemon, signal.SIGCONT)
        busy.kill()
        busy.wait()
    assert m.proc.wait(timeout=30) == 0                  # the pending SIGTERM ended it
