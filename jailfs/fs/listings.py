"""Directory listings: the entries readdir hands the kernel, page by page.

A listing is resumed by the kernel once per page of entries (each readdirplus
reply holds what fits in the reader's buffer), from the cookie of the last
entry it kept.  Every entry carries its attributes, and the kernel counts
each as looked up: so does the filesystem (cache.py needs to know which
inodes the kernel holds, and how many lookups each, to invalidate exactly
what a change made wrong and to follow forget()).

A large host is mostly child jails, so their part of a listing is kept per
(view, directory) as a ``JailEntries``: names already encoded and one
``EntryAttributes`` per child, built once and handed to readdir_reply (which
copies it) as they are.  A kernel event drops exactly the lists it may have
changed (``Listings.on_event``): those of the prison's parent (its names and
its children) and grandparent (the parent's link count).  A list that is
dropped is built again by the next listing.

The lookups a kept list hands out are counted beside it, in a list of small
numbers in the entries' order (what the cache's per-prison tables cost for
each entry was most of a listing of a large root, in memory that a listing
otherwise never touches): the first one in the cache (``Cache.counts``), so
the cache knows the inode is held, the others in ``JailEntries.held`` until
the cache needs the exact number.  It needs it only to follow forget(), and
forget() settles them first (``Listings.forgetting``); a list that is
dropped settles its own.
"""

from __future__ import annotations

import bisect
import functools

import pyfuse3

from jailfs.ops.logs import subscribe_logged

from . import inodes as I
from . import nodes as N

# The child jails kept at most, over all directories (~0.4 KiB each): a
# directory with more children than that is listed without being kept.
KEPT_ENTRIES = 100_000


class JailEntries:
    """The child jails of one directory as one view lists them, in serial
    (cookie) order: ``cookies``, and (name, attributes, serial, inode) each; and
    ``held[i]``: 0 when the cache does not know of entry i from this list,
    else 1 + the lookups of it handed out and not yet added to the cache."""
    __slots__ = ("cookies", "entries", "held")

    def __init__(self, cookies: list[int], entries: list[tuple]):
        self.cookies, self.entries = cookies, entries
        self.held = [0] * len(entries)


NO_JAILS = JailEntries([], [])


