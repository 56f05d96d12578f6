"""jail.conf(5) data model, parameter merging and variable expansion.

The behaviour follows FreeBSD's usr.sbin/jail/config.c:

- every jail starts with its ``name`` (or ``jid`` for an all-digit block
  name), which cannot be redefined afterwards; a jid block whose
  parameters do not name it is named after its jid, last;
- the parameters of wildcard blocks (``*``, ``foo.*`` and the global
  pseudo-jail of top-level statements) are merged per jail in file order:
  those above the jail's own block give defaults, those below override;
- a parameter and its ``no`` form are the same parameter (the last form
  named wins, e.g. ``persist; nopersist;`` leaves ``nopersist``);
- ``=`` replaces, ``+=`` appends, a bare name clears the values;
- ``$var`` / ``${var}`` references are resolved per jail after merging,
  against variables *and* parameters; variables are then dropped.

Semantic errors (``variable "x" not found`` ...) do not stop the load: they
are returned as warnings and mark just that jail as failed, as jail(8) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from jailfs.bsdparse import strtol, true_text

from .progress import ProgressFn

# parameter flags (as in jailp.h)
PF_VAR = 0x0001
PF_APPEND = 0x0002
PF_BAD = 0x0004
PF_INTERNAL = 0x0008
PF_BOOL = 0x0010
PF_INT = 0x0020
PF_CONV = 0x0040
PF_REV = 0x0080
PF_IMMUTABLE = 0x0100
PF_NAMEVAL = 0x0200


class ConfError(Exception):
    """A fatal configuration error; ``messages`` are lines to print after
    ``jail: `` (``FILE line N: ...``, ``FILE: unexpected EOF`` ...)."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


# jail(8)'s own parameters, never passed to the kernel, with their flags.
INTERNAL_PARAMS: dict[str, int] = {
    "allow.dying": PF_BOOL,
    "command": 0,
    "depend": 0,
    "exec.clean": PF_BOOL,
    "exec.consolelog": 0,
    "exec.created": 0,
    "exec.fib": PF_INT,
    "exec.jail_user": 0,
    "exec.poststart": 0,
    "exec.poststop": 0,
    "exec.prepare": 0,
    "exec.prestart": 0,
    "exec.prestop": 0,
    "exec.release": 0,
    "exec.start": 0,
    "exec.stop": 0,
    "exec.system_jail_user": PF_BOOL,
    "exec.system_user": 0,
    "exec.timeout": PF_INT,
    "interface": 0,
    "ip_hostname": PF_BOOL,
    "mount": PF_REV,
    "mount.devfs": PF_BOOL,
    "mount.fdescfs": PF_BOOL,
    "mount.fstab": 0,
    "mount.procfs": PF_BOOL,
    "stop.timeout": PF_INT,
    "vnet.interface": 0,
    "zfs.dataset": 0,
}
# Kernel parameters jail(8) itself looks at.
KNOWN_KERNEL_PARAMS: dict[str, int] = {
    "allow.chflags": 0,
    "allow.mount": 0,
    "allow.raw_sockets": 0,
    "allow.set_hostname": 0,
    "allow.socket_af": 0,
    "allow.sysvipc": 0,
    "devfs_ruleset": 0,
    "host.hostname": 0,
    "ip4.addr": 0,
    "ip6.addr": 0,
    "jid": PF_IMMUTABLE,
    "name": PF_IMMUTABLE,
    "path": 0,
    "persist": 0,
    "securelevel": 0,
    "vnet": 0,
}
TRACKED = {**INTERNAL_PARAMS, **KNOWN_KERNEL_PARAMS}
for _n in INTERNAL_PARAMS:
    TRACKED[_n] |= PF_INTERNAL

# Kernel parameters that take a list of values.
ARRAY_PARAMS = {"ip4.addr", "ip6.addr"}

# How many jails (or bytes, while parsing) between two progress calls.
PROGRESS_EVERY = 500


def equalopts(opt1: str, opt2: str) -> bool:
    """Whether two parameter names are the same, ignoring a ``no`` prefix on
    the last component (``persist``/``nopersist``, ``allow.mount``/``allow.nomount``)."""
    if opt1 == opt2:
        return True
    if opt1.startswith("no") and opt1[2:] == opt2:
        return True
    if opt2.startswith("no") and opt1 == opt2[2:]:
        return True
    while True:
        dot = opt1.find(".")
        if dot < 0:
            return False
        prefix = opt1[:dot + 1]
        if not opt2.startswith(prefix):
            return False
        opt1 = opt1[dot + 1:]
        opt2 = opt2[dot + 1:]
        if opt1.startswith("no") and opt1[2:] == opt2:
            return True
        if opt2.startswith("no") and opt1 == opt2[2:]:
            return True


