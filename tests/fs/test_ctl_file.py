"""The .ctl transaction file through the mount, and `jailfs sim`."""

from __future__ import annotations

import errno
import os
import subprocess

from conftest import daemon_env, jailfs_cmd
from fsutil import events, nobody, value


def test_ctl_mode_and_empty_answer_before_any_request(jailfs_mount):
    m = jailfs_mount.path
    fd = os.open(m / ".ctl", os.O_RDWR)
    try:
        assert os.read(fd, 100) == b""
    finally:
        os.close(fd)


def test_ctl_check_answers_ok(jailfs_mount):
    os.mkdir(jailfs_mount.path / "web")
    code, answer = jailfs_mount.ctl("check")
    assert code == 0 and answer.startswith("ok"), answer


def test_ctl_create_and_error_on_same_descriptor(jailfs_mount):
    m = jailfs_mount.path
    code, answer = jailfs_mount.ctl("create name=web persist host.hostname=www")
    assert code == 0 and answer.startswith("ok "), answer
    assert value(m / "web/host.hostname") == "www"
    code, answer = jailfs_mount.ctl("create name=web persist")
    assert code == errno.EEXIST and answer.startswith("error EEXIST"), answer
    assert events(m)[-1].split()[1] == "refused"


def test_one_session_many_transactions(jailfs_mount):
    """jail(8)'s descriptor for a whole run (ctlproto.CtlSession): each
    answer, a refusal's included, is read whole after its request, and an
    answer longer than one read (READ_SIZE) is read to its end."""
    from jailfs.ctlproto import READ_SIZE, CtlSession
    name = "h" * 240                              # 300 of them: longer than one read
    with CtlSession(str(jailfs_mount.path)) as s:
        for i in range(300):
            a = s.answer(f"create name=j{i} persist host.hostname={name}{i}")
            assert a.ok and a.value == str(i + 1), a
        refused = s.answer("create name=j0 persist")
        assert refused.errname == "EEXIST", refused
        got = s.answer("get j7 host.hostname")
        assert got.ok and got.kv() == {"host.hostname": f"{name}7"}, got
        write_err, big = s.transact("list -p host.hostname")
        assert write_err is None and len(big) > READ_SIZE
        assert big.rstrip("\n").splitlines()[-1].endswith(f"{name}299")
        assert big.count("\n") == 301                # "ok" and a line per jail
        assert s.answer("get j299 jid").kv() == {"jid": "300"}


def test_ctl_shell_transaction(jailfs_mount):
    m = jailfs_mount.path
    r = subprocess.run(["bash", "-c", f"exec 3<>{m}/.ctl; echo 'create name=a persist' >&3; "
                       "cat <&3; exec 3>&-"], capture_output=True, text=True)
    assert r.stdout.startswith("ok "), r


def test_ctl_non_root_state_change_eperm(jailfs_mount):
    m = jailfs_mount.path
    r = nobody("bash", "-c", f"exec 3<>{m}/.ctl; echo 'create name=a persist' >&3; cat <&3")
    assert "error EPERM" in r.stdout, r
    assert not os.path.exists(m / "a")


def test_jailfs_sim(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    env = dict(daemon_env(), JAILFS_MOUNT=str(m))
    r = subprocess.run(jailfs_cmd("sim", "spawn", "web"), capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip().isdigit(), r
    r = subprocess.run(jailfs_cmd("sim", "spawn", "nosuch"), capture_output=True, text=True,
                       env=env)
    assert r.returncode == 1 and r.stderr.startswith("jailfs: "), r
