"""Create-only parameters, tightening cascades, defaults (10.13), the ip4 quirk (3.4),
meta/env (3.6), host info (3.5)."""

from errno import EINVAL, EPERM

import pytest

from kutil import CU, U, expect, get, jailed_root, jset, mk, val

CREATE_ONLY = [("path", "/jails/a"), ("osrelease", "1.0-X"), ("osreldate", "1300000"),
               ("vnet", "new"), ("ip4", "new"), ("ip6", "disable")]


@pytest.mark.parametrize("name,value", CREATE_ONLY)
def test_create_only_refused_on_update(k, name, value):
    mk(k, "name=a")
    msg = f"{name} cannot be changed after creation"
    expect(k, EINVAL, msg, "name=a", f"{name}={value}", flags=U)
    expect(k, EINVAL, msg, "name=a", "persist", f"{name}={value}", flags=CU)
    # with CREATE|UPDATE even when the jail does not exist
    expect(k, EINVAL, msg, "name=absent", "persist", f"{name}={value}", flags=CU)


def test_defaults_of_a_new_jail(k):
    a = mk(k, "name=a")
    v = get(k, a)
    assert v["host"] == "new" and v["host.hostname"] == "" and v["host.domainname"] == ""
    assert v["host.hostuuid"] == "00000000-0000-0000-0000-000000000000" and v["host.hostid"] == "0"
    assert v["ip4"] == "disable" and v["ip6"] == "disable"        # not inherited
    assert v["ip4.addr"] == "" and v["ip6.addr"] == ""
    assert v["ip4.saddrsel"] == "true" and v["ip6.saddrsel"] == "true"
    assert v["vnet"] == "inherit"
    assert v["securelevel"] == "-1" and v["devfs_ruleset"] == "0" and v["enforce_statfs"] == "2"
    assert v["children.max"] == "0" and v["children.cur"] == "0"
    assert v["sysvmsg"] == v["sysvsem"] == v["sysvshm"] == "disable"
    assert v["persist"] == "true" and v["dying"] == "false" and v["parent"] == "0"
    assert v["meta"] == "" and v["env"] == "" and v["path"] == "/"
    on = {n for n in v if n.startswith("allow.") and v[n] == "true"}
    assert on == {"allow.set_hostname", "allow.reserved_ports", "allow.unprivileged_proc_debug",
                  "allow.suser"}
    assert v["osrelease"] == k.prison0.osrelease and v["osreldate"] == str(k.prison0.osreldate)


def test_defaults_inherit_from_parent(k):
    mk(k, "name=p", "securelevel=2", "devfs_ruleset=7", "children.max=4", "allow.nosuser",
       "allow.noset_hostname", "host.hostname=p.example")
    c = mk(k, "name=p.c")
    v = get(k, c)
    assert (v["securelevel"], v["devfs_ruleset"], v["enforce_statfs"]) == ("2", "7", "2")
    assert v["allow.suser"] == "false" and v["allow.set_hostname"] == "false"
    assert v["host.hostname"] == ""                    # host=new: not inherited
    assert v["children.max"] == "0"


def test_allow_sysvipc_at_creation(k):
    a = mk(k, "name=a", "allow.sysvipc")
    assert [val(k, a, n) for n in ("sysvmsg", "sysvsem", "sysvshm")] == ["inherit"] * 3
    b = mk(k, "name=b", "allow.sysvipc", "sysvshm=new")
    assert [val(k, b, n) for n in ("sysvmsg", "sysvsem", "sysvshm")] == ["inherit", "inherit", "new"]


def test_ip4_reporting_quirk(k):
    a = mk(k, "name=a", "ip4.addr=10.0.0.5,10.0.0.9,10.0.0.1")
    assert val(k, a, "ip4") == "disable"              # restricted with addresses still says disable
    assert val(k, a, "ip4.addr") == "10.0.0.5,10.0.0.1,10.0.0.9"  # first kept, rest sorted
    b = mk(k, "name=b", "ip4=new")
    assert (val(k, b, "ip4"), val(k, b, "ip4.addr")) == ("disable", "")
    c = mk(k, "name=c", "ip4=inherit")
    assert val(k, c, "ip4") == "inherit"
    v = mk(k, "name=v", "vnet=new")
    assert (val(k, v, "ip4"), val(k, v, "ip6"), val(k, v, "vnet")) == ("inherit", "inherit", "new")


def test_inherit_copies_parent_addresses(k):
    mk(k, "name=p", "ip4.addr=10.0.0.1", "children.max=3")
    c = mk(k, "name=p.c", "ip4=inherit")
    assert val(k, c, "ip4.addr") == "10.0.0.1"
    jset(k, "name=p", "ip4.addr=10.0.0.2", flags=U)
    assert val(k, c, "ip4.addr") == "10.0.0.2"            # inherit follows


