"""What the jails' limits refuse their real processes, told to the kernel.

A ``deny`` rule on a jail is a cgroup limit (limits.py); what the limit
refuses shows only in the cgroup's counters.  This watcher reads them for
the jails that rules name, and reports each rise through the kernel's rctl
(``Rctl.limit_hit``), the path the model's own refusals take, so ``.events``
shows a ``refused`` line naming the rule and the jail:

=====================  ===========================================  ==========
counter (v2 / v1)      rises when                                   resource
=====================  ===========================================  ==========
pids.events ``max``    a fork or clone is refused by pids.max       maxproc
memory.events ``max``  usage hits memory.max (reclaim) /            memoryuse
/ memory.failcnt       memory.limit_in_bytes                        (vmemory)
memory.memsw.failcnt   memory+swap hits its limit (v1)              vmemoryuse
memory.events          the OOM killer kills in the jail             memoryuse
``oom_kill`` / v1                                                   (vmemory)
memory.oom_control
cpu.stat               the jail's CPU quota throttles it            pcpu
``nr_throttled``
=====================  ===========================================  ==========

Only files that exist are read.  Notifications are used where the kernel
gives them: inotify on v2's ``pids.events`` and ``memory.events`` (the kernel
marks them modified on each event), and v1's eventfd on
``memory.oom_control`` and on a usage threshold at the memory limit
(``cgroup.event_control``).  v1's ``pids.events`` and ``memory.failcnt`` and
every ``cpu.stat`` give none: they are polled every ``POLL`` seconds while a
watched jail has them.  A jail no rule names is never read.

A counter that keeps rising (a fork bomb at its limit) is reported at once,
then at most every ``REPORT_EVERY`` seconds with the count since the last
report; an OOM kill always at once.
"""

from __future__ import annotations

import logging
import os
import select
import time

from jailfs.ops.logs import subscribe_logged

from .cgroups import Inotify
from .limits import memory_limit, read_number

log = logging.getLogger("jailfs.limitwatch")

POLL = 1.0
REPORT_EVERY = 10.0
SETTLE = 5.0        # polled this long after a rise: a notification may come before the count
GAP = 0.2           # at least this between two reads (v1's usage threshold fires at each crossing)


class Counter:
    """One counter of one jail: file ``name`` (line ``key``) of its cgroup
    ``top``, or (``subtree``) summed over every cgroup below it too: v1
    counts a refused fork and an OOM kill where the process was, not where
    the limit is."""

    __slots__ = ("resource", "top", "name", "key", "subtree", "how", "urgent", "notified",
                 "last", "pending", "reported_at")

    def __init__(self, resource: str, top: str, name: str, key: str | None, how: str,
                 subtree: bool = False, urgent: bool = False):
        self.resource = resource        # the rctl resource whose rule it enforces
        self.top, self.name, self.key, self.subtree = top, name, key, subtree
        self.how = how                  # "{n} ..." said in the report
        self.urgent = urgent            # reported at once, every time (an OOM kill)
        self.notified = False           # a notification wakes the watcher when it rises
        self.last = self.value() or 0
        self.pending = 0                # risen, not yet reported
        self.reported_at = -REPORT_EVERY

    @property
    def path(self) -> str:
        return os.path.join(self.top, self.name)

    def value(self) -> int | None:
        if not self.subtree:
            return read_number(self.path, self.key)
        found = [read_number(os.path.join(d, self.name), self.key)
                 for d, _subdirs, _files in os.walk(self.top)]
        found = [n for n in found if n is not None]
        return sum(found) if found else None

    def rise(self) -> int:
        now = self.value()
        if now is None:
            return 0
        risen, self.last = max(0, now - self.last), now
        return risen


def counters(tree, prison, applied: dict[str, int]) -> list[Counter]:
    """The counters of ``prison``'s cgroups that say what its limits
    (``applied``: resource -> amount) refuse; only files that exist."""
    out = []

    def add(controller: str, names_v2, name_v1, key_v2, key_v1, resource, how,
            subtree_v1=False, urgent=False):
        h = tree.limits.get(controller)
        if h is None:
            return
        top = tree.dir(prison, h)
        names, key = (names_v2, key_v2) if h.v2 else ((name_v1,), key_v1)
        name = next((n for n in names if n and os.path.exists(os.path.join(top, n))), None)
        if name is None:
            return
        c = Counter(resource, top, name, key, how, subtree_v1 and not h.v2, urgent)
        c.notified = h.v2 and ".events" in name
        out.append(c)

    # v2: the .local files count what this cgroup's own limit did (a child
    # jail's limit counts in its own); "max" in pids.events is hierarchical
    if "maxproc" in applied:
        add("pids", ("pids.events.local", "pids.events"), "pids.events", "max", "max",
            "maxproc", "{n} fork(s) refused by pids.max", subtree_v1=True)
    _, mem = memory_limit(applied.get("memoryuse"), applied.get("vmemoryuse"))
    if mem is not None:
        add("memory", ("memory.events.local", "memory.events"), "memory.failcnt", "max", None,
            mem, "the memory limit reached {n} time(s), pages reclaimed")
        add("memory", ("memory.events",), "memory.oom_control", "oom_kill", "oom_kill", mem,
            "{n} process(es) killed by the OOM killer", subtree_v1=True, urgent=True)
    if "vmemoryuse" in applied:
        add("memory", (), "memory.memsw.failcnt", None, None, "vmemoryuse",
            "the memory+swap limit reached {n} time(s)")
    if "pcpu" in applied:
        add("cpu", ("cpu.stat",), "cpu.stat", "nr_throttled", "nr_throttled", "pcpu",
            "throttled in {n} period(s) of 100 ms")
    return out


