"""One test per errno path of jail_set, in the order of spec 2.2 (errno and errmsg)."""

from errno import (EADDRINUSE, EAGAIN, EEXIST, EFBIG, EINVAL, ENAMETOOLONG, ENOENT, ENOTDIR,
                   EPERM)

from jailfs.kernel import Caller
from kutil import A, C, CU, U, expect, jailed_root, jset, mk, val


def test_step01_create_from_jail_with_children_max_0_is_eperm(k):
    a = mk(k, "name=a")
    expect(k, EPERM, "", "name=b", "persist", caller=jailed_root(k, a))
    # also with CREATE|UPDATE, and even when the target exists (checked before anything)
    expect(k, EPERM, "", "name=b", "persist", flags=CU, caller=jailed_root(k, a))
    # step 1 comes before the flag check (2) and the privilege check (6)
    expect(k, EPERM, "", "name=b", flags=C | 0x100, caller=Caller(k.by_jid(a), 1000))


def test_step02_unknown_flag_bits(k):
    expect(k, EINVAL, "", "name=a", "persist", flags=C | 0x100)


def test_step04_neither_create_nor_update(k):
    expect(k, EINVAL, "no valid operation (create or update)", "name=a", "persist", flags=0)
    expect(k, EINVAL, "no valid operation (create or update)", "name=a", flags=A)
    # before the privilege check
    expect(k, EINVAL, "no valid operation (create or update)", "name=a", flags=0,
           caller=Caller(k.prison0, 1000))


def test_step05_unexpected_desc(k):
    expect(k, EINVAL, "unexpected desc", "name=a", "persist", "desc=3")


def test_step06_privilege(k):
    expect(k, EPERM, "", "name=a", "persist", caller=Caller(k.prison0, 1000))
    # jailed root needs allow.suser
    a = mk(k, "name=a", "children.max=3", "allow.nosuser")
    expect(k, EPERM, "", "name=b", "persist", caller=jailed_root(k, a))
    b = mk(k, "name=b", "children.max=3")
    assert jset(k, "name=c", "persist", caller=jailed_root(k, b)) > 0


def test_step07_enforce_statfs_range(k):
    expect(k, EINVAL, "", "name=a", "persist", "enforce_statfs=3")
    expect(k, EINVAL, "", "name=a", "persist", "enforce_statfs=-1")


def test_step07_integer_parse_error_is_libjails(k):
    expect(k, EINVAL, 'securelevel: non-integer value "high"', "name=a", "persist", "securelevel=high")
    expect(k, EINVAL, 'jid: non-integer value "1x"', "jid=1x", "persist")


def test_step08_jailsys_values(k):
    expect(k, EINVAL, "", "name=a", "persist", "host=disable")
    expect(k, EINVAL, "", "name=a", "persist", "nohost")
    expect(k, EINVAL, "", "name=a", "persist", "vnet=disable")
    expect(k, EINVAL, "", "name=a", "persist", "ip4=3")
    expect(k, EINVAL, 'ip4: unknown jailsys value "maybe"', "name=a", "persist", "ip4=maybe")
    expect(k, EINVAL, 'persist: unknown boolean value "maybe"', "name=a", "persist=maybe")


def test_step09_new_jail_must_persist_or_attach(k):
    expect(k, EINVAL, "new jail must persist or attach", "name=a")
    expect(k, EINVAL, "new jail must persist or attach", "name=a", "persist=false")
    expect(k, EINVAL, "new jail must persist or attach", "name=a", "persist", "nopersist")
    # it beats a name or jid conflict (step 12 precedence, spec 10.12)
    mk(k, "name=a", "jid=4")
    expect(k, EINVAL, "new jail must persist or attach", "name=a")
    expect(k, EINVAL, "new jail must persist or attach", "jid=4")
    # kern_jail_set tests (flags & (JAIL_CREATE | JAIL_ATTACH)) == JAIL_CREATE before any
    # lookup: CREATE|UPDATE without persist is refused too, even for an existing jail,
    # and nothing is created (no jid used up)
    expect(k, EINVAL, "new jail must persist or attach", "name=a", "host.hostname=x", flags=CU)
    expect(k, EINVAL, "new jail must persist or attach", "name=new", flags=CU)
    assert jset(k, "name=a", "host.hostname=x", "persist", flags=CU) == 4
    assert mk(k, "name=b") == 1                 # the refused ones used up no jid


