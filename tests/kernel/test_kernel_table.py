"""The parameter table is in charge: every string row's size limit and every create-only
row's refusal are enforced from PARAMS, generically; the module interface; the file
modes the filesystem derives from the table; a pickled kernel."""

import pickle
from errno import EINVAL, ENAMETOOLONG

import pytest

from kutil import CU, U, expect, jset, mk, new_kernel, val

from jailfs.kernel import PARAMS, Caller, Kernel, KernelModule
from jailfs.kernel.errors import JailError

STRINGS = [p for p in PARAMS.values() if p.kind == "string" and not p.readonly]
CREATE_ONLY = [p for p in PARAMS.values() if p.createonly and p.name != "jid"]
# A valid value of n bytes for each string row (some rows have a syntax of their own).
FILL = {
    "name": lambda n: "n" * n,
    "path": lambda n: "/" + "p" * (n - 1),
    "linux.osrelease": lambda n: "5.15." + "0" * (n - 6) + "1",
}
# A valid value for each create-only row, on update.
CREATE_ONLY_VALUES = {"path": "/", "osrelease": "1.0-X", "osreldate": "1300000", "vnet": "new",
                      "ip4": "new", "ip6": "disable"}


def fill(row, n):
    return FILL.get(row.name, lambda m: "v" * m)(n)


def test_every_string_row_has_a_limit_and_every_create_only_row_a_value():
    assert {p.name for p in STRINGS} >= {"name", "path", "host.hostname", "host.domainname",
                                          "host.hostuuid", "osrelease", "linux.osname",
                                          "linux.osrelease"}
    assert all(p.size_limit > 0 for p in STRINGS)
    assert {p.name for p in CREATE_ONLY} == set(CREATE_ONLY_VALUES)


@pytest.mark.parametrize("row", STRINGS, ids=lambda p: p.name)
def test_string_size_limit_from_the_table(row):
    """At the limit (NUL included) the value is taken; one byte more is ENAMETOOLONG
    with the row's message and nothing changes."""
    k = new_kernel(resolve_path=lambda root, path: path)
    longest = row.size_limit - 1                       # bytes, the NUL makes the limit
    a = mk(k, "name=a")
    if row.createonly:
        b = mk(k, "name=b", f"{row.name}={fill(row, longest)}")
        assert val(k, b, row.name) == fill(row, longest)
        expect(k, ENAMETOOLONG, row.toolong, "name=c", "persist", f"{row.name}={fill(row, longest + 1)}")
    elif row.name == "name":
        assert jset(k, f"jid={a}", f"name={fill(row, longest)}", flags=U) == a
        expect(k, ENAMETOOLONG, row.toolong, f"jid={a}", f"name={fill(row, longest + 1)}", flags=U)
        assert val(k, a, "name") == fill(row, longest)
    else:
        jset(k, "name=a", f"{row.name}={fill(row, longest)}", flags=U)
        assert val(k, a, row.name) == fill(row, longest)
        expect(k, ENAMETOOLONG, row.toolong, "name=a", f"{row.name}={fill(row, longest + 1)}", flags=U)
        assert val(k, a, row.name) == fill(row, longest)


def test_limits_count_bytes_not_characters(k):
    a = mk(k, "name=a")
    expect(k, ENAMETOOLONG, "", "name=a", "host.hostuuid=" + "é" * 32, flags=U)   # 64 bytes + NUL
    jset(k, "name=a", "host.hostuuid=" + "é" * 31 + "x", flags=U)                  # 63 bytes
    assert val(k, a, "host.hostuuid") == "é" * 31 + "x"


@pytest.mark.parametrize("row", CREATE_ONLY, ids=lambda p: p.name)
def test_create_only_refused_on_update_from_the_table(k, row):
    """kern_jail_set: with JAIL_UPDATE a create-only parameter is EINVAL
    "<name> cannot be changed after creation" (whatever the value), nothing changes."""
    mk(k, "name=a")
    value = CREATE_ONLY_VALUES[row.name]
    msg = f"{row.name} cannot be changed after creation"
    expect(k, EINVAL, msg, "name=a", f"{row.name}={value}", flags=U)
    expect(k, EINVAL, msg, "name=a", "persist", f"{row.name}={value}", flags=CU)


