"""Holders of pr_ref / pr_uref (spec 1.4, 6): processes, files, passed descriptors,
TCP TIME_WAIT, mounts; k.refs() lines add up to the totals."""

import re

from jailfs.kernel import Caller
from kutil import A, C, U, jset, mk, state

_REF = re.compile(r"(?<![u\w])ref (\d+)")
_UREF = re.compile(r"\buref (\d+)")


def check_report(k, jid):
    pr = k.by_jid(jid)
    rep = k.refs(pr)
    top = [ln for ln in rep.lines if not ln.startswith("    ")]
    assert sum(int(m) for ln in top for m in _REF.findall(ln)) == rep.ref == pr.ref
    assert sum(int(m) for ln in top for m in _UREF.findall(ln)) == rep.uref == pr.uref
    assert rep.text().endswith(f"total pr_ref={pr.ref} pr_uref={pr.uref}\n")
    return rep


def test_processes_fork_exit_reap(k):
    a = mk(k, "name=a")
    pr = k.by_jid(a)
    p = k.spawn(a)
    q = k.fork(p)
    assert (pr.ref, pr.uref) == (2, 3)            # fork shares the credential
    rep = check_report(k, a)
    assert "persist: ref 1, uref 1" in rep.lines
    assert sum("(running)" in ln for ln in rep.lines if not ln.startswith("    ")) == 2
    k.exit(q)                                     # zombie: its parent must reap it
    assert q.state == "zombie" and (pr.ref, pr.uref) == (2, 2)
    check_report(k, a)
    k.reap(q)
    assert (pr.ref, pr.uref) == (2, 2)            # p still holds the shared credential
    k.exit(p)                                     # no parent process: reaped at once
    assert (pr.ref, pr.uref) == (1, 1)
    check_report(k, a)


def test_zombie_keeps_a_removed_jail_dying_until_reaped(k):
    a = mk(k, "name=a")
    host = k.spawn(0)
    child = k.fork(host)
    k.jail_attach(child, a)
    k.jail_remove(Caller(k.prison0), a)           # SIGKILL: child becomes a zombie of host
    assert child.state == "zombie" and state(k, a) == "dying"
    pr = k.by_jid(a)
    assert (pr.ref, pr.uref) == (1, 0)
    check_report(k, a)
    k.reap(child)
    assert k.by_jid(a) is None


def test_open_files_and_passed_descriptors(k):
    a = mk(k, "name=a")
    p = k.spawn(a)
    fd = k.open_file(p, "/etc/passwd")
    host = k.spawn(0)
    hfd = k.pass_fd(p, fd, host)
    k.exit(p)                                     # its descriptor closes; host's copy remains
    pr = k.by_jid(a)
    assert (pr.ref, pr.uref) == (2, 1)
    rep = check_report(k, a)
    assert any("file /etc/passwd open as fd" in ln and "host" in ln for ln in rep.lines)
    k.jail_remove(Caller(k.prison0), a)
    assert state(k, a) == "dying" and (pr.ref, pr.uref) == (1, 0)
    k.close(host, hfd)
    assert k.by_jid(a) is None and pr.state == "freed"


def test_tcp_time_wait_freed_after_2msl(k):
    a = mk(k, "name=a")
    p = k.spawn(a)
    fd = k.tcp_connect(p, "10.0.0.1:1234", "192.0.2.1:80")
    k.close(p, fd)
    k.jail_remove(Caller(k.prison0), a)
    assert state(k, a) == "dying"
    rep = check_report(k, a)
    assert any("TIME_WAIT, 60 s left" in ln for ln in rep.lines)
    k.advance(59.5)
    assert state(k, a) == "dying"
    k.advance(0.5)
    assert k.by_jid(a) is None
    # a socket that never connected does not linger
    b = mk(k, "name=b")
    q = k.spawn(b)
    k.close(q, k.socket(q, "tcp"))
    k.jail_remove(Caller(k.prison0), b)
    assert k.by_jid(b) is None


def test_mounts_and_holders(k):
    a = mk(k, "name=a")
    p = k.spawn(a)
    m = k.mount(p, "tmpfs", "/tmp")
    h = k.hold(p, "sigio", "owner of fd 3")
    k.exit(p)
    k.jail_remove(Caller(k.prison0), a)
    rep = check_report(k, a)
    assert any("mount tmpfs on /tmp" in ln for ln in rep.lines)
    k.unmount(m)
    assert state(k, a) == "dying"
    k.release(h)
    assert k.by_jid(a) is None


def test_children_hold_ref_and_uref(k):
    h = k.spawn(0)
    p = jset(k, "name=p", "children.max=2", flags=C | A, proc=h)
    c = mk(k, "name=p.c")
    pp = k.by_jid(p)
    assert (pp.ref, pp.uref) == (2, 2)
    rep = check_report(k, p)
    assert any(ln.startswith("child jail p.c") for ln in rep.lines)
    assert c


def test_parent_whose_only_child_is_dying_stays_alive(k):
    h = k.spawn(0)
    p = jset(k, "name=p", "children.max=2", flags=C | A, proc=h)
    c = mk(k, "name=p.c")
    q = k.spawn(c)
    keeper = k.spawn(0)
    kfd = k.pass_fd(q, k.open_file(q), keeper)
    k.jail_remove(Caller(k.prison0), c)
    k.exit(h)                                     # p: no process, no persist, one dying child
    assert state(k, c) == "dying" and state(k, p) == "alive"
    assert (k.by_jid(p).ref, k.by_jid(p).uref) == (1, 1)
    k.close(keeper, kfd)                          # the child is freed; p goes with it
    assert k.by_jid(c) is None and k.by_jid(p) is None


def test_2011_bug_child_dying_again_and_again(k):
    """prison_deref once dropped the parent's references twice for a child that went
    dying repeatedly; here a child name goes dying 30 times over (removal, nopersist,
    last process exit, renumbering) and the parent's counts stay exact."""
    p = mk(k, "name=p", "children.max=100")
    pp = k.by_jid(p)
    keeper = k.spawn(0)
    held = []
    for i in range(30):
        jid = 500 + (i % 3)
        c = mk(k, "name=p.c", f"jid={jid}")       # renumbers the dying holder of the jid
        q = k.spawn(c)
        held.append(k.pass_fd(q, k.open_file(q), keeper))
        how = i % 3
        if how == 0:
            k.jail_remove(Caller(k.prison0), c)
            k.jail_remove(Caller(k.prison0), c)   # again: no-op
        elif how == 1:
            jset(k, f"jid={c}", "nopersist", flags=U)
            k.exit(q)
        else:
            k.exit(q)
            jset(k, "name=p.c", "nopersist", flags=U)
        assert state(k, c) == "dying"
        kids = len(pp.children)
        assert (pp.ref, pp.uref) == (1 + kids, 1 + kids)
        assert pp.childcount == kids
    for fd in held:
        k.close(keeper, fd)
    assert (pp.ref, pp.uref, pp.childcount, pp.state) == (1, 1, 0, "alive")
