"""One cgroup per jail: membership a process cannot shed.

A FreeBSD process carries its jail in its credential; nothing it does (fork,
setsid, losing its parent) takes it out.  The Linux counterpart is the
cgroup: children inherit it, and only a writer of ``cgroup.procs`` (the
daemon, as root) moves a process.  So the daemon answers "which jail is pid
P in" from ``/proc/P/cgroup`` and nothing else.

Layout, in every hierarchy used (the v2 one whenever it is mounted; the v1
``pids``/``memory``/``cpu``/``freezer`` ones for what v2 cannot do here)::

    <mount><the daemon's own cgroup>/jailfs-<pid>-<start>/   the daemon's base
        j<serial>/                a jail (Prison.serial, never reused): limits
            procs/                the jail's own processes
            j<child serial>/      a child jail, nested the same way

The jail's own processes live in the ``procs`` leaf so that child jails can
sit beside them (v2 allows processes only in leaves once controllers are
on); limits set on ``j<serial>`` cover the jail and its descendants, as
racct's do.  ``<start>`` is the daemon's start time (clock ticks), so a base
whose owner is gone is recognised even when its pid was reused.

Nothing outside the base is ever written, except enabling a v2 controller
in the daemon's own cgroup's ``cgroup.subtree_control`` (pure-v2 hosts).
``CgroupTree.create()`` returns None when no hierarchy can be used: the
caller then falls back to tracking by parent chain and says so.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import re
import signal
import stat
import subprocess
import sys
import time

from jailfs.ops.runfiles import start_time, unescape_mount_field

log = logging.getLogger("jailfs.cgroups")

HOST = "host"           # jail_of(): in no jail of this daemon
UNKNOWN = "unknown"     # jail_of(): gone, unreadable, or in no leaf: no access
LEAF = "procs"
LIMIT_CONTROLLERS = ("pids", "memory", "cpu")
BASE_RE = re.compile(r"jailfs-(\d+)-(\d+)\Z")
PROC_PID_INIT_INO = 0xEFFFFFFC      # include/linux/proc_ns.h: the initial pid namespace


# --------------------------------------------------------------- small helpers
def _read(path: str) -> str:
    """A cgroupfs or /proc file's text, read to its end with plain system
    calls (a buffered text file costs three times as much: jail_of runs on
    every request)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _populated(path: str) -> bool | None:
    """A v2 cgroup's ``populated``: a process in it or below it; None when
    it cannot be read."""
    try:
        for line in _read(os.path.join(path, "cgroup.events")).splitlines():
            if line.startswith("populated "):
                return line.split()[1] == "1"
    except OSError:
        pass
    return None


def _pids_in(path: str) -> list[int]:
    try:
        return [int(w) for w in _read(os.path.join(path, "cgroup.procs")).split()]
    except (OSError, ValueError):
        return []