def test_writable_follows_the_table():
    assert not PARAMS["jid"].writable and not PARAMS["path"].writable
    assert not PARAMS["dying"].writable and not PARAMS["children.cur"].writable
    assert PARAMS["host.hostname"].writable and PARAMS["persist"].writable
    assert PARAMS["linux.osname"].writable and PARAMS["meta"].writable
    assert {p.name for p in PARAMS.values() if not p.writable} == {
        "jid", "parent", "path", "ip4", "ip6", "vnet", "children.cur", "dying", "cpuset.id",
        "osrelease", "osreldate"}


def test_modules_register_their_rows():
    owners = {p.name: p.module for p in PARAMS.values()}
    assert owners["sysvshm"] == "sysvipc" and owners["meta"] == "meta"
    assert owners["linux.osname"] == "linux" and owners["zfs"] == "zfs"
    assert owners["host.hostname"] == "" and owners["allow.mount"] == ""


def test_a_module_is_called_at_each_osd_point(k):
    calls = []

    class Spy(KernelModule):
        name = "spy"

        def check(self, req):
            calls.append(("check", req.created, req.ppr.jid))
            if req.opts.get("securelevel") == 3:
                raise JailError(EINVAL, "spy says no")

        def create(self, pr, req):
            calls.append(("create", pr.jid))

        def set(self, pr, req):
            calls.append(("set", pr.jid))

        def attach(self, proc, pr):
            calls.append(("attach", pr.jid))

        def dying(self, pr):
            calls.append(("dying", pr.jid))

        def freed(self, pr):
            calls.append(("freed", pr.jid))

        def proc_exit(self, proc):
            calls.append(("exit", proc.pid))

    kk = k._k
    kk.add_module(Spy(kk))
    a = mk(k, "name=a")
    assert calls == [("check", True, 0), ("create", a), ("set", a)]
    expect(k, EINVAL, "spy says no", "name=a", "securelevel=3", flags=U)
    p = k.spawn(0)
    k.jail_attach(p, a)
    k.exit(p)
    jset(k, "name=a", "nopersist", flags=U)
    assert calls[3:] == [("check", False, 0), ("attach", a), ("exit", p.pid), ("check", False, 0),
                         ("set", a), ("dying", a), ("freed", a)]


def test_pickled_kernel_keeps_its_jails_and_invariants():
    k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    seen = []
    k.subscribe(seen.append)
    k.rctl.usage_provider = lambda pr, res: 1
    a = k.jail_set(host, [("name", "a"), ("persist", None), ("children.max", "2"),
                          ("meta.x", "1"), ("linux.osname", "L"), ("vnet", "new"),
                          ("sysvshm", "new")], 1)
    k.jail_set(host, [("name", "a.b"), ("persist", None), ("sysvshm", "new")], 1)
    p = k.spawn(a)
    fd = k.tcp_connect(p, "10.0.0.1:1", "10.0.0.2:2")
    k.close(p, fd)                                   # a TIME_WAIT timer in the clock
    shm = k.ipc.shmget(k.spawn(k.lookup(host, "a.b").jid), 7, create=True)
    k.rctl.add_rule(host, "jail:a:maxproc:deny=5")
    copy = pickle.loads(pickle.dumps(k))
    copy.check_invariants()
    chost = Caller(copy.prison0, 0)
    for name in ("a", "a.b"):
        assert copy.jail_get(chost, ("name", name)) == k.jail_get(host, ("name", name))
    assert copy._subscribers == [] and copy.rctl.usage_provider is None
    assert copy.vnet.interfaces(copy.by_jid(a)) == ["lo0"]
    assert [o.id for o in copy.ipc.objects()] == [shm]
    copy.advance(120)                                # the timer fires in the copy
    copy.check_invariants()
    assert copy.rctl.rules(chost) == ["jail:a:maxproc:deny=5"]
