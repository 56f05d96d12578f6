"""An open descriptor does not carry its opener's rights: the writer's do.

FreeBSD checks the credential of the thread making each call.  pyfuse3's
write() is not told who is writing (no request context), so the writer is
found the way Linux shows it: while a write on a jailfs file is being
answered, its thread is inside a write-family system call on a descriptor of
that file, waiting for the answer (/proc/PID/task/TID/wchan is
``request_wait_answer``), and it holds the file's inode lock (jailfs's files
take no parallel direct writes), so no other synchronous write on that file
is in flight: that thread is the writer, and it is the only one.

A write on a descriptor opened in view V is allowed only when its writer is
found and is in V's prison or an ancestor of it (the host's view is every
jail's ancestor).  A writer that cannot be found is refused (EPERM): one that
closed its descriptor, or put another file in its place, while its write was
in flight (the old guard looked for the descriptor, and a jailed process
with a host descriptor swapped it for /dev/null between its write and the
daemon's look, and wrote as the host), an asynchronous write (Linux AIO and
io_uring, which a confined jail's seccomp filter refuses; a host process
using them on jailfs gets EPERM), a 32-bit system call (its numbers are not
x86_64's).

A thread seen running may be the writer between queueing its request and
going to sleep (a virtual CPU can be taken from it just there): when no
writer is found, the threads seen running are looked at again after short
pauses (~64 ms in all, awaited: the daemon serves other requests meanwhile).

Inspection reads /proc (syscall, wchan, fdinfo, mountinfo), which never calls
back into this filesystem nor any other.  The opener is looked at first (it
is the writer of nearly every write: a shell's redirection, jail(8)'s
session), then, for a jail's view, the processes of that jail and below it,
then every process.  Where no process is in any jail (the jails'
cgroup tree is empty), no writer can have less than any view and nothing is
looked at.
"""

from __future__ import annotations

import errno
import os

import trio
from pyfuse3 import FUSEError

from jailfs.host.paths import JAILFS_FSTYPE, fstype, mountinfo
from jailfs.ops.runfiles import unescape_mount_field

# x86_64 system call numbers -> index of the descriptor written to
WRITE_SYSCALLS = {1: 0, 18: 0, 20: 0, 296: 0, 328: 0,     # write, pwrite64, writev, pwritev(2)
                  40: 0, 275: 2, 326: 2}                    # sendfile, splice, copy_file_range
WAITING = b"request_wait_answer"    # where a thread waits for a FUSE answer (fs/fuse/dev.c)


def _read(path: str) -> bytes | None:
    """A /proc file's content (one read: they are small); None when it or
    its process is gone, or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


def _field(fdinfo: bytes, key: bytes) -> bytes | None:
    """A field of an fdinfo file (every key but the first line's, ``pos``,
    follows a newline)."""
    i = fdinfo.find(b"\n" + key + b":")
    if i < 0:
        return None
    end = fdinfo.find(b"\n", i + 1)
    return fdinfo[i + len(key) + 2:end if end >= 0 else None].strip()


def _mounts(pid: int | str) -> dict[str, tuple[str, str, str]]:
    """mount id -> (device, mount point, type) in ``pid``'s mount table."""
    try:
        return {f[0]: (f[2], unescape_mount_field(f[4]), fstype(f)) for f in mountinfo(pid)}
    except (OSError, ValueError, IndexError):
        return {}


class OurMount:
    """This daemon's mount: its id in the daemon's mount table (mount ids are
    unique across namespaces) and its device (a jail's bind of it has another
    id and the same device)."""

    def __init__(self, mountpoint: str | None = None):
        """``mountpoint`` None: not mounted, nothing is this mount."""
        self.mnt_id, self.dev = "", ""
        if mountpoint is None:
            return
        for mnt_id, (dev, where, kind) in _mounts("self").items():
            if where == mountpoint and kind == JAILFS_FSTYPE:
                self.mnt_id, self.dev = mnt_id, dev      # the last: the one on top

    def holds(self, mnt_id: str, pid: int, tables: dict) -> bool:
        """Whether mount ``mnt_id`` of process ``pid`` is this one."""
        if not self.dev:
            return False
        if mnt_id == self.mnt_id:
            return True
        if pid not in tables:
            tables[pid] = _mounts(pid)
        found = tables[pid].get(mnt_id)
        return found is not None and found[0] == self.dev and found[2] == JAILFS_FSTYPE