class Listings:
    """The kept ``JailEntries``, by directory prison serial, then view index
    and the names' timeout (the mount's root and the host's own root list the
    same jails, with another timeout once the root is shared)."""

    def __init__(self, kernel, cache, prisons, log):
        self._by_dir: dict[int, dict[tuple[int, float], JailEntries]] = {}
        self._kept = 0          # entries in all of them
        self._cache, self._prisons = cache, prisons
        subscribe_logged(kernel, self.on_event, log,
                         kinds=("created", "updated", "removed", "dying", "freed"))

    def __len__(self) -> int:
        """How many lists are kept."""
        return sum(len(kept) for kept in self._by_dir.values())

    def on_event(self, ev) -> None:
        """Drop the lists ``ev`` may have changed: a child's name and whether
        it is listed (created, removed, dying, freed, renamed: the parent's),
        its link count (created, removed, dying, freed: the grandparent's),
        and the prison's own (it is gone, or going)."""
        pr = ev.prison
        if ev.kind == "updated":
            if "name" in ev.detail.get("params", ("name",)) and pr.parent is not None:
                self._drop(pr.parent.serial)        # a rename: the names beside it
            return
        self._drop(pr.serial)
        parent = pr.parent
        if parent is not None:
            self._drop(parent.serial)
            if parent.parent is not None:
                self._drop(parent.parent.serial)

    def _drop(self, serial: int) -> None:
        kept = self._by_dir.pop(serial, None)
        if kept:
            for jails in kept.values():
                self._kept -= len(jails.entries)
                self._settle(jails, range(len(jails.entries)))

    def _settle(self, jails: JailEntries, indexes) -> None:
        """Add the lookups entries ``indexes`` have pending to the cache."""
        held, entries, counts_of = jails.held, jails.entries, self._cache.counts
        for i in indexes:
            more = held[i] - 1
            if more > 0:
                _, _, serial, ino = entries[i]
                counts = counts_of(serial)
                counts[ino] = counts.get(ino, 0) + more
                held[i] = 1

    def forgetting(self, inode_list) -> None:
        """Before the cache follows forget(): the lookups of these inodes
        handed out by kept lists and not yet counted there, and from then on
        the cache is asked again whether it knows of them."""
        if not self._by_dir:
            return
        for ino, _ in inode_list:
            if I.slot_of(ino) != I.SLOT_DIR:
                continue
            parts = I.split_ino(ino)
            pr = self._prisons.get(parts[1]) if parts is not None else None
            kept = self._by_dir.get(pr.parent.serial) if pr is not None and pr.parent else None
            if not kept:
                continue
            cookie = N.CHILD_COOKIE0 + pr.serial
            for (index, _), jails in kept.items():
                i = bisect.bisect_left(jails.cookies, cookie)
                if index == parts[0] and i < len(jails.cookies) and jails.cookies[i] == cookie:
                    self._settle(jails, (i,))
                    jails.held[i] = 0

    def jails(self, fs, view, pr, timeout: float) -> JailEntries | None:
        """``pr``'s child jails as ``view`` lists them, kept; None when there
        are too many to keep."""
        children = pr.children
        if not children:
            return NO_JAILS
        kept = self._by_dir.get(pr.serial)
        found = kept.get((view.index, timeout)) if kept else None
        if found is not None:
            return found
        if len(children) > KEPT_ENTRIES:
            return None
        made = self._make(fs, view, children.values(), timeout)
        if self._kept + len(made.entries) > KEPT_ENTRIES:
            for serial in list(self._by_dir):
                self._drop(serial)
        self._by_dir.setdefault(pr.serial, {})[(view.index, timeout)] = made
        self._kept += len(made.entries)
        return made

    @staticmethod
    def _make(fs, view, children, timeout: float) -> JailEntries:
        cookies, entries = [], []
        index, cookie0, born = view.index, N.CHILD_COOKIE0, fs.prisons.born
        dir_mode, attr_timeout = N.JAIL_DIR.ftype | N.JAIL_DIR.perm, N.JAIL_DIR.attr_timeout
        for c in children:
            name = N.JailTree.child_name(c)
            if name is None:
                continue
            serial = c.serial
            a = pyfuse3.EntryAttributes()   # what fs.attr() answers for this directory
            a.st_ino = ino = I.make_ino(index, serial, I.SLOT_DIR)
            a.entry_timeout, a.attr_timeout = timeout, attr_timeout
            a.st_mode = dir_mode
            a.st_nlink = 2 + (len(c.alive_names) if c.alive_names else 0)
            a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = born(c)
            cookies.append(cookie0 + serial)
            entries.append((name.encode("utf-8", "surrogateescape"), a, serial, ino))
        return JailEntries(cookies, entries)


def fixed_entry_attr(fs, view, cookie: int, node, timeout: float):
    """The attributes of a fixed entry (``.``, ``..``, dot files, .refs).  Of
    ``.`` and ``..`` the kernel uses only the number and type.  It never
    answers from attributes with a zero timeout (it asks getattr first), so
    the size of such a file (.refs: the whole text) is not worked out."""
    kind = node.kind
    if cookie > 2:
        return fs.attr(view, node, size=0 if kind.attr_timeout == 0 else None,
                       entry_timeout=timeout)
    a = pyfuse3.EntryAttributes()
    a.st_ino = kind.ino(fs, view, node)
    a.st_mode = kind.ftype | kind.perm
    return a