def probe() -> tuple[tuple[str, str] | None, dict[str, tuple[str, str]]]:
    """The v2 mount and this process's v2 cgroup (or None), and for each
    mounted v1 controller its mount point and this process's cgroup there."""
    mounts_v2, mounts_v1 = None, {}
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 4:
                continue
            where, fstype, opts = unescape_mount_field(fields[1]), fields[2], fields[3].split(",")
            if fstype == "cgroup2" and mounts_v2 is None:
                mounts_v2 = where
            elif fstype == "cgroup":
                for c in opts:
                    mounts_v1.setdefault(c, where)
    own_v2, own_v1 = None, {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if hid == "0" and not ctrls:
                own_v2 = path
            else:
                for c in ctrls.split(","):
                    own_v1[c] = path
    v2 = (mounts_v2, own_v2) if mounts_v2 and own_v2 is not None else None
    v1 = {c: (m, own_v1[c]) for c, m in mounts_v1.items() if c in own_v1}
    return v2, v1


class Hierarchy:
    """One cgroup hierarchy as this daemon uses it."""

    __slots__ = ("name", "mount", "own", "base")

    def __init__(self, name: str, mount: str, own: str, base_name: str):
        self.name = name                    # "v2", or the v1 controller
        self.mount = mount
        self.own = own.rstrip("/")          # the daemon's cgroup, relative to the mount
        self.base = os.path.join(mount + self.own, base_name)

    @property
    def v2(self) -> bool:
        return self.name == "v2"

    @property
    def parent(self) -> str:
        return os.path.dirname(self.base)

    def __repr__(self) -> str:
        return f"Hierarchy({self.name} at {self.base})"


# ------------------------------------------------------------------ inotify
class Inotify:
    """inotify IN_MODIFY on cgroup files (a change of ``populated`` in
    cgroup.events wakes the daemon; limitwatch.py watches event counters);
    each watch is known by a key (a jail's serial here)."""

    IN_MODIFY = 0x2
    IN_IGNORED = 0x8000
    IN_NONBLOCK = os.O_NONBLOCK
    IN_CLOEXEC = os.O_CLOEXEC

    def __init__(self):
        self._libc = ctypes.CDLL(None, use_errno=True)
        fd = self._libc.inotify_init1(self.IN_NONBLOCK | self.IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.fd = fd
        self._serial_of: dict[int, object] = {}     # watch descriptor -> key
        self._wd_of: dict[object, int] = {}

    def add(self, serial, path: str) -> None:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), self.IN_MODIFY)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")
        self._serial_of[wd] = serial
        self._wd_of[serial] = wd

    def drop(self, serial) -> None:
        wd = self._wd_of.pop(serial, None)
        if wd is not None:
            self._serial_of.pop(wd, None)
            self._libc.inotify_rm_watch(self.fd, wd)    # EINVAL once the file is gone: fine

    def read(self) -> set:
        changed = set()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return changed
            i = 0
            while i + 16 <= len(data):
                wd, mask, _cookie, length = (int.from_bytes(data[i + o:i + o + 4], sys.byteorder)
                                             for o in (0, 4, 8, 12))
                i += 16 + length
                serial = self._serial_of.get(wd)
                if serial is None:
                    continue
                if mask & self.IN_IGNORED:          # the cgroup was removed
                    self._serial_of.pop(wd, None)
                    self._wd_of.pop(serial, None)
                changed.add(serial)

    def close(self) -> None:
        os.close(self.fd)


