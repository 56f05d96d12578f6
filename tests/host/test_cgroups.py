"""CgroupTree against the real cgroupfs: each test makes its own tree (a base
no daemon would take for its own) and removes it, and the processes it
started, even when it fails."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jailfs.host import cgroups as cg
from jailfs.host.cgroups import HOST, UNKNOWN

from .cgutil import HOST0, FakePrison, Procs, gone, make_tree, wait_until


@pytest.fixture
def tree():
    t = make_tree()
    try:
        yield t
    finally:
        t.teardown()
        for h in t.hierarchies:
            assert not os.path.exists(h.base), f"{h.base} left behind"


@pytest.fixture
def procs():
    p = Procs()
    try:
        yield p
    finally:
        p.end()


def jails():
    web = FakePrison(7, HOST0)
    db = FakePrison(9, web)
    return web, db


def test_layout_mirrors_the_jail_tree(tree):
    web, db = jails()
    tree.ensure(db)
    for h in tree.hierarchies:
        assert os.path.isdir(os.path.join(h.base, "j7", "procs"))
        assert os.path.isdir(os.path.join(h.base, "j7", "j9", "procs"))
    assert tree.dir(db) == os.path.join(tree.member.base, "j7/j9")
    assert tree.leaf(web) == os.path.join(tree.member.base, "j7/procs")
    assert tree.member.base.startswith(tree.member.mount)


def test_membership_in_v2_and_limits_where_available(tree):
    v2 = [line for line in open("/proc/mounts") if line.split()[2] == "cgroup2"]
    if v2:
        assert tree.member.v2
    v1 = {o for line in open("/proc/mounts") if line.split()[2] == "cgroup"
          for o in line.split()[3].split(",")}
    for c in cg.LIMIT_CONTROLLERS:
        if c in v1:
            assert c in tree.limits, f"{c} mounted but not used"


def gated(procs, script: str) -> tuple[subprocess.Popen, int]:
    """sh running ``script`` once a line arrives on the returned fd."""
    r, w = os.pipe()
    sh = subprocess.Popen(["sh", "-c", "read x; " + script], stdin=r, stdout=subprocess.PIPE)
    os.close(r)
    procs.add(sh.pid)
    return sh, w


def go(w: int) -> None:
    os.write(w, b"go\n")
    os.close(w)


def test_jail_of_follows_the_cgroup_not_the_parent(tree, procs):
    web, db = jails()
    sh, w = gated(procs, "sleep 300 </dev/null >/dev/null & echo $!; wait")
    tree.place(sh.pid, db)
    go(w)
    child = procs.add(int(sh.stdout.readline()))           # forked after the move
    assert tree.jail_of(sh.pid) == 9
    assert tree.jail_of(child) == 9
    assert tree.jail_of(os.getpid()) == HOST
    assert tree.jail_of(999999999) == UNKNOWN
    other = procs.start("sleep", "300")
    tree.place(other.pid, web)
    assert tree.jail_of(other.pid) == 7
    assert sorted(tree.pids(db)) == sorted([sh.pid, child])
    assert tree.pids(web) == [other.pid]
    assert sorted(tree.pids(web, recursive=True)) == sorted([other.pid, sh.pid, child])
    assert tree.holds_processes() is True       # the write guard then looks for the writer


def test_holds_processes_follows_the_jails_processes(tree, procs):
    web, db = jails()
    assert tree.holds_processes() is False      # no jail has a cgroup yet
    tree.ensure(db)
    assert tree.holds_processes() is False      # cgroups, but empty: no writer to look for
    p = procs.start("sleep", "300")
    tree.place(p.pid, db)
    assert tree.holds_processes() is True
    p.kill()
    p.wait()
    wait_until(lambda: tree.holds_processes() is False)


def test_holds_processes_is_none_when_the_tree_is_unreadable(tree, procs, monkeypatch):
    web, db = jails()
    tree.place(procs.start("sleep", "300").pid, db)
    real_read = cg._read

    def refuse(path):
        if path.startswith(tree.member.base):
            raise PermissionError(13, "Permission denied", path)
        return real_read(path)
    monkeypatch.setattr(cg, "_read", refuse)
    assert tree.holds_processes() is None       # the guard then looks for the writer


def test_a_pid_in_the_tree_but_not_in_a_leaf_is_unknown(tree, procs):
    web, _ = jails()
    tree.ensure(web)
    p = procs.start("sleep", "300")
    try:
        with open(os.path.join(tree.dir(web), "cgroup.procs"), "w") as f:   # not a jail's leaf
            f.write(str(p.pid))
    except OSError:         # v2 with controllers on: no process in an inner node anyway
        pytest.skip("inner cgroups take no process here")
    assert tree.jail_of(p.pid) == UNKNOWN
    assert tree.holds_processes() is True         # the write guard looks for the writer


def test_an_orphan_stays_in_its_jail(tree, procs):
    """The parent is killed: the child is re-parented, its cgroup stays."""
    web, _ = jails()
    sh, w = gated(procs, "(sleep 300 </dev/null >/dev/null 2>&1 & echo $!); kill -9 $$")
    tree.place(sh.pid, web)
    go(w)
    orphan = procs.add(int(sh.stdout.readline()))
    sh.wait()
    assert sh.returncode == -9
    assert wait_until(lambda: gone(sh.pid))
    assert tree.jail_of(orphan) == 7, "the orphan left its jail"
    assert tree.pids(web) == [orphan]


def test_threads_answer_as_their_process(tree, procs):
    web, _ = jails()
    py = procs.start(sys.executable, "-c",
                     "import threading, time, sys\n"
                     "t = threading.Thread(target=time.sleep, args=(300,), daemon=True); t.start()\n"
                     "print(t.native_id, flush=True); time.sleep(300)")
    tid = int(py.stdout.readline())
    tree.place(py.pid, web)
    assert tree.jail_of(tid) == 7


def test_kill_wins_against_a_fork_loop(tree, procs):
    web, db = jails()
    procs.start_in(tree, db, "while :; do sleep 300 & done")
    assert wait_until(lambda: len(tree.pids(web, recursive=True)) > 20)
    assert tree.kill(web) > 0
    assert wait_until(lambda: not tree.populated(web, recursive=True))
    assert tree.pids(web, recursive=True) == []
    assert tree.remove(web)
    for h in tree.hierarchies:
        assert not os.path.exists(os.path.join(h.base, "j7"))


def test_freeze_kill_thaw(tree, procs):
    """The path taken where cgroup.kill is missing."""
    web, _ = jails()
    if not tree._can_freeze():
        pytest.skip("no freezer")
    procs.start_in(tree, web, "while :; do sleep 300 & done")
    assert wait_until(lambda: len(tree.pids(web)) > 20)
    tree._freeze_kill_thaw(web)
    assert wait_until(lambda: not tree.populated(web))
    assert tree.remove(web)


def test_remove_refuses_while_populated(tree, procs):
    web, _ = jails()
    p = procs.start("sleep", "300")
    tree.place(p.pid, web)
    assert not tree.remove(web)
    assert os.path.isdir(tree.leaf(web))
    assert tree.jail_of(p.pid) == 7
    tree.kill(web)
    p.wait()
    assert wait_until(lambda: tree.remove(web))


def test_watch_reports_the_last_process_gone(tree, procs):
    web, db = jails()
    if tree.watch is None:
        pytest.skip("no cgroup.events: the daemon polls")
    tree.watch_jail(web)
    tree.watch_jail(db)
    p = procs.start("sleep", "300")
    tree.place(p.pid, web)
    assert wait_until(lambda: 7 in tree.changed())
    assert tree.populated(web) and not tree.populated(db)
    p.kill()
    p.wait()
    assert wait_until(lambda: 7 in tree.changed())
    assert not tree.populated(web)


def test_place_a_gone_process(tree, procs):
    web, _ = jails()
    p = procs.start("true")
    p.wait()
    with pytest.raises(ProcessLookupError):
        tree.place(p.pid, web)


def test_teardown_kills_and_removes_everything(procs, tree):
    web, db = jails()
    a = procs.start("sleep", "300")
    b = procs.start("sleep", "300")
    tree.place(a.pid, web)
    tree.place(b.pid, db)
    assert tree.teardown()
    assert wait_until(lambda: gone(a.pid) and gone(b.pid))
    for h in tree.hierarchies:
        assert not os.path.exists(h.base)


def _dead_owner(procs) -> tuple[int, int]:
    """A pid and start time of a process that is gone."""
    p = procs.start("sleep", "300")
    st = cg.start_time(p.pid)
    p.kill()
    p.wait()
    return p.pid, st


def test_sweep_removes_only_bases_whose_owner_is_gone(tree, procs):
    web, _ = jails()
    # The sweep looks at the directory holding the bases; here one inside our tree.
    h = tree.member
    inside = cg.Hierarchy(h.name, h.mount, h.base[len(h.mount):], "jailfs-unused")
    pid, st = _dead_owner(procs)
    dead = os.path.join(h.base, f"jailfs-{pid}-{st}")
    alive = os.path.join(h.base, f"jailfs-{os.getpid()}-{cg.start_time(os.getpid())}")
    other = os.path.join(h.base, "not-a-base")
    for d in (dead, os.path.join(dead, "j1"), os.path.join(dead, "j1", "procs"), alive, other):
        os.mkdir(d)
    victim = procs.start("sleep", "300")
    with open(os.path.join(dead, "j1", "procs", "cgroup.procs"), "w") as f:
        f.write(str(victim.pid))
    cg.sweep_orphans(inside)
    assert not os.path.exists(dead)
    assert wait_until(lambda: gone(victim.pid))
    assert os.path.isdir(alive) and os.path.isdir(other)


def test_a_sweep_from_a_private_pid_namespace_touches_no_base(tree, procs):
    """A daemon started in a pid namespace of its own (unshare --pid
    --mount-proc, a container) sees no other daemon in its /proc: it must
    not take their bases for orphans, kill their jails and remove them."""
    h = tree.member
    pid, st = _dead_owner(procs)
    dead = os.path.join(h.base, f"jailfs-{pid}-{st}")
    alive = os.path.join(h.base, f"jailfs-{os.getpid()}-{cg.start_time(os.getpid())}")
    for d in (dead, alive, os.path.join(alive, "j1"), os.path.join(alive, "j1", "procs")):
        os.mkdir(d)
    victim = procs.start("sleep", "300")
    with open(os.path.join(alive, "j1", "procs", "cgroup.procs"), "w") as f:
        f.write(str(victim.pid))
    sweep = ("import sys; from jailfs.host import cgroups as cg; "
             "h = cg.Hierarchy(sys.argv[1], sys.argv[2], sys.argv[3], 'jailfs-unused'); "
             "print(cg.sees_every_process()); cg.sweep_orphans(h)")
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--mount-proc", sys.executable,
                        "-c", sweep, h.name, h.mount, h.base[len(h.mount):]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "False\n", r.stderr
    assert os.path.isdir(alive) and not gone(victim.pid)       # the live daemon's jail stays
    assert os.path.isdir(dead)                                  # even an orphan waits
    assert cg.sees_every_process()
    cg.sweep_orphans(cg.Hierarchy(h.name, h.mount, h.base[len(h.mount):], "jailfs-unused"))
    assert not os.path.exists(dead) and os.path.isdir(alive)   # the host's sweep removes it


def test_sentinel_cleans_up_after_its_daemon_dies(procs, tree):
    web, _ = jails()
    fake_daemon = procs.start("sleep", "300")
    jailed = procs.start("sleep", "300")
    tree.place(jailed.pid, web)
    s = cg.spawn_sentinel(fake_daemon.pid, [h.base for h in tree.hierarchies])
    procs.add(s.pid)
    fake_daemon.kill()
    fake_daemon.wait()
    assert s.wait(20) == 0
    assert gone(jailed.pid)
    for h in tree.hierarchies:
        assert not os.path.exists(h.base)
