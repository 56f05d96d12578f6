"""A jail's anchor: the tiny init that holds the jail's Linux namespaces.

The daemon starts one per jail, lazily, the first time a real process enters
the jail (``Anchor.start``).  Run as ``python -m jailfs.host.anchor`` with
a ``Spec`` as a JSON line on stdin, it:

1. moves itself into the jail's cgroup (when given), joins the namespaces the
   jail shares with an ancestor (its pid namespace, so the parent jail sees the
   child's processes; an inherited UTS, IPC or network namespace), and
   unshares the new ones: mount, pid, cgroup, and UTS / IPC / net as the
   jail's ``host``, ``sysv*`` and ``vnet`` say;
2. forks the init (pid 1 of the new pid namespace), which builds the jail's
   root in its private mount namespace: the jail's ``path`` bound onto itself,
   every mount under its /sys read-only (sysfs and the cgroup hierarchies are
   the host's), a fresh /proc for the jail's pid namespace (host-wide knobs
   read-only), a
   small /dev on tmpfs (null, zero, full, random, urandom, tty, its own ptys
   in /dev/pts, a /dev/shm) with an empty /dev/jailfs, then pivot_root into
   it and detach the old root, so nothing outside ``path`` stays reachable;
3. sets the hostname in a new UTS namespace and brings ``lo`` up in a new
   network namespace, becomes undumpable, prints ``ready HOSTPID`` and then
   serves: reaps the orphans re-parented to it, and obeys ``hostname X`` /
   ``domainname X`` lines from the daemon on stdin.  It ends when stdin closes
   or its parent dies (PR_SET_PDEATHSIG), and as pid 1 its end kills every
   process of the jail's pid namespace.

No jail ever holds the mount's root (ROOT_INODE): what a name there means
depends on who asks, so the VFS could answer a jailed process from what it
cached for the host.  Every mount of the jailfs filesystem in the jail's tree
(the host's mount itself under ``path=/``, or any bind of it under ``path``)
is detached before the pivot.  The jail's own view root is bound at
/dev/jailfs by the process that enters (jailfs/host/enter.py ``join``), not
here: a lookup in the mount would wait for the daemon, which is waiting for
our ``ready``.

Why pivot_root and not chroot: after pivot_root and a lazy unmount of the old
root, the mount namespace itself has the jail's path as its root, so there is
nothing above ``/`` left to reach: a process that joins the namespace with
setns(2) lands in it (setns puts it at the namespace's root, which a chroot
would leave at the host's), ``..`` stops at it, and a chroot(2) inside can
only go deeper.  A chroot leaves the whole host tree mounted in the
namespace, one ``fchdir`` or ``chroot``-and-``..`` away.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

import pyprctl

from jailfs.ops.runfiles import start_time, unescape_mount_field

from . import syscalls as sc
from .namespaces import CLONE_FLAGS, load_no_module_files, ns_ids, ns_path
from .paths import JAILFS_FSTYPE, fstype, mountinfo, open_within

log = logging.getLogger("jailfs.anchor")

# Where a jailed process finds the jail's view of the jailfs mount, and the
# name in the mount's root that answers the asker's own view root, which the
# entering process binds there (jailfs/fs/nodes.py, enter.py).
JAILFS_AT = "/dev/jailfs"
VIEW_NAME = ".view"
MAX_DETACH = 1000           # mounts of jailfs one jail's tree may hold before we give up
# The device nodes of a jail's /dev (FreeBSD's devfs ruleset 4, "jail").
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
           "urandom": (1, 9), "tty": (5, 0)}
# /proc entries that change the whole host: read-only in a jail.
PROC_READONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
# /proc entries that show the host's secrets: hidden behind /dev/null.
PROC_MASKED = ("kcore", "keys", "timer_list", "kmsg", "kallsyms")
# File systems whose files are the host kernel's knobs, devices, terminals or
# IPC objects: a jail's tree may hold them only at /sys (made read-only) and
# below /proc and /dev (covered by the jail's own).
HOST_KERNEL_FS = {"proc", "sysfs", "cgroup", "cgroup2", "devtmpfs", "devpts", "debugfs",
                  "tracefs", "securityfs", "bpf", "configfs", "efivarfs", "pstore",
                  "fusectl", "binfmt_misc", "mqueue"}
# Mount options kept when a mount under /sys is made read-only.
KEPT_OPTIONS = {"nosuid": sc.MS_NOSUID, "nodev": sc.MS_NODEV, "noexec": sc.MS_NOEXEC}
READY_TIMEOUT = 15.0
# A directory opened below a descriptor: never through a link the jail's root made
_DIR_NO_LINK = os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass
class Spec:
    root: str                       # the jail's path ("/" keeps the host's tree)
    mount: str | None               # the jailfs mount point (its mounts are detached)
    new: list[str]                  # namespace types to create
    join: dict[str, int] = field(default_factory=dict)   # type -> pid to join
    # its ancestor jails' roots, outermost first: the path cannot leave the last
    # one, and each is resolved inside the one before it
    within: list[str] = field(default_factory=list)
    hostname: str | None = None     # for a new UTS namespace
    domainname: str | None = None
    cgroup: str | None = None       # the cgroup its cgroup namespace is rooted at
    cgroup_back: str | None = None  # and the one it goes back to (the daemon's)


# ============================================================ daemon side
class Anchor:
    """The daemon's handle on a running anchor."""

    def __init__(self, spec: Spec):
        self.spec = spec
        # cwd "/": never start Python in a directory of the mount we serve.
        # The spec goes on stdin, not in argv: a jail's `ps` shows pid 1's argv.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jailfs.host.anchor"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", close_fds=True)
        self.send(json.dumps(asdict(spec)))
        self.pid = 0                # the init's pid as the host sees it
        self.ns: dict[str, int] = {}    # type -> namespace inode, recorded at start
        self.pidfds: list[int] = []     # the jailhouse's, of it and its init, while it follows it
        self._buf = b""
        line = self._readline(READY_TIMEOUT)
        if not line.startswith("ready "):
            self.kill()
            raise OSError(errno.EIO, f"anchor did not start: {line or 'no answer'}")
        self.pid = int(line.split()[1])
        self.start_time = start_time(self.pid)
        self.ns = ns_ids(self.pid)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _readline(self, timeout: float) -> str:
        line, self._buf = read_line(self.proc.stdout.fileno(), self._buf, timeout)
        return line

    def reports(self) -> list[str]:
        """Lines the anchor wrote since last asked (``hostname X``...)."""
        try:
            self._buf += os.read(self.proc.stdout.fileno(), 65536)
        except (BlockingIOError, ValueError):
            pass
        *lines, self._buf = self._buf.split(b"\n")
        return [x.decode(errors="replace") for x in lines]

    def alive(self) -> bool:
        return self.proc.poll() is None and start_time(self.pid) == self.start_time

    def send(self, line: str) -> None:
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass

    def kill(self) -> None:
        """End the anchor and, with its init, every process of its pid namespace."""
        if self.pid and start_time(self.pid) == getattr(self, "start_time", None):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.warning("anchor %d: did not end in 10 s", self.proc.pid)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def read_line(fd: int, buf: bytes, timeout: float) -> tuple[str, bytes]:
    """One line from ``fd`` (after what ``buf`` holds) within ``timeout``
    seconds, and what was read beyond it; "" on timeout or end of file."""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return "", buf
        data = os.read(fd, 4096)
        if not data:
            return "", buf
        buf += data
    line, buf = buf.split(b"\n", 1)
    return line.decode(errors="replace"), buf