def test_step10_vnet_and_ip_cannot_change_with_update(k):
    a = mk(k, "name=a")
    expect(k, EINVAL, "vnet cannot be changed after creation", "name=a", "vnet=new", flags=U)
    expect(k, EINVAL, "vnet cannot be changed after creation", "name=a", "vnet=inherit", flags=U)
    expect(k, EINVAL, "ip4 cannot be changed after creation", "name=a", "ip4=new", flags=U)
    expect(k, EINVAL, "ip6 cannot be changed after creation", "jid=%d" % a, "ip6=disable", flags=U)
    # CREATE|UPDATE of a jail that does not exist yet: still refused (spec 10.1)
    expect(k, EINVAL, "vnet cannot be changed after creation", "name=new", "persist", "vnet=new", flags=CU)
    expect(k, EINVAL, "ip4 cannot be changed after creation", "name=new", "persist", "ip4=inherit", flags=CU)


def test_step12_name_length(k):
    expect(k, ENAMETOOLONG, "", "name=" + "x" * 256, "persist")
    assert mk(k, "name=" + "x" * 255) == 1


def test_step13_host_strings(k):
    expect(k, ENAMETOOLONG, "", "name=a", "persist", "host.hostname=" + "h" * 256)
    expect(k, ENAMETOOLONG, "", "name=a", "persist", "host.domainname=" + "d" * 256)
    expect(k, ENAMETOOLONG, "", "name=a", "persist", "host.hostuuid=" + "u" * 64)
    # libjail imports an unsigned long with strtoul: "-1" wraps (jailparam_import)
    assert val(k, mk(k, "name=w", "host.hostid=-1"), "host.hostid") == str(2**64 - 1)
    expect(k, EINVAL, 'host.hostid: non-integer value "x1"', "name=a", "persist", "host.hostid=x1")
    a = mk(k, "name=a", "host.hostname=" + "h" * 255, "host.hostuuid=" + "u" * 63)
    assert val(k, a, "host.hostuuid") == "u" * 63


def test_step14_ip_lists(k):
    many = ",".join(f"10.0.{i // 250}.{i % 250 + 1}" for i in range(256))
    expect(k, EINVAL, "too many IPv4 addresses", "name=a", "persist", "ip4.addr=" + many)
    many6 = ",".join(f"2001:db8::{i + 1:x}" for i in range(256))
    expect(k, EINVAL, "too many IPv6 addresses", "name=a", "persist", "ip6.addr=" + many6)
    expect(k, EINVAL, "", "name=a", "persist", "ip4.addr=0.0.0.0")
    expect(k, EINVAL, "", "name=a", "persist", "ip4.addr=10.0.0.1,255.255.255.255")
    expect(k, EINVAL, "", "name=a", "persist", "ip4.addr=10.0.0.1,10.0.0.2,10.0.0.1")
    expect(k, EINVAL, "", "name=a", "persist", "ip6.addr=::")
    expect(k, EINVAL, "", "name=a", "persist", "ip6.addr=2001:db8::1,2001:db8::1")
    expect(k, EINVAL, "ip4.addr: not an IPv4 address: 10.0.0.300", "name=a", "persist",
           "ip4.addr=10.0.0.300")
    expect(k, EINVAL, "ip6.addr: not an IPv6 address: 10.0.0.1", "name=a", "persist",
           "ip6.addr=10.0.0.1")
    assert mk(k, "name=a", "ip4.addr=" + ",".join(many.split(",")[:255])) == 1


def test_step15_vnet_with_ip_restrictions(k):
    msg = "vnet jails cannot have IP address restrictions"
    expect(k, EINVAL, msg, "name=a", "persist", "vnet=new", "ip4.addr=10.0.0.1")
    expect(k, EINVAL, msg, "name=a", "persist", "vnet=new", "ip6=disable")
    # mentioning any ip jailsys value counts, even inherit with vnet=inherit
    expect(k, EINVAL, msg, "name=a", "persist", "vnet=inherit", "ip4=inherit")


