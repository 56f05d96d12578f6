"""The one declarative table of jail parameters.

Each row says what FreeBSD's `security.jail.param.<name>` sysctl says (type,
string size, read-only, create-only) plus how the value is read off a prison.
The kernel parses and validates with it, the filesystem lists files from it,
and jls prints from it. Semantics that FreeBSD spells out in jail_set's code
(check order, cascades to descendants) live in syscalls.py, keyed by name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from errno import EINVAL
from typing import Any, Callable

from .errors import JailError

JAIL_MAX = 999999
MAXHOSTNAMELEN = 256
MAXPATHLEN = 1024
HOSTUUIDLEN = 64
OSRELEASELEN = 32
JAIL_MAX_AF_IPS = 255
META_MAXBUFSIZE = 4096
MSL = 30.0                      # net.inet.tcp.msl in seconds; TIME_WAIT lasts 2*MSL

SYS_DISABLE, SYS_NEW, SYS_INHERIT = 0, 1, 2
JAILSYS_NAMES = ("disable", "new", "inherit")
DEFAULT_HOSTUUID = "00000000-0000-0000-0000-000000000000"

# pr_flags bits (values from sys/sys/jail.h where they are public)
PR_PERSIST = 0x1
PR_HOST = 0x2
PR_IP4_USER = 0x4
PR_IP6_USER = 0x8
PR_VNET = 0x10
PR_IP4_SADDRSEL = 0x80
PR_IP6_SADDRSEL = 0x100
PR_IP4 = 0x02000000             # restricted by this jail or an ancestor
PR_IP6 = 0x04000000

# allow.* bits: the static ones keep FreeBSD's values; the rest are assigned
# here the way the kernel assigns dynamic bits at module registration.
ALLOW_BITS = {
    "set_hostname": 0x1, "sysvipc": 0x2, "raw_sockets": 0x4, "chflags": 0x8,
    "mount": 0x10, "quotas": 0x20, "socket_af": 0x40, "mlock": 0x80,
    "read_msgbuf": 0x100, "unprivileged_proc_debug": 0x200, "suser": 0x400,
    "reserved_ports": 0x8000, "nfsd": 0x20000, "extattr": 0x40000,
    "adjtime": 0x80000, "settime": 0x100000, "routing": 0x200000,
    "unprivileged_parent_tampering": 0x400000, "setaudit": 0x800000,
}
for _i, _fs in enumerate(("devfs", "fdescfs", "fusefs", "linprocfs", "linsysfs",
                          "nullfs", "procfs", "tmpfs", "zfs")):
    ALLOW_BITS["mount." + _fs] = 0x1000000 << _i
ALLOW_ALL = sum(ALLOW_BITS.values())
JAIL_DEFAULT_ALLOW = (ALLOW_BITS["set_hostname"] | ALLOW_BITS["unprivileged_proc_debug"]
                      | ALLOW_BITS["suser"] | ALLOW_BITS["reserved_ports"])
# A child may have these even when its parent lacks them.
PR_ALLOW_DIFFERENCES = ALLOW_BITS["unprivileged_proc_debug"]

LINUX_DEFAULTS = {"linux.osname": "Linux", "linux.osrelease": "5.15.0",
                  "linux.oss_version": 0x030600}


# ---------------------------------------------------------------- value codecs
# Parsing is libjail's job (jailparam_import): it runs before the kernel sees
# anything, so its errors come first and carry libjail's wording.

def _parse_int(name: str, text: str, lo: int, hi: int) -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise JailError(EINVAL, f'{name}: non-integer value "{text}"')
    if not lo <= value <= hi:
        raise JailError(EINVAL, f'{name}: non-integer value "{text}"')
    return value


def _parse_bool(name: str, text: str | None) -> bool:
    if text is None or text == "":
        return True
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text, 10) != 0
    except ValueError:
        raise JailError(EINVAL, f'{name}: unknown boolean value "{text}"')


def _parse_jailsys(name: str, text: str | None) -> int:
    if text is None or text == "":
        return SYS_NEW
    low = text.lower()
    if low in JAILSYS_NAMES:
        return JAILSYS_NAMES.index(low)
    try:
        return int(text, 10)
    except ValueError:
        raise JailError(EINVAL, f'{name}: unknown jailsys value "{text}"')


def _parse_iplist(name: str, text: str | None, family: type) -> tuple:
    words = [w.strip() for w in (text or "").replace(" ", ",").split(",") if w.strip()]
    label = "IPv4" if family is ipaddress.IPv4Address else "IPv6"
    addrs = []
    for word in words:
        try:
            addrs.append(family(word))
        except ValueError:
            raise JailError(EINVAL, f"{name}: not an {label} address: {word}")
    return tuple(addrs)


@dataclass(frozen=True)
class Param:
    """One row of the table."""
    name: str
    kind: str                   # int uint ulong string bool jailsys ip4 ip6 keyvalue
    read: Callable[[Any, Any], Any]   # read(prison, viewer) -> typed value
    maxlen: int = 0             # strings: bytes including the NUL
    readonly: bool = False
    createonly: bool = False

    @property
    def negatable(self) -> bool:
        return self.kind in ("bool", "jailsys")

    def parse(self, text: str | None, negated: bool = False) -> Any:
        """Text as jail(8) passes it (None for a bare name) -> typed value."""
        if self.kind == "bool":
            value = _parse_bool(self.name, text)
            return not value if negated else value
        if self.kind == "jailsys":
            return SYS_DISABLE if negated else _parse_jailsys(self.name, text)
        if negated:
            raise JailError(EINVAL, f"unknown parameter: {no_form(self.name)}")
        text = "" if text is None else text
        if self.kind == "int":
            return _parse_int(self.name, text, -(1 << 31), (1 << 31) - 1)
        if self.kind == "uint":
            return _parse_int(self.name, text, 0, (1 << 32) - 1)
        if self.kind == "ulong":
            return _parse_int(self.name, text, 0, (1 << 64) - 1)
        if self.kind == "ip4":
            return _parse_iplist(self.name, text, ipaddress.IPv4Address)
        if self.kind == "ip6":
            return _parse_iplist(self.name, text, ipaddress.IPv6Address)
        return text             # string, keyvalue

    def render(self, value: Any) -> str:
        """Typed value -> canonical text (the form `jls -j X PARAM` prints)."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "jailsys":
            return JAILSYS_NAMES[value]
        if self.kind in ("ip4", "ip6"):
            return ",".join(str(a) for a in value)
        return str(value)


def no_form(name: str) -> str:
    """`persist` -> `nopersist`, `allow.mount.devfs` -> `allow.mount.nodevfs`."""
    head, dot, last = name.rpartition(".")
    return f"{head}{dot}no{last}"


# ------------------------------------------------------------ reading a prison

def _jailsys_of_flags(new_flag: int) -> Callable:
    return lambda pr, me: SYS_NEW if pr.flags & new_flag else SYS_INHERIT


def _ip_mode(user_flag: int) -> Callable:
    # FreeBSD derives the reported value from the flag bits alone, and `new`
    # and `disable` share PR_IPx_USER: a restricted jail always reads back
    # `disable`, even with addresses (the jls -s quirk, spec 3.4).
    return lambda pr, me: SYS_DISABLE if pr.flags & user_flag else SYS_INHERIT


def _relative_path(pr, me) -> str:
    mine = me.path
    if mine == "/":
        return pr.path
    if pr.path == mine:
        return "/"
    if pr.path.startswith(mine + "/"):
        return pr.path[len(mine):]
    return pr.path


def _sysv_mode(facility: int) -> Callable:
    return lambda pr, me: pr.sysv_mode(facility)


def _extra(key: str, default: Any) -> Callable:
    return lambda pr, me: pr.extra.get(key, default) if pr.extra else default


def _linux_value(key: str) -> Callable:
    # linux=inherit follows the nearest ancestor with its own (linux=new) values.
    def read(pr, me):
        while pr is not None:
            if pr.extra and pr.extra.get("linux") == SYS_NEW:
                return pr.extra.get(key, LINUX_DEFAULTS[key])
            pr = pr.parent
        return LINUX_DEFAULTS[key]
    return read


def _allow(bit: int) -> Callable:
    return lambda pr, me: bool(pr.allow & bit)


_ROWS = [
    Param("jid", "int", lambda pr, me: pr.jid, createonly=True),
    Param("parent", "int", lambda pr, me: 0 if pr.parent is me else pr.parent.jid, readonly=True),
    Param("name", "string", lambda pr, me: pr.relname(me), maxlen=MAXHOSTNAMELEN),
    Param("path", "string", _relative_path, maxlen=MAXPATHLEN, createonly=True),
    Param("host", "jailsys", _jailsys_of_flags(PR_HOST)),
    Param("host.hostname", "string", lambda pr, me: pr.hostname, maxlen=MAXHOSTNAMELEN),
    Param("host.domainname", "string", lambda pr, me: pr.domainname, maxlen=MAXHOSTNAMELEN),
    Param("host.hostuuid", "string", lambda pr, me: pr.hostuuid, maxlen=HOSTUUIDLEN),
    Param("host.hostid", "ulong", lambda pr, me: pr.hostid),
    Param("ip4", "jailsys", _ip_mode(PR_IP4_USER), createonly=True),
    Param("ip4.addr", "ip4", lambda pr, me: pr.ip4 or ()),
    Param("ip4.saddrsel", "bool", lambda pr, me: bool(pr.flags & PR_IP4_SADDRSEL)),
    Param("ip6", "jailsys", _ip_mode(PR_IP6_USER), createonly=True),
    Param("ip6.addr", "ip6", lambda pr, me: pr.ip6 or ()),
    Param("ip6.saddrsel", "bool", lambda pr, me: bool(pr.flags & PR_IP6_SADDRSEL)),
    Param("vnet", "jailsys", _jailsys_of_flags(PR_VNET), createonly=True),
    Param("securelevel", "int", lambda pr, me: pr.securelevel),
    Param("devfs_ruleset", "int", lambda pr, me: pr.devfs_ruleset),
    Param("children.max", "int", lambda pr, me: pr.childmax),
    Param("children.cur", "int", lambda pr, me: pr.childcount, readonly=True),
    Param("enforce_statfs", "int", lambda pr, me: pr.enforce_statfs),
    Param("persist", "bool", lambda pr, me: bool(pr.flags & PR_PERSIST)),
    Param("dying", "bool", lambda pr, me: pr.state != "alive", readonly=True),
    Param("cpuset.id", "int", lambda pr, me: pr.cpuset_id, readonly=True),
    Param("osrelease", "string", lambda pr, me: pr.osrelease, maxlen=OSRELEASELEN, createonly=True),
    Param("osreldate", "int", lambda pr, me: pr.osreldate, createonly=True),
    Param("meta", "keyvalue", _extra("meta", ""), maxlen=META_MAXBUFSIZE),
    Param("env", "keyvalue", _extra("env", ""), maxlen=META_MAXBUFSIZE),
    Param("sysvmsg", "jailsys", _sysv_mode(0)),
    Param("sysvsem", "jailsys", _sysv_mode(1)),
    Param("sysvshm", "jailsys", _sysv_mode(2)),
    Param("linux", "jailsys", _extra("linux", SYS_INHERIT)),
    Param("linux.osname", "string", _linux_value("linux.osname"), maxlen=20),
    Param("linux.osrelease", "string", _linux_value("linux.osrelease"), maxlen=20),
    Param("linux.oss_version", "int", _linux_value("linux.oss_version")),
    Param("zfs", "jailsys", _extra("zfs", SYS_INHERIT)),
    Param("zfs.mount_snapshot", "int", _extra("zfs.mount_snapshot", 0)),
] + [Param("allow." + flag, "bool", _allow(bit)) for flag, bit in ALLOW_BITS.items()]


def _jls_order(name: str) -> tuple:
    # security.jail.param leaves as jls -n "all" lists them: undotted names
    # first, then dotted ones, each group in byte order.
    return ("." in name, name)


PARAMS: dict[str, Param] = {p.name: p for p in sorted(_ROWS, key=lambda p: _jls_order(p.name))}
PARAM_NAMES: tuple[str, ...] = tuple(PARAMS)
# Parameters that are jail(8)/libjail spellings the kernel accepts and ignores.
IGNORED_PARAMS = frozenset({"allow.dying", "allow.nodying", "errmsg"})


def resolve_name(name: str) -> tuple[Param | None, bool]:
    """A parameter name as given -> (row, negated). `nopersist` -> (persist, True)."""
    row = PARAMS.get(name)
    if row is not None:
        return row, False
    head, dot, last = name.rpartition(".")
    if last.startswith("no"):
        row = PARAMS.get(f"{head}{dot}{last[2:]}")
        if row is not None and row.negatable:
            return row, True
    return None, False
