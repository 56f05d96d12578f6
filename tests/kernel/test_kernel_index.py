"""The blocked sorted jid index behind allprison order (lastjid iteration, jls order)."""

import random

from jailfs.kernel.registry import SortedJids


def test_sorted_jids_matches_a_sorted_set(monkeypatch):
    monkeypatch.setattr(SortedJids, "LOAD", 3)          # tiny blocks: many splits and merges
    rnd = random.Random(5)
    for _ in range(200):
        s, ref = SortedJids(), set()
        for _ in range(rnd.randint(0, 150)):
            x = rnd.randint(1, 60)
            if x in ref and rnd.random() < 0.6:
                s.remove(x)
                ref.discard(x)
            elif x not in ref:
                s.add(x)
                ref.add(x)
            assert list(s) == sorted(ref) and len(s) == len(ref)
            q = rnd.randint(0, 61)
            assert list(s.after(q)) == [y for y in sorted(ref) if y > q]
            assert s.last() == (max(ref) if ref else None)
