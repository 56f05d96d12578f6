"""jailfs export: a jail.conf(5) that recreates the live jails.

Values are read from the mount (``.ctl get``).  A parameter is written when
it is not read-only and differs from what a fresh jail would have in its
place: the defaults come from a scratch kernel (the daemon's own code, in
this process, touching nothing of the daemon's) in which each exported jail
is created under its already replicated parent, so inherited values
(host.hostname, path, ...) are left out exactly when they would be inherited
again.  Jails are written in creation order (the order of their cpuset ids)
and each ``depend``s on the one created before it (unless that is its
parent), so that ``jailfs mount --conf`` or ``jail -c`` creates them in the
same order and hands out the same cpuset ids.  Every block carries ``jid``
(a numeric block name is the jid) and ``persist``; dying jails and the
simulated processes cannot be written in jail.conf and are left out.
"""

from __future__ import annotations

import re
import sys

from jailfs.ctlproto import parse_kv, request
from jailfs.ops import Failed
from jailfs.ops.mountview import add_mount_option, jails, mount_of, params

ALWAYS = ("jid", "persist")


def conf_value(value: str) -> str:
    """A jail.conf string: bare when plain, else single quotes (no expansion)
    unless the value holds one."""
    if re.fullmatch(r"[\w.,:/@+-]+", value):
        return value
    if "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def conf_line(name: str, value: str, kind: str) -> str:
    if kind == "bool":
        if value == "true":
            return f"{name};"
        head, _, last = name.rpartition(".")
        return f"{head}.no{last};" if head else f"no{name};"
    return f"{name} = {conf_value(value)};"


def _scratch():
    from jailfs import ctl
    from jailfs.kernel import Caller, Kernel
    k = Kernel()
    root = Caller(k.prison0, 0)

    def request(text: str) -> list[str]:
        code, answer = ctl.execute(k, root, text)
        if code:
            raise Failed(f"cannot model the defaults ({text}): {answer.strip()}")
        return answer.splitlines()[1:]
    return request


def export(mount: str) -> str:
    from jailfs.kernel import PARAMS
    kinds = {p.name: p.kind for p in PARAMS.values()}
    writable = {p.name for p in PARAMS.values() if not p.readonly}
    scratch = _scratch()
    out = [f"// jailfs export of {mount}: the live jails and their non-default parameters"]
    live_jails = [(j, params(mount, j.name)) for j in jails(mount, with_refs=False) if not j.dying]
    # in creation order (cpuset ids are handed out in it), so that a mount with
    # --conf creates them in the same order and hands out the same cpuset ids
    live_jails.sort(key=lambda jp: int(jp[1].get("cpuset.id", 0)))
    previous = None
    for jail, live in live_jails:
        scratch(request("create", f"name={jail.name}", f"jid={jail.jid}", "persist"))
        defaults = parse_kv(scratch(request("get", jail.name)))
        changed = {n: v for n, v in live.items()
                   if n in writable and n not in ALWAYS and n != "name" and defaults.get(n) != v}
        if changed:
            scratch(request("set", jail.name, *(f"{n}={v}" for n, v in changed.items())))
        out.append(f"{conf_value(jail.name)} {{")
        if not jail.name.isdigit():           # a numeric block name is the jid already
            out.append(f"    jid = {jail.jid};")
        out.append("    persist;")
        if previous is not None and previous != jail.parent_name:
            out.append(f"    depend = {conf_value(previous)};")     # the creation order
        previous = jail.name
        out += [f"    {conf_line(n, v, kinds.get(n, 'string'))}" for n, v in changed.items()]
        out.append("}")
    return "\n".join(out) + "\n"


def run(args) -> int:
    text = export(mount_of(args))
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write a jail.conf(5) that recreates the live jails",
                       description=__doc__.split("\n\n")[1])
    add_mount_option(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    p.set_defaults(func=run)
