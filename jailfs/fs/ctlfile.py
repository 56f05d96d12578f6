"""``.ctl``: the transaction file.  Write one request, read its answer from
the same descriptor (the pattern of Linux's nfsd control files)."""

from __future__ import annotations

import errno
import logging

from pyfuse3 import FUSEError

from jailfs import ctl
from jailfs.kernel import Caller

from . import inodes as I
from .ctlguard import authorise
from .nodes import Kind, register_root_file

log = logging.getLogger("jailfs.fs")

MAX_CTL_WRITE = 65536


class CtlFile(Kind):
    slot = I.SLOT_CTL
    perm = 0o666

    def exists(self, pr, is_root):
        return is_root

    def path(self, view, node):
        return ".ctl"

    def read(self, fs, h, off, size):
        idx = off - h.answer_base if off >= h.answer_base else off
        return h.answer[idx:idx + size]

    def write(self, fs, h, off, buf):
        view = h.view
        if len(buf) > MAX_CTL_WRITE:
            h.answer = b"error EINVAL request too long\n"
            h.answer_base = off
            raise fs.refusals.refuse(view, errno.EINVAL, "request too long", ".ctl")
        h.answer_base = off
        authorise(fs, h)
        text = buf.decode("utf-8", "surrogateescape")
        code, answer = self.execute(fs, view, Caller(view.root, h.uid), text)
        if answer and not answer.endswith("\n"):
            answer += "\n"
        h.answer = answer.encode("utf-8", "surrogateescape")
        if code:
            h.answer_base = off
            raise FUSEError(code)
        h.answer_base = off + len(buf)
        return len(buf)

    def execute(self, fs, view, caller, text: str) -> tuple[int, str]:
        if text.split()[:1] == ["check"] and caller.uid == 0 and caller.prison is fs.k.prison0:
            # The filesystem's own tables first; ctl's `check` then runs the
            # kernel's (and refuses anyone but the host's root).
            problem = fs.check()
            if problem:
                return errno.EIO, f"error EIO {problem}"
        fs.refusals.mark()
        try:
            # which prison a real pid is in is this mount's knowledge
            code, answer = ctl.execute(fs.k, caller, text,
                                       prison_of=fs.supervisor.caller_prison,
                                       procs_in=fs.supervisor.procs_in)
        except Exception as e:      # noqa: BLE001 - a request must be answered
            log.exception("ctl request %r failed", text)
            code, answer = errno.EIO, f"error EIO internal error: {e}"
        if code:
            msg = answer.split("\n", 1)[0]
            parts = msg.split(" ", 2)
            verb = text.split(None, 1)[0] if text.split() else ""
            fs.refusals.record(view, f"ctl {verb}".strip(), code,
                               parts[2] if len(parts) == 3 else msg)
        return code, answer


CTL = CtlFile()
register_root_file(".ctl", CTL)
