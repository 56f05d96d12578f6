"""Which cgroup a request's process is in, read afresh on every request, cheaply.

Every request asks which jail its caller is in (supervisor.caller_prison), and
the only answer is the caller's /proc/PID/cgroup as it is now.  Opening that
file, reading it and closing it costs three system calls and the parsing a
dozen lines; most requests come from the same few processes.  So each recent
caller's file stays open and is read again at offset 0 (one pread: /proc
regenerates it on every read, so the text is the current one), and the text
is parsed only when it differs from the one last seen for that descriptor.

Nothing is remembered about a pid, only about a process: the descriptor is
bound to the process it was opened for, not to its number.  Once that process
has ended, the read fails (ESRCH) and the pid is looked up again by path, so a
reused pid is never answered for from another process's descriptor, and a
process moved into a jail's cgroup (by ``attach``, by anyone) is answered from
its new cgroup at its next request: the parsed answer is reused only for the
identical text, read a moment ago from that very process.
"""

from __future__ import annotations

import errno
import os

READ_SIZE = 4096                 # a /proc/PID/cgroup of a few hierarchies; more is read if needed
KEEP = 128                       # callers whose descriptor stays open


def _pread_all(fd: int) -> bytes:
    """The whole file in one read at offset 0 (one consistent generation);
    b"" when it cannot be read (the process it was opened for has ended)."""
    size = READ_SIZE
    try:
        while True:
            data = os.pread(fd, size, 0)
            if len(data) < size:
                return data
            size *= 4
    except OSError:
        return b""


class CallerCgroups:
    """``jail_of(pid)`` as ``parse`` answers it for the current text of the
    process's /proc/PID/cgroup; ``unknown`` when it cannot be read."""

    def __init__(self, parse, unknown, keep: int = KEEP):
        self._parse = parse
        self._unknown = unknown
        self._keep = keep
        # pid -> (fd, text, answer), least recently asked first
        self._open: dict[int, tuple[int, bytes, object]] = {}

    def jail_of(self, pid: int):
        entry = self._open.pop(pid, None)
        if entry is not None:
            fd, seen, answer = entry
            text = _pread_all(fd)
            if text:
                if text != seen:
                    answer = self._parse(text.decode("utf-8", "surrogateescape"))
                self._open[pid] = (fd, text, answer)
                return answer
            os.close(fd)                # the process it was opened for has ended
        try:
            fd = self._open_file(pid)
        except OSError:
            return self._unknown
        text = _pread_all(fd)
        if not text:
            os.close(fd)
            return self._unknown
        answer = self._parse(text.decode("utf-8", "surrogateescape"))
        if len(self._open) >= self._keep:
            oldest = next(iter(self._open))
            os.close(self._open.pop(oldest)[0])
        self._open[pid] = (fd, text, answer)
        return answer

    def _open_file(self, pid: int) -> int:
        path = f"/proc/{pid}/cgroup"
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno not in (errno.EMFILE, errno.ENFILE) or not self._open:
                raise
        self.close()                # out of descriptors: ours are only a speed-up
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)

    def close(self) -> None:
        for fd, _, _ in self._open.values():
            os.close(fd)
        self._open.clear()
