"""The simulated world that holds references on prisons: credentials, processes,
open files and sockets (TCP TIME_WAIT included), other credential holders, and
the clock. Nothing here sleeps or touches the machine."""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import os
from errno import EAGAIN, EBADF, EINVAL, ENOENT, ENOTDIR, ESRCH
from typing import Callable

from .errors import JailError
from .params import MSL
from .prison import ALIVE, Cred, File, Holder, Prison, Proc


def real_path_resolver(root: str, path: str) -> str:
    """Resolve a jail path as open() would, from the creator's root, on this machine."""
    full = os.path.normpath(os.path.join(root, path.lstrip("/")) if path.startswith("/")
                            else os.path.join(root, path))
    if not os.path.exists(full):
        raise JailError(ENOENT)
    if not os.path.isdir(full):
        raise JailError(ENOTDIR)
    return os.path.realpath(full)


class Clock:
    """The simulated clock. Nothing sleeps: tests and `advance` move it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list = []
        self._seq = itertools.count()

    def call_at(self, when: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), fn))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise JailError(EINVAL, "the clock cannot go backwards", "advance")
        target = self.now + seconds
        if not math.isfinite(target):
            raise JailError(EINVAL, "the clock must stay finite", "advance")
        while self._timers and self._timers[0][0] <= target:
            when, _, fn = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            fn()
        self.now = target


def _track(index: dict, key: int, item) -> None:
    members = index.get(key)
    if members is None:
        index[key] = {item}
    else:
        members.add(item)


def _untrack(index: dict, key: int, item) -> None:
    members = index[key]
    members.discard(item)
    if not members:
        del index[key]


class World:
    """The Kernel's simulated processes and their references (a mixin)."""

    # ============================================================ credentials
    def crget(self, pr: Prison, uid: int) -> Cred:
        cred = Cred(next(self._serials), pr, uid)
        cred.refcnt = 1
        pr.ref += 1
        self.creds.add(cred)
        _track(self._creds_of, pr.serial, cred)
        return cred

    def crhold(self, cred: Cred) -> Cred:
        """One more hold on cred (a module's object keeping its creator's credential)."""
        cred.refcnt += 1
        return cred

    def crfree(self, cred: Cred, uref_too: bool = False) -> None:
        """Release one hold on cred; with uref_too, also the process hold on its prison."""
        cred.refcnt -= 1
        if uref_too:
            self._deref(cred.prison, 0, 1)
        if cred.refcnt == 0:
            self.creds.discard(cred)
            _untrack(self._creds_of, cred.prison.serial, cred)
            self._deref(cred.prison, 1, 0)

    # ============================================================ the indexes
    def _started(self, proc: Proc) -> None:
        """``proc`` runs (spawned, forked): it is listed where it runs."""
        self.procs[proc.pid] = proc
        _track(self._cred_procs, proc.cred.serial, proc)
        _track(self.running, proc.prison.serial, proc)
        if proc.real_pid:
            self.real_procs[proc.real_pid] = proc

    def _recredit(self, proc: Proc, cred: Cred) -> None:
        """A running process takes another credential (jail_attach)."""
        _untrack(self._cred_procs, proc.cred.serial, proc)
        _untrack(self.running, proc.prison.serial, proc)
        proc.cred = cred
        _track(self._cred_procs, cred.serial, proc)
        _track(self.running, cred.prison.serial, proc)

    # ============================================================ processes
    def _prison_for(self, jid: int, op: str) -> Prison:
        if jid == 0:
            return self.prison0
        pr = self.jids.get(jid)
        if pr is None:
            raise JailError(ENOENT, f"jail {jid} not found", op)
        if pr.state != ALIVE:
            raise JailError(EINVAL, f"jail {jid} is dying", op)
        return pr

    def _proc(self, pid: int, op: str) -> Proc:
        proc = self.procs.get(pid)
        if proc is None:
            raise JailError(ESRCH, f"no process {pid}", op)
        return proc

    def spawn(self, jid: int, uid: int = 0, real_pid: int | None = None) -> Proc:
        """A process that starts out in jail jid (as if attached from the host)."""
        pr = self._prison_for(jid, "spawn")
        for m in self.modules:
            m.proc_check(pr, "spawn")
        proc = Proc(next(self._pids), None, self.crget(pr, uid), real_pid)
        pr.uref += 1
        self._started(proc)
        for m in self.modules:
            m.proc_created(proc)
        return proc

    def fork(self, parent: Proc, real_pid: int | None = None) -> Proc:
        if parent.state != "running":
            raise JailError(ESRCH, f"process {parent.pid} is not running", "fork")
        if parent.prison.state != ALIVE:
            raise JailError(EAGAIN, "the jail is dying", "fork")
        for m in self.modules:
            m.proc_check(parent.prison, "fork")
        child = Proc(next(self._pids), parent, self.crhold(parent.cred), real_pid)
        child.prison.uref += 1
        for fd, f in parent.fds.items():
            child.fds[fd] = f
            f.refcnt += 1
            f.owners.add((child, fd))
        child.next_fd = parent.next_fd
        parent.children.add(child)
        self._started(child)
        for m in self.modules:
            m.proc_created(child)
        return child

    def exit(self, proc: Proc) -> None:
        """exit1(): descriptors closed, the jail's user reference dropped; a zombie remains."""
        if proc.state != "running":
            raise JailError(ESRCH, f"process {proc.pid} is not running", "exit")
        for fd in list(proc.fds):
            self._close_fd(proc, fd)
        for m in self.modules:
            m.proc_exit(proc)                        # shmexit: segments detached
        proc.state = "zombie"
        _untrack(self.running, proc.prison.serial, proc)
        if proc.real_pid and self.real_procs.get(proc.real_pid) is proc:
            del self.real_procs[proc.real_pid]
        self._deref(proc.prison, 0, 1)
        for child in list(proc.children):            # orphans go to init, which reaps zombies
            child.parent = None
            proc.children.discard(child)
            if child.state == "zombie":
                self.reap(child)
        if proc.parent is None or proc.parent.state != "running":
            self.reap(proc)

    def reap(self, proc: Proc) -> None:
        """wait(): the zombie's credential, and with it the jail's last reference, goes."""
        if proc.state != "zombie":
            raise JailError(ESRCH, f"process {proc.pid} is not a zombie", "reap")
        proc.state = "reaped"
        del self.procs[proc.pid]
        _untrack(self._cred_procs, proc.cred.serial, proc)
        if proc.parent is not None:
            proc.parent.children.discard(proc)
        self.crfree(proc.cred)

    def kill(self, proc: Proc) -> None:
        """SIGKILL: exit now; reaped at once unless a running parent must wait() for it."""
        if proc.state == "running":
            self.exit(proc)

    # ============================================================ descriptors
    def _new_fd(self, proc: Proc, f: File) -> int:
        fd = proc.next_fd
        proc.next_fd += 1
        proc.fds[fd] = f
        f.refcnt += 1
        f.owners.add((proc, fd))
        return fd

    def _running(self, proc: Proc, op: str) -> None:
        if proc.state != "running":
            raise JailError(ESRCH, f"process {proc.pid} is not running", op)

    def _open(self, proc: Proc, kind: str, what: str, op: str) -> int:
        self._running(proc, op)
        for m in self.modules:
            m.open_check(proc, op)                   # racct's openfiles
        f = File(next(self._serials), kind, what, self.crhold(proc.cred))
        self._files[f.serial] = f
        _track(self._cred_files, f.cred.serial, f)
        return self._new_fd(proc, f)

    def open_file(self, proc: Proc, path: str = "/dev/null") -> int:
        return self._open(proc, "file", path, "open")

    def socket(self, proc: Proc, kind: str = "udp") -> int:
        if kind not in ("udp", "tcp", "unix"):
            raise JailError(EINVAL, f"unknown socket type {kind}", "socket")
        return self._open(proc, kind, kind, "socket")

    def tcp_connect(self, proc: Proc, laddr: str, raddr: str) -> int:
        return self._open(proc, "tcp", f"{laddr} -> {raddr}", "connect")

    def close(self, proc: Proc, fd: int) -> None:
        if fd not in proc.fds:
            raise JailError(EBADF, f"process {proc.pid} has no descriptor {fd}", "close")
        self._close_fd(proc, fd)

    def _close_fd(self, proc: Proc, fd: int) -> None:
        f = proc.fds.pop(fd)
        f.refcnt -= 1
        f.owners.discard((proc, fd))
        if f.refcnt:
            return
        if f.tcp_state == "ESTABLISHED":
            # The connection outlives the descriptor: TIME_WAIT keeps its credential for 2*MSL.
            f.tcp_state = "TIME_WAIT"
            f.expires = self.clock.now + 2 * MSL
            self.clock.call_at(f.expires, functools.partial(self._release_file, f))
            return
        self._release_file(f)

    def _release_file(self, f: File) -> None:
        del self._files[f.serial]
        _untrack(self._cred_files, f.cred.serial, f)
        f.tcp_state = "CLOSED" if f.tcp_state else None
        self.crfree(f.cred)

    def pass_fd(self, proc: Proc, fd: int, to: Proc) -> int:
        """SCM_RIGHTS: the receiver shares the open file, and with it the sender's credential."""
        self._running(proc, "pass")
        self._running(to, "pass")
        if fd not in proc.fds:
            raise JailError(EBADF, f"process {proc.pid} has no descriptor {fd}", "pass")
        return self._new_fd(to, proc.fds[fd])

    def hold(self, proc: Proc, kind: str, what: str) -> int:
        """A mount, a sigio owner or process accounting: crhold()s the process's credential."""
        self._running(proc, kind)
        ident = next(self._holder_ids)
        self.holders[ident] = Holder(ident, kind, what, self.crhold(proc.cred))
        return ident

    def mount(self, proc: Proc, fstype: str, path: str) -> int:
        return self.hold(proc, "mount", f"{fstype} on {path}")

    def release(self, ident: int) -> None:
        holder = self.holders.pop(ident, None)
        if holder is None:
            raise JailError(ENOENT, f"no holder {ident}", "release")
        self.crfree(holder.cred)

    unmount = release

    def advance(self, seconds: float) -> float:
        self.clock.advance(seconds)
        return self.clock.now

