"""jailfs.kernel.sysctl: the MIB each caller sees, writes and their privileges."""

import errno

import pytest

from jailfs.ctl import execute
from jailfs.kernel import JAIL_CREATE, Caller, JailError, Kernel
from jailfs.kernel.sysctl import Sysctl


@pytest.fixture
def k():
    return Kernel(hostname="host.example")


def make(k, *params):
    return k.by_jid(k.jail_set(Caller(k.prison0), [tuple(p.split("=", 1)) if "=" in p else (p, None)
                                                     for p in params], JAIL_CREATE))


def value(m, caller, name):
    (oid,) = m.find(name)
    return m.read(caller, oid)


def test_each_caller_reads_its_own_jail(k):
    m = Sysctl(k)
    web = make(k, "name=web", "persist", "children.max=3", "env=CBA", "meta=secret")
    host, inside = Caller(k.prison0), Caller(web)
    assert value(m, host, "security.jail.jailed") == 0
    assert value(m, inside, "security.jail.jailed") == 1
    assert value(m, host, "security.jail.children.max") == 999999
    assert value(m, host, "security.jail.children.cur") == 1
    assert value(m, inside, "security.jail.children.max") == 3
    assert value(m, inside, "security.jail.children.cur") == 0
    assert value(m, inside, "security.jail.env") == "CBA"
    assert value(m, host, "security.jail.env") == ""
    with pytest.raises(JailError) as e:
        m.find("security.jail.meta")            # meta is hidden from the jail: no sysctl
    assert e.value.errno == errno.ENOENT


def test_param_leaves_as_libjail_reads_them(k):
    m = Sysctl(k)
    host = Caller(k.prison0)
    assert value(m, host, "security.jail.param.name") == "256"
    assert value(m, host, "security.jail.param.host.") == 0
    assert value(m, host, "security.jail.param.ip6.addr") == (16).to_bytes(8, "little")
    leaf = {o.name: o for o in m.find("security.jail.param")}
    assert leaf["security.jail.param.jid"].access == "rdtun"
    assert leaf["security.jail.param.children.cur"].access == "rd"
    assert leaf["security.jail.param.allow.mount."].fmt == "B"
    assert leaf["security.jail.param.sysvmsg."].fmt == "E,jailsys"
    assert "security.jail.param.vnet" in leaf           # a plain jailsys, no node


def test_writes_need_host_root_except_prison_oids(k):
    m = Sysctl(k)
    web = make(k, "name=web", "persist", "host=new", "host.hostname=w")
    for caller in (Caller(web), Caller(k.prison0, uid=1001)):
        with pytest.raises(JailError) as e:
            m.write(caller, "security.jail.meta_maxbufsize", "9")
        assert e.value.errno == errno.EPERM
    assert value(m, Caller(k.prison0), "security.jail.meta_maxbufsize") == 4096
    m.write(Caller(web), "kern.hostname", "renamed")        # CTLFLAG_PRISON: sethostname
    assert web.hostname == "renamed" and k.prison0.hostname == "host.example"
    with pytest.raises(JailError) as e:
        m.write(Caller(k.prison0), "security.jail.jailed", "1")
    assert e.value.errno == errno.EPERM


def test_meta_limit_hard_and_soft(k):
    m = Sysctl(k)
    web = make(k, "name=web", "persist")
    host = Caller(k.prison0)
    too_big = " " * 4096
    with pytest.raises(JailError) as e:
        k.jail_set(host, [("name", "web"), ("meta", too_big)], 2)
    assert e.value.errno == errno.EFBIG
    m.write(host, "security.jail.meta_maxbufsize", "4097")
    k.jail_set(host, [("name", "web"), ("meta", too_big)], 2)
    m.write(host, "security.jail.meta_maxbufsize", "4096")
    assert value(m, host, "security.jail.param.meta") == "4097"   # soft stays while jails exist
    k.jail_remove(host, web.jid)
    m.write(host, "security.jail.meta_maxbufsize", "4000")
    assert value(m, host, "security.jail.param.meta") == "4000"   # no jails: soft follows
    with pytest.raises(JailError) as e:
        m.write(host, "security.jail.meta_maxbufsize", "0")
    assert e.value.errno == errno.EINVAL


def test_legacy_knobs(k):
    m = Sysctl(k)
    web = make(k, "name=web", "persist", "allow.nosuser")
    host = Caller(k.prison0)
    assert value(m, host, "security.jail.socket_unixiproute_only") == 1   # allow.socket_af off
    m.write(host, "security.jail.sysvipc_allowed", "1")
    assert value(m, host, "security.jail.sysvipc_allowed") == 1
    assert value(m, Caller(web), "security.jail.sysvipc_allowed") == 0   # the jail's own bit
    assert web.allow & 0x2 == 0                                          # a default, not a change


def test_ctl_sysctl_lines(k):
    host = Caller(k.prison0)
    code, answer = execute(k, host, "sysctl get kern.hostname")
    assert (code, answer) == (0, "ok\nkern.hostname string A rw host.example Hostname")
    code, answer = execute(k, host, "sysctl set kern.domainname 'a b'")
    assert (code, answer) == (0, "ok\nkern.domainname string A rw 'a b' 'Name of the current YP/NIS domain'")
    assert execute(k, host, "sysctl get no.such") == (errno.ENOENT, "error ENOENT unknown oid 'no.such'")
    code, answer = execute(k, host, "sysctl all")
    assert code == 0 and "security.jail.param.ip4.addr struct S,in_addr,a rw 0400000000000000 " in answer
