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
which never call back into this filesystem.  A process that cannot be
inspected counts as a possible writer: when in doubt, deny.

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


def _fdinfo(pid: int, fd: int) -> dict | None:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    out = {}
    for line in data.split(b"\n"):
        key, _, value = line.partition(b":")
        if value:
            out[key.decode()] = value.strip().decode(errors="replace")
    return out


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


def _is_this_file(pid: int, fd: int, ino: int, cache: dict) -> bool | None:
    """True when ``fd`` of ``pid`` is (or may be) this jailfs file, None when it
    is closed.  A descriptor passed in from another mount namespace (the
    host's, to a confined jail) is on a mount its holder's table does not
    list: then the daemon's own table says, and a mount neither lists counts
    as this one (mount ids are unique across namespaces)."""
    info = _fdinfo(pid, fd)
    if info is None:
        return None
    if info.get("ino") != str(ino):
        return False
    mnt_id = info.get("mnt_id", "")
    fstype = _mount_fstype(pid, mnt_id, cache)
    if fstype is None:
        fstype = _mount_fstype("self", mnt_id, cache)
    return fstype in (None, FUSE_FSTYPE)


def holds_or_writes(pid: int, ino: int) -> bool:
    """Whether process ``pid`` holds, or is writing through, file ``ino``."""
    cache: dict = {}
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            if _is_this_file(pid, int(name), ino, cache):
                return True
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/syscall", "rb") as f:
                    call = f.read().split()
            except (FileNotFoundError, ProcessLookupError):
                continue                        # the thread has just ended
            if not call or not call[0].lstrip(b"-").isdigit():
                continue                        # "running": not blocked in a call
            arg = WRITE_SYSCALLS.get(int(call[0]))
            if arg is not None and _is_this_file(pid, int(call[1 + arg], 16), ino, cache) \
                    is not False:
                return True
    except (FileNotFoundError, ProcessLookupError):
        return False                            # the process has ended (ESRCH: since its lookup)
    except (OSError, ValueError, IndexError):
        return True                             # cannot inspect it: it might be the writer
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
