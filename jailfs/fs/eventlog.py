"""The ``.events`` log: append-only text with stable byte offsets.

Each view has one.  A line keeps the byte offset it was given forever; the log
only remembers the last ``limit`` lines, so a reader asking for an offset that
has been forgotten gets the oldest line still kept.  ``size`` (the end offset)
is what stat(2) reports, which is what ``tail -f``'s polling fallback watches.
Readers blocked in poll(2) are woken through the poll handles they left, one
per open file (the kernel keeps only the newest handle of a file, so an older
one is replaced, and a closed file's handle is dropped).

A line may be added unwritten (``append_later``: how to make its text, from
values fixed when it was added): it is written, in its place among the others,
before anything of the log is looked at (size, time, content, a line added as
text), at once while a reader waits in poll, and otherwise when UNWRITTEN_MAX
are waiting.  Kernel events come in bursts no reader sees (rmdir makes three,
mkdir of a 2,000-jail conf 2,000), and lines made together cost less each.
"""

from __future__ import annotations

import bisect
import logging
import shlex
import time

log = logging.getLogger("jailfs.events")

DEFAULT_LIMIT = 10_000
UNWRITTEN_MAX = 64              # lines kept unwritten: then all are written, in one go


def field(key: str, value) -> str:
    """``key=value`` with the value quoted the way sh (and .ctl) would need it."""
    return f"{key}={shlex.quote(str(value))}"


class EventLog:
    def __init__(self, limit: int = DEFAULT_LIMIT):
        self.limit = limit
        self._starts: list[int] = []       # byte offset of each kept line
        self._lines: list[bytes] = []
        self._base = 0                      # offset of the oldest kept line
        self._size = 0                      # end offset (total bytes ever written)
        self.seq = 0                        # lines ever written
        self._mtime_ns = time.time_ns()
        self._poll_handles: dict = {}       # file handle -> its newest poll handle
        self.unwritten: list = []           # (make, args): lines whose text is not made yet

    @property
    def base(self) -> int:
        """Offset of the oldest kept line."""
        if self.unwritten:
            self.write_out()
        return self._base

    @property
    def size(self) -> int:
        """End offset (total bytes ever written)."""
        if self.unwritten:
            self.write_out()
        return self._size

    @property
    def mtime_ns(self) -> int:
        if self.unwritten:
            self.write_out()
        return self._mtime_ns

    # ----------------------------------------------------------------- write
    def append(self, text: str) -> int:
        """Add one line (numbered; a newline is added). Returns its number."""
        if self.unwritten:
            self.write_out()
        return self._add(text)

    def append_later(self, make, *args) -> None:
        """Add one line whose text ``make(*args)`` is made when it is needed;
        it must depend on nothing but ``args``."""
        self.unwritten.append((make, args))
        if self._poll_handles or len(self.unwritten) >= UNWRITTEN_MAX:
            self.write_out()                # a reader waits, or enough are waiting

    def write_out(self) -> None:
        """Make and add the unwritten lines, in order (one change of the
        log's time and one wake-up for all of them)."""
        lines, self.unwritten = self.unwritten, []
        for make, args in lines:
            self._put(make(*args))
        if lines:
            self._written()

    def _add(self, text: str) -> int:
        self._put(text)
        self._written()
        return self.seq

    def _put(self, text: str) -> None:
        self.seq += 1
        line = f"{self.seq} {text}".replace("\n", "\\n") + "\n"
        data = line.encode("utf-8", "surrogateescape")
        self._starts.append(self._size)
        self._lines.append(data)
        self._size += len(data)
        if len(self._lines) > self.limit + self.limit // 10:
            drop = len(self._lines) - self.limit
            del self._starts[:drop]
            del self._lines[:drop]

    def _written(self) -> None:
        self._base = self._starts[0]
        self._mtime_ns = time.time_ns()
        self._wake()

    # ------------------------------------------------------------------ read
    def read(self, off: int, size: int) -> bytes:
        if self.unwritten:
            self.write_out()
        if off >= self._size or size <= 0 or not self._lines:
            return b""
        if off < self._base:
            off = self._base
        i = bisect.bisect_right(self._starts, off) - 1
        out = []
        got = 0
        skip = off - self._starts[i]
        while i < len(self._lines) and got < size:
            chunk = self._lines[i][skip:] if skip else self._lines[i]
            skip = 0
            out.append(chunk)
            got += len(chunk)
            i += 1
        return b"".join(out)[:size]

    def lines(self) -> list[str]:
        """The kept lines, as text (for tests and debugging)."""
        if self.unwritten:
            self.write_out()
        return [b.decode("utf-8", "surrogateescape").rstrip("\n") for b in self._lines]

    # ------------------------------------------------------------------ poll
    def add_poll_handle(self, fh, handle) -> None:
        self._poll_handles[fh] = handle

    def forget_poll_handle(self, fh) -> None:
        self._poll_handles.pop(fh, None)

    def drop_poll_handles(self) -> None:
        self._poll_handles.clear()

    def _wake(self) -> None:
        handles, self._poll_handles = self._poll_handles, {}
        for h in handles.values():
            try:
                h.notify()
            except Exception:            # the waiter may be gone; nothing to do
                log.debug("poll notify failed", exc_info=True)
