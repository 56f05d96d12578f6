"""kern.hostname / kern.domainname / kern.hostuuid written from inside a jail
(spec 3.5, edge 18) through k.sethostname; invariants checked after every call."""

from errno import EINVAL, ENOENT, EPERM

import pytest

from jailfs.kernel import Caller, JailError
from kutil import U, host, jailed_root, jset, mk, refused, val


def test_host_write_propagates_to_inheriting_jails(k):
    a = mk(k, "name=a", "host=inherit", "children.max=1")
    b = mk(k, "name=a.b", "host=inherit")
    n = mk(k, "name=n", "host.hostname=own")
    assert k.sethostname(host(k), "kern.hostname", "newhost") is k.prison0
    assert k.prison0.hostname == "newhost"
    assert (val(k, a, "host.hostname"), val(k, b, "host.hostname")) == ("newhost", "newhost")
    assert val(k, n, "host.hostname") == "own"          # host=new: propagation stops


def test_jail_with_host_new_keeps_it(k):
    a = mk(k, "name=a", "host.hostname=a.example", "children.max=1")
    b = mk(k, "name=a.b", "host=inherit")
    assert k.sethostname(jailed_root(k, a), "hostname", "renamed") is k.by_jid(a)
    assert (val(k, a, "host.hostname"), val(k, b, "host.hostname")) == ("renamed", "renamed")
    assert k.prison0.hostname == "host.example"


def test_edge_18_inherit_jail_writes_the_nearest_host_new_ancestor(k):
    a = mk(k, "name=a", "host.hostname=top", "children.max=3")
    b = mk(k, "name=a.b", "host=inherit", "children.max=2")
    c = mk(k, "name=a.b.c", "host=inherit")
    assert k.sethostname(jailed_root(k, c), "kern.hostname", "fromc") is k.by_jid(a)
    assert [val(k, j, "host.hostname") for j in (a, b, c)] == ["fromc"] * 3
    assert val(k, c, "host") == "inherit"
    # a host=inherit jail directly under the host writes the host's own name
    d = mk(k, "name=d", "host=inherit")
    p = k.spawn(d)
    assert k.sethostname(p, "kern.domainname", "example.org") is k.prison0
    assert k.prison0.domainname == "example.org" and val(k, d, "host.domainname") == "example.org"
    assert val(k, a, "host.domainname") == ""          # a has host=new


def test_hostuuid_and_domainname(k):
    a = mk(k, "name=a", "host.hostname=x")
    k.sethostname(jailed_root(k, a), "kern.hostuuid", "11111111-2222-3333-4444-555555555555")
    k.sethostname(jailed_root(k, a), "domainname", "dom")
    assert val(k, a, "host.hostuuid") == "11111111-2222-3333-4444-555555555555"
    assert val(k, a, "host.domainname") == "dom"


def test_eperm_without_allow_set_hostname_or_root(k):
    a = mk(k, "name=a", "host.hostname=x", "allow.noset_hostname")
    e = refused(k.sethostname, jailed_root(k, a), "kern.hostname", "y", k=k)
    assert (e.errno, e.op) == (EPERM, "sysctl")
    b = mk(k, "name=b", "host.hostname=x")
    assert refused(k.sethostname, Caller(k.by_jid(b), 1001), "kern.hostname", "y", k=k).errno == EPERM
    assert refused(k.sethostname, Caller(k.prison0, 1001), "kern.hostname", "y", k=k).errno == EPERM
    c = mk(k, "name=c", "host.hostname=x", "allow.nosuser")
    assert refused(k.sethostname, jailed_root(k, c), "kern.hostname", "y", k=k).errno == EPERM
    assert val(k, a, "host.hostname") == "x"
    # clearing the bit later also refuses
    jset(k, "name=b", "allow.noset_hostname", flags=U)
    assert refused(k.sethostname, jailed_root(k, b), "hostname", "y", k=k).errno == EPERM


def test_too_long_and_unknown(k):
    a = mk(k, "name=a", "host.hostname=x")
    assert refused(k.sethostname, jailed_root(k, a), "kern.hostname", "h" * 256, k=k).errno == EINVAL
    k.sethostname(jailed_root(k, a), "kern.hostname", "h" * 255)
    assert refused(k.sethostname, jailed_root(k, a), "kern.hostuuid", "u" * 64, k=k).errno == EINVAL
    assert refused(k.sethostname, jailed_root(k, a), "kern.hostid", "1", k=k).errno == ENOENT


def test_exited_process_cannot_write(k):
    a = mk(k, "name=a")
    p = k.spawn(a)
    k.kill(p)
    with pytest.raises(JailError):
        k.sethostname(p, "hostname", "z")
