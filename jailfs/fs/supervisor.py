"""Real Linux processes in jails, as the daemon supervises them.

The filesystem talks to real processes only through one :class:`Supervisor`:

* ``caller_prison(pid)``: the prison a request's process is in (its view);
  raises ``FUSEError(EACCES)`` when that cannot be established;
* ``on_event(ev)``: the kernel-event hook (it subscribes itself);
* ``kill_real(real_pid)``: the kernel's ``signal_real`` hook, called when a
  jail's processes are killed (rmdir, jail_remove);
* ``refs_text(prison, viewer)``: the jail's ``.refs``, its real processes brought up
  to date first and each named by its command; ``procs_in(prison)``: those
  processes as ``.ctl procs`` lists them;
* ``run(task_status=...)``: the trio task that follows real processes
  (start it with ``nursery.start``);
* ``service()``: the daemon-side service (fs/daemon.py ``services()``) whose
  start and stop are ``start_cgroups()`` and ``close()``.

Membership comes from a cgroup per jail (jailfs.host.cgroups): ``.ctl
attach`` (the kernel's ``attached`` event) moves the process into its jail's
cgroup, and from then on it and everything it starts are in the jail, whatever
happens to their parents.  Every process in a jail's cgroup is a process of
the kernel (a ``Proc`` with ``real_pid``), so it holds the jail as a FreeBSD
process does: ``sync(prison)`` adds the newcomers before it reaps the
departed, so a jail is never left without a reference while a process runs in
it.  Syncs happen on attach, when a known process ends (pidfd), when the
jail's cgroup becomes (un)populated, and before ``.refs`` is read.  Without
usable cgroups (``start_cgroups`` logs why) membership falls back to the
parent-chain tracking of ``callers.ChainTracking``.
"""

from __future__ import annotations

import errno
import logging
import re

import psutil
import trio
from pyfuse3 import FUSEError

from jailfs import ctl_real
from jailfs.host import cgroups as cg
from jailfs.host.namespaces import ns_id
from jailfs.host.limits import Limits
from jailfs.kernel import JailError
from jailfs.ops.logs import subscribe_logged
from jailfs.ops.runfiles import pid_at_depth

from .callercgroups import CallerCgroups
from .callers import ChainTracking, wait_exit

REAL_PID = re.compile(r", real pid (\d+)\)")

log = logging.getLogger("jailfs.supervisor")


def command_name(pid: int) -> str:
    try:
        return psutil.Process(pid).name()
    except psutil.Error:
        return "?"


def _uid(pid: int) -> int | None:
    try:
        return psutil.Process(pid).uids().effective
    except psutil.Error:
        return None


