"""The conventions of a mature tool: --version, man pages, --help, one error
line, the default mount point, the mount helper (mount -t and fstab), the
systemd unit and its readiness message, log levels."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO, daemon_env, require_fuse

sys.path.insert(0, str(REPO))
from jailfs.ops import command as jailfs_cli  # noqa: E402
from jailfs.ops import runfiles  # noqa: E402

BIN = REPO / ".venv/bin"


def run(*cmd, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd, capture_output=True, text=True, env=kw.pop("env", daemon_env()),
                          **kw)


@pytest.mark.parametrize("cmd", [["jailfs"], ["jail"], ["jls"], ["jexec"]])
def test_version_on_every_command(cmd):
    r = run(str(BIN / cmd[0]), "--version")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith(f"{cmd[0]} (jailfs) ") and r.stdout.count("\n") == 1


def test_python_m_jailfs():
    r = run(sys.executable, "-m", "jailfs", "--version")
    assert r.returncode == 0 and r.stdout.startswith("jailfs (jailfs) ")


@pytest.mark.parametrize("page", ["jailfs", "jail", "jls", "jexec"])
def test_man_pages_render_cleanly(page):
    r = run("man", "--warnings", "-l", str(REPO / "man" / f"{page}.8"),
            env={**daemon_env(), "MANPAGER": "cat", "MANWIDTH": "80"})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "NAME" in r.stdout and page in r.stdout and "SEE ALSO" in r.stdout


def test_man_jailfs_works_after_setup():
    r = run("man", "-w", "jailfs")
    assert r.returncode == 0 and r.stdout.strip().endswith("jailfs.8")


def test_help_states_defaults_verbs_and_exit_codes():
    top = run(str(BIN / "jailfs"), "--help").stdout
    assert "exit status:" in top and "mount" in top and "sim" in top
    mount = run(str(BIN / "jailfs"), "mount", "--help").stdout
    assert mount.count("default") >= 4 and "exit status:" in mount
    sim = run(str(BIN / "jailfs"), "sim", "--help").stdout
    for verb in ("spawn JAIL", "advance SECONDS", "connect PID", "create PARAM", "check"):
        assert verb in sim
    assert "exit status:" in sim


def test_conf_error_names_the_file_once(tmp_path):
    require_fuse()
    conf = tmp_path / "bad.conf"
    conf.write_text("web { persist; securelevel = abc; }\n")
    mp = tmp_path / "mnt"
    mp.mkdir()
    for extra in ([], ["--background"]):
        r = run(str(BIN / "jailfs"), "mount", "-q", *extra, "--conf", str(conf), str(mp))
        assert r.returncode == 1
        assert r.stderr == f'jailfs: {conf}: web: securelevel: non-integer value "abc"\n'
    syntax = tmp_path / "syntax.conf"
    syntax.write_text("web { persist; ip4.addr = ;\n")
    r = run(str(BIN / "jailfs"), "mount", "-q", "--conf", str(syntax), str(mp))
    assert r.returncode == 1 and r.stderr.count(str(syntax)) == 1 and r.stderr.startswith("jailfs: ")


def test_default_mount_point_only_inside_a_checkout(monkeypatch, tmp_path, capsys):
    assert jailfs_cli.default_mountpoint() == str(REPO / "mountpoint")
    monkeypatch.setattr(jailfs_cli, "_CHECKOUT", tmp_path)       # as if installed
    assert jailfs_cli.default_mountpoint() is None
    assert jailfs_cli.main(["umount"]) == 1
    assert capsys.readouterr().err == ("jailfs: a mount point is required "
                                       "(there is no default outside a checkout)\n")
    help_text = jailfs_cli.parser()._subparsers._group_actions[0].choices["mount"].format_help()
    assert "required: no default outside a checkout" in help_text


MOUNT_SCRIPT = r"""
set -u
cleanup() { fusermount3 -u -z "$MP1" 2>/dev/null; fusermount3 -u -z "$MP2" 2>/dev/null; }
trap cleanup EXIT
mount --bind "$HELPER" /sbin/mount.fuse.jailfs || exit 3
mount --bind "$FSTAB" /etc/fstab || exit 3
mount -t fuse.jailfs -o conf="$CONF",quiet jailfs "$MP1" || { echo "mount -t failed"; exit 1; }
cat "$MP1/web/host.hostname"
jailfs umount "$MP1" || exit 1
mount "$MP2" || { echo "mount from fstab failed"; exit 1; }
cat "$MP2/web/host.hostname"
awk -v mp="$MP2" '$2 == mp { print $1, $3 }' /proc/self/mounts
jailfs umount "$MP2" || exit 1
"""


def test_mount_helper_through_mount_t_and_fstab(tmp_path):
    """In a private mount namespace with its own /etc/fstab: mount(8) runs
    /sbin/mount.fuse.jailfs (this checkout's, bound over whatever is there)."""
    require_fuse()
    if not os.path.exists("/sbin/mount.fuse.jailfs") or shutil.which("unshare") is None:
        pytest.fail("scripts/setup installs /sbin/mount.fuse.jailfs; unshare is util-linux's")
    mp1, mp2 = tmp_path / "m1", tmp_path / "m2"
    mp1.mkdir()
    mp2.mkdir()
    conf = tmp_path / "jail.conf"
    conf.write_text('web { persist; host.hostname = "www.example"; }\n')
    fstab = tmp_path / "fstab"
    fstab.write_text(f"jailfs {mp2} fuse.jailfs conf={conf},noauto,quiet 0 0\n")
    env = {**daemon_env(), "PATH": f"{BIN}:{os.environ['PATH']}", "MP1": str(mp1),
           "MP2": str(mp2), "CONF": str(conf), "FSTAB": str(fstab),
           "HELPER": str(BIN / "mount.fuse.jailfs")}
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", MOUNT_SCRIPT],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "www.example\nwww.example\njailfs fuse.jailfs\n"
    assert not os.path.exists(runfiles.log_file(str(mp1)))
    assert not os.path.exists(runfiles.log_file(str(mp2)))


def test_mount_helper_refuses_unknown_options():
    r = run(str(BIN / "mount.fuse.jailfs"), "jailfs", "/nonexistent", "-o", "rw,bogus=1")
    assert r.returncode == 1
    assert r.stderr.startswith("mount.fuse.jailfs: unknown option: bogus=1\n")


def test_systemd_unit_verifies(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze")
    unit = (REPO / "contrib/jailfs.service").read_text()
    assert "Type=notify" in unit
    local = tmp_path / "jailfs.service"       # the installed path, here this checkout's
    local.write_text(unit.replace("/usr/local/bin/jailfs", str(BIN / "jailfs")))
    r = run("systemd-analyze", "verify", str(local))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == "", r.stderr


def test_ready_is_notified_once_the_mount_serves(tmp_path):
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    sock_path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(30)
    env = {**daemon_env(), "NOTIFY_SOCKET": str(sock_path)}
    proc = subprocess.Popen([str(BIN / "jailfs"), "mount", "-q", str(mp)], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        message = sock.recv(4096).decode()
        assert "READY=1" in message and f"MAINPID={proc.pid}" in message
        assert (mp / ".ctl").exists()                  # serving when it says so
        subprocess.run(["fusermount3", "-u", str(mp)], check=True)
        assert "STOPPING=1" in sock.recv(4096).decode()
        assert proc.wait(timeout=30) == 0
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(mp)], capture_output=True)
        proc.wait(timeout=30)
        sock.close()


def test_verbose_logs_one_line_per_request(tmp_path):
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    log = tmp_path / "log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "jailfs"), "mount", "-v", str(mp)], env=daemon_env(),
                                stderr=out)
    try:
        deadline = time.monotonic() + 30
        while not (mp / ".ctl").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.mkdir(mp / "web")
        assert not (mp / "nope").exists()
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(mp)], capture_output=True)
        proc.wait(timeout=30)
    text = log.read_text()
    assert " DEBUG jailfs.request: mkdir 1 'web' " in text
    assert "-> ok (" in text and " lookup 1 'nope' pid=" in text and "-> ENOENT (" in text


