"""Finding the jailfs mount and talking to its ``.ctl`` transaction file.

Shared by the jail(8), jls(8) and jexec(8) work-alikes.

``find_mount()``
    The mount point to use: ``$JAILFS_MOUNT`` when set (it must hold a
    ``.ctl``), otherwise the single ``fuse.jailfs`` entry of
    ``/proc/mounts``.  Raises :class:`MountError` (its ``str`` is a one-line
    message meant for ``PROG: MESSAGE`` on stderr) when there is none, or
    several and ``$JAILFS_MOUNT`` does not choose.

``ctl_request(mount, text) -> (ok, value, extra_lines)``
    One transaction: open ``MOUNT/.ctl`` read-write, write ``text`` in one
    write, read the whole answer.  ``ok`` is True for an ``ok`` answer and
    ``value`` is what follows ``ok`` (``""`` when nothing does).  For an
    ``error ENAME MESSAGE`` answer ``ok`` is False and ``value`` is MESSAGE,
    exactly the text jail(8) prints after ``jail: ``.  ``extra_lines`` are the
    answer's further lines (without newlines).

``ctl_answer(mount, text) -> CtlAnswer``
    The same with the error name kept: ``CtlAnswer(ok, errname, value, extra)``
    where ``errname`` is ``"EPERM"`` etc. (``""`` for ok).
"""

from __future__ import annotations

import errno as _errno
import os
import shlex
from typing import NamedTuple

__all__ = [
    "MountError",
    "CtlAnswer",
    "find_mount",
    "proc_mounts",
    "ctl_request",
    "ctl_answer",
    "ctl_path",
    "quote",
    "FSTYPE",
]

FSTYPE = "fuse.jailfs"
PROC_MOUNTS = "/proc/mounts"


class MountError(Exception):
    """No usable jailfs mount; ``str(e)`` is a one-line message."""


class CtlAnswer(NamedTuple):
    ok: bool
    errname: str        # "" when ok, else "EPERM", "ENOENT", ...
    value: str          # after "ok", or the error MESSAGE
    extra: list[str]    # further answer lines


def quote(value: str) -> str:
    """Quote one word of a .ctl request (shlex rules, as the daemon splits)."""
    return shlex.quote(value)


def _unescape_mount_field(s: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as \ooo.
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and len(s[i + 1:i + 4]) == 3 and s[i + 1:i + 4].isdigit():
            try:
                out.append(chr(int(s[i + 1:i + 4], 8)))
                i += 4
                continue
            except ValueError:
                pass
        out.append(c)
        i += 1
    return "".join(out)


def proc_mounts(path: str = PROC_MOUNTS) -> list[str]:
    """Every jailfs mount point listed in ``/proc/mounts``, in listed order."""
    found: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        source, target, fstype = fields[0], fields[1], fields[2]
        if fstype == FSTYPE or (fstype.startswith("fuse") and source == "jailfs"):
            mp = _unescape_mount_field(target)
            if mp not in found:
                found.append(mp)
    return found


def find_mount(env: dict | None = None, mounts_file: str = PROC_MOUNTS) -> str:
    """Return the jailfs mount point to use, or raise :class:`MountError`."""
    env = os.environ if env is None else env
    chosen = env.get("JAILFS_MOUNT")
    if chosen:
        if not os.path.exists(os.path.join(chosen, ".ctl")):
            raise MountError(
                f"JAILFS_MOUNT={chosen}: not a jailfs mount (no {chosen}/.ctl)")
        return chosen
    found = proc_mounts(mounts_file)
    if not found:
        raise MountError(
            "no jailfs mount found: mount one with `jailfs mount DIR` "
            "or set JAILFS_MOUNT")
    if len(found) > 1:
        raise MountError(
            "several jailfs mounts (" + ", ".join(found) + "): "
            "set JAILFS_MOUNT to choose one")
    return found[0]


def ctl_path(mount: str) -> str:
    return os.path.join(mount, ".ctl")


def _parse_answer(data: str, write_err: OSError | None) -> CtlAnswer:
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        if write_err is not None:
            en = write_err.errno or _errno.EIO
            return CtlAnswer(False, _errno.errorcode.get(en, "EIO"),
                             os.strerror(en), [])
        return CtlAnswer(False, "EIO", "empty answer from .ctl", [])
    first, extra = lines[0], lines[1:]
    if first == "ok" or first.startswith("ok "):
        return CtlAnswer(True, "", first[3:], extra)
    if first.startswith("error"):
        rest = first[len("error"):].strip()
        name, _, msg = rest.partition(" ")
        return CtlAnswer(False, name, msg, extra)
    return CtlAnswer(False, "EIO", f"unexpected answer from .ctl: {first}", extra)


def ctl_answer(mount: str, text: str) -> CtlAnswer:
    """Do one .ctl transaction; see the module docstring."""
    if not text.endswith("\n"):
        text += "\n"
    fd = os.open(ctl_path(mount), os.O_RDWR)
    try:
        write_err: OSError | None = None
        try:
            os.write(fd, text.encode("utf-8", "surrogateescape"))
        except OSError as e:       # the write carries the errno; answer still readable
            write_err = e
        chunks = []
        while True:
            try:
                b = os.read(fd, 65536)
            except OSError as e:
                if not chunks and write_err is None:
                    write_err = e
                break
            if not b:
                break
            chunks.append(b)
        data = b"".join(chunks).decode("utf-8", "surrogateescape")
    finally:
        os.close(fd)
    return _parse_answer(data, write_err)


def ctl_request(mount: str, text: str) -> tuple[bool, str, list[str]]:
    """One .ctl transaction -> ``(ok, value, extra_lines)``."""
    a = ctl_answer(mount, text)
    return a.ok, a.value, a.extra
