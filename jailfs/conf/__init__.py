"""jail.conf(5): parser and loader, shared by jail(8) and ``jailfs mount --conf``.

    from jailfs.conf import load_config, ConfError, apply_conf

    conf = load_config("/etc/jail.conf")     # raises ConfError on a fatal error
    for w in conf.warnings: print("jail: " + w)   # per-jail problems
    for j in conf.jails:                      # file order, wildcards merged
        j.name, j.failed
        j.kernel      # {"name": ["web"], "persist": [], "ip4.addr": ["192.0.2.1", ...]}
        j.pseudo      # {"exec.start": ["/bin/sh /etc/rc"], "mount.devfs": []}
        j.kernel_params()   # [("name", "web"), ("persist", None), ("ip4.addr", "a,b")]

``apply_conf(kernel, path)`` creates the file's jails directly through the
kernel API, as a FreeBSD host does at boot (see its docstring).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .config import (ARRAY_PARAMS, INTERNAL_PARAMS, CfJail, CfParam, CfString,
                     ConfError, bool_param, check_bool_int, equalopts,
                     merge_and_resolve, wild_jail_match, wild_jail_name)
from .parser import ParseState, parse_file, parse_text

__all__ = [
    "Config", "ConfError", "CfJail", "CfParam", "CfString", "load_config",
    "parse_string", "apply_conf", "ApplyResult", "equalopts", "bool_param",
    "wild_jail_match", "wild_jail_name", "check_bool_int", "INTERNAL_PARAMS",
    "ARRAY_PARAMS", "order_jails",
]


@dataclass
class Config:
    jails: list[CfJail]
    warnings: list[str]

    def find(self, name: str) -> CfJail | None:
        for j in self.jails:
            if j.name == name:
                return j
        return None


def parse_string(text: str, cfname: str = "jail.conf") -> Config:
    """Parse configuration text (``.include`` is relative to ``cfname``)."""
    st = ParseState()
    parse_text(st, text, cfname)
    warnings: list[str] = []
    jails = merge_and_resolve(st.jails, warnings)
    return Config(jails, warnings)


def load_config(cfname: str) -> Config:
    """Load a configuration file; ``-`` reads standard input (named STDIN
    in messages).  Raises :class:`ConfError` on a fatal error."""
    st = ParseState()
    if cfname == "-":
        parse_text(st, sys.stdin.read(), "STDIN", is_stdin=True)
    else:
        parse_file(st, cfname)
    warnings: list[str] = []
    jails = merge_and_resolve(st.jails, warnings)
    return Config(jails, warnings)


def order_jails(jails: list[CfJail]) -> tuple[list[CfJail], list[str]]:
    """Start order: file order, but a jail's ``depend`` jails and its parent
    (``a`` for ``a.b``) first.  Returns (ordered jails, warnings)."""
    by_name = {j.name: j for j in jails}
    warnings: list[str] = []
    out: list[CfJail] = []
    state: dict[str, int] = {}

    def visit(j: CfJail) -> None:
        s = state.get(j.name, 0)
        if s == 2:
            return
        if s == 1:
            if not j.failed:
                j.warn("dependency loop", warnings)
            j.failed = True
            return
        state[j.name] = 1
        deps = []
        for d in j.strings("depend"):
            dj = by_name.get(d)
            if dj is None:
                j.warn(f'depends on undefined jail "{d}"', warnings)
                j.failed = True
            else:
                deps.append(dj)
        if "." in j.name:
            pj = by_name.get(j.name.rsplit(".", 1)[0])
            if pj is not None:
                deps.append(pj)
        for dj in deps:
            visit(dj)
        state[j.name] = 2
        out.append(j)

    for j in jails:
        visit(j)
    return out, warnings


@dataclass
class ApplyResult:
    created: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # "jail: NAME: message"


def apply_conf(kernel, path: str) -> ApplyResult:
    """Create every jail of a jail.conf file through the kernel API, like a
    FreeBSD host's boot-time ``jail -c``: each jail gets one
    ``jail_set(JAIL_CREATE)`` from prison0 as root with its kernel parameters
    and ``persist`` added (nothing runs in it to keep it alive).

    jail(8)'s own parameters are NOT acted on here: no exec.* command and no
    ``command`` runs, nothing is mounted and no interface address is added
    (use ``jail -c`` through the mount for those).  ``depend`` and the
    parent of a hierarchical name order the creations.  A jail that fails is
    reported in ``errors`` (jail(8)'s wording) and the others still go.
    Raises :class:`ConfError` when the file cannot be parsed.
    """
    from jailfs.kernel import JAIL_CREATE, Caller, JailError  # lazy: kernel may be absent

    conf = load_config(path)
    res = ApplyResult()
    res.errors.extend("jail: " + w for w in conf.warnings)
    jails, warns = order_jails(conf.jails)
    res.errors.extend("jail: " + w for w in warns)
    failed: set[str] = set()
    host = Caller(kernel.prison0, 0)
    for j in jails:
        parent = j.name.rsplit(".", 1)[0] if "." in j.name else None
        deps = set(j.strings("depend")) | ({parent} if parent else set())
        if j.failed or deps & failed:
            if not j.failed:
                res.errors.append(f"jail: {j.name}: skipped")
            failed.add(j.name)
            continue
        sink: list[str] = []
        if not check_bool_int(j, sink):
            res.errors.extend("jail: " + w for w in sink)
            failed.add(j.name)
            continue
        params = strip_ip_decorations(j.kernel_params()) + [("persist", None)]
        try:
            jid = kernel.jail_set(host, params, JAIL_CREATE)
        except JailError as e:
            res.errors.append(f"jail: {j.name}: {e}")
            failed.add(j.name)
            continue
        res.created.append((j.name, jid))
    return res


def strip_ip_decorations(params: list[tuple[str, str | None]]
                         ) -> list[tuple[str, str | None]]:
    """Drop the ``iface|`` prefix, ``/mask`` suffix and trailing ifconfig
    options jail.conf allows on ip4.addr / ip6.addr values."""
    out = []
    for name, value in params:
        if name in ("ip4.addr", "ip6.addr") and value:
            vals = []
            for v in value.split(","):
                if "|" in v:
                    v = v.split("|", 1)[1]
                v = v.split("/", 1)[0].split(" ", 1)[0]
                vals.append(v)
            value = ",".join(vals)
        out.append((name, value))
    return out
