"""``.ctl``: the transaction file.  Write one request, read its answer from
the same descriptor (the pattern of Linux's nfsd control files)."""

from __future__ import annotations

import errno
import logging

from pyfuse3 import FUSEError

from jailfs import ctl
from jailfs.ctl_common import is_host_root
from jailfs.kernel import Caller

from . import inodes as I
from .nodes import Kind, register_root_file

log = logging.getLogger("jailfs.fs")

MAX_CTL_WRITE = 65536
MAX_KEPT_ANSWERS = 8 << 20      # bytes of answers kept for one user's open descriptors


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
        owner = self.answer_owner(fs, h)
        self.give_back(fs, h)
        if owner is not None and fs.kept_answers.get(owner, 0) >= MAX_KEPT_ANSWERS:
            msg = f"answers kept for uid {h.uid} exceed {MAX_KEPT_ANSWERS} bytes: " \
                  "close other .ctl descriptors"
            h.answer = f"error ENOMEM {msg}\n".encode()
            raise fs.refusals.refuse(view, errno.ENOMEM, msg, ".ctl")
        text = buf.decode("utf-8", "surrogateescape")
        code, answer = self.execute(fs, view, Caller(view.root, h.uid), text)
        if answer and not answer.endswith("\n"):
            answer += "\n"
        h.answer = answer.encode("utf-8", "surrogateescape")
        if owner is not None:
            fs.kept_answers[owner] = fs.kept_answers.get(owner, 0) + len(h.answer)
            fs.kept_handles[id(h)] = (owner, len(h.answer))
        if code:
            h.answer_base = off
            raise FUSEError(code)
        h.answer_base = off + len(buf)
        return len(buf)

    @staticmethod
    def answer_owner(fs, h):
        """Whose budget ``h``'s answer counts against: a host user's by uid, a
        jail's (any uid in it) by view; the host's root has none."""
        if h.view is fs.host:
            return None if h.uid == 0 else ("uid", h.uid)
        return ("view", h.view.index)

    @staticmethod
    def give_back(fs, h) -> None:
        """``h``'s answer no longer kept (a new request, or the close)."""
        owner, size = fs.kept_handles.pop(id(h), (None, 0))
        if owner is not None:
            left = fs.kept_answers[owner] - size
            if left:
                fs.kept_answers[owner] = left
            else:
                del fs.kept_answers[owner]
        h.answer = b""

    def execute(self, fs, view, caller, text: str) -> tuple[int, str]:
        if text.split()[:1] == ["check"] and is_host_root(fs.k, caller):
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
