"""`.ctl` verbs about real Linux processes: ``attach JAIL PID`` and
``procs JAIL``.  What the daemon knows of them comes in as
:class:`jailfs.ctl_common.RealProcs` (the filesystem passes its supervisor's).
"""

from __future__ import annotations

import errno
import os

from jailfs.ctl_common import jid_of, need_root, ok, verb, visible
from jailfs.kernel import JailError
from jailfs.ops.runfiles import pid_at_depth


# Hooks (kernel, prison, real pid, why): a real process was attached to a
# jail without entering its namespaces (it keeps the host's tree, and so can
# walk the mount from its root): the filesystem stops caching the names there
# for the host (jailfs/fs/sharedroot.py).
unconfined_hooks: list = []


def report_unconfined(k, pr, real_pid: int, why: str) -> None:
    for hook in list(unconfined_hooks):
        hook(k, pr, real_pid, why)


@verb("attach", "attach JAIL PID", real=True)
def attach(k, caller, args, real):
    """jail_attach for real process PID (and what it starts later).

    FreeBSD checks the credential of the thread that calls jail_attach, so
    the caller must be root, and the process must be one it can see (in its
    prison or below: a jailed caller cannot pull a host process in).  A
    process on the host's tree stays there (unlike ``enter``)."""
    pr, was = _attach(k, caller, args, real)
    if was is k.prison0:
        report_unconfined(k, pr, int(args[1]), f"attach {pr.name} {args[1]}: a host process "
                    "attached without confinement")
    return ok()


def _attach(k, caller, args, real):
    """-> (the prison now, the prison it was in)."""
    word, pid_word = args
    real_pid = int(pid_word)
    need_root(caller, "jail_attach")
    if real_pid <= 0 or not os.path.exists(f"/proc/{real_pid}"):
        raise JailError(errno.ESRCH, f"no process {real_pid}", "jail_attach")
    where = real.prison_of(real_pid)
    if where is None or not visible(caller, where):
        raise JailError(errno.ESRCH, f"no process {real_pid}", "jail_attach")
    jid = jid_of(k, caller, word, "jail_attach")
    proc = k.real_procs.get(real_pid)
    if proc is not None:
        k.jail_attach(proc, jid)
        return k.by_jid(jid), where
    # First sight of this process: it enters the kernel in the prison it is
    # in, with the caller's (root) credential, then attaches from there.
    proc = k.spawn(where.jid, caller.uid, real_pid=real_pid)
    try:
        k.jail_attach(proc, jid)
    except JailError:
        k.kill(proc)
        raise
    return k.by_jid(jid), where


# Hooks (kernel, prison, real pid) -> the lines an ``enter`` answer carries
# after "ok": the daemon's confinement (jailfs/host/jailhouse.py).
enter_hooks: list = []


@verb("enter", "enter JAIL PID", real=True)
def enter(k, caller, args, real):
    """``attach``, for a process about to enter the jail's namespaces (the
    keeper): the answer's lines tell it how (``enter_hooks``).  Without
    ``confine=anchor`` among them it runs on the host's tree."""
    pr, was = _attach(k, caller, args, real)
    lines = [line for hook in enter_hooks for line in hook(k, pr, int(args[1]))]
    if "confine=anchor" not in lines:
        report_unconfined(k, pr, int(args[1]), f"enter {pr.name} {args[1]}: jails do not confine "
                    "here")
    return ok(None, lines)


@verb("procs", "procs JAIL", real=True)
def procs(k, caller, args, real):
    """The real processes in exactly JAIL (not its children's), as jail(8)'s
    term_procs finds them with kvm_getprocs: ``ok N`` then ``PID COMMAND``,
    each pid as the caller's pid namespace numbers it (a jailed caller's is
    its jail's: the pids it can signal, as ``.refs`` names them)."""
    (word,) = args
    jid = jid_of(k, caller, word, "jail_get")
    pr = k.by_jid(jid)
    if pr is None or not visible(caller, pr):
        raise JailError(errno.ENOENT, f"jail {jid} not found", "jail_get")
    found = real.procs_in(pr) if real.procs_in is not None else scan(pr, real.prison_of)
    depth = caller.prison.depth_below(k.prison0)
    if depth:
        seen = ((pid_at_depth(pid, depth), command) for pid, command in found)
        found = [(pid, command) for pid, command in seen if pid is not None]
    return ok(len(found), [f"{pid} {command}" for pid, command in sorted(found)])


def scan(pr, prison_of) -> list[tuple[int, str]]:
    """Every live Linux process that ``prison_of`` places in ``pr``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        pid = int(name)
        try:
            where = prison_of(pid)
        except Exception:       # noqa: BLE001 - a process it cannot place (refused) is not listed
            continue
        if where is not pr:
            continue
        try:
            with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
                found.append((pid, f.read().rstrip("\n")))
        except OSError:
            continue            # ended meanwhile
    return found