# ============================================================ the anchor itself
def _pdeathsig() -> None:
    parent = os.getppid()
    pyprctl.set_pdeathsig(signal.SIGKILL)
    if os.getppid() != parent:         # the parent died before we asked
        os._exit(1)


def _host_pid() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[1])
    return os.getpid()


def _fd_path(fd: int, name: str = "") -> str:
    """A path to ``fd`` (and ``name`` below it) that no rename or link can
    redirect: /proc's link to the descriptor's own file."""
    return f"/proc/self/fd/{fd}" + (f"/{name}" if name else "")


def _subdir(parent: int, name: str) -> int:
    """An O_PATH descriptor of directory ``name`` right below ``parent``
    (made when missing), never a symbolic link: the jail's root may have
    put one there."""
    try:
        os.mkdir(name, 0o755, dir_fd=parent)
    except FileExistsError:
        pass
    return os.open(name, _DIR_NO_LINK, dir_fd=parent)


def _mount_new(parent: int, name: str, fstype: str, attrs: int, **options: str) -> int:
    """A fresh ``fstype`` mounted on directory ``name`` of ``parent``: a
    descriptor of its root."""
    where = _subdir(parent, name)
    try:
        mnt = sc.fsmount(fstype, attrs, source=fstype, **options)
        sc.move_mount(mnt, "", where)
        return mnt
    finally:
        os.close(where)