# ------------------------------------------------------------------ the owner
class CgroupTree:
    """The daemon's cgroups: the base, one directory per jail, and the
    operations on them.  Prisons are anything with ``serial`` and ``parent``
    (prison0 has no parent and no cgroup: its processes are the host's)."""

    def __init__(self, member: Hierarchy, limits: dict[str, Hierarchy],
                 freezer: Hierarchy | None):
        self.member = member                 # the hierarchy that says who is in which jail
        self.limits = limits                 # controller -> hierarchy that enforces it
        self.freezer = freezer               # v1 freezer when v2's cgroup.freeze is absent
        self.hierarchies = [member] + [h for h in {id(h): h for h in
                                                   list(limits.values()) + [freezer]
                                                   if h is not None}.values()
                                       if h is not member]
        self.watch = Inotify() if member.v2 else None
        self._sentinel: subprocess.Popen | None = None
        self._base_fd: int | None = None     # membership's base: has() stats below it

    # ..................................................... creation
    @classmethod
    def create(cls, name: str | None = None, sweep: bool = True) -> CgroupTree | None:
        """Make this daemon's base in every usable hierarchy; None when
        membership cannot be kept in any (the reason is logged)."""
        if name is None:
            name = f"jailfs-{os.getpid()}-{start_time(os.getpid())}"
        try:
            v2, v1 = probe()
        except OSError as e:
            log.warning("cgroups: cannot read /proc/self/mounts or cgroup: %s", e)
            return None
        made: list[Hierarchy] = []

        def make(hname: str, mount: str, own: str) -> Hierarchy | None:
            h = Hierarchy(hname, mount, own, name)
            if sweep:
                sweep_orphans(h)
            try:
                os.mkdir(h.base, 0o755)
            except OSError as e:
                log.warning("cgroups: cannot create %s: %s", h.base, e.strerror)
                return None
            made.append(h)
            return h

        member = make("v2", *v2) if v2 else None
        limits: dict[str, Hierarchy] = {}
        if member is not None:
            for c in _enable_v2(member):
                limits[c] = member
        for c in LIMIT_CONTROLLERS:
            if c not in limits and c in v1:
                h = make(c, *v1[c])
                if h is not None:
                    limits[c] = h
        freezer = None
        if member is None or not os.path.exists(os.path.join(member.base, "cgroup.freeze")):
            if "freezer" in v1:
                freezer = make("freezer", *v1["freezer"])
        if member is None:      # no v2: membership in a v1 hierarchy we made anyway
            member = limits.get("pids") or freezer or next(iter(limits.values()), None)
        if member is None:
            for h in made:
                _rmdir(h.base)
            log.warning("cgroups: no usable cgroup hierarchy: jail membership falls back "
                        "to parent-chain tracking (a process can leave its jail)")
            return None
        tree = cls(member, limits, freezer)
        log.info("cgroups: membership in %s; limits %s; kill by %s", member.base,
                 ", ".join(f"{c}={h.name}" for c, h in limits.items()) or "none",
                 tree._kill_method())
        return tree

    def _kill_method(self) -> str:
        if self.member.v2 and os.path.exists(os.path.join(self.member.base, "cgroup.kill")):
            return "cgroup.kill"
        if self._can_freeze():
            return "freeze, SIGKILL, thaw"
        return "repeated SIGKILL (no freezer: a fork may race it)"

    # ..................................................... paths
    @staticmethod
    def relpath(prison) -> str:
        """'j<s1>/j<s2>/...' from the top jail down to ``prison``."""
        parts = []
        while prison.parent is not None:
            parts.append(f"j{prison.serial}")
            prison = prison.parent
        return "/".join(reversed(parts))

    def dir(self, prison, hierarchy: Hierarchy | None = None) -> str:
        """The jail's directory (limits live here) in ``hierarchy`` (membership's)."""
        return os.path.join((hierarchy or self.member).base, self.relpath(prison))

    def leaf(self, prison, hierarchy: Hierarchy | None = None) -> str:
        """The jail's own processes' cgroup (an anchor process goes here too)."""
        return os.path.join(self.dir(prison, hierarchy), LEAF)

    # ..................................................... jails
    def has(self, prison) -> bool:
        """Whether the jail has its cgroups (made when a process first joins it).
        Asked of every jail removed and freed, most of which never had one: a
        stat relative to the base, not a walk of the whole path."""
        if prison.parent is None:
            return False
        try:
            if self._base_fd is None:
                self._base_fd = os.open(self.member.base, os.O_PATH | os.O_DIRECTORY |
                                        os.O_CLOEXEC)
            return stat.S_ISDIR(os.stat(self.relpath(prison), dir_fd=self._base_fd).st_mode)
        except OSError:
            return False

    def ensure(self, prison) -> None:
        """Make the jail's cgroups (and its ancestors') where missing."""
        if prison.parent is None:
            return
        for h in self.hierarchies:
            if os.path.isdir(os.path.join(self.dir(prison, h), LEAF)):
                continue
            chain = []
            p = prison
            while p.parent is not None:
                chain.append(p)
                p = p.parent
            for p in reversed(chain):
                d = self.dir(p, h)
                for path in (d, os.path.join(d, LEAF)):
                    try:
                        os.mkdir(path, 0o755)
                    except FileExistsError:
                        continue
                    if path == d and h.v2:
                        _subtree_control(h, d, self._v2_limit_names())

    def _v2_limit_names(self) -> list[str]:
        return [c for c, h in self.limits.items() if h is self.member and h.v2]

    def place(self, pid: int, prison) -> None:
        """Move process ``pid`` (all its threads) into the jail's leaf; raises
        ProcessLookupError when it is gone.  prison0: back to the host."""
        if prison.parent is None:
            raise ValueError("the host is not a jail: use unplace()")
        self.ensure(prison)
        for h in self.hierarchies:
            try:
                _write(os.path.join(self.leaf(prison, h), "cgroup.procs"), str(pid))
            except OSError as e:
                if e.errno == errno.ESRCH:
                    raise ProcessLookupError(errno.ESRCH, f"no process {pid}") from None
                if h is self.member:
                    raise
                log.warning("cgroups: pid %d into %s: %s", pid, h.name, e.strerror)

    def jail_of(self, pid: int):
        """The serial of the jail ``pid`` is in, HOST, or UNKNOWN (gone or
        unreadable, or somewhere in our tree but not in a jail's leaf).
        Read afresh on every call: a cgroup is where a process is now."""
        try:
            text = _read(f"/proc/{pid}/cgroup")
        except OSError:
            return UNKNOWN
        return self.jail_in(text)

    def jail_in(self, text: str):
        """``jail_of`` for the text of a /proc/PID/cgroup already read."""
        m = self.member
        base_rel = m.own + "/" + os.path.basename(m.base)
        for line in text.splitlines():
            hid, _, rest = line.partition(":")
            ctrls, _, path = rest.partition(":")
            if m.v2 != (hid == "0" and not ctrls):
                continue
            if not m.v2 and m.name not in ctrls.split(","):
                continue
            if path != base_rel and not path.startswith(base_rel + "/"):
                return HOST
            parts = path[len(base_rel) + 1:].split("/")
            if len(parts) < 2 or parts[-1] != LEAF:
                return UNKNOWN
            serial = parts[-2]
            if not serial[:1] == "j" or not serial[1:].isdigit():
                return UNKNOWN
            return int(serial[1:])
        return UNKNOWN

    def pids(self, prison, recursive: bool = False) -> list[int]:
        """The jail's own processes (``recursive``: and its descendants')."""
        if not recursive:
            return _pids_in(self.leaf(prison))
        out = []
        for d, _subdirs, _files in os.walk(self.dir(prison)):
            out.extend(_pids_in(d))
        return out

    def holds_processes(self) -> bool | None:
        """Whether any process is in this daemon's membership tree (in a
        jail's leaf or anywhere else below the base); None when that cannot
        be read.  v2 says it of the whole tree in one read."""
        if self.member.v2:
            return _populated(self.member.base)
        failed = []
        for d, _subdirs, _files in os.walk(self.member.base, onerror=failed.append):
            try:
                if _read(os.path.join(d, "cgroup.procs")).split():
                    return True
            except FileNotFoundError:
                continue                            # removed meanwhile: it was empty
            except OSError:
                return None
        return None if any(not isinstance(e, FileNotFoundError) for e in failed) else False

    def populated(self, prison, recursive: bool = False) -> bool:
        """Whether any process is in the jail (``recursive``: or below it)."""
        path = self.dir(prison) if recursive else self.leaf(prison)
        if self.member.v2:
            return bool(_populated(path))
        return bool(self.pids(prison, recursive))

    def watch_jail(self, prison) -> None:
        """Report changes of the jail's own ``populated`` through ``changed()``."""
        if self.watch is not None:
            self.ensure(prison)
            self.watch.add(prison.serial, os.path.join(self.leaf(prison), "cgroup.events"))

    def changed(self) -> set[int]:
        """Serials whose leaf's cgroup.events changed since the last call."""
        return self.watch.read() if self.watch is not None else set()

    def kill(self, prison) -> int:
        """SIGKILL every process of the jail and of its descendants, without a
        race against fork.  Returns how many were there to kill."""
        if not self.has(prison):
            return 0
        d = self.dir(prison)
        victims = self.pids(prison, recursive=True)
        if not victims:
            return 0
        if self.member.v2 and os.path.exists(os.path.join(d, "cgroup.kill")):
            _write(os.path.join(d, "cgroup.kill"), "1")
        else:
            self._freeze_kill_thaw(prison)
        return len(victims)

    def _can_freeze(self) -> bool:
        return self.freezer is not None or (
            self.member.v2 and os.path.exists(os.path.join(self.member.base, "cgroup.freeze")))

    def _freeze(self, prison, on: bool) -> None:
        if self.member.v2 and self.freezer is None:
            _write(os.path.join(self.dir(prison), "cgroup.freeze"), "1" if on else "0")
        elif self.freezer is not None:
            _write(os.path.join(self.dir(prison, self.freezer), "freezer.state"),
                   "FROZEN" if on else "THAWED")

    def _frozen(self, prison) -> bool:
        if self.member.v2 and self.freezer is None:
            return "frozen 1" in _read(os.path.join(self.dir(prison), "cgroup.events"))
        return _read(os.path.join(self.dir(prison, self.freezer),
                                  "freezer.state")).strip() == "FROZEN"

    def _freeze_kill_thaw(self, prison) -> None:
        frozen = self._can_freeze()
        if frozen:
            self._freeze(prison, True)
            deadline = time.monotonic() + 2
            while not self._frozen(prison) and time.monotonic() < deadline:
                time.sleep(0.01)
        try:
            for _ in range(1 if frozen else 100):   # no freezer: until no newcomer
                victims = self.pids(prison, recursive=True)
                for pid in victims:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if not victims:
                    break
        finally:
            if frozen:
                self._freeze(prison, False)

    def remove(self, prison) -> bool:
        """Remove the jail's cgroups (and any left below them); False while a
        process is still in one (EBUSY: call again once it is empty)."""
        done = True
        for h in self.hierarchies:
            if self.watch is not None and h is self.member:
                self.watch.drop(prison.serial)
            done = _remove_tree(self.dir(prison, h)) and done
        return done

    # ..................................................... daemon exit
    def start_sentinel(self) -> None:
        """A process outside every jail that outlives the daemon: if the daemon
        dies without teardown() (kill -9), it kills the jails' processes and
        removes the base.  Lost with the daemon too, the next daemon's sweep
        does the same."""
        self._sentinel = spawn_sentinel(os.getpid(), [h.base for h in self.hierarchies])

    def teardown(self, timeout: float = 5.0) -> bool:
        """Kill every jailed process, remove every cgroup this daemon made.
        True when nothing is left."""
        clean = _destroy(self.hierarchies, self.member, timeout)
        if self._base_fd is not None:
            os.close(self._base_fd)
            self._base_fd = None
        if self.watch is not None:
            self.watch.close()
            self.watch = None
        if self._sentinel is not None:
            self._sentinel.terminate()
            try:
                self._sentinel.wait(5)
            except subprocess.TimeoutExpired:
                self._sentinel.kill()
                self._sentinel.wait()
            self._sentinel = None
        if not clean:
            log.warning("cgroups: %s could not be removed entirely", self.member.base)
        return clean


