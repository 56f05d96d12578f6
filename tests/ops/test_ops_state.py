"""State that survives: --state restores every jail after kill -9 of the
daemon; damaged state files are refused whole; jailfs export recreates the
live jails through --conf."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, daemon_env, require_fuse

sys.path.insert(0, str(REPO))
from jailfs import state as jstate  # noqa: E402

BIN = REPO / ".venv/bin"


def sim(m, request: str) -> str:
    code, answer = m.ctl(request)
    assert code == 0, answer
    return answer


def snapshot(m) -> dict:
    """Every jail (live and dying) with its parameters and .refs, and the clock."""
    out = {"clock": sim(m, "clock")}
    for line in sim(m, "list -d").splitlines()[1:]:
        jid = line.split()[0]
        out[line] = (sim(m, f"get -d {jid}"), (m / ".jid" / jid / ".refs").read_text())
    return out


def wait_saved(path, since: float, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime > since:
            time.sleep(0.3)                # past the debounce of a burst
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} not saved")


def build_world(m) -> None:
    sim(m, "create name=web persist ip4.addr=192.0.2.1 host.hostname=www.example allow.mount")
    sim(m, "create name=web.db persist securelevel=2")
    sim(m, "create name=tmp persist")
    assert sim(m, "spawn web") == "ok 100\n"
    sim(m, "connect 100 192.0.2.1:80 198.51.100.7:5555")
    sim(m, "close 100 3")                      # TIME_WAIT, 60 s
    sim(m, "kill 100")
    sim(m, "spawn tmp")
    sim(m, "open 101 /etc/passwd")
    sim(m, "rctl -a jail:tmp:maxproc:deny=5")
    sim(m, "advance 5")
    sim(m, "remove web")                       # dying: the TIME_WAIT connection holds it


def test_kill_9_then_mount_restores_every_jail(mount_factory, tmp_path):
    state = tmp_path / "state"
    m = mount_factory("--state", str(state))
    start = time.time()
    build_world(m)
    wait_saved(state, start)
    before = snapshot(m)
    assert any("web" in k for k in before) and "jail web (jid 1)" not in str(before)
    m.proc.kill()                              # kill -9: no chance to save at exit
    m.proc.wait()
    again = mount_factory("--state", str(state))
    assert snapshot(again) == before
    assert sim(again, "rctl").count("jail:tmp:maxproc:deny=5") == 1
    assert sim(again, "check").startswith("ok")
    sim(again, "advance 56")                   # the restored timer still fires
    assert "1 web" not in sim(again, "list -d")


def test_state_is_saved_at_exit(mount_factory, tmp_path):
    state = tmp_path / "state"
    m = mount_factory("--state", str(state), "-q")
    sim(m, "create name=last persist")
    m.proc.send_signal(signal.SIGTERM)        # at once: before the debounce fires
    assert m.proc.wait(timeout=30) == 0
    k = jstate.load(str(state))
    assert [pr.name for pr in k.jids.values()] == ["last"]


def mount_fails(tmp_path, state) -> subprocess.CompletedProcess:
    mp = tmp_path / "mnt"
    mp.mkdir(exist_ok=True)
    r = subprocess.run([str(BIN / "jailfs"), "mount", "-q", "--state", str(state), str(mp)],
                       capture_output=True, text=True, env=daemon_env(), timeout=60)
    assert r.returncode == 1
    assert not os.path.ismount(mp)
    return r


@pytest.fixture
def saved_state(tmp_path):
    from jailfs.kernel import Kernel
    from jailfs import ctl
    from jailfs.kernel import Caller
    k = Kernel()
    ctl.execute(k, Caller(k.prison0, 0), "create name=web persist")
    path = tmp_path / "state"
    jstate.save(str(path), jstate.dumps(k))
    return path


def test_truncated_state_is_refused(tmp_path, saved_state):
    require_fuse()
    data = saved_state.read_bytes()
    saved_state.write_bytes(data[:len(data) - 10])
    r = mount_fails(tmp_path, saved_state)
    length = int(re.search(rb"length=(\d+)", data).group(1))
    assert r.stderr == (f"jailfs: {saved_state}: not a usable jailfs state file: "
                        f"truncated: {length - 10} of {length} bytes\n")


@pytest.mark.parametrize("damage, why", [
    (lambda d: d[:-1] + bytes([d[-1] ^ 1]), "checksum mismatch (corrupt)"),
    (lambda d: b"jailfs-state 9" + d[d.index(b"\n"):], "format version 9, this jailfs reads 2"),
    (lambda d: b"hello\n", "no jailfs-state header"),
    (lambda d: d + b"x", "1 bytes after the end"),
])
def test_damaged_state_is_refused(saved_state, damage, why):
    saved_state.write_bytes(damage(saved_state.read_bytes()))
    with pytest.raises(jstate.StateError) as e:
        jstate.load(str(saved_state))
    assert str(e.value) == f"{saved_state}: not a usable jailfs state file: {why}"


def test_state_writable_by_others_is_refused(saved_state):
    os.chmod(saved_state, 0o666)
    with pytest.raises(jstate.StateError, match="writable by others"):
        jstate.load(str(saved_state))


def test_missing_state_starts_fresh_and_creates_the_file(mount_factory, tmp_path):
    state = tmp_path / "new-state"
    m = mount_factory("--state", str(state))
    assert state.exists() and jstate.load(str(state)).jids == {}
    assert sim(m, "list") == "ok\n"


def test_export_then_conf_reproduces_jls_n(mount_factory, tmp_path):
    m = mount_factory()
    sim(m, "create name=web persist ip4.addr=192.0.2.1,192.0.2.7 host.hostname='my host' "
        "allow.mount children.max=2 meta='a$b'")
    sim(m, "create name=web.db persist securelevel=3 env=\"it's\"")
    sim(m, "create name=7 persist allow.noset_hostname")
    sim(m, "create name=other persist ip6.addr=2001:db8::1 enforce_statfs=1")
    env = {**daemon_env(), "JAILFS_MOUNT": str(m.path)}
    conf = tmp_path / "exported.conf"
    r = subprocess.run([str(BIN / "jailfs"), "export", "-o", str(conf)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = conf.read_text()
    assert "ip4.addr = 192.0.2.1,192.0.2.7;" in text
    before = subprocess.run([str(BIN / "jls"), "-n"], env=env, capture_output=True, text=True)
    fresh = mount_factory("--conf", str(conf))
    after = subprocess.run([str(BIN / "jls"), "-n"], capture_output=True, text=True,
                           env={**daemon_env(), "JAILFS_MOUNT": str(fresh.path)})
    assert before.returncode == 0 and after.returncode == 0
    assert after.stdout == before.stdout and before.stdout.count("\n") == 4


def test_real_processes_are_not_restored(mount_factory, tmp_path):
    """A real process attached to a jail cannot be watched by the next daemon:
    its model process is killed at restore.  (The real process itself is the
    cgroups sentinel's business: it ends the jailed processes of a dead daemon.)"""
    state = tmp_path / "state"
    m = mount_factory("--state", str(state))
    real = subprocess.Popen(["sleep", "300"])
    try:
        sim(m, "create name=web persist")
        sim(m, "create name=keep persist")
        sim(m, f"attach web {real.pid}")
        start = time.time()
        sim(m, "set web nopersist")                  # only the real process keeps it
        wait_saved(state, start)
        m.proc.kill()
        m.proc.wait()
        again = mount_factory("--state", str(state))
        assert sim(again, "list -d") == "ok\n2 keep\n"    # web went with its process
        assert "1 real process(es) cannot be restored" in again.log_text()
    finally:
        real.kill()
        real.wait()
