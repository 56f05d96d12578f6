"""The supervisor's membership on the real cgroupfs, without a mount: the
caller's jail comes from its cgroup (unknown -> EACCES, never the host), every
process of a jail's cgroup is a kernel process, .refs names its command."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest
from pyfuse3 import FUSEError

from jailfs.fs.supervisor import Supervisor
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