class Supervisor:
    """Membership of real processes, their watchers and their killing."""

    def __init__(self, kernel):
        self.k = kernel
        self.cgroups: cg.CgroupTree | None = None
        self.limits: Limits | None = None
        self.callers = ChainTracking(kernel)     # until (unless) cgroups are used
        self._caller_cgroups: CallerCgroups | None = None
        self._prisons = {kernel.prison0.serial: kernel.prison0}
        for pr in kernel.prison0.descendants():
            self._prisons[pr.serial] = pr
        self._real: dict[int, dict[int, object]] = {}   # serial -> real pid -> Proc
        self._starts: dict[int, int] = {}                # Proc.pid -> start time
        self._unremoved: set = set()                     # freed prisons whose cgroups were busy
        self._send = None                                 # to run(): procs to watch
        self._host_tree = ns_id("self", "mnt")         # the daemon's mount namespace
        self._pending: list = []
        kernel.signal_real = self.kill_real
        subscribe_logged(kernel, self.on_event, log,
                         kinds=("created", "freed", "rctl", "updated", "removed", "attached"))

    # ............................................................ start / stop
    def start_cgroups(self, tree: cg.CgroupTree | None = None) -> bool:
        """Keep membership in cgroups from now on (the daemon calls this once,
        before serving, and a sentinel watches the daemon); False, with the
        reason logged, when it cannot.  ``tree``: one made already (tests)."""
        if tree is None:
            tree = cg.CgroupTree.create()
            if tree is None:
                return False
            tree.start_sentinel()
        self.cgroups = tree
        self._caller_cgroups = CallerCgroups(tree.jail_in, cg.UNKNOWN)
        self.limits = Limits(self.k, tree, lambda pr: tree.pids(pr, recursive=True))
        self.k.rctl.usage_provider = self.limits.usage
        return True

    def close(self) -> None:
        """Daemon exit: no jailed process outlives its jails."""
        if self.cgroups is not None:
            self._caller_cgroups.close()
            self.k.rctl.usage_provider = None
            self.limits = None
            self.cgroups.teardown()
            self.cgroups = None

    def service(self) -> CgroupService:
        return CgroupService(self)

    # ............................................................ membership
    def caller_prison(self, pid: int):
        """The prison whose view a request from Linux process ``pid`` gets."""
        if self.cgroups is None:
            return self.callers.prison_of(pid)
        where = self._caller_cgroups.jail_of(pid)
        if where == cg.HOST:
            return self.k.prison0
        pr = self._prisons.get(where) if where != cg.UNKNOWN else None
        if pr is None or pr.state == "freed":
            raise FUSEError(errno.EACCES)
        return pr

    def jail_pids(self, pr) -> list[int]:
        """The real processes in ``pr`` and below it, as its cgroups hold them
        (none known without cgroups)."""
        return self.cgroups.pids(pr, recursive=True) if self.cgroups is not None else []

    def anyone_jailed(self) -> bool:
        """Whether any process may be in a jail now: the jails' cgroup tree
        holds one, or cannot be read (without cgroups: a real process was
        attached and is still running)."""
        if self.cgroups is None:
            return bool(self.k.real_procs)
        return self.cgroups.holds_processes() is not False

    def on_event(self, ev) -> None:
        kind, pr = ev.kind, ev.prison
        if kind == "created":
            self._prisons[pr.serial] = pr
        elif kind == "freed":
            self._prisons.pop(pr.serial, None)
            self._real.pop(pr.serial, None)
            if self.cgroups is not None:
                self.limits.forget(pr)
                # ensure() makes the membership hierarchy's directory before any
                # other: without it the jail has no cgroup to remove (most jails:
                # one stat instead of one per hierarchy)
                if self.cgroups.has(pr) and not self.cgroups.remove(pr):
                    self._unremoved.add(pr)
        elif kind == "rctl" and self.cgroups is not None:
            changed = self.k.rctl.jails_changed(ev.detail or {})
            if changed is not None:     # rules came or went (not a log line)
                self.limits.apply(changed)      # those jails' limits, and the process rules'
        elif kind == "updated" and self.cgroups is not None and \
                "name" in ((ev.detail or {}).get("params") or ()):
            self.limits.apply([pr, *pr.descendants()])
        elif kind == "removed" and self.cgroups is not None:
            # Processes the kernel does not know yet (forked since the last
            # sync) die too: the whole cgroup subtree is killed.
            self.cgroups.kill(pr)
        elif kind == "attached" and (ev.detail or {}).get("real_pid"):
            proc = self.k.procs.get(ev.detail.get("pid"))
            if proc is not None:
                self.attach(proc)

    def attach(self, proc) -> None:
        """A real process was attached to a jail: move it there and follow it."""
        if self.cgroups is None:
            self.callers.attach(proc)
            self._watch(proc)
            return
        pr = proc.prison
        for procs in self._real.values():
            procs.pop(proc.real_pid, None)
        try:
            if pr is self.k.prison0:
                raise ValueError("attached to the host")
            self.cgroups.place(proc.real_pid, pr)
        except (OSError, ValueError) as e:
            log.info("real process %d cannot join jail %s (%s): process %d reaped",
                     proc.real_pid, pr.name, e, proc.pid)
            self._reap(proc)
            return
        self._starts[proc.pid] = cg.start_time(proc.real_pid)
        self._real.setdefault(pr.serial, {})[proc.real_pid] = proc
        self.cgroups.watch_jail(pr)
        chain = []
        while pr.parent is not None:
            chain.append(pr)
            pr = pr.parent
        self.limits.apply(chain)
        self.limits.started(proc.real_pid, proc.prison)
        self._watch(proc)

    # ............................................................ the kernel's processes
    def sync(self, pr) -> None:
        """Make the kernel's real processes of ``pr`` those of its cgroup:
        newcomers enter first, then the departed are reaped."""
        if self.cgroups is None or pr.parent is None or pr.state == "freed":
            return
        known = self._real.setdefault(pr.serial, {})
        for pid, proc in list(known.items()):
            if proc.state != "running" or self.k.procs.get(proc.pid) is not proc \
                    or proc.prison is not pr:
                del known[pid]              # killed through .ctl, or attached elsewhere
        live = set(self.cgroups.pids(pr))
        departed = []
        for pid, proc in known.items():
            if pid not in live or cg.start_time(pid) != self._starts.get(proc.pid):
                departed.append(proc)
        for proc in departed:
            del known[proc.real_pid]
        # Reap the departed, all but one until the newcomers are in: the jail
        # keeps a reference throughout, and stays within a maxproc rule's count.
        last = departed.pop() if departed else None
        for proc in departed:
            self._reap(proc)
        if pr.state == "alive":
            for pid in live - set(known):
                self._adopt(pr, pid)
        if last is not None:
            self._reap(last)
        if not known and not live:
            self._real.pop(pr.serial, None)

    def _adopt(self, pr, pid: int) -> None:
        uid = _uid(pid)
        start = cg.start_time(pid)
        if uid is None or start is None:
            return                          # gone already
        try:
            proc = self.k.spawn(pr.jid, uid, real_pid=pid)
        except JailError as e:
            log.info("real process %d in jail %s is not modelled: %s", pid, pr.name, e)
            return
        self._starts[proc.pid] = start
        self._real[pr.serial][pid] = proc
        if self._host_tree is not None and ns_id(pid, "mnt") == self._host_tree:
            # however it got there, a jailed process on the host's tree can
            # walk the mount from its root (jailfs/fs/sharedroot.py)
            ctl_real.report_unconfined(self.k, pr, pid, f"process {pid} of jail {pr.name} "
                                       "is on the host's tree")
        self.limits.started(pid, pr)
        self._watch(proc)

    def _reap(self, proc) -> None:
        self._starts.pop(proc.pid, None)
        if self.limits is not None:
            self.limits.ended(proc.real_pid)
        if proc.state == "running" and self.k.procs.get(proc.pid) is proc:
            try:
                self.k.kill(proc)
                log.debug("real process %d ended: process %d reaped", proc.real_pid, proc.pid)
            except JailError as e:
                log.info("reaping process %d: %s", proc.pid, e)

    def real_procs(self, pr) -> dict[int, object]:
        """real pid -> Proc of the jail's own processes, brought up to date."""
        self.sync(pr)
        return dict(self._real.get(pr.serial, {}))

    def procs_in(self, pr) -> list[tuple[int, str]]:
        """(pid, command) of the jail's own real processes (``.ctl procs``)."""
        if self.cgroups is None:
            from jailfs.ctl_real import scan
            return scan(pr, self.caller_prison)
        return [(pid, command_name(pid)) for pid in self.real_procs(pr)]

    def refs_text(self, pr, viewer) -> str:
        """``.refs`` as ``viewer``'s processes may read it: each running real
        process followed by its command; real pids as the viewer's pid
        namespace numbers them (a jail is never told a host pid)."""
        self.sync(pr)
        depth = viewer.depth_below(self.k.prison0)

        def as_seen(m: re.Match) -> str:
            here = pid_at_depth(int(m[1]), depth) if depth else int(m[1])
            return f", real pid {here})" if here else ")"
        out = []
        for line in self.k.refs(pr, viewer).text().splitlines(keepends=True):
            real = REAL_PID.search(line)
            if real is None:
                out.append(line)
                continue
            out.append(REAL_PID.sub(as_seen, line))
            if line.startswith("process "):
                out.append(f"    command {command_name(int(real[1]))}\n")
        return "".join(out)

    def kill_real(self, real_pid: int) -> None:
        """The kernel kills a jail's processes (SIGKILL)."""
        if self.cgroups is None:
            self.callers.kill_real(real_pid)
            return
        for serial, procs in self._real.items():
            if real_pid in procs:
                self.cgroups.kill(self._prisons.get(serial) or procs[real_pid].prison)
                return

    # ............................................................ the trio side
    def _watch(self, proc) -> None:
        if self._send is None:
            self._pending.append(proc)
        else:
            try:
                self._send.send_nowait(proc)
            except trio.WouldBlock:
                self._pending.append(proc)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        send, recv = trio.open_memory_channel(1000)
        async with trio.open_nursery() as nursery:
            self._send = send
            if self.cgroups is not None:
                nursery.start_soon(self._sync_limited)
                if self.cgroups.watch is not None:
                    nursery.start_soon(self._follow_cgroups)
            task_status.started()
            async with recv:
                while True:
                    pending, self._pending = self._pending, []
                    for proc in pending:
                        nursery.start_soon(self._watch_one, proc)
                    proc = await recv.receive()
                    nursery.start_soon(self._watch_one, proc)

    async def _sync_limited(self) -> None:
        """Jails under limits are synced every second, so that what a rule
        counts (maxproc: a fork bomb's children) shows in rctl -u."""
        while self.cgroups is not None:
            await trio.sleep(1)
            for serial in self.limits.limited() if self.limits is not None else ():
                top = self._prisons.get(serial)
                for pr in [top, *top.descendants()] if top is not None else ():
                    self.sync(pr)

    async def _follow_cgroups(self) -> None:
        """populated/empty changes of the jails' cgroups: sync those jails;
        retry removing the cgroups of freed jails that were busy."""
        watch = self.cgroups.watch
        while self.cgroups is not None and self.cgroups.watch is watch:
            await trio.lowlevel.wait_readable(watch.fd)
            if self.cgroups is None:
                return
            for serial in self.cgroups.changed():
                pr = self._prisons.get(serial)
                if pr is not None:
                    self.sync(pr)
            for pr in list(self._unremoved):
                if self.cgroups.remove(pr):
                    self._unremoved.discard(pr)

    async def _watch_one(self, proc) -> None:
        if self.cgroups is None:
            await self.callers.watch(proc)
            return
        pid = proc.real_pid
        await wait_exit(pid, lambda: cg.start_time(pid) == self._starts.get(proc.pid))
        if proc.state == "running" and self.k.procs.get(proc.pid) is proc:
            self.sync(proc.prison)
            if proc.state == "running" and proc.real_pid not in self._real.get(
                    proc.prison.serial, {}):
                self._reap(proc)


class CgroupService:
    """The daemon's service for cgroups: made before the mount, torn down
    (every jailed process killed) after it."""

    def __init__(self, supervisor: Supervisor):
        self.supervisor = supervisor

    def start(self) -> None:
        self.supervisor.start_cgroups()

    async def run(self) -> None:
        pass                        # the supervisor's own task runs under JailFS.run

    def stop(self) -> None:
        self.supervisor.close()
