"""The `.ctl` wire format, both sides, and the client that finds the mount.

This module is the one owner of the protocol (docs/ctl.md).  The server
(``jailfs.ctl.execute``) builds its answers with :func:`ok_answer` and
:func:`error_answer`; every tool and test builds requests with :func:`quote`
/ :func:`request` and reads answers with :func:`parse_answer` (or
:func:`ctl_answer`, which does a whole transaction, or :class:`CtlSession` for
many on one descriptor).

Request: one line of shell-like words (``shlex`` rules), e.g.
``get web name host.hostname``.

Answer: a first line, then zero or more further lines::

    ok [VALUE]
    error ERRNAME MESSAGE

The further lines of ``get`` are ``NAME=VALUE`` with the value shell-quoted
(:func:`kv_line`, :func:`parse_kv`).

It imports nothing of jailfs but the run-file conventions (jailfs.ops.runfiles),
so the tools can use it without the daemon's code.
"""

from __future__ import annotations

import errno as _errno
import os
import re
import shlex
from typing import Iterable, NamedTuple

from jailfs.ops import runfiles

__all__ = [
    "FSTYPE", "CTL_NAME", "MountError", "CtlAnswer",
    "quote", "request", "split_request", "split_words",
    "ok_answer", "error_answer", "kv_line", "parse_kv", "parse_answer",
    "record_line", "parse_records",
    "find_mount", "jailfs_mounts", "default_mount", "ctl_path",
    "CtlSession", "ctl_transact", "ctl_answer",
]

FSTYPE = "fuse.jailfs"
CTL_NAME = ".ctl"
READ_SIZE = 65536               # a read shorter than this ends an answer


class MountError(Exception):
    """No usable jailfs mount; ``str(e)`` is a one-line message."""


class CtlAnswer(NamedTuple):
    ok: bool
    errname: str        # "" when ok, else "EPERM", "ENOENT", ...
    value: str          # after "ok", or the error MESSAGE
    extra: list[str]    # further answer lines

    def kv(self) -> dict[str, str]:
        """The ``NAME=VALUE`` further lines as a dict (see :func:`parse_kv`)."""
        return parse_kv(self.extra)


# ------------------------------------------------------------------ requests

def quote(value: str) -> str:
    """Quote one word of a request (shlex rules, as the daemon splits)."""
    return shlex.quote(value)


def request(*words: str) -> str:
    """One request line from its words, each quoted."""
    return " ".join(quote(w) for w in words)


def split_request(text: str) -> list[str]:
    """The words of a request (raises ValueError on unbalanced quotes)."""
    return split_words(text)


# shlex.split's words when the text has no backslash: runs of anything but its
# whitespace (" \t\r\n") and quotes, and quoted spans, taken literally.
_BALANCED = re.compile(r"""(?:[^'"]++|'[^']*+'|"[^"]*+")*+""")
_WORD = re.compile(r"""(?:[^ \t\r\n'"]++|'[^']*+'|"[^"]*+")++""")
_QUOTED = re.compile("'([^']*+)'|\"([^\"]*+)\"")


def _unquote(m: re.Match) -> str:
    return m.group(1) if m.group(1) is not None else m.group(2)


def split_words(text: str) -> list[str]:
    """shlex.split(text), at regular-expression speed for what shlex.quote writes
    (a bulk answer holds thousands of words); shlex itself for text with a
    backslash or an unbalanced quote (its words, or its ValueError)."""
    if "\\" in text or not _BALANCED.fullmatch(text):
        return shlex.split(text)
    return [_QUOTED.sub(_unquote, w) if "'" in w or '"' in w else w for w in _WORD.findall(text)]


# ------------------------------------------------------------------ answers

def ok_answer(value=None, lines: Iterable[str] = ()) -> str:
    """``ok [VALUE]`` followed by ``lines`` (no final newline)."""
    head = "ok" if value is None else f"ok {value}"
    return "\n".join([head, *lines])


def error_answer(errname: str, message: str) -> str:
    """``error ERRNAME MESSAGE`` (the message is the text after ``jail: ``)."""
    return f"error {errname} {message}"


def kv_line(name: str, value: str) -> str:
    """One ``NAME=VALUE`` answer line, the value shell-quoted."""
    return f"{name}={shlex.quote(value)}"