def wild_jail_match(jname: str, wname: str) -> bool:
    """A non-final ``*`` component matches one jail name component, a final
    ``*`` matches one or more."""
    jparts = jname.split(".")
    wparts = wname.split(".")
    # walk while both have a further dot
    i = 0
    while i < len(jparts) - 1 and i < len(wparts) - 1:
        if jparts[i] != wparts[i] and wparts[i] != "*":
            return False
        i += 1
    jrest = ".".join(jparts[i:])
    wrest = ".".join(wparts[i:])
    return jrest == wrest or wrest == "*"


def wild_jail_name(name: str) -> bool:
    """Whether a jail name has a ``*`` component."""
    return "*" in name.split(".")


@dataclass
class CfString:
    text: str
    vars: list[tuple[str, int]] = field(default_factory=list)

    def copy(self) -> "CfString":
        return CfString(self.text, list(self.vars))


@dataclass
class CfParam:
    name: str
    values: list[CfString] = field(default_factory=list)
    flags: int = 0
    gen: int = 0

    def copy(self) -> "CfParam":
        return CfParam(self.name, [s.copy() for s in self.values], self.flags)

    @property
    def strings(self) -> list[str]:
        return [s.text for s in self.values]


@lru_cache(maxsize=4096)        # the same few names recur in every jail
def equal_names(name: str) -> tuple[str, ...]:
    """Every name :func:`equalopts` calls equal to ``name``: itself, and
    itself with ``no`` added to (or removed from) the start of one of its
    dot-separated components.  Lets a jail find a parameter in its index
    instead of comparing against every parameter it has."""
    out = [name]
    start = 0
    while True:
        head, rest = name[:start], name[start:]
        out.append(head + "no" + rest)
        if rest.startswith("no"):
            out.append(head + rest[2:])
        dot = name.find(".", start)
        if dot < 0:
            return tuple(out)
        start = dot + 1


# The tracked name (and its position in TRACKED, config.c's intparams order)
# each name equal to a tracked name maps to.
_TRACKED_ORDER = {n: i for i, n in enumerate(TRACKED)}


@lru_cache(maxsize=4096)
def tracked_name(name: str) -> str | None:
    """The first parameter of TRACKED that :func:`equalopts` calls equal to
    ``name`` (config.c add_param's scan of intparams), or None."""
    hits = [c for c in equal_names(name) if c in _TRACKED_ORDER]
    return min(hits, key=_TRACKED_ORDER.__getitem__) if hits else None


