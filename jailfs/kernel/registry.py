"""allprison: the registry of every existing jail, by jid and in jid order, its name
lookups, and jid allocation (kern_jail.c get_next_prid, get_next_deadid)."""

from __future__ import annotations

import bisect
import itertools
from errno import EAGAIN, ENOENT

from .errors import JailError
from .params import JAIL_MAX
from .prison import ALIVE, Caller, Prison


class SortedJids:
    """allprison's order: every existing jid, ascending, kept in blocks of about a
    thousand so that inserting and deleting stay cheap (one flat sorted list moves
    up to 8 MB of pointers per delete at a million jails)."""

    LOAD = 1000

    def __init__(self) -> None:
        self._blocks: list[list[int]] = []
        self._maxes: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __iter__(self):
        for block in self._blocks:
            yield from block

    def last(self) -> int | None:
        return self._maxes[-1] if self._maxes else None

    def add(self, jid: int) -> None:
        self._len += 1
        if not self._blocks:
            self._blocks.append([jid])
            self._maxes.append(jid)
            return
        i = bisect.bisect_left(self._maxes, jid)
        if i == len(self._maxes):
            i -= 1
            self._blocks[i].append(jid)
            self._maxes[i] = jid
        else:
            bisect.insort(self._blocks[i], jid)
        block = self._blocks[i]
        if len(block) > 2 * self.LOAD:
            self._blocks[i:i + 1] = [block[:self.LOAD], block[self.LOAD:]]
            self._maxes[i:i + 1] = [block[self.LOAD - 1], block[-1]]

    def remove(self, jid: int) -> None:
        i = bisect.bisect_left(self._maxes, jid)
        block = self._blocks[i]
        del block[bisect.bisect_left(block, jid)]
        self._len -= 1
        if block:
            self._maxes[i] = block[-1]
        else:
            del self._blocks[i]
            del self._maxes[i]

    def after(self, jid: int):
        """The jids greater than jid, ascending."""
        i = bisect.bisect_right(self._maxes, jid)
        if i < len(self._blocks):
            block = self._blocks[i]
            yield from itertools.islice(block, bisect.bisect_right(block, jid), None)
            for j in range(i + 1, len(self._blocks)):
                yield from self._blocks[j]


class JidRegistry:
    """The Kernel's jid index (a mixin: the state lives on the Kernel)."""

    jids: dict[int, Prison]
    _sorted_jids: SortedJids
    lastprid: int
    lastdeadid: int

    # ================================================================ reading
    def by_jid(self, jid: int) -> Prison | None:
        return self.jids.get(jid)

    @staticmethod
    def visible(viewer: Prison, pr: Prison) -> bool:
        return pr.is_descendant_of(viewer)

    @staticmethod
    def relname(viewer: Prison, pr: Prison) -> str:
        return pr.relname(viewer)

    def lookup(self, caller: Caller, relname: str, dying: bool = False) -> Prison:
        """prison_find_name: an ALIVE match first, else (with dying) a dying one."""
        pr = self.find_name(caller.prison, relname)
        if pr is None or (pr.state != ALIVE and not dying):
            what = "not found" if pr is None else "is dying"
            raise JailError(ENOENT, f'jail "{relname}" {what}', "jail_get")
        return pr

    @staticmethod
    def alive_named(top: Prison, relname: str) -> Prison | None:
        """The ALIVE jail ``relname`` below top (ALIVE all the way down), or None."""
        pr = top
        for part in relname.split("."):
            pr = pr.alive_names.get(part) if pr.alive_names else None
            if pr is None:
                return None
        return pr

    def find_name(self, top: Prison, relname: str) -> Prison | None:
        """prison_find_name below top: an ALIVE match, else the last dying one (or None)."""
        pr = self.alive_named(top, relname)
        if pr is not None:
            return pr
        # Only a dying jail can match now (a live one's ancestors are all live,
        # so the walk above finds it): look among the dying, not every jail.
        dying = [d for d in self.dying.values()
                 if d.is_descendant_of(top) and d.relname(top) == relname]
        if len(dying) < 2:
            return dying[0] if dying else None
        # Several: FreeBSD's walk over every descendant keeps the last match.
        parts = relname.split(".")
        frontier = [top]
        for part in parts:
            frontier = [c for p in frontier for c in p.newest_first() if c.short == part]
        return frontier[-1] if frontier else None

    def jails_below(self, viewer: Prison, dying: bool = False) -> list[Prison]:
        """Every descendant of viewer in jid order (allprison order); dying ones with dying."""
        if viewer.parent is None:                  # prison0: every jail, allprison is in order
            jids = self.jids
            return [jids[jid] for jid in self._sorted_jids
                    if dying or jids[jid].state == ALIVE]
        below = [pr for pr in viewer.descendants() if dying or pr.state == ALIVE]
        below.sort(key=lambda pr: pr.jid)          # a jail's subtree, not all of allprison
        return below

    def dying_below(self, viewer: Prison) -> list[Prison]:
        """The dying descendants of viewer in jid order (from the dying index:
        as many as there are, not a walk over every jail)."""
        everything = viewer.parent is None
        below = [pr for pr in self.dying.values() if everything or pr.is_descendant_of(viewer)]
        below.sort(key=lambda pr: pr.jid)
        return below

    # ============================================================ jid allocation
    def _next_prid(self) -> int:
        cand = self.lastprid % JAIL_MAX + 1
        last = self._sorted_jids.last()
        if last is None or last < cand:
            jid = cand
        else:
            jid = next((j for j in itertools.chain(range(cand, JAIL_MAX + 1),
                                                   range(1, self.lastprid + 1))
                        if j not in self.jids), 0)
            if jid == 0:
                raise JailError(EAGAIN, "no available jail IDs")
        self.lastprid = jid
        return jid

    def _next_deadid(self) -> int:
        start = self.lastdeadid - 1 if self.lastdeadid else JAIL_MAX
        order = itertools.chain(range(start, 0, -1),
                                range(JAIL_MAX, self.lastdeadid - 1, -1) if self.lastdeadid else ())
        jid = next((j for j in order if j not in self.jids), 0)
        if jid == 0:
            raise JailError(EAGAIN, "no available jail IDs")
        return jid

    def _renumber(self, dead: Prison, new_jid: int) -> None:
        old = dead.jid
        self._unindex(dead)
        dead.jid = new_jid
        self._index(dead)
        self.lastdeadid = new_jid
        self.emit("renumbered", dead, old_jid=old)

    def _index(self, pr: Prison) -> None:
        self.jids[pr.jid] = pr
        self._sorted_jids.add(pr.jid)

    def _unindex(self, pr: Prison) -> None:
        del self.jids[pr.jid]
        self._sorted_jids.remove(pr.jid)

