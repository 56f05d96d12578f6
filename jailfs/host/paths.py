"""Resolving a jail's path on the host's tree without ever looking into a
jailfs mount.

A stat, lstat or readlink of a name inside a jailfs mount is a request to
the daemon serving it.  Two processes must never make one: the daemon itself
(a request to itself waits for ever: every caller of the mount then hangs),
and a jail's anchor while the daemon waits for it to be ready.  A jailed root
chooses the path of the jails it creates, and any link in it, so the path is
resolved one component at a time, as realpath(3) would, and a component that
is a jailfs mount point is refused before anything is asked of it.
"""

from __future__ import annotations

import errno
import os
import stat

from jailfs.kernel import JailError
from jailfs.ops.runfiles import unescape_mount_field

JAILFS_FSTYPE = "fuse.jailfs"
MAX_SYMLINKS = 40           # in one path, as Linux allows in one walk


def mountinfo() -> list[list[str]]:
    """The fields of each line of this process's /proc/self/mountinfo."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return [line.split() for line in f]


def fstype(fields: list[str]) -> str:
    return fields[fields.index("-", 6) + 1]


def resolve_outside_jailfs(path: str, mount: str | None = None) -> str:
    """``path`` with its symbolic links resolved, as realpath(3) does, but
    never looking into a jailfs mount (any mount of that type, and ``mount``):
    a component that is one's mount point is refused (EPERM) before it is
    stat'ed.  A link's target is read from the directory that holds it,
    which is not a jailfs one.  Other errors as lstat(2) gives them."""
    points = {unescape_mount_field(f[4]) for f in mountinfo() if fstype(f) == JAILFS_FSTYPE}
    if mount:
        points.add(os.path.normpath(mount))
    if "/" in points:
        raise OSError(errno.EPERM, "the root is a jailfs mount")
    todo = [c for c in reversed(path.split("/")) if c not in ("", ".")]
    here, links = "/", 0
    while todo:
        name = todo.pop()
        if name == "..":
            here = os.path.dirname(here)
            continue
        there = os.path.join(here, name)
        if there in points:
            raise OSError(errno.EPERM, f"the jail's path {path} lies in a jailfs mount")
        if not stat.S_ISLNK(os.lstat(there).st_mode):
            here = there
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise OSError(errno.ELOOP, f"the jail's path {path}: too many symbolic links")
        target = os.readlink(there)
        if target.startswith("/"):
            here = "/"
        todo.extend(c for c in reversed(target.split("/")) if c not in ("", "."))
    return here


def resolve_jail_path(root: str, path: str) -> str:
    """The daemon's ``Kernel.resolve_path``: a new jail's path from its
    creator's root (what jailfs.kernel.world.real_path_resolver does),
    resolved without looking into a jailfs mount."""
    full = os.path.normpath(os.path.join(root, path.lstrip("/")) if path.startswith("/")
                            else os.path.join(root, path))
    if full == "/":
        return full
    try:
        real = resolve_outside_jailfs(full)
        is_dir = stat.S_ISDIR(os.stat(real).st_mode)
    except OSError as e:
        raise JailError(e.errno or errno.EIO, e.strerror if e.errno == errno.EPERM else "")
    if not is_dir:
        raise JailError(errno.ENOTDIR)
    return real
