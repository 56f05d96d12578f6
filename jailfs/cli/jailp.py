"""What the parts of jail(8) share (FreeBSD's usr.sbin/jail/jailp.h): the
operation flags, the run-time half of a configured jail, and messages."""

from __future__ import annotations

import sys

from jailfs.conf.config import CfJail

PROG = "jail"

JF_START = 0x1
JF_SET = 0x2
JF_STOP = 0x4
JF_DEPEND = 0x8
JF_WILD = 0x10
JF_RESTART = JF_START | JF_STOP


class Usage(Exception):
    pass


class Fatal(Exception):
    """Print ``jail: MSG`` lines and exit 1."""

    def __init__(self, *msgs: str):
        self.msgs = msgs


def warnx(msg: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"{PROG}: {msg}\n")
    sys.stderr.flush()


def out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


class Job:
    """One jail being worked on (struct cfjail's run-time half)."""

    def __init__(self, cj: CfJail, flags: int = 0):
        self.cj = cj
        self.flags = flags
        self.known_jid = 0      # the last jid it ran under (exec.poststop's $JID)
        self.jid = 0            # 0: not looked up yet; -1: not running
        self.failed = cj.failed
        self.done = False
        self.persist_added = False
        self.checked = False

    @property
    def jid(self) -> int:
        return self._jid

    @jid.setter
    def jid(self, value: int) -> None:
        self._jid = value
        if value > 0:
            self.known_jid = value

    @property
    def name(self):
        return self.cj.name
