"""The `.ctl` requests FreeBSD's jail toolbox needs (docs/ctl.md, "toolbox").

Registered into the verb table (jailfs.ctl_common.verb) by ctl.py's one
import line. Each request is answered from the caller's own view, as
FreeBSD's syscalls answer from ``td_ucred``:

    sysctl get NAME        one leaf, or every leaf below a node
    sysctl all             every leaf (sysctl -a)
    sysctl set NAME VALUE  a write, with sysctl_root's privilege rule
    proclist               real processes the caller can see: pid, jid, pid per namespace
    sysvlist [JAIL]        SysV objects the caller (or JAIL) sees, the model's and the real ones
    sysvrm msg|sem|shm ID [JAIL] / sysvrm all [JAIL]
    ifdestroy IFNAME       ifconfig IFNAME destroy

A leaf line is ``NAME KIND FORMAT ACCESS VALUE DESCRIPTION`` (VALUE and
DESCRIPTION shell-quoted; a struct's bytes in hex), so the tool prints it
as sysctl(8) would without knowing the MIB.
"""

from __future__ import annotations

import errno
import os
import shlex
import weakref
from typing import NamedTuple

from jailfs.ctl_common import ok as _ok
from jailfs.ctl_common import verb
from jailfs.ctl_common import visible as _visible
from jailfs.host import sysvipc
from jailfs.kernel import Caller, JailError
from jailfs.kernel.ipc import FACILITIES
from jailfs.kernel.sysctl import Oid, Sysctl
from jailfs.ops.runfiles import pid_at_depth, status_field

_MIBS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mib(k) -> Sysctl:
    """The one MIB of a kernel (its state: meta limits, jail(2) defaults)."""
    m = _MIBS.get(k)
    if m is None:
        m = _MIBS[k] = Sysctl(k)
    return m


# ------------------------------------------------------------------- sysctl

def _leaf_line(caller: Caller, m: Sysctl, oid: Oid) -> str:
    value = m.read(caller, oid)
    text = value.hex() if isinstance(value, bytes) else str(value)
    return " ".join([oid.name, oid.kind, oid.fmt, oid.access, shlex.quote(text), shlex.quote(oid.descr)])


@verb("sysctl", "sysctl get NAME | sysctl all | sysctl set NAME VALUE")
def _sysctl(k, caller, args):
    m = mib(k)
    what, rest = args[0], args[1:]
    if what == "all" and not rest:
        return _ok(lines=[_leaf_line(caller, m, o) for o in m.all()])
    if what == "get":
        (name,) = rest
        return _ok(lines=[_leaf_line(caller, m, o) for o in m.find(name)])
    if what == "set":
        name, value = rest
        return _ok(lines=[_leaf_line(caller, m, m.write(caller, name, value))])
    raise ValueError(what)


# ------------------------------------------------------------------- real processes

def _nspids(pid: str) -> str:
    """The pid in each pid namespace from the daemon's inward (NSpid of
    /proc/PID/status), comma-joined; just PID where the kernel has no NSpid."""
    words = status_field(pid, "NSpid")
    return pid if words is None else ",".join(words)


@verb("proclist", "proclist", real=True)
def _proclist(k, caller, args, real):
    """`PID JID NSPIDS` for every live Linux process in the caller's prison or
    below (jid 0 for the host's own): what FreeBSD's kern.proc sysctl shows a
    jailed caller, and ki_jid for each. NSPIDS lets a tool in a jail's pid
    namespace name each process as its own /proc does. A process the daemon
    cannot place is left out."""
    if args:
        raise ValueError(args)
    lines = []
    for name in sorted(os.listdir("/proc"), key=lambda n: (len(n), n)):
        if not name.isdigit():
            continue
        try:
            pr = real.prison_of(int(name))
        except Exception:       # noqa: BLE001 - gone meanwhile, or not placeable: left out
            continue
        if pr is not None and (pr is caller.prison or _visible(caller, pr)):
            lines.append(f"{name} {pr.jid} {_nspids(name)}")
    return _ok(lines=lines)


# ------------------------------------------------------------------- SysV IPC

# Hooks (kernel, prison) -> (the prison owning its IPC namespace, that
# namespace's anchor pid) or None: the daemon's confinement
# (jailfs/host/jailhouse.py's ``ipc_namespace``).
ipc_namespace_hooks: list = []
_PIDS = ("cpid", "lpid", "lspid", "lrpid")
_CTL_CALLS = ("msgctl", "semctl", "shmctl")     # the call that removes, by facility


