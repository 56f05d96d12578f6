"""SysV IPC objects (message queues, semaphore sets, shared memory) and their
per-jail namespaces (spec section 7; sys/kern/sysv_msg.c, sysv_sem.c, sysv_shm.c).

Every object crhold()s the credential of the process that created it, so an
object keeps its creator's jail referenced (a jail whose objects survive it
stays DYING). Which objects a caller reaches depends on the facility's root
prison (``Prison.sysv_root``): keys are looked up among objects created in
exactly the caller's prison; ids reach objects created in the root or below.
"""

from __future__ import annotations

from errno import EEXIST, EINVAL, ENOENT, ENOSPC, ENOSYS, EPERM

from .errors import JailError
from .modules import KernelModule, SetRequest
from .params import SYS_DISABLE, SYS_INHERIT, SYS_NEW, Param, register_params
from .prison import FREED, Cred, Prison, Proc

MSG, SEM, SHM = 0, 1, 2
FACILITIES = ("msg", "sem", "shm")
KINDS = ("msq", "sem", "shm")               # how .refs names each kind of object
IPC_PRIVATE = 0
IPC_CREAT, IPC_EXCL = 0o1000, 0o2000
# Default table sizes: kern.ipc.msgmni, semmni, shmmni.
DEFAULT_LIMITS = (40, 50, 192)
_OPS = (("msgget", "msgctl"), ("semget", "semctl"), ("shmget", "shmctl"))
SYSV_PARAMS = ("sysvmsg", "sysvsem", "sysvshm")


class IpcObject:
    """One queue, semaphore set or segment: holds its creator's credential."""

    __slots__ = ("facility", "id", "key", "cred", "uid", "removed", "nattch")

    def __init__(self, facility: int, ident: int, key: int, cred: Cred):
        self.facility = facility
        self.id = ident
        self.key = key
        self.cred = cred
        self.uid = cred.uid
        self.removed = False        # shm only: IPC_RMID seen, freed at last detach
        self.nattch = 0             # shm only

    @property
    def creator(self) -> Prison:
        return self.cred.prison

    def describe(self) -> str:
        removed = " (removed, attached)" if self.removed else ""
        return f"sysv {KINDS[self.facility]} id {self.id} key {self.key:#x}{removed}"


def _sysv_mode(facility: int):
    return lambda pr, me: pr.sysv_mode(facility)


