"""vnet stacks and moving interfaces (spec 8.4, 8.5, edge 22); invariants after every step."""

from errno import EEXIST, EINVAL, ENOENT, ENXIO, EPERM


from jailfs.kernel import Caller
from kutil import refused_errno, host, jailed_root, mk, state


def ok(k):
    k.check_invariants()


def ifs(k, jid):
    return k.vnet.interfaces(k.prison0 if jid == 0 else k.by_jid(jid))


def test_host_and_new_stacks(k):
    assert ifs(k, 0) == ["lo0", "em0"]
    v = mk(k, "name=v", "vnet=new", "children.max=1")
    plain = mk(k, "name=plain")
    inner = mk(k, "name=v.in")
    ok(k)
    assert ifs(k, v) == ["lo0"]                       # its own loopback
    assert ifs(k, plain) == ["lo0", "em0"]            # vnet=inherit shares the host's stack
    assert ifs(k, inner) == ["lo0"]                   # shares v's
    assert k.vnet.stack_of(k.by_jid(inner)) is k.vnet.stack_of(k.by_jid(v))


def test_a_unit_stays_taken_while_its_interfaces_live_elsewhere(k):
    """A cloner's unit is its vnet's until the interface is destroyed
    (if_clone units are freed by if_clone_destroyif, not by if_vmove): with
    both ends of epair0 moved out, the host's next epair is epair1; once
    epair0 is destroyed its unit is free again."""
    v1 = mk(k, "name=v1", "vnet=new")
    v2 = mk(k, "name=v2", "vnet=new")
    assert k.vnet.if_create(host(k), "epair") == ["epair0a", "epair0b"]
    assert k.vnet.if_create(host(k), "tap") == ["tap0"]
    k.vnet.if_vmove(host(k), "epair0a", "v1")
    k.vnet.if_vmove(host(k), "epair0b", "v2")
    k.vnet.if_vmove(host(k), "tap0", "v1")
    ok(k)
    assert k.vnet.if_create(host(k), "epair") == ["epair1a", "epair1b"]
    refused_errno(k, EEXIST, k.vnet.if_create, host(k), "epair0")
    assert k.vnet.if_create(host(k), "tap") == ["tap1"]
    assert k.vnet.if_destroy(jailed_root(k, v1), "epair0a") == ["epair0a", "epair0b"]
    ok(k)
    assert k.vnet.if_create(host(k), "epair") == ["epair0a", "epair0b"]
    assert ifs(k, v2) == ["lo0"]
    ok(k)


def test_if_create(k):
    assert k.vnet.if_create(host(k), "epair") == ["epair0a", "epair0b"]
    assert k.vnet.if_create(host(k), "epair") == ["epair1a", "epair1b"]
    assert k.vnet.if_create(host(k), "bridge") == ["bridge0"]
    assert k.vnet.if_create(host(k), "lo") == ["lo1"]
    refused_errno(k, EEXIST, k.vnet.if_create, host(k), "epair1")
    refused_errno(k, EEXIST, k.vnet.if_create, host(k), "bridge0")
    refused_errno(k, EINVAL, k.vnet.if_create, host(k), "frob")
    ok(k)
    assert ifs(k, 0)[-1] == "lo1" and "epair1b" in ifs(k, 0)
    v = mk(k, "name=v", "vnet=new")
    assert k.vnet.if_create(jailed_root(k, v), "epair") == ["epair0a", "epair0b"]   # its own units
    plain = mk(k, "name=plain")
    refused_errno(k, EPERM, k.vnet.if_create, jailed_root(k, plain), "epair")   # no network privileges
    refused_errno(k, EPERM, k.vnet.if_create, Caller(k.prison0, 1001), "epair")


def test_vmove_and_reclaim(k):
    k.vnet.if_create(host(k), "epair")
    v = mk(k, "name=v", "vnet=new", "children.max=2")
    assert k.vnet.if_vmove(host(k), "epair0b", "v") == "epair0b"
    ok(k)
    assert ifs(k, v) == ["lo0", "epair0b"] and "epair0b" not in ifs(k, 0)
    assert k.vnet.if_vreclaim(host(k), "epair0b", v) == "epair0b"
    ok(k)
    assert "epair0b" in ifs(k, 0) and ifs(k, v) == ["lo0"]
    k.vnet.if_vmove(host(k), "epair0b", str(v))      # by jid too
    # inside v: root can move it further down into a vnet child, and take it back
    vin = mk(k, "name=v.in", "vnet=new")
    vroot = jailed_root(k, v)
    k.vnet.if_vmove(vroot, "epair0b", "in")
    assert ifs(k, vin) == ["lo0", "epair0b"]
    k.vnet.if_vreclaim(vroot, "epair0b", "in")
    assert ifs(k, v) == ["lo0", "epair0b"]
    ok(k)


