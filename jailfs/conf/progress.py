"""Feedback while a large jail.conf loads and applies.

A :class:`Progress` is the ``progress(stage, done, total)`` callback that
load_config, merge_and_resolve and Plan.creations call now and then.  On a
terminal it keeps one line up to date (``jail.conf: creating 12500/20000
jails``); elsewhere it writes one line per finished stage (``jail.conf:
created 20000 jails in 3.1 s``), through ``log`` when given (the daemon's
logger) or to the stream.  Small files stay silent: nothing is shown for a
stage below ``LARGE`` jails (or its size in bytes while parsing).
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

# progress(stage, done, total): stage "parsing" counts bytes, the others jails
ProgressFn = Callable[[str, int, int], None]

LARGE = 1000                    # jails; parsing counts bytes: LARGE * 64
BYTES_PER_JAIL = 64
_DONE = {"parsing": "parsed", "merging": "merged", "creating": "created",
         "removing": "removed", "updating": "updated", "restarting": "restarted"}


class Progress:
    def __init__(self, stream: TextIO, label: str = "jail.conf",
                 log: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.label = label
        self.log = log
        self.tty = _isatty(stream)
        self.clock = clock
        self.started: dict[str, float] = {}
        self.finished: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        start = self.started.setdefault(stage, now)
        large = total >= (LARGE * BYTES_PER_JAIL if stage == "parsing" else LARGE)
        if not large or stage in self.finished:
            return
        if done >= total:
            self.finished.add(stage)
        unit = "bytes" if stage == "parsing" else "jails"
        if self.tty:
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label}: {stage} {done}/{total} {unit}{end}")
            self.stream.flush()
        elif done >= total:
            line = (f"{self.label}: {_DONE.get(stage, stage)} {total} {unit} "
                    f"in {now - start:.1f} s")
            if self.log is not None:
                self.log(line)
            else:
                self.stream.write(line + "\n")
                self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