def test_quiet_logs_nothing_for_a_clean_mount(tmp_path):
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    proc = subprocess.Popen([str(BIN / "jailfs"), "mount", "-q", str(mp)], env=daemon_env(),
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (mp / ".ctl").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.mkdir(mp / "web")
    finally:
        subprocess.run(["fusermount3", "-u", "-z", str(mp)], capture_output=True)
        _, err = proc.communicate(timeout=30)
    assert err == ""


def test_the_log_file_is_rotated(tmp_path, monkeypatch):
    import logging
    from jailfs.ops import logs
    monkeypatch.setattr(logs, "LOG_MAX_BYTES", 2000)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    log = tmp_path / "daemon.log"
    try:
        logs.setup_logging(0, str(log))
        for i in range(200):
            logging.getLogger("jailfs").info("line %d %s", i, "x" * 40)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert log.stat().st_size <= 2000 and (tmp_path / "daemon.log.1").stat().st_size <= 2000
    assert "line 199 " in log.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.log", "daemon.log.1"]


def test_a_background_daemon_that_dies_silently_is_reported(tmp_path):
    """The daemon dies before it is ready without a word (SIGKILL, here from
    this test, to the child of the jailfs process it started): the command
    says so, with the end of its log."""
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    conf = tmp_path / "big.conf"          # applying it keeps the daemon busy a while
    conf.write_text("".join(f"j{i} {{ persist; }}\n" for i in range(20000)))
    proc = subprocess.Popen([str(BIN / "jailfs"), "mount", "-b", "-q", "--conf", str(conf),
                             str(mp)], env=daemon_env(), stderr=subprocess.PIPE, text=True)
    children = f"/proc/{proc.pid}/task/{proc.pid}/children"
    try:
        daemon = None
        deadline = time.monotonic() + 30
        while daemon is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with open(children) as f:
                    daemon = int(f.read().split()[0])
            except (OSError, IndexError, ValueError):
                time.sleep(0.005)
        assert daemon is not None, "the daemon was never seen"
        os.kill(daemon, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["fusermount3", "-u", "-z", str(mp)], capture_output=True)
        runfiles.remove_log(runfiles.log_file(str(mp)))     # the dead daemon's, if it made one
    assert proc.returncode == 1
    assert err.startswith("jailfs: the daemon ended (killed by SIGKILL) before the mount was "
                          f"ready; last lines of {runfiles.log_file(str(mp))}:\n"), err
