"""Inode numbers: computed, per view, never reused.

An inode number encodes (view, prison serial, slot):

    ino = INO_BASE + ((view << SERIAL_BITS | serial) << SLOT_BITS | slot)

* ``view`` is a small index given to each prison that is some caller's root
  (0 for prison0, the host's view).  The same jail seen from two views has two
  different inode numbers, so a dentry or attribute cached for one caller can
  never be reached by a caller in another view.
* ``serial`` is ``Prison.serial``: unique for the kernel's life, so a number is
  never reused while the kernel (or the VFS) may still know the old prison.
* ``slot`` says which node of that prison: its directory, its directory under
  ``.dying``, its ``.refs``, its ``.jid`` symlink, one of its parameter files,
  or (for the view's root prison) the view's own ``.dying``, ``.jid``,
  ``.events`` and ``.ctl``.

Nothing is stored per inode, so there is no table to grow, no lookup count to
keep and nothing to forget.  FUSE's ``ROOT_INODE`` (1) is every view's root;
each view also has a root of its own, V(view) = (view, its root's serial,
SLOT_DIR), a number no jail directory has (``.view`` in the mount's root, and
what a jail's /dev/jailfs is: jailfs/host/anchor.py).
"""

from __future__ import annotations

SLOT_BITS = 9
SERIAL_BITS = 34
VIEW_BITS = 20
INO_BASE = 16

SLOT_DIR = 0            # a live jail's directory
SLOT_DYINGDIR = 1       # .dying/<jid>
SLOT_REFS = 2           # <jail>/.refs
SLOT_DYINGREFS = 3      # .dying/<jid>/.refs
SLOT_JIDLINK = 4        # .jid/<jid>
SLOT_DOTDYING = 5       # the view's .dying        (serial = the view root's)
SLOT_DOTJID = 6         # the view's .jid
SLOT_EVENTS = 7         # the view's .events
SLOT_CTL = 8            # the view's .ctl
SLOT_VIEWLINK = 9       # .view in the mount's root: a symlink to the view's own root
PARAM_SLOT0 = 16        # live parameter files: PARAM_SLOT0 + index
DYING_PARAM_SLOT0 = 272  # dying parameter files: DYING_PARAM_SLOT0 + index
MAX_PARAMS = DYING_PARAM_SLOT0 - PARAM_SLOT0

_SLOT_MASK = (1 << SLOT_BITS) - 1
_SERIAL_MASK = (1 << SERIAL_BITS) - 1
_VIEW_MASK = (1 << VIEW_BITS) - 1


def make_ino(view: int, serial: int, slot: int) -> int:
    if serial > _SERIAL_MASK or view > _VIEW_MASK:
        raise OverflowError("inode space exhausted")
    return INO_BASE + ((((view << SERIAL_BITS) | serial) << SLOT_BITS) | slot)


def slot_of(ino: int) -> int:
    """The slot of a number this scheme made (split_ino's third part)."""
    return (ino - INO_BASE) & _SLOT_MASK


def split_ino(ino: int) -> tuple[int, int, int] | None:
    """-> (view, serial, slot), or None for numbers this scheme never made."""
    n = ino - INO_BASE
    if n < 0:
        return None
    slot = n & _SLOT_MASK
    n >>= SLOT_BITS
    return n >> SERIAL_BITS, n & _SERIAL_MASK, slot
