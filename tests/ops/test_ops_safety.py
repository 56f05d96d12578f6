"""The test command and test hygiene: counts on the last line, an exit status
that agrees, and runs that leave other people's mounts and files alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, daemon_env, require_fuse

sys.path.insert(0, str(REPO))
from jailfs.fs import daemon  # noqa: E402

SAMPLE = """
import pytest
def test_passes(): pass
def test_passes_too(): pass
def test_fails(): assert False
@pytest.mark.skip(reason="sample")
def test_skipped(): pass
"""


def run_suite(tmp_path, pytest_args, shell_tests, timeout=600):
    env = daemon_env()
    env["JAILFS_SHELL_TESTS"] = " ".join(str(t) for t in shell_tests)
    # pytest's rootdir would otherwise be the common ancestor of the repository
    # and tmp_path (/tmp), and collecting from there stats every directory in
    # /tmp (its virtualenv check): other people's mounts, a hung one included
    pytest_args = ["--rootdir", str(tmp_path), *pytest_args]
    return subprocess.run(["bash", str(REPO / "scripts/test"), *pytest_args], cwd=str(REPO),
                          env=env, capture_output=True, text=True, timeout=timeout)


def shell_test(dir_: Path, name: str, status: int) -> Path:
    p = dir_ / name
    p.write_text(f"#!/bin/sh\necho {name}\nexit {status}\n")
    return p


def last_line(out: str) -> str:
    return out.rstrip("\n").rsplit("\n", 1)[-1]


def test_last_line_counts_pytest_and_shell_and_the_status_agrees(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text(SAMPLE)
    shells = [shell_test(tmp_path, "ok.sh", 0), shell_test(tmp_path, "bad.sh", 1),
              shell_test(tmp_path, "skip.sh", 77)]
    r = run_suite(tmp_path, [str(sample)], shells)
    assert last_line(r.stdout) == "3 passed, 2 failed, 2 skipped", r.stdout + r.stderr
    assert r.returncode == 1


def test_all_passing_exits_0(tmp_path):
    sample = tmp_path / "test_good.py"
    sample.write_text("def test_one(): pass\n")
    r = run_suite(tmp_path, [str(sample)], [shell_test(tmp_path, "ok.sh", 0)])
    assert last_line(r.stdout) == "2 passed, 0 failed", r.stdout + r.stderr
    assert r.returncode == 0


def test_no_tests_collected_is_not_a_failure(tmp_path):
    (tmp_path / "test_empty.py").write_text("")
    r = run_suite(tmp_path, [str(tmp_path / "test_empty.py")], [])
    assert last_line(r.stdout) == "0 passed, 0 failed", r.stdout + r.stderr
    assert r.returncode == 0


def test_a_missing_shell_test_is_a_failure(tmp_path):
    (tmp_path / "test_empty.py").write_text("")
    r = run_suite(tmp_path, [str(tmp_path / "test_empty.py")], [tmp_path / "nope.sh"])
    assert last_line(r.stdout) == "0 passed, 1 failed", r.stdout + r.stderr
    assert r.returncode == 1


def test_two_concurrent_runs_leave_each_other_and_a_foreign_mount_alone(jailfs_mount, tmp_path):
    """A mount under /tmp/jailfs-* that neither run made survives both runs,
    and each run's mounts survive the other's clean-ups."""
    assert str(jailfs_mount.path).startswith("/tmp/jailfs-")
    os.mkdir(jailfs_mount / "foreign")
    env = daemon_env()
    env["JAILFS_SHELL_TESTS"] = "tests/shell/fs_mount.sh tests/shell/fs_basic.sh"
    runs = [subprocess.Popen(["bash", "scripts/test", "tests/fs/test_mount.py"], cwd=str(REPO),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outs = [p.communicate(timeout=900)[0] for p in runs]
    for p, out in zip(runs, outs):
        assert p.returncode == 0, out
        assert last_line(out).endswith(" passed, 0 failed"), out
    assert jailfs_mount.proc.poll() is None
    assert (jailfs_mount / "foreign").is_dir()
    assert jailfs_mount.ctl("check")[0] == 0


def test_background_mount_leaves_no_log_or_pid_file(tmp_path):
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    env = daemon_env()
    jailfs = [sys.executable, "-m", "jailfs"]
    r = subprocess.run(jailfs + ["mount", "--background", str(mp)], env=env,
                       capture_output=True, text=True, timeout=60)
    try:
        assert r.returncode == 0, r.stderr
        assert os.path.exists(daemon.log_file(str(mp)))
        assert os.path.exists(daemon.pid_file(str(mp)))
    finally:
        u = subprocess.run(jailfs + ["umount", str(mp)], env=env, capture_output=True,
                           text=True, timeout=60)
    assert u.returncode == 0, u.stderr
    assert not os.path.exists(daemon.log_file(str(mp)))
    assert not os.path.exists(daemon.pid_file(str(mp)))


def test_failed_background_mount_says_why_and_leaves_no_log(tmp_path):
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    conf = tmp_path / "bad.conf"
    conf.write_text("web { persist; ip4.addr = ; \n")
    r = subprocess.run([sys.executable, "-m", "jailfs", "mount", "--background",
                        "--conf", str(conf), str(mp)], env=daemon_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("jailfs: ") and str(conf) in r.stderr, r.stderr
    assert not os.path.exists(daemon.log_file(str(mp)))
    assert not os.path.ismount(mp)


def test_a_daemon_killed_by_its_test_leaves_no_pid_file(tmp_path):
    from conftest import start_daemon, stop_daemon, wait_ready
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    log = tmp_path / "log"
    proc = start_daemon(mp, log)
    try:
        wait_ready(mp, proc, log)
        assert os.path.exists(daemon.pid_file(str(mp)))
        proc.kill()                               # SIGKILL: the daemon cannot clean up
        proc.wait()
        assert os.path.exists(daemon.pid_file(str(mp)))
    finally:
        stop_daemon(mp, proc)
    assert not os.path.exists(daemon.pid_file(str(mp)))


def test_umount_after_the_daemon_was_killed_removes_its_run_files(tmp_path):
    require_fuse()
    mp = tmp_path / "mnt"
    mp.mkdir()
    jailfs = [sys.executable, "-m", "jailfs"]
    r = subprocess.run(jailfs + ["mount", "-b", str(mp)], env=daemon_env(), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pid = int(open(daemon.pid_file(str(mp))).read().split()[0])
    os.kill(pid, 9)                                # the daemon this test started
    while os.path.exists(f"/proc/{pid}"):          # it is not our child: wait until reaped
        time.sleep(0.02)
    assert os.path.exists(daemon.log_file(str(mp)))
    u = subprocess.run(jailfs + ["umount", str(mp)], env=daemon_env(), capture_output=True,
                       text=True, timeout=60)
    assert u.returncode == 0, u.stderr
    assert not os.path.ismount(mp)
    assert not os.path.exists(daemon.pid_file(str(mp)))
    assert not os.path.exists(daemon.log_file(str(mp)))