def _dev(root: int) -> None:
    """The jail's /dev: a small tmpfs of its own (FreeBSD's devfs ruleset 4),
    with an empty /dev/jailfs where the entering process binds the view."""
    dev = _mount_new(root, "dev", "tmpfs", sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NOEXEC,
                     mode="755", size="1m")
    for name, (major, minor) in DEVICES.items():
        os.mknod(name, stat.S_IFCHR | 0o666, os.makedev(major, minor), dir_fd=dev)
        os.chmod(name, 0o666, dir_fd=dev)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("ptmx", "pts/ptmx")):
        os.symlink(target, name, dir_fd=dev)
    os.close(_mount_new(dev, "shm", "tmpfs", sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NODEV,
                        mode="1777", size="64m"))
    # the jail's own ptys, not the host's (every devpts mount is a new
    # instance since Linux 4.7)
    os.close(_mount_new(dev, "pts", "devpts", sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NOEXEC,
                        ptmxmode="0666", mode="620"))
    os.mkdir(JAILFS_AT.removeprefix("/dev/"), 0o755, dir_fd=dev)
    os.close(dev)


def _proc(root: int) -> None:
    """A /proc for the jail's pid namespace; the host-wide knobs read-only,
    its secrets behind /dev/null (all below the new mount's own descriptor:
    nothing the jail's root renames can move them)."""
    proc = _mount_new(root, "proc", "proc",
                      sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NODEV | sc.MOUNT_ATTR_NOEXEC)
    try:
        for name in PROC_READONLY:
            p = _fd_path(proc, name)
            if os.path.exists(p):
                sc.mount(p, p, None, sc.MS_BIND | sc.MS_REC)
                sc.mount(None, p, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
        for name in PROC_MASKED:
            p = _fd_path(proc, name)
            if os.path.exists(p):
                sc.mount("/dev/null", p, None, sc.MS_BIND)
    finally:
        os.close(proc)


def _sys_readonly(root: str, tree: int) -> None:
    """Every mount at or under the jail's /sys read-only in its namespace:
    sysfs and the cgroup hierarchies there are the host's knobs (a jailed
    root could otherwise kill or limit any cgroup's processes, or the
    daemon's own jails', by writing cgroup.kill or pids.max).  Each is
    reached from the jail's tree ``tree`` without following a link and must
    be the mount mountinfo named (the topmost at its point), or nothing
    starts."""
    prefix = root.rstrip("/")
    topmost = {}
    for fields in mountinfo():                  # later lines are mounted later: on top
        point = unescape_mount_field(fields[4])
        if point == prefix + "/sys" or point.startswith(prefix + "/sys/"):
            topmost[point] = fields
    for point, fields in topmost.items():
        fd = os.dup(tree)
        try:
            for name in point[len(prefix) + 1:].split("/"):
                below = os.open(name, _DIR_NO_LINK, dir_fd=fd)
                os.close(fd)
                fd = below
            if sc.file_type_and_mount(fd)[1] != int(fields[0]):
                raise OSError(errno.EBUSY, f"{point} changed while the jail's root was made")
            flags = sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY
            for option in fields[5].split(","):
                flags |= KEPT_OPTIONS.get(option, 0)
            sc.mount(None, _fd_path(fd), None, flags)
        finally:
            os.close(fd)


def _refuse_host_kernel_fs(root: str, found: int) -> None:
    """EPERM when the jail's tree (``found``, at ``root`` on the host) is
    on, or holds, a mount of the host kernel's own files that build_root
    neither covers nor makes read-only: a jail with path=/ could otherwise
    make a child jail whose path is /dev (the host's disks), /dev/pts (its
    terminals) or /sys/fs/cgroup (every cgroup's knobs, writable)."""
    prefix = root.rstrip("/")
    own = sc.file_type_and_mount(found)[1]
    covered = tuple(prefix + d for d in ("/sys", "/proc", "/dev"))
    for fields in mountinfo():
        point = unescape_mount_field(fields[4])
        inside = point.startswith(prefix + "/") and not any(
            point == c or point.startswith(c + "/") for c in covered)
        if fstype(fields) in HOST_KERNEL_FS and (int(fields[0]) == own or inside):
            raise OSError(errno.EPERM, f"the jail's path {root} holds the host's "
                                       f"{fstype(fields)} at {point}")


def jailfs_device(mount: str | None) -> str | None:
    """The device (major:minor, from mountinfo: stat(2) would be a FUSE
    request, and the daemon waits for us) of the jailfs mount at ``mount``."""
    dev = None
    for f in mountinfo():
        if unescape_mount_field(f[4]) == mount:
            dev = f[2]                  # the topmost at that point
    return dev


def detach_jailfs(dev: str | None) -> None:
    """Detach every mount of the jailfs filesystem (device ``dev``, or any
    of type fuse.jailfs) in this namespace, shallowest first: a lazy unmount
    takes what is mounted below it along, and no path through a jailfs
    directory is ever walked (a FUSE request: the daemon waits for us).  A
    mount that no path reaches (another one covers its place: EINVAL or
    ENOENT) is left; no process of the jail can uncover it."""
    covered: set[str] = set()
    for _ in range(MAX_DETACH):
        points = [p for p in (unescape_mount_field(f[4]) for f in mountinfo()
                              if f[2] == dev or fstype(f) == JAILFS_FSTYPE)
                  if p not in covered]
        if not points:
            return
        point = min(points, key=lambda p: p.rstrip("/").count("/"))
        try:
            sc.umount2(point, sc.MNT_DETACH | sc.UMOUNT_NOFOLLOW)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOENT):
                raise
            covered.add(point)
    raise OSError(errno.EBUSY, "too many jailfs mounts in the jail's tree")