def test_cascade_securelevel(k):
    a = mk(k, "name=a", "children.max=3")
    b = mk(k, "name=a.b", "securelevel=3", "children.max=2")
    c = mk(k, "name=a.b.c")
    jset(k, "name=a", "securelevel=2", flags=U)
    assert [val(k, j, "securelevel") for j in (a, b, c)] == ["2", "3", "3"]
    jset(k, "name=a", "securelevel=5", flags=U)
    assert [val(k, j, "securelevel") for j in (a, b, c)] == ["5", "5", "5"]
    jset(k, "name=a", "securelevel=5", flags=U)
    expect(k, EPERM, "", "name=a.b", "securelevel=4", flags=U)
    # loosening the top does not loosen descendants
    jset(k, "name=a", "securelevel=-1", flags=U)
    assert [val(k, j, "securelevel") for j in (a, b, c)] == ["-1", "5", "5"]


def test_cascade_enforce_statfs(k):
    a = mk(k, "name=a", "children.max=3", "enforce_statfs=0")
    b = mk(k, "name=a.b", "enforce_statfs=0", "children.max=2")
    c = mk(k, "name=a.b.c", "enforce_statfs=1")
    jset(k, "name=a", "enforce_statfs=1", flags=U)
    assert [val(k, j, "enforce_statfs") for j in (a, b, c)] == ["1", "1", "1"]
    jset(k, "name=a", "enforce_statfs=2", flags=U)
    assert [val(k, j, "enforce_statfs") for j in (a, b, c)] == ["2", "2", "2"]


def test_cascade_children_max_by_depth(k):
    a = mk(k, "name=a", "children.max=10")
    b = mk(k, "name=a.b", "children.max=9")
    c = mk(k, "name=a.b.c", "children.max=8")
    d = mk(k, "name=a.b.c.d", "children.max=2")
    jset(k, "name=a", "children.max=3", flags=U)
    # depth 1: min(9, 3-1)=2; depth 2: min(8, 1)=1; depth 3: min(2, max(0, 0))=0
    assert [val(k, j, "children.max") for j in (a, b, c, d)] == ["3", "2", "1", "0"]
    jset(k, "name=a", "children.max=1", flags=U)
    assert [val(k, j, "children.max") for j in (a, b, c, d)] == ["1", "0", "0", "0"]
    jset(k, "name=a", "children.max=50", flags=U)              # loosening: no cascade
    assert [val(k, j, "children.max") for j in (a, b, c, d)] == ["50", "0", "0", "0"]


def test_cascade_allow_bits(k):
    a = mk(k, "name=a", "children.max=3", "allow.mount", "allow.raw_sockets")
    b = mk(k, "name=a.b", "allow.mount", "allow.raw_sockets", "children.max=2")
    c = mk(k, "name=a.b.c", "allow.mount")
    jset(k, "name=a", "allow.nomount", flags=U)
    assert [val(k, j, "allow.mount") for j in (a, b, c)] == ["false"] * 3
    assert val(k, b, "allow.raw_sockets") == "true"
    jset(k, "name=a", "allow.mount", flags=U)                  # setting does not cascade
    assert [val(k, j, "allow.mount") for j in (a, b, c)] == ["true", "false", "false"]


def test_cascade_ip_lists(k):
    # Children are made while the parent has one address per family: kern_jail.c's clash
    # walk meets the parent itself, so under a multi-address parent a child could not
    # take any of its addresses (see test_step29_ip_subset_and_clash).
    mk(k, "name=a", "children.max=4", "ip4.addr=10.0.0.3", "ip6.addr=2001:db8::2")
    own = mk(k, "name=a.own", "ip4.addr=10.0.0.3", "ip6=inherit")
    gone = mk(k, "name=a.gone", "ip6.addr=2001:db8::2", "ip4=inherit")
    inh = mk(k, "name=a.inh", "ip4=inherit", "ip6=inherit")
    vn = mk(k, "name=a.vn", "vnet=new")
    jset(k, "name=a", "ip4.addr=10.0.0.1,10.0.0.3", "ip6.addr=2001:db8::1", flags=U)
    assert val(k, own, "ip4.addr") == "10.0.0.3"                  # still in the parent's list
    assert val(k, own, "ip6.addr") == "2001:db8::1"               # inherit follows
    assert val(k, inh, "ip4.addr") == "10.0.0.1,10.0.0.3"
    assert (val(k, gone, "ip6.addr"), val(k, gone, "ip6")) == ("", "disable")   # lost it
    assert val(k, gone, "ip4.addr") == "10.0.0.1,10.0.0.3"
    assert val(k, vn, "ip4") == "inherit" and val(k, vn, "ip4.addr") == ""      # untouched


