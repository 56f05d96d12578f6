"""`jailfs env`: the shell lines that give a shell FreeBSD's view.

    jailfs env [-m MOUNT] [-u]

The toolbox's commands carry FreeBSD's names (sysctl, ifconfig, ps, ...), so
they never go where a shell looks by default: not into the virtualenv's
``bin`` (which people put on PATH for ``jailfs`` itself) but into
``<prefix>/libexec/jailfs-bsd``, one small launcher per tool, run by the
interpreter jailfs is installed in.  ``jailfs env`` makes (or refreshes)
that directory and prints ``PATH`` with it first and ``JAILFS_MOUNT``;
``eval "$(jailfs env)"`` opts a shell in, ``eval "$(jailfs env -u)"`` out.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from jailfs.ctlproto import MountError, find_mount
from jailfs.toolbox import TOOLS

# -S: no site, whose import hooks (an editable install's finder) cost a tool
# a third of its start-up; the toolbox needs nothing but the standard library
# and jailfs, whose directory the launcher names.
LAUNCHER = """#!{python} -IS
# FreeBSD's {tool} for jailfs, made by `jailfs env`: on PATH only for a shell that opted in.
import sys
sys.path.insert(0, {root!r})
from jailfs.toolbox import launch
sys.exit(launch({tool!r}))
"""


ROOT = str(Path(__file__).resolve().parents[2])    # the directory holding the jailfs package


def bin_dir() -> Path:
    """Where the launchers live: beside the interpreter's installation, off PATH."""
    return Path(sys.prefix) / "libexec" / "jailfs-bsd"


def ensure_bin_dir() -> Path:
    """Write every launcher that is missing or stale (atomically); return the directory."""
    where = bin_dir()
    where.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        text = LAUNCHER.format(python=sys.executable, root=ROOT, tool=tool)
        path = where / tool
        try:
            if path.read_text() == text and os.access(path, os.X_OK):
                continue
        except OSError:
            pass
        tmp = where / f".{tool}.tmp{os.getpid()}"
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, path)
    return where


def path_with(directory: str, path: str, first: bool) -> str:
    """PATH without directory, then with it first when first is set."""
    parts = [p for p in path.split(":") if p and p != directory]
    return ":".join(([directory] if first else []) + parts)


def lines(directory: str, path: str, mount: str | None, undo: bool) -> list[str]:
    out = [f"PATH={shlex.quote(path_with(directory, path, not undo))}; export PATH"]
    if undo:
        out.append("unset JAILFS_MOUNT")
    elif mount:
        out.append(f"JAILFS_MOUNT={shlex.quote(os.path.abspath(mount))}; export JAILFS_MOUNT")
    return out


def add_parser(subparsers) -> None:
    """`jailfs env`, as a subcommand of jailfs(8)."""
    p = subparsers.add_parser("env", help="print the shell lines that give FreeBSD's toolbox (eval them)")
    p.add_argument("-m", "--mount", help="the jailfs mount (default: $JAILFS_MOUNT or the only one)")
    p.add_argument("-u", "--unset", action="store_true", help="print the lines that opt out again")
    p.set_defaults(func=run)


def run(args) -> int:
    mount = args.mount
    status = 0
    if not args.unset:
        try:
            directory = str(ensure_bin_dir())
        except OSError as e:
            print(f"jailfs: cannot make {bin_dir()}: {e.strerror}", file=sys.stderr)
            return 1
        try:
            mount = find_mount({"JAILFS_MOUNT": mount} if mount else None)
        except MountError as e:
            print(f"jailfs: {e}", file=sys.stderr)
            mount, status = None, 1
    else:
        directory = str(bin_dir())
    for line in lines(directory, os.environ.get("PATH", ""), mount, args.unset):
        print(line)
    return status
