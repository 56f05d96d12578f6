"""The supervisor's membership on the real cgroupfs, without a mount: the
caller's jail comes from its cgroup (unknown -> EACCES, never the host), every
process of a jail's cgroup is a kernel process, .refs names its command."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest
from pyfuse3 import FUSEError

from jailfs import ctl_real
from jailfs.fs.supervisor import Supervisor
from jailfs.host.namespaces import ns_id
from jailfs.kernel import JAIL_CREATE, JAIL_UPDATE, Caller, Kernel

from .cgutil import Procs, make_tree, wait_until


@pytest.fixture
def sup():
    k = Kernel()
    s = Supervisor(k)
    tree = make_tree()
    procs = Procs()
    try:
        assert s.start_cgroups(tree)
        jid = k.jail_set(Caller(k.prison0, 0), [("name", "web"), ("persist", None)], JAIL_CREATE)
        yield k, s, k.by_jid(jid), procs
    finally:
        procs.end()
        s.close()
        for h in tree.hierarchies:
            assert not os.path.exists(h.base)


def attach(k, pr, pid: int):
    proc = k.spawn(0, 0, real_pid=pid)
    k.jail_attach(proc, pr.jid)
    return proc


def test_unknown_callers_get_nothing(sup):
    k, s, web, procs = sup
    assert s.caller_prison(os.getpid()) is k.prison0
    for pid in (999999999, 0):
        with pytest.raises(FUSEError) as e:
            s.caller_prison(pid)
        assert e.value.errno == errno.EACCES


def test_attach_places_and_children_are_kernel_processes(sup):
    k, s, web, procs = sup
    r, w = os.pipe()
    sh = subprocess.Popen(["sh", "-c", "read x; sleep 300 & sleep 300 & wait"], stdin=r)
    os.close(r)
    procs.add(sh.pid)
    attach(k, web, sh.pid)
    assert s.caller_prison(sh.pid) is web
    os.write(w, b"go\n")
    os.close(w)
    assert wait_until(lambda: len(s.cgroups.pids(web)) == 3)
    # the children exist before they have exec'd sleep: wait for their names
    assert wait_until(lambda: s.refs_text(web, k.prison0).count("    command sleep\n") == 2)
    for pid in s.cgroups.pids(web):
        procs.add(pid)
    real = s.real_procs(web)
    assert sorted(real) == sorted(s.cgroups.pids(web))
    assert all(s.caller_prison(pid) is web for pid in real)
    text = s.refs_text(web, k.prison0)
    assert text.count("    command sleep\n") == 2 and "    command sh\n" in text
    assert text.endswith("total pr_ref=4 pr_uref=4\n")      # persist + 3 processes


def test_removal_kills_all_and_frees_the_jail(sup):
    k, s, web, procs = sup
    sleeper = procs.start("sleep", "300")
    attach(k, web, sleeper.pid)
    k.jail_set(Caller(k.prison0, 0), [("jid", str(web.jid)), ("nopersist", None)], JAIL_UPDATE)
    assert web.state == "alive"                 # its process holds it
    k.jail_remove(Caller(k.prison0, 0), web.jid)
    assert sleeper.wait(10) == -9
    s.sync(web)                                 # as its pidfd watcher would
    assert web.state == "freed"
    assert not s.cgroups.has(web)


def test_a_jailed_process_found_on_the_hosts_tree_is_reported_unconfined(sup):
    """A process placed in a jail's cgroup without the daemon (a host root
    writing cgroup.procs) keeps the host's tree, so it could walk the mount
    from its root: adopting it reports it (the filesystem then stops caching
    the root's names for the host: fs/sharedroot.py).  One in a mount
    namespace of its own (as a confined jail's are) is not reported."""
    k, s, web, procs = sup
    reported = []
    hook = lambda kk, pr, pid, why: reported.append((pr, pid, why))  # noqa: E731
    ctl_real.unconfined_hooks.append(hook)
    try:
        own_tree = procs.start("unshare", "-m", "sleep", "300")
        assert wait_until(lambda: ns_id(own_tree.pid, "mnt") != ns_id("self", "mnt")
                          and _comm(own_tree.pid) == "sleep")
        s.cgroups.place(own_tree.pid, web)
        s.real_procs(web)
        assert reported == []
        on_host = procs.start("sleep", "300")
        s.cgroups.place(on_host.pid, web)
        assert sorted(s.real_procs(web)) == sorted([own_tree.pid, on_host.pid])
        assert [(pr, pid) for pr, pid, _ in reported] == [(web, on_host.pid)]
        assert "on the host's tree" in reported[0][2]
    finally:
        ctl_real.unconfined_hooks.remove(hook)


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""
