"""The 22 edge cases of spec section 10, one test each."""

from errno import EADDRINUSE, EAGAIN, EEXIST, EINVAL, ENOENT, EPERM

from jailfs.kernel import Caller
from kutil import A, C, CU, D, U, expect, get, jailed_root, jset, mk, refused, state, val
from test_kernel_jids import hold_dying


def test_edge_01_create_only_with_create_update(k):
    for name, value in (("path", "/jails/a"), ("osrelease", "x"), ("osreldate", "1"),
                        ("vnet", "new"), ("ip4", "new"), ("ip6", "new")):
        expect(k, EINVAL, f"{name} cannot be changed after creation", "name=nope", "persist",
               f"{name}={value}", flags=CU)
    assert k.by_jid(1) is None


def test_edge_02_persist_or_attach_and_nopersist_kills(k):
    expect(k, EINVAL, "new jail must persist or attach", "name=a")
    a = mk(k, "name=a")
    events = []
    k.subscribe(events.append)
    assert jset(k, "name=a", "nopersist", flags=U) == a
    assert [e.kind for e in events] == ["updated", "dying", "freed"]


def test_edge_03_children_max_strict_and_walk_from_caller(k):
    a = mk(k, "name=a", "children.max=2")
    expect(k, EPERM, "", "name=a.b", "persist", "children.max=2")
    z = mk(k, "name=z")                                    # children.max=0
    assert mk(k, "name=z.child") > 0                       # the host is not limited by z
    expect(k, EPERM, "", "name=x", "persist", caller=jailed_root(k, z))   # plain EPERM
    assert a


def test_edge_04_dying_descendants_count(k):
    a = mk(k, "name=a", "children.max=1")
    inside = jailed_root(k, a)
    b = jset(k, "name=b", "persist", caller=inside)
    hold_dying(k, b)
    assert val(k, a, "children.cur") == "1"
    expect(k, EPERM, "prison limit exceeded", "name=b", "persist", caller=inside)


def test_edge_05_jid_allocation(k):
    assert [mk(k, f"name={n}") for n in "ab"] == [1, 2]
    mk(k, "name=x", "jid=3")
    dead = mk(k, "name=c")
    assert dead == 4
    hold_dying(k, dead)
    k.jail_remove(Caller(k.prison0), 2)
    assert mk(k, "name=d") == 5                    # continues; skips nothing freed below


def test_edge_06_renumbering_keeps_names(k):
    a = mk(k, "jid=8")
    hold_dying(k, a)
    mk(k, "jid=8")
    assert get(k, 999999, "name", "dying", flags=D)["name"] == "8"
    expect(k, ENOENT, "jail 999999 not found", "jid=999999", "persist", flags=U | D)


def test_edge_07_name_rules(k):
    mk(k, "name=a", "children.max=3")
    mk(k, "name=b", "children.max=3")
    mk(k, "name=a.x")
    assert mk(k, "name=b.x") > 0                           # per parent
    c = mk(k, "name=a.")
    assert val(k, c, "name") == f"a.{c}"
    assert mk(k, "name=b.77") == 77                        # numeric name picks the jid
    expect(k, EINVAL, "name cannot be numeric (unless it is the jid)", "name=b.78", "jid=79",
           "persist")
    assert get(k, "x", "name", caller=jailed_root(k, 1))["name"] == "x"


def test_edge_08_parent_child_coupling(k):
    h = k.spawn(0)
    p = jset(k, "name=p", "children.max=1", flags=C | A, proc=h)
    c = jset(k, "name=p.c", flags=C | A, proc=k.fork(h))
    pp, pc = k.by_jid(p), k.by_jid(c)
    assert (pp.ref, pp.uref) == (2, 2)                     # h (its cred), child c
    worker = [q for q in k.procs.values() if q.prison is pc][0]
    k.exit(worker)                                         # zombie of h: uref gone, ref kept
    assert pc.state == "dying" and (pc.ref, pc.uref) == (1, 0)
    k.exit(h)                                              # h exits: orphan zombie reaped
    assert k.by_jid(c) is None and k.by_jid(p) is None


