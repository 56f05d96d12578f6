"""jailfs graph JAIL: why a jail is alive, as a Graphviz graph.

The jail's .refs, drawn: the jail; what holds it directly (persist, child
jails, running processes: user references); its credentials and each holder
of a credential (processes, open files, sockets, TCP connections with their
state and time left, descriptors passed to other processes and jails,
mounts, SysV objects...).  Written as DOT, or rendered by ``dot`` (graphviz)
to SVG or PNG.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from jailfs.ops import Failed
from jailfs.ops.mountview import Jail, add_mount_option, find_jail, mount_of

SHAPES = {"persist": "note", "child": "box3d", "process": "ellipse", "file": "note",
          "tcp": "cds", "udp": "cds", "unix": "cds", "mount": "folder", "sysv": "component",
          "sigio": "invhouse", "acct": "invhouse"}


def _quote(text: str) -> str:
    """A DOT string; a newline becomes DOT's \\n line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dot(j: Jail) -> str:
    ref, uref = j.totals
    out = [f"digraph {_quote('jail ' + j.name)} {{", "  rankdir=RL;",
           '  node [fontname="Helvetica", fontsize=10];',
           f"  jail [shape=doubleoctagon, style=bold, label="
           f"{_quote(f'jail {j.name}' + chr(10) + f'jid {j.jid}, ' + ('dying' if j.dying else 'alive') + chr(10) + f'pr_ref {ref}, pr_uref {uref}')}];"]
    cred = None
    for n, line in enumerate(j.refs):
        node = f"n{n}"
        text = line.strip()
        kind = text.split(" ", 1)[0]
        if kind == "total" and not line.startswith(" "):
            continue
        if line.startswith(" ") and cred is not None:           # a holder of the credential
            out.append(f"  {node} [shape={SHAPES.get(kind, 'box')}, label={_quote(text)}];")
            out.append(f"  {node} -> {cred};")
        elif kind == "credential":
            cred = node
            head, _, count = text.partition(": ")
            out.append(f"  {node} [shape=hexagon, label={_quote(head + chr(10) + count.rstrip(':'))}];")
            out.append(f'  {node} -> jail [label="pr_ref"];')
        else:                                                   # persist, child jail, process
            cred = None
            shape = SHAPES.get("child" if text.startswith("child jail") else kind, "box")
            what, _, counts = text.partition(": ")
            out.append(f"  {node} [shape={shape}, label={_quote(what + chr(10) + counts)}];")
            out.append(f"  {node} -> jail [label={_quote(counts)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render(text: str, fmt: str) -> bytes:
    if fmt == "dot":
        return text.encode()
    if shutil.which("dot") is None:
        raise Failed(f"cannot render {fmt}: dot (graphviz) is not installed; use -T dot")
    r = subprocess.run(["dot", f"-T{fmt}"], input=text.encode(), capture_output=True, timeout=60)
    if r.returncode != 0:
        raise Failed(f"dot -T{fmt}: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def run(args) -> int:
    mount = mount_of(args)
    j = find_jail(mount, args.jail)
    fmt = args.format or (args.output.rpartition(".")[2] if args.output and
                          args.output.rpartition(".")[2] in ("svg", "png") else "dot")
    data = render(dot(j), fmt)
    if args.output:
        with open(args.output, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("graph", help="the reference graph of a jail (DOT, SVG, PNG)",
                       description=__doc__.split("\n\n")[1])
    add_mount_option(p)
    p.add_argument("-T", "--format", choices=["dot", "svg", "png"],
                   help="output format (default: from -o's suffix, else dot)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    p.add_argument("jail", help="a jid or a name (live or dying)")
    p.set_defaults(func=run)