# ------------------------------------------------------------ v2 controllers
def _subtree_control(h: Hierarchy, path: str, names) -> list[str]:
    """Enable ``names`` for ``path``'s children; returns those now enabled."""
    ok = []
    for c in names:
        try:
            _write(os.path.join(path, "cgroup.subtree_control"), f"+{c}")
            ok.append(c)
        except OSError as e:
            log.info("cgroups: cannot enable %s below %s: %s", c, path, e.strerror)
    return ok


def _enable_v2(h: Hierarchy) -> list[str]:
    """The v2 controllers usable for limits: available to the daemon's cgroup
    and enabled for its children (here: the base) and the base's."""
    try:
        avail = _read(os.path.join(h.parent, "cgroup.controllers")).split()
        enabled = _read(os.path.join(h.parent, "cgroup.subtree_control")).split()
    except OSError:
        return []
    want = [c for c in LIMIT_CONTROLLERS if c in avail]
    missing = [c for c in want if c not in enabled]
    if missing:     # a cgroup holding processes (the daemon's) refuses: EBUSY, logged
        _subtree_control(h, h.parent, missing)
    return _subtree_control(h, h.base, want)


# ------------------------------------------------------------ removal
def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        if e.errno in (errno.EBUSY, errno.ENOTEMPTY):
            return False
        raise
    return True