def test_edge_09_remove_dying_and_attach_dying(k):
    a = mk(k, "name=a")
    b = mk(k, "name=b", "children.max=1")
    hold_dying(k, a)
    assert k.jail_remove(Caller(k.prison0), a) is None
    assert refused(k.jail_remove, jailed_root(k, b), a, k=k).errno == EINVAL
    assert refused(k.jail_attach, k.spawn(0), a, k=k).errno == EINVAL


def test_edge_10_jail_get_wording(k):
    a = mk(k, "name=a")
    hold_dying(k, a)
    for key, msg in ((("jid", a), f"jail {a} is dying"), (("jid", 5), "jail 5 not found"),
                     (("name", "a"), 'jail "a" is dying'), (("lastjid", 0), "no jail after 0"),
                     (("jid", 0), "no jail specified")):
        assert refused(k.jail_get, Caller(k.prison0), key, ["jid"], k=k).msg == msg
    mk(k, f"jid={a}")
    mk(k, "name=later")
    order = [p.jid for p in k.jails_below(k.prison0, dying=True)]
    assert order[-1] == 999999 and order[:-1] == sorted(order[:-1])


def test_edge_11_eexist_leak(k):
    a = mk(k, "name=a", "children.max=1")
    b = mk(k, "name=b")
    inside = jailed_root(k, a)
    expect(k, EEXIST, f"jail {b} already exists", f"jid={b}", "persist", caller=inside)
    expect(k, ENOENT, f"jail {b} not found", f"jid={b}", "securelevel=3", flags=U, caller=inside)


def test_edge_12_error_precedence(k):
    mk(k, "name=a", "jid=3", "ip4.addr=10.0.0.1,10.0.0.2", "securelevel=1", "children.max=1")
    expect(k, EINVAL, "new jail must persist or attach", "name=a", "jid=3")
    # securelevel (EPERM) is checked before the address clash (EADDRINUSE)
    mk(k, "name=m", "ip4.addr=192.0.2.1,192.0.2.2")
    expect(k, EPERM, "", "name=a.c", "persist", "securelevel=0", "ip4.addr=10.0.0.1")
    expect(k, EADDRINUSE, "IPv4 addresses clash", "name=n", "persist", "ip4.addr=192.0.2.2")
    # the limit check comes after the name check
    expect(k, EEXIST, 'jail "m" already exists', "name=m", "persist", caller=None)


def test_edge_13_defaults(k):
    a = mk(k, "name=a")
    v = get(k, a)
    assert (v["ip4"], v["ip6"], v["sysvmsg"], v["host.hostname"], v["host.hostid"],
            v["enforce_statfs"], v["securelevel"]) == ("disable", "disable", "disable", "", "0",
                                                       "2", "-1")
    assert {n for n in v if n.startswith("allow.") and v[n] == "true"} == {
        "allow.set_hostname", "allow.reserved_ports", "allow.unprivileged_proc_debug",
        "allow.suser"}


def test_edge_14_ip4_quirk_and_sharing(k):
    a = mk(k, "name=a", "ip4.addr=10.0.0.9,10.0.0.3,10.0.0.5")
    assert (val(k, a, "ip4"), val(k, a, "ip4.addr")) == ("disable", "10.0.0.9,10.0.0.3,10.0.0.5")
    mk(k, "name=s1", "ip4.addr=10.1.1.1")
    assert mk(k, "name=s2", "ip4.addr=10.1.1.1") > 0
    expect(k, EADDRINUSE, "IPv4 addresses clash", "name=s3", "persist", "ip4.addr=10.0.0.5,10.2.2.2")


def test_edge_15_devfs_ruleset_from_inside(k):
    a = mk(k, "name=a", "children.max=2", "devfs_ruleset=4")
    inside = jailed_root(k, a)
    b = jset(k, "name=b", "persist", "devfs_ruleset=0", caller=inside)
    assert val(k, b, "devfs_ruleset") == "4"
    expect(k, EPERM, "", "name=c", "persist", "devfs_ruleset=6", caller=inside)
    jset(k, "name=a", "devfs_ruleset=8", flags=U)
    assert val(k, b, "devfs_ruleset") == "8"


