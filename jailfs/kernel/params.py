"""The one declarative table of jail parameters.

Each row says what FreeBSD's `security.jail.param.<name>` sysctl says (type,
string size, read-only, create-only) plus how the value is read off a prison.
kern_jail.c's own rows are declared here; each kernel module registers its rows
(register_params) when its file is imported. The kernel imports values with
the row (as libjail does) and enforces its size limit and create-only flag
generically; the filesystem derives file modes from it (`writable`); jls
prints from it. Semantics that FreeBSD spells out in jail_set's code (check
order, cascades to descendants) live in jail_set.py, keyed by name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from errno import EINVAL, ENAMETOOLONG, ENOENT
from typing import Any, Callable

from .errors import JailError

JAIL_MAX = 999999
MAXHOSTNAMELEN = 256
MAXPATHLEN = 1024
HOSTUUIDLEN = 64
OSRELEASELEN = 32
JAIL_MAX_AF_IPS = 255
META_MAXBUFSIZE = 4096          # security.jail.meta_maxbufsize's default
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



# ---------------------------------------------------------------- value codecs
# Parsing is libjail's job (jailparam_import): it runs before the kernel sees
# anything, so its errors come first and carry libjail's wording. Values are C
# strings there: whatever follows a NUL byte never reaches the kernel.

_C_SPACE = " \t\n\v\f\r"
_LONG_MIN, _LONG_MAX, _ULONG_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


def c_string(text: str) -> str:
    """The C string libjail passes on: the text up to its first NUL."""
    return text.split("\0", 1)[0]


def strtol(text: str, unsigned: bool = False) -> tuple[int, int]:
    """C's strtol/strtoul in base 10 on a 64-bit system: (value, characters used).
    Leading white space and a sign are accepted; only ASCII digits count; an
    overflow saturates (strtoul negates a leading minus modulo 2**64)."""
    i, n = 0, len(text)
    while i < n and text[i] in _C_SPACE:
        i += 1
    neg = i < n and text[i] == "-"
    if i < n and text[i] in "+-":
        i += 1
    j = i
    while j < n and "0" <= text[j] <= "9":
        j += 1
    if j == i:
        return 0, 0                     # no digits: nothing converted, endptr = text
    mag = int(text[i:j])
    if unsigned:
        value = _ULONG_MAX if mag > _ULONG_MAX else (-mag) % (1 << 64) if neg else mag
    else:
        value = max(-mag, _LONG_MIN) if neg else min(mag, _LONG_MAX)
    return value, j


def c_int(value: int, bits: int, signed: bool) -> int:
    """The value stored into a C integer of that width (two's complement wrap)."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


_INT_TYPES = {"int": (32, True, False), "uint": (32, False, True), "ulong": (64, False, True)}


def _parse_int(name: str, kind: str, text: str) -> int:
    bits, signed, unsigned = _INT_TYPES[kind]
    value, used = strtol(text, unsigned)
    if used != len(text) or not used:       # jail(8) check_intparams: nothing converted
        raise JailError(EINVAL, f'{name}: non-integer value "{text}"')
    return c_int(value, bits, signed)


def _parse_enum(names: tuple[str, ...], text: str) -> int | None:
    """jailparam_import_enum: a name (any case), else a whole strtol number."""
    low = text.lower()
    if low in names:
        return names.index(low)
    value, used = strtol(text)
    return c_int(value, 32, True) if used == len(text) else None


def _parse_bool(name: str, text: str | None) -> bool:
    if text is None:
        return True                      # a bare `persist`
    value = _parse_enum(("false", "true"), text)
    if value is None:
        raise JailError(EINVAL, f'{name}: unknown boolean value "{text}"')
    return value != 0


def _parse_jailsys(name: str, text: str | None) -> int:
    if not text:
        return SYS_NEW                   # jailsys set "in a booleanesque fashion"
    value = _parse_enum(JAILSYS_NAMES, text)
    if value is None:
        raise JailError(EINVAL, f'{name}: unknown jailsys value "{text}"')
    return value


def _parse_iplist(name: str, text: str | None, family: type) -> tuple:
    # An empty value or "-" is the empty list; otherwise every comma-separated
    # element must be an address as inet_pton reads it (no spaces, none empty).
    if not text or text == "-":
        return ()
    label = "IPv4" if family is ipaddress.IPv4Address else "IPv6"
    addrs = []
    for word in text.split(","):
        try:
            if family is ipaddress.IPv6Address and "%" in word:
                raise ValueError(word)   # inet_pton takes no scope id
            addrs.append(family(word))
        except ValueError:
            raise JailError(EINVAL, f"{name}: not an {label} address: {word}")
    return tuple(addrs)


@dataclass(frozen=True)
class Param:
    """One row of the table (what `security.jail.param.<name>` says, plus how to read it)."""
    name: str
    kind: str                   # int uint ulong string bool jailsys ip4 ip6 keyvalue
    read: Callable[[Any, Any], Any]   # read(prison, viewer) -> typed value
    maxlen: int = 0             # strings: the size the sysctl advertises, NUL included
    readonly: bool = False
    createonly: bool = False
    module: str = ""            # the kernel module that registered the row ("" = kern_jail.c)
    limit: int = 0              # strings: the size the kernel refuses at (default maxlen)
    toolong: str = ""           # the errmsg that goes with ENAMETOOLONG, if any

    @property
    def negatable(self) -> bool:
        return self.kind in ("bool", "jailsys")

    @property
    def writable(self) -> bool:
        """Can an existing jail's value be changed? (Read-only and create-only: no.)"""
        return not (self.readonly or self.createonly)

    @property
    def size_limit(self) -> int:
        return self.limit or self.maxlen

    def parse(self, text: str | None, negated: bool = False) -> Any:
        """Text as jail(8) passes it (None for a bare name) -> typed value."""
        if text is not None:
            text = c_string(text)
        if self.kind == "bool":
            value = _parse_bool(self.name, text)
            return not value if negated else value
        if self.kind == "jailsys":
            return SYS_DISABLE if negated else _parse_jailsys(self.name, text)
        if negated:
            raise JailError(ENOENT, f"unknown parameter: {no_form(self.name)}")
        text = "" if text is None else text
        if self.kind in _INT_TYPES:
            return _parse_int(self.name, self.kind, text)
        if self.kind == "ip4":
            return _parse_iplist(self.name, text, ipaddress.IPv4Address)
        if self.kind == "ip6":
            return _parse_iplist(self.name, text, ipaddress.IPv6Address)
        return text             # string, keyvalue

    def check_size(self, value: str) -> None:
        """ENAMETOOLONG when the C string (NUL included) reaches the kernel's limit."""
        limit = self.size_limit
        if limit and c_size(value) + 1 > limit:
            raise JailError(ENAMETOOLONG, self.toolong)

    def render(self, value: Any) -> str:
        """Typed value -> canonical text (the form `jls -j X PARAM` prints)."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "jailsys":
            # jailparam_export: a value outside the names prints as a number
            return JAILSYS_NAMES[value] if 0 <= value < len(JAILSYS_NAMES) else str(value)
        if self.kind in ("ip4", "ip6"):
            return ",".join(str(a) for a in value)
        return str(value)


def c_size(text: str) -> int:
    """Bytes of a value as the kernel counts them (file writes arrive as surrogate-escaped
    bytes); text no byte string can carry is refused."""
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        raise JailError(EINVAL, "")


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


def _allow(bit: int) -> Callable:
    return lambda pr, me: bool(pr.allow & bit)


# kern_jail.c's own parameters; the modules (sysvipc, meta, linux, zfs) add theirs.
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
    # kern_jail_set refuses len >= OSRELEASELEN (the NUL counted): 30 bytes at most.
    Param("osrelease", "string", lambda pr, me: pr.osrelease, maxlen=OSRELEASELEN,
          createonly=True, limit=OSRELEASELEN - 1,
          toolong=f"osrelease string must be 1-{OSRELEASELEN - 1} bytes long"),
    Param("osreldate", "int", lambda pr, me: pr.osreldate, createonly=True),
] + [Param("allow." + flag, "bool", _allow(bit)) for flag, bit in ALLOW_BITS.items()]


def _jls_order(name: str) -> tuple:
    # security.jail.param leaves as jls -n "all" lists them: undotted names
    # first, then dotted ones, each group in byte order.
    return ("." in name, name)


PARAMS: dict[str, Param] = {}
PARAM_NAMES: tuple[str, ...] = ()


def register_params(rows) -> None:
    """SYSCTL_JAIL_PARAM: add rows to the one table (kern_jail.c's at import of this
    file, each module's at import of its file) and keep it in jls order."""
    global PARAM_NAMES
    merged = list(PARAMS.values()) + [r for r in rows if r.name not in PARAMS]
    PARAMS.clear()
    PARAMS.update((p.name, p) for p in sorted(merged, key=lambda p: _jls_order(p.name)))
    PARAM_NAMES = tuple(PARAMS)


register_params(_ROWS)
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