class _Namespace(NamedTuple):
    owner: object           # the prison that made it (sysv*=new)
    anchor: int             # its anchor's pid: where the daemon reads and removes
    own: bool               # the viewer's own namespace (else one of a jail below)


def _real_namespaces(k, viewer, named: bool) -> list[_Namespace]:
    """The real IPC namespaces below the viewer's facility root, as FreeBSD's
    rpr sees every object made under it: the viewer's own first (one it only
    inherits counts without a JAIL named, not with one: that is its maker's),
    then each one a jail below it owns, in jid order. The host has none of
    its own: its Linux namespace is the machine's, not the model's host."""
    found: list[_Namespace] = []
    for hook in ipc_namespace_hooks:
        own = hook(k, viewer.prison)
        if own is not None and (not named or own[0] is viewer.prison):
            found.append(_Namespace(own[0], own[1], True))
        for pr in sorted(viewer.prison.descendants(), key=lambda p: p.jid):
            r = hook(k, pr)
            if r is not None and r[0] is pr:
                found.append(_Namespace(r[0], r[1], False))
    return found


def _pid_here(k, caller, real, pid: int) -> int:
    """A host pid as the caller's pid namespace numbers it: each jail has its
    own, nested as the jails are, so a jail at depth D names a process by
    the (D+1)th entry of its NSpid. 0 for a process outside the caller's jail
    or gone (its number in the jail cannot be known): never the host's."""
    if caller.prison is k.prison0 or pid <= 0:
        return pid
    try:
        where = real.prison_of(pid)
    except Exception:       # noqa: BLE001 - gone meanwhile, or not placeable: not the caller's
        return 0
    if where is None or not (where is caller.prison or where.is_descendant_of(caller.prison)):
        return 0
    return pid_at_depth(pid, caller.prison.depth_below(k.prison0)) or 0


def _real_lines(k, caller, real, viewer, named: bool, facility: int) -> list[str]:
    """`FACILITY ID KEY UID NATTCH JAIL real NAME=VALUE...` per real object
    (NAME=VALUE: the columns of /proc/sysvipc/FACILITY, pids as the caller
    numbers them). Keys of a namespace below the viewer's read 0, as FreeBSD
    shows objects made in another jail."""
    which = FACILITIES[facility]
    lines = []
    for ns in _real_namespaces(k, viewer, named):
        where = "-" if not _visible(caller, ns.owner) else ns.owner.relname(caller.prison)
        if ns.owner is caller.prison:
            where = "0"
        for o in sysvipc.objects(ns.anchor, which):
            o = {n: _pid_here(k, caller, real, v) if n in _PIDS else v for n, v in o.items()}
            if not ns.own:
                o["key"] = 0
            fields = " ".join(f"{n}={v}" for n, v in o.items())
            lines.append(f"{which} {o['id']} {o['key']} {o['uid']} {o.get('nattch', 0)} "
                         f"{where} real {fields}")
    return lines


def _real_remove(k, caller, viewer, named: bool, facility: int, ident: int | None) -> int:
    """IPC_RMID on the real object ``ident`` (None: every one) of the viewer's
    namespaces, with Linux's rule (root, the owner or the creator); the
    number removed. An id names the object of the viewer's own namespace,
    else the one object of a jail below with it: several are ambiguous
    (EINVAL, as for no object; ``-J`` naming the owner picks one)."""
    which = FACILITIES[facility]
    op = _CTL_CALLS[facility]
    chosen = []
    for ns in _real_namespaces(k, viewer, named):
        for o in sysvipc.objects(ns.anchor, which):
            if ident is None or o["id"] == ident:
                chosen.append((ns, o))
    if ident is not None:
        own = [c for c in chosen if c[0].own]
        chosen = own or chosen
        if len(chosen) > 1:
            raise JailError(errno.EINVAL, f"id {ident} is in several jails' IPC namespaces ("
                            + ", ".join(ns.owner.relname(caller.prison) for ns, _ in chosen)
                            + "): name one with its jail", op)
    gone = 0
    for ns, o in chosen:
        if caller.uid not in (0, o["uid"], o["cuid"]):
            if ident is None:
                continue
            raise JailError(errno.EPERM, "", op)
        gone += sysvipc.remove(ns.anchor, which, o["id"])
    return gone


