"""SysV IPC per-jail namespaces (spec section 7, edge 17) through k.ipc; the
invariants (IPC objects counted as credential holders) are checked after every step."""

from errno import EEXIST, EINVAL, ENOENT, ENOSPC, ENOSYS, EPERM

import pytest

from jailfs.kernel import JailError
from jailfs.kernel.ipc import MSG, SEM, SHM
from kutil import U, jset, mk, state

GET = {MSG: "msgget", SEM: "semget", SHM: "shmget"}
RM = {MSG: "msgrm", SEM: "semrm", SHM: "shmrm"}


class I:
    """k.ipc with check_invariants() after every call (refused ones too)."""

    def __init__(self, k):
        self.k, self.ipc = k, k._k.ipc

    def __getattr__(self, name):
        fn = getattr(self.ipc, name)

        def call(*args, **kw):
            try:
                return fn(*args, **kw)
            finally:
                self.k._k.check_invariants()
        return call


def err(fn, *args, **kw) -> int:
    with pytest.raises(JailError) as info:
        fn(*args, **kw)
    return info.value.errno


@pytest.fixture
def ipc(k):
    return I(k)


@pytest.mark.parametrize("fac", [MSG, SEM, SHM])
def test_disabled_facility_is_enosys(k, ipc, fac):
    a = mk(k, "name=a")                                  # sysv* default: disable
    p = k.spawn(a)
    assert err(getattr(ipc, GET[fac]), p, 0x10, create=True) == ENOSYS
    h = k.spawn(0)
    ident = getattr(ipc, GET[fac])(h, 0x10, create=True)
    assert err(getattr(ipc, RM[fac]), p, ident) == ENOSYS
    assert ipc.stat(fac, p) == []                        # an empty table
    if fac == SHM:
        assert err(ipc.shmat, p, ident) == ENOSYS
        assert err(ipc.shmdt, p, ident) == ENOSYS


@pytest.mark.parametrize("fac", [MSG, SEM, SHM])
def test_keys_per_exact_prison_in_every_mode(k, ipc, fac):
    get = getattr(ipc, GET[fac])
    a = mk(k, "name=a", f"sysv{('msg', 'sem', 'shm')[fac]}=new")
    b = mk(k, "name=b", "allow.sysvipc")                 # inherit: root is the host
    h, pa, pb = k.spawn(0), k.spawn(a), k.spawn(b)
    ih = get(h, 0x1234, create=True)
    assert err(get, pa, 0x1234) == ENOENT                # the host's key is not a's
    assert err(get, pb, 0x1234) == ENOENT                # nor b's, though b inherits
    ia, ib = get(pa, 0x1234, create=True), get(pb, 0x1234, create=True)
    assert len({ih, ia, ib}) == 3                         # one per prison
    assert get(pa, 0x1234) == ia and get(pb, 0x1234, create=True) == ib
    assert err(get, pb, 0x1234, create=True, excl=True) == EEXIST
    assert get(h, 0x1234) == ih
    assert get(h, 0, create=True) != get(h, 0, create=True)   # IPC_PRIVATE: always new


def test_id_access_within_root_and_below(k, ipc):
    a = mk(k, "name=a", "children.max=1", "sysvmsg=new")
    c = mk(k, "name=a.c", "sysvmsg=inherit")            # root: a
    b = mk(k, "name=b", "sysvmsg=inherit")              # root: the host
    h, pa, pb, pc = k.spawn(0), k.spawn(a), k.spawn(b), k.spawn(c)
    qh, qa, qb, qc = (ipc.msgget(p, 0x50, create=True) for p in (h, pa, pb, pc))
    # a (new) reaches its own and its descendants' objects only
    assert [row[0] for row in ipc.stat(MSG, pa)] == [qa, qc]
    assert err(ipc.msgrm, pa, qh) == EINVAL and err(ipc.msgrm, pa, qb) == EINVAL
    # c inherits a's root: sees a and c; b inherits the host's: sees everything
    assert [row[0] for row in ipc.stat(MSG, pc)] == [qa, qc]
    assert [row[0] for row in ipc.stat(MSG, pb)] == [qh, qa, qb, qc]
    # keys of other prisons' objects read 0
    assert ipc.stat(MSG, pb) == [(qh, 0, k.prison0), (qa, 0, k.by_jid(a)),
                                 (qb, 0x50, k.by_jid(b)), (qc, 0, k.by_jid(c))]
    assert ipc.stat(MSG, h)[0] == (qh, 0x50, k.prison0)
    ipc.msgrm(pb, qa)                                    # b may remove a's queue by id
    ipc.msgrm(pa, qc)
    assert err(ipc.msgrm, pa, qc) == EINVAL              # gone
    assert [row[0] for row in ipc.stat(MSG, h)] == [qh, qb]


def test_remove_needs_creator_or_root(k, ipc):
    h, u = k.spawn(0), k.spawn(0, uid=1001)
    q = ipc.msgget(u, 7, create=True)
    v = k.spawn(0, uid=1002)
    assert err(ipc.msgrm, v, q) == EPERM
    ipc.msgrm(h, q)
    q = ipc.semget(u, 7, create=True)
    ipc.semrm(u, q)


def test_table_full_is_enospc(k, ipc):
    h = k.spawn(0)
    k._k.ipc.limits[SEM] = 2
    ipc.semget(h, 1, create=True)
    ipc.semget(h, 2, create=True)
    assert err(ipc.semget, h, 3, create=True) == ENOSPC
    assert ipc.semget(h, 2, create=True) is not None     # an existing key is still found