def _remove_tree(top: str) -> bool:
    """rmdir ``top`` and the cgroups below it, deepest first."""
    if not os.path.isdir(top):
        return True
    done = True
    for d, _subdirs, _files in os.walk(top, topdown=False):
        done = _rmdir(d) and done
    return done


def _destroy(hierarchies: list[Hierarchy], member: Hierarchy, timeout: float) -> bool:
    """Kill what is in the bases (membership's base holds every jailed
    process), wait until they are gone, remove the bases."""
    base = member.base
    deadline = time.monotonic() + timeout
    while True:
        pids = [p for d, _s, _f in os.walk(base) for p in _pids_in(d)]
        if not pids:
            break
        if member.v2 and os.path.exists(os.path.join(base, "cgroup.kill")):
            _write(os.path.join(base, "cgroup.kill"), "1")
        else:
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    clean = True
    for h in hierarchies:
        clean = _remove_tree(h.base) and clean
    return clean


def sees_every_process() -> bool:
    """Whether /proc shows every process of this machine, so that a daemon
    it does not show is gone: this process is in the initial pid namespace
    and /proc is that namespace's."""
    try:
        return (os.stat("/proc/self/ns/pid").st_ino == PROC_PID_INIT_INO
                and os.readlink("/proc/self") == str(os.getpid()))
    except OSError:
        return False


