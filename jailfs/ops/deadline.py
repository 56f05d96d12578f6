"""Calls that may block for ever on a hung FUSE daemon, given a deadline.

A stat(2) of a mount whose daemon is stopped waits for an answer that never
comes.  The call runs in a daemon thread; if it has not returned by the
deadline the caller gets TimeoutError and the thread is abandoned (it ends,
or dies with the process: the request is still queued, so the wait is
killable).
"""

from __future__ import annotations

import os
import threading

STAT_DEADLINE = 5.0


def stat_within(path: str, seconds: float = STAT_DEADLINE) -> os.stat_result:
    result: dict = {}

    def call():
        try:
            result["st"] = os.stat(path)
        except OSError as e:
            result["err"] = e

    t = threading.Thread(target=call, name=f"stat {path}", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise TimeoutError(f"{path}: no answer within {seconds:g} s")
    if "err" in result:
        raise result["err"]
    return result["st"]
