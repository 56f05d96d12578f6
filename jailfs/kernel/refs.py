"""References: prison_deref and the life of a prison (ALIVE -> DYING -> FREED),
the `.refs` report of who holds a prison, and the invariants every count must
satisfy when derived again from its holders."""

from __future__ import annotations

import heapq

from .addrindex import AddressIndex
from .params import PR_PERSIST
from .prison import ALIVE, DYING, FREED, Cred, Prison, by_pid, by_serial


class RefReport:
    def __init__(self, lines: list[str], ref: int, uref: int):
        self.lines, self.ref, self.uref = lines, ref, uref

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines) + f"total pr_ref={self.ref} pr_uref={self.uref}\n"


class References:
    """The Kernel's reference counting, `.refs` and invariants (a mixin)."""

    # ============================================================ references
    def _deref(self, pr: Prison, ref: int, uref: int) -> None:
        """prison_deref: a user reference gone may kill the jail, a last reference frees it."""
        while pr is not None:
            pr.uref -= uref
            pr.ref -= ref
            if uref and pr.uref == 0 and pr.state == ALIVE and pr is not self.prison0:
                self._mark_dying(pr)
            if pr.ref > 0 or pr is self.prison0:
                return
            parent = self._free(pr)
            pr, ref, uref = parent, 1, 1        # the child's hold on its parent goes too

    def _mark_dying(self, pr: Prison) -> None:
        for fam in ("ip4", "ip6"):
            self.addr_index.discard(pr, fam)        # the clash check skips what is not alive
        pr.state = DYING
        self.dying[pr.serial] = pr
        names = pr.parent.alive_names
        if names is not None and names.get(pr.short) is pr:
            del names[pr.short]
        # PR_METHOD_REMOVE: SysV cleanup drops object credentials. A temporary
        # hold keeps pr from being freed inside this call; the caller frees it.
        pr.ref += 1
        for dying in self._dying_hooks:
            dying(pr)
        pr.ref -= 1
        self.emit("dying", pr)

    def _free(self, pr: Prison) -> Prison:
        self._unindex(pr)
        self.dying.pop(pr.serial, None)
        parent = pr.parent
        del parent.children[pr.serial]
        if not parent.children:
            parent.children = None
        tpr = parent
        while tpr is not None:
            tpr.childcount -= 1
            tpr = tpr.parent
        pr.state = FREED
        heapq.heappush(self._cpuset_free, pr.cpuset_id)
        for freed in self._freed_hooks:
            freed(pr)
        self.emit("freed", pr)
        return parent

    def _settle(self, pr: Prison) -> None:
        """A jail left with no user reference (no persist, no process) dies at once."""
        if pr.state == ALIVE and pr.uref == 0:
            self._mark_dying(pr)
            self._deref(pr, 0, 0)

    # ============================================================ .refs
    def refs(self, pr: Prison, viewer: Prison | None = None) -> RefReport:
        """Who holds pr, as viewer (default: the host) may be told: jails are named
        relative to the viewer, and nothing outside the viewer's jail is named."""
        viewer = viewer or self.prison0
        lines = []
        if pr.flags & PR_PERSIST:
            lines.append("persist: ref 1, uref 1")
        for child in pr.children.values() if pr.children else ():
            lines.append(f"child jail {child.relname(viewer)} (jid {child.jid}, {child.state}): "
                         "ref 1, uref 1")
        for p in sorted(self.running.get(pr.serial, ()), key=by_pid):
            lines.append(f"{p.describe()}: uref 1")
        for cred in sorted(self._creds_of.get(pr.serial, ()), key=by_serial):
            lines.append(f"credential {cred.serial} (uid {cred.uid}): ref 1, held {cred.refcnt} time(s) by:")
            lines.extend("    " + text for text in self._cred_users(cred, viewer))
        return RefReport(lines, pr.ref, pr.uref)

    def _cred_users(self, cred: Cred, viewer: Prison) -> list[str]:
        out = [self._proc_as_seen(p, viewer)
               for p in sorted(self._cred_procs.get(cred.serial, ()), key=by_pid)]
        for f in sorted(self._cred_files.get(cred.serial, ()), key=by_serial):
            if f.tcp_state == "TIME_WAIT":
                left = max(f.expires - self.clock.now, 0.0)
                out.append(f"tcp {f.what} TIME_WAIT, {left:g} s left")
                continue
            state = f" {f.tcp_state}" if f.tcp_state else ""
            owners = [self._fd_as_seen(fd, p, viewer)
                      for p, fd in sorted(f.owners, key=lambda owner: (owner[0].pid, owner[1]))]
            out.append(f"{f.kind} {f.what}{state} open as " + ", ".join(owners))
        for h in self.holders.values():
            if h.cred is cred:
                out.append(f"{h.kind} {h.what} (holder {h.ident})")
        for m in self.modules:
            out.extend(m.holds(cred))
        return out

    @staticmethod
    def _sees(viewer: Prison, pr: Prison) -> bool:
        return pr is viewer or pr.is_descendant_of(viewer)

    def _where(self, pr: Prison, viewer: Prison) -> str:
        if pr is viewer:
            return "host" if pr is self.prison0 else "this jail"
        return f"jail {pr.relname(viewer)} (jid {pr.jid})"

    def _proc_as_seen(self, p, viewer: Prison) -> str:
        if not self._sees(viewer, p.prison):
            return "a process outside this jail"
        return f"{p.describe()} in {self._where(p.prison, viewer)}"

    def _fd_as_seen(self, fd: int, p, viewer: Prison) -> str:
        if not self._sees(viewer, p.prison):
            return "a descriptor of a process outside this jail"
        return f"fd {fd} of process {p.pid} in {self._where(p.prison, viewer)}"

    # ============================================================ invariants
    def check_invariants(self) -> None:
        """Every count is derived again from its holders and compared."""
        everyone = [self.prison0] + list(self.jids.values())
        assert list(self._sorted_jids) == sorted(self.jids), "allprison order broken"
        assert len(self.jids) == len(self._sorted_jids), "duplicate jid"
        assert self.addr_index.tables() == AddressIndex.of(self.jids.values()).tables(), \
            "address index differs from the jails' addresses"
        creds_of: dict[int, int] = {}
        for cred in self.creds:
            assert cred.refcnt > 0, f"dead credential {cred.serial} still listed"
            creds_of[cred.prison.serial] = creds_of.get(cred.prison.serial, 0) + 1
        procs_of: dict[int, int] = {}
        cred_holds: dict[int, int] = {}
        for p in self.procs.values():
            cred_holds[p.cred.serial] = cred_holds.get(p.cred.serial, 0) + 1
            if p.state == "running":
                procs_of[p.prison.serial] = procs_of.get(p.prison.serial, 0) + 1
        for f in self._files.values():
            cred_holds[f.cred.serial] = cred_holds.get(f.cred.serial, 0) + 1
        for h in self.holders.values():
            cred_holds[h.cred.serial] = cred_holds.get(h.cred.serial, 0) + 1
        for m in self.modules:                       # e.g. SysV IPC objects hold their creator's cred
            for cred in m.creds():
                cred_holds[cred.serial] = cred_holds.get(cred.serial, 0) + 1
        for cred in self.creds:
            assert cred.refcnt == cred_holds.get(cred.serial, 0), \
                f"credential {cred.serial}: refcnt {cred.refcnt} != holders {cred_holds.get(cred.serial, 0)}"
        for pr in everyone:
            kids = list(pr.children.values()) if pr.children else []
            for k in kids:
                assert k.parent is pr and k.state in (ALIVE, DYING), f"{k} badly linked"
                assert self.jids.get(k.jid) is k, f"{k} not indexed"
            alive = {k.short: k for k in kids if k.state == ALIVE}
            assert alive == (pr.alive_names or {}), f"{pr}: alive name index wrong"
            assert pr.childcount == sum(1 for _ in pr.descendants()), f"{pr}: children.cur wrong"
            if pr is self.prison0:
                continue
            persist = 1 if pr.flags & PR_PERSIST else 0
            want_ref = persist + len(kids) + creds_of.get(pr.serial, 0)
            want_uref = persist + len(kids) + procs_of.get(pr.serial, 0)
            assert pr.ref == want_ref, f"{pr}: pr_ref {pr.ref} != holders {want_ref}"
            assert pr.uref == want_uref, f"{pr}: pr_uref {pr.uref} != holders {want_uref}"
            assert pr.ref > 0, f"{pr}: unreferenced but not freed"
            assert pr.state != ALIVE or pr.uref > 0, f"{pr}: alive without a user reference"
            assert pr.state != DYING or persist == 0, f"{pr}: dying yet persistent"
        for p in self.procs.values():
            assert p.prison.state != FREED, f"process {p.pid} in a freed jail"
        self._check_indexes()
        for m in self.modules:
            m.check_invariants()

    def _check_indexes(self) -> None:
        """The kept indexes of who holds what, against a walk over everything."""
        def grouped(items, key) -> dict:
            out: dict = {}
            for item in items:
                out.setdefault(key(item), set()).add(item)
            return out
        assert self.dying == {pr.serial: pr for pr in self.jids.values() if pr.state == DYING}, \
            "dying index"
        running = [p for p in self.procs.values() if p.state == "running"]
        assert self.running == grouped(running, lambda p: p.prison.serial), "running index"
        assert self.real_procs == {p.real_pid: p for p in running if p.real_pid}, \
            "real pid index"
        assert len(self.real_procs) == sum(1 for p in running if p.real_pid), "real pid twice"
        assert self._creds_of == grouped(self.creds, lambda c: c.prison.serial), "cred index"
        assert self._cred_procs == grouped(self.procs.values(), lambda p: p.cred.serial), \
            "process-by-credential index"
        assert self._cred_files == grouped(self._files.values(), lambda f: f.cred.serial), \
            "file-by-credential index"
        owners = grouped(((p, fd) for p in self.procs.values() for fd in p.fds),
                         lambda owner: owner[0].fds[owner[1]].serial)
        for f in self._files.values():
            assert f.owners == owners.get(f.serial, set()), f"owners of file {f.serial}"