WRITER, MAYBE, OTHER = "writer", "maybe", ""
# Pauses before a thread seen running is looked at again (seconds, ~64 ms in
# all): between queueing its request and going to sleep the writer runs, and
# a virtual CPU can be taken away from it just there for milliseconds.
PAUSES = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032)


def _writing(task: str, ino: bytes, mount: OurMount, pid: int, tables: dict) -> str:
    """Whether thread ``task`` (/proc/PID/task/TID) of process ``pid`` waits
    for the answer to a write on a descriptor of inode ``ino`` of this mount
    (WRITER), is running and so may be about to (MAYBE), or neither (OTHER)."""
    call = (_read(task + "/syscall") or b"").split()
    if call[:1] == [b"running"]:
        return MAYBE
    if not call or not call[0].isdigit():
        return OTHER                # gone, or blocked outside a system call
    arg = WRITE_SYSCALLS.get(int(call[0]))
    if arg is None:
        return OTHER
    wchan = (_read(task + "/wchan") or b"").strip()
    if wchan != WAITING:
        return MAYBE if wchan == b"0" else OTHER    # "0": woken, not yet running
    try:
        fd = int(call[1 + arg], 16)
    except (ValueError, IndexError):
        return OTHER
    info = _read(f"{task}/fdinfo/{fd}")
    if info is None or _field(info, b"ino") != ino:
        return OTHER
    return WRITER if mount.holds((_field(info, b"mnt_id") or b"").decode(), pid,
                                 tables) else OTHER


def _tasks(pid: int):
    """/proc paths of ``pid``'s threads, its main thread first (nearly
    always the writer: the others are listed only when it is not)."""
    base = f"/proc/{pid}/task"
    main = str(pid)
    yield f"{base}/{main}"
    try:
        tids = os.listdir(base)
    except OSError:
        return
    yield from (f"{base}/{tid}" for tid in tids if tid != main)


async def writer_of(ino: int, mount: OurMount, first: int, near=tuple) -> int | None:
    """The pid of the process whose thread waits for the answer to a write on
    inode ``ino`` of this mount, or None.  Process ``first`` (the opener) is
    looked at first, then those ``near()`` gives (its jail's), then every
    other: a jailed process that hands its descriptor to another of its jail
    costs the daemon a look at its jail, not at the whole host.  Threads seen
    running are looked at again after a pause (awaited: other requests go on
    meanwhile) until one waits or none runs."""
    want = str(ino).encode()
    tables: dict = {}

    def processes():
        yield first
        yield from near()
        yield from (int(name) for name in os.listdir("/proc") if name.isdigit())

    def threads():
        seen = {os.getpid()}
        for pid in processes():
            if pid not in seen:
                seen.add(pid)
                yield from ((pid, task) for task in _tasks(pid))

    def look(tasks) -> tuple[int | None, list]:
        """(the writer's pid or None, the threads seen running)."""
        running = []
        for pid, task in tasks:
            state = _writing(task, want, mount, pid, tables)
            if state is WRITER:
                return pid, []
            if state is MAYBE:
                running.append((pid, task))
        return None, running
    pid, running = look(threads())
    for pause in PAUSES:
        if pid is not None or not running:
            break
        await trio.sleep(pause)
        pid, running = look(running)
    return pid


async def authorise(fs, h) -> None:
    """Refuse (EPERM) a write on handle ``h`` unless its writer is found and
    has at least the rights of the view ``h`` was opened in."""
    if not fs.supervisor.anyone_jailed():
        return                      # every process is the host's
    view, node = h.view, h.node
    root = view.root
    pid = await writer_of(node.kind.ino(fs, view, node), fs.our_mount, h.pid,
                          tuple if view is fs.host else lambda: fs.supervisor.jail_pids(root))
    opened = f"descriptor opened in {'the host' if view is fs.host else 'a jail'}'s view"
    if pid is None:
        msg = f"{opened}: its writer cannot be told (a descriptor closed or replaced " \
              "during the write, or an asynchronous write)"
    else:
        try:
            where = fs.supervisor.caller_prison(pid)
        except FUSEError:           # gone, or in no jail we know
            where = None
        if where is not None and (where is root or root.is_descendant_of(where)):
            return                  # the opener's view or above
        msg = f"{opened} is written by process {pid}, which is not"
    h.answer = f"error EPERM {msg}\n".encode()
    raise fs.refusals.refuse(view, errno.EPERM, msg, "write", node.kind.path(view, node))