def test_edge_16_tightening_cascades_loosening_does_not(k):
    mk(k, "name=a", "children.max=3", "allow.chflags")
    b = mk(k, "name=a.b", "allow.chflags")
    jset(k, "name=a", "securelevel=2", "enforce_statfs=2", "allow.nochflags", flags=U)
    assert (val(k, b, "securelevel"), val(k, b, "allow.chflags")) == ("2", "false")
    jset(k, "name=a", "securelevel=0", "allow.chflags", flags=U)
    assert (val(k, b, "securelevel"), val(k, b, "allow.chflags")) == ("2", "false")


def test_edge_17_sysv_keys_per_jail_and_inherit_objects_outlive_the_jail(k):
    """Keys are per exact jail in every mode; inherit widens id visibility only;
    other prisons' keys read 0; an inherit jail's object keeps it dying."""
    a = mk(k, "name=a", "children.max=3", "sysvshm=new", "sysvsem=inherit")
    b = mk(k, "name=a.b", "sysvshm=inherit", "sysvsem=inherit")
    assert (val(k, a, "sysvshm"), val(k, b, "sysvshm")) == ("new", "inherit")
    assert k.by_jid(b).sysv_root(2) is k.by_jid(a)          # b's shm namespace is a's
    assert k.by_jid(b).sysv_root(1) is k.prison0
    expect(k, EPERM, "", "name=a.c", "persist", "sysvmsg=inherit")
    ipc, h, pa, pb = k._k.ipc, k.spawn(0), k.spawn(a), k.spawn(b)
    sa, sb = ipc.shmget(pa, 0x1234, create=True), ipc.shmget(pb, 0x1234, create=True)
    assert sa != sb                                          # same key, one per jail
    refused(ipc.shmget, pb, 0x1234, create=True, excl=True)  # EEXIST in b's own
    assert ipc.stat(2, pb) == [(sa, 0, k.by_jid(a)), (sb, 0x1234, k.by_jid(b))]
    assert ipc.stat(2, pa) == [(sa, 0x1234, k.by_jid(a)), (sb, 0, k.by_jid(b))]
    sem = ipc.semget(pb, 0x99, create=True)                  # b inherits the host's sem root
    assert ipc.stat(1, h) == [(sem, 0, k.by_jid(b))]
    k.jail_remove(Caller(k.prison0, 0), b)
    assert state(k, b) == "dying"                            # its semaphore set keeps it
    ipc.semrm(h, sem)                                        # ipcrm -s from the host
    assert state(k, b) == "dying"                            # b's segment (root a) too
    assert ipc.stat(2, pa) == [(sa, 0x1234, k.by_jid(a)), (sb, 0, k.by_jid(b))]
    ipc.shmrm(pa, sb)                                        # a reaches it by id
    k.check_invariants()
    assert k.by_jid(b) is None


def test_edge_18_hostname_of_host_inherit_jails(k):
    """A hostname write from a host=inherit jail lands in the nearest host=new
    ancestor (possibly the host) and reaches its inheriting descendants."""
    mk(k, "name=a", "children.max=3", "host.hostname=top")
    b = mk(k, "name=a.b", "host=inherit", "children.max=2")
    c = mk(k, "name=a.b.c", "host=inherit")
    jset(k, "name=a", "host.hostname=changed", flags=U)
    assert val(k, c, "host.hostname") == "changed" and val(k, b, "host") == "inherit"
    assert k.sethostname(jailed_root(k, c), "kern.hostname", "from-c").name == "a"
    assert [val(k, j, "host.hostname") for j in ("a", b, c)] == ["from-c"] * 3
    d = mk(k, "name=d", "host=inherit")
    assert k.sethostname(jailed_root(k, d), "kern.hostname", "hosts") is k.prison0
    assert k.prison0.hostname == "hosts" and val(k, d, "host.hostname") == "hosts"
    assert val(k, "a", "host.hostname") == "from-c"


