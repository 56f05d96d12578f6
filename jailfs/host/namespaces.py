"""Which Linux namespaces a jail has, and whether this system can give them.

A jail always gets its own mount namespace (its ``path`` as ``/``), pid
namespace (its /proc shows its processes only; nested in its parent jail's, as
a FreeBSD parent jail sees its children's processes) and cgroup namespace.  The
others follow the jail's parameters:

=========  ====================  =============================================
type       new when              otherwise
=========  ====================  =============================================
uts        ``host=new``          the nearest ``host=new`` ancestor's (host's)
ipc        a ``sysv*=new``       the parent jail's (``disable``: seccomp)
net        ``vnet=new``          the nearest ``vnet=new`` ancestor's (host's)
=========  ====================  =============================================
"""

from __future__ import annotations

import functools
import importlib.machinery
import os
import sys

from . import syscalls as sc

# In the order setns(2) needs them joined: mnt last (it moves root and cwd).
CLONE_FLAGS = {"cgroup": sc.CLONE_NEWCGROUP, "ipc": sc.CLONE_NEWIPC,
               "uts": sc.CLONE_NEWUTS, "net": sc.CLONE_NEWNET,
               "pid": sc.CLONE_NEWPID, "mnt": sc.CLONE_NEWNS}
ALWAYS = ("mnt", "pid", "cgroup")


def load_no_module_files() -> None:
    """From now on this process loads no module from a file.  In a jail's
    mount namespace every path names the jail's files, and the jail's root
    may have put a module at any path on sys.path or in a package's
    directory: loaded by a process that still holds the host's privileges
    (the anchor, a keeper, the entry agent), it would run with them.
    Built-in and frozen modules still load; another one not loaded yet is an
    ImportError instead."""
    sys.meta_path[:] = [f for f in sys.meta_path if f in (
        importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter)]


def ns_path(pid: int | str, nstype: str) -> str:
    return f"/proc/{pid}/ns/{nstype}"


def ns_id(pid: int | str, ns_type: str) -> int | None:
    """The inode of a process's namespace of one type; None when it is gone."""
    try:
        return os.stat(ns_path(pid, ns_type)).st_ino
    except OSError:
        return None


def ns_ids(pid: int | str = "self") -> dict[str, int]:
    """type -> namespace inode of a process (what `lsns` shows)."""
    ids = {t: ns_id(pid, t) for t in CLONE_FLAGS}
    return {t: i for t, i in ids.items() if i is not None}


def wanted(values: dict[str, str]) -> list[str]:
    """The namespace types a jail creates, from its parameters as jail_get
    renders them (``host``, ``vnet``, ``sysvmsg``...: new/inherit/disable)."""
    new = list(ALWAYS)
    if values.get("host") == "new":
        new.append("uts")
    if "new" in (values.get("sysvmsg"), values.get("sysvsem"), values.get("sysvshm")):
        new.append("ipc")
    if values.get("vnet") == "new":
        new.append("net")
    return new


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why this system cannot confine jails (None: it can).  Probed once, in a
    throw-away child that unshares every namespace type a jail may use.
    JAILFS_NO_CONFINE=1 in the daemon's environment asks for no confinement."""
    if os.environ.get("JAILFS_NO_CONFINE", "") not in ("", "0"):
        return "JAILFS_NO_CONFINE is set"
    if os.geteuid() != 0:
        return "not root: namespaces need CAP_SYS_ADMIN"
    if not os.path.exists(ns_path("self", "cgroup")):
        return "no /proc/self/ns (kernel without namespaces?)"
    flags = 0
    for f in CLONE_FLAGS.values():
        flags |= f
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            sc.unshare(flags)
            os.write(w, b"ok")
        except OSError as e:
            os.write(w, str(e).encode())
        os._exit(0)
    os.close(w)
    answer = os.read(r, 512).decode(errors="replace")
    os.close(r)
    os.waitpid(pid, 0)
    return None if answer == "ok" else f"unshare: {answer}"
