"""Which held parameter files a write's update left as they were, so that it
need not tell the kernel about them (cache.py).

What the VFS caches of a live jail's parameter file without pages is its
attributes, and of those only the size follows the value (mode, times, link
count do not; pages, where a reader may have left some, are always dropped).
Attributes are exact before a change (every earlier change invalidated what it
made wrong), so a held file whose size is the same after an update as before
it holds attributes that are still right.  Without this, a write into a listed
jail tells the kernel about all ~66 of its files (a system call each) and
about every held file of its descendants (values inherit).

The kernel says which parameters an update can change, on the jail and below
it (kernel.update_reach); only those files' sizes are worked out, before the
update and after it, in each view that holds them (a value may depend on who
asks).  Every other held parameter file of the jail and of its descendants is
unchanged: the cache leaves their slots alone.  An update the kernel cannot bound (a rename, addresses, modules'
values) is not made precise.
"""

from __future__ import annotations

import functools

from jailfs.kernel import update_reach

from . import inodes as I

WORTH_IT = 8        # inodes the VFS holds of the jail from which it pays


class Unchanged:
    """What an update left as it was: the parameter slots outside its reach,
    on the jail (``own``) and on its descendants (``below``), and the inodes
    within it whose size did not change (``same``)."""

    __slots__ = ("own", "below", "same")

    def __init__(self, own: frozenset[int], below: frozenset[int], same: frozenset[int]):
        self.own, self.below, self.same = own, below, same


class Before:
    """The sizes of the files an update of ``pr`` may change, before it."""

    __slots__ = ("pr", "reach", "sizes")

    def __init__(self, pr, reach, sizes):
        self.pr, self.reach, self.sizes = pr, reach, sizes


@functools.lru_cache(maxsize=64)
def _slots_outside(names: tuple[str, ...], reach: frozenset[str]) -> frozenset[int]:
    return frozenset(I.PARAM_SLOT0 + i for i, name in enumerate(names) if name not in reach)


def _sizes(fs, pr, reach) -> dict[int, int]:
    """inode -> size, for the held parameter files of ``pr`` in ``reach[0]``
    and of its descendants in ``reach[1]``, in the views of their ancestors (a
    jail's own view's files within the reach are not compared: always told)."""
    index = fs.param_index
    out: dict[int, int] = {}
    for d, which in ((pr, reach[0]), *((d, reach[1]) for d in pr.descendants())):
        held = fs.cache.held(d.serial)
        if not which or not held:
            continue
        for view in fs.views.above(d):
            files = [(ino, name) for name in which
                     if (ino := I.make_ino(view.index, d.serial, I.PARAM_SLOT0 + index[name]))
                     in held]
            if files:
                values = fs.values(view, d, [name for _, name in files])
                for ino, name in files:
                    out[ino] = len((values[name] + "\n").encode("utf-8", "surrogateescape"))
    return out


def before_update(fs, pr, given) -> Before | None:
    """What to compare after an update of ``pr`` setting the parameters
    ``given``; None when it would not pay or the kernel cannot bound it."""
    if len(fs.cache.held(pr.serial)) < WORTH_IT:
        return None
    reach = update_reach(given)
    if reach is None:
        return None
    return Before(pr, reach, _sizes(fs, pr, reach))


def unchanged(fs, before: Before) -> Unchanged:
    """What the update of ``before.pr`` left as it was (compared now, after it)."""
    after = _sizes(fs, before.pr, before.reach)
    same = frozenset(ino for ino, size in before.sizes.items() if after.get(ino) == size)
    names = fs.param_names
    return Unchanged(_slots_outside(names, before.reach[0]),
                     _slots_outside(names, before.reach[1]), same)
