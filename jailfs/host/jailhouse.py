"""The daemon's owner of every jail's Linux side: anchors, hostnames, interfaces.

One ``Jailhouse`` per mounted kernel, a service of the daemon
(jailfs/fs/daemon.py's ``services``).  It

* answers the ``enter`` request's confinement lines (``attach_answer``, hooked
  into jailfs/ctl_real.py): it starts the jail's anchor if there is none yet
  (jailfs/host/anchor.py; parents first, as a child jail nests in its
  parent's pid namespace) and tells the entering process what to join and what
  to shed;
* follows the kernel's events: a jail that starts dying or is freed loses its
  anchor (and with it every process left in its pid namespace); a hostname
  changed from outside is set in the jail's UTS namespace; interfaces created
  and moved by the vnet module are made real (jailfs/host/netif.py);
* in ``run`` (a task of the daemon's nursery) takes the hostnames the anchors
  report (set from inside) into the kernel and forgets anchors that died, as
  each happens (one epoll set of every anchor's report pipe and pidfds: a
  host with thousands of running jails costs nothing while they are quiet),
  and twice a second ends them all if the mount is gone (an anchor's
  /dev/jailfs would otherwise keep the unmounted filesystem alive);
* ends every anchor in ``stop`` (daemon exit).

Where this system cannot confine (``namespaces.unavailable()``), entering works
as before confinement existed and the reason is logged once.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import shlex

from jailfs import ctl_nested, ctl_real, ctl_toolbox
from jailfs.ops import runfiles
from jailfs.ops.logs import subscribe_logged
from jailfs.kernel import Caller, JailError

from . import namespaces
from .anchor import JAILFS_AT, VIEW_NAME, Anchor, Spec
from .nested import EntryAgent, host_pid

log = logging.getLogger("jailfs.jailhouse")

# What the entering process needs to derive its privileges (privileges.py).
SHED_PARAMS = ("host", "vnet", "sysvmsg", "sysvsem", "sysvshm", "securelevel",
               "enforce_statfs", "host.hostname")


class Jailhouse:
    def __init__(self, kernel, mountpoint: str | None, supervisor=None):
        self.k = kernel
        self.mountpoint = mountpoint
        self.supervisor = supervisor        # its cgroups (if any) hold the anchors' start
        self.anchors: dict[int, Anchor] = {}    # Prison.serial -> its anchor
        # what run() waits for: each anchor's report pipe and pidfds (the
        # anchor process and its init), fd -> (its prison, anchor, pipe or not)
        self._events = select.epoll()
        self._followed: dict[int, tuple[object, Anchor, bool]] = {}
        self.agents: list[EntryAgent] = []      # entering a child jail for a jailed keeper
        self.refused: str | None = None
        from .netif import Interfaces
        self.netif = Interfaces(self)

    def start(self) -> None:
        self.refused = namespaces.unavailable()
        if self.refused:
            log.warning("jails do not confine their processes here (%s): "
                        "a jailed process runs on the host's root, hostname, "
                        "network and IPC", self.refused)
        ctl_real.enter_hooks.append(self.attach_answer)
        ctl_nested.enter_child_hooks.append(self.enter_child)
        ctl_toolbox.ipc_namespace_hooks.append(self.ipc_namespace)
        subscribe_logged(self.k, self._on_event, log, "jailhouse: while handling %r")

    # ------------------------------------------------------------ attach
    def attach_answer(self, k, pr, real_pid: int) -> list[str]:
        """The lines an ``attach`` answer carries for the entering process."""
        if k is not self.k:
            return []
        if self.refused:
            return ["confine=none", "reason=" + shlex.quote(self.refused)]
        try:
            anchor = self.anchor(pr)
        except OSError as e:
            # Never unconfined because of one jail's trouble: the keeper refuses.
            log.error("jail %s: no anchor: %s", pr.name, e)
            return ["confine=error", "reason=" + shlex.quote(e.strerror or str(e))]
        self.netif.reconcile()          # interfaces moved in before the first entry
        values = self.values(pr)
        proc = k.real_procs.get(real_pid)
        lines = ["confine=anchor", f"anchor={anchor.pid}", f"anchor_start={anchor.start_time}",
                 f"mount={JAILFS_AT}", f"proc={proc.pid if proc else 0}", f"jid={pr.jid}"]
        if self.mountpoint:
            # what the entering process binds at JAILFS_AT (enter.py join)
            lines.append("view=" + shlex.quote(os.path.join(self.mountpoint, VIEW_NAME)))
        lines += [f"{n}={shlex.quote(values[n])}" for n in SHED_PARAMS]
        allowed = [n[len("allow."):] for n, v in values.items()
                   if n.startswith("allow.") and v == "true"]
        lines.append("allow=" + ",".join(allowed))
        return lines

    def enter_child(self, k, caller, pr, ns_pid: int, spec_fd: int) -> list[str]:
        """``enterchild``: an entry agent takes the keeper's descriptors, is
        attached to ``pr`` (a jail below the caller's) and enters it."""
        if k is not self.k:
            return []
        tree = getattr(self.supervisor, "cgroups", None)
        if self.refused or tree is None:
            raise JailError(errno.EOPNOTSUPP, self.refused or "no cgroups: a jailed "
                            "keeper cannot be found", "jail_attach")
        level = caller.prison.depth_below(k.prison0)
        keeper = host_pid(tree.pids(caller.prison), level, ns_pid)
        if keeper is None:
            raise JailError(errno.ESRCH, f"no process {ns_pid}", "jail_attach")
        try:
            agent = EntryAgent(keeper, spec_fd, level)
        except OSError as e:
            log.info("jail %s: no entry agent for %d: %s", pr.name, keeper, e.strerror)
            raise JailError(e.errno or errno.EIO, e.strerror or str(e), "jail_attach")
        proc = k.spawn(caller.prison.jid, 0, real_pid=agent.pid)
        try:
            k.jail_attach(proc, pr.jid)
        except JailError:
            k.kill(proc)
            agent.kill()
            raise
        lines = self.attach_answer(k, pr, agent.pid)
        if "confine=anchor" not in lines:
            agent.kill()
            return lines
        agent.go(lines)
        self.agents.append(agent)
        return ["confine=agent"]

    def ipc_namespace(self, k, pr):
        """(the jail owning pr's IPC namespace, its anchor's pid): the nearest
        of pr and its ancestors with a ``sysv*=new``, if its anchor runs;
        None for the host's namespace or no anchor (so no real object yet)."""
        if k is not self.k or self.refused:
            return None
        p = pr
        while p is not None and p is not self.k.prison0:
            if "ipc" in namespaces.wanted(self.values(p)):
                a = self.anchors.get(p.serial)
                return (p, a.pid) if a is not None and a.alive() else None
            p = p.parent
        return None

    def values(self, pr) -> dict[str, str]:
        return self.k.jail_get(Caller(self.k.prison0, 0), ("jid", pr.jid))

    def anchor(self, pr) -> Anchor:
        """pr's running anchor, started (with its ancestors') when missing."""
        a = self.anchors.get(pr.serial)
        if a is not None and a.alive():
            return a
        if a is not None:
            self._drop(pr.serial)
        values = self.values(pr)
        parent = pr.parent if pr.parent is not self.k.prison0 else None
        join: dict[str, int] = {}
        if parent is not None:
            join["pid"] = self.anchor(parent).pid
        new = namespaces.wanted(values)
        for nstype, owner in (("uts", self._owner(pr, "host")),
                              ("net", self._owner(pr, "vnet")),
                              ("ipc", parent)):
            if nstype not in new and owner is not None:
                join[nstype] = self.anchor(owner).pid
        within, a = [], parent
        while a is not None and a is not self.k.prison0:
            within.insert(0, self.root(a))      # outermost first
            a = a.parent
        spec = Spec(root=self.root(pr), within=within, mount=self.mountpoint, new=new, join=join,
                    hostname=values.get("host.hostname"),
                    domainname=values.get("host.domainname"))
        tree = getattr(self.supervisor, "cgroups", None)
        if tree is not None:
            # The anchor unshares its cgroup namespace in the jail's leaf (the
            # jail's processes see it as "/"), then goes back to the daemon's
            # cgroup: it is not one of the jail's processes.
            tree.ensure(pr)
            spec.cgroup = tree.leaf(pr)
            spec.cgroup_back = tree.member.mount + tree.member.own
        a = Anchor(spec)
        self.anchors[pr.serial] = a
        self._follow(pr, a)
        log.info("jail %s: anchor %d (namespaces %s)", pr.name, a.pid,
                 " ".join(f"{t}:{i}" for t, i in a.ns.items()))
        return a

    def root(self, pr) -> str:
        """The directory that becomes pr's ``/``: its path, which must lie
        within its parent jail's root (the parent's root sees the child's
        processes, and so their roots).  A jail created from inside another
        one without a path gets ``/`` from the kernel model: FreeBSD gives it
        its parent's root, and so do we."""
        parent = pr.parent
        if parent is None or parent is self.k.prison0:
            return pr.path
        proot = self.root(parent)
        if pr.path == "/" or proot == "/":
            return proot if pr.path == "/" else pr.path
        if pr.path == proot or pr.path.startswith(proot.rstrip("/") + "/"):
            return pr.path
        raise OSError(errno.EPERM, f"jail {pr.name}: path {pr.path} is outside its "
                                   f"parent's root {proot}")

    def _owner(self, pr, param: str):
        """The nearest strict ancestor with ``param=new`` (None: the host)."""
        p = pr.parent
        while p is not None and p is not self.k.prison0:
            if self.values(p).get(param) == "new":
                return p
            p = p.parent
        return None

    # ------------------------------------------------------------ events
    def _on_event(self, ev) -> None:
        pr = ev.prison
        if pr is None or self.refused:
            return
        if ev.kind in ("dying", "freed") and self.anchors:
            for d in [pr] + list(pr.descendants()):
                if d.serial in self.anchors:
                    self._drop(d.serial)
        elif ev.kind == "updated" and pr.serial in self.anchors:
            params = (ev.detail or {}).get("params") or ()
            for what in ("hostname", "domainname"):
                if "host." + what in params and pr.state != "freed":
                    self.anchors[pr.serial].send(f"{what} {getattr(pr, what)}")
        self.netif.event(ev)

    def _drop(self, serial: int) -> None:
        a = self.anchors.pop(serial)
        self._unfollow(a)
        self.netif.before_drop(a.pid)
        a.kill()
        log.info("anchor %d ended", a.pid)

    # ------------------------------------------------------------ following the anchors
    def _follow(self, pr, a: Anchor) -> None:
        for pid in dict.fromkeys((a.proc.pid, a.pid)):
            try:
                fd = os.pidfd_open(pid)
            except OSError as e:        # ESRCH: already gone; found dead at its next use
                if e.errno != errno.ESRCH:
                    log.warning("anchor %d: cannot follow process %d: %s", a.pid, pid, e)
                continue
            a.pidfds.append(fd)
            self._events.register(fd, select.EPOLLIN)
            self._followed[fd] = (pr, a, False)
        out = a.proc.stdout.fileno()
        self._events.register(out, select.EPOLLIN)
        self._followed[out] = (pr, a, True)

    def _unfollow(self, a: Anchor) -> None:
        for fd in [*a.pidfds, a.proc.stdout.fileno()]:
            if self._followed.get(fd, (None, None, False))[1] is a:
                del self._followed[fd]
                self._events.unregister(fd)
        for fd in a.pidfds:
            os.close(fd)
        a.pidfds = []

    def take_anchor_events(self) -> None:
        """What the anchors did since last asked: hostnames set inside taken
        into the kernel, the anchors that ended (or whose init did) dropped."""
        for fd, mask in self._events.poll(0):
            pr, a, pipe = self._followed.get(fd, (None, None, False))
            if a is None or self.anchors.get(pr.serial) is not a:
                continue
            if not pipe:
                self._drop(pr.serial)
                continue
            for line in a.reports():
                what, _, value = line.partition(" ")
                if what == "hostname" and pr.state != "freed" and pr.hostname != value:
                    self._sethostname(pr, value)
            if mask & (select.EPOLLHUP | select.EPOLLERR):
                # no writer is left: the pidfds say the rest
                del self._followed[fd]
                self._events.unregister(fd)

    # ------------------------------------------------------------ the daemon's task
    def poll(self) -> None:
        """End every anchor if the mount is gone; forget entry agents that ended."""
        if self.anchors and self.mountpoint and runfiles.mounted_fstype(self.mountpoint) is None:
            log.info("%s is no longer mounted: ending every anchor", self.mountpoint)
            self.close()
            return
        self.agents = [a for a in self.agents if not a.ended()]

    def _sethostname(self, pr, value: str) -> None:
        try:
            self.k.sethostname(Caller(pr, 0), "hostname", value)
        except JailError as e:
            log.info("jail %s: hostname %r set inside refused: %s", pr.name, value, e)
            self.anchors[pr.serial].send(f"hostname {pr.hostname}")

    async def run(self) -> None:
        import trio

        async def anchor_events() -> None:
            while True:
                await trio.lowlevel.wait_readable(self._events.fileno())
                try:
                    self.take_anchor_events()
                except Exception:       # noqa: BLE001 - one anchor's trouble must not stop the daemon
                    log.exception("jailhouse: while following the anchors")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(anchor_events)
            while True:
                self.poll()
                self.netif.reconcile()
                await trio.sleep(0.5)

    def stop(self) -> None:
        self.close()
        self._events.close()
        if self.attach_answer in ctl_real.enter_hooks:
            ctl_real.enter_hooks.remove(self.attach_answer)
        if self.enter_child in ctl_nested.enter_child_hooks:
            ctl_nested.enter_child_hooks.remove(self.enter_child)
        if self.ipc_namespace in ctl_toolbox.ipc_namespace_hooks:
            ctl_toolbox.ipc_namespace_hooks.remove(self.ipc_namespace)

    def close(self) -> None:
        for agent in self.agents:
            agent.kill()
        self.agents = []
        for serial in list(self.anchors):
            self._drop(serial)
        self.netif.close()
