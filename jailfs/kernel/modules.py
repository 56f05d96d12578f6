"""The interface a kernel module (SysV IPC, meta/env, linux, zfs, rctl, vnet) plugs in by.

Modelled on FreeBSD's jail OSD methods (sys/sys/jail.h, PR_METHOD_*): a module
declares its parameters (SYSCTL_JAIL_PARAM, here rows of the PARAMS table) and
the kernel calls its methods at the same points of jail_set and of a prison's
life as kern_jail.c calls osd_jail_call():

| method          | FreeBSD                | when                                               |
|-----------------|------------------------|----------------------------------------------------|
| check(req)      | PR_METHOD_CHECK        | jail_set, after every kern_jail.c check; may raise |
| create(pr, req) | PR_METHOD_CREATE       | a new jail, after the kernel set its fields        |
| set(pr, req)    | PR_METHOD_SET          | right after; applies the module's values; no raise |
| attach(proc,pr) | PR_METHOD_ATTACH       | a process enters pr (jail_attach, JAIL_ATTACH)     |
| dying(pr)       | PR_METHOD_REMOVE       | pr starts dying (before the `dying` event)         |
| freed(pr)       | the OSD destructor     | pr is freed                                        |
| proc_check(pr, op)   | racct_proc_fork   | before a process is made in pr; may raise          |
| proc_created(proc)   | racct_proc_fork_done | after it is made                                |
| open_check(proc, op) | fdalloc's racct   | before a descriptor is allocated; may raise        |
| proc_exit(proc)      | exit1's hooks      | a process exits (before its jail reference goes)  |
| holds(cred) / creds()|                    | what it keeps a credential for (.refs, invariants) |
| check_invariants()   |                    | its own consistency, from k.check_invariants()    |

Every method has a default that does nothing, so a module defines only what it
needs. Modules reach the kernel only through its public calls and the
documented helpers below (`k.crhold`, `k.crfree`, `k.find_name`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Iterable

from .params import Param
from .prison import Caller, Cred, Prison, Proc


class SetRequest:
    """One jail_set call as the modules see it (FreeBSD passes the vfsoptlist)."""

    __slots__ = ("caller", "flags", "opts", "given", "created", "pr", "ppr", "data")

    def __init__(self, caller: Caller, flags: int, opts: dict, given: list[str]):
        self.caller = caller
        self.flags = flags
        self.opts = opts            # parameter name -> typed value, as libjail imported it
        self.given = given          # the names as the caller spelled them (meta.KEY, nofoo, ...)
        self.created = False        # a new jail is being made
        self.pr: Prison | None = None    # the jail being updated (None while creating)
        self.ppr: Prison | None = None   # its parent
        self.data: dict = {}        # what a module's check computed for its set


def overriding(modules, method: str) -> tuple:
    """The bound ``method`` of each module that defines its own, in module order
    (the others' is the default that does nothing: not worth a call)."""
    base = getattr(KernelModule, method)
    return tuple(getattr(m, method) for m in modules if getattr(type(m), method) is not base)


class KernelModule:
    """Base class: override the methods the module needs (see the table above)."""

    name = ""
    params: tuple[Param, ...] = ()

    def __init__(self, kernel) -> None:
        self.k = kernel

    @cached_property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def check(self, req: SetRequest) -> None:
        pass

    def create(self, pr: Prison, req: SetRequest) -> None:
        pass

    def set(self, pr: Prison, req: SetRequest) -> None:
        pass

    def attach(self, proc: Proc, pr: Prison) -> None:
        pass

    def dying(self, pr: Prison) -> None:
        pass

    def freed(self, pr: Prison) -> None:
        pass

    def proc_check(self, pr: Prison, op: str) -> None:
        pass

    def proc_created(self, proc: Proc) -> None:
        pass

    def open_check(self, proc: Proc, op: str) -> None:
        pass

    def proc_exit(self, proc: Proc) -> None:
        pass

    def creds(self) -> Iterable[Cred]:
        """Every credential hold the module's objects keep (one item per hold)."""
        return ()

    def holds(self, cred: Cred) -> list[str]:
        """.refs lines for what of the module holds cred."""
        return []

    def check_invariants(self) -> None:
        pass
