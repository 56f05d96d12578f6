"""jailfs tree: the jail hierarchy at a glance, like systemd-cgls.

    jails below /mnt/j (clock 61 s)
    ├─1 web            alive   1 proc   pr_ref 3  pr_uref 4
    │ └─2 db           alive   1 proc   pr_ref 1  pr_uref 1
    └─999999 web       dying   0 procs  pr_ref 1  pr_uref 0

Each line: jid, the name's last component, state, running processes and the
reference totals of its .refs.  Dying jails hang under their parent too.
"""

from __future__ import annotations

import sys

from jailfs.ops.mountview import Jail, add_mount_option, ctl, jails, mount_of, params


def hierarchy(mount: str) -> tuple[list[Jail], dict[int, list[Jail]]]:
    """(top-level jails, children by parent jid), both in jid order."""
    found = jails(mount)
    by_name: dict[str, list[Jail]] = {}
    for j in found:
        by_name.setdefault(j.name, []).append(j)
    children: dict[int, list[Jail]] = {}
    top = []
    for j in found:
        if not j.parent_name:
            top.append(j)
            continue
        named = by_name.get(j.parent_name, [])
        # the name tells, unless a dying and a live jail share it: then ask
        parent = named[0].jid if len(named) == 1 else int(params(mount, str(j.jid))["parent"])
        children.setdefault(parent, []).append(j)
    return top, children


def describe(j: Jail) -> str:
    ref, uref = j.totals
    procs = j.processes
    return (f"{'dying' if j.dying else 'alive':6} {procs} proc{'' if procs == 1 else 's':1}  "
            f"pr_ref {ref}  pr_uref {uref}")


def render(mount: str) -> str:
    top, children = hierarchy(mount)
    clock, _ = ctl(mount, "clock")
    lines = [f"jails below {mount} (clock {clock} s)"]
    if not top:
        lines.append("(none)")

    def walk(nodes: list[Jail], prefix: str) -> None:
        for i, j in enumerate(nodes):
            last = i == len(nodes) - 1
            label = f"{j.jid} {j.name.rpartition('.')[2]}"
            lines.append(f"{prefix}{'└─' if last else '├─'}{label:<{max(18 - len(prefix), 1)}} "
                         f"{describe(j)}")
            walk(children.get(j.jid, []), prefix + ("  " if last else "│ "))
    walk(top, "")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    sys.stdout.write(render(mount_of(args)))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("tree", help="draw the jail hierarchy, live and dying",
                       description="Draw the jail hierarchy below the mount's root: jid, name, "
                       "state, processes and reference totals.")
    add_mount_option(p)
    p.set_defaults(func=run)