@functools.cache
def _encoded(names: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(n.encode() for n in names)


def list_params(fs, view, pkind, pr, start_id: int, token, timeout: float) -> bool:
    """The parameter files from the one after ``start_id``; False when the
    reply is full."""
    names = fs.param_names
    encoded = _encoded(names)
    first = max(0, start_id - N.PARAM_COOKIE0 + 1)
    sizes = fs.param_sizes.get(view, pr)
    if sizes is None:
        vals = fs.values(view, pr, names)
        sizes = tuple([(len(v) if v.isascii() else len(v.encode("utf-8", "surrogateescape")))
                       + 1 for v in map(vals.__getitem__, names)])
        fs.param_sizes.put(view, pr, sizes)
    a = fs.attr(view, N.Node(pkind, pr, names[first]), size=0, entry_timeout=timeout)
    ino0 = a.st_ino - first
    modes = fs._param_modes if pkind is N.PARAM and pr is not view.root else None
    counts = fs.cache.counts(pr.serial)
    reply = pyfuse3.readdir_reply
    for i in range(first, len(names)):
        a.st_ino = ino = ino0 + i
        a.st_size = size = sizes[i]
        a.st_blocks = (size + 511) >> 9
        if modes is not None:
            a.st_mode = modes[i]
        if not reply(token, encoded[i], a, N.PARAM_COOKIE0 + i):
            return False
        counts[ino] = counts.get(ino, 0) + 1
    return True


def list_jails(fs, h, start_id: int, token, timeout: float) -> None:
    """Child jails with a cookie after ``start_id``, in serial order: a jail
    renamed since the listing began under its new name, a removed one not at
    all, one made since not at all (a name removed and made again would be
    listed twice)."""
    view, node = h.view, h.node
    if start_id == 0:
        h.last = None
    kept = fs.listings.jails(fs, view, node.pr, timeout)
    if kept is None:
        _list_children(fs, h, start_id, token, timeout)
        return
    cookies, entries = kept.cookies, kept.entries
    if h.last is None:
        h.last = cookies[-1] if cookies else 0
    end = bisect.bisect_right(cookies, h.last)
    counts_of, held = fs.cache.counts, kept.held
    reply = pyfuse3.readdir_reply
    for i in range(bisect.bisect_right(cookies, start_id), end):
        e = entries[i]          # not unpacked: each object named would be touched
        if not reply(token, e[0], e[1], cookies[i]):
            return
        n = held[i]
        if n:
            held[i] = n + 1
        else:
            counts = counts_of(e[2])
            counts[e[3]] = counts.get(e[3], 0) + 1
            held[i] = 1


def _list_children(fs, h, start_id: int, token, timeout: float) -> None:
    """list_jails for a directory with too many children to keep: those of
    the listing's start, as they are now."""
    view, node = h.view, h.node
    if start_id == 0 or h.entries is None:
        children = node.kind.children(node)
        if h.last is not None:
            children = children[:bisect.bisect_right(children, h.last, key=N.child_cookie)]
        h.entries = children
        if h.last is None:
            h.last = N.child_cookie(children[-1]) if children else 0
    children = h.entries
    at = bisect.bisect_right(children, start_id, key=N.child_cookie)
    if at >= len(children):
        return
    a = fs.attr(view, N.Node(N.JAIL_DIR, children[at]), entry_timeout=timeout)
    # make_ino is linear in the serial; the last (largest) serial is
    # checked against the inode space once, here
    I.make_ino(view.index, children[-1].serial, I.SLOT_DIR)
    ino0, shift = I.make_ino(view.index, 0, I.SLOT_DIR), I.SLOT_BITS
    cookie0 = N.CHILD_COOKIE0
    born = fs.prisons.born
    counts_of = fs.cache.counts
    reply = pyfuse3.readdir_reply
    child_name = N.JailTree.child_name
    for i in range(at, len(children)):
        c = children[i]
        name = child_name(c)
        if name is None:
            continue
        serial = c.serial
        a.st_ino = ino = ino0 + (serial << shift)
        a.st_nlink = 2 + (len(c.alive_names) if c.alive_names else 0)
        a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = born(c)
        if not reply(token, name.encode("utf-8", "surrogateescape"), a, cookie0 + serial):
            return
        counts = counts_of(serial)
        counts[ino] = counts.get(ino, 0) + 1


def list_jid_entries(fs, view, kind, entries, at: int, token, timeout: float) -> None:
    """``.jid`` and ``.dying``: one entry per jid, from snapshot index ``at``."""
    looked_up = fs.cache.looked_up
    for i in range(at, len(entries)):
        cookie, name, c = entries[i]
        name = kind.listed(view, c, name)
        if name is None:
            continue
        a = fs.attr(view, N.Node(kind.entries, c), entry_timeout=timeout)
        if not pyfuse3.readdir_reply(token, name.encode(), a, cookie):
            return
        looked_up(a.st_ino)