class Ipc(KernelModule):
    """The three SysV IPC tables of one Kernel (``k.ipc``) and the sysv* parameters."""

    name = "sysvipc"
    params = tuple(Param(n, "jailsys", _sysv_mode(f), module="sysvipc")
                   for f, n in enumerate(SYSV_PARAMS))

    def __init__(self, kernel):
        super().__init__(kernel)
        self.tables: tuple[dict[int, IpcObject], ...] = ({}, {}, {})
        self._seq: tuple[dict[int, int], ...] = ({}, {}, {})   # slot -> sequence number
        self.limits = list(DEFAULT_LIMITS)
        self.attached: dict[int, list[IpcObject]] = {}     # pid -> attached segments

    # ------------------------------------------------------------- jail_set
    @staticmethod
    def requested_modes(opts: dict, created: bool) -> dict[int, int]:
        """Each facility's new mode: its own parameter, else what allow.sysvipc
        implies (inherit, or disable for allow.nosysvipc), else disable for a new jail."""
        modes = {}
        implied = None
        if "allow.sysvipc" in opts:
            implied = SYS_INHERIT if opts["allow.sysvipc"] else SYS_DISABLE
        for facility, pname in enumerate(SYSV_PARAMS):
            if pname in opts:
                modes[facility] = opts[pname]
            elif implied is not None:
                modes[facility] = implied
            elif created:
                modes[facility] = SYS_DISABLE
        return modes

    def check(self, req: SetRequest) -> None:
        """msg/sem/shm_prison_check: only an explicit sysv* value is checked: new or
        inherit needs the parent's facility; allow.sysvipc alone never refuses (a
        facility the parent lacks stays disabled)."""
        for facility, pname in enumerate(SYSV_PARAMS):
            mode = req.opts.get(pname)
            if mode is None or mode == SYS_DISABLE:
                continue
            if mode not in (SYS_NEW, SYS_INHERIT):
                raise JailError(EINVAL)
            if req.ppr.sysv_root(facility) is None:
                raise JailError(EPERM)

    def set(self, pr: Prison, req: SetRequest) -> None:
        modes = self.requested_modes(req.opts, req.created)
        own_roots = self.own_roots(pr, modes) if modes and not req.created else ()
        for facility, mode in modes.items():
            pr.set_sysv_mode(facility, mode)
        disabled = [f for f, mode in modes.items() if mode == SYS_DISABLE] if pr.children else ()
        if disabled:                                 # a disabled facility: below it too
            for d in pr.descendants():
                for facility in disabled:
                    d.set_sysv_mode(facility, SYS_DISABLE)
        if own_roots:                                # no longer its own root: objects go
            self.roots_changed(own_roots)

    # ------------------------------------------------------------- reading
    def objects(self):
        for table in self.tables:
            yield from table.values()

    def held_by(self, cred: Cred) -> list[IpcObject]:
        return [o for o in self.objects() if o.cred is cred]

    # ------------------------------------------------------------- checks
    def _root(self, proc: Proc, facility: int, op: str) -> Prison:
        if proc.state != "running":
            raise JailError(EINVAL, f"process {proc.pid} is not running", op)
        rpr = proc.prison.sysv_root(facility)
        if rpr is None:
            raise JailError(ENOSYS, "", op)
        return rpr

    @staticmethod
    def _cansee(rpr: Prison, obj: IpcObject) -> bool:
        pr = obj.creator
        return pr is rpr or pr.is_descendant_of(rpr)

    def _by_id(self, proc: Proc, facility: int, ident: int, op: str) -> IpcObject:
        rpr = self._root(proc, facility, op)
        obj = self.tables[facility].get(ident)
        if obj is None or not self._cansee(rpr, obj):
            raise JailError(EINVAL, "", op)
        return obj

    # ------------------------------------------------------------- get
    def get(self, facility: int, proc: Proc, key: int, create: bool = False,
            excl: bool = False) -> int:
        """msgget/semget/shmget: the id of the object under key in the caller's
        own prison, or a new one (IPC_PRIVATE always makes a new one)."""
        op = _OPS[facility][0]
        self._root(proc, facility, op)
        table = self.tables[facility]
        if key != IPC_PRIVATE:
            for obj in table.values():
                if obj.key == key and obj.creator is proc.prison:
                    if create and excl:
                        raise JailError(EEXIST, "", op)
                    return obj.id
            if not create:
                raise JailError(ENOENT, "", op)
        if len(table) >= self.limits[facility]:
            raise JailError(ENOSPC, "", op)
        ident = self._new_id(facility)
        table[ident] = IpcObject(facility, ident, key, self.k.crhold(proc.cred))
        return ident

    def _new_id(self, facility: int) -> int:
        """IXSEQ_TO_IPCID: the lowest free slot, with its 15-bit sequence number (one
        more each time the slot is used) above bit 16: the first ids are 65536, 65537."""
        used = {ident & 0xFFFF for ident in self.tables[facility]}
        slot = next(i for i in range(len(used) + 1) if i not in used)
        seq = (self._seq[facility].get(slot, 0) + 1) & 0x7FFF
        self._seq[facility][slot] = seq
        return (seq << 16) | slot

    def msgget(self, proc, key, create=False, excl=False):
        return self.get(MSG, proc, key, create, excl)

    def semget(self, proc, key, create=False, excl=False):
        return self.get(SEM, proc, key, create, excl)

    def shmget(self, proc, key, create=False, excl=False):
        return self.get(SHM, proc, key, create, excl)

    # ------------------------------------------------------------- IPC_RMID
    def remove(self, facility: int, proc: Proc, ident: int) -> None:
        """msgctl/semctl/shmctl(IPC_RMID): the creator's uid or root."""
        op = _OPS[facility][1]
        obj = self._by_id(proc, facility, ident, op)
        if proc.cred.uid not in (0, obj.uid):
            raise JailError(EPERM, "", op)
        self._destroy(obj)

    def msgrm(self, proc, ident):
        self.remove(MSG, proc, ident)

    def semrm(self, proc, ident):
        self.remove(SEM, proc, ident)

    def shmrm(self, proc, ident):
        self.remove(SHM, proc, ident)

    def _destroy(self, obj: IpcObject) -> None:
        """Queues and semaphore sets go at once; a segment is marked removed (its
        key becomes IPC_PRIVATE) and goes at its last detach."""
        if obj.facility == SHM:
            obj.removed = True
            obj.key = IPC_PRIVATE
            if obj.nattch:
                return
        del self.tables[obj.facility][obj.id]
        self.k.crfree(obj.cred)

    # ------------------------------------------------------------- listing
    def stat(self, facility: int, proc: Proc) -> list[tuple[int, int, Prison]]:
        """kern.ipc.msqids/sema/shmsegs as proc sees them: (id, key, creator
        prison) of each visible object, id order; keys of objects created in
        another prison read 0. A disabled facility shows an empty table."""
        rpr = proc.prison.sysv_root(facility)
        if rpr is None:
            return []
        return [(o.id, o.key if o.creator is proc.prison else IPC_PRIVATE, o.creator)
                for ident, o in sorted(self.tables[facility].items()) if self._cansee(rpr, o)]

    # ------------------------------------------------------------- shmat/shmdt
    def shmat(self, proc: Proc, ident: int) -> None:
        obj = self._by_id(proc, SHM, ident, "shmat")
        obj.nattch += 1
        self.attached.setdefault(proc.pid, []).append(obj)

    def shmdt(self, proc: Proc, ident: int) -> None:
        self._root(proc, SHM, "shmdt")
        segs = self.attached.get(proc.pid, [])
        obj = next((o for o in segs if o.id == ident), None)
        if obj is None:
            raise JailError(EINVAL, "", "shmdt")
        self._detach(proc.pid, obj)

    def _detach(self, pid: int, obj: IpcObject) -> None:
        segs = self.attached[pid]
        segs.remove(obj)
        if not segs:
            del self.attached[pid]
        obj.nattch -= 1
        if obj.removed and obj.nattch == 0:
            del self.tables[SHM][obj.id]
            self.k.crfree(obj.cred)

    # ------------------------------------------------------------- kernel hooks
    def proc_exit(self, proc: Proc) -> None:
        """shmexit(): an exiting process detaches every segment."""
        for obj in list(self.attached.get(proc.pid, ())):
            self._detach(proc.pid, obj)

    def cleanup(self, pr: Prison, facility: int) -> None:
        """*_prison_cleanup(): remove every object created in exactly pr."""
        for obj in [o for o in self.tables[facility].values() if o.creator is pr]:
            if not obj.removed:
                self._destroy(obj)

    def dying(self, pr: Prison) -> None:
        """PR_METHOD_REMOVE: a jail that is its own root loses its objects."""
        if not any(self.tables):
            return
        for facility in (MSG, SEM, SHM):
            if pr.sysv_root(facility) is pr:
                self.cleanup(pr, facility)

    def own_roots(self, pr: Prison, facilities) -> list[tuple[Prison, int]]:
        """Before a sysv mode change: (prison, facility) pairs that are their own root."""
        if not any(self.tables):
            return []
        return [(d, f) for f in facilities for d in (pr, *pr.descendants())
                if d.sysv_root(f) is d]

    def roots_changed(self, before: list[tuple[Prison, int]]) -> None:
        """After it: a prison no longer its own root loses its objects."""
        for d, f in before:
            if d.sysv_root(f) is not d:
                self.cleanup(d, f)

    def creds(self):
        return (obj.cred for obj in self.objects())

    def holds(self, cred: Cred) -> list[str]:
        return [obj.describe() for obj in self.held_by(cred)]

    def check_invariants(self) -> None:
        for obj in self.objects():
            assert obj.creator.state != FREED, f"{obj.describe()} of a freed jail"
            assert obj.nattch == sum(segs.count(obj) for segs in self.attached.values())


register_params(Ipc.params)