class _EventFds:
    """v1 memory notifications: an eventfd per (jail, event) registered in
    the jail's ``cgroup.event_control``; closing it unregisters it."""

    def __init__(self):
        self.fds: dict[int, list[int]] = {}     # serial -> eventfds

    def register(self, serial: int, directory: str, target: str, args: str = "") -> bool:
        control = os.path.join(directory, "cgroup.event_control")
        if not os.path.exists(control):
            return False
        efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        try:
            tfd = os.open(os.path.join(directory, target), os.O_RDONLY | os.O_CLOEXEC)
            try:
                with open(control, "w") as f:
                    f.write(f"{efd} {tfd} {args}".rstrip())
            finally:
                os.close(tfd)
        except OSError as e:
            log.info("limitwatch: no notification from %s/%s: %s", directory, target, e.strerror)
            os.close(efd)
            return False
        self.fds.setdefault(serial, []).append(efd)
        return True

    def drop(self, serial: int) -> None:
        for fd in self.fds.pop(serial, []):
            os.close(fd)


class Jail:
    """A watched jail: its prison, its counters, the limits they were made for."""

    __slots__ = ("prison", "counters", "applied")

    def __init__(self, prison, counters_: list[Counter], applied: dict[str, int]):
        self.prison = prison
        self.counters = counters_
        self.applied = applied


class LimitWatch:
    """The counters of the watched jails, one fd to wait on for their
    notifications (``fd``), and ``poll()`` to read what rose."""

    def __init__(self, tree):
        self.tree = tree
        self.jails: dict[int, Jail] = {}
        self._epoll = select.epoll()
        self.fd = self._epoll.fileno()
        self._inotify: Inotify | None = None
        self._eventfds = _EventFds()
        self.rose_at = -SETTLE            # when a counter last rose

    def watch(self, prison, applied: dict[str, int]) -> None:
        """Watch ``prison``'s counters for its limits (again when they changed)."""
        old = self.jails.get(prison.serial)
        if old is not None and old.applied == applied and old.prison is prison:
            return
        self.unwatch(prison.serial)
        found = counters(self.tree, prison, applied)
        for c in found:
            if c.notified:
                self._notify_inotify(prison.serial, c)
        h = self.tree.limits.get("memory")
        limit = min((v for k, v in applied.items() if k in ("memoryuse", "vmemoryuse")),
                    default=None)
        if h is not None and not h.v2 and limit is not None:
            d = self.tree.dir(prison, h)
            ok = self._eventfds.register(prison.serial, d, "memory.oom_control")
            # a threshold a page under the limit: crossed each time usage reaches it
            ok = self._eventfds.register(prison.serial, d, "memory.usage_in_bytes",
                                         str(max(4096, limit - 4096))) and ok
            for fd in self._eventfds.fds.get(prison.serial, []):
                self._epoll.register(fd, select.EPOLLIN)
            for c in found:
                if ok and c.resource in ("memoryuse", "vmemoryuse") and "memsw" not in c.path:
                    c.notified = True
        self.jails[prison.serial] = Jail(prison, found, dict(applied))
        log.info("limitwatch: jail %s: %s", getattr(prison, "name", prison.serial),
                 ", ".join(f"{os.path.basename(c.path)}{' ' + c.key if c.key else ''}"
                           f"{'' if c.notified else ' (polled)'}" for c in found) or "no counter")

    def _notify_inotify(self, serial: int, c: Counter) -> None:
        if self._inotify is None:
            self._inotify = Inotify()
            self._epoll.register(self._inotify.fd, select.EPOLLIN)
        try:
            self._inotify.add((serial, c.path), c.path)
        except OSError as e:
            c.notified = False
            log.info("limitwatch: no inotify on %s: %s", c.path, e.strerror)

    def unwatch(self, serial: int) -> None:
        jail = self.jails.pop(serial, None)
        if jail is None:
            return
        self._eventfds.drop(serial)             # epoll forgets a closed fd by itself
        if self._inotify is not None:
            for c in jail.counters:
                self._inotify.drop((serial, c.path))

    def polled(self) -> bool:
        """Whether to poll() every POLL s: a watched counter gives no
        notification, or one rose lately (v1's OOM eventfd fires before the
        kill is counted; a coalesced rise waits for its report)."""
        return (time.monotonic() - self.rose_at < SETTLE
                or any(not c.notified or c.pending for j in self.jails.values()
                       for c in j.counters))

    def drain(self) -> None:
        """Consume the pending notifications (the counters say what happened)."""
        for fd, _mask in self._epoll.poll(0):
            if self._inotify is not None and fd == self._inotify.fd:
                self._inotify.read()
                continue
            try:
                os.read(fd, 8)
            except OSError:             # BlockingIOError: read already
                pass

    def poll(self, now: float | None = None) -> list[tuple[object, Counter, int]]:
        """(prison, counter, how many) for each rise due to be reported now."""
        now = time.monotonic() if now is None else now
        out = []
        for jail in self.jails.values():
            for c in jail.counters:
                risen = c.rise()
                if risen:
                    c.pending += risen
                    self.rose_at = now
                if not c.pending:
                    continue
                if c.urgent or now - c.reported_at >= REPORT_EVERY:
                    out.append((jail.prison, c, c.pending))
                    c.pending, c.reported_at = 0, now
        return out

    def close(self) -> None:
        for serial in list(self.jails):
            self.unwatch(serial)
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
        self._epoll.close()

