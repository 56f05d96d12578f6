"""The shortcuts of jail_set and jail_remove give what the long way gives."""

import random

from jailfs.kernel import JAIL_CREATE, Caller, JailError, Kernel
from jailfs.kernel.jail_set import equalopts, sanitize


def test_sanitize_matches_the_pairwise_walk():
    parts = ["a", "noa", "b", "nob", "no", "nono", "x.y", "nox", "allow", "mount", "nomount", ""]
    rnd = random.Random(1)
    for _ in range(20_000):
        names = [".".join(rnd.choice(parts) for _ in range(rnd.randint(1, 3)))
                 for _ in range(rnd.randint(0, 6))]
        slow = [i for i, n in enumerate(names) if not any(equalopts(n, later) for later in names[i + 1:])]
        assert sanitize(names) == slow, names


def test_removing_a_parent_signals_the_processes_of_its_dying_children_again():
    """jail_remove kills every running process of the subtree, dying jails' included,
    even when the alive jails themselves have none."""
    k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    signalled = []
    k.signal_real = signalled.append
    top = k.jail_set(host, [("name", "top"), ("persist", None)], JAIL_CREATE)
    kid = k.jail_set(host, [("name", "top.kid"), ("persist", None)], JAIL_CREATE)
    k.spawn(kid, real_pid=777)
    k.jail_remove(host, kid)
    assert signalled == [777] and k.by_jid(kid).state == "dying"
    k.jail_remove(host, top)
    assert signalled == [777, 777]
    k.check_invariants()


def test_jails_below_is_the_allprison_scan():
    """jails_below walks the viewer's subtree (prison0: allprison without the descendant
    test) and gives what filtering every jail in jid order gives."""
    k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    rnd = random.Random(7)
    for step in range(300):
        alive = [pr for pr in k.jids.values() if pr.state == "alive"]
        if alive and rnd.random() < 0.25:
            doomed = rnd.choice(alive)
            if rnd.random() < 0.5:                  # a lingering process keeps it dying
                k.spawn(doomed.jid, real_pid=1000 + step)
            k.jail_remove(host, doomed.jid)
        else:
            parent = rnd.choice([k.prison0] + alive)
            name = f"j{step}" if parent is k.prison0 else f"{parent.name}.j{step}"
            jid = str(rnd.randint(1, 400)) if rnd.random() < 0.5 else "0"
            try:
                k.jail_set(host, [("name", name), ("persist", None), ("jid", jid)], JAIL_CREATE)
            except JailError:               # a jid taken: refused, nothing changed
                pass
        for viewer in [k.prison0] + list(k.jids.values()):
            for dying in (False, True):
                scan = [k.jids[j] for j in sorted(k.jids)
                        if (dying or k.jids[j].state == "alive") and k.jids[j].is_descendant_of(viewer)]
                assert k.jails_below(viewer, dying) == scan
    assert any(pr.state == "dying" for pr in k.jids.values())