class CfJail:
    """One jail (or wildcard block) of a configuration."""

    def __init__(self, name: str | None):
        self.name = name
        self.params: list[CfParam] = []
        self.intparams: dict[str, CfParam] = {}   # canonical name -> param
        self.failed = False
        self.seq = 0
        self.parent: CfJail | None = None          # enclosing block (parse)
        self.warnings: list[str] = []
        # exact name -> param, and each param's insertion number (the first
        # equal parameter in list order wins, as config.c's scan finds it)
        self._by_name: dict[str, CfParam] = {}
        self._added: dict[int, int] = {}
        self._adds = 0

    def __repr__(self):
        return f"CfJail({self.name!r}, {[(p.name, p.strings) for p in self.params]})"

    # -- messages --------------------------------------------------------
    def warn(self, msg: str, sink: list[str] | None) -> None:
        text = f"{self.name}: {msg}" if self.name is not None else msg
        self.warnings.append(text)
        if sink is not None:
            sink.append(text)

    # -- the parameter list and its name index ---------------------------
    def _append(self, p: CfParam) -> None:
        self.params.append(p)
        self._by_name[p.name] = p
        self._adds += 1
        self._added[id(p)] = self._adds

    def _rename(self, p: CfParam, name: str) -> None:
        if self._by_name.get(p.name) is p:
            del self._by_name[p.name]
        p.name = name
        self._by_name[name] = p

    def _first_equal(self, name: str) -> CfParam | None:
        hits = [q for q in map(self._by_name.get, equal_names(name))
                if q is not None]
        return min(hits, key=lambda q: self._added[id(q)]) if hits else None

    def keep_params(self, keep) -> None:
        """Keep only the parameters for which ``keep(p)`` is true."""
        self.params = [p for p in self.params if keep(p)]
        self._by_name = {p.name: p for p in self.params}
        self._added = {id(p): self._added[id(p)] for p in self.params}
        self.intparams = {k: v for k, v in self.intparams.items()
                          if self._by_name.get(v.name) is v}

    def reset_params(self) -> list[CfParam]:
        """Empty the jail's parameters; return the ones it had."""
        own = self.params
        self.params = []
        self.intparams = {}
        self._by_name = {}
        self._added = {}
        return own

    # -- adding parameters (config.c add_param) --------------------------
    def add_param(self, p: CfParam | None = None, *, ipname: str | None = None,
                  value: str | None = None, sink: list[str] | None = None,
                  from_arg: str | None = None) -> None:
        """Add a copy of ``p``; or a tracked parameter ``ipname`` with an
        optional value; or a ``name[=value]`` argument string (command line)."""
        if p is not None:
            name = p.name
            flags = p.flags & ~PF_NAMEVAL
            nss = [s.copy() for s in p.values]
        else:
            flags = PF_APPEND
            if ipname is not None:
                name = ipname
                flags |= TRACKED.get(ipname, 0)
            else:
                assert from_arg is not None
                if "=" in from_arg:
                    name, value = from_arg.split("=", 1)
                else:
                    name, value = from_arg, None
            nss = [CfString(value)] if value is not None else []

        if ipname is not None:
            dp = self.intparams.get(ipname)
        else:
            dp = self._first_equal(name)
        if dp is not None:
            if (flags ^ dp.flags) & PF_VAR:
                self.warn(f'variable "${name}" cannot have the same name '
                          f'as a parameter.', sink)
                self.failed = True
                return
            if dp.flags & PF_IMMUTABLE:
                self.warn(f'cannot redefine parameter "{dp.name}".', sink)
                self.failed = True
                return
            if dp.name != name:
                self._rename(dp, name)
            if not (flags & PF_APPEND) or not nss:
                dp.values = []
            dp.values.extend(nss)
            dp.flags |= flags
            return
        np = CfParam(name, nss, flags)
        if ipname is not None:
            self._append(np)
            self.intparams[ipname] = np
            return
        iname = tracked_name(name)
        if iname is not None and flags & PF_VAR:
            self.warn(f'variable "${name}" cannot have the same name '
                      f'as a parameter.', sink)
            self.failed = True
            return
        self._append(np)
        if iname is not None:
            self.intparams[iname] = np
            np.flags |= TRACKED[iname]

    # -- reading (config.c bool_param/int_param/string_param) -----------
    def param(self, name: str) -> CfParam | None:
        p = self.intparams.get(name)
        if p is not None and self._by_name.get(p.name) is p:
            return p
        return self._first_equal(name)

    def bool(self, name: str) -> bool:
        return bool_param(self.param(name))

    def string(self, name: str) -> str | None:
        p = self.param(name)
        if p is None or not p.values:
            return None
        return p.values[-1].text

    def int(self, name: str) -> int | None:
        s = self.string(name)
        if s is None:
            return None
        return strtol(s)[0]

    def strings(self, name: str) -> list[str]:
        p = self.param(name)
        return [] if p is None else p.strings

    # -- the two views ------------------------------------------------------
    @property
    def kernel(self) -> dict[str, list[str]]:
        """Kernel parameters in order: name -> values ([] for a bare name)."""
        return {p.name: p.strings for p in self.params
                if not (p.flags & PF_INTERNAL)}

    @property
    def pseudo(self) -> dict[str, list[str]]:
        """jail(8)'s own parameters (exec.*, command, depend, mount.* ...)."""
        return {p.name: p.strings for p in self.params
                if p.flags & PF_INTERNAL}

    def kernel_params(self) -> list[tuple[str, str | None]]:
        """The (name, value) list jail(8) gives jail_set: ``None`` for a bare
        boolean; list parameters comma-joined; scalars keep the last value."""
        out: list[tuple[str, str | None]] = []
        for p in self.params:
            if p.flags & PF_INTERNAL:
                continue
            vals = p.strings
            if not vals:
                out.append((p.name, None))
            elif len(vals) > 1 and p.name in ARRAY_PARAMS:
                out.append((p.name, ",".join(vals)))
            else:
                out.append((p.name, vals[-1]))
        return out


def bool_param(p: CfParam | None) -> bool:
    if p is None:
        return False
    last = p.name.rsplit(".", 1)[-1]
    negated = last.startswith("no")
    if not p.values:
        val = True
    else:
        val = true_text(p.values[-1].text)
    return negated ^ val


def check_bool_int(j: CfJail, sink: list[str] | None = None) -> bool:
    """check_intparams' format checks of boolean and integer pseudo-params."""
    ok = True
    for p in j.params:
        if not p.values or not (p.flags & (PF_BOOL | PF_INT)):
            continue
        val = p.values[-1].text
        num, rest = strtol(val)
        if p.flags & PF_BOOL:
            if val.lower() not in ("true", "false") and rest != "":
                j.warn(f'{p.name}: unknown boolean value "{val}"', sink)
                ok = False
        elif rest == val or rest != "":
            j.warn(f'{p.name}: non-integer value "{val}"', sink)
            ok = False
    return ok