def test_step16_osrelease_osreldate(k):
    mk(k, "name=a")
    expect(k, EINVAL, "osrelease cannot be changed after creation", "name=a", "osrelease=1.0", flags=U)
    expect(k, EINVAL, "osreldate cannot be changed after creation", "name=a", "osreldate=5", flags=U)
    # kern_jail_set: len >= OSRELEASELEN is ENAMETOOLONG, len counting the NUL
    expect(k, ENAMETOOLONG, "osrelease string must be 1-31 bytes long", "name=b", "persist",
           "osrelease=" + "r" * 31)
    expect(k, EINVAL, "osreldate cannot be 0", "name=b", "persist", "osreldate=0")
    b = mk(k, "name=b", "osrelease=" + "r" * 30, "osreldate=1400000")
    assert (val(k, b, "osrelease"), val(k, b, "osreldate")) == ("r" * 30, "1400000")
    assert val(k, 1, "osrelease") == k.prison0.osrelease


def test_step17_path(k):
    mk(k, "name=a", "path=/jails/a")
    expect(k, EINVAL, "path cannot be changed after creation", "name=a", "path=/jails/b", flags=U)
    expect(k, EINVAL, "path cannot be changed after creation", "name=a", "persist", "path=/jails/a",
           flags=CU)
    expect(k, ENOENT, "", "name=b", "persist", "path=/nonexistent")
    expect(k, ENOTDIR, "", "name=b", "persist", "path=/etc/motd")
    expect(k, EINVAL, "", "name=b", "persist", "path=")


def test_step19_caller_jail_not_alive_is_eagain(k):
    a = mk(k, "name=a", "children.max=2")
    p = k.spawn(a)
    h = k.spawn(0)
    k.pass_fd(p, k.open_file(p, "/x"), h)         # keeps a dying after removal
    k.jail_remove(Caller(k.prison0), a)
    assert k.by_jid(a).state == "dying"
    expect(k, EAGAIN, "", "name=b", "persist", caller=jailed_root(k, a))


def test_step20_jid_lookup(k):
    a = mk(k, "name=a", "children.max=5")
    b = mk(k, "name=b")
    expect(k, EINVAL, "negative jid", "jid=-1", "persist")
    expect(k, EINVAL, "negative jid", "jid=-1", flags=U)
    expect(k, EEXIST, f"jail {b} already exists", f"jid={b}", "persist")
    expect(k, ENOENT, "jail 77 not found", "jid=77", "persist", flags=U)
    # the EEXIST leak: a jailed creator learns that an invisible jid exists
    expect(k, EEXIST, f"jail {b} already exists", f"jid={b}", "persist", caller=jailed_root(k, a))
    # but updating it is ENOENT, also with CREATE|UPDATE
    expect(k, ENOENT, f"jail {b} not found", f"jid={b}", "persist", flags=U, caller=jailed_root(k, a))
    expect(k, ENOENT, f"jail {b} not found", f"jid={b}", "persist", flags=CU, caller=jailed_root(k, a))
    # a dying jid is never a target of an update
    k.jail_remove(Caller(k.prison0), b)
    expect(k, ENOENT, f"jail {b} not found", f"jid={b}", "host.hostname=x", flags=U)


def test_step21_name_lookup(k):
    a = mk(k, "name=a")
    b = mk(k, "name=b")
    mk(k, "name=a.c")
    expect(k, EINVAL, "cannot change jail's parent", f"jid={b}", "name=a.b", flags=U)
    expect(k, EINVAL, "cannot change jail's parent", f"jid={b}", "name=x.b", flags=U)
    expect(k, ENOENT, 'jail "x" not found', "name=x.y", "persist")
    expect(k, EEXIST, 'jail "a" already exists', "name=a", "persist")
    expect(k, EEXIST, 'jail "a.c" already exists', "name=a.c", "persist")
    # a rename onto an existing sibling
    expect(k, EEXIST, 'jail "a" already exists', f"jid={b}", "name=a", flags=U)
    expect(k, ENOENT, 'jail "zz" not found', "name=zz", "host.hostname=x", flags=U)
    expect(k, ENOENT, 'jail "a.zz" not found', "name=a.zz", "host.hostname=x", flags=U)
    # a dying parent
    k.spawn(a)
    kk = k._k
    p = next(p for p in kk.procs.values() if p.prison.jid == a)
    k.pass_fd(p, k.open_file(p), k.spawn(0))
    k.jail_remove(Caller(k.prison0), a)
    expect(k, ENOENT, 'jail "a" is dying', "name=a.d", "persist")