def test_object_holds_the_creators_credential(k, ipc):
    a = mk(k, "name=a", "sysvmsg=new")
    p = k.spawn(a)
    ref = k.by_jid(a).ref
    q = ipc.msgget(p, 0x1234, create=True)
    assert k.by_jid(a).ref == ref                         # the process's credential, held again
    k.kill(p)
    assert k.by_jid(a).ref == ref                         # now held by the queue alone
    assert f"sysv msq id {q} key 0x1234" in k.refs(k.by_jid(a)).text()


@pytest.mark.parametrize("fac", [MSG, SEM, SHM])
def test_new_jail_dying_loses_its_objects(k, ipc, fac):
    name = ("sysvmsg", "sysvsem", "sysvshm")[fac]
    a = mk(k, "name=a", f"{name}=new")
    p = k.spawn(a)
    getattr(ipc, GET[fac])(p, 0x99, create=True)
    k.jail_remove(k_host(k), a)
    assert k.by_jid(a) is None                            # freed: nothing kept it
    assert ipc.stat(fac, k.spawn(0)) == []


def test_new_jail_dying_by_last_process(k, ipc):
    a = jset(k, "name=a", "sysvsem=new", "persist")
    p = k.spawn(a)
    ipc.semget(p, 0x5, create=True)
    jset(k, "name=a", "nopersist", flags=U)               # alive while p runs
    assert state(k, a) == "alive"
    k.kill(p)                                             # last uref: dying, cleanup, freed
    assert k.by_jid(a) is None
    assert ipc.stat(SEM, k.spawn(0)) == []


def test_attached_segment_of_a_dying_new_jail_goes_at_last_detach(k, ipc):
    a = mk(k, "name=a", "sysvshm=new")
    p, h = k.spawn(a), k.spawn(0)
    s = ipc.shmget(p, 0x77, create=True)
    ipc.shmat(h, s)                                       # the host maps a's segment
    k.jail_remove(k_host(k), a)
    assert state(k, a) == "dying"                         # the segment keeps a's credential
    assert ipc.stat(SHM, h) == [(s, 0, k.by_jid(a))]     # marked removed: key IPC_PRIVATE
    assert "(removed, attached)" in k.refs(k.by_jid(a)).text()
    ipc.shmdt(h, s)
    assert k.by_jid(a) is None


def test_shm_removed_freed_at_last_detach(k, ipc):
    h, g = k.spawn(0), k.spawn(0)
    s = ipc.shmget(h, 0x42, create=True)
    ipc.shmat(h, s)
    ipc.shmat(g, s)
    ipc.shmrm(h, s)
    assert err(ipc.shmget, h, 0x42) == ENOENT             # its key is gone
    assert [row[0] for row in ipc.stat(SHM, h)] == [s]    # still there, attached
    ipc.shmat(h, s)                                       # shm_allow_removed
    ipc.shmdt(h, s)
    ipc.shmdt(h, s)
    assert err(ipc.shmdt, h, s) == EINVAL                 # not attached any more
    k.kill(g)                                             # exit detaches: last one
    assert ipc.stat(SHM, h) == []


def test_inherit_jail_objects_survive_and_keep_it_dying(k, ipc):
    """Edge 17: an inherit jail's queue outlives it; the host removes it by id."""
    b = mk(k, "name=b", "sysvmsg=inherit")
    p, h = k.spawn(b), k.spawn(0)
    q = ipc.msgget(p, 0x1234, create=True)
    k.jail_remove(k_host(k), b)
    assert state(k, b) == "dying"
    assert ipc.stat(MSG, h) == [(q, 0, k.by_jid(b))]      # the host sees it, key 0
    assert err(ipc.msgget, h, 0x1234) == ENOENT           # not by its key
    assert f"sysv msq id {q} key 0x1234" in k.refs(k.by_jid(b)).text()
    ipc.msgrm(h, q)                                       # ipcrm -q from the host
    assert k.by_jid(b) is None


def test_switch_from_new_removes_objects(k, ipc):
    a = mk(k, "name=a", "children.max=1", "sysvmsg=new", "sysvsem=new")
    c = mk(k, "name=a.c", "sysvsem=new")
    pa, pc, h = k.spawn(a), k.spawn(c), k.spawn(0)
    qa = ipc.msgget(pa, 1, create=True)
    sa, sc = ipc.semget(pa, 1, create=True), ipc.semget(pc, 1, create=True)
    jset(k, "name=a", "sysvmsg=inherit", flags=U)         # new -> inherit: a's queues go
    assert ipc.stat(MSG, h) == []
    assert [row[0] for row in ipc.stat(SEM, h)] == [sa, sc]
    jset(k, "name=a", "sysvsem=new", flags=U)             # unchanged: nothing goes
    assert [row[0] for row in ipc.stat(SEM, h)] == [sa, sc]
    jset(k, "name=a", "sysvsem=disable", flags=U)         # disable cascades: c's go too
    assert ipc.stat(SEM, h) == []
    assert ipc.msgget(pa, 1, create=True) != qa           # a now uses the host's namespace


def test_inherit_to_new_keeps_objects(k, ipc):
    b = mk(k, "name=b", "sysvshm=inherit")
    p, h = k.spawn(b), k.spawn(0)
    s = ipc.shmget(p, 3, create=True)
    jset(k, "name=b", "sysvshm=new", flags=U)
    assert ipc.shmget(p, 3) == s
    assert ipc.stat(SHM, h) == [(s, 0, k.by_jid(b))]


def test_subscribers_see_a_clean_dying(k, ipc):
    a = mk(k, "name=a", "sysvmsg=new")
    p = k.spawn(a)
    ipc.msgget(p, 1, create=True)
    seen = []
    k.subscribe(lambda e: seen.append((e.kind, len(list(k._k.ipc.objects())))))
    k.jail_remove(k_host(k), a)
    assert ("dying", 0) in seen and seen[-1][0] == "freed"


def k_host(k):
    from kutil import host
    return host(k)
