"""Resolving a jail's path without ever looking into a jailfs mount, and
without leaving the root of the jail that chose it.

A stat, lstat or readlink of a name inside a jailfs mount is a request to
the daemon serving it.  Two processes must never make one: the daemon itself
(a request to itself waits for ever: every caller of the mount then hangs),
and a jail's anchor while the daemon waits for it to be ready.

A jailed root chooses the path of the jails it creates, and every link in
it, and may change them at any time: the path is resolved one component at
a time, each opened (O_PATH, never following a link) from the descriptor of
the one before, as a process whose root is its creator's would resolve it
(FreeBSD resolves a jail's path in its creator's root): an absolute link
starts again at that root and ``..`` stops there.  A component on a jailfs
mount is refused before anything is asked of it (its mount id, from
statx(2) answered from what the kernel holds).  The anchor then mounts from
the descriptor, not the name: what was checked is what becomes the jail's
root.
"""

from __future__ import annotations

import errno
import os
import select
import stat

from jailfs.kernel import JailError
from jailfs.ops.runfiles import unescape_mount_field

from .syscalls import file_type_and_mount

JAILFS_FSTYPE = "fuse.jailfs"
MAX_SYMLINKS = 40           # in one path, as Linux allows in one walk
# Names walked in one path, links' included: MAXPATHLEN allows 512, and 40
# links of 4 KB each "a/.." would make the daemon walk 80,000 (0.1 s of its
# time for one jail_set any jailed root may send).
MAX_STEPS = 4096
_OPEN_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


def mountinfo(pid: int | str = "self") -> list[list[str]]:
    """The fields of each line of a process's /proc/PID/mountinfo (this one's)."""
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return [line.split() for line in f]


def fstype(fields: list[str]) -> str:
    return fields[fields.index("-", 6) + 1]


def jailfs_mount_ids(mount: str | None = None) -> set[int]:
    """The ids of every jailfs mount in this namespace (and of what is
    mounted at ``mount``)."""
    point = os.path.normpath(mount) if mount else None
    return {int(f[0]) for f in mountinfo()
            if fstype(f) == JAILFS_FSTYPE or unescape_mount_field(f[4]) == point}


class _JailfsMounts:
    """``jailfs_mount_ids()``, read again only when this namespace's mount
    table changed: poll(2) on /proc/self/mountinfo reports POLLPRI once per
    change, so asking costs one poll, not a read of the whole table (35 µs)."""

    def __init__(self) -> None:
        self._file = None
        self._poll = select.poll()
        self._ids: set[int] = set()

    def ids(self) -> set[int]:
        if self._file is None:
            self._file = open("/proc/self/mountinfo", "rb", buffering=0)
            self._poll.register(self._file, select.POLLPRI | select.POLLERR)
            self._poll.poll(0)              # the table as it is now: what we read next
            self._ids = jailfs_mount_ids()
        elif self._poll.poll(0):
            self._ids = jailfs_mount_ids()
        return self._ids


_daemon_mounts = _JailfsMounts()


def _components(path: str) -> list[str]:
    """The names of ``path`` in reverse order (a stack to pop)."""
    return [c for c in reversed(path.split("/")) if c not in ("", ".")]


def open_within(roots: str | list[str], path: str, mount: str | None = None,
                fixed_roots: bool = False) -> tuple[int, str]:
    """(an O_PATH descriptor, its path on the host) of ``path`` resolved
    inside ``roots``: the creator's root, or the chain of its ancestors'
    roots, outermost first, each resolved now inside the one before it (the
    first from the host's root): a link that a jail's root puts in its own
    tree, even on the path of a jail below it, leads no further than its own
    root.  Never on a jailfs mount (nor on ``mount``'s):
    EPERM for one or for a root outside the one before it (and with
    ``fixed_roots``, for a root that no longer leads to itself: an ancestor's
    root swapped a directory on it for a link), ELOOP past MAX_SYMLINKS links
    or MAX_STEPS names, other errors as openat(2) gives them."""
    jailfs = jailfs_mount_ids(mount) if mount else _daemon_mounts.ids()
    top, top_path = os.open("/", _OPEN_PATH), "/"
    if file_type_and_mount(top)[1] in jailfs:
        os.close(top)
        raise OSError(errno.EPERM, "the root is a jailfs mount")
    outer = "/"
    for root in [roots] if isinstance(roots, str) else roots:
        if root != outer and not root.startswith(outer.rstrip("/") + "/"):
            os.close(top)
            raise OSError(errno.EPERM, f"the jail's path {root} is outside {outer}")
        inner = root[len(outer.rstrip("/")):] or "/"
        top, top_path = _walk(top, top_path, inner, jailfs, inner)
        if fixed_roots and top_path != os.path.normpath(root):
            os.close(top)
            raise OSError(errno.EPERM, f"the jail's root {root} has moved")
        outer = root
    return _walk(top, top_path, path, jailfs, path)


def _walk(top: int, top_path: str, path: str, jailfs: set[int], asked: str) -> tuple[int, str]:
    """Resolve ``path`` from the descriptor ``top`` (taken over) as the root."""
    stack = [(top, top_path)]           # the directories walked, each a descriptor
    todo, links, steps = _components(path), 0, 0
    try:
        while todo:
            name = todo.pop()
            steps += 1
            if steps > MAX_STEPS:
                raise OSError(errno.ELOOP, f"the jail's path {asked}: too many names to walk")
            here, here_path = stack[-1]
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop()[0])
                continue
            try:
                fd = os.open(name, _OPEN_PATH, dir_fd=here)
            except OSError as e:
                raise OSError(e.errno, f"the jail's path {asked}: {e.strerror}") from None
            mode, mount = file_type_and_mount(fd)
            if mount in jailfs:
                os.close(fd)
                raise OSError(errno.EPERM, f"the jail's path {asked} lies in a jailfs mount")
            if not stat.S_ISLNK(mode):
                stack.append((fd, os.path.join(here_path, name)))
                continue
            os.close(fd)
            links += 1
            if links > MAX_SYMLINKS:
                raise OSError(errno.ELOOP, f"the jail's path {asked}: too many symbolic links")
            target = os.readlink(name, dir_fd=here)
            if target.startswith("/"):
                while len(stack) > 1:
                    os.close(stack.pop()[0])
            todo.extend(_components(target))
        fd, fd_path = stack.pop()
        return fd, fd_path
    finally:
        for fd, _ in stack:
            os.close(fd)


def resolve_jail_path(root: str, path: str) -> str:
    """The daemon's ``Kernel.resolve_path``: a new jail's path resolved in
    its creator's root ``root`` (a link to ``/`` there is that root), never
    looking into a jailfs mount.  ``root`` must still lead to itself: the
    kernel knows the creator's path only, not its ancestors', and a link
    that one of them put on it would be followed from the host's root (the
    answers, and the child's path, would tell the jail about the host's
    tree); the anchor resolves every ancestor inside the one above."""
    if root == "/" and not _components(path):
        return "/"                      # the host's root: nothing to walk (most jails)
    try:
        fd, real = open_within(root, path, fixed_roots=True)
        try:
            is_dir = stat.S_ISDIR(file_type_and_mount(fd)[0])
        finally:
            os.close(fd)
    except OSError as e:
        raise JailError(e.errno or errno.EIO, e.strerror if e.errno == errno.EPERM else "")
    if not is_dir:
        raise JailError(errno.ENOTDIR)
    return real
