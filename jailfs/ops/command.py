"""jailfs: mount, unmount, drive and look at the jail filesystem.

    jailfs mount [MOUNTPOINT] [-b] [--conf FILE] [--state FILE] [-v|-q]
    jailfs umount [MOUNTPOINT] [--lazy]
    jailfs sim [-m MOUNT] WORD...      one .ctl request, e.g. `jailfs sim spawn web`
    jailfs export|tree|graph|status    see `jailfs COMMAND --help`
    jailfs env [-m MOUNT] [-u]         shell lines giving FreeBSD's toolbox (sysctl, ifconfig...)

Inside a checkout the default mount point is its ``mountpoint/`` directory;
installed elsewhere the mount point must be given.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from jailfs.ops import Failed
from jailfs.ops.version import version_line

PROG = "jailfs"
_CHECKOUT = Path(__file__).resolve().parents[2]
EXIT_CODES = """exit status:
  0  success
  1  failure (the message says why: `jailfs: ...` on stderr)
  2  usage error"""

# Subcommands that live in other modules: each module has
# ``add_parser(subparsers)``, which adds its parser and sets ``func`` (called
# with the parsed arguments, returns the exit status).  One line per module.
SUBCOMMAND_MODULES = [
    "jailfs.ops.export",
    "jailfs.ops.tree",
    "jailfs.ops.graph",
    "jailfs.ops.status",
    "jailfs.toolbox.env",
]


def default_mountpoint() -> str | None:
    """``mountpoint/`` of the checkout this runs from, or None when installed."""
    if (_CHECKOUT / ".git").exists() and (_CHECKOUT / "pyproject.toml").exists():
        return str(_CHECKOUT / "mountpoint")
    return None


def _mountpoint(args) -> str:
    if args.mountpoint:
        return args.mountpoint
    default = default_mountpoint()
    if default is None:
        raise Failed("a mount point is required (there is no default outside a checkout)")
    return default


def _mount(args) -> int:
    from jailfs.fs import daemon
    verbosity = -1 if args.quiet else max(args.verbose, 1 if args.debug else 0)
    opts = daemon.MountOptions(_mountpoint(args), conf=args.conf, state=args.state,
                               verbosity=verbosity)
    if args.background:
        return daemon.serve_background(opts)
    return daemon.serve_foreground(opts)


def _umount(args) -> int:
    from jailfs.fs import daemon
    return daemon.unmount(_mountpoint(args), lazy=args.lazy)


def _sim(args) -> int:
    from jailfs.ctlproto import MountError, ctl_answer, find_mount, request
    if not args.words:
        print("usage: jailfs sim [-m MOUNT] WORD...  (jailfs sim --help lists the verbs)",
              file=sys.stderr)
        return 2
    try:
        mount = args.mount or find_mount()
        answer = ctl_answer(mount, request(*args.words))
    except MountError as e:
        raise Failed(str(e))
    except OSError as e:
        raise Failed(f"{e.filename or 'mount'}: {e.strerror}")
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


def _sim_verbs() -> str:
    from jailfs.ctl import USAGE as _USAGE     # the .ctl language's own table: one source
    lines = ["requests (docs/ctl.md):"]
    lines += [f"  {usage}" for usage in _USAGE.values()]
    return "\n".join(lines) + "\n\n" + EXIT_CODES


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def parser() -> argparse.ArgumentParser:
    default = default_mountpoint()
    mp_help = (f"where to mount (default: {default})" if default
               else "where to mount (required: no default outside a checkout)")
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=_formatter,
        description="The FreeBSD jail subsystem as a filesystem.",
        epilog=EXIT_CODES + "\n\nSee jailfs(8), jail(8), jls(8), jexec(8).")
    p.add_argument("--version", action="version", version=version_line(PROG))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    m = sub.add_parser("mount", help="mount (foreground unless --background)",
                       formatter_class=_formatter, epilog=EXIT_CODES,
                       description="Mount jailfs on MOUNTPOINT and serve it: in the foreground\n"
                       "(logging to stderr; Ctrl-C, SIGTERM, SIGHUP unmount) unless --background.")
    m.add_argument("mountpoint", nargs="?", help=mp_help)
    m.add_argument("--background", "-b", action="store_true",
                   help="run as a daemon; return once the mount is ready (default: foreground)")
    m.add_argument("--conf", metavar="FILE",
                   help="create the jails of a jail.conf(5) file at start (default: none)")
    m.add_argument("--state", metavar="FILE",
                   help="restore the jails from FILE if it exists and save them there on "
                   "every change and at exit (default: nothing saved)")
    m.add_argument("--verbose", "-v", action="count", default=0,
                   help="-v: one log line per request; -vv: pyfuse3's too (default: the "
                   "mount's life and warnings)")
    m.add_argument("--debug", "-d", action="store_true", help="the same as -v")
    m.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    m.set_defaults(func=_mount)
    u = sub.add_parser("umount", aliases=["unmount"], help="unmount and stop the daemon",
                       formatter_class=_formatter, epilog=EXIT_CODES)
    u.add_argument("mountpoint", nargs="?", help=mp_help.replace("mount (", "unmount ("))
    u.add_argument("--lazy", "-z", action="store_true",
                   help="lazy unmount (fusermount3 -z), also of a busy mount whose daemon "
                   "does not answer (default: not lazy)")
    u.set_defaults(func=_umount)
    s = sub.add_parser("sim", help="send one .ctl request (words are shell-quoted and joined)",
                       formatter_class=_formatter, epilog=_sim_verbs())
    s.add_argument("-m", "--mount", help="the jailfs mount (default: $JAILFS_MOUNT or the only one)")
    s.add_argument("words", nargs=argparse.REMAINDER, help="the request, e.g. spawn web")
    s.set_defaults(func=_sim)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except Failed as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        sys.stderr.close()           # nothing more can be said; no traceback
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
