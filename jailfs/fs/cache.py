"""What the VFS may cache, and dropping exactly what a kernel event made wrong.

Attributes and entries get long timeouts (parameter files also keep their
page cache between opens).  The VFS's cache is made exact by invalidation:

* per prison serial, the inode numbers the VFS holds and how many lookups
  of each (lookup, mkdir and every readdir entry add one, forget() takes
  them away).  An event about a prison invalidates the known inodes
  whose answer it changed (see :meth:`Cache.on_event`), in every view at
  once, since a serial is the same in every view's inode numbers.
* entries (a jail's name in its parent directory, ``.dying/N``, ``.jid/N``)
  are dropped by name in every view that sees them.

The kernel is told through pyfuse3.invalidate_inode/invalidate_entry, which
may block until a request it depends on is answered, so they run in a worker
thread, never in a handler.  A handler whose request changed something awaits
that flush before it answers (the event loop keeps serving meanwhile), so a
change that a caller has seen complete is never read stale from any view.
Only the entries of the requesting view's own directory operation, which the
VFS updates itself and whose directories that very request holds locked, are
left to the background task.
"""

from __future__ import annotations

import errno
import logging

import pyfuse3
import trio

from . import inodes as I

log = logging.getLogger("jailfs.fs")

CACHE_TIMEOUT = 3600.0          # seconds; exactness comes from invalidation, not expiry


def _notify(inodes, entries) -> None:
    """Tell the kernel (in a worker thread)."""
    for ino in inodes:
        try:
            pyfuse3.invalidate_inode(ino)
        except OSError as e:
            if e.errno != errno.ENOENT:
                log.warning("invalidate_inode(%d): %s", ino, e)
    for parent, name in entries:
        try:
            pyfuse3.invalidate_entry(parent, name)
        except OSError as e:
            if e.errno != errno.ENOENT:
                log.warning("invalidate_entry(%d, %r): %s", parent, name, e)


class Cache:
    def __init__(self, children_cur_slot: int):
        self._by_serial: dict[int, dict[int, int]] = {}   # serial -> {ino: lookups held}
        self._inodes: set[int] = set()                 # pending invalidations
        self._entries: set[tuple[int, bytes]] = set()
        self._work: trio.Event | None = None
        self._parent_slots = frozenset((I.SLOT_DIR, I.SLOT_REFS))
        self._count_slot = frozenset((children_cur_slot,))

    # ------------------------------------------------------- what the VFS holds
    def counts(self, serial: int) -> dict[int, int]:
        """ino -> lookups the VFS holds, for the inodes of prison ``serial``
        (the caller adds to it for each entry it hands out)."""
        d = self._by_serial.get(serial)
        if d is None:
            d = self._by_serial[serial] = {}
        return d

    def looked_up(self, ino: int) -> None:
        parts = I.split_ino(ino) if ino != pyfuse3.ROOT_INODE else None
        if parts is not None:
            d = self.counts(parts[1])
            d[ino] = d.get(ino, 0) + 1

    def forget(self, ino: int, nlookup: int) -> None:
        parts = I.split_ino(ino)
        d = self._by_serial.get(parts[1]) if parts is not None else None
        n = d.get(ino) if d is not None else None
        if n is None:
            return
        if n > nlookup:
            d[ino] = n - nlookup
            return
        del d[ino]
        if not d:
            del self._by_serial[parts[1]]

    def __len__(self) -> int:
        return sum(len(d) for d in self._by_serial.values())

    # ------------------------------------------------------------- events
    def on_event(self, ev, views, old_name: str | None, told_name: str) -> None:
        """Queue what event ``ev`` (about prison ``ev.prison``) made wrong."""
        pr, kind = ev.prison, ev.kind
        if kind == "attached":
            return                                  # only .refs changed: never cached
        parent = pr.parent
        if parent is not None:                      # its .refs and nlink
            self._slots(parent.serial, self._parent_slots)
        if kind in ("created", "freed"):            # every ancestor's children.cur
            anc = parent
            while anc is not None:
                self._slots(anc.serial, self._count_slot)
                anc = anc.parent
        if kind == "created":
            return
        if kind in ("updated", "renumbered"):       # values below it may follow it
            self._serials(pr.serial)
            for d in pr.descendants():
                self._serials(d.serial)
        else:                                       # removed, dying, freed
            self._serials(pr.serial)
        names = []
        if kind in ("removed", "dying", "freed"):
            names.append(told_name)
        elif old_name is not None:
            names.append(old_name)
        jids = ()
        if kind == "freed":
            jids = (pr.jid,)
        elif kind == "renumbered":
            jids = ((ev.detail or {}).get("old_jid"),)
        for view in views:
            root = view.root
            if names and parent is not root:
                pino = I.make_ino(view.index, parent.serial, I.SLOT_DIR)
                for n in names:
                    self._entries.add((pino, n.encode("utf-8", "surrogateescape")))
            for jid in jids:
                if jid is not None:
                    for slot in (I.SLOT_DOTDYING, I.SLOT_DOTJID):
                        self._entries.add((I.make_ino(view.index, root.serial, slot),
                                           str(jid).encode()))
        self._wake()

    def _slots(self, serial: int, slots) -> None:
        for ino in self._by_serial.get(serial, ()):
            if I.split_ino(ino)[2] in slots:
                self._inodes.add(ino)

    def _serials(self, serial: int) -> None:
        inos = self._by_serial.get(serial)
        if inos:
            self._inodes.update(inos)

    def _wake(self) -> None:
        if self._work is not None and (self._inodes or self._entries):
            self._work.set()

    # ------------------------------------------------------------- flushing
    def _take(self, defer_view: int | None):
        inodes, self._inodes = self._inodes, set()
        if defer_view is None:
            entries, self._entries = self._entries, set()
        else:
            entries = {e for e in self._entries if I.split_ino(e[0])[0] != defer_view}
            self._entries -= entries
        return inodes, entries

    async def settle(self, defer_view: int | None = None) -> None:
        """Flush what the current request changed, before it is answered.
        Entries in view ``defer_view`` wait for the background task."""
        if not (self._inodes or self._entries):
            return
        inodes, entries = self._take(defer_view)
        if inodes or entries:
            await trio.to_thread.run_sync(_notify, inodes, entries)
        self._wake()

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Flush what changed outside any request (a real process ended, a
        timer fired) and what a directory operation left behind."""
        self._work = trio.Event()
        task_status.started()
        while True:
            await self._work.wait()
            self._work = trio.Event()
            inodes, entries = self._take(None)
            if inodes or entries:
                await trio.to_thread.run_sync(_notify, inodes, entries)