class _Viewer:
    """The caller (or a jail it names) in the shape k.ipc reads a process:
    its prison, its uid, running. It holds nothing and attaches nothing."""
    state = "running"
    pid = None

    def __init__(self, prison, uid: int):
        self.prison = prison
        self.cred = type("Cred", (), {"uid": uid})()


def _viewer(k, caller: Caller, word: str | None) -> _Viewer:
    if word is None:
        return _Viewer(caller.prison, caller.uid)
    if word.isdigit():
        pr = k.by_jid(int(word))
        if pr is None or not _visible(caller, pr):
            raise JailError(errno.ENOENT, f"jail {word} not found", "ipcs")
    else:
        try:
            pr = k.lookup(caller, word)
        except JailError as e:
            e.op = "ipcs"
            raise
    return _Viewer(pr, caller.uid)


def _mine(viewer: _Viewer, named: bool, obj) -> bool:
    """With a JAIL named: only the objects made in it or below it."""
    return not named or obj.creator is viewer.prison or obj.creator.is_descendant_of(viewer.prison)


@verb("sysvlist", "sysvlist [JAIL]", real=True)
def _sysvlist(k, caller, args, real):
    """`FACILITY ID KEY UID NATTCH JAIL` per object, as ipcs(1) reads
    kern.ipc.msqids/sema/shmsegs in the viewer's prison, then the real
    objects of its IPC namespace and of those the jails below own (with a
    JAIL: of those JAIL and below own);
    a facility the viewer has disabled answers `FACILITY disabled`."""
    if len(args) > 1:
        raise ValueError(args)
    viewer = _viewer(k, caller, args[0] if args else None)
    lines = []
    for facility, which in enumerate(FACILITIES):
        if viewer.prison.sysv_root(facility) is None:
            lines.append(f"{which} disabled")
            continue
        for ident, key, creator in k.ipc.stat(facility, viewer):
            obj = k.ipc.tables[facility][ident]
            if not _mine(viewer, bool(args), obj):
                continue
            where = creator.relname(caller.prison) if _visible(caller, creator) else "-"
            if creator is caller.prison:
                where = "0"
            lines.append(f"{which} {ident} {key} {obj.uid} {obj.nattch} {where}")
        lines += _real_lines(k, caller, real, viewer, bool(args), facility)
    return _ok(lines=lines)


@verb("sysvrm", "sysvrm msg|sem|shm ID [JAIL] | sysvrm all [JAIL]")
def _sysvrm(k, caller, args):
    """IPC_RMID as the caller (or, from above, on JAIL's objects)."""
    which, rest = args[0], args[1:]
    if which == "all":
        if len(rest) > 1:
            raise ValueError(rest)
        viewer = _viewer(k, caller, rest[0] if rest else None)
        gone = 0
        for facility in range(len(FACILITIES)):
            if viewer.prison.sysv_root(facility) is None:
                continue
            for ident, _key, _creator in k.ipc.stat(facility, viewer):
                if _mine(viewer, bool(rest), k.ipc.tables[facility][ident]):
                    k.ipc.remove(facility, viewer, ident)
                    gone += 1
            gone += _real_remove(k, caller, viewer, bool(rest), facility, None)
        return _ok(gone)
    if which not in FACILITIES or len(rest) not in (1, 2):
        raise ValueError(args)
    facility = FACILITIES.index(which)
    viewer = _viewer(k, caller, rest[1] if len(rest) == 2 else None)
    ident = int(rest[0])
    obj = k.ipc.tables[facility].get(ident)
    enabled = viewer.prison.sysv_root(facility) is not None
    # the model's object first, if the viewer sees it; then a real one
    model = enabled and obj is not None and _mine(viewer, len(rest) == 2, obj) and any(
        i == ident for i, _key, _creator in k.ipc.stat(facility, viewer))
    if enabled and not model and _real_remove(k, caller, viewer, len(rest) == 2, facility, ident):
        return _ok()
    if obj is not None and not _mine(viewer, len(rest) == 2, obj):
        raise JailError(errno.EINVAL, "", _CTL_CALLS[facility])
    k.ipc.remove(facility, viewer, ident)
    return _ok()


# ------------------------------------------------------------------- interfaces

@verb("ifdestroy", "ifdestroy IFNAME")
def _ifdestroy(k, caller, args):
    """ifconfig IF destroy: a cloned interface of the caller's stack (an
    epair's both ends go, wherever the other end is)."""
    (ifname,) = args
    return _ok(" ".join(k.vnet.if_destroy(caller, ifname)))

