"""The enter request and its answer (ctl_real.enter, jailhouse.attach_answer),
as the keeper reads it (enter.Confinement), without a mount."""

import errno
import os

import pytest

from jailfs import ctl, ctl_real
from jailfs.host import enter, namespaces
from jailfs.host.jailhouse import Jailhouse
from jailfs.kernel import Caller, Kernel


@pytest.fixture
def sleeper():
    """A live real process to attach (in an in-memory kernel: nothing happens to it)."""
    return os.getpid()


@pytest.fixture
def k():
    k = Kernel()
    k.jail_set(Caller(k.prison0, 0), [("name", "web"), ("persist", None),
                                       ("host.hostname", "www.example")], 1)
    return k


def run(k, text):
    return ctl.execute(k, Caller(k.prison0, 0), text, prison_of=lambda pid: k.prison0)


def test_enter_attaches_and_carries_the_hooks_lines(k, sleeper):
    seen = []

    def hook(kernel, pr, real_pid):
        seen.append((pr.name, real_pid))
        return ["confine=none", "reason=test"]
    ctl_real.enter_hooks.append(hook)
    try:
        code, answer = run(k, f"enter web {sleeper}")
        assert (code, answer) == (0, "ok\nconfine=none\nreason=test")
        assert seen == [("web", sleeper)]
        (proc,) = [p for p in k.procs.values() if p.real_pid == sleeper]
        assert proc.prison.name == "web"
        run(k, "create name=web.db persist")
        assert run(k, f"attach web.db {sleeper}") == (0, "ok")      # attach: no lines
    finally:
        ctl_real.enter_hooks.remove(hook)


def test_enter_refusals_are_attachs(k):
    assert run(k, "enter nope 1")[0] == errno.ENOENT
    assert run(k, "enter web 999999999")[0] == errno.ESRCH
    assert run(k, "enter web")[0] == errno.EINVAL


def test_fallback_answer_when_namespaces_are_refused(k, sleeper, monkeypatch):
    monkeypatch.setenv("JAILFS_NO_CONFINE", "1")
    namespaces.unavailable.cache_clear()
    house = Jailhouse(k, None)
    house.start()
    try:
        code, answer = run(k, f"enter web {sleeper}")
        assert code == 0
        lines = answer.split("\n")[1:]
        assert lines == ["confine=none", "reason='JAILFS_NO_CONFINE is set'"]
        assert enter.Confinement.parse(lines) is None
        assert house.anchors == {}
    finally:
        house.stop()
        namespaces.unavailable.cache_clear()


def test_confinement_parse():
    c = enter.Confinement.parse([
        "confine=anchor", "anchor=12", "anchor_start=345", "mount=/dev/jailfs", "proc=100",
        "host=new", "vnet=inherit", "sysvmsg=disable", "sysvsem=disable", "sysvshm=new",
        "securelevel=-1", "enforce_statfs=2", "host.hostname='a b'",
        "allow=set_hostname,raw_sockets"])
    assert (c.anchor, c.anchor_start, c.mount, c.proc) == (12, 345, "/dev/jailfs", 100)
    assert c.params["host.hostname"] == "a b"
    assert c.allow == {"set_hostname", "raw_sockets"}
    p = c.privileges()
    assert "NET_RAW" in p.caps and "shmget" not in p.deny and p.deny["semget"] == errno.ENOSYS


def test_a_process_with_all_capabilities_may_enter():
    assert enter.can_enter() is None


def test_wanted_namespaces():
    base = {"host": "inherit", "vnet": "inherit", "sysvmsg": "disable",
            "sysvsem": "inherit", "sysvshm": "disable"}
    assert namespaces.wanted(base) == ["mnt", "pid", "cgroup"]
    assert namespaces.wanted({**base, "host": "new", "sysvshm": "new", "vnet": "new"}) == \
        ["mnt", "pid", "cgroup", "uts", "ipc", "net"]


def test_unconfined_entries_are_reported(k, sleeper):
    """attach (the process keeps the host's tree) and an enter answered
    without an anchor tell the unconfined hooks (the filesystem then stops
    caching the names of its root for the host); an enter into an anchor does not."""
    seen = []

    def unconfined(kernel, pr, real_pid, why):
        seen.append((pr.name, real_pid, why.split()[0]))
    answers = [["confine=anchor", "anchor=1"], ["confine=none", "reason=test"]]
    ctl_real.unconfined_hooks.append(unconfined)
    ctl_real.enter_hooks.append(lambda kernel, pr, real_pid: answers.pop(0))
    try:
        run(k, "create name=web.db persist")
        assert run(k, f"enter web {sleeper}")[0] == 0
        assert seen == []
        assert run(k, f"enter web.db {sleeper}")[0] == 0
        assert seen == [("web.db", sleeper, "enter")]
        seen.clear()
        # from a jail to its child: it stays where its jail put it, no report
        run(k, "create name=web.db.x persist")

        def jail_of(pid):
            return next(p.prison for p in k.procs.values()
                        if p.real_pid == pid and p.state == "running")
        assert ctl.execute(k, Caller(k.prison0, 0), f"attach web.db.x {sleeper}",
                           prison_of=jail_of)[0] == 0
        assert seen == []
    finally:
        ctl_real.unconfined_hooks.remove(unconfined)
        ctl_real.enter_hooks.pop()


def test_attach_of_a_host_process_is_unconfined(k, sleeper):
    seen = []
    ctl_real.unconfined_hooks.append(lambda kernel, pr, real_pid, why: seen.append(why))
    try:
        assert run(k, f"attach web {sleeper}")[0] == 0
        assert len(seen) == 1 and seen[0].startswith("attach web")
    finally:
        ctl_real.unconfined_hooks.pop()


def test_a_keeper_without_a_view_to_bind_runs_nothing():
    """An anchor answer that names no view of the mount (or no jid to check
    it by) is refused before anything is joined: never a jail with the
    host's view, or none."""
    base = ["confine=anchor", "anchor=12", "anchor_start=345", "mount=/dev/jailfs"]
    for extra in ([], ["jid=3"], ["view=relative/.view", "jid=3"], ["view=/m/.view"]):
        c = enter.Confinement.parse(base + extra)
        with pytest.raises(enter.EnterError, match="no view of the mount"):
            enter.take_view(c)
    c = enter.Confinement.parse(base + ["view=/nonexistent/.view", "jid=3"])
    assert (c.view, c.jid) == ("/nonexistent/.view", "3")
    with pytest.raises(enter.EnterError, match="the jail's view /nonexistent/.view"):
        enter.take_view(c)
