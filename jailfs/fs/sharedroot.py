"""The mount's root, ROOT_INODE, which every view shares: whether the names
in it may be cached for the host.

What a name there means depends on who asks, and the dentry cache has one
entry per name for everyone.  So its names are cached (CACHE_TIMEOUT) for
the host only, and only while no jailed process can walk from the root: no
confined jail ever holds it (jailfs/host/anchor.py), but a process attached
without confinement (``.ctl attach``, or ``enter`` where jails do not
confine: jailfs/ctl_real.py ``unconfined_hooks``) keeps the host's tree.
From the first such event on, for the mount's life, the root is *shared*:
its names are given with timeout 0 again, and those the VFS holds are
dropped before the request that caused it is answered (a ``.ctl`` write
settles them: operations.py ``handler``).  A request on ROOT_INODE from a
jailed caller is proof of a way there nobody foresaw: it shares the root too,
with a warning, and is answered as before (its view).
"""

from __future__ import annotations

import logging

import pyfuse3

from . import inodes as I
from . import nodes as N
from .cache import CACHE_TIMEOUT

log = logging.getLogger("jailfs.fs")


def names_timeout(fs, view, node) -> float:
    """How long the VFS may keep a name looked up or listed in ``node``."""
    if node.kind is N.SHARED_ROOT and view is fs.host and not fs.views.root_shared:
        return CACHE_TIMEOUT
    return node.kind.entry_timeout


def share_root(fs, why: str) -> None:
    """From now on a jailed process may walk from ROOT_INODE (module doc)."""
    if fs.views.root_shared:
        return
    fs.views.root_shared = why
    log.warning("names in the mount's root are no longer cached: %s", why)
    host, pr0 = fs.host, fs.k.prison0
    names = [(n, I.make_ino(host.index, pr0.serial, slot))
             for n, slot in N.root_name_slots(fs.param_index)]
    names += [(fs.prisons.told_name(c), I.make_ino(host.index, c.serial, I.SLOT_DIR))
              for c in (pr0.children.values() if pr0.children else ())]
    fs.cache.drop_names(pyfuse3.ROOT_INODE, names)


def view_entry(fs, view, name: str):
    """(view, node) answering ``name`` in the mount's root when it is
    ``.view`` or a ``.v<index>`` the asker may see, else None.  A view's own
    ``.v<index>`` is the root of every mount of its view (a jail's
    /dev/jailfs), and a name the VFS finds answered differently, or not at
    all, by its next asker is dropped from the dentry cache: the jail's
    getcwd(2) there fails and a keeper's clone can no longer be attached.  So
    the host, which may see every view, gets the same inode for another
    view's ``.v<index>`` (answered in that view; node() still refuses the
    host anything below it).  A jailed process of another view gets ENOENT:
    the names cached below are that view's."""
    found = N.SharedRoot.view_entry(view, name)
    if found is not None:
        return view, found
    digits = name[2:]
    if view is not fs.host or not name.startswith(".v") or not digits.isdigit() \
            or digits != str(int(digits)):
        return None
    other = fs.views.at(int(digits))
    if other is None:
        return None
    return other, N.Node(N.VIEW_ROOT, other.root)


def unconfined_hook(fs):
    """The ``ctl_real.unconfined_hooks`` entry of filesystem ``fs``."""
    def unconfined(k, pr, real_pid: int, why: str) -> None:
        if k is fs.k:
            share_root(fs, why)
    return unconfined
