"""The few raw Linux calls confinement needs that Python 3.11 does not offer.

os.setns and os.unshare arrived in Python 3.12; pidfd_getfd(2), mount(2), umount2(2),
pivot_root(2), setdomainname(2), statx(2) and the mount API (open_tree, move_mount,
fsopen, fsconfig, fsmount) have no Python wrapper at all, and the
libraries we use (pyroute2: network namespaces only; pyprctl: prctl and
capabilities) do not cover them.  So they are here, in one place, as thin
ctypes calls that raise OSError like the os module does.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWTIME = 0x00000080

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 0x2
UMOUNT_NOFOLLOW = 0x8
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = 0o2000000         # O_CLOEXEC
AT_RECURSIVE = 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_EMPTY_PATH = 0x40
FSOPEN_CLOEXEC = 0x1
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_NOEXEC = 0x8

AT_SYMLINK_NOFOLLOW = 0x100
AT_STATX_DONT_SYNC = 0x4000
STATX_TYPE = 0x1
STATX_MNT_ID = 0x1000

SYS_PIVOT_ROOT = 155          # x86_64; see _pivot_root_nr for others

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _b(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def setns(fd: int, nstype: int) -> None:
    """Join the namespace(s) of ``fd``: a /proc/PID/ns/X file, or a pidfd with
    several CLONE_NEW* flags (joined at once, Linux 5.8+)."""
    _check(_libc.setns(fd, nstype), "setns")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None = None,
          flags: int = 0, data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)),
           f"mount {target}")


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_b(target), flags), f"umount {target}")


def _pivot_root_nr() -> int:
    machine = os.uname().machine
    return {"x86_64": 155, "aarch64": 41, "riscv64": 41}.get(machine, SYS_PIVOT_ROOT)


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(_pivot_root_nr(), _b(new_root), _b(put_old)), "pivot_root")


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(_libc.setdomainname(raw, len(raw)), "setdomainname")


class _Statx(ctypes.Structure):
    """struct statx, up to the mount id (the kernel writes 256 bytes)."""
    _fields_ = [("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32),
                ("attributes", ctypes.c_uint64), ("nlink", ctypes.c_uint32),
                ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32), ("mode", ctypes.c_uint16),
                ("_pad", ctypes.c_uint16), ("ino", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("blocks", ctypes.c_uint64), ("attributes_mask", ctypes.c_uint64),
                ("_times", ctypes.c_uint8 * 64), ("rdev", ctypes.c_uint32 * 2),
                ("dev", ctypes.c_uint32 * 2), ("mnt_id", ctypes.c_uint64),
                ("_rest", ctypes.c_uint8 * 104)]


def file_type_and_mount(fd: int) -> tuple[int, int]:
    """(st_mode's file type, mount id) of descriptor ``fd``, from what the
    kernel already holds (AT_STATX_DONT_SYNC): a file on a FUSE mount is not
    asked of its daemon."""
    buf = _Statx()
    _check(_libc.statx(fd, b"", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
                       STATX_TYPE | STATX_MNT_ID, ctypes.byref(buf)), "statx")
    if not buf.mask & STATX_MNT_ID:
        raise OSError(95, "statx: no mount id (Linux 5.8 or later)")
    return buf.mode, buf.mnt_id


SYS_PIDFD_GETFD = 438           # the same number on every architecture (Linux 5.6+)


def pidfd_getfd(pidfd: int, fd: int) -> int:
    """A duplicate of descriptor ``fd`` of the process behind ``pidfd``
    (close-on-exec); the caller needs ptrace access to that process."""
    return _check(_libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0), f"pidfd_getfd {fd}")


# The mount API, Linux 5.2+: numbered alike on every architecture since the
# syscall tables were unified (asm-generic: 428-432).  Descriptors instead of
# paths: what is checked is what gets mounted, whatever a name means later.
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
SYS_FSOPEN = 430
SYS_FSCONFIG = 431
SYS_FSMOUNT = 432


def open_tree(path: str, flags: int = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC,
              dir_fd: int = AT_FDCWD) -> int:
    """A descriptor of a detached copy of the mount at ``path`` (relative to
    ``dir_fd``; "" with AT_EMPTY_PATH: ``dir_fd`` itself), rooted there
    (OPEN_TREE_CLONE: the mount must be in the caller's namespace; the copy
    may then be attached in another one; AT_RECURSIVE: with the mounts below)."""
    return _check(_libc.syscall(SYS_OPEN_TREE, dir_fd, _b(path), flags), f"open_tree {path}")


def move_mount(fd: int, target: str, target_fd: int = AT_FDCWD) -> None:
    """Attach the detached mount of ``fd`` (from open_tree or fsmount) at
    ``target`` (relative to ``target_fd``; "": on ``target_fd`` itself), in
    the caller's mount namespace."""
    flags = MOVE_MOUNT_F_EMPTY_PATH | (MOVE_MOUNT_T_EMPTY_PATH if target == "" else 0)
    _check(_libc.syscall(SYS_MOVE_MOUNT, fd, b"", target_fd, _b(target), flags),
           f"move_mount {target or target_fd}")


def fsmount(fstype: str, attrs: int = 0, **options: str) -> int:
    """A new, detached mount of a fresh ``fstype`` file system (options as
    mount(8)'s ``-o key=value``): a descriptor of its root, for move_mount."""
    fs = _check(_libc.syscall(SYS_FSOPEN, _b(fstype), FSOPEN_CLOEXEC), f"fsopen {fstype}")
    try:
        for key, value in options.items():
            _check(_libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, _b(key), _b(value), 0),
                   f"fsconfig {fstype} {key}={value}")
        _check(_libc.syscall(SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, None, None, 0),
               f"fsconfig {fstype} create")
        return _check(_libc.syscall(SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC, attrs), f"fsmount {fstype}")
    finally:
        os.close(fs)
