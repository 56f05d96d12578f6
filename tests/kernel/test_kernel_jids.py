"""jid allocation and dying-jail renumbering (spec 2.3, 10.5, 10.6)."""

from errno import EAGAIN, ENOENT

import jailfs.kernel.registry as kmod
from jailfs.kernel import Caller
from kutil import CU, D, U, expect, get, jset, mk, state


def hold_dying(k, jid):
    """Remove jid while a descriptor of one of its processes is held by a host process."""
    p = k.spawn(jid)
    h = k.spawn(0)
    k.pass_fd(p, k.open_file(p, "/held"), h)
    k.jail_remove(Caller(k.prison0), jid)
    assert state(k, jid) == "dying"
    return h


def test_sequential_allocation(k):
    assert [mk(k, f"name={n}") for n in "abc"] == [1, 2, 3]


def test_lastprid_continues_instead_of_filling_gaps(k):
    a, b, c = (mk(k, f"name={n}") for n in "abc")
    k.jail_remove(Caller(k.prison0), b)
    assert k.by_jid(b) is None                     # freed
    assert mk(k, "name=d") == 4                    # not 2


def test_explicit_jids_do_not_advance_lastprid(k):
    assert mk(k, "name=a") == 1
    assert mk(k, "name=x", "jid=10") == 10
    assert mk(k, "name=b") == 2                    # continues after 1, not after 10
    assert k.lastprid == 2
    for n in range(3, 10):
        assert mk(k, f"name=j{n}") == n
    assert mk(k, "name=after") == 11               # 10 is taken: the scan moves up


def test_numeric_name_chooses_the_jid(k):
    assert mk(k, "name=5") == 5
    assert mk(k, "name=a") == 1                    # lastprid untouched by the explicit 5
    assert mk(k, "name=a.7") == 7
    assert get(k, 7, "name")["name"] == "a.7"


def test_wrap_after_999999(k):
    for n in "abc":
        mk(k, f"name={n}")
    k.lastprid = 999998          # stands in for 999,995 earlier automatic allocations
    assert mk(k, "name=top") == 999999
    assert mk(k, "name=wrapped") == 4              # wraps to 1, scans up past 1..3
    assert k.lastprid == 4


def test_no_available_jail_ids(k, monkeypatch):
    monkeypatch.setattr(kmod, "JAIL_MAX", 3)
    for n in "abc":
        mk(k, f"name={n}")
    expect(k, EAGAIN, "no available jail IDs", "name=d", "persist")
    # the dead-id allocator too: every id is taken when jail 2 (dying) must move
    hold_dying(k, 2)
    expect(k, EAGAIN, "no available jail IDs", "name=d", "jid=2", "persist")


def test_dying_jails_occupy_ids_for_automatic_allocation(k):
    a = mk(k, "name=a")
    hold_dying(k, a)
    assert mk(k, "name=b") == 2
    k.lastprid = 0
    assert mk(k, "name=c") == 3                    # 1 is held by the dying jail


def test_renumber_dying_jail_to_999999_then_999998_keeping_names(k):
    events = []
    k.subscribe(events.append)
    five = mk(k, "jid=5")                          # default name "5"
    web = mk(k, "jid=6", "name=web")
    hold_dying(k, five)
    hold_dying(k, web)
    old5, old6 = k.by_jid(5), k.by_jid(6)
    assert mk(k, "jid=5") == 5                     # the dying 5 moves away
    assert old5.jid == 999999 and old5.name == "5" and old5.state == "dying"
    assert k.by_jid(5).state == "alive" and k.by_jid(5) is not old5
    assert mk(k, "name=web", "jid=6") == 6
    assert old6.jid == 999998 and old6.name == "web"
    ren = [(e.jid, e.detail["old_jid"]) for e in events if e.kind == "renumbered"]
    assert ren == [(999999, 5), (999998, 6)]
    # jls -d order: renumbered dying jails come last, in jid order
    assert [p.jid for p in k.jails_below(k.prison0, dying=True)] == [5, 6, 999998, 999999]
    seq, last = [], 0
    while True:
        try:
            last = int(get(k, ("lastjid", last), "jid", flags=D)["jid"])
        except Exception:
            break
        seq.append(last)
    assert seq == [5, 6, 999998, 999999]
    # the dying ones are still reachable by their new jids, names unchanged
    assert get(k, 999999, "name", "dying", flags=D) == {"jid": "999999", "name": "5", "dying": "true"}
    # automatic allocation skips them: a third renumbering goes to 999997
    seven = mk(k, "jid=7")
    hold_dying(k, seven)
    mk(k, "jid=7")
    assert k.by_jid(999997).name == "7"


def test_dying_jails_are_never_resurrected(k):
    a = mk(k, "name=web")
    hold_dying(k, a)
    dead = k.by_jid(a)
    serial = dead.serial
    # JAIL_DYING on jail_set is accepted and has no effect
    expect(k, ENOENT, f"jail {a} not found", f"jid={a}", "persist", flags=U | D)
    b = jset(k, "name=web", "persist", flags=CU | D)     # creates a new jail
    assert b != a and k.by_jid(b).state == "alive"
    assert dead.state == "dying" and dead.serial == serial and dead.jid == a
    # allow.dying / allow.nodying are no-ops
    c = mk(k, "name=c", "allow.dying")
    jset(k, "name=c", "allow.nodying", flags=U)
    assert "allow.dying" not in get(k, c)


def test_renumber_happens_only_on_explicit_create(k):
    a = mk(k, "name=a")
    hold_dying(k, a)
    mk(k, "name=b")
    mk(k, "name=a")                               # same name, new jid: no renumbering
    assert k.by_jid(a).state == "dying" and k.lastdeadid == 0
