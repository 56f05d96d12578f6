"""What every `.ctl` verb module shares: the verb table and small helpers.

A verb is registered with :func:`verb` (its name, its usage line, and whether
it needs the daemon's knowledge of real processes); :mod:`jailfs.ctl` runs
the table.  A handler gets ``(kernel, caller, args)`` -- plus the
:class:`RealProcs` hooks when registered with ``real=True`` -- and returns the
answer text; it raises ``JailError`` to refuse, or ``ValueError`` /
``IndexError`` for a malformed request (answered with the usage line).
"""

from __future__ import annotations

import errno
from typing import Callable, NamedTuple

from jailfs.ctlproto import ok_answer
from jailfs.kernel import Caller, JailError, Kernel

VERBS: dict[str, Callable] = {}
USAGE: dict[str, str] = {}
NEEDS_REAL: set[str] = set()

ok = ok_answer


def verb(name: str, usage: str, *, real: bool = False):
    """Register the decorated handler as verb ``name``."""
    def register(fn):
        VERBS[name] = fn
        USAGE[name] = usage
        if real:
            NEEDS_REAL.add(name)
        return fn
    return register


class RealProcs(NamedTuple):
    """What the daemon knows of real Linux processes (jailfs.fs passes its own).

    ``prison_of(pid)``: the prison a real process is in;
    ``procs_in(prison)``: ``[(pid, command), ...]`` of the real processes in
    exactly that prison (None: found by asking ``prison_of`` of every pid)."""
    prison_of: Callable
    procs_in: Callable | None = None


def key(word: str) -> tuple[str, str]:
    """A jail as named in a request: all ASCII digits is a jid, anything else a name."""
    return ("jid", word) if word.isdigit() and word.isascii() else ("name", word)


def jid_of(k: Kernel, caller: Caller, word: str, op: str) -> int:
    """JAIL -> jid as the caller sees it; `.` or `0` is the caller's own prison."""
    if word in (".", "0"):
        return caller.prison.jid
    if word.isdigit() and word.isascii():
        return int(word)
    try:
        return k.lookup(caller, word).jid
    except JailError as e:
        e.op = op
        raise


def visible(caller: Caller, pr) -> bool:
    return pr is caller.prison or pr.is_descendant_of(caller.prison)


def need_root(caller: Caller, op: str) -> None:
    if caller.uid != 0:
        raise JailError(errno.EPERM, "", op)


def is_host_root(k: Kernel, caller: Caller) -> bool:
    return caller.uid == 0 and caller.prison is k.prison0


def need_host_root(k: Kernel, caller: Caller, op: str, msg: str = "") -> None:
    """The host's root only: anyone else EPERM (root in a jail with ``msg``)."""
    need_root(caller, op)
    if caller.prison is not k.prison0:
        raise JailError(errno.EPERM, msg, op)


def sim_proc(k: Kernel, caller: Caller, word: str, op: str):
    """A simulated process the caller can see: in its own prison or below."""
    proc = k.procs.get(int(word))
    if proc is None or not visible(caller, proc.prison):
        raise JailError(errno.ESRCH, f"no process {word}", op)
    return proc


def no_args(args: list[str]) -> None:
    if args:
        raise ValueError(args)
