"""rctl rules as cgroup limits (jailfs.host.limits) on a real kernel model
and the real cgroupfs: each test's tree and processes go, whatever happens."""

from __future__ import annotations

import os

import psutil
import pytest

from jailfs.host.limits import Limits
from jailfs.kernel import JAIL_CREATE, Caller, Kernel

from .cgutil import Procs, make_tree, wait_until


def make_jail(k, name: str):
    jid = k.jail_set(Caller(k.prison0, 0), [("name", name), ("persist", None)], JAIL_CREATE)
    return k.jids[jid]


@pytest.fixture
def world():
    k = Kernel()
    tree = make_tree()
    procs = Procs()
    try:
        host = Caller(k.prison0, 0)
        web = make_jail(k, "web")
        db = make_jail(k, "web.db")
        limits = Limits(k, tree, lambda pr: tree.pids(pr, recursive=True))
        yield k, tree, limits, procs, host, web, db
    finally:
        procs.end()
        tree.teardown()


def knob(tree, pr, controller: str, v2: str, v1: str) -> str:
    h = tree.limits[controller]
    with open(os.path.join(tree.dir(pr, h), v2 if h.v2 else v1)) as f:
        return f.read().strip()


def test_maxproc_is_pids_max_of_the_jail_covering_its_children(world):
    k, tree, limits, procs, host, web, db = world
    if "pids" not in tree.limits:
        pytest.skip("no pids controller")
    tree.ensure(db)
    k.rctl.add_rule(host, "jail:web:maxproc:deny=5")
    limits.apply([web, db])
    assert knob(tree, web, "pids", "pids.max", "pids.max") == "5"
    assert knob(tree, db, "pids", "pids.max", "pids.max") == "max"
    procs.start_in(tree, db, "for i in 1 2 3 4 5 6 7 8; do sleep 300 & done; wait")
    assert wait_until(lambda: len(tree.pids(web, recursive=True)) >= 1)
    k.rctl.remove_rules(host, "jail:web")
    limits.apply([web, db])
    assert knob(tree, web, "pids", "pids.max", "pids.max") == "max"
    assert limits.limited() == []


def test_a_fork_past_maxproc_fails(world):
    k, tree, limits, procs, host, web, db = world
    if "pids" not in tree.limits:
        pytest.skip("no pids controller")
    k.rctl.add_rule(host, "jail:web:maxproc:deny=3")
    tree.ensure(db)
    limits.apply([web, db])
    r, w = os.pipe()
    import subprocess
    sh = subprocess.Popen(["sh", "-c", "read x; for i in 1 2 3 4 5; do sleep 300 2>/dev/null & done; wait"],
                          stdin=r, stderr=subprocess.PIPE)
    os.close(r)
    procs.add(sh.pid)
    tree.place(sh.pid, db)
    os.write(w, b"go\n")
    os.close(w)
    sh.wait(10)                                           # sh gives up at the refused fork
    for pid in tree.pids(db):
        procs.add(pid)
    assert b"fork" in sh.stderr.read().lower()            # dash: "Cannot fork"
    assert len(tree.pids(web, recursive=True)) == 2       # the two sleeps it could start


def ruled(world, controller: str, rule: str) -> None:
    """web's cgroups made, ``rule`` added and applied (skip without ``controller``)."""
    k, tree, limits, procs, host, web, db = world
    if controller not in tree.limits:
        pytest.skip(f"no {controller} controller")
    tree.ensure(web)
    k.rctl.add_rule(host, rule)
    limits.apply([web])


def test_memory_and_vmemory(world):
    k, tree, limits, procs, host, web, db = world
    ruled(world, "memory", "jail:web:memoryuse:deny=67108864")
    assert knob(tree, web, "memory", "memory.max", "memory.limit_in_bytes") == "67108864"
    k.rctl.add_rule(host, "jail:web:vmemoryuse:deny=100663296")
    limits.apply([web])
    h = tree.limits["memory"]
    if h.v2 and os.path.exists(os.path.join(tree.dir(web, h), "memory.swap.max")):
        assert knob(tree, web, "memory", "memory.swap.max", "") == str(100663296 - 67108864)
    elif not h.v2 and os.path.exists(os.path.join(tree.dir(web, h), "memory.memsw.limit_in_bytes")):
        assert knob(tree, web, "memory", "", "memory.memsw.limit_in_bytes") == "100663296"
    k.rctl.remove_rules(host, "jail:web")
    limits.apply([web])
    assert knob(tree, web, "memory", "memory.max", "memory.limit_in_bytes") in (
        "max", str(2**63 - 4096))                       # v1's "unlimited"