# ---------------------------------------------------------------------------
# load_config: split out wildcards, merge per jail, resolve variables.

class WildcardIndex:
    """The wildcard blocks of a file, found by a jail's name without trying
    each one (wild_jail_match over every block is quadratic when a file has
    many ``group.*`` blocks)."""

    def __init__(self, wild: list[CfJail]):
        self.root: dict = {}
        for wj in wild:
            node = self.root
            for part in wj.name.split("."):
                node = node.setdefault(part, {})
            node.setdefault(None, []).append(wj)

    def matching(self, name: str) -> list[CfJail]:
        """The blocks whose name matches ``name`` (as wild_jail_match
        decides), in file order."""
        parts = name.split(".")
        found: list[CfJail] = []
        todo = [(self.root, 0)]
        while todo:
            node, i = todo.pop()
            if i == len(parts):
                found.extend(node.get(None, ()))
                continue
            star = node.get("*")
            if star is not None:
                if i + 1 < len(parts):          # a final "*" takes the rest
                    found.extend(star.get(None, ()))
                todo.append((star, i + 1))
            child = node.get(parts[i])
            if child is not None and parts[i] != "*":
                todo.append((child, i + 1))
        found.sort(key=lambda wj: wj.seq)
        return found


def merge_and_resolve(raw: list[CfJail], sink: list[str],
                      progress: ProgressFn | None = None) -> list[CfJail]:
    """Turn the parsed block list into the final jail list (config.c
    load_config).  Warnings go to ``sink`` in FreeBSD's order.
    ``progress("merging", done, total)`` is called now and then."""
    for seq, j in enumerate(raw, 1):
        j.seq = seq
    wild = WildcardIndex([j for j in raw if wild_jail_name(j.name)])
    jails = [j for j in raw if not wild_jail_name(j.name)]

    for done, j in enumerate(jails):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress("merging", done, len(jails))
        own = j.reset_params()
        num, rest = strtol(j.name)
        numeric = num != 0 and rest == ""
        j.add_param(ipname="jid" if numeric else "name", value=j.name,
                    sink=sink)
        did_self = False
        for wj in wild.matching(j.name):
            if j.seq < wj.seq and not did_self:
                for p in own:
                    j.add_param(p, sink=sink)
                did_self = True
            for p in wj.params:
                j.add_param(p, sink=sink)
        if not did_self:
            for p in own:
                j.add_param(p, sink=sink)
        if numeric and "name" not in j.intparams:
            # A jid block is also named after its jid unless the file names
            # it, so that ${name} expands (FreeBSD 15's load_config).
            j.add_param(ipname="name", value=j.name, sink=sink)
        resolve_vars(j, sink)
        j.keep_params(lambda p: not (p.flags & PF_VAR))
    if progress is not None:
        progress("merging", len(jails), len(jails))
    return jails


def resolve_vars(j: CfJail, sink: list[str]) -> None:
    params = j.params
    by_name = {q.name: q for q in params}
    pgen = 0
    i = 0
    while i < len(params):
        p = params[i]
        pgen += 1
        p.gen = pgen
        while True:                     # find_vars: (re)scan p's strings
            restart = False
            si = 0
            while si < len(p.values):
                s = p.values[si]
                while s.vars:
                    vname, vpos = s.vars[0]
                    vp = by_name.get(vname)
                    bad = False
                    if vp is None or not vp.values:
                        j.warn(f'{p.name}: variable "{vname}" not found', sink)
                        bad = True
                    elif vp.flags & PF_BAD:
                        bad = True
                    elif vp.gen == pgen:
                        j.warn(f"{vname}: variable loop", sink)
                        bad = True
                    elif any(vs.vars for vs in vp.values):
                        # resolve the referenced parameter first
                        vp.gen = pgen
                        params.remove(vp)
                        i = params.index(p)
                        params.insert(i, vp)
                        p = vp
                        restart = True
                        break
                    elif len(vp.values) > 1 and (s.text != "" or
                                                 len(s.vars) > 1):
                        j.warn(f"{p.name}: array cannot be substituted inline",
                               sink)
                        bad = True
                    if bad:
                        j.failed = True
                        for q in params:
                            if q.gen == pgen:
                                q.flags |= PF_BAD
                        s.vars.pop(0)
                        continue
                    # substitute
                    first = vp.values[0].text
                    s.text = s.text[:vpos] + first + s.text[vpos:]
                    s.vars = [(n, pos + len(first)) for n, pos in s.vars[1:]]
                    extra = [CfString(vs.text) for vs in vp.values[1:]]
                    if extra:
                        p.values[si + 1:si + 1] = extra
                        si += len(extra)
                        s = p.values[si]
                if restart:
                    break
                si += 1
            if not restart:
                break
        i += 1
