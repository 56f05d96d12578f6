"""jailfs: mount, unmount and drive the jail filesystem.

    jailfs mount [MOUNTPOINT] [--background] [--conf FILE] [--debug]
    jailfs umount [MOUNTPOINT] [--lazy]
    jailfs sim [-m MOUNT] WORD...      one .ctl request, e.g. `jailfs sim spawn web`
    jailfs env [-m MOUNT] [-u]         shell lines giving FreeBSD's toolbox (sysctl, ifconfig...)

The default mount point is the repository's ``mountpoint/`` directory.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from jailfs.toolbox import env as toolbox_env

DEFAULT_MOUNTPOINT = Path(__file__).resolve().parents[2] / "mountpoint"


def _mount(args) -> int:
    from jailfs.fs import daemon
    if args.background:
        return daemon.serve_background(args.mountpoint, args.conf, args.debug)
    daemon.setup_logging(args.debug)
    try:
        return daemon.serve(args.mountpoint, args.conf)
    except daemon.MountFailed as e:
        print(f"jailfs: {e}", file=sys.stderr)
        return 1


def _umount(args) -> int:
    from jailfs.fs import daemon
    return daemon.unmount(args.mountpoint, lazy=args.lazy)


def _sim(args) -> int:
    from jailfs.cli.mountfind import MountError, ctl_answer, find_mount
    if not args.words:
        print("usage: jailfs sim WORD...", file=sys.stderr)
        return 2
    try:
        mount = args.mount or find_mount()
        answer = ctl_answer(mount, shlex.join(args.words))
    except MountError as e:
        print(f"jailfs: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"jailfs: {e.filename or 'mount'}: {e.strerror}", file=sys.stderr)
        return 1
    if not answer.ok:
        print(f"jailfs: {answer.value}", file=sys.stderr)
        for line in answer.extra:
            print(line, file=sys.stderr)
        return 1
    if answer.value:
        print(answer.value)
    for line in answer.extra:
        print(line)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jailfs", description="The FreeBSD jail subsystem as a filesystem.")
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("mount", help="mount (foreground unless --background)")
    m.add_argument("mountpoint", nargs="?", default=str(DEFAULT_MOUNTPOINT))
    m.add_argument("--background", "-b", action="store_true",
                   help="run as a daemon; return once the mount is ready")
    m.add_argument("--conf", metavar="FILE", help="create the jails of a jail.conf(5) file at start")
    m.add_argument("--debug", "-d", action="store_true", help="log every detail")
    m.set_defaults(func=_mount)
    u = sub.add_parser("umount", aliases=["unmount"], help="unmount and stop the daemon")
    u.add_argument("mountpoint", nargs="?", default=str(DEFAULT_MOUNTPOINT))
    u.add_argument("--lazy", "-z", action="store_true", help="lazy unmount (fusermount3 -z)")
    u.set_defaults(func=_umount)
    s = sub.add_parser("sim", help="send one .ctl request (words are shell-quoted and joined)")
    s.add_argument("-m", "--mount", help="the jailfs mount (default: $JAILFS_MOUNT or the only one)")
    s.add_argument("words", nargs=argparse.REMAINDER)
    s.set_defaults(func=_sim)
    e = sub.add_parser("env", help="print the shell lines that give FreeBSD's toolbox (eval them)")
    toolbox_env.add_arguments(e)
    e.set_defaults(func=toolbox_env.run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