def test_step22_update_specified_no_jail(k):
    expect(k, ENOENT, "update specified no jail", "host.hostname=x", flags=U)
    expect(k, ENOENT, "update specified no jail", flags=U)


def test_step23_prison_limit_exceeded(k):
    a = mk(k, "name=a", "children.max=1")
    mk(k, "name=b", caller=jailed_root(k, a))
    expect(k, EPERM, "prison limit exceeded", "name=c", "persist", caller=jailed_root(k, a))
    # the limit walks up from the caller: a grandchild with room is still limited by a
    b = k.lookup(Caller(k.prison0), "a.b").jid
    jset(k, "name=a.b", "children.max=0", flags=U)
    expect(k, EPERM, "", "name=x", "persist", caller=jailed_root(k, b))


def test_step27_existing_target_ip_and_vnet(k):
    v = mk(k, "name=v", "vnet=new")
    expect(k, EINVAL, "vnet jails cannot have IP address restrictions", "name=v",
           "ip4.addr=10.0.0.1", flags=U)
    i = mk(k, "name=i", "ip4=inherit", "ip6=inherit")
    expect(k, EINVAL, "ip4 cannot be changed after creation", "name=i", "ip4.addr=10.0.0.1", flags=U)
    expect(k, EINVAL, "ip6 cannot be changed after creation", "name=i", "ip6.addr=::1", flags=U)
    r = mk(k, "name=r", "ip4.addr=10.0.0.1")
    assert jset(k, "name=r", "ip4.addr=10.0.0.2,10.0.0.3", flags=U) == r
    assert val(k, r, "ip4.addr") == "10.0.0.2,10.0.0.3"
    assert v and i


def test_step28_securelevel_childmax_enforce_devfs(k):
    a = mk(k, "name=a", "securelevel=1", "children.max=3", "enforce_statfs=1", "devfs_ruleset=4")
    expect(k, EPERM, "", "name=a.b", "persist", "securelevel=0")
    expect(k, EPERM, "", "name=a.b", "persist", "children.max=3")
    expect(k, EPERM, "", "name=a.b", "persist", "enforce_statfs=0")
    expect(k, EINVAL, "", "name=a.b", "persist", "devfs_ruleset=65536")
    expect(k, EINVAL, "", "name=a.b", "persist", "devfs_ruleset=-1")
    # a jailed creator: non-zero different ruleset EPERM, 0 silently becomes the parent's
    expect(k, EPERM, "", "name=b", "persist", "devfs_ruleset=5", caller=jailed_root(k, a))
    b = jset(k, "name=b", "persist", "devfs_ruleset=0", caller=jailed_root(k, a))
    assert val(k, b, "devfs_ruleset") == "4"
    # the host sets any value
    c = mk(k, "name=a.c", "devfs_ruleset=9")
    assert val(k, c, "devfs_ruleset") == "9"
    # negative children.max is accepted
    d = mk(k, "name=d", "children.max=-1")
    assert val(k, d, "children.max") == "-1"


def test_step29_ip_subset_and_clash(k):
    mk(k, "name=p", "ip4.addr=10.0.0.1,10.0.0.2,10.0.0.3", "children.max=5")
    expect(k, EPERM, "", "name=p.c", "persist", "ip4.addr=10.0.0.9")
    expect(k, EPERM, "", "name=p.c", "persist", "ip4.addr=10.0.0.2,10.0.0.9")
    # a subset (the parent's primary may follow) passes the subset check, but the clash
    # walk (kern_jail.c) meets the multi-address parent itself: EADDRINUSE, not EPERM
    expect(k, EADDRINUSE, "IPv4 addresses clash", "name=p.c", "persist", "ip4.addr=10.0.0.2,10.0.0.1")
    mk(k, "name=q", "ip4.addr=10.1.0.1", "children.max=5")
    assert mk(k, "name=q.c", "ip4.addr=10.1.0.1") > 0           # one address each: may share
    mk(k, "name=none", "children.max=2")                             # restricted, no address
    expect(k, EPERM, "", "name=none.c", "persist", "ip4.addr=10.0.0.1")
    # clash: multi-address lists may not overlap
    mk(k, "name=m", "ip4.addr=192.0.2.1,192.0.2.2")
    expect(k, EADDRINUSE, "IPv4 addresses clash", "name=x", "persist", "ip4.addr=192.0.2.2,192.0.2.3")
    expect(k, EADDRINUSE, "IPv4 addresses clash", "name=x", "persist", "ip4.addr=192.0.2.2")
    mk(k, "name=m6", "ip6.addr=2001:db8::1,2001:db8::2")
    expect(k, EADDRINUSE, "IPv6 addresses clash", "name=x", "persist", "ip6.addr=2001:db8::2")
    # single-address jails may share
    mk(k, "name=s1", "ip4.addr=198.51.100.1")
    assert mk(k, "name=s2", "ip4.addr=198.51.100.1") > 0