def build_root(spec: Spec) -> None:
    """In the new mount namespace (pid 1 of the new pid namespace): make the
    jail's root and pivot into it.  Everything is mounted through
    descriptors: the jail's path was resolved inside its parent's root, and
    that inside its own parent's, up to the host (paths.open_within), and
    nothing an ancestor's root renames or links afterwards changes what is
    mounted where."""
    sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)   # nothing goes back to the host
    found, root = open_within(spec.within + [spec.root], "/", spec.mount)
    try:
        _refuse_host_kernel_fs(root, found)
    except OSError:
        os.close(found)
        raise
    dev = jailfs_device(spec.mount)
    if root == "/":
        tree = found                    # the host's tree itself (path=/)
    else:
        tree = sc.open_tree("", sc.OPEN_TREE_CLONE | sc.OPEN_TREE_CLOEXEC | sc.AT_RECURSIVE |
                            sc.AT_EMPTY_PATH, found)
        sc.move_mount(tree, "", found)  # the jail's tree on its own place: a mount to pivot to
        os.close(found)
    try:
        _sys_readonly(root, tree)
        _proc(tree)
        _dev(tree)
        os.fchdir(tree)
    finally:
        os.close(tree)
    if root != "/":
        sc.pivot_root(".", ".")        # the old root is stacked below the new one
        sc.umount2(".", sc.MNT_DETACH)
    load_no_module_files()
    os.chdir("/")
    detach_jailfs(dev)                 # only the jail's tree is left to look at