def sweep_orphans(h: Hierarchy) -> None:
    """Bases left by daemons that died without cleaning up (kill -9 of the
    daemon and its sentinel): kill their processes, remove them.  Only
    ``jailfs-<pid>-<start>`` directories whose owner is provably gone (no
    process with that pid and start time) are touched, and only by a daemon
    whose /proc shows every process (one in a pid namespace of its own would
    take every other daemon for dead)."""
    if not sees_every_process():
        log.info("cgroups: not sweeping %s: this /proc does not show every daemon", h.parent)
        return
    try:
        names = os.listdir(h.parent)
    except OSError:
        return
    for name in names:
        m = BASE_RE.match(name)
        if m is None or start_time(int(m.group(1)), zombie_too=False) == int(m.group(2)):
            continue
        path = os.path.join(h.parent, name)
        orphan = Hierarchy(h.name, h.mount, h.own, name)
        if _destroy([orphan], orphan, 5.0):
            log.warning("cgroups: removed %s, left by a daemon that died", path)
        else:
            log.warning("cgroups: %s, left by a daemon that died, is still busy", path)


def spawn_sentinel(daemon_pid: int, bases: list[str]) -> subprocess.Popen:
    """Start the sentinel of ``daemon_pid`` (CgroupTree.start_sentinel); it is
    handed a pidfd, so a daemon that dies at once is still seen dying."""
    fd = os.pidfd_open(daemon_pid)
    try:
        return subprocess.Popen([sys.executable, "-m", "jailfs.host.cgroups", "sentinel",
                                 str(fd)] + bases, stdin=subprocess.DEVNULL,
                                start_new_session=True, pass_fds=(fd,))
    finally:
        os.close(fd)


def _sentinel(pidfd: int, bases: list[str]) -> int:
    """Wait for the daemon (pidfd) to end; then kill and remove what it left."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    import select
    select.select([pidfd], [], [])
    left = [b for b in bases if os.path.isdir(b)]
    if not left:
        return 0
    # membership's base comes first (start_sentinel); only v2 has cgroup.events
    hs = [Hierarchy("v2" if i == 0 and os.path.exists(os.path.join(b, "cgroup.events"))
                    else "v1", os.path.dirname(b), "", os.path.basename(b))
          for i, b in enumerate(left)]
    member = hs[0]
    return 0 if _destroy(hs, member, 10.0) else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "sentinel":
        sys.exit(_sentinel(int(sys.argv[2]), sys.argv[3:]))
    sys.exit(f"usage: python -m {__package__}.cgroups sentinel DAEMON_PIDFD BASE...")