def test_step30_numeric_and_long_names(k):
    msg = "name cannot be numeric (unless it is the jid)"
    expect(k, EINVAL, msg, "name=5", "jid=6", "persist")
    expect(k, EINVAL, msg, "name=007", "persist")
    expect(k, EINVAL, msg, "name=0", "persist")
    a = mk(k, "name=" + "a" * 200)
    expect(k, ENAMETOOLONG, "", "name=" + "a" * 200 + "." + "b" * 55, "persist")
    assert mk(k, "name=" + "a" * 200 + "." + "b" * 54) > 0
    # a rename that would push a descendant's full name over the limit
    expect(k, ENAMETOOLONG, "", f"jid={a}", "name=" + "a" * 201, flags=U)


def test_step31_allow_bits_not_in_parent(k):
    mk(k, "name=a", "children.max=3", "allow.nomount", "allow.nounprivileged_proc_debug")
    expect(k, EPERM, "", "name=a.b", "persist", "allow.mount")
    # the "differences" bit is allowed even when the parent lacks it
    b = mk(k, "name=a.b", "allow.unprivileged_proc_debug")
    assert val(k, b, "allow.unprivileged_proc_debug") == "true"


def test_step32_module_checks(k):
    mk(k, "name=a", "children.max=3")                   # sysv* disabled by default
    expect(k, EPERM, "", "name=a.b", "persist", "sysvmsg=new")
    expect(k, EPERM, "", "name=a.b", "persist", "allow.sysvipc")      # implies inherit
    expect(k, EINVAL, "", "name=x", "persist", "sysvshm=7")
    expect(k, EINVAL, "", "name=x", "persist", "linux=disable")
    expect(k, EINVAL, "", "name=x", "persist", "zfs.mount_snapshot=2")
    expect(k, EFBIG, "", "name=x", "persist", "meta=" + "m" * 4096)
    expect(k, EINVAL, "", "name=x", "persist", "meta.=v")


def test_step33_unknown_and_readonly_parameters(k):
    # a name libjail cannot find under security.jail.param is ENOENT (jailparam_type)
    expect(k, ENOENT, "unknown parameter: foo", "name=a", "persist", "foo=1")
    expect(k, ENOENT, "unknown parameter: nopath", "name=a", "persist", "nopath")
    for ro in ("parent=0", "children.cur=0", "cpuset.id=1", "dying"):
        expect(k, EINVAL, f"unknown parameter: {ro.partition('=')[0]}", "name=a", "persist", ro)


def test_step37_attach_needs_a_running_process(k):
    p = k.spawn(0)
    a = jset(k, "name=a", flags=C | A, proc=p)
    assert p.prison.jid == a


def test_step38_nopersist_kills_an_idle_jail_and_succeeds(k):
    a = mk(k, "name=a")
    assert jset(k, "name=a", "nopersist", flags=U) == a
    assert k.by_jid(a) is None                  # dying and, with nothing holding it, freed


def test_refused_create_consumes_jid(k):
    """kern_jail.c allocates the jid (get_next_prid sets lastprid) before the value
    checks of step 28; a create refused there leaves lastprid advanced."""
    mk(k, "name=a", "securelevel=1", "children.max=3")              # jid 1
    expect(k, EPERM, "", "name=a.b", "persist", "securelevel=0")     # took jid 2
    assert mk(k, "name=c") == 3
    # a refusal before step 25 does not
    expect(k, EEXIST, 'jail "c" already exists', "name=c", "persist")
    assert mk(k, "name=d") == 4