def test_cascade_host_info_to_inherit_descendants(k):
    a = mk(k, "name=a", "children.max=4", "host.hostname=a.example")
    inh = mk(k, "name=a.inh", "host=inherit", "children.max=2")
    deep = mk(k, "name=a.inh.deep", "host=inherit")
    new = mk(k, "name=a.new", "host.hostname=own")
    assert val(k, inh, "host.hostname") == "a.example" and val(k, inh, "host") == "inherit"
    jset(k, "name=a", "host.hostname=b.example", "host.domainname=dom", "host.hostid=42", flags=U)
    assert [val(k, j, "host.hostname") for j in (a, inh, deep, new)] == \
        ["b.example", "b.example", "b.example", "own"]
    assert val(k, deep, "host.domainname") == "dom" and val(k, deep, "host.hostid") == "42"
    # setting host.* on an inherit jail makes it host=new
    jset(k, "name=a.inh", "host.hostname=mine", flags=U)
    assert (val(k, inh, "host"), val(k, deep, "host.hostname")) == ("new", "mine")
    # switching back to inherit copies the parent's values again
    jset(k, "name=a.inh", "host=inherit", flags=U)
    assert val(k, inh, "host.hostname") == "b.example"


def test_cascade_devfs_ruleset_overwrites_all(k):
    a = mk(k, "name=a", "children.max=3")
    b = mk(k, "name=a.b", "devfs_ruleset=5", "children.max=2")
    c = mk(k, "name=a.b.c", "devfs_ruleset=9")
    jset(k, "name=a", "devfs_ruleset=3", flags=U)
    assert [val(k, j, "devfs_ruleset") for j in (a, b, c)] == ["3", "3", "3"]
    # from inside: silently the parent's value, or EPERM
    jset(k, "name=b", "devfs_ruleset=0", flags=U, caller=jailed_root(k, a))
    assert val(k, b, "devfs_ruleset") == "3"
    expect(k, EPERM, "", "name=b", "devfs_ruleset=4", flags=U, caller=jailed_root(k, a))


def test_cascade_sysv_disable(k):
    a = mk(k, "name=a", "children.max=3", "sysvmsg=new", "sysvshm=inherit")
    b = mk(k, "name=a.b", "sysvmsg=inherit", "sysvshm=inherit", "children.max=2")
    c = mk(k, "name=a.b.c", "sysvmsg=new")
    jset(k, "name=a", "sysvmsg=disable", flags=U)
    assert [val(k, j, "sysvmsg") for j in (a, b, c)] == ["disable"] * 3
    assert val(k, b, "sysvshm") == "inherit"
    expect(k, EPERM, "", "name=a.b", "sysvmsg=new", flags=U)


def test_meta_env_key_value(k):
    a = mk(k, "name=a", "meta=a=1\nb=2")
    assert val(k, a, "meta") == "a=1\nb=2"
    jset(k, "name=a", "meta.b=3", flags=U)                  # replaces, inserted at the front
    assert val(k, a, "meta") == "b=3\na=1"
    jset(k, "name=a", "meta.c=", flags=U)                   # empty value is stored
    assert val(k, a, "meta") == "c=\nb=3\na=1"
    assert get(k, a, "meta.c", "meta.b")["meta.b"] == "3"
    jset(k, "name=a", ("meta.a", None), flags=U)            # no value: delete
    assert val(k, a, "meta") == "c=\nb=3"
    jset(k, "name=a", "meta.x=1", "meta.y=2", "meta.x=3", flags=U)   # in order
    assert val(k, a, "meta") == "x=3\ny=2\nc=\nb=3"
    jset(k, "name=a", "meta=", flags=U)
    assert val(k, a, "meta") == ""
    # env is separate and works the same; neither is inherited
    jset(k, "name=a", "env.PATH=/bin", "children.max=2", flags=U)
    c = mk(k, "name=a.c")
    assert (val(k, a, "env"), val(k, a, "meta"), val(k, c, "env")) == ("PATH=/bin", "", "")
    # size limit: 4096 including the NUL
    assert jset(k, "name=a", "meta=" + "m" * 4095, flags=U) == a
    expect(k, 27, "", "name=a", "meta.k=v", flags=U)        # EFBIG


def test_last_occurrence_wins(k):
    a = mk(k, "name=a", "allow.mount", "allow.nomount", "host.hostname=x", "host.hostname=y")
    assert (val(k, a, "allow.mount"), val(k, a, "host.hostname")) == ("false", "y")
    jset(k, "name=a", "allow.mount.nodevfs", "allow.mount.devfs", flags=U)
    assert val(k, a, "allow.mount.devfs") == "true"


def test_persist_flag_counts(k):
    a = mk(k, "name=a")
    pr = k.by_jid(a)
    assert (pr.ref, pr.uref) == (1, 1)
    jset(k, "name=a", "persist", flags=U)                   # already set: no double count
    assert (pr.ref, pr.uref) == (1, 1)
    p = k.spawn(a)
    jset(k, "name=a", "nopersist", flags=U)
    assert (pr.ref, pr.uref, pr.state) == (1, 1, "alive")
    k.exit(p)
    assert k.by_jid(a) is None
