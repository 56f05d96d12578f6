"""Who is asking, without cgroups: a Linux pid -> the prison it is attached to.

The daemon keeps membership in cgroups (supervisor.py); this is the fallback
where no cgroup hierarchy can be used, and it can be escaped: a process whose
attached ancestor dies is re-parented out of its jail.  The .ctl ``attach JAIL PID`` request records the real process in the kernel as
a ``Proc`` with ``real_pid``.  That process and every process it starts later
are in the jail: to find a caller's prison, walk the parent chain of
``/proc/PID/stat`` until a pid attached in the kernel is met.  Pids are reused,
so each attached pid is paired with its start time (field 22 of
/proc/PID/stat), read when the attachment is first seen; a process with the
same pid but another start time is a stranger.
"""

from __future__ import annotations

import logging
import os
import signal

import trio

from jailfs.ops.runfiles import start_time, stat_fields, status_field

log = logging.getLogger("jailfs.callers")

MAX_CHAIN = 256


def proc_stat(pid: int) -> tuple[int, int] | None:
    """(ppid, starttime) of a Linux process, or None when it is gone."""
    fields = stat_fields(pid)
    try:
        return int(fields[1]), int(fields[19])
    except (TypeError, IndexError, ValueError):
        return None


def descendants(pid: int) -> list[int]:
    """Every live Linux process below ``pid`` (children, grandchildren, ...)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is not None:
            children.setdefault(st[0], []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in out:
                out.append(c)
                todo.append(c)
    return out


def thread_group(pid: int) -> int:
    """The process (thread group) id of a thread id; FUSE reports thread ids."""
    words = status_field(pid, "Tgid")
    try:
        return int(words[0])
    except (TypeError, IndexError, ValueError):
        return pid


class CallerResolver:
    """Maps a request's pid to the prison that is its root."""

    def __init__(self, kernel):
        self.k = kernel
        self._starts: dict[int, int] = {}    # proc.pid -> start time of its real process

    def remember(self, proc) -> int | None:
        """Pair an attached Proc with its real process's start time."""
        st = getattr(proc, "real_start", None)
        if st is None:
            st = self._starts.get(proc.pid)
        if st is None:
            st = start_time(proc.real_pid)
            if st is not None:
                self._starts[proc.pid] = st
        return st

    def forget(self, proc) -> None:
        self._starts.pop(proc.pid, None)

    def is_alive(self, proc) -> bool:
        want = self.remember(proc)
        return want is not None and start_time(proc.real_pid) == want

    def prison_of(self, pid: int):
        """The prison of Linux process ``pid`` (prison0 unless attached)."""
        k = self.k
        if not k.procs or pid <= 0:
            return k.prison0
        attached = k.real_procs
        if not attached:
            return k.prison0
        if pid not in attached:
            pid = thread_group(pid)
        for _ in range(MAX_CHAIN):
            st = proc_stat(pid)
            if st is None:
                break
            proc = attached.get(pid)
            if proc is not None and proc.state == "running" and self.k.procs.get(proc.pid) is proc:
                want = self.remember(proc)
                if want is not None and want == st[1]:
                    return proc.prison
            ppid = st[0]
            if ppid <= 1:
                break
            pid = ppid
        return k.prison0


class ChainTracking(CallerResolver):
    """The supervisor's fallback: membership by parent chain, an attached
    process followed by pidfd, its tree stopped then killed."""

    def attach(self, proc) -> None:
        self.remember(proc)

    def kill_real(self, real_pid: int) -> None:
        """SIGKILL the attached process and every process it started.  The
        tree is stopped first so that nothing forks away or is reparented
        (out of the jail) while it is killed."""
        proc = self.k.real_procs.get(real_pid)
        if proc is None or not self.is_alive(proc):
            return
        doomed = [real_pid]
        _signal(real_pid, signal.SIGSTOP)
        for _ in range(100):             # until the stopped tree stops growing
            fresh = [p for p in descendants(real_pid) if p not in doomed]
            if not fresh:
                break
            for pid in fresh:
                _signal(pid, signal.SIGSTOP)
            doomed.extend(fresh)
        for pid in doomed:
            _signal(pid, signal.SIGKILL)
        log.info("killed real process %d and %d process(es) it started (jail removed)",
                 real_pid, len(doomed) - 1)

    async def watch(self, proc) -> None:
        """Reap the kernel's model of a real process when the process ends."""
        pid = proc.real_pid
        if not await wait_exit(pid, lambda: self.is_alive(proc)):
            while self.is_alive(proc):
                await trio.sleep(1)
        if proc.state == "running" and self.k.procs.get(proc.pid) is proc:
            try:
                self.k.kill(proc)
                log.info("real process %d ended: process %d reaped", pid, proc.pid)
            except Exception as e:      # noqa: BLE001
                log.info("reaping process %d: %s", proc.pid, e)
        self.forget(proc)


async def wait_exit(pid: int, still_ours) -> bool:
    """Wait on a pidfd until Linux process ``pid`` ends, if ``still_ours()``
    (asked once the pidfd is open, so the pid cannot be reused in between).
    False when it did not wait: no pidfd, or the process is no longer ours."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if not still_ours():
            return False
        await trio.lowlevel.wait_readable(fd)
        return True
    finally:
        os.close(fd)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass
