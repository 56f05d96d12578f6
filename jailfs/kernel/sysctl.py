"""The sysctl MIB as the kernel answers it: names, types, values per caller.

Pure: no FUSE, no Linux. What sysctl(8) needs of FreeBSD's MIB for jails
(kern_jail.c, kern_jailmeta.c, kern_mib.c), each value read from the
caller's own prison the way the kernel's handler reads ``req->td``'s
credential: ``security.jail.jailed``, ``children.max``/``.cur`` and ``env``
of the caller's jail, the legacy ``*_allowed`` knobs (a jail sees its own
allow bits), ``security.jail.param.*`` (what libjail reads: 0 for numbers,
the size as text for strings, ``sizeof`` for address lists),
``kern.hostname`` and friends, ``kern.osrelease``/``osreldate``.

Writes follow sysctl_root's privilege rule: root in the host for every
writable oid; a jailed root only for the ``CTLFLAG_PRISON`` ones
(``kern.hostname``, ``kern.domainname``, ``kern.hostuuid``), which go
through the kernel's sethostname.
"""

from __future__ import annotations

import struct
from errno import EINVAL, ENOENT, ENOTDIR, EPERM
from typing import Any, Callable, NamedTuple

from .errors import JailError
from .params import ALLOW_BITS, JAIL_DEFAULT_ALLOW, META_MAXBUFSIZE, PARAMS, PR_VNET
from .prison import Caller

KINDS = ("node", "int", "uint", "long", "ulong", "string", "struct")
_JAILSYS_NODES = frozenset(n for n, p in PARAMS.items() if p.kind == "jailsys" and n != "vnet")
# libjail's struct sizes for address lists (struct in_addr, struct in6_addr)
_ADDR_SIZE = {"ip4": 4, "ip6": 16}


class Oid(NamedTuple):
    """One leaf of the MIB as sysctl(8) learns it (name, CTLTYPE, format, access)."""
    name: str
    kind: str                   # one of KINDS
    fmt: str                    # FreeBSD's format string: I IU LU A S,in_addr,a E,jailsys B
    access: str                 # "rw", "rd" or "rdtun" (a read-only tunable)
    descr: str
    read: Callable[[Caller], Any]
    write: Callable[[Caller, Any], None] | None = None
    prison: bool = False        # CTLFLAG_PRISON: a jailed root may write it


def _parse_number(kind: str, text: str) -> int:
    """A written number as strtol/strtoul(.., 0) reads it, range-checked."""
    try:
        value = int(text.strip(), 0)
    except ValueError:
        raise JailError(EINVAL, f"invalid value {text!r}", "sysctl") from None
    bits = 32 if kind in ("int", "uint") else 64
    lo, hi = (0, (1 << bits) - 1) if kind.startswith("u") else (-(1 << bits - 1), (1 << bits - 1) - 1)
    if not lo <= value <= hi:
        raise JailError(EINVAL, f"value out of range: {text}", "sysctl")
    return value


class Sysctl:
    """The MIB of one kernel. State that FreeBSD keeps in sysctl variables
    (the jail(2) defaults, the meta buffer limits) lives here."""

    def __init__(self, kernel) -> None:
        self.k = kernel
        self.meta_soft = META_MAXBUFSIZE          # the kernel keeps the hard limit
        self.default_allow = {flag: bool(bit & JAIL_DEFAULT_ALLOW) for flag, bit in ALLOW_BITS.items()}
        self.default_enforce_statfs = 2
        self.jail_max_af_ips = 255
        self._oids = {oid.name: oid for oid in self._table()}
        self._order = list(self._oids)

    # ------------------------------------------------------------ the table
    def _table(self) -> list[Oid]:
        k = self.k
        own = lambda c: c.prison                                   # noqa: E731
        rows = [
            Oid("kern.ostype", "string", "A", "rd", "Operating system type", lambda c: "FreeBSD"),
            Oid("kern.osrelease", "string", "A", "rd", "Operating system release",
                lambda c: own(c).osrelease),
            Oid("kern.osrevision", "int", "I", "rd", "Operating system revision", lambda c: 199506),
            Oid("kern.securelevel", "int", "I", "rd", "Current secure level",
                lambda c: own(c).securelevel),
            Oid("kern.hostname", "string", "A", "rw", "Hostname", lambda c: own(c).hostname,
                self._sethost("hostname"), prison=True),
            Oid("kern.osreldate", "int", "I", "rd", "Kernel release date", lambda c: own(c).osreldate),
            Oid("kern.domainname", "string", "A", "rw", "Name of the current YP/NIS domain",
                lambda c: own(c).domainname, self._sethost("domainname"), prison=True),
            Oid("kern.hostid", "ulong", "LU", "rd", "Host ID", lambda c: own(c).hostid),
            Oid("kern.hostuuid", "string", "A", "rw", "Host UUID", lambda c: own(c).hostuuid,
                self._sethost("hostuuid"), prison=True),
            Oid("kern.features.vimage", "int", "I", "rd", "Virtual network stacks", lambda c: 1),
            Oid("security.jail.jailed", "int", "I", "rd", "Process in jail?",
                lambda c: int(own(c) is not k.prison0)),
            Oid("security.jail.vnet", "int", "I", "rd", "Jail owns vnet?",
                lambda c: int(own(c) is not k.prison0 and bool(own(c).flags & PR_VNET))),
            Oid("security.jail.jail_max_af_ips", "uint", "IU", "rw",
                "Number of IP addresses a jail may have at most per address family (deprecated)",
                lambda c: self.jail_max_af_ips, self._set_attr("jail_max_af_ips")),
        ]
        legacy = [("set_hostname_allowed", "set_hostname", False),
                  ("socket_unixiproute_only", "socket_af", True),
                  ("sysvipc_allowed", "sysvipc", False),
                  ("allow_raw_sockets", "raw_sockets", False),
                  ("chflags_allowed", "chflags", False),
                  ("mount_allowed", "mount", False)]
        legacy += [(f"mount_{fs}_allowed", f"mount.{fs}", False)
                   for fs in ("devfs", "fdescfs", "nullfs", "procfs", "linprocfs", "linsysfs",
                              "tmpfs", "zfs")]
        rows += [Oid(f"security.jail.{knob}", "int", "I", "rw", f"jail(2) default for allow.{flag} (deprecated)",
                     self._default_allow_reader(flag, inverted), self._default_allow_writer(flag, inverted))
                 for knob, flag, inverted in legacy]
        rows += [
            Oid("security.jail.enforce_statfs", "int", "I", "rw",
                "Processes in jail cannot see all mounted file systems (deprecated)",
                lambda c: self.default_enforce_statfs if own(c) is k.prison0 else own(c).enforce_statfs,
                self._set_attr("default_enforce_statfs")),
            Oid("security.jail.devfs_ruleset", "int", "I", "rd",
                "Ruleset for the devfs filesystem in jail (deprecated)",
                lambda c: 0 if own(c) is k.prison0 else own(c).devfs_ruleset),
            Oid("security.jail.children.max", "int", "I", "rd", "Maximum number of child jails",
                lambda c: own(c).childmax),
            Oid("security.jail.children.cur", "int", "I", "rd", "Current number of child jails",
                lambda c: own(c).childcount),
            Oid("security.jail.meta_maxbufsize", "uint", "IU", "rw",
                "Maximum buffer size of each meta and env", lambda c: self.k.meta_maxbufsize,
                self._set_meta_maxbufsize),
            Oid("security.jail.env", "string", "A", "rd", "Meta information provided by parent jail",
                lambda c: (own(c).extra or {}).get("env", "")),
        ]
        rows += [self._param_oid(name) for name in sorted(PARAMS)]
        return rows

    def _param_oid(self, name: str) -> Oid:
        """security.jail.param.NAME: what libjail's jailparam_type reads."""
        p = PARAMS[name]
        has_children = any(other.startswith(name + ".") for other in PARAMS)
        leaf = f"security.jail.param.{name}" + ("." if name in _JAILSYS_NODES or has_children else "")
        access = "rd" if p.readonly else ("rdtun" if p.createonly else "rw")
        if p.kind in ("string", "keyvalue"):
            size = (lambda c: self.meta_soft) if p.kind == "keyvalue" else (lambda c: p.maxlen)
            return Oid(leaf, "string", "A,keyvalue" if p.kind == "keyvalue" else "A", access,
                       f"Jail parameter {name}", lambda c: str(size(c)))
        if p.kind in ("ip4", "ip6"):
            sz = _ADDR_SIZE[p.kind]
            fmt = "S,in_addr,a" if p.kind == "ip4" else "S,in6_addr,a"
            return Oid(leaf, "struct", fmt, access, f"Jail parameter {name}",
                       lambda c: struct.pack("<Q", sz))
        kind, fmt = {"int": ("int", "I"), "uint": ("uint", "IU"), "ulong": ("ulong", "LU"),
                     "bool": ("int", "B"), "jailsys": ("int", "E,jailsys")}[p.kind]
        return Oid(leaf, kind, fmt, access, f"Jail parameter {name}", lambda c: 0)

    # ------------------------------------------------------------ writers
    def _sethost(self, field: str):
        def write(caller: Caller, value: str) -> None:
            self.k.sethostname(caller, field, value)
        return write

    def _set_attr(self, attr: str):
        def write(caller: Caller, value: int) -> None:
            setattr(self, attr, value)
        return write

    def _default_allow_reader(self, flag: str, inverted: bool):
        def read(caller: Caller) -> int:
            pr = caller.prison
            on = self.default_allow[flag] if pr is self.k.prison0 else bool(pr.allow & ALLOW_BITS[flag])
            return int(on != inverted)
        return read

    def _default_allow_writer(self, flag: str, inverted: bool):
        def write(caller: Caller, value: int) -> None:
            self.default_allow[flag] = (value != 0) != inverted
        return write

    def _set_meta_maxbufsize(self, caller: Caller, value: int) -> None:
        """kern_jailmeta.c: the hard limit is what jail_set checks (the
        kernel's setting); the soft one (what security.jail.param.meta
        announces) only grows while jails exist, so meta set under a larger
        limit stays readable."""
        self.k.set_meta_maxbufsize(caller, value)
        if value >= self.meta_soft or not self.k.jids:
            self.meta_soft = value

    # ------------------------------------------------------------ lookups
    def find(self, name: str) -> list[Oid]:
        """name2oid: the leaf itself, or every leaf below a node (sysctl_all's
        order); ENOENT when nothing has that name."""
        oid = self._oids.get(name)
        if oid is not None:
            return [oid]
        below = [self._oids[n] for n in self._order if n.startswith(name + ".")] if name else []
        if not below:
            raise JailError(ENOENT, f"unknown oid '{name}'", "sysctl")
        return below

    def all(self) -> list[Oid]:
        return [self._oids[n] for n in self._order]

    def read(self, caller: Caller, oid: Oid):
        return oid.read(caller)

    def write(self, caller: Caller, name: str, text: str) -> Oid:
        """sysctl NAME=TEXT as caller; returns the oid written."""
        oid = self._oids.get(name)
        if oid is None:
            self.find(name)                             # ENOENT when unknown
            raise JailError(ENOTDIR, f"oid '{name}' isn't a leaf node", "sysctl")
        if oid.write is None:
            raise JailError(EPERM, f"oid '{name}' is read only", "sysctl")
        if not oid.prison and (caller.prison is not self.k.prison0 or caller.uid != 0):
            raise JailError(EPERM, "", "sysctl")
        if oid.kind == "string":
            oid.write(caller, text)
        else:
            oid.write(caller, _parse_number(oid.kind, text))
        return oid
