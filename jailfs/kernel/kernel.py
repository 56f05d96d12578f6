"""The prison kernel: FreeBSD's jail subsystem as pure, synchronous Python.

Every change of state goes through the system calls below (jail_set,
jail_get, jail_remove, jail_attach) or the simulation's calls (spawn, fork,
exit, open, close, ...). A refused call raises JailError and changes nothing:
all checks run before the first write.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
import itertools
import os
import platform
from errno import (EADDRINUSE, EAGAIN, EBADF, EEXIST, EFBIG, EINVAL, ENAMETOOLONG,
                   ENOENT, ENOTDIR, EPERM, ESRCH)
from typing import Callable, Iterable

from .errors import JailError
from .params import (ALLOW_ALL, ALLOW_BITS, DEFAULT_HOSTUUID, HOSTUUIDLEN, IGNORED_PARAMS,
                     JAIL_DEFAULT_ALLOW, JAIL_MAX, JAIL_MAX_AF_IPS, MAXHOSTNAMELEN,
                     MAXPATHLEN, META_MAXBUFSIZE, MSL, OSRELEASELEN, PARAM_NAMES, PARAMS,
                     PR_ALLOW_DIFFERENCES, PR_HOST, PR_IP4, PR_IP4_SADDRSEL, PR_IP4_USER,
                     PR_IP6, PR_IP6_SADDRSEL, PR_IP6_USER, PR_PERSIST, PR_VNET, SYS_DISABLE,
                     SYS_INHERIT, SYS_NEW, resolve_name)
from .ipc import Ipc
from .rctl import Rctl
from .vnet import Vnet
from .prison import ALIVE, DYING, FREED, Caller, Cred, File, Holder, Prison, Proc

JAIL_CREATE, JAIL_UPDATE, JAIL_ATTACH, JAIL_DYING = 0x1, 0x2, 0x4, 0x8
JAIL_SET_MASK = 0xF

_SUSER = ALLOW_BITS["suser"]
_SYSVIPC = ALLOW_BITS["sysvipc"]
_SYSV_FACILITIES = ("sysvmsg", "sysvsem", "sysvshm")
# Addresses jail_set refuses (INADDR_ANY, INADDR_BROADCAST, the unspecified IPv6 address).
_BAD_ADDRS = (("ip4", frozenset({ipaddress.IPv4Address("0.0.0.0"),
                                 ipaddress.IPv4Address("255.255.255.255")})),
              ("ip6", frozenset({ipaddress.IPv6Address("::")})))


class Event:
    __slots__ = ("kind", "prison", "jid", "name", "detail")

    def __init__(self, kind: str, prison: Prison | None, jid: int, name: str, detail: dict):
        self.kind, self.prison, self.jid, self.name, self.detail = kind, prison, jid, name, detail

    def __repr__(self) -> str:
        return f"Event({self.kind}, jid={self.jid}, name={self.name!r}, {self.detail})"


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
        while self._timers and self._timers[0][0] <= target:
            when, _, fn = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            fn()
        self.now = target


class RefReport:
    def __init__(self, lines: list[str], ref: int, uref: int):
        self.lines, self.ref, self.uref = lines, ref, uref

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines) + f"total pr_ref={self.ref} pr_uref={self.uref}\n"


class SortedJids:
    """allprison's order: every existing jid, ascending, kept in blocks of about a
    thousand so that inserting and deleting stay cheap (one flat sorted list moves
    up to 8 MB of pointers per delete at a million jails)."""

    LOAD = 1000

    def __init__(self) -> None:
        self._blocks: list[list[int]] = []
        self._maxes: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __iter__(self):
        for block in self._blocks:
            yield from block

    def last(self) -> int | None:
        return self._maxes[-1] if self._maxes else None

    def add(self, jid: int) -> None:
        self._len += 1
        if not self._blocks:
            self._blocks.append([jid])
            self._maxes.append(jid)
            return
        i = bisect.bisect_left(self._maxes, jid)
        if i == len(self._maxes):
            i -= 1
            self._blocks[i].append(jid)
            self._maxes[i] = jid
        else:
            bisect.insort(self._blocks[i], jid)
        block = self._blocks[i]
        if len(block) > 2 * self.LOAD:
            self._blocks[i:i + 1] = [block[:self.LOAD], block[self.LOAD:]]
            self._maxes[i:i + 1] = [block[self.LOAD - 1], block[-1]]

    def remove(self, jid: int) -> None:
        i = bisect.bisect_left(self._maxes, jid)
        block = self._blocks[i]
        del block[bisect.bisect_left(block, jid)]
        self._len -= 1
        if block:
            self._maxes[i] = block[-1]
        else:
            del self._blocks[i]
            del self._maxes[i]

    def after(self, jid: int):
        """The jids greater than jid, ascending."""
        i = bisect.bisect_right(self._maxes, jid)
        if i < len(self._blocks):
            block = self._blocks[i]
            yield from itertools.islice(block, bisect.bisect_right(block, jid), None)
            for j in range(i + 1, len(self._blocks)):
                yield from self._blocks[j]


class Kernel:
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
        self._sorted_jids = SortedJids()             # allprison order
        self.lastprid = 0
        self.lastdeadid = 0
        self._cpuset_next = 2
        self._cpuset_free: list[int] = []
        self._subscribers: list[Callable[[Event], None]] = []
        self.clock = Clock()
        # the simulated world
        self.procs: dict[int, Proc] = {}
        self._pids = itertools.count(100)
        self.creds: set[Cred] = set()
        self._files: dict[int, File] = {}          # every open file description
        self.holders: dict[int, Holder] = {}
        self._holder_ids = itertools.count(1)
        self.signal_real = lambda real_pid: None   # set by whoever runs real processes
        # Checks a new process must pass in its jail (racct's maxproc): each may raise JailError.
        self.proc_checks: list[Callable[[Prison, str], None]] = []
        self.ipc = Ipc(self)                       # SysV IPC objects (ipc.py)
        self.rctl = Rctl(self)                     # rctl/racct (rctl.py)
        self.vnet = Vnet(self)                     # network stacks, interfaces (vnet.py)

    # ================================================================ events
    def subscribe(self, fn: Callable[[Event], None]) -> None:
        self._subscribers.append(fn)

    def _emit(self, kind: str, pr: Prison | None, **detail) -> None:
        if self._subscribers:
            event = Event(kind, pr, pr.jid if pr else 0, pr.name if pr else "", detail)
            for fn in self._subscribers:
                fn(event)

    def _refuse(self, err: JailError) -> JailError:
        self._emit("refused", None, op=err.op, errno=err.errno, msg=str(err))
        return err

    # ================================================================ reading
    def by_jid(self, jid: int) -> Prison | None:
        return self.jids.get(jid)

    @staticmethod
    def visible(viewer: Prison, pr: Prison) -> bool:
        return pr.is_descendant_of(viewer)

    @staticmethod
    def relname(viewer: Prison, pr: Prison) -> str:
        return pr.relname(viewer)

    def param_names(self) -> tuple[str, ...]:
        return PARAM_NAMES

    def lookup(self, caller: Caller, relname: str, dying: bool = False) -> Prison:
        """prison_find_name: an ALIVE match first, else (with dying) a dying one."""
        pr = self._find_name(caller.prison, relname)
        if pr is None or (pr.state != ALIVE and not dying):
            what = "not found" if pr is None else "is dying"
            raise JailError(ENOENT, f'jail "{relname}" {what}', "jail_get")
        return pr

    def _find_name(self, top: Prison, relname: str) -> Prison | None:
        parts = relname.split(".")
        pr = top
        for part in parts:                         # fast path: ALIVE all the way down
            pr = pr.alive_names.get(part) if pr.alive_names else None
            if pr is None:
                break
        else:
            return pr
        # Slow path: FreeBSD walks every descendant and keeps the last dying match.
        frontier = [top]
        for part in parts:
            frontier = [c for p in frontier for c in p.newest_first() if c.short == part]
        return frontier[-1] if frontier else None

    def jails_below(self, viewer: Prison, dying: bool = False) -> list[Prison]:
        """Every descendant of viewer in jid order (allprison order); dying ones with dying."""
        out = []
        for jid in self._sorted_jids:
            pr = self.jids[jid]
            if (dying or pr.state == ALIVE) and pr.is_descendant_of(viewer):
                out.append(pr)
        return out

    def dying_below(self, viewer: Prison) -> list[Prison]:
        return [pr for pr in self.jails_below(viewer, dying=True) if pr.state != ALIVE]

    def get_values(self, viewer: Prison, pr: Prison, names: Iterable[str] | None = None) -> dict[str, str]:
        """Canonical text of each parameter as `viewer` sees it (no lookup rules)."""
        out = {}
        for name in PARAM_NAMES if names is None else names:
            row = PARAMS.get(name)
            if row is not None:
                out[name] = row.render(row.read(pr, viewer))
            elif name.startswith(("meta.", "env.")):
                which, _, key = name.partition(".")
                out[name] = _kv_get(_extra(pr, which), key)
            else:
                raise JailError(EINVAL, f"unknown parameter: {name}", "jail_get")
        return out

    # ============================================================== jail_get
    def jail_get(self, caller: Caller, key: tuple[str, object], names: Iterable[str] | None = None,
                 flags: int = 0) -> dict[str, str]:
        try:
            return self._jail_get(caller, key, names, flags)
        except JailError as err:
            err.op = "jail_get"
            raise self._refuse(err)

    def _jail_get(self, caller, key, names, flags):
        if flags & ~JAIL_DYING:
            raise JailError(EINVAL)
        mypr = caller.prison
        dying_ok = bool(flags & JAIL_DYING)
        kind, value = key
        pr = None
        if kind == "lastjid":
            for jid in self._sorted_jids.after(int(value)):
                cand = self.jids[jid]
                if (dying_ok or cand.state == ALIVE) and cand.is_descendant_of(mypr):
                    pr = cand
                    break
            if pr is None:
                raise JailError(ENOENT, f"no jail after {int(value)}")
        elif kind == "jid" and int(value) != 0:
            jid = int(value)
            pr = self.jids.get(jid)
            if pr is None or not pr.is_descendant_of(mypr):
                raise JailError(ENOENT, f"jail {jid} not found")
            if pr.state != ALIVE and not dying_ok:
                raise JailError(ENOENT, f"jail {jid} is dying")
        elif kind == "name":
            if not value:
                raise JailError(EINVAL)
            pr = self.lookup(caller, str(value), dying_ok)
        else:
            raise JailError(ENOENT, "no jail specified")
        values = self.get_values(mypr, pr, names)
        values.setdefault("jid", str(pr.jid))
        return values

    # ============================================================== jail_set
    def jail_set(self, caller: Caller, params: Iterable[tuple[str, str | None]], flags: int,
                 proc: Proc | None = None) -> int:
        try:
            return self._jail_set(caller, list(params), flags, proc)
        except JailError as err:
            err.op = "jail_set"
            raise self._refuse(err)

    def _jail_set(self, caller: Caller, params, flags: int, proc: Proc | None) -> int:
        mypr = caller.prison
        # --- libjail: every value is imported before the kernel sees any.
        opts: dict[str, object] = {}
        kv_ops: list[tuple[str, str, str | None]] = []
        desc_given = False
        for name, text in params:
            if name in IGNORED_PARAMS:
                continue
            if name == "desc":
                desc_given = True
                continue
            if name.startswith(("meta.", "env.")):
                which, _, kvkey = name.partition(".")
                kv_ops.append((which, kvkey, text))
                continue
            row, negated = resolve_name(name)
            if row is None:
                raise JailError(EINVAL, f"unknown parameter: {name}")
            opts.pop(row.name, None)               # the last occurrence wins
            opts[row.name] = row.parse(text, negated)
            if row.name in ("meta", "env"):
                kv_ops.append((row.name, None, text or ""))
        create, update, attach = flags & JAIL_CREATE, flags & JAIL_UPDATE, flags & JAIL_ATTACH
        cuflags = flags & (JAIL_CREATE | JAIL_UPDATE)

        # --- the kernel's checks, in kern_jail.c's order (spec 2.2)
        if create and mypr.childmax == 0:                                  # 1
            raise JailError(EPERM)
        if flags & ~JAIL_SET_MASK:                                         # 2
            raise JailError(EINVAL)
        if not cuflags:                                                    # 4
            raise JailError(EINVAL, "no valid operation (create or update)")
        if desc_given:                                                     # 5
            raise JailError(EINVAL, "unexpected desc")
        self._check_priv(caller)                                           # 6
        if attach and proc is None:
            raise JailError(EINVAL, "attach needs a process")
        if "enforce_statfs" in opts and not 0 <= opts["enforce_statfs"] <= 2:  # 7
            raise JailError(EINVAL)
        for sysname in ("host", "vnet", "ip4", "ip6"):                     # 8
            if sysname in opts and opts[sysname] not in (SYS_DISABLE, SYS_NEW, SYS_INHERIT):
                raise JailError(EINVAL)
        if opts.get("host") == SYS_DISABLE or opts.get("vnet") == SYS_DISABLE:
            raise JailError(EINVAL)
        if (flags & (JAIL_CREATE | JAIL_UPDATE | JAIL_ATTACH)) == JAIL_CREATE \
                and not opts.get("persist"):                               # 9
            raise JailError(EINVAL, "new jail must persist or attach")
        if update:                                                         # 10
            for sysname in ("vnet", "ip4", "ip6"):
                if sysname in opts:
                    raise JailError(EINVAL, f"{sysname} cannot be changed after creation")
        name = opts.get("name")                                            # 12
        if name is not None:
            if name == "":
                raise JailError(EINVAL)
            if len(name.encode()) + 1 > MAXHOSTNAMELEN:
                raise JailError(ENAMETOOLONG)
        for field, limit in (("host.hostname", MAXHOSTNAMELEN),           # 13
                             ("host.domainname", MAXHOSTNAMELEN),
                             ("host.hostuuid", HOSTUUIDLEN)):
            if field in opts and len(opts[field].encode()) + 1 > limit:
                raise JailError(ENAMETOOLONG)
        for fam, bad in _BAD_ADDRS:                                        # 14
            addrs = opts.get(fam + ".addr")
            if addrs is None:
                continue
            if len(addrs) > JAIL_MAX_AF_IPS:
                raise JailError(EINVAL, f"too many IPv{fam[2]} addresses")
            if any(a in bad for a in addrs) or len(set(addrs)) != len(addrs):
                raise JailError(EINVAL)
            opts[fam + ".addr"] = addrs[:1] + tuple(sorted(addrs[1:]))
        ip4_mentioned = "ip4" in opts or "ip4.addr" in opts
        ip6_mentioned = "ip6" in opts or "ip6.addr" in opts
        if "vnet" in opts and (ip4_mentioned or ip6_mentioned):            # 15
            raise JailError(EINVAL, "vnet jails cannot have IP address restrictions")
        if "osrelease" in opts:                                            # 16
            if update:
                raise JailError(EINVAL, "osrelease cannot be changed after creation")
            size = len(opts["osrelease"].encode())
            if size == 0:
                raise JailError(EINVAL, f"osrelease string must be 1-{OSRELEASELEN - 1} bytes long")
            if size + 1 > OSRELEASELEN:
                raise JailError(ENAMETOOLONG, f"osrelease string must be 1-{OSRELEASELEN - 1} bytes long")
        if "osreldate" in opts:
            if update:
                raise JailError(EINVAL, "osreldate cannot be changed after creation")
            if opts["osreldate"] == 0:
                raise JailError(EINVAL, "osreldate cannot be 0")
        path = None
        if "path" in opts:                                                 # 17
            if update:
                raise JailError(EINVAL, "path cannot be changed after creation")
            if opts["path"] == "":
                raise JailError(EINVAL)
            path = self.resolve_path(mypr.path, opts["path"])
            if len(path.encode()) + 1 > MAXPATHLEN:
                raise JailError(ENAMETOOLONG)
        jid = opts.get("jid", 0)
        if cuflags == JAIL_CREATE and jid == 0 and name is not None:       # 18
            last = name.rpartition(".")[2]
            if last.isdigit() and last.isascii():
                jid = int(last)
        if mypr.state != ALIVE:                                            # 19
            raise JailError(EAGAIN)

        pr: Prison | None = None                                           # 20
        deadpr: Prison | None = None
        ppr = mypr
        if jid != 0:
            if jid < 0:
                raise JailError(EINVAL, "negative jid")
            held = self.jids.get(jid)
            if held is not None and held.state == ALIVE:
                if cuflags == JAIL_CREATE:
                    raise JailError(EEXIST, f"jail {jid} already exists")
                if not held.is_descendant_of(mypr):
                    raise JailError(ENOENT, f"jail {jid} not found")
                pr, ppr = held, held.parent
            else:
                deadpr = held
                if cuflags == JAIL_UPDATE:
                    raise JailError(ENOENT, f"jail {jid} not found")
        short = None                                                       # 21
        if name is not None:
            prefix, dot, short = name.rpartition(".")
            if dot:
                if pr is not None:
                    if prefix != ppr.name or ppr is self.prison0:
                        raise JailError(EINVAL, "cannot change jail's parent")
                else:
                    ppr = self._find_name(mypr, prefix)
                    if ppr is None:
                        raise JailError(ENOENT, f'jail "{prefix}" not found')
                    if ppr.state != ALIVE:
                        raise JailError(ENOENT, f'jail "{prefix}" is dying')
            if short:
                sibling = ppr.alive_names.get(short) if ppr.alive_names else None
                if sibling is not None and sibling is not pr:
                    if cuflags == JAIL_CREATE or pr is not None:
                        raise JailError(EEXIST, f'jail "{name}" already exists')
                    pr = sibling
                if pr is None and cuflags == JAIL_UPDATE:
                    raise JailError(ENOENT, f'jail "{name}" not found')
        elif cuflags == JAIL_UPDATE and pr is None:                        # 22
            raise JailError(ENOENT, "update specified no jail")

        created = pr is None
        if created:                                                        # 23
            tpr = mypr
            while tpr is not None:
                if tpr.childcount >= tpr.childmax:
                    raise JailError(EPERM, "prison limit exceeded")
                tpr = tpr.parent
            new_deadid = self._next_deadid() if deadpr is not None else None   # 24
            if jid == 0:                                                   # 25
                jid = self._next_prid()
            target_flags = self._new_jail_flags(opts, ppr)
        else:
            if pr.flags & PR_VNET and pr is not self.prison0 and (ip4_mentioned or ip6_mentioned):  # 27
                raise JailError(EINVAL, "vnet jails cannot have IP address restrictions")
            for fam, user in (("ip4", PR_IP4_USER), ("ip6", PR_IP6_USER)):
                if fam + ".addr" in opts and not pr.flags & user:
                    raise JailError(EINVAL, f"{fam} cannot be changed after creation")
            target_flags = pr.flags

        if "securelevel" in opts and opts["securelevel"] < ppr.securelevel:   # 28
            raise JailError(EPERM)
        if "children.max" in opts and opts["children.max"] >= ppr.childmax:
            raise JailError(EPERM)
        if "enforce_statfs" in opts and opts["enforce_statfs"] < ppr.enforce_statfs:
            raise JailError(EPERM)
        if "devfs_ruleset" in opts:
            rsnum = opts["devfs_ruleset"]
            if not 0 <= rsnum <= 65535:
                raise JailError(EINVAL)
            if mypr is not self.prison0:
                if rsnum > 0 and rsnum != ppr.devfs_ruleset:
                    raise JailError(EPERM)
                opts["devfs_ruleset"] = ppr.devfs_ruleset
        for fam, restricted, label in (("ip4", PR_IP4, "IPv4"), ("ip6", PR_IP6, "IPv6")):   # 29
            addrs = opts.get(fam + ".addr")
            if addrs:
                if ppr.flags & restricted:
                    self._check_ip_subset(addrs, ppr, fam)
                self._check_ip_clash(addrs, ppr, pr, fam, label)
        if short is not None:                                              # 30
            if short == "":
                short = str(jid if created else pr.jid)
            elif short.isdigit() and short.isascii() and \
                    (int(short) != (jid if created else pr.jid) or short[0] == "0"):
                raise JailError(EINVAL, "name cannot be numeric (unless it is the jid)")
            pnamelen = 0 if ppr is self.prison0 else len(ppr.name.encode()) + 1
            if pnamelen + len(short.encode()) + 1 > MAXHOSTNAMELEN:
                raise JailError(ENAMETOOLONG)
            if not created:
                grow = len(short.encode()) - len(pr.short.encode())
                if any(len(d.name.encode()) + grow >= MAXHOSTNAMELEN for d in pr.descendants()):
                    raise JailError(ENAMETOOLONG)
        allow_set, allow_clear = 0, 0
        for pname, value in opts.items():                                  # 11
            if pname.startswith("allow."):
                bit = ALLOW_BITS[pname[6:]]
                if value:
                    allow_set |= bit
                else:
                    allow_clear |= bit
        if allow_set & ~ppr.allow & ~PR_ALLOW_DIFFERENCES:                 # 31
            raise JailError(EPERM)
        sysv_modes = self._sysv_request(opts, created)                     # 32
        for facility, mode in sysv_modes.items():
            if mode != SYS_DISABLE and ppr.sysv_root(facility) is None:
                raise JailError(EPERM)
        if opts.get("linux") == SYS_DISABLE:
            raise JailError(EINVAL)
        if opts.get("zfs.mount_snapshot", 0) not in (0, 1):
            raise JailError(EINVAL)
        kv_new = self._kv_apply_preview(pr, kv_ops)
        for pname in opts:                                                 # 33
            if PARAMS[pname].readonly and pname != "jid":
                raise JailError(EINVAL, f"unknown parameter: {pname}")

        # --- every check passed: apply (step 34 onwards). Nothing below raises.
        if created:
            if deadpr is not None:
                self._renumber(deadpr, new_deadid)
            pr = self._link_new(jid, short if short is not None else str(jid), ppr,
                                target_flags, path or "/", opts)
        drop_persist = self._apply(pr, opts, created, allow_set, allow_clear, sysv_modes,
                                   kv_new, short)
        if created:
            self._emit("created", pr)
        else:
            self._emit("updated", pr, params=[n for n, _ in params])
        if drop_persist:                   # after "updated": it may kill and free the jail
            self._deref(pr, 1, 1)
        if attach:
            self._attach(proc, pr)
        self._settle(pr)
        return pr.jid

    # --------------------------------------------------------------- helpers of jail_set
    def _check_priv(self, caller: Caller) -> None:
        if caller.uid != 0 or (caller.prison is not self.prison0 and not caller.prison.allow & _SUSER):
            raise JailError(EPERM)

    def _new_jail_flags(self, opts: dict, ppr: Prison) -> int:
        flags = PR_HOST | PR_IP4_SADDRSEL | PR_IP6_SADDRSEL
        if opts.get("vnet") == SYS_NEW:
            return flags | PR_VNET
        for fam, user, restricted in (("ip4", PR_IP4_USER, PR_IP4), ("ip6", PR_IP6_USER, PR_IP6)):
            if fam not in opts and fam + ".addr" not in opts:
                flags |= user | restricted        # a new jail has no address of this family
            elif opts.get(fam) == SYS_INHERIT and fam + ".addr" not in opts:
                flags |= ppr.flags & restricted
        return flags

    def _next_prid(self) -> int:
        cand = self.lastprid % JAIL_MAX + 1
        last = self._sorted_jids.last()
        if last is None or last < cand:
            jid = cand
        else:
            jid = next((j for j in itertools.chain(range(cand, JAIL_MAX + 1),
                                                   range(1, self.lastprid + 1))
                        if j not in self.jids), 0)
            if jid == 0:
                raise JailError(EAGAIN, "no available jail IDs")
        self.lastprid = jid
        return jid

    def _next_deadid(self) -> int:
        start = self.lastdeadid - 1 if self.lastdeadid else JAIL_MAX
        order = itertools.chain(range(start, 0, -1),
                                range(JAIL_MAX, self.lastdeadid - 1, -1) if self.lastdeadid else ())
        jid = next((j for j in order if j not in self.jids), 0)
        if jid == 0:
            raise JailError(EAGAIN, "no available jail IDs")
        return jid

    def _renumber(self, dead: Prison, new_jid: int) -> None:
        old = dead.jid
        self._unindex(dead)
        dead.jid = new_jid
        self._index(dead)
        self.lastdeadid = new_jid
        self._emit("renumbered", dead, old_jid=old)

    def _index(self, pr: Prison) -> None:
        self.jids[pr.jid] = pr
        self._sorted_jids.add(pr.jid)

    def _unindex(self, pr: Prison) -> None:
        del self.jids[pr.jid]
        self._sorted_jids.remove(pr.jid)

    def _check_ip_subset(self, addrs: tuple, ppr: Prison, fam: str) -> None:
        parent = getattr(ppr, fam) or ()
        if not parent or addrs[0] not in parent:
            raise JailError(EPERM)
        allowed = set(parent)
        if any(a not in allowed for a in addrs[1:]):
            raise JailError(EPERM)

    def _check_ip_clash(self, addrs: tuple, ppr: Prison, pr: Prison | None, fam: str, label: str) -> None:
        user = PR_IP4_USER if fam == "ip4" else PR_IP6_USER
        top = ppr
        while top is not self.prison0 and not top.flags & PR_VNET:
            top = top.parent
        stack = list(top.newest_first())
        while stack:
            tpr = stack.pop()
            if tpr is pr or tpr.flags & PR_VNET or tpr.uref == 0:
                continue
            if not tpr.flags & user:
                stack.extend(tpr.newest_first())
                continue
            theirs = getattr(tpr, fam)
            if not theirs or (len(addrs) == 1 and len(theirs) == 1):
                continue
            if any(a in theirs for a in addrs):
                raise JailError(EADDRINUSE, f"{label} addresses clash")

    def _sysv_request(self, opts: dict, created: bool) -> dict[int, int]:
        modes = {}
        implied = None
        if "allow.sysvipc" in opts:
            implied = SYS_INHERIT if opts["allow.sysvipc"] else SYS_DISABLE
        for facility, pname in enumerate(_SYSV_FACILITIES):
            if pname in opts:
                modes[facility] = opts[pname]
            elif implied is not None:
                modes[facility] = implied
            elif created:
                modes[facility] = SYS_DISABLE
        for mode in modes.values():
            if mode not in (SYS_DISABLE, SYS_NEW, SYS_INHERIT):
                raise JailError(EINVAL)
        return modes

    def _kv_apply_preview(self, pr: Prison | None, kv_ops: list) -> dict[str, str]:
        """meta/env after this call's edits, checked against the buffer size."""
        result = {}
        for which, key, text in kv_ops:
            buf = result.get(which, _extra(pr, which) if pr is not None else "")
            if key is None:
                buf = text
            else:
                if key == "":
                    raise JailError(EINVAL)
                lines = [ln for ln in buf.split("\n") if ln and ln.partition("=")[0] != key]
                if text is not None:
                    lines.insert(0, f"{key}={text}")
                buf = "\n".join(lines)
            if len(buf.encode()) + 1 > META_MAXBUFSIZE:
                raise JailError(EFBIG)
            result[which] = buf
        return result

    def _link_new(self, jid: int, short: str, ppr: Prison, flags: int, path: str, opts: dict) -> Prison:
        pr = Prison(next(self._serials), jid, short, ppr)
        self._index(pr)
        if ppr.children is None:
            ppr.children = {}
        ppr.children[pr.serial] = pr
        if ppr.alive_names is None:
            ppr.alive_names = {}
        ppr.alive_names[short] = pr
        tpr = ppr
        while tpr is not None:
            tpr.childcount += 1
            tpr = tpr.parent
        ppr.ref += 1
        ppr.uref += 1
        pr.flags = flags
        pr.path = path
        pr.hostname, pr.domainname, pr.hostuuid, pr.hostid = "", "", DEFAULT_HOSTUUID, 0
        if not flags & PR_IP4_USER and flags & PR_IP4:
            pr.ip4 = ppr.ip4
        if not flags & PR_IP6_USER and flags & PR_IP6:
            pr.ip6 = ppr.ip6
        pr.securelevel = ppr.securelevel
        pr.allow = JAIL_DEFAULT_ALLOW & ppr.allow
        pr.enforce_statfs = 2
        pr.devfs_ruleset = ppr.devfs_ruleset
        pr.childmax = 0
        pr.osreldate = opts.get("osreldate") or ppr.osreldate
        pr.osrelease = opts.get("osrelease") or ppr.osrelease
        pr.sysv = 0
        if self._cpuset_free:
            pr.cpuset_id = heapq.heappop(self._cpuset_free)
        else:
            pr.cpuset_id, self._cpuset_next = self._cpuset_next, self._cpuset_next + 1
        return pr

    def _apply(self, pr: Prison, opts: dict, created: bool, allow_set: int, allow_clear: int,
               sysv_modes: dict, kv_new: dict, short: str | None) -> bool:
        """Set everything; True when persist was cleared (the caller drops its references)."""
        for fam, user, restricted in (("ip4", PR_IP4_USER, PR_IP4), ("ip6", PR_IP6_USER, PR_IP6)):
            if opts.get(fam) in (SYS_NEW, SYS_DISABLE) or fam + ".addr" in opts:
                pr.flags |= user | restricted
                setattr(pr, fam, opts.get(fam + ".addr") or None)
                self._restrict_children(pr, fam, user, restricted)
        if "securelevel" in opts:
            level = pr.securelevel = opts["securelevel"]
            for d in pr.descendants():
                d.securelevel = max(d.securelevel, level)
        if "children.max" in opts:
            cmax = pr.childmax = opts["children.max"]
            for d in pr.descendants():
                level = d.depth_below(pr)
                if d.childmax > cmax - level:
                    d.childmax = max(cmax - level, 0)
        if "enforce_statfs" in opts:
            enforce = pr.enforce_statfs = opts["enforce_statfs"]
            for d in pr.descendants():
                d.enforce_statfs = max(d.enforce_statfs, enforce)
        if "devfs_ruleset" in opts:
            pr.devfs_ruleset = opts["devfs_ruleset"]
            for d in pr.descendants():
                d.devfs_ruleset = pr.devfs_ruleset
        if short is not None and not created and short != pr.short:
            names = pr.parent.alive_names
            del names[pr.short]
            pr.short = short
            names[short] = pr
        host_given = [f for f in ("hostname", "domainname", "hostuuid", "hostid") if "host." + f in opts]
        if opts.get("host") == SYS_INHERIT and not host_given:
            pr.flags &= ~PR_HOST
            for field in ("hostname", "domainname", "hostuuid", "hostid"):
                setattr(pr, field, getattr(pr.parent, field))
        elif host_given:
            pr.flags |= PR_HOST
            for field in host_given:
                setattr(pr, field, opts["host." + field])
            self._propagate_host(pr, host_given)
        elif opts.get("host") == SYS_NEW:
            pr.flags |= PR_HOST
        for bitname, flag in (("ip4.saddrsel", PR_IP4_SADDRSEL), ("ip6.saddrsel", PR_IP6_SADDRSEL)):
            if bitname in opts:
                pr.flags = pr.flags | flag if opts[bitname] else pr.flags & ~flag
        cleared = allow_clear & ~allow_set
        if cleared:
            for d in pr.descendants():
                d.allow &= ~cleared
        pr.allow = (pr.allow & ~(allow_set | allow_clear)) | allow_set
        own_roots = self.ipc.own_roots(pr, sysv_modes) if sysv_modes and not created else ()
        for facility, mode in sysv_modes.items():
            pr.set_sysv_mode(facility, mode)
            if mode == SYS_DISABLE:
                for d in pr.descendants():
                    d.set_sysv_mode(facility, SYS_DISABLE)
        if own_roots:                                # no longer its own root: objects go
            self.ipc.roots_changed(own_roots)
        for which, buf in kv_new.items():
            _set_extra(pr, which, buf)
        if "linux" in opts:
            _set_extra(pr, "linux", opts["linux"])
        for lname in ("linux.osname", "linux.osrelease", "linux.oss_version"):
            if lname in opts:
                _set_extra(pr, "linux", SYS_NEW)
                _set_extra(pr, lname, opts[lname])
        for zname in ("zfs", "zfs.mount_snapshot"):
            if zname in opts:
                _set_extra(pr, zname, opts[zname])
        if "persist" in opts:
            want = bool(opts["persist"])
            has = bool(pr.flags & PR_PERSIST)
            if want and not has:
                pr.flags |= PR_PERSIST
                pr.ref += 1
                pr.uref += 1
            elif has and not want:
                pr.flags &= ~PR_PERSIST
                return True
        return False

    def _restrict_children(self, pr: Prison, fam: str, user: int, restricted: int) -> None:
        """prison_restrict_ip*: descendants follow a changed address list."""
        stack = list(pr.newest_first())
        while stack:
            tpr = stack.pop()
            if tpr.flags & PR_VNET:
                continue
            parent_addrs = getattr(tpr.parent, fam)
            if not tpr.flags & user:
                tpr.flags |= tpr.parent.flags & restricted
                setattr(tpr, fam, parent_addrs)
            else:
                mine = getattr(tpr, fam) or ()
                kept = tuple(a for a in mine if parent_addrs and a in parent_addrs)
                setattr(tpr, fam, kept or None)
            stack.extend(tpr.newest_first())

    def _propagate_host(self, pr: Prison, fields: list[str]) -> None:
        stack = list(pr.newest_first())
        while stack:
            tpr = stack.pop()
            if tpr.flags & PR_HOST:
                continue
            for field in fields:
                setattr(tpr, field, getattr(pr, field))
            stack.extend(tpr.newest_first())

    # ============================================================ kern.hostname
    def sethostname(self, who: Caller | Proc, field: str, value: str) -> Prison:
        """sysctl kern.hostname / kern.domainname / kern.hostuuid written by who
        (a Caller or a Proc): root and allow.set_hostname in its prison, else
        EPERM; the value lands in the nearest ancestor-or-self with host=new
        (possibly prison0) and its host=inherit descendants. Returns that prison."""
        op = "sysctl"
        if isinstance(who, Proc):
            self._running(who, op)
            who = Caller(who.prison, who.cred.uid)
        limit = {"hostname": MAXHOSTNAMELEN, "domainname": MAXHOSTNAMELEN,
                 "hostuuid": HOSTUUIDLEN}.get(field.removeprefix("kern."))
        try:
            if limit is None:
                raise JailError(ENOENT, f"unknown oid: {field}")
            pr = who.prison
            if who.uid != 0 or (pr is not self.prison0 and not pr.allow & _SUSER) \
                    or not pr.allow & ALLOW_BITS["set_hostname"]:
                raise JailError(EPERM)
            if len(value.encode()) >= limit:
                raise JailError(EINVAL)          # sysctl_handle_string: no room for the NUL
        except JailError as err:
            err.op = op
            raise self._refuse(err)
        field = field.removeprefix("kern.")
        while not pr.flags & PR_HOST:
            pr = pr.parent
        setattr(pr, field, value)
        self._propagate_host(pr, [field])
        self._emit("updated", pr, params=["host." + field])
        return pr

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
        pr.state = DYING
        names = pr.parent.alive_names
        if names is not None and names.get(pr.short) is pr:
            del names[pr.short]
        # PR_METHOD_REMOVE: SysV cleanup drops object credentials. A temporary
        # hold keeps pr from being freed inside this call; the caller frees it.
        pr.ref += 1
        self.ipc.prison_dying(pr)
        pr.ref -= 1
        self._emit("dying", pr)

    def _free(self, pr: Prison) -> Prison:
        self._unindex(pr)
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
        self._emit("freed", pr)
        return parent

    def _settle(self, pr: Prison) -> None:
        """A jail left with no user reference (no persist, no process) dies at once."""
        if pr.state == ALIVE and pr.uref == 0:
            self._mark_dying(pr)
            self._deref(pr, 0, 0)

    # ============================================================ jail_remove
    def jail_remove(self, caller: Caller, jid: int) -> None:
        try:
            self._check_priv(caller)
            pr = self.jids.get(jid)
            if pr is None or not pr.is_descendant_of(caller.prison):
                raise JailError(EINVAL)
        except JailError as err:
            err.op = "jail_remove"
            raise self._refuse(err)
        if pr.state != ALIVE:
            return                                   # already dying: nothing to do
        self._emit("removed", pr)
        self._kill(pr)

    def _kill(self, pr: Prison) -> None:
        doomed = [pr] + [d for d in pr.descendants() if d.state == ALIVE]
        for d in doomed:
            self._mark_dying(d)
        victims = [p for p in self.procs.values()
                   if p.state == "running" and (p.prison is pr or p.prison.is_descendant_of(pr))]
        for d in reversed(doomed):                   # bottom-up: drop each persist
            if d.flags & PR_PERSIST:
                d.flags &= ~PR_PERSIST
                self._deref(d, 1, 1)
        for p in victims:                            # SIGKILL
            if p.real_pid is not None:
                self.signal_real(p.real_pid)
            else:
                self.kill(p)

    # ============================================================ jail_attach
    def jail_attach(self, proc: Proc, jid: int) -> None:
        try:
            caller = Caller(proc.prison, proc.cred.uid)
            self._check_priv(caller)
            pr = self.jids.get(jid)
            if pr is None or not pr.is_descendant_of(caller.prison) or pr.state != ALIVE:
                raise JailError(EINVAL)
            if proc.state != "running":
                raise JailError(ESRCH)
        except JailError as err:
            err.op = "jail_attach"
            raise self._refuse(err)
        self._attach(proc, pr)

    def _attach(self, proc: Proc, pr: Prison) -> None:
        old = proc.cred
        proc.cred = self._crget(pr, old.uid)
        pr.uref += 1
        self._emit("attached", pr, pid=proc.pid, real_pid=proc.real_pid)
        self._crfree(old, uref_too=True)

    # ============================================================ credentials
    def _crget(self, pr: Prison, uid: int) -> Cred:
        cred = Cred(next(self._serials), pr, uid)
        cred.refcnt = 1
        pr.ref += 1
        self.creds.add(cred)
        return cred

    def _crhold(self, cred: Cred) -> Cred:
        cred.refcnt += 1
        return cred

    def _crfree(self, cred: Cred, uref_too: bool = False) -> None:
        """Release one hold on cred; with uref_too, also the process hold on its prison."""
        cred.refcnt -= 1
        if uref_too:
            self._deref(cred.prison, 0, 1)
        if cred.refcnt == 0:
            self.creds.discard(cred)
            self._deref(cred.prison, 1, 0)

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
        for check in self.proc_checks:
            check(pr, "spawn")
        proc = Proc(next(self._pids), None, self._crget(pr, uid), real_pid)
        pr.uref += 1
        self.procs[proc.pid] = proc
        self.rctl.proc_created(proc)
        return proc

    def fork(self, parent: Proc, real_pid: int | None = None) -> Proc:
        if parent.state != "running":
            raise JailError(ESRCH, f"process {parent.pid} is not running", "fork")
        if parent.prison.state != ALIVE:
            raise JailError(EAGAIN, "the jail is dying", "fork")
        for check in self.proc_checks:
            check(parent.prison, "fork")
        child = Proc(next(self._pids), parent, self._crhold(parent.cred), real_pid)
        child.prison.uref += 1
        for fd, f in parent.fds.items():
            child.fds[fd] = f
            f.refcnt += 1
        child.next_fd = parent.next_fd
        parent.children.add(child)
        self.procs[child.pid] = child
        self.rctl.proc_created(child)
        return child

    def exit(self, proc: Proc) -> None:
        """exit1(): descriptors closed, the jail's user reference dropped; a zombie remains."""
        if proc.state != "running":
            raise JailError(ESRCH, f"process {proc.pid} is not running", "exit")
        for fd in list(proc.fds):
            self._close_fd(proc, fd)
        self.ipc.proc_exit(proc)                     # shmexit: segments detached
        proc.state = "zombie"
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
        if proc.parent is not None:
            proc.parent.children.discard(proc)
        self._crfree(proc.cred)

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
        return fd

    def _running(self, proc: Proc, op: str) -> None:
        if proc.state != "running":
            raise JailError(ESRCH, f"process {proc.pid} is not running", op)

    def _open(self, proc: Proc, kind: str, what: str, op: str) -> int:
        self._running(proc, op)
        self.rctl.open_check(proc, op)
        f = File(next(self._serials), kind, what, self._crhold(proc.cred))
        self._files[f.serial] = f
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
        if f.refcnt:
            return
        if f.tcp_state == "ESTABLISHED":
            # The connection outlives the descriptor: TIME_WAIT keeps its credential for 2*MSL.
            f.tcp_state = "TIME_WAIT"
            f.expires = self.clock.now + 2 * MSL
            self.clock.call_at(f.expires, lambda: self._release_file(f))
            return
        self._release_file(f)

    def _release_file(self, f: File) -> None:
        del self._files[f.serial]
        f.tcp_state = "CLOSED" if f.tcp_state else None
        self._crfree(f.cred)

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
        self.holders[ident] = Holder(ident, kind, what, self._crhold(proc.cred))
        return ident

    def mount(self, proc: Proc, fstype: str, path: str) -> int:
        return self.hold(proc, "mount", f"{fstype} on {path}")

    def release(self, ident: int) -> None:
        holder = self.holders.pop(ident, None)
        if holder is None:
            raise JailError(ENOENT, f"no holder {ident}", "release")
        self._crfree(holder.cred)

    unmount = release

    def advance(self, seconds: float) -> float:
        self.clock.advance(seconds)
        return self.clock.now

    # ============================================================ .refs
    def refs(self, pr: Prison) -> RefReport:
        lines = []
        if pr.flags & PR_PERSIST:
            lines.append("persist: ref 1, uref 1")
        for child in pr.children.values() if pr.children else ():
            lines.append(f"child jail {child.name} (jid {child.jid}, {child.state}): ref 1, uref 1")
        running = [p for p in self.procs.values() if p.prison is pr and p.state == "running"]
        for p in sorted(running, key=lambda p: p.pid):
            lines.append(f"{p.describe()}: uref 1")
        for cred in sorted((c for c in self.creds if c.prison is pr), key=lambda c: c.serial):
            lines.append(f"credential {cred.serial} (uid {cred.uid}): ref 1, held {cred.refcnt} time(s) by:")
            lines.extend("    " + text for text in self._cred_users(cred))
        return RefReport(lines, pr.ref, pr.uref)

    def _cred_users(self, cred: Cred) -> list[str]:
        out = []
        for p in sorted(self.procs.values(), key=lambda p: p.pid):
            if p.cred is cred:
                out.append(f"{p.describe()} in {self._where(p.prison)}")
        for f in self._files.values():
            if f.cred is not cred:
                continue
            if f.tcp_state == "TIME_WAIT":
                left = max(f.expires - self.clock.now, 0.0)
                out.append(f"tcp {f.what} TIME_WAIT, {left:g} s left")
                continue
            state = f" {f.tcp_state}" if f.tcp_state else ""
            owners = [f"fd {fd} of process {p.pid} in {self._where(p.prison)}"
                      for p in sorted(self.procs.values(), key=lambda p: p.pid)
                      for fd, g in p.fds.items() if g is f]
            out.append(f"{f.kind} {f.what}{state} open as " + ", ".join(owners))
        for h in self.holders.values():
            if h.cred is cred:
                out.append(f"{h.kind} {h.what} (holder {h.ident})")
        out.extend(obj.describe() for obj in self.ipc.held_by(cred))
        return out

    def _where(self, pr: Prison) -> str:
        return "host" if pr is self.prison0 else f"jail {pr.name} (jid {pr.jid})"

    # ============================================================ invariants
    def check_invariants(self) -> None:
        """Every count is derived again from its holders and compared."""
        everyone = [self.prison0] + list(self.jids.values())
        assert list(self._sorted_jids) == sorted(self.jids), "allprison order broken"
        assert len(self.jids) == len(self._sorted_jids), "duplicate jid"
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
        for obj in self.ipc.objects():               # SysV IPC objects hold their creator's cred
            cred_holds[obj.cred.serial] = cred_holds.get(obj.cred.serial, 0) + 1
            assert obj.creator.state != FREED, f"{obj.describe()} of a freed jail"
            assert obj.nattch == sum(segs.count(obj) for segs in self.ipc.attached.values())
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
        self.rctl.check_invariants()
        self.vnet.check_invariants()


def _extra(pr: Prison, which: str):
    return pr.extra.get(which, "") if pr.extra else ""


def _set_extra(pr: Prison, key: str, value) -> None:
    if pr.extra is None:
        pr.extra = {}
    pr.extra[key] = value


def _kv_get(buf: str, key: str) -> str:
    for line in buf.split("\n"):
        k, eq, v = line.partition("=")
        if eq and k == key:
            return v
    return ""
