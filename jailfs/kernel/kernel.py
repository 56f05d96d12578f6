"""The prison kernel: FreeBSD's jail subsystem as pure, synchronous Python.

`Kernel` is one object assembled from the pieces of this package:

- jail_set.py: jail_set(2) with kern_jail_set's checks in order (JailSet);
- syscalls.py: jail_get, jail_remove, jail_attach, kern.hostname (Syscalls);
- registry.py: allprison, name lookup, jid allocation (JidRegistry);
- world.py: credentials, processes, descriptors, holders, the clock (World);
- refs.py: prison_deref, the life of a prison, `.refs`, invariants (References);
- modules: SysV IPC (ipc.py), meta/env (meta.py), linux and zfs (compat.py),
  rctl (rctl.py), vnet (vnet.py), all through the KernelModule interface (modules.py).

Every change of state goes through the system calls or the simulation's calls
(spawn, fork, exit, open, close, ...). A refused call raises JailError and
changes nothing, except what FreeBSD also changes before refusing (jail_set.py).
"""

from __future__ import annotations

import itertools
import platform
from typing import Callable

from .addrindex import AddressIndex
from .compat import Linux, Zfs
from .errors import JailError
from .ipc import Ipc
from .jail_set import JAIL_ATTACH, JAIL_CREATE, JAIL_DYING, JAIL_SET_MASK, JAIL_UPDATE, JailSet
from .meta import Meta
from .modules import KernelModule, overriding
from .params import (ALLOW_ALL, DEFAULT_HOSTUUID, JAIL_MAX, PR_HOST, PR_IP4_SADDRSEL,
                     PR_IP6_SADDRSEL, PR_VNET, SYS_NEW)
from .prison import Caller, Cred, File, Holder, Prison, Proc
from .rctl import Rctl
from .refs import References, RefReport
from .registry import JidRegistry, SortedJids
from .syscalls import Syscalls
from .vnet import Vnet
from .world import Clock, World, real_path_resolver

__all__ = ["Kernel", "Event", "Clock", "RefReport", "SortedJids", "real_path_resolver",
           "JAIL_CREATE", "JAIL_UPDATE", "JAIL_ATTACH", "JAIL_DYING", "JAIL_SET_MASK", "JAIL_MAX",
           "Caller", "Cred", "File", "Holder", "Prison", "Proc", "JailError", "KernelModule"]


class Event:
    __slots__ = ("kind", "prison", "jid", "name", "detail")

    def __init__(self, kind: str, prison: Prison | None, jid: int, name: str, detail: dict):
        self.kind, self.prison, self.jid, self.name, self.detail = kind, prison, jid, name, detail

    def __repr__(self) -> str:
        return f"Event({self.kind}, jid={self.jid}, name={self.name!r}, {self.detail})"


