"""Views (what one prison's processes see) and the index from serials to prisons.

A view is made the first time a process of a prison asks something, or when a
real process is attached to it, and is released when its prison is freed:
nobody can be in a freed prison.  Its index (the ``view`` field of inode
numbers) is then given to the next new view.  That is safe because an inode
number also holds a prison serial, never reused, and every prison below a
freed prison is freed too: no number handed out in the old view can name
anything in the new one.
"""

from __future__ import annotations

import time

from .eventlog import EventLog


class View:
    """What one prison's processes see: that prison as the root."""
    __slots__ = ("index", "root", "log")

    def __init__(self, index: int, root):
        self.index, self.root = index, root
        self.log = EventLog()


class Views:
    def __init__(self, prison0):
        self._by_serial: dict[int, View] = {}
        self._by_index: dict[int, View] = {}
        self._free: list[int] = []
        self._next = 0
        self.host = self.get(prison0)
        # Why a jailed process may walk from the mount's root (ROOT_INODE), or
        # None: until then the host's names there are cached (sharedroot.py)
        self.root_shared: str | None = None

    def __len__(self) -> int:
        return len(self._by_serial)

    def get(self, pr) -> View:
        v = self._by_serial.get(pr.serial)
        if v is None:
            if self._free:
                index = self._free.pop()
            else:
                index, self._next = self._next, self._next + 1
            v = View(index, pr)
            self._by_serial[pr.serial] = v
            self._by_index[index] = v
        return v

    def at(self, index: int) -> View | None:
        return self._by_index.get(index)

    def release(self, pr) -> None:
        """``pr`` was freed: its view (if any) goes, and its index is reused."""
        v = self._by_serial.pop(pr.serial, None)
        if v is not None and v is not self.host:
            del self._by_index[v.index]
            self._free.append(v.index)
            v.log.drop_poll_handles()

    def above(self, pr):
        """The views that see ``pr`` below their root: those of its strict ancestors."""
        anc = pr.parent
        while anc is not None:
            v = self._by_serial.get(anc.serial)
            if v is not None:
                yield v
            anc = anc.parent


class PrisonIndex:
    """serial -> prison, for every prison the kernel has not freed, with the
    time it was made (its files' times) and the name its directory entry was
    last given to the VFS under (so that a rename can drop exactly that entry)."""

    def __init__(self, prison0):
        self.started_ns = time.time_ns()
        self._prisons: dict[int, object] = {}
        self._born: dict[int, int] = {}
        self._told: dict[int, str] = {}
        self.add(prison0)
        for pr in prison0.descendants():
            self.add(pr)

    def __len__(self) -> int:
        return len(self._prisons)

    def add(self, pr) -> None:
        self._prisons[pr.serial] = pr
        self._told[pr.serial] = pr.short
        self._born.setdefault(pr.serial, time.time_ns())

    def get(self, serial: int):
        return self._prisons.get(serial)

    def born(self, pr) -> int:
        return self._born.get(pr.serial, self.started_ns)

    def told_name(self, pr) -> str:
        return self._told.get(pr.serial, pr.short)

    def renamed(self, pr) -> str | None:
        """The old name when ``pr`` was renamed since last told, else None."""
        old = self._told.get(pr.serial)
        if old is None or old == pr.short:
            return None
        self._told[pr.serial] = pr.short
        return old

    def remove(self, pr) -> None:
        self._prisons.pop(pr.serial, None)
        self._born.pop(pr.serial, None)
        self._told.pop(pr.serial, None)

    def check(self, kernel) -> str:
        """'' when this index holds exactly the kernel's prisons."""
        known = {pr.serial for pr in kernel.jids.values()} | {kernel.prison0.serial}
        mine = set(self._prisons)
        if known != mine:
            return (f"fs: prison index disagrees with the kernel: missing "
                    f"{sorted(known - mine)[:5]}, stale {sorted(mine - known)[:5]}")
        return ""


class ParamSizes:
    """The sizes of a directory's parameter files as one view sees them, kept
    for listings until the next kernel event.

    A listing hands the kernel every parameter file's size, and working the
    values out is most of what listing a jail directory costs.  Sizes are kept
    per (view, prison): a value can depend on who asks (``name``, ``parent``).
    They change only through the kernel, whose every event drops them all
    (the kernel's own attribute cache relies on the same: cache.py).  At most
    LIMIT directories are kept; past that the whole store starts over."""

    LIMIT = 4096

    def __init__(self):
        self._sizes: dict[tuple[int, int], tuple[int, ...]] = {}

    def get(self, view, pr) -> tuple[int, ...] | None:
        return self._sizes.get((view.index, pr.serial))

    def put(self, view, pr, sizes: tuple[int, ...]) -> None:
        if len(self._sizes) >= self.LIMIT:
            self._sizes.clear()
        self._sizes[(view.index, pr.serial)] = sizes

    def on_event(self, ev) -> None:
        self._sizes.clear()

    def __len__(self) -> int:
        return len(self._sizes)