def test_vmove_errors(k):
    k.vnet.if_create(host(k), "epair")
    v = mk(k, "name=v", "vnet=new", "children.max=1")
    plain = mk(k, "name=plain")
    other = mk(k, "name=other", "vnet=new")
    refused_errno(k, ENXIO, k.vnet.if_vmove, host(k), "epair0a", "nosuch")       # not found
    refused_errno(k, ENXIO, k.vnet.if_vmove, host(k), "epair0a", "999")
    refused_errno(k, ENXIO, k.vnet.if_vmove, jailed_root(k, v), "lo0", "other")   # not a descendant
    refused_errno(k, EEXIST, k.vnet.if_vmove, host(k), "epair0a", "plain")       # shares the stack
    refused_errno(k, EEXIST, k.vnet.if_vmove, host(k), "lo0", "v")                # v has a lo0
    refused_errno(k, ENXIO, k.vnet.if_vmove, host(k), "nope0", "v")              # no such interface
    refused_errno(k, EPERM, k.vnet.if_vmove, jailed_root(k, plain), "lo0", "v")
    refused_errno(k, ENXIO, k.vnet.if_vreclaim, host(k), "epair0a", "v")          # not in v
    refused_errno(k, EEXIST, k.vnet.if_vreclaim, host(k), "epair0a", "plain")
    k.vnet.if_vmove(host(k), "epair0a", "other")
    # dying target (if.c if_vmove_loan): the kernel takes a jid of a dying jail (the
    # interface goes home when the jail is freed); ifconfig(8) looks a name up with
    # jail_getid(3), which refuses a dying jail: ENOENT 'jail "other" is dying'
    p = k.spawn(other)
    ident = k.hold(p, "mount", "keeps other referenced")
    k.jail_remove(host(k), other)
    assert state(k, other) == "dying"
    e = refused_errno(k, ENOENT, k.vnet.if_vmove, host(k), "epair0b", "other")
    assert e.msg == 'jail "other" is dying'
    e = refused_errno(k, ENOENT, k.vnet.if_vreclaim, host(k), "epair0a", "other")
    assert e.msg == 'jail "other" is dying'
    assert ifs(k, 0).count("epair0b") == 1
    k.vnet.if_vmove(host(k), "epair0b", str(other))
    assert "epair0b" in k.vnet.interfaces(k.by_jid(other))
    k.vnet.if_vreclaim(host(k), "epair0b", str(other))             # and back, by jid
    assert ifs(k, 0).count("epair0b") == 1
    k.vnet.if_vmove(host(k), "epair0b", str(other))
    k.release(ident)                                                 # freed: it goes home
    assert state(k, other) is None and ifs(k, 0).count("epair0b") == 1


def test_edge_22_interfaces_stay_in_dying_jail_until_freed(k):
    k.vnet.if_create(host(k), "epair")
    v = mk(k, "name=v", "vnet=new")
    k.vnet.if_vmove(host(k), "epair0b", "v")
    made_inside = k.vnet.if_create(jailed_root(k, v), "bridge")
    p = k.spawn(v)
    ident = k.mount(p, "devfs", "/dev")               # a reference outliving the processes
    k.jail_remove(host(k), v)
    ok(k)
    assert state(k, v) == "dying"
    assert ifs(k, v) == ["lo0", "epair0b", "bridge0"]  # still there while dying
    assert "epair0b" not in ifs(k, 0)
    k.release(ident)                                  # last reference: freed, stack destroyed
    ok(k)
    assert state(k, v) is None
    assert ifs(k, 0) == ["lo0", "em0", "epair0a", "epair0b"]    # moved-in one is home again
    assert made_inside == ["bridge0"]              # made inside: destroyed with the stack
    assert not any(i.name == "bridge0" for st in k.vnet.stacks.values() for i in st.ifaces)


def test_nested_free_returns_to_creating_stack(k):
    v = mk(k, "name=v", "vnet=new", "children.max=1")
    k.vnet.if_create(host(k), "tap")
    k.vnet.if_vmove(host(k), "tap0", "v")
    vin = mk(k, "name=v.in", "vnet=new")
    k.vnet.if_vmove(jailed_root(k, v), "tap0", "in")
    k.vnet.if_create(jailed_root(k, v), "epair")
    k.vnet.if_vmove(jailed_root(k, v), "epair0b", "in")
    k.jail_remove(host(k), vin)
    ok(k)
    # tap0's home is the host stack, epair0b's is v's
    assert "tap0" in ifs(k, 0) and ifs(k, v) == ["lo0", "epair0a", "epair0b"]
    k.jail_remove(host(k), v)
    ok(k)
    assert ifs(k, 0) == ["lo0", "em0", "tap0"]