class Kernel(JailSet, Syscalls, References, World, JidRegistry):
    def __init__(self, *, hostname: str | None = None, osrelease: str = "15.0-RELEASE",
                 osreldate: int = 1500068, resolve_path=real_path_resolver):
        self._serials = itertools.count()
        self.resolve_path = resolve_path
        p0 = Prison(next(self._serials), 0, "0", None)
        p0.ref = p0.uref = 1                       # never reach zero
        p0.flags = PR_HOST | PR_VNET | PR_IP4_SADDRSEL | PR_IP6_SADDRSEL
        p0.allow = ALLOW_ALL
        p0.securelevel, p0.enforce_statfs, p0.devfs_ruleset = -1, 0, 0
        p0.childmax = JAIL_MAX
        p0.path = "/"
        p0.hostname = platform.node() if hostname is None else hostname
        p0.domainname, p0.hostuuid, p0.hostid = "", DEFAULT_HOSTUUID, 0
        p0.osrelease, p0.osreldate = osrelease, osreldate
        p0.cpuset_id = 1
        p0.sysv = SYS_NEW | SYS_NEW << 2 | SYS_NEW << 4
        self.prison0 = p0
        self.jids: dict[int, Prison] = {}          # every existing jail, alive or dying
        self.dying: dict[int, Prison] = {}         # serial -> jail, for every dying jail
        self._sorted_jids = SortedJids()             # allprison order
        self.lastprid = 0
        self.lastdeadid = 0
        self.addr_index = AddressIndex()             # the jails the address clash check sees
        self._cpuset_next = 2
        self._cpuset_free: list[int] = []
        self._subscribers: list[Callable[[Event], None]] = []
        self._kinds: dict[Callable, frozenset[str]] = {}   # a subscriber's kinds, if it chose
        self._dispatch: dict[str, tuple] = {}      # kind -> its subscribers, worked out once
        self.clock = Clock()
        # the simulated world
        self.procs: dict[int, Proc] = {}
        self._pids = itertools.count(100)
        self.creds: set[Cred] = set()
        self._files: dict[int, File] = {}          # every open file description
        # who holds what, kept as it changes (world.py), so that .refs, jail_remove
        # and finding a real pid cost what they find, not a walk over everything
        self.running: dict[int, set[Proc]] = {}    # prison serial -> its running processes
        self.real_procs: dict[int, Proc] = {}      # real pid -> its running process
        self._creds_of: dict[int, set[Cred]] = {}  # prison serial -> its credentials
        self._cred_procs: dict[int, set[Proc]] = {}   # cred serial -> processes holding it
        self._cred_files: dict[int, set[File]] = {}   # cred serial -> open files holding it
        self.holders: dict[int, Holder] = {}
        self._holder_ids = itertools.count(1)
        self.signal_real = _no_signal              # set by whoever runs real processes
        # The kernel modules, in registration order (the order of their checks).
        self.ipc = Ipc(self)                       # SysV IPC objects (ipc.py)
        self.meta = Meta(self)                     # meta/env buffers (meta.py)
        self.linux = Linux(self)                   # linux.* (compat.py)
        self.zfs = Zfs(self)                       # zfs.* (compat.py)
        self.rctl = Rctl(self)                     # rctl/racct (rctl.py)
        self.vnet = Vnet(self)                     # network stacks, interfaces (vnet.py)
        self.modules: list[KernelModule] = [self.ipc, self.meta, self.linux, self.zfs,
                                            self.rctl, self.vnet]
        self._find_hooks()

    def add_module(self, module: KernelModule) -> None:
        """Plug one more module in, after the others (the hooks are found again)."""
        self.modules.append(module)
        self._find_hooks()

    _HOOKS = ("_check_steps", "_create_hooks", "_set_hooks", "_dying_hooks", "_freed_hooks",
              "_attach_hooks")

    def _find_hooks(self) -> None:
        """The modules' own methods, in module order, called without going
        through the defaults that do nothing; jail_set's check step is each
        module's parameter names (their table checks) and its check or None."""
        mods = self.modules
        checks = overriding(mods, "check")
        self._check_steps = tuple(
            (m.param_names, next((c for c in checks if c.__self__ is m), None)) for m in mods)
        self._create_hooks = overriding(mods, "create")
        self._set_hooks = overriding(mods, "set")
        self._dying_hooks = overriding(mods, "dying")
        self._freed_hooks = overriding(mods, "freed")
        self._attach_hooks = overriding(mods, "attach")

    # ================================================================ events
    def subscribe(self, fn: Callable[[Event], None], kinds=None) -> None:
        """``fn`` is told every event, or only those of ``kinds`` (an event no
        subscriber wants is not even made)."""
        self._subscribers.append(fn)
        if kinds is not None:
            self._kinds[fn] = frozenset(kinds)
        self._dispatch = {}

    def emit(self, kind: str, pr: Prison | None, **detail) -> None:
        """Tell the subscribers of ``kind``, in the order they subscribed
        (modules may emit their own kinds, e.g. `rctl`)."""
        fns = self._dispatch.get(kind)
        if fns is None:
            kinds = self._kinds
            fns = self._dispatch[kind] = tuple(
                fn for fn in self._subscribers if fn not in kinds or kind in kinds[fn])
        if fns:
            event = Event(kind, pr, pr.jid if pr else 0, pr.name if pr else "", detail)
            for fn in fns:
                fn(event)

    def _refuse(self, err: JailError) -> JailError:
        self.emit("refused", None, op=err.op, errno=err.errno, msg=str(err))
        return err

    # ================================================================ settings
    @property
    def meta_maxbufsize(self) -> int:
        """security.jail.meta_maxbufsize (k.set_meta_maxbufsize changes it)."""
        return self.meta.maxbufsize

    def set_meta_maxbufsize(self, caller: Caller, size: int) -> None:
        self.meta.set_maxbufsize(caller, size)

    # ================================================================ pickling
    def __getstate__(self) -> dict:
        """Everything but what belongs to the process running the kernel: event
        subscribers, the real-process signaller, the path resolver and rctl's
        usage provider."""
        state = dict(self.__dict__)
        state["_subscribers"], state["_kinds"], state["_dispatch"] = [], {}, {}
        for name in self._HOOKS:                     # bound methods: found again on loading
            del state[name]
        state["signal_real"] = _no_signal
        # the resolver belongs to the process too (the daemon sets its own:
        # jailfs/host/paths.py), and a closure cannot be pickled
        state["resolve_path"] = real_path_resolver
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_kinds", {})             # a state file from before kinds
        state.setdefault("_dispatch", {})
        self.__dict__.update(state)
        self._find_hooks()
        if "addr_index" not in state:                # a state file from before the index
            self.addr_index = AddressIndex.of(self.jids.values())


def _no_signal(real_pid: int) -> None:
    """signal_real until someone who runs real processes sets it."""
