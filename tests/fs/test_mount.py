"""Mounting and unmounting: foreground, background, signals, stale and double mounts."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import time

import pytest

from conftest import daemon_env, jailfs_cmd, require_fuse, start_daemon, stop_daemon, wait_ready


def mounted(mp) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(mp) for line in f)


def wait_gone(proc, timeout=10):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@contextlib.contextmanager
def serving(mp, log):
    """A daemon mounted on ``mp`` and ready; stopped afterwards, whatever happened."""
    proc = start_daemon(mp, log)
    try:
        wait_ready(mp, proc, log)
        yield proc
    finally:
        stop_daemon(mp, proc)


@pytest.fixture
def mp(tmp_path):
    require_fuse()
    p = tmp_path / "mnt"
    p.mkdir()
    yield p
    subprocess.run(["fusermount3", "-u", "-z", str(p)], capture_output=True)


def test_sigterm_unmounts_cleanly(mp, tmp_path):
    with serving(mp, tmp_path / "log") as proc:
        os.mkdir(mp / "web")
        proc.send_signal(signal.SIGTERM)
        assert wait_gone(proc) == 0
        assert not mounted(mp)


def test_sigint_unmounts_cleanly(mp, tmp_path):
    with serving(mp, tmp_path / "log") as proc:
        proc.send_signal(signal.SIGINT)
        assert wait_gone(proc) == 0
        assert not mounted(mp)


def test_external_unmount_ends_daemon(mp, tmp_path):
    with serving(mp, tmp_path / "log") as proc:
        subprocess.run(["fusermount3", "-u", str(mp)], check=True)
        assert wait_gone(proc) == 0


def test_double_mount_fails_clearly(mp, tmp_path):
    with serving(mp, tmp_path / "log"):
        r = subprocess.run(jailfs_cmd("mount", str(mp)), capture_output=True, text=True,
                           env=daemon_env(), timeout=30)
        assert r.returncode == 1
        assert "already mounted" in r.stderr
        os.mkdir(mp / "still-works")


def test_stale_mount_is_cleared(mp, tmp_path):
    proc = start_daemon(mp, tmp_path / "log1")
    wait_ready(mp, proc, tmp_path / "log1")
    proc.kill()                                          # leaves "Transport endpoint is not connected"
    proc.wait()
    try:
        os.stat(mp)
        stale = False
    except OSError as e:
        stale = e.errno == errno.ENOTCONN
    assert stale
    with serving(mp, tmp_path / "log2"):
        assert os.listdir(mp / ".jid") == []
        assert "stale" in (tmp_path / "log2").read_text()


def test_background_returns_ready_and_umount_undoes_it(mp):
    env = daemon_env()
    r = subprocess.run(jailfs_cmd("mount", "--background", str(mp)), capture_output=True,
                       text=True, env=env, timeout=60)
    pid = None
    try:
        assert r.returncode == 0, r.stderr
        os.mkdir(mp / "web")                            # usable at once
        assert (mp / "web/name").read_text() == "web\n"
        pid = int(r.stderr.split("pid ")[1].split(",")[0])
        r = subprocess.run(jailfs_cmd("umount", str(mp)), capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        assert not mounted(mp)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}")
        pid = None
        r = subprocess.run(jailfs_cmd("umount", str(mp)), capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 1 and "not mounted" in r.stderr
    finally:
        if pid is not None:
            subprocess.run(["fusermount3", "-u", "-z", str(mp)], capture_output=True)
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


def test_missing_mountpoint_fails(tmp_path):
    require_fuse()
    r = subprocess.run(jailfs_cmd("mount", str(tmp_path / "nope")), capture_output=True,
                       text=True, env=daemon_env(), timeout=30)
    assert r.returncode == 1 and "no such directory" in r.stderr


def test_conf_creates_jails_at_start(mount_factory, tmp_path):
    conf = tmp_path / "jail.conf"
    conf.write_text('web { persist; host.hostname = "www.example"; path = "/"; }\n')
    m = mount_factory("--conf", str(conf))
    assert (m.path / "web/host.hostname").read_text() == "www.example\n"


def test_bad_conf_fails_to_mount(mp, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("web { persist; securelevel = notanumber; }\n")
    r = subprocess.run(jailfs_cmd("mount", str(mp), "--conf", str(conf)), capture_output=True,
                       text=True, env=daemon_env(), timeout=30)
    assert r.returncode == 1
    assert not mounted(mp)
