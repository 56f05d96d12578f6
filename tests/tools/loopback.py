"""One loopback for the tools' tests: a fake mount whose ``.ctl`` runs the
real ``jailfs.ctl.execute`` on a real Kernel.

The ``loop`` fixture (tests/conftest.py) points ``JAILFS_MOUNT`` at an empty directory holding a
``.ctl`` file (so ``find_mount`` accepts it) and replaces
``jailfs.ctlproto.CtlSession`` -- the one place a tool touches the file -- with
a call of ``ctl.execute`` per transaction (no descriptor opened).  Every request is recorded in
``loop.requests``; ``loop.caller`` is who asks (the host's root by default).
"""

from __future__ import annotations

import os

from jailfs import ctl, ctlproto
from jailfs.fs.callers import CallerResolver
from jailfs.kernel import Caller, Kernel


class Loopback:
    def __init__(self, mount: str, kernel: Kernel | None = None):
        self.mount = mount
        self.k = kernel or Kernel(hostname="host.example")
        self.host = Caller(self.k.prison0, uid=0)
        self.caller = self.host
        self.resolver = CallerResolver(self.k)
        self.requests: list[str] = []

    def transact(self, mount: str, text: str):
        """A transaction's stand-in: (the write's error or None, answer)."""
        assert mount == self.mount, f"request sent to {mount}, not the loopback's mount"
        self.requests.append(text.rstrip("\n"))
        code, answer = ctl.execute(self.k, self.caller, text, prison_of=self.resolver.prison_of)
        self.k.check_invariants()
        return (OSError(code, os.strerror(code)) if code else None), answer + "\n"

    def answer(self, text: str) -> ctlproto.CtlAnswer:
        return ctlproto.ctl_answer(self.mount, text)

    def create(self, *words: str) -> int:
        a = self.answer(ctlproto.request("create", *words))
        assert a.ok, a
        return int(a.value)

    def jailed(self, name: str, uid: int = 0) -> Caller:
        return Caller(self.k.lookup(self.host, name), uid=uid)

    def verbs(self) -> list[str]:
        return [r.split(None, 1)[0] for r in self.requests]


def install(monkeypatch, tmp_path) -> Loopback:
    mount = tmp_path / "mnt"
    mount.mkdir()
    (mount / ".ctl").write_text("")
    lb = Loopback(str(mount))
    def opened(session, mount: str) -> None:
        session.mount, session.fd = mount, -1
    monkeypatch.setattr(ctlproto.CtlSession, "__init__", opened)
    monkeypatch.setattr(ctlproto.CtlSession, "transact",
                        lambda session, text: lb.transact(session.mount, text))
    monkeypatch.setenv("JAILFS_MOUNT", str(mount))
    return lb
