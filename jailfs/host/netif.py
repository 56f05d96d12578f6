"""Real interfaces for the kernel's vnet stacks: an ``epair`` is a veth pair.

The kernel's vnet module (jailfs/kernel/vnet.py) says which stack holds each
interface: prison0's (the host) or a ``vnet=new`` jail's.  ``Interfaces``
makes Linux agree, with pyroute2 over netlink:

* each half of an ``epairN`` (``epairNa``/``epairNb``) is one end of a veth
  pair the daemon creates;
* in a jail's network namespace (its anchor's) an end carries the model's name;
  on the host it carries a name unique to this daemon (``jf<tag><serial>``,
  the model's name as its alias), so two daemons' ``epair0a`` never clash and
  the host's own interfaces are never touched;
* an interface in a jail without an anchor yet (no process entered it), or
  whose anchor is ending, waits on the host: ``before_drop`` brings every end
  out of a jail's namespace before its anchor ends, since a veth left in a
  dying network namespace would be destroyed with it instead of going home.

``reconcile`` compares the model with what was made and moves, creates and
deletes to match; the jailhouse calls it on every kernel event, on entry and
twice a second (the vnet module's calls emit no event of their own).
Interfaces of other clonable kinds (bridge, tap...) and the model's ``em0``
stay model-only.
"""

from __future__ import annotations

import logging
import os
import re

log = logging.getLogger("jailfs.netif")

EPAIR = re.compile(r"epair(\d+)([ab])")


class RealEnd:
    __slots__ = ("host_name", "where", "model")

    def __init__(self, host_name: str, model: str):
        self.host_name = host_name
        self.model = model
        self.where = 0                  # 0: the host; else the anchor pid holding it


class Interfaces:
    def __init__(self, house):
        self.house = house
        self.ends: dict[int, RealEnd] = {}      # Iface.serial -> its real veth end
        self.tag = _base36(os.getpid() % 46656).rjust(3, "0")
        self._ipr = None

    # ------------------------------------------------------------ netlink
    def _host(self):
        if self._ipr is None:
            from pyroute2 import IPRoute
            self._ipr = IPRoute()
        return self._ipr

    def _index(self, nl, name: str) -> int | None:
        found = nl.link_lookup(ifname=name)
        return found[0] if found else None

    def _in(self, pid: int):
        from pyroute2 import NetNS
        return NetNS(f"/proc/{pid}/ns/net")

    def _move(self, end: RealEnd, name_there: str, to_pid: int) -> None:
        """Move ``end`` from where it is into the netns of ``to_pid`` (0: host)."""
        target = to_pid or os.getpid()
        new_name = name_there if to_pid else end.host_name
        if end.where == 0:
            nl, name = self._host(), end.host_name
            idx = self._index(nl, name)
            nl.link("set", index=idx, net_ns_pid=target, ifname=new_name)
        else:
            with self._in(end.where) as nl:
                idx = self._index(nl, end.model)
                if idx is not None:
                    nl.link("set", index=idx, net_ns_pid=target, ifname=new_name)
        end.where = to_pid

    # ------------------------------------------------------------ the model
    def _model(self) -> dict[int, tuple[object, object]]:
        """serial -> (Iface, the prison whose stack holds it) for every epair end
        (the vnet module's index: no walk over every vnet jail's stack)."""
        return {s: (i, i.stack.prison) for s, i in self.house.k.vnet.epairs.items()}

    def reconcile(self) -> None:
        if self.house.refused:
            return
        try:
            self._reconcile()
        except Exception:           # noqa: BLE001 - netlink trouble must not stop the daemon
            log.exception("interfaces: reconcile failed")

    def _reconcile(self) -> None:
        model = self._model()
        if not model and not self.ends:
            return                      # no epair anywhere: nothing to make or move
        for serial in [s for s in self.ends if s not in model]:
            self._delete(serial)
        pending = [s for s in model if s not in self.ends]
        for serial in pending:
            if serial not in self.ends:
                self._create_pair(serial, model)
        prison0 = self.house.k.prison0
        for serial, (iface, pr) in model.items():
            end = self.ends.get(serial)
            if end is None:
                continue
            anchor = self.house.anchors.get(pr.serial) if pr is not prison0 else None
            want = anchor.pid if anchor is not None and anchor.alive() else 0
            if end.where != want:
                self._move(end, iface.name, want)
                log.info("interface %s (%s) now in %s", iface.name, end.host_name,
                         f"jail {pr.name}" if want else "the host")

    def _create_pair(self, serial: int, model) -> None:
        iface, _ = model[serial]
        peer = iface.peer
        if peer is None or peer.serial not in model or peer.serial in self.ends:
            return                      # one half only: it waits for its peer
        unit, _ = EPAIR.fullmatch(iface.name).groups()
        halves = {EPAIR.fullmatch(i.name).group(2): (i.serial, i) for i in (iface, peer)}
        ends = {}
        for side, (s, i) in halves.items():
            ends[side] = RealEnd(f"jf{self.tag}{s}", i.name)
        nl = self._host()
        nl.link("add", ifname=ends["a"].host_name, kind="veth", peer=ends["b"].host_name)
        for side, (s, i) in halves.items():
            idx = self._index(nl, ends[side].host_name)
            nl.link("set", index=idx, ifalias=i.name)
            self.ends[s] = ends[side]
        log.info("epair%s: veth pair %s/%s", unit, ends["a"].host_name, ends["b"].host_name)

    def _delete(self, serial: int) -> None:
        end = self.ends.pop(serial)
        try:
            if end.where == 0:
                idx = self._index(self._host(), end.host_name)
                if idx is not None:
                    self._host().link("del", index=idx)
            else:
                with self._in(end.where) as nl:
                    idx = self._index(nl, end.model)
                    if idx is not None:
                        nl.link("del", index=idx)
        except Exception as e:      # noqa: BLE001 - its peer's deletion may have taken it
            log.debug("interface %s: %s", end.host_name, e)

    # ------------------------------------------------------------ the jailhouse's calls
    def event(self, ev) -> None:
        self.reconcile()

    def before_drop(self, anchor_pid: int) -> None:
        """An anchor is about to end: bring its interfaces to the host first."""
        for end in self.ends.values():
            if end.where == anchor_pid:
                try:
                    self._move(end, end.host_name, 0)
                except Exception as e:      # noqa: BLE001
                    log.warning("interface %s: cannot bring it home: %s", end.model, e)

    def close(self) -> None:
        for serial in list(self.ends):
            self._delete(serial)
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
