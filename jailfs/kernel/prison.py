"""struct prison, and the credentials, processes and files that hold one."""

from __future__ import annotations

from operator import attrgetter

from .params import SYS_DISABLE, SYS_INHERIT, SYS_NEW

ALIVE, DYING, FREED = "alive", "dying", "freed"
# sort keys for holders: processes by pid, credentials and files by serial
by_pid = attrgetter("pid")
by_serial = attrgetter("serial")


class Prison:
    """One jail (or prison0). Only the kernel writes these fields."""

    __slots__ = (
        "serial", "jid", "short", "parent", "children", "alive_names", "state",
        "ref", "uref", "flags", "allow", "securelevel", "enforce_statfs",
        "devfs_ruleset", "childmax", "childcount", "path", "hostname",
        "domainname", "hostuuid", "hostid", "ip4", "ip6", "osrelease",
        "osreldate", "cpuset_id", "sysv", "extra",
    )

    def __init__(self, serial: int, jid: int, short: str, parent: Prison | None):
        self.serial = serial
        self.jid = jid
        self.short = short
        self.parent = parent
        self.children = None        # serial -> Prison, oldest first; None when empty
        self.alive_names = None     # short name -> ALIVE child
        self.state = ALIVE
        self.ref = 0
        self.uref = 0
        self.childcount = 0
        self.ip4 = None
        self.ip6 = None
        self.extra = None           # rarely set values: meta, env, linux.*, zfs.*

    # ------------------------------------------------------------- the tree
    @property
    def name(self) -> str:
        """Full dotted name relative to prison0."""
        parent = self.parent
        if parent is not None and parent.parent is None:
            return self.short               # a top-level jail (most): no parts to join
        parts = []
        pr = self
        while pr.parent is not None:
            parts.append(pr.short)
            pr = pr.parent
        return ".".join(reversed(parts)) if parts else "0"

    def relname(self, viewer: Prison) -> str:
        """The name as `viewer` sees it (viewer must be an ancestor)."""
        parts = []
        pr = self
        while pr is not viewer and pr.parent is not None:
            parts.append(pr.short)
            pr = pr.parent
        return ".".join(reversed(parts)) if parts else "0"

    def is_descendant_of(self, ancestor: Prison) -> bool:
        pr = self.parent
        while pr is not None:
            if pr is ancestor:
                return True
            pr = pr.parent
        return False

    def newest_first(self):
        """Children in FreeBSD's sibling order (LIST_INSERT_HEAD: newest first)."""
        return reversed(self.children.values()) if self.children else iter(())

    def alive_children(self):
        return [c for c in self.newest_first() if c.state == ALIVE]

    def descendants(self):
        """Pre-order walk over every descendant, newest sibling first (most
        jails have none: no generator is made for them)."""
        return _walk_below(self) if self.children else ()

    def depth_below(self, ancestor: Prison) -> int:
        depth, pr = 0, self
        while pr is not ancestor:
            depth, pr = depth + 1, pr.parent
        return depth

    # ------------------------------------------------------------- SysV IPC
    def sysv_root(self, facility: int) -> Prison | None:
        """The prison whose IPC namespace this one uses (None: disabled)."""
        pr = self
        while True:
            mode = (pr.sysv >> (2 * facility)) & 3
            if mode == SYS_NEW:
                return pr
            if mode == SYS_DISABLE:
                return None
            pr = pr.parent

    def sysv_mode(self, facility: int) -> int:
        root = self.sysv_root(facility)
        if root is None:
            return SYS_DISABLE
        return SYS_NEW if root is self else SYS_INHERIT

    def set_sysv_mode(self, facility: int, mode: int) -> None:
        shift = 2 * facility
        self.sysv = (self.sysv & ~(3 << shift)) | (mode << shift)

    def __repr__(self) -> str:
        return f"<Prison jid={self.jid} name={self.name!r} {self.state} ref={self.ref} uref={self.uref}>"


def _walk_below(top: Prison):
    stack = list(top.newest_first())[::-1]
    while stack:
        pr = stack.pop()
        yield pr
        if pr.children:
            stack.extend(list(pr.newest_first())[::-1])


class Caller:
    """Who makes a system call: the prison its credential points at, and its uid."""

    __slots__ = ("prison", "uid")

    def __init__(self, prison: Prison, uid: int = 0):
        self.prison = prison
        self.uid = uid

    def __repr__(self) -> str:
        return f"Caller({self.prison.name}, uid={self.uid})"


class Cred:
    """struct ucred: refers to one prison (+1 pr_ref while it exists).

    Shared by reference the way FreeBSD shares ucreds: fork, open files,
    sockets and TCP control blocks crhold() the same credential.
    """

    __slots__ = ("serial", "prison", "uid", "refcnt")

    def __init__(self, serial: int, prison: Prison, uid: int):
        self.serial = serial
        self.prison = prison
        self.uid = uid
        self.refcnt = 0


class Proc:
    """A process: simulated, or the model of a real Linux process (real_pid)."""

    __slots__ = ("pid", "parent", "children", "cred", "state", "fds", "real_pid", "next_fd")

    def __init__(self, pid: int, parent: Proc | None, cred: Cred, real_pid: int | None):
        self.pid = pid
        self.parent = parent
        self.children = set()
        self.cred = cred
        self.state = "running"
        self.fds = {}
        self.real_pid = real_pid
        self.next_fd = 3

    @property
    def prison(self) -> Prison:
        return self.cred.prison

    def describe(self) -> str:
        real = f", real pid {self.real_pid}" if self.real_pid else ""
        return f"process {self.pid} ({self.state}{real})"


class File:
    """An open file description: a file, a socket or a TCP connection, holding f_cred."""

    __slots__ = ("serial", "kind", "what", "cred", "refcnt", "tcp_state", "expires", "owners")

    def __init__(self, serial: int, kind: str, what: str, cred: Cred):
        self.serial = serial
        self.kind = kind            # file, udp, tcp, unix
        self.what = what            # path, or "laddr -> raddr"
        self.cred = cred
        self.refcnt = 0             # descriptors pointing at it
        self.owners: set[tuple[Proc, int]] = set()   # those descriptors: (process, fd)
        self.tcp_state = "ESTABLISHED" if kind == "tcp" and "->" in what else None
        self.expires = None


class Holder:
    """Anything else that crhold()s a credential: a mount, a sigio owner, process accounting."""

    __slots__ = ("ident", "kind", "what", "cred")

    def __init__(self, ident: int, kind: str, what: str, cred: Cred):
        self.ident = ident
        self.kind = kind
        self.what = what
        self.cred = cred
