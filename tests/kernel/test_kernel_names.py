"""Name rules (spec 2.2 steps 18, 21, 30; 5.1; 10.7)."""

from errno import EEXIST, EINVAL, ENOENT

from jailfs.kernel import Caller
from kutil import C, CU, U, expect, get, jailed_root, jset, mk, refused, state, val
from test_kernel_jids import hold_dying


def test_default_name_is_the_jid(k):
    a = mk(k)
    assert val(k, a, "name") == str(a)


def test_numeric_name_must_be_the_jid_in_canonical_form(k):
    msg = "name cannot be numeric (unless it is the jid)"
    assert mk(k, "name=3", "jid=3") == 3
    expect(k, EINVAL, msg, "name=4", "jid=5", "persist")
    expect(k, EINVAL, msg, "name=05", "persist")          # pure create: jid 5 from "05"...
    assert mk(k, "name=12abc") == 1                       # not all digits: fine
    # with CREATE|UPDATE the name does not choose the jid: 9 != the allocated jid
    expect(k, EINVAL, msg, "name=9", "persist", flags=CU)
    # renaming to one's own jid is allowed, to another number not
    jset(k, "jid=1", "name=1", flags=U)
    assert val(k, 1, "name") == "1"
    expect(k, EINVAL, msg, "jid=1", "name=2", flags=U)


def test_empty_final_component_means_the_jid(k):
    a = mk(k, "name=foo", "children.max=2")
    c = mk(k, "name=foo.")
    assert val(k, c, "name") == f"foo.{c}"
    # a rename to "foo." gives the jid too
    d = mk(k, "name=foo.x")
    jset(k, f"jid={d}", "name=foo.", flags=U)
    assert val(k, d, "name") == f"foo.{d}"
    assert a


def test_names_are_relative_to_the_caller(k):
    a = mk(k, "name=a", "children.max=5")
    inside = jailed_root(k, a)
    b = jset(k, "name=b", "persist", caller=inside)
    c = jset(k, "name=b.c", "persist", caller=inside)
    assert val(k, c, "name") == "a.b.c"
    assert get(k, "a.b.c", "name", "parent") == {"jid": str(c), "name": "a.b.c", "parent": str(b)}
    assert get(k, "b.c", "name", "parent", caller=inside) == {"jid": str(c), "name": "b.c",
                                                              "parent": str(b)}
    assert get(k, "b", "parent", caller=inside)["parent"] == "0"
    assert k.relname(k.by_jid(a), k.by_jid(c)) == "b.c"
    # update by relative name from inside
    jset(k, "name=b.c", "host.hostname=deep", flags=U, caller=inside)
    assert val(k, c, "host.hostname") == "deep"
    # updating by jid with a dotted relative name: the parent is compared by absolute name
    expect(k, EINVAL, "cannot change jail's parent", f"jid={c}", "name=b.c", flags=U, caller=inside)
    jset(k, f"jid={c}", "name=a.b.c2", flags=U, caller=inside)
    assert val(k, c, "name") == "a.b.c2"


def test_names_unique_per_parent(k):
    mk(k, "name=a", "children.max=2")
    mk(k, "name=b", "children.max=2")
    x1 = mk(k, "name=a.x")
    x2 = mk(k, "name=b.x")
    assert x1 != x2
    expect(k, EEXIST, 'jail "a.x" already exists', "name=a.x", "persist")


def test_dying_siblings_do_not_block_a_name(k):
    a = mk(k, "name=a")
    hold_dying(k, a)
    b = mk(k, "name=a")
    assert b != a and state(k, a) == "dying"
    assert get(k, "a", "jid")["jid"] == str(b)          # the alive one wins a lookup
    # an update by name finds the alive one, never the dying one
    jset(k, "name=a", "host.hostname=h", flags=U)
    assert val(k, a, "host.hostname") == ""
    k.jail_remove(Caller(k.prison0), b)
    # only the dying one is left: jail_set skips dying siblings ("not found", as in
    # kern_jail.c since D28150); jail_get's name lookup reports "is dying"
    expect(k, ENOENT, 'jail "a" not found', "name=a", "host.hostname=h", flags=U)
    e = refused(get, k, "a", k=k)
    assert (e.errno, e.msg, e.op) == (ENOENT, 'jail "a" is dying', "jail_get")


def test_a_dying_name_is_found_as_prison_find_name_finds_it(k):
    """No live match: the last dying one of FreeBSD's walk (newest sibling
    first, so the oldest), one alone, or none."""
    assert k.find_name(k.prison0, "a") is None
    first = k.jids[mk(k, "name=a", "children.max=1")]
    inner = k.jids[mk(k, "name=a.c")]
    hold_dying(k, inner.jid)
    hold_dying(k, first.jid)
    assert k.find_name(k.prison0, "a") is first
    assert k.find_name(k.prison0, "a.c") is inner and k.find_name(first, "c") is inner
    second = k.jids[mk(k, "name=a")]
    assert k.find_name(k.prison0, "a") is second        # a live one wins
    hold_dying(k, second.jid)
    assert k.find_name(k.prison0, "a") is first         # the oldest of two dying
    assert k.find_name(k.prison0, "b") is None


def test_rename_rewrites_descendants(k):
    a = mk(k, "name=a", "children.max=3")
    b = mk(k, "name=a.b", "children.max=2")
    c = mk(k, "name=a.b.c")
    jset(k, f"jid={a}", "name=z", flags=U)
    assert [val(k, j, "name") for j in (a, b, c)] == ["z", "z.b", "z.b.c"]
    assert get(k, "z.b.c", "jid")["jid"] == str(c)
    # a rename under the same parent with the parent's name given
    jset(k, f"jid={b}", "name=z.y", flags=U)
    assert val(k, c, "name") == "z.y.c"


def test_create_under_a_named_parent(k):
    mk(k, "name=a")
    b = mk(k, "name=a.b")                               # host may create under children.max=0
    assert k.by_jid(b).parent.name == "a"
    assert val(k, b, "parent") == "1"
    assert jset(k, "name=a.b", "persist", flags=CU) == b   # CU finds it
    assert jset(k, "name=a.c", "persist", flags=CU | 0) != b
    assert C