def _set_uts(what: str, value: str) -> None:
    if what == "hostname":
        socket.sethostname(value)
    else:
        sc.setdomainname(value)


def _serve(uts_new: bool) -> None:
    """pid 1: reap, obey the daemon, report a hostname changed from inside."""
    pyprctl.set_dumpable(False)
    # SIGCHLD (an orphan to reap) and SIGUSR1 ("look at the hostname now")
    # wake the loop through a pipe.
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGUSR1, lambda *_: None)
    last = socket.gethostname()
    stdin = sys.stdin.buffer.raw
    buf = b""
    while True:
        ready = select.select([stdin, wake_r], [], [], 2.0)[0]
        if wake_r in ready:
            while os.read(wake_r, 512) == 512:
                pass
        if stdin in ready:
            data = os.read(stdin.fileno(), 4096)
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            for line in lines:
                what, _, value = line.decode().partition(" ")
                if uts_new and what in ("hostname", "domainname"):
                    _set_uts(what, value)
                    if what == "hostname":
                        last = value
        if uts_new and socket.gethostname() != last:
            last = socket.gethostname()
            _report(f"hostname {last}")
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


def _report(line: str) -> None:
    try:
        os.write(1, line.encode() + b"\n")
    except OSError:
        pass


def _init(spec: Spec) -> None:
    _pdeathsig()
    host_pid = _host_pid()
    if "net" in spec.new:
        from pyroute2 import IPRoute        # before the host's files are out of reach
    build_root(spec)
    if "uts" in spec.new:
        for what in ("hostname", "domainname"):
            value = getattr(spec, what)
            if value is not None:
                _set_uts(what, value)
    if "net" in spec.new:
        with IPRoute() as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
    _report(f"ready {host_pid}")
    _serve("uts" in spec.new)


def _first_line() -> bytes:
    """The spec line of stdin, read without buffering what follows it."""
    line = b""
    while not line.endswith(b"\n"):
        c = os.read(0, 1)
        if not c:
            break
        line += c
    return line


def main() -> int:
    spec = Spec(**json.loads(_first_line()))
    _pdeathsig()
    # Undumpable from the start: a nested jail's anchor forks once inside its
    # parent's pid namespace, where the parent jail's root sees it.
    pyprctl.set_dumpable(False)
    # Join what the jail shares with an ancestor (namespaces it does not make).
    for nstype, pid in spec.join.items():
        fd = os.open(ns_path(pid, nstype), os.O_RDONLY)
        try:
            sc.setns(fd, CLONE_FLAGS[nstype])
        finally:
            os.close(fd)
    if "pid" in spec.join:
        # unshare(CLONE_NEWPID) needs to be in the pid namespace it nests in
        # (not only its pid_for_children): one more fork puts us there.
        if _fork_and_wait():
            return 0
    flags = 0
    for nstype in spec.new:
        flags |= CLONE_FLAGS[nstype]
    if spec.cgroup:
        _enter_cgroup(spec.cgroup)
    try:
        sc.unshare(flags)
    except OSError as e:
        _report(f"error unshare: {e.strerror}")
        return 1
    if spec.cgroup:
        _enter_cgroup(spec.cgroup_back)
    if _fork_and_wait():
        return 0
    try:
        _init(spec)
    except Exception as e:      # noqa: BLE001 - reported to the daemon, then gone
        # an OSError of our own words (no file name) without its "[Errno N]"
        _report(f"error {e.strerror if isinstance(e, OSError) and e.strerror and e.filename is None else e}")
        os._exit(1)
    os._exit(0)


def _enter_cgroup(path: str) -> None:
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


def _fork_and_wait() -> bool:
    """Fork; the parent waits for the child and returns True, the child False."""
    pid = os.fork()
    if pid == 0:
        return False
    while True:
        try:
            os.waitpid(pid, 0)
            return True
        except InterruptedError:
            continue
        except ChildProcessError:
            return True


if __name__ == "__main__":
    sys.exit(main())
