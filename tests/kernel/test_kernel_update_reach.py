"""update_reach: what a JAIL_UPDATE of some parameters can change, checked
against every value of the jail and of its descendants before and after
(the filesystem leaves every other cached file alone: fs/heldsizes.py)."""

import pytest

from kutil import U, host, jset, mk
from jailfs.kernel import update_reach

# (parameter set as given, value): each applied in turn to "top", whose subtree
# has a jail that inherits its host names and one with its own.
UPDATES = [
    ("host.hostname", "top.example"), ("host.hostname", "a-much-longer-host-name"),
    ("host.domainname", "example.org"), ("host.hostuuid", "00000000-0000-0000-0000-00000000000a"),
    ("host.hostid", "77"), ("securelevel", "2"), ("securelevel", "3"),
    ("children.max", "1"), ("children.max", "0"), ("enforce_statfs", "1"),
    ("enforce_statfs", "2"), ("devfs_ruleset", "5"), ("allow.mount", None),
    ("allow.nomount", None), ("allow.raw_sockets", "true"), ("allow.raw_sockets", "false"),
    ("allow.noset_hostname", None), ("nopersist", None), ("persist", None),
]


def _values(k, prs):
    names = list(k.param_names())
    return {pr.serial: k.get_values(k.prison0, pr, names) for pr in prs}


def test_an_update_changes_no_value_outside_its_reach(k):
    top = mk(k, "name=top", "children.max=5", "allow.mount", "allow.raw_sockets",
             "enforce_statfs=0")
    mk(k, "name=top.same", "host=inherit", "children.max=3", "allow.mount", "enforce_statfs=0")
    mk(k, "name=top.own", "host.hostname=own", "children.max=2")
    mk(k, "name=top.same.deep", "host=inherit")
    k.spawn(top)                                    # nopersist leaves it alive
    pr = k.by_jid(top)
    subtree = [pr, *pr.descendants()]
    seen_below = set()
    for name, value in UPDATES:
        reach = update_reach([name])
        assert reach is not None, name
        before = _values(k, subtree)
        jset(k, f"jid={top}", name if value is None else f"{name}={value}", flags=U)
        after = _values(k, subtree)
        for d in subtree:
            changed = {n for n in after[d.serial] if after[d.serial][n] != before[d.serial][n]}
            allowed = reach[0] if d is pr else reach[1]
            assert changed <= allowed, (name, value, d.name, changed - allowed)
            if d is not pr:
                seen_below |= changed
        assert pr.state == "alive"
    # the subtree really followed: the descendants' part of the reach is needed
    assert {"host.hostname", "securelevel", "children.max", "enforce_statfs", "allow.mount",
            "devfs_ruleset"} <= seen_below


@pytest.mark.parametrize("names", [["name"], ["ip4.addr"], ["allow.sysvipc"], ["vnet"],
                                   ["linux.osname"], ["meta.x"], ["sysvshm"], ["host"],
                                   ["securelevel", "path"], ["nonsense"]])
def test_updates_it_cannot_bound_have_no_reach(names):
    assert update_reach(names) is None


def test_reach_is_the_union_of_what_is_given():
    own, below = update_reach(["securelevel", "nopersist", "host.hostname"])
    assert own == {"securelevel", "persist", "host.hostname", "host"}
    assert below == {"securelevel", "host.hostname"}
