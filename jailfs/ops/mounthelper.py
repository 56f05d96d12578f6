"""mount.fuse.jailfs: the helper mount(8) runs for ``-t fuse.jailfs`` and for
fstab lines of that type.

    mount.fuse.jailfs SOURCE MOUNTPOINT [-o OPTION[,OPTION...]] [-nsfv]

SOURCE is free (write ``jailfs``).  Options: ``conf=FILE``, ``state=FILE``,
``verbose``, ``quiet``; mount(8)'s generic ones (rw, defaults, auto, noauto,
user, nofail, _netdev, x-*, comment=...) are accepted and ignored.  The
daemon runs in the background, as ``jailfs mount --background``; the helper
returns, silently, once the mount is ready.  Exit status: 0 mounted, 1 bad usage or
options, 32 the mount failed (mount(8)'s codes).
"""

from __future__ import annotations

import sys

PROG = "mount.fuse.jailfs"
IGNORED = {"rw", "defaults", "auto", "noauto", "user", "nouser", "users", "nofail", "_netdev",
           "dev", "nodev", "suid", "nosuid", "exec", "noexec", "async", "atime", "noatime",
           "relatime", "allow_other"}
USAGE = f"usage: {PROG} SOURCE MOUNTPOINT [-o OPTION[,OPTION...]] [-nsfv]"


class Usage(Exception):
    pass


def parse(argv: list[str]):
    """(mount options, fake) from mount(8)'s argument list."""
    from jailfs.fs.daemon import MountOptions
    positional, options, fake = [], [], False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-o":
            if i + 1 == len(argv):
                raise Usage("option requires an argument -- o")
            options += argv[i + 1].split(",")
            i += 2
            continue
        if a.startswith("-o"):
            options += a[2:].split(",")
        elif a == "-t":                 # mount(8) may repeat the type
            i += 1
        elif a.startswith("-") and len(a) > 1:
            for c in a[1:]:
                if c not in "nsfv":
                    raise Usage(f"illegal option -- {c}")
                fake = fake or c == "f"
        else:
            positional.append(a)
        i += 1
    if len(positional) != 2:
        raise Usage("need SOURCE and MOUNTPOINT")
    opts = MountOptions(positional[1])
    for option in filter(None, options):
        key, eq, value = option.partition("=")
        if key in ("conf", "state") and eq and value:
            setattr(opts, key, value)
        elif key in ("verbose", "debug") and not eq:
            opts.verbosity = 1
        elif key == "quiet" and not eq:
            opts.verbosity = -1
        elif key in IGNORED or key.startswith("x-") or key == "comment":
            continue
        else:
            raise Usage(f"unknown option: {option}")
    return opts, fake


def main(argv: list[str] | None = None) -> int:
    from jailfs.fs import daemon
    try:
        opts, fake = parse(sys.argv[1:] if argv is None else argv)
    except Usage as e:
        print(f"{PROG}: {e}\n{USAGE}", file=sys.stderr)
        return 1
    if fake:
        return 0
    return 0 if daemon.serve_background(opts, announce=False) == 0 else 32


if __name__ == "__main__":
    sys.exit(main())
