"""Dependencies between the jails of a configuration (FreeBSD's
usr.sbin/jail/state.c: dep_setup, dep_add, dep_done).

A jail depends on each jail named in its ``depend`` parameter, and lightly
on its parent (``a`` for ``a.b``) when the parent is in the file: a light
dependency orders creation but is skipped when the parent already runs.
:class:`Dependencies` builds these edges once, marks jails that depend on an
undefined jail or sit in a loop as failed (with jail(8)'s warnings), and
gives the order in which the jails can be started (removal is the reverse).
It serves ``jailfs mount --conf`` and jail(8) alike.
"""

from __future__ import annotations

from collections import deque

from .config import CfJail


class Dependencies:
    """The dependency graph of ``jails`` (config jails, in file order).
    Warnings go to ``sink`` as ``NAME: message`` in FreeBSD's order."""

    def __init__(self, jails: list[CfJail], sink: list[str]):
        self.jails = jails
        by_name = {j.name: j for j in jails}
        # (jail, light) pairs, each list in the order dep_setup adds edges
        self._deps: dict[CfJail, list[tuple[CfJail, bool]]] = {j: [] for j in jails}
        self._dependents: dict[CfJail, list[tuple[CfJail, bool]]] = {
            j: [] for j in jails}
        for j in jails:
            if j.failed:
                continue
            for d in j.strings("depend"):
                dj = by_name.get(d)
                if dj is None:
                    j.warn(f'depends on undefined jail "{d}"', sink)
                    j.failed = True
                else:
                    self._add(j, dj, light=False)
            dot = j.name.rfind(".")
            if dot >= 0 and j.name[:dot] in by_name:
                self._add(j, by_name[j.name[:dot]], light=True)
        self.start_order = self._order(sink)

    def _add(self, j: CfJail, dj: CfJail, light: bool) -> None:
        self._deps[j].append((dj, light))
        self._dependents[dj].append((j, light))

    def deps_of(self, j: CfJail) -> list[tuple[CfJail, bool]]:
        """The (jail, light) pairs ``j`` depends on."""
        return self._deps.get(j, [])

    def dependents_of(self, j: CfJail) -> list[tuple[CfJail, bool]]:
        """The (jail, light) pairs that depend on ``j``."""
        return self._dependents.get(j, [])

    def _order(self, sink: list[str]) -> list[CfJail]:
        """dep_setup's loop search: take the ready jails (no unmet
        dependency) in queue order; when only waiting jails remain, the
        first of them is in (or behind) a loop: warn, fail it, go on.
        The order jails leave the ready queue is a start order."""
        waiting = {j: len(self._deps[j]) for j in self.jails}
        ready = deque(j for j in self.jails if not waiting[j])
        blocked = deque(j for j in self.jails if waiting[j])
        order: list[CfJail] = []
        while len(order) < len(self.jails):
            if not ready:
                while not waiting[blocked[0]]:    # released meanwhile
                    blocked.popleft()
                j = blocked.popleft()
                j.warn("dependency loop", sink)
                j.failed = True
                waiting[j] = 0
            else:
                j = ready.popleft()
            order.append(j)
            for dj, _ in self._dependents[j]:
                waiting[dj] -= 1
                if waiting[dj] == 0:
                    ready.append(dj)
        return order
