"""Where a daemon keeps its run files (pid, log) and what /proc says is mounted
and about a process (its /proc/PID/stat and status, read here once for every
user).

A daemon of mount point MNT writes ``state_dir()/<escaped MNT>.pid`` while it
serves; a background daemon logs to ``<escaped MNT>.log`` beside it.  Both
are removed when it unmounts cleanly.
"""

from __future__ import annotations

import os
import re


def unescape_mount_field(field: str) -> str:
    r"""Undo the kernel's ``\ooo`` escapes (space, tab, newline, backslash)
    in a /proc/mounts or mountinfo field."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def state_dir() -> str:
    if os.geteuid() == 0:
        return "/run/jailfs"
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "jailfs")
    return f"/tmp/jailfs-{os.getuid()}"


def _escape(path: str) -> str:
    return path.replace("%", "%25").replace("/", "%2F")


def pid_file(mountpoint: str) -> str:
    return os.path.join(state_dir(), _escape(mountpoint) + ".pid")


def log_file(mountpoint: str) -> str:
    return os.path.join(state_dir(), _escape(mountpoint) + ".log")


def absolute(mountpoint: str) -> str:
    """The mount point's canonical path, without touching the point itself
    (stat on a stale FUSE mount fails with ENOTCONN, on a hung one it blocks)."""
    p = os.path.abspath(mountpoint)
    head, tail = os.path.split(p)
    return os.path.join(os.path.realpath(head), tail) if tail else p


def mounts(fstype: str | None = None) -> list[tuple[str, str, str]]:
    """(source, mount point, fs type) of each mount this process sees, in
    mount order, optionally only those of ``fstype``."""
    found = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 10:
                    continue
                sep = fields.index("-", 6)
                kind = fields[sep + 1]
                if fstype is None or kind == fstype:
                    found.append((unescape_mount_field(fields[sep + 2]),
                                  unescape_mount_field(fields[4]), kind))
    except OSError:
        pass
    return found


def mounted_fstype(mountpoint: str) -> str | None:
    """The fs type mounted exactly at ``mountpoint`` (topmost), or None."""
    found = None
    for _source, point, kind in mounts():
        if point == mountpoint:
            found = kind
    return found


def read_pid(mountpoint: str) -> int | None:
    """The daemon pid recorded for ``mountpoint`` if that process still runs jailfs."""
    try:
        with open(pid_file(mountpoint)) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return None
    return pid if b"jailfs" in cmd else None


def write_pid(mountpoint: str) -> None:
    os.makedirs(state_dir(), mode=0o755, exist_ok=True)
    tmp = pid_file(mountpoint) + f".{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n{mountpoint}\n")
    os.replace(tmp, pid_file(mountpoint))


def remove_pid(mountpoint: str, pid: int | None = None) -> None:
    """Remove the pid file if it is that of ``pid`` (default: this process):
    a daemon at exit, or whoever ended a daemon that could not (SIGKILL)."""
    pid = os.getpid() if pid is None else pid
    try:
        with open(pid_file(mountpoint)) as f:
            if int(f.read().split()[0]) != pid:
                return
        os.unlink(pid_file(mountpoint))
    except (OSError, ValueError, IndexError):
        pass


def forget_dead_daemon(mountpoint: str) -> None:
    """Remove the pid file and log of ``mountpoint`` when no jailfs process
    serves it any more (its daemon was killed and could not clean up)."""
    if os.path.exists(pid_file(mountpoint)) and read_pid(mountpoint) is None:
        try:
            os.unlink(pid_file(mountpoint))
        except OSError:
            pass
        remove_log(log_file(mountpoint))


def remove_log(logpath: str) -> None:
    for p in (logpath, logpath + ".1"):
        try:
            os.unlink(p)
        except OSError:
            pass


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (index 0 is the
    state, field 3 in proc(5)), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold anything.
    return data[data.rfind(b")") + 2:].split()


def status_field(pid: int | str, key: str, proc: int | None = None) -> list[str] | None:
    """The words after ``KEY:`` in /proc/PID/status, or None when the process
    is gone or has no such line.  ``proc``: a descriptor of the /proc to read
    (the host's, kept by a process that has joined a jail's mount namespace)."""
    prefix = key.encode() + b":"
    try:
        if proc is None:
            f = open(f"/proc/{pid}/status", "rb")
        else:
            f = os.fdopen(os.open(f"{pid}/status", os.O_RDONLY, dir_fd=proc), "rb")
        with f:
            for line in f:
                if line.startswith(prefix):
                    return line.decode("utf-8", "surrogateescape").split()[1:]
    except OSError:
        pass
    return None


def pid_at_depth(pid: int, depth: int, proc: int | None = None) -> int | None:
    """Host pid ``pid`` as the pid namespace ``depth`` levels below the host's
    numbers it (a jail's, nested as the jails are): the (depth+1)th entry of
    its NSpid.  None when it is gone or not that deep (outside such a jail).
    ``proc``: as for status_field."""
    chain = status_field(pid, "NSpid", proc)
    return int(chain[depth]) if chain is not None and len(chain) > depth else None


def process_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, D, T, Z...), or None if gone."""
    fields = stat_fields(pid)
    return None if fields is None else fields[0][:1].decode()


def start_time(pid: int, zombie_too: bool = True) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks after boot), None when gone
    (or, unless ``zombie_too``, dead and not yet reaped)."""
    fields = stat_fields(pid)
    try:
        return None if fields[0] == b"Z" and not zombie_too else int(fields[19])
    except (TypeError, IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    return process_state(pid) not in (None, "Z")