class LimitWatchService:
    """The daemon-side service (fs/daemon.py ``services()``): watches the
    jails that rules name while the daemon runs with cgroups, and tells the
    kernel what their limits did.  Nothing runs while no rule names a jail."""

    def __init__(self, kernel, supervisor):
        self.k = kernel
        self.supervisor = supervisor
        self.watch: LimitWatch | None = None
        # the jails to look at again (None: every jail, at the start)
        self._dirty: dict[int, object] | None = None
        self._scope = None              # the wait in run(), cancelled by a change
        self._usage_rules = False       # a log/devctl rule on real usage: poll

    def start(self) -> None:
        if self.supervisor.cgroups is None:
            log.info("limitwatch: no cgroups: what limits refuse is not watched")
            return
        self.watch = LimitWatch(self.supervisor.cgroups)
        subscribe_logged(self.k, self._on_event, log, "limitwatch: while handling %r",
                         kinds=("attached", "freed", "updated", "rctl"))

    def _on_event(self, ev) -> None:
        rctl = self.k.rctl
        if not rctl.jails_named() and not (self.watch is not None and self.watch.jails):
            return          # no rule names a jail, none is watched: refresh() would do nothing
        kind, pr, detail = ev.kind, ev.prison, ev.detail or {}
        if kind == "rctl":
            prisons = rctl.jails_changed(detail) or []
        elif kind == "attached":        # its cgroup, and its ancestors', may be new
            prisons = []
            while pr.parent is not None:
                prisons.append(pr)
                pr = pr.parent
        elif kind == "freed":
            prisons = [pr]
        elif kind == "updated" and "name" in (detail.get("params") or ()):
            prisons = [pr, *pr.descendants()]          # their full names changed
        else:
            return
        if prisons:
            if self._dirty is not None:
                self._dirty.update((p.serial, p) for p in prisons)
            if self._scope is not None:
                self._scope.cancel()

    def refresh(self) -> None:
        """Watch exactly the jails a rule names that have cgroups: of those a
        change may concern (every jail only at the start)."""
        tree, limits = self.supervisor.cgroups, self.supervisor.limits
        dirty, self._dirty = self._dirty, {}
        if tree is None or limits is None:
            return
        named = self.k.rctl.jails_named()
        if dirty is None:
            dirty = {pr.serial: pr for pr in (self.k.prison0.descendants() if named else ())}
            dirty.update((serial, jail.prison) for serial, jail in self.watch.jails.items())
        for serial, pr in dirty.items():
            if pr.state != "freed" and pr.name in named and tree.has(pr):
                self.watch.watch(pr, limits.applied(pr))
            elif serial in self.watch.jails:
                self.watch.unwatch(serial)

    def report(self) -> None:
        """Tell the kernel what rose; match log/devctl rules on real usage."""
        self.watch.drain()
        for pr, counter, n in self.watch.poll():
            if pr.state == "freed":
                continue
            if counter.resource == "maxproc":     # the model counts the bomb too
                for p in [pr, *pr.descendants()]:
                    self.supervisor.sync(p)
            self.k.rctl.limit_hit(pr, counter.resource, counter.how.format(n=n))
        self._usage_rules = False
        for jail in list(self.watch.jails.values()):
            if jail.prison.state != "freed":
                pr = jail.prison
                found = self.k.rctl.check_real_usage(
                    pr, lambda res, pr=pr: self.supervisor.limits.peak(pr, res))
                self._usage_rules = found or self._usage_rules

    async def run(self) -> None:
        if self.watch is None:
            return
        import math

        import trio
        first = True
        while True:
            if first or self._dirty is None or self._dirty:
                first = False
                self.refresh()
                if self.watch.jails:
                    self.report()           # also learns whether usage rules need polling
            polled = self.watch.jails and (self.watch.polled() or self._usage_rules)
            with trio.move_on_after(POLL if polled else math.inf) as scope:
                self._scope = scope
                if self.watch.jails:
                    await trio.lowlevel.wait_readable(self.watch.fd)
                else:
                    await trio.sleep_forever()
            self._scope = None
            if self.watch.jails:
                self.report()
                await trio.sleep(GAP)

    def stop(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None
