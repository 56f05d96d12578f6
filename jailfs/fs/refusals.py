"""Refusal logging: every refused request is one line in the daemon's log, in
the host's ``.events`` and in the ``.events`` of the view that asked.

The kernel reports its own refusals (a ``refused`` event, which names no
view); those go to the host at once and wait in ``pending`` until the handler
that made the call, which knows its view, settles them.  Handlers run to
completion without awaiting, so ``pending`` only ever holds the current
request's refusals.
"""

from __future__ import annotations

import errno
import logging

from pyfuse3 import FUSEError

from jailfs.kernel import JailError

from .eventtext import refusal_text

log = logging.getLogger("jailfs.fs")


class Refusals:
    def __init__(self, host_view):
        self.host = host_view
        self.pending: list[str] = []

    def _append(self, text: str, view) -> None:
        log.warning("%s", text)
        self.host.log.append(text)
        if view is not None and view is not self.host:
            view.log.append(text)

    def kernel_refused(self, detail: dict) -> None:
        text = refusal_text(detail.get("op", "?"), detail.get("errno", errno.EIO),
                            detail.get("msg", ""))
        self._append(text, None)
        self.pending.append(text)

    def mark(self) -> None:
        self.pending.clear()

    def record(self, view, op: str, code: int, msg: str, name: str = "") -> None:
        """A refusal the handler decided (or one the kernel raised without reporting)."""
        if self.pending:
            if view is not None and view is not self.host:
                for text in self.pending:
                    view.log.append(text)
            self.pending.clear()
            return
        self._append(refusal_text(op, code, msg, name), view)

    def refuse(self, view, code: int, msg: str, op: str, name: str = "") -> FUSEError:
        self.pending.clear()
        self.record(view, op, code, msg, name)
        return FUSEError(code)

    def kernel_call(self, view, op: str) -> "_KernelCall":
        """Run a kernel call for ``view`` (a ``with`` block): a JailError
        becomes its errno, logged once."""
        self.mark()
        return _KernelCall(self, view, op)


class _KernelCall:
    """kernel_call's context: a plain class, not a generator (every change
    goes through one, and a generator's context costs twice as much)."""
    __slots__ = ("refusals", "view", "op")

    def __init__(self, refusals: Refusals, view, op: str):
        self.refusals, self.view, self.op = refusals, view, op

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, e, tb) -> None:
        if kind is not None and issubclass(kind, JailError):
            self.refusals.record(self.view, getattr(e, "op", None) or self.op, e.errno, str(e))
            raise FUSEError(e.errno) from None
