"""Real Linux processes in jails, as the daemon supervises them.

The filesystem talks to real processes only through one :class:`Supervisor`:

* ``caller_prison(pid)``: the prison a request's process is in (its view);
* ``on_event(ev)``: the kernel-event hook (it subscribes itself); an
  ``attached`` event with a ``real_pid`` starts watching that process;
* ``kill_real(real_pid)``: the kernel's ``signal_real`` hook, called when a
  jail's processes are killed (rmdir, jail_remove);
* ``run(task_status=...)``: the trio task that watches attached processes and
  reaps the kernel's model of one when the real process ends (start it with
  ``nursery.start``).
"""

from __future__ import annotations

import logging
import os
import signal

import trio

from .callers import CallerResolver, descendants

log = logging.getLogger("jailfs.supervisor")


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


class Supervisor:
    """Membership of real processes, their watchers and their killing."""

    def __init__(self, kernel):
        self.k = kernel
        self.callers = CallerResolver(kernel)
        self._watch_send = None                   # procs to watch, to the run() task
        self._pending_watch: list = []
        kernel.signal_real = self.kill_real
        kernel.subscribe(self.on_event)

    def caller_prison(self, pid: int):
        """The prison whose view a request from Linux process ``pid`` gets."""
        return self.callers.prison_of(pid)

    def on_event(self, ev) -> None:
        try:
            if ev.kind == "attached" and (ev.detail or {}).get("real_pid"):
                proc = self.k.procs.get(ev.detail.get("pid"))
                if proc is not None:
                    self.attach(proc)
        except Exception:       # noqa: BLE001 - a subscriber must not break the kernel
            log.exception("while handling kernel event %r", ev)

    def attach(self, proc) -> None:
        """A real process was attached to a jail: know it and watch it."""
        self.callers.note_attached(proc)
        self.callers.remember(proc)
        self._watch(proc)

    def _watch(self, proc) -> None:
        if self._watch_send is None:
            self._pending_watch.append(proc)
        else:
            try:
                self._watch_send.send_nowait(proc)
            except trio.WouldBlock:
                self._pending_watch.append(proc)

    def kill_real(self, real_pid: int) -> None:
        """The kernel kills a jail's processes: SIGKILL the real ones we know,
        and every process they started (those are in the jail too, though the
        kernel only knows the attached one).  The tree is stopped first so that
        nothing forks away or is reparented (out of the jail) while it is killed."""
        for proc in list(self.k.procs.values()):
            if proc.real_pid == real_pid and self.callers.is_alive(proc):
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
                return

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Reap the kernel's model of a real process when the process ends."""
        send, recv = trio.open_memory_channel(1000)
        async with trio.open_nursery() as nursery:
            self._watch_send = send
            for proc in self._pending_watch:
                nursery.start_soon(self._watch_one, proc)
            self._pending_watch = []
            task_status.started()
            async with recv:
                async for proc in recv:
                    nursery.start_soon(self._watch_one, proc)

    async def _watch_one(self, proc) -> None:
        pid = proc.real_pid
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            fd = None
        try:
            if fd is not None and self.callers.is_alive(proc):
                await trio.lowlevel.wait_readable(fd)
            else:
                while self.callers.is_alive(proc):
                    await trio.sleep(1)
        finally:
            if fd is not None:
                os.close(fd)
        if proc.state == "running" and self.k.procs.get(proc.pid) is proc:
            try:
                self.k.kill(proc)
                log.info("real process %d ended: process %d reaped", pid, proc.pid)
            except Exception as e:      # noqa: BLE001
                log.info("reaping process %d: %s", proc.pid, e)
        self.callers.forget(proc)
