"""jail_get wordings (2.4, 10.10), jail_remove (2.5, 10.9), jail_attach (2.6)."""

import os
from errno import EINVAL, ENOENT, EPERM

from jailfs.kernel import Caller, PARAM_NAMES
from kutil import A, C, D, get, jailed_root, jset, mk, refused, state
from test_kernel_jids import hold_dying


def get_err(k, key, names=None, flags=0, caller=None):
    e = refused(k.jail_get, caller or Caller(k.prison0), key, names, flags, k=k)
    assert e.op == "jail_get"
    assert str(e) == (e.msg or f"jail_get: {os.strerror(e.errno)}")
    return e.errno, e.msg


def test_get_wordings(k):
    a = mk(k, "name=a")
    assert get_err(k, ("jid", 9)) == (ENOENT, "jail 9 not found")
    assert get_err(k, ("name", "zz")) == (ENOENT, 'jail "zz" not found')
    assert get_err(k, ("lastjid", a)) == (ENOENT, f"no jail after {a}")
    assert get_err(k, ("jid", 0)) == (ENOENT, "no jail specified")       # jid 0 is not a key
    assert get_err(k, ("path", "/")) == (ENOENT, "no jail specified")
    assert get_err(k, ("name", "")) == (EINVAL, "")
    assert get_err(k, ("jid", a), ["foo"]) == (EINVAL, "unknown parameter: foo")
    assert get_err(k, ("jid", a), flags=C) == (EINVAL, "")
    hold_dying(k, a)
    assert get_err(k, ("jid", a)) == (ENOENT, f"jail {a} is dying")
    assert get_err(k, ("name", "a")) == (ENOENT, 'jail "a" is dying')
    assert get_err(k, ("lastjid", 0)) == (ENOENT, "no jail after 0")
    assert get(k, a, "dying", flags=D) == {"jid": str(a), "dying": "true"}
    assert get(k, "a", "jid", flags=D)["jid"] == str(a)
    assert get(k, ("lastjid", 0), "name", flags=D)["name"] == "a"


def test_get_only_descendants(k):
    a = mk(k, "name=a", "children.max=2")
    b = mk(k, "name=b")
    c = mk(k, "name=a.c")
    inside = jailed_root(k, a)
    assert get_err(k, ("jid", b), caller=inside) == (ENOENT, f"jail {b} not found")
    assert get_err(k, ("jid", a), caller=inside) == (ENOENT, f"jail {a} not found")   # itself
    assert get_err(k, ("name", "b"), caller=inside) == (ENOENT, 'jail "b" not found')
    assert get(k, ("lastjid", 0), "jid", caller=inside)["jid"] == str(c)
    assert get_err(k, ("lastjid", c), caller=inside) == (ENOENT, f"no jail after {c}")


def test_get_all_and_meta_keys(k):
    a = mk(k, "name=a", "meta=x=1")
    values = get(k, a)
    assert tuple(values) == PARAM_NAMES and values["jid"] == str(a)
    assert get(k, a, "meta.x", "meta.missing", "env.none") == {
        "jid": str(a), "meta.x": "1", "meta.missing": "", "env.none": ""}


def test_lastjid_iteration_in_jid_order(k):
    for jid in (7, 3, 5):
        mk(k, f"jid={jid}")
    seen, last = [], 0
    while True:
        try:
            last = int(get(k, ("lastjid", last), "jid")["jid"])
        except Exception:
            break
        seen.append(last)
    assert seen == [3, 5, 7]


def test_path_relative_to_caller(k):
    a = mk(k, "name=a", "path=/jails/a", "children.max=3")
    inside = jailed_root(k, a)
    s = jset(k, "name=s", "path=/sub", "persist", caller=inside)    # resolved from a's root
    same = jset(k, "name=same", "path=/", "persist", caller=inside)
    nopath = jset(k, "name=np", "persist", caller=inside)
    assert get(k, s, "path")["path"] == "/jails/a/sub"
    assert get(k, s, "path", caller=inside)["path"] == "/sub"
    assert get(k, same, "path", caller=inside)["path"] == "/"
    # quirk: created by a jailed creator without a path, pr_path is stored as "/"
    assert get(k, nopath, "path")["path"] == "/"


def test_remove_errors(k):
    a = mk(k, "name=a", "children.max=2")
    b = mk(k, "name=b")
    for caller, jid in ((Caller(k.prison0, 1000), a), (Caller(k.prison0), 99),
                        (jailed_root(k, a), b), (jailed_root(k, a), a)):
        e = refused(k.jail_remove, caller, jid, k=k)
        want = EPERM if caller.uid else EINVAL
        assert (e.errno, e.msg, e.op, str(e)) == (want, "", "jail_remove",
                                                  f"jail_remove: {os.strerror(want)}")


def test_remove_dying_is_a_noop(k):
    a = mk(k, "name=a")
    hold_dying(k, a)
    events = []
    k.subscribe(events.append)
    assert k.jail_remove(Caller(k.prison0), a) is None
    assert events == [] and state(k, a) == "dying"


def test_remove_kills_descendants_and_their_processes(k):
    a = mk(k, "name=a", "children.max=3")
    b = mk(k, "name=a.b", "children.max=2")
    c = mk(k, "name=a.b.c")
    procs = [k.spawn(j) for j in (a, b, c)]
    k.jail_remove(Caller(k.prison0), a)
    assert all(p.state == "reaped" for p in procs)
    assert all(k.by_jid(j) is None for j in (a, b, c))
    assert k.prison0.childcount == 0


def test_remove_from_inside(k):
    a = mk(k, "name=a", "children.max=2")
    b = jset(k, "name=b", "persist", caller=jailed_root(k, a))
    k.jail_remove(jailed_root(k, a), b)
    assert k.by_jid(b) is None and state(k, a) == "alive"


def test_attach_errors(k):
    a = mk(k, "name=a", "children.max=2")
    b = mk(k, "name=b")
    c = mk(k, "name=a.c")
    p = k.spawn(a)
    for proc, jid in ((p, b), (p, a), (p, 0), (p, 999)):          # not a descendant / no such
        e = refused(k.jail_attach, proc, jid, k=k)
        assert (e.errno, e.msg, e.op) == (EINVAL, "", "jail_attach")
        assert str(e) == "jail_attach: Invalid argument"
    user = k.spawn(0, uid=1000)
    e = refused(k.jail_attach, user, a, k=k)
    assert (e.errno, str(e)) == (EPERM, "jail_attach: Operation not permitted")
    hold_dying(k, b)
    e = refused(k.jail_attach, k.spawn(0), b, k=k)
    assert e.errno == EINVAL                                      # dying: EINVAL
    k.jail_attach(p, c)                                           # into a descendant
    assert p.prison.jid == c
    e = refused(k.jail_attach, p, a, k=k)                         # one-way
    assert e.errno == EINVAL


def test_attach_moves_references(k):
    a = mk(k, "name=a", "children.max=2")
    c = mk(k, "name=a.c")
    p = k.spawn(a)
    pa, pc = k.by_jid(a), k.by_jid(c)
    assert (pa.ref, pa.uref, pc.ref, pc.uref) == (3, 3, 1, 1)    # persist, child, process
    k.jail_attach(p, c)
    assert (pa.ref, pa.uref, pc.ref, pc.uref) == (2, 2, 2, 2)
    assert k.refs(pc).ref == 2


def test_attached_jail_dies_with_its_last_process(k):
    h = k.spawn(0)
    a = jset(k, "name=a", flags=C | A, proc=h)
    assert h.prison.jid == a and k.by_jid(a).uref == 1
    child = k.fork(h)
    k.exit(h)
    assert state(k, a) == "alive"                 # the forked child still runs there
    k.exit(child)
    assert k.by_jid(a) is None
