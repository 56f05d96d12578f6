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

Telling the kernel (pyfuse3.invalidate_inode/invalidate_entry) costs a
worker-thread hop (~80-110 us) only where it must:

* page cache: an inode may hold pages only if a descriptor able to read it
  (keep_cache, or mmap of a readable one) was open since its cache was last
  dropped; dropping pages may wait for a read in flight, so those inodes are
  invalidated in a worker thread.  Linux drops an inode's pages itself when a
  descriptor is opened without keep_cache (fs/fuse/file.c fuse_open:
  truncate_pagecache for O_TRUNC, else invalidate_inode_pages2), so
  ``echo x > file`` leaves nothing to drop.
* attributes only (notify_inval_inode with a negative offset: no page lock,
  nothing that waits for a request when the inode has no pages in flight) are
  told inline, on the event loop.  Kinds whose attributes are never cached
  (.refs, .events) are not told at all.
* entries: invalidate_entry may wait on the directory's lock, so they go to
  the thread, and only for a name whose inode the VFS holds (a cached name
  pins its inode; no negative names are given out).

A handler whose request changed something settles before it answers (the
event loop keeps serving meanwhile), so a change that a caller has seen
complete is never read stale from any view.  The exception: a directory
operation (mkdir, rmdir, rename) leaves its entry invalidations to the
background task, since its caller holds directory locks that they may need;
the VFS updates the requesting view's own entries itself, and another view's
stale entry leads to an inode whose attributes were invalidated before the
answer (a removed jail's is then ENOENT).
"""

from __future__ import annotations

import errno
import logging
import time

import pyfuse3
import trio

from . import inodes as I

log = logging.getLogger("jailfs.fs")

CACHE_TIMEOUT = 3600.0          # seconds; exactness comes from invalidation, not expiry
# .dying/N and .jid/N: (the directory's slot, the slot of the entry's inode)
DOT_ENTRIES = ((I.SLOT_DOTDYING, I.SLOT_DYINGDIR), (I.SLOT_DOTJID, I.SLOT_JIDLINK))
RETRY_FOR = 1.0                 # seconds an unknown held inode is told again ...
RETRY_AFTER = 0.002             # ... at least this often (and before every request)
_SLOT_MASK = (1 << I.SLOT_BITS) - 1
_SERIAL_MASK = (1 << I.SERIAL_BITS) - 1


def _invalidate_inodes(inodes, attr_only: bool) -> list[int]:
    """Tell the kernel; -> the inodes it did not know (ENOENT)."""
    unknown = []
    for ino in inodes:
        try:
            pyfuse3.invalidate_inode(ino, attr_only)
        except OSError as e:
            if e.errno == errno.ENOENT:
                unknown.append(ino)
            else:
                log.warning("invalidate_inode(%d): %s", ino, e)
    return unknown


def _notify(inodes, entries) -> list[int]:
    """Tell the kernel what may wait for a request (in a worker thread);
    -> the inodes it did not know."""
    unknown = _invalidate_inodes(inodes, False)
    for parent, name in entries:
        try:
            pyfuse3.invalidate_entry(parent, name)
        except OSError as e:
            if e.errno != errno.ENOENT:
                log.warning("invalidate_entry(%d, %r): %s", parent, name, e)
    return unknown


class Cache:
    def __init__(self, children_cur_slot: int, uncached_slots=frozenset()):
        self._by_serial: dict[int, dict[int, int]] = {}   # serial -> {ino: lookups held}
        self._attrs: set[int] = set()                  # pending: attributes only (inline)
        self._inodes: set[int] = set()                 # pending: with page cache (thread)
        self._entries: set[tuple[int, bytes]] = set()  # pending: names (thread)
        self._readers: dict[int, int] = {}             # ino -> open descriptors that can read
        self._paged: set[int] = set()                  # inodes that may hold page cache
        self._uncached = frozenset(uncached_slots)     # slots whose attributes are never cached
        self._work: trio.Event | None = None
        # Inodes we count as held that the kernel did not know when told: a
        # reply naming them (lookup, readdirplus) was on its way, and the inode
        # it makes would keep the old attributes.  Told again until it knows them.
        self.retry: dict[int, float] = {}           # ino -> until when (monotonic)
        self.settling = False       # a handler will settle before it answers: no wake-up
        # (view index, serial) whose name the current rmdir removes in that view:
        # the VFS drops that dentry itself, so it is not invalidated again
        self.unlinked: tuple[int, int] | None = None
        # directories the current request's caller holds locked (rmdir: the
        # removed one; rename: the parent): their names go to the background
        # task, every other name is told before the answer (settle)
        self.locked: frozenset[int] = frozenset()
        self._settled_serials: set[int] = set()   # queued whole by this request already
        self._parent_slots = frozenset((I.SLOT_DIR, I.SLOT_REFS))
        # an update leaves every directory's attributes as they were (mode and
        # times are fixed, nlink counts live children): not told
        self._kept = self._uncached | {I.SLOT_DIR, I.SLOT_DYINGDIR}
        self._count_slot = frozenset((children_cur_slot,))

    # ------------------------------------------------------- what the VFS holds
    def counts(self, serial: int) -> dict[int, int]:
        """ino -> lookups the VFS holds, for the inodes of prison ``serial``
        (the caller adds to it for each entry it hands out)."""
        d = self._by_serial.get(serial)
        if d is None:
            d = self._by_serial[serial] = {}
        return d

    def held(self, serial: int):
        """The inodes of prison ``serial`` the VFS holds (a view of them: read only)."""
        return self._by_serial.get(serial, ())

    def looked_up(self, ino: int) -> None:
        parts = I.split_ino(ino) if ino != pyfuse3.ROOT_INODE else None
        if parts is not None:
            d = self.counts(parts[1])
            d[ino] = d.get(ino, 0) + 1

    def forget(self, ino: int, nlookup: int) -> None:
        # split_ino's serial, inline: Linux forgets a removed listed jail's ~70
        # inodes at once, one call each
        serial = ((ino - I.INO_BASE) >> I.SLOT_BITS) & _SERIAL_MASK
        d = self._by_serial.get(serial) if ino >= I.INO_BASE else None
        n = d.get(ino) if d is not None else None
        if n is None:
            return
        if n > nlookup:
            d[ino] = n - nlookup
            return
        del d[ino]
        self._paged.discard(ino)                    # evicted, and its pages with it
        if not d:
            del self._by_serial[serial]

    def _held(self, ino: int) -> bool:
        parts = I.split_ino(ino)
        return parts is not None and ino in self._by_serial.get(parts[1], ())

    # ------------------------------------------------------------ page cache
    def opened(self, ino: int, reads: bool, keep_cache: bool) -> None:
        """A descriptor of ``ino`` was opened (before the reply)."""
        if not keep_cache and not self._readers.get(ino):
            self._paged.discard(ino)      # Linux drops its pages once we answer
        if reads:
            self._readers[ino] = self._readers.get(ino, 0) + 1
            self._paged.add(ino)

    def released(self, ino: int) -> None:
        """A descriptor that could read ``ino`` was released."""
        n = self._readers.get(ino, 0) - 1
        if n > 0:
            self._readers[ino] = n
        else:
            self._readers.pop(ino, None)

    def __len__(self) -> int:
        return sum(len(d) for d in self._by_serial.values())

    # ------------------------------------------------------------- events
    def on_event(self, ev, views, old_name: str | None, told_name: str,
                 unchanged=None) -> None:
        """Queue what event ``ev`` (about prison ``ev.prison``) made wrong;
        ``unchanged`` (heldsizes.Unchanged): what an update is known to have
        left with the attributes it had, told only if it may hold pages."""
        pr, kind = ev.prison, ev.kind
        if kind == "attached":
            return                                  # only .refs changed: never cached
        # rmdir's removed, dying and freed come in one request: what the first
        # queued (the jail's inodes, its parent's, its name) is not queued again
        again = self.settling and kind in ("dying", "freed") and \
            pr.serial in self._settled_serials
        if again and kind == "dying":
            return
        parent = pr.parent
        changed = kind in ("updated", "renumbered")
        if parent is not None and not changed and not again:    # its .refs and nlink
            self._slots(parent.serial, self._parent_slots, views)
        if kind in ("created", "freed"):            # every ancestor's children.cur
            anc = parent
            while anc is not None:
                self._slots(anc.serial, self._count_slot, views)
                anc = anc.parent
        if kind == "created":
            return
        if changed:                                 # values below it may follow it
            if unchanged is None:
                self._serials(pr.serial, self._kept)
                for d in pr.descendants():
                    self._serials(d.serial, self._kept)
            else:
                self._serials(pr.serial, self._kept | unchanged.own, unchanged.same)
                below = self._kept | unchanged.below
                for d in pr.descendants():
                    self._serials(d.serial, below, unchanged.same)
        elif not again:                             # removed, dying, freed
            self._serials(pr.serial, gone=True)
        names = []
        if kind in ("removed", "dying", "freed") and not again:
            names.append(told_name)
        elif old_name is not None:
            names.append(old_name)
        jids = ()
        if kind == "freed":
            jids = (pr.jid,)
        elif kind == "renumbered":
            jids = ((ev.detail or {}).get("old_jid"),)
        # A cached name pins its inode, which the VFS then holds: a name whose
        # inode is not held is not cached (no negative entries are given out).
        held = self._by_serial.get(pr.serial) if names or jids else None
        if not held:
            self._wake()
            return
        for view in views:
            root = view.root
            if names and I.make_ino(view.index, pr.serial, I.SLOT_DIR) in held \
                    and self.unlinked != (view.index, pr.serial):
                # the parent's directory; for the view's root that is V(view),
                # and for the host's also ROOT_INODE, where the host's names
                # may be cached too (sharedroot.py)
                pinos = [I.make_ino(view.index, parent.serial, I.SLOT_DIR)]
                if parent is root and root.parent is None:
                    pinos.append(pyfuse3.ROOT_INODE)
                for pino in pinos:
                    for n in names:
                        self._entries.add((pino, n.encode("utf-8", "surrogateescape")))
            for jid in jids:
                if jid is not None:
                    for dir_slot, entry_slot in DOT_ENTRIES:
                        if I.make_ino(view.index, pr.serial, entry_slot) in held:
                            self._entries.add((I.make_ino(view.index, root.serial, dir_slot),
                                               str(jid).encode()))
        self._wake()

    def drop_names(self, parent: int, names) -> None:
        """Queue the names of directory ``parent`` whose inodes the VFS holds,
        from (name, inode) pairs: a directory whose names stop being cached."""
        for name, ino in names:
            if self._held(ino):
                self._entries.add((parent, name.encode("utf-8", "surrogateescape")))
        self._wake()

    def _slots(self, serial: int, slots, views) -> None:
        """Queue the held inodes of prison ``serial`` in ``slots``: in each of
        ``views`` (those above the event's prison, so every view that can see
        ``serial``), computed, not found by a walk over all it holds."""
        held = self._by_serial.get(serial)
        if not held:
            return
        for view in views:
            for slot in slots:
                ino = I.make_ino(view.index, serial, slot)
                if ino in held:
                    self._queue(ino)

    def _serials(self, serial: int, same_slots=None, same=frozenset(), gone: bool = False) -> None:
        """Queue the held inodes of prison ``serial``.  ``gone``: its files
        went for good (it was removed, or a dying jail's were freed; a number
        never comes back), so a lookup or open of any of them will fail:
        dropping attributes is enough, pages are never read through a path
        again, and no worker-thread hop is awaited for them.  ``same_slots``
        and ``same``: slots and inodes an update left as they were, skipped
        unless they may hold pages (on_event's ``unchanged``)."""
        if self.settling:
            # one request's events (rmdir: removed, dying, freed) come while its
            # handler runs, no other request between them: once is enough (once
            # all of them are queued: not when some were left as unchanged)
            if serial in self._settled_serials:
                return
            if same_slots is None:
                self._settled_serials.add(serial)
        inos = self._by_serial.get(serial)
        if not inos:
            return
        if gone or self._paged.isdisjoint(inos):  # the common case, in bulk
            if gone:
                self._paged.difference_update(inos)
            skip = self._uncached if same_slots is None else same_slots
            base, mask = I.INO_BASE, _SLOT_MASK          # slot_of, inline: a listed jail holds ~70
            self._attrs.update([ino for ino in inos
                                if (ino - base) & mask not in skip and ino not in same])
            return
        skip = () if same_slots is None else same_slots
        for ino in inos:
            if ino in self._paged or (I.slot_of(ino) not in skip and ino not in same):
                self._queue(ino)

    def _queue(self, ino: int) -> None:
        if ino in self._paged:
            self._inodes.add(ino)
            if not self._readers.get(ino):
                self._paged.discard(ino)  # a new reader's open marks it again
        elif I.slot_of(ino) not in self._uncached:
            self._attrs.add(ino)

    def _wake(self) -> None:
        if self._work is not None and not self.settling and \
                (self._attrs or self._inodes or self._entries):
            self._work.set()

    def _tell_attrs(self) -> None:
        attrs, self._attrs = self._attrs, set()
        self._unknown(_invalidate_inodes(attrs - self._inodes, True))

    def _unknown(self, inodes) -> None:
        until = time.monotonic() + RETRY_FOR
        for ino in inodes:
            if self._held(ino):
                self.retry.setdefault(ino, until)

    def tell_again(self) -> None:
        """Attributes of the inodes the kernel did not know yet (inline: an
        attribute-only invalidation takes no lock a request holds)."""
        pending, self.retry = self.retry, {}
        unknown = set(_invalidate_inodes(pending, True))
        now = time.monotonic()
        for ino, until in pending.items():
            if ino in unknown and now < until and self._held(ino):
                self.retry[ino] = until

    # ------------------------------------------------------------- flushing
    async def settle(self, entries: bool) -> None:
        """Flush the pending invalidations before the current request is
        answered: all of them, or (``entries`` false) the inodes only, the
        entries being left to the background task."""
        self.settling = False
        self._settled_serials.clear()
        await self._flush(entries)
        self._wake()

    async def _flush(self, entries: bool) -> None:
        self._tell_attrs()
        inodes, self._inodes = self._inodes, set()
        names = set()
        if entries and self.locked:
            names = {e for e in self._entries if e[0] not in self.locked}
            self._entries -= names
        elif entries:
            names, self._entries = self._entries, set()
        if inodes or names:
            self._unknown(await trio.to_thread.run_sync(_notify, inodes, names))

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Flush what changed outside any request (a real process ended, a
        timer fired) and what a directory operation left behind."""
        self._work = trio.Event()
        task_status.started()
        while True:
            if self.retry:
                with trio.move_on_after(RETRY_AFTER):
                    await self._work.wait()
                self.tell_again()
                if not self._work.is_set():
                    continue
            else:
                await self._work.wait()
            self._work = trio.Event()
            self.locked = frozenset()       # no request is being answered here
            await self._flush(True)
