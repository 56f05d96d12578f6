"""``--version`` for every command, in one place."""

from __future__ import annotations

import sys


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as dist_version
    try:
        return dist_version("jailfs")
    except PackageNotFoundError:        # run from a checkout without installing
        return "unknown"


def version_line(prog: str) -> str:
    return f"{prog} (jailfs) {version()}"


def exit_if_version(prog: str, argv: list[str]) -> None:
    """For the FreeBSD work-alikes, whose getopt has no long options: a lone
    ``--version`` as the first argument prints the version and exits 0."""
    if argv[:1] == ["--version"]:
        print(version_line(prog))
        sys.exit(0)
