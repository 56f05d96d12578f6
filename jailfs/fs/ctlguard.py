"""An open descriptor does not carry its opener's rights.

FreeBSD checks the credential of the thread making each call.  pyfuse3's
write() is not told who is writing (no request context), so a request is
authorised the other way round: a write on a descriptor opened in view V is
refused (EPERM) while any process that would get less than V (a process not in
V's prison or one of its ancestors: a jailed process below or beside it) could
be the writer, that is when such a process

* holds a descriptor of this very file (same inode, on a jailfs mount), which
  it can only have been given (SCM_RIGHTS, pidfd_getfd) since its own open
  would have given it its own view's inode; or
* has a thread inside a write-family system call whose descriptor is this
  file or has just been closed (a writer that closes its descriptor while its
  write is in flight).

Every thread that writes on a FUSE file is blocked in that system call until
the daemon answers, so the writer of the request being checked is always
found.  Inspection reads /proc/PID/fdinfo and /proc/PID/task/TID/syscall,
which never call back into this filesystem (nor into any other: a hung
file system a jailed process holds cannot stall the daemon).  A process
that cannot be inspected counts as a possible writer: when in doubt, deny.

Only processes in the jails' cgroups are candidates (the supervisor lists
them): any other process's /proc/PID/cgroup places it outside every jail,
that is in the host's view, which no view exceeds.  A writer cannot move
itself out of its cgroup while blocked in its write, and the daemon, the one
that moves processes into jails, is busy with this check.  Without cgroups,
or when part of the tree cannot be read, every process is a candidate.
"""

from __future__ import annotations

import errno
import os

from pyfuse3 import FUSEError

# x86_64 system call numbers -> index of the descriptor written to
WRITE_SYSCALLS = {1: 0, 18: 0, 20: 0, 296: 0, 328: 0,     # write, pwrite64, writev, pwritev(2)
                  40: 0, 275: 2, 326: 2}                    # sendfile, splice, copy_file_range
FUSE_FSTYPE = "fuse.jailfs"


def _read(path: str, dir_fd: int | None = None) -> bytes | None:
    """A /proc file's content (one read: they are small); None when it is
    gone (a descriptor closed meanwhile).  ESRCH and the others propagate."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    try:
        return os.read(fd, 4096)
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


def _mount_fstype(pid: int | str, mnt_id: str, cache: dict) -> str | None:
    """The type of mount ``mnt_id`` in ``pid``'s mount table, None when not there."""
    key = (pid, mnt_id)
    if key not in cache:
        cache[key] = None
        with open(f"/proc/{pid}/mountinfo", "rb") as f:
            for line in f:
                fields = line.split()
                if fields and fields[0].decode() == mnt_id:
                    sep = fields.index(b"-")
                    cache[key] = fields[sep + 1].decode()
                    break
    return cache[key]


def _is_this_file(pid: int, fdinfo_dir: int, fd: str, ino: bytes, cache: dict) -> bool | None:
    """True when descriptor ``fd`` of ``pid`` (its /proc fdinfo directory
    open as ``fdinfo_dir``) is (or may be) this jailfs file, None when it is
    closed.  A descriptor passed in from another mount namespace (the
    host's, to a confined jail) is on a mount its holder's table does not
    list: then the daemon's own table says, and a mount neither lists counts
    as this one (mount ids are unique across namespaces)."""
    info = _read(fd, fdinfo_dir)
    if info is None:
        return None
    if _field(info, b"ino") != ino:
        return False
    mnt_id = (_field(info, b"mnt_id") or b"").decode()
    fstype = _mount_fstype(pid, mnt_id, cache)
    if fstype is None:
        fstype = _mount_fstype("self", mnt_id, cache)
    return fstype in (None, FUSE_FSTYPE)


def holds_or_writes(pid: int, ino: int) -> bool:
    """Whether process ``pid`` holds, or is writing through, file ``ino``.
    Its descriptors are read through one open /proc/PID/fdinfo directory
    and only their ``ino`` compared (mount tables read only for a match):
    ~4.5 us a descriptor, the listing included."""
    cache: dict = {}
    want = str(ino).encode()
    try:
        fdinfo_dir = os.open(f"/proc/{pid}/fdinfo", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, ProcessLookupError):
        return False                            # the process has ended
    except OSError:
        return True                             # cannot inspect it: it might be the writer
    try:
        for name in os.listdir(fdinfo_dir):
            if _is_this_file(pid, fdinfo_dir, name, want, cache):
                return True
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                call = (_read(f"/proc/{pid}/task/{tid}/syscall") or b"").split()
            except ProcessLookupError:
                continue                        # the thread has just ended
            if not call or not call[0].lstrip(b"-").isdigit():
                continue                        # "running": not blocked in a call
            arg = WRITE_SYSCALLS.get(int(call[0]))
            if arg is not None and _is_this_file(pid, fdinfo_dir, str(int(call[1 + arg], 16)),
                                                 want, cache) is not False:
                return True
    except (FileNotFoundError, ProcessLookupError):
        return False                            # the process has ended (ESRCH: since its lookup)
    except (OSError, ValueError, IndexError):
        return True                             # cannot inspect it: it might be the writer
    finally:
        os.close(fdinfo_dir)
    return False


def outsider_holds(fs, view, ino: int) -> int | None:
    """The pid of a process with less than ``view``'s rights that holds or is
    writing through file ``ino``, or None."""
    k = fs.k
    if not k.real_procs:
        return None                             # no real process is in any jail
    root = view.root
    me = os.getpid()
    pids = fs.supervisor.possible_outsiders()
    if pids is None:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    for pid in pids:
        if pid == me:
            continue
        try:
            where = fs.supervisor.caller_prison(pid)
        except FUSEError:                       # gone, or in no jail we know: inspect it
            where = None
        if where is not None and (where is root or root.is_descendant_of(where)):
            continue                            # the opener's view or above: may use it
        if holds_or_writes(pid, ino):
            return pid
    return None


def authorise(fs, h) -> None:
    """Refuse (EPERM) a write on handle ``h`` that may come from a process with
    less than its opener's rights."""
    view, node = h.view, h.node
    pid = outsider_holds(fs, view, node.kind.ino(fs, view, node))
    if pid is not None:
        msg = f"descriptor opened in {'the host' if view is fs.host else 'a jail'}'s view " \
              f"is held by process {pid}, which is not"
        h.answer = f"error EPERM {msg}\n".encode()
        raise fs.refusals.refuse(view, errno.EPERM, msg, "write", node.kind.path(view, node))