def parse_kv(lines: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` lines (values shell-quoted, possibly spanning lines)
    -> dict, in answer order."""
    out: dict[str, str] = {}
    for word in split_words("\n".join(lines)):
        name, eq, value = word.partition("=")
        if eq:
            out[name] = value
    return out


def parse_answer(data: str, write_err: OSError | None = None) -> CtlAnswer:
    """The answer text (and the write's error, if it had one) -> CtlAnswer."""
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        if write_err is not None:
            en = write_err.errno or _errno.EIO
            return CtlAnswer(False, _errno.errorcode.get(en, "EIO"), os.strerror(en), [])
        return CtlAnswer(False, "EIO", "empty answer from .ctl", [])
    first, extra = lines[0], lines[1:]
    if first == "ok" or first.startswith("ok "):
        return CtlAnswer(True, "", first[3:], extra)
    if first.startswith("error"):
        name, _, msg = first[len("error"):].strip().partition(" ")
        return CtlAnswer(False, name, msg, extra)
    return CtlAnswer(False, "EIO", f"unexpected answer from .ctl: {first}", extra)


# ------------------------------------------------------------------ finding the mount
#
# The rule (README "Which mount the tools use"):
#   1. $JAILFS_MOUNT when set (it must hold a .ctl);
#   2. else the jailfs mounts this process can see (its mount namespace):
#      exactly one -- as inside a jail, where only the jail's own view is
#      mounted -- is the one;
#   3. several: the default, which is the one whose daemon has served longest
#      (its run file, jailfs.ops.runfiles.pid_file, is the oldest): the
#      host's boot-time mount stays the default when test mounts come and go;
#   4. several and none recorded by a daemon of ours: refuse, listing them.

def jailfs_mounts() -> list[str]:
    """Every jailfs mount point this process sees, in mount order."""
    found: list[str] = []
    for source, point, kind in runfiles.mounts():
        if (kind == FSTYPE or (kind.startswith("fuse") and source == "jailfs")) \
                and point not in found:
            found.append(point)
    return found


def default_mount(found: list[str]) -> str | None:
    """Of the mounts ``found``, the one whose daemon has served longest."""
    served = []
    for point in found:
        try:
            served.append((os.stat(runfiles.pid_file(point)).st_mtime_ns, point))
        except OSError:
            continue            # not served by a daemon that records itself here
    return min(served)[1] if served else None


def find_mount(env: dict | None = None) -> str:
    """The jailfs mount point to use (see the rule above), or raise :class:`MountError`."""
    env = os.environ if env is None else env
    chosen = env.get("JAILFS_MOUNT")
    if chosen:
        if not os.path.exists(os.path.join(chosen, CTL_NAME)):
            raise MountError(
                f"JAILFS_MOUNT={chosen}: not a jailfs mount (no {chosen}/{CTL_NAME})")
        return chosen
    found = jailfs_mounts()
    if len(found) == 1:
        return found[0]
    if not found:
        raise MountError(
            "no jailfs mount found: mount one with `jailfs mount DIR` "
            "or set JAILFS_MOUNT")
    default = default_mount(found)
    if default is None:
        raise MountError(
            "several jailfs mounts (" + ", ".join(found) + "): "
            "set JAILFS_MOUNT to choose one")
    return default


def ctl_path(mount: str) -> str:
    return os.path.join(mount, CTL_NAME)


# ------------------------------------------------------------------ transactions

class CtlSession:
    """One open ``MOUNT/.ctl`` for a run of transactions: each request is one
    write at offset 0, its answer read from where that write ended (from 0
    when the write was refused: the daemon keeps the answer there), so a tool
    that sends many requests (jail(8) over a jail.conf) pays no open and
    release per request.  The descriptor is close-on-exec: a command the tool
    runs, inside a jail or not, never holds it."""

    def __init__(self, mount: str):
        self.mount = mount
        self.fd = os.open(ctl_path(mount), os.O_RDWR | os.O_CLOEXEC)

    def transact(self, text: str) -> tuple[OSError | None, str]:
        """One raw transaction -> (the write's error or None, the answer's text).
        A refused request fails its write with the errno and still leaves the
        answer readable."""
        if not text.endswith("\n"):
            text += "\n"
        data = text.encode("utf-8", "surrogateescape")
        write_err: OSError | None = None
        try:
            os.pwrite(self.fd, data, 0)
            at = len(data)
        except OSError as e:
            write_err, at = e, 0
        chunks = []
        while True:
            try:
                b = os.pread(self.fd, READ_SIZE, at)
            except OSError as e:
                if not chunks and write_err is None:
                    write_err = e
                break
            chunks.append(b)
            at += len(b)
            if len(b) < READ_SIZE:      # the answer's end (.ctl is read uncached, whole)
                break
        return write_err, b"".join(chunks).decode("utf-8", "surrogateescape")

    def answer(self, text: str) -> CtlAnswer:
        """One transaction -> :class:`CtlAnswer`."""
        write_err, data = self.transact(text)
        return parse_answer(data, write_err)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> CtlSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ctl_transact(mount: str, text: str) -> tuple[OSError | None, str]:
    """One transaction on a descriptor of its own (:class:`CtlSession`)."""
    with CtlSession(mount) as session:
        return session.transact(text)


def ctl_answer(mount: str, text: str) -> CtlAnswer:
    """One transaction -> :class:`CtlAnswer`."""
    with CtlSession(mount) as session:
        return session.answer(text)


# ------------------------------------------------------------------ bulk records

def record_line(jid: int, pairs: Iterable[tuple[str, str]]) -> str:
    """One jail of a bulk ``list -p`` answer: ``JID NAME=VALUE ...``."""
    return " ".join([str(jid), *(kv_line(n, v) for n, v in pairs)])


def parse_records(lines: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """The jails of a bulk answer -> ``[(jid, {name: value}), ...]``.  A bare
    number word starts a jail (a value never stands alone: it follows ``=``)."""
    out: list[tuple[int, dict[str, str]]] = []
    for word in split_words("\n".join(lines)):
        name, eq, value = word.partition("=")
        if not eq:
            out.append((int(word), {}))
        elif out:
            out[-1][1][name] = value
    return out
