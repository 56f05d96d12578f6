"""Values that must never break a jail (issue 9): enum-like integers, names that would
be bad paths, NUL bytes, non-UTF-8 bytes, and `.refs` as seen from inside a jail."""

import math
from errno import EINVAL, ENAMETOOLONG

import pytest

from kutil import U, expect, get, jset, mk, refused_errno, val

from jailfs.kernel import PARAMS

ENUMS = [p.name for p in PARAMS.values() if p.kind == "jailsys" and p.writable]


@pytest.mark.parametrize("name", ENUMS)
@pytest.mark.parametrize("value", ["5", "-1", "3", "2147483647", "-2147483648"])
def test_enum_like_ints_refuse_out_of_range_values(k, name, value):
    """kern_jail_set (host), linux_prison_check (linux), zfs and the sysv*_prison_check
    functions take only their named values: anything else is EINVAL, nothing changes,
    and the jail stays readable."""
    a = mk(k, "name=a")
    expect(k, EINVAL, "", "name=a", f"{name}={value}", flags=U)
    assert all(isinstance(v, str) for v in get(k, a).values())


def test_linux_and_zfs_modes(k):
    a = mk(k, "name=a")
    expect(k, EINVAL, "", "name=a", "linux=disable", flags=U)      # linux_prison_check
    expect(k, EINVAL, "", "name=a", "zfs=disable", flags=U)
    jset(k, "name=a", "linux=new", "zfs=new", flags=U)
    assert (val(k, a, "linux"), val(k, a, "zfs")) == ("new", "new")


def test_render_never_indexes_out_of_range():
    row = PARAMS["linux"]
    assert row.render(1) == "new" and row.render(5) == "5" and row.render(-1) == "-1"


@pytest.mark.parametrize("name", ["a/b", "/", "a/", "x/y.z"])
def test_names_with_a_slash_are_refused(k, name):
    """FreeBSD is silent (kern_jail_set takes any byte but NUL); a jail name is a path
    component of the filesystem here, so a `/` is EINVAL."""
    a = mk(k, "name=a")
    expect(k, EINVAL, 'name cannot contain "/"', f"name={name}", "persist")
    expect(k, EINVAL, 'name cannot contain "/"', f"jid={a}", f"name={name}", flags=U)


def test_values_end_at_nul_as_c_strings_do(k):
    """jailparam_import: a value is a C string, so whatever follows a NUL never reaches
    the kernel (lib/libjail/jail.c)."""
    a = mk(k, "name=a\0b", "host.hostname=h\0ost", "securelevel=2\0junk")
    assert (val(k, a, "name"), val(k, a, "host.hostname"), val(k, a, "securelevel")) == \
        ("a", "h", "2")
    # a name that is only a NUL is the empty name: the jail is named after its jid
    jset(k, f"jid={a}", "name=\0", flags=U)
    assert val(k, a, "name") == str(a)
    b = mk(k, "name=\0")
    assert val(k, b, "name") == str(b)


def test_newline_only_values(k):
    """A value that is only a newline is text like any other: strtol skips the blank and
    finds no digits (non-integer), a boolean is not a number, a string takes it."""
    a = mk(k, "name=a")
    expect(k, EINVAL, 'securelevel: non-integer value "\n"', "name=a", "securelevel=\n", flags=U)
    expect(k, EINVAL, 'allow.mount: unknown boolean value "\n"', "name=a", "allow.mount=\n",
           flags=U)
    assert val(k, a, "allow.mount") == "false"


def test_non_utf8_bytes_count_as_bytes(k):
    """The filesystem passes undecodable bytes surrogate-escaped: each is one byte."""
    a = mk(k, "name=a", "host.hostname=" + "\udcff" * 255)
    assert val(k, a, "host.hostname") == "\udcff" * 255
    expect(k, ENAMETOOLONG, "", "name=a", "host.hostname=" + "\udcff" * 256, flags=U)
    expect(k, EINVAL, "", "name=a", "host.hostname=\ud800", flags=U)   # not a byte at all


def test_refs_from_inside_name_nothing_outside(k):
    web = mk(k, "name=web", "children.max=2")
    mk(k, "name=web.db")
    sib = mk(k, "name=sib")
    p_sib = k.spawn(sib)
    p_web = k.spawn(web)
    fd = k.open_file(p_sib, "/shared")
    k.pass_fd(p_sib, fd, p_web)              # a file of sib's credential, open in web too
    pr_web, pr_sib = k.by_jid(web), k.by_jid(sib)
    host_view = k.refs(pr_sib).text()
    assert f"in jail web (jid {web})" in host_view
    inside = k.refs(pr_web, viewer=pr_web).text()
    assert "child jail db (jid" in inside and "web.db" not in inside
    assert "sib" not in inside and f"jid {sib}" not in inside
    # sib's credential as web sees it (what web/.refs of a shared object could show)
    inside_sib = "\n".join(k._k._cred_users(p_sib.cred, pr_web))
    assert "sib" not in inside_sib and str(p_sib.pid) not in inside_sib
    assert "a process outside this jail" in inside_sib
    assert f"fd 3 of process {p_web.pid} in this jail" in inside_sib


def test_the_clock_stays_finite(k):
    k.advance(1e308)
    refused_errno(k, EINVAL, k.advance, 1e308)
    assert math.isfinite(k.clock.now)
    refused_errno(k, EINVAL, k.advance, float("nan"))