def test_edge_19_last_occurrence_wins(k):
    a = mk(k, "name=a", "nopersist", "persist", "securelevel=3", "securelevel=1")
    assert (val(k, a, "persist"), val(k, a, "securelevel")) == ("true", "1")
    expect(k, EINVAL, "new jail must persist or attach", "name=b", "persist", "nopersist")


def test_edge_20_messages_as_jail8_prints_them(k):
    """jail(8)'s own output is not the kernel's; the kernel gives the text jail(8)
    prints after "jail: ": the errmsg, or "jail_set: <strerror>"."""
    e = expect(k, EPERM, "", "name=a", "persist", caller=Caller(k.prison0, 1))
    assert str(e) == "jail_set: Operation not permitted"
    e = expect(k, ENOENT, "unknown parameter: bogus", "name=a", "persist", "bogus=1")
    assert str(e) == "unknown parameter: bogus"


def test_edge_21_rctl_subject_names(k):
    """rctl's jail subject is the full dotted name as the host sees it (the jid for
    unnamed jails); accounting is hierarchical, rules bind descendants, and per=jail
    uses the process's own jail's total."""
    a = mk(k, "name=www", "children.max=1")
    b = mk(k, "name=www.db")
    c = mk(k)
    assert (k.by_jid(a).name, k.by_jid(b).name, k.by_jid(c).name) == ("www", "www.db", str(c))
    host = Caller(k.prison0)
    k.rctl.add_rule(host, "jail:www:maxproc:deny=2")
    k.rctl.add_rule(host, f"jail:{c}:maxproc:deny=0")
    k.spawn(b)
    k.spawn(b)                                        # www.db's own total 2: now full
    use = dict(x.split("=") for x in k.rctl.usage(host, "jail:www"))
    assert use["maxproc"] == "2"                      # charged to the ancestor too
    assert refused(k.spawn, b).errno == EAGAIN        # www's rule binds www.db
    assert refused(k.spawn, a).errno == EAGAIN        # www's own total is 2
    assert refused(k.spawn, c).errno == EAGAIN        # jail:<jid> names the unnamed jail
    k.rctl.remove_rules(host, "jail:www")
    k.rctl.add_rule(host, "jail:www:maxproc:deny=3")
    k.spawn(b)                                        # www.db's own total 2 < 3
    assert refused(k.spawn, b).errno == EAGAIN
    assert refused(k.rctl.add_rule, Caller(k.by_jid(a)), ":").errno == EPERM


def test_edge_22_vnet(k):
    """vnet interfaces are not modelled; what is: vnet=new reports ip4/ip6 inherit, can't be
    changed, can't have ip restrictions, and a dying vnet jail lingers until freed."""
    v = mk(k, "name=v", "vnet=new", "children.max=1")
    assert (val(k, v, "vnet"), val(k, v, "ip4"), val(k, v, "ip6")) == ("new", "inherit", "inherit")
    expect(k, EINVAL, "vnet cannot be changed after creation", "name=v", "vnet=inherit", flags=U)
    expect(k, EINVAL, "vnet jails cannot have IP address restrictions", "name=v",
           "ip4.addr=10.0.0.1", flags=U)
    inner = mk(k, "name=v.in", "ip4.addr=10.0.0.1,10.0.0.2")
    mk(k, "name=out", "ip4.addr=10.0.0.1,10.0.0.2")        # another stack: no clash
    host = Caller(k.prison0)
    k.vnet.if_create(host, "epair")
    k.vnet.if_vmove(host, "epair0b", "v")
    assert k.vnet.interfaces(k.by_jid(v)) == ["lo0", "epair0b"]
    h = hold_dying(k, v)
    assert state(k, v) == "dying" and state(k, inner) is None
    # A dying jail keeps its interfaces; they go home only when it is freed.
    assert k.vnet.interfaces(k.by_jid(v)) == ["lo0", "epair0b"]
    assert "epair0b" not in k.vnet.interfaces(k.prison0)
    k.kill(h)
    assert state(k, v) is None
    assert k.vnet.interfaces(k.prison0)[-2:] == ["epair0a", "epair0b"]
    assert A and C
