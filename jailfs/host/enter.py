"""Entering a jail, the keeper's side (jailfs/cli/injail.py).

After ``attach JAIL PID`` the daemon's answer tells the keeper K what the jail
is (jailhouse.py's ``attach_answer``): ``confine=anchor`` with the anchor's pid
and start time, the place of the jailfs mount inside, and the parameters its
privileges follow from; or ``confine=none`` with the reason this system cannot
confine (K then runs the command as before, on the host).

``join`` (in K): one pidfd of the anchor, checked against its start time, and
one setns(2) with every namespace type at once; K is then in the jail's mount
namespace (root and cwd the jail's ``/``), UTS, IPC, net and cgroup
namespaces, and its children are born in the jail's pid namespace.  K itself
stays in the host's pid namespace, out of the jail's sight.

Before that, ``join`` takes the jail's own view of the mount: K is already
in the jail's cgroup (``enter`` put it there), so the daemon answers
``MNT/.view`` with the jail's view root; open_tree(2) clones that mount while
K is still in the host's namespace (a clone must come from the caller's
own), K checks it is its jail's (its ``jid`` file), and after setns
move_mount(2) attaches it at /dev/jailfs, unless a keeper before it did.  No
jail ever gets the mount's root, whose names the VFS may hold for the host
(jailfs/host/anchor.py).  A keeper that cannot bind the view runs nothing.

``shed`` (in the command's process C, before it execs): no descriptor above 2
survives (a directory opened outside would be a way out), the seccomp filter
and the capability sets of privileges.py, JAILFS_MOUNT set to the mount's
place inside.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

from jailfs.ops.runfiles import start_time

from . import privileges
from . import syscalls as sc
from .namespaces import CLONE_FLAGS, load_no_module_files


class EnterError(Exception):
    """Entering failed; ``str(e)`` is the one-line reason."""


@dataclass
class Confinement:
    anchor: int
    anchor_start: int
    mount: str
    proc: int                       # the kernel's pid for the keeper (sethostname)
    params: dict[str, str]
    allow: set[str]
    view: str = ""                  # the host's path of MNT/.view: the jail's view root
    jid: str = ""                   # the jail's jid, as its view root's jid file says

    @classmethod
    def parse(cls, lines: list[str]) -> "Confinement | None":
        """From an attach answer's lines; None when the jail does not confine."""
        values = {}
        for line in lines:
            for word in shlex.split(line):
                k, eq, v = word.partition("=")
                if eq:
                    values[k] = v
        if values.get("confine") == "error":
            raise EnterError("jail_attach: cannot confine the process: "
                             + values.get("reason", "unknown reason"))
        if values.get("confine") != "anchor":
            return None
        return cls(int(values["anchor"]), int(values["anchor_start"]), values["mount"],
                   int(values.get("proc", 0)), values,
                   set(filter(None, values.get("allow", "").split(","))),
                   values.get("view", ""), values.get("jid", ""))

    def privileges(self) -> privileges.Privileges:
        return privileges.derive(self.params, self.allow)


def can_enter() -> str | None:
    """Why this process cannot join a jail's namespaces itself (None: it
    can).  A process in a confining jail has lost CAP_SYS_ADMIN or runs
    under the jail's seccomp filter: jexec(8)'s keeper then has the daemon's
    entry agent enter a child jail for it (jailfs/cli/entry_agent.py), and
    any other entry is refused before anything changes."""
    if os.geteuid() != 0:
        return None                             # the daemon refuses, as jail_attach does
    caps = filters = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                caps = int(line.split()[1], 16)
            elif line.startswith("Seccomp_filters:"):
                filters = int(line.split()[1])
    if filters or not caps >> 21 & 1:           # CAP_SYS_ADMIN
        return "a process inside a jail cannot enter another jail"
    return None


def join(c: Confinement) -> None:
    """Join the anchor's namespaces (K: its children are born in the jail),
    with the jail's view of the mount at ``c.mount`` (module doc)."""
    try:
        pidfd = os.pidfd_open(c.anchor)
    except OSError as e:
        raise EnterError(f"jail_attach: the jail's anchor {c.anchor}: {e.strerror}")
    view = -1
    try:
        if start_time(c.anchor) != c.anchor_start:
            raise EnterError(f"jail_attach: the jail's anchor {c.anchor} is gone")
        view = take_view(c)
        flags = 0
        for f in CLONE_FLAGS.values():
            flags |= f
        try:
            sc.setns(pidfd, flags)
        except OSError as e:
            raise EnterError(f"jail_attach: setns: {e.strerror}")
        load_no_module_files()
        os.chdir("/")
        bind_view(view, c.mount)
    finally:
        os.close(pidfd)
        if view >= 0:
            os.close(view)


def take_view(c: Confinement) -> int:
    """A detached clone of the jail's view root (in the host's namespace,
    from the jail's cgroup), checked to be that jail's."""
    if not os.path.isabs(c.view) or not c.jid:
        raise EnterError("jail_attach: the daemon named no view of the mount to bind")
    try:
        fd = sc.open_tree(c.view)
    except OSError as e:
        raise EnterError(f"jail_attach: the jail's view {c.view}: {e.strerror}")
    try:
        jid = os.open("jid", os.O_RDONLY | os.O_CLOEXEC, dir_fd=fd)
        try:
            seen = os.read(jid, 64).decode(errors="replace").strip()
        finally:
            os.close(jid)
    except OSError as e:
        os.close(fd)
        raise EnterError(f"jail_attach: the jail's view {c.view}: {e.strerror}")
    if seen != c.jid:
        os.close(fd)
        raise EnterError(f"jail_attach: {c.view} is the view of jid {seen}, not {c.jid}")
    return fd


def bind_view(fd: int, at: str) -> None:
    """Attach the view at ``at`` in the jail, unless it is there already
    (two keepers racing may both attach it: the same view twice)."""
    mine = os.fstat(fd)
    try:
        there = os.stat(at)
        if (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino):
            return
    except OSError:
        pass
    try:
        sc.move_mount(fd, at)
    except OSError as e:
        raise EnterError(f"jail_attach: the jail's view at {at}: {e.strerror}")


def shed(c: Confinement) -> None:
    """In C, before its exec: no host descriptor, the jail's privileges."""
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    os.environ["JAILFS_MOUNT"] = c.mount
    privileges.apply(c.privileges())