def test_pcpu_is_a_cpu_quota(world):
    k, tree, limits, procs, host, web, db = world
    ruled(world, "cpu", "jail:web:pcpu:deny=25")
    h = tree.limits["cpu"]
    if h.v2:
        assert knob(tree, web, "cpu", "cpu.max", "") == "25000 100000"
    else:
        assert knob(tree, web, "cpu", "", "cpu.cfs_quota_us") == "25000"
        assert knob(tree, web, "cpu", "", "cpu.cfs_period_us") == "100000"


def test_openfiles_is_rlimit_nofile_and_comes_back(world):
    k, tree, limits, procs, host, web, db = world
    p = procs.start("sleep", "300")
    before = psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE)
    tree.place(p.pid, db)
    k.rctl.add_rule(host, "jail:web:openfiles:deny=64")
    limits.apply([web, db])
    assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE) == (64, 64)
    later = procs.start("sleep", "300")
    tree.place(later.pid, web)
    limits.started(later.pid, web)                        # as the supervisor does on joining
    assert psutil.Process(later.pid).rlimit(psutil.RLIMIT_NOFILE) == (64, 64)
    k.rctl.remove_rules(host, "jail:web:openfiles")
    limits.apply([web, db])
    if cap_sys_resource():      # only then may a hard limit go back up
        assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE) == before
    fresh = procs.start("sleep", "300")
    tree.place(fresh.pid, web)
    limits.started(fresh.pid, web)
    assert psutil.Process(fresh.pid).rlimit(psutil.RLIMIT_NOFILE) == before


def cap_sys_resource() -> bool:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def test_usage_from_the_counters(world):
    k, tree, limits, procs, host, web, db = world
    p = procs.start("python3", "-c", "b = bytearray(20 << 20); import time; time.sleep(300)")
    tree.place(p.pid, db)
    assert wait_until(lambda: psutil.Process(p.pid).memory_info().rss > 20 << 20)
    if "memory" in tree.limits:
        assert limits.usage(web, "memoryuse") is not None
    assert limits.usage(web, "cputime") is not None or not tree.member.v2
    assert limits.usage(web, "nthr") >= 1
    assert limits.usage(web, "pcpu") == 0               # the first sample: no interval yet
    assert limits.usage(web, "maxproc") is None           # the model counts processes
    other = make_jail(k, "idle")
    assert limits.usage(other, "memoryuse") is None       # no cgroup: no real usage


def test_a_process_rule_on_a_real_process_is_its_rlimit_nofile(world):
    k, tree, limits, procs, host, web, db = world
    p = procs.start("sleep", "300")
    before = psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE)
    tree.place(p.pid, web)
    stand_in = k.spawn(web.jid, 0, real_pid=p.pid)       # as the supervisor adopts it
    other = procs.start("sleep", "300")
    tree.place(other.pid, web)
    k.spawn(web.jid, 0, real_pid=other.pid)
    k.rctl.add_rule(host, f"process:{stand_in.pid}:openfiles:deny=32")
    limits.apply([web, db])
    assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE) == (32, 32)
    assert psutil.Process(other.pid).rlimit(psutil.RLIMIT_NOFILE) == before   # its own only
    k.rctl.add_rule(host, "jail:web:openfiles:deny=64")  # the smaller one holds
    limits.apply([web, db])
    assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE) == (32, 32)
    assert psutil.Process(other.pid).rlimit(psutil.RLIMIT_NOFILE) == (64, 64)
    k.rctl.remove_rules(host, "jail:web")
    limits.apply([web, db])
    assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE) == (32, 32)
    k.rctl.remove_rules(host, "process:")
    limits.apply([web, db])
    if cap_sys_resource():
        assert psutil.Process(p.pid).rlimit(psutil.RLIMIT_NOFILE) == before
