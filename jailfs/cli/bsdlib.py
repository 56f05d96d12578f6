"""The bits of FreeBSD's libc the work-alikes share: getopt(3), strtoul(3)
for a jid (strtol(3) itself is jailfs.bsdparse's), the login class PATH and a user's environment, the quoting jail.c and jls.c
use, and where FreeBSD's toolbox goes on a jailed command's PATH.  (strerror
by errno name is the toolbox's: jailfs.toolbox.common.strerror.)"""

from __future__ import annotations

import os
import sys
from typing import Callable

from jailfs.bsdparse import strtol
from jailfs.ops.version import exit_if_version

# The default login class's path (login.conf(5), FreeBSD's /etc/login.conf),
# which setusercontext(3) with LOGIN_SETPATH puts in PATH.
LOGIN_CLASS_PATH = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:~/bin"


class Fatal(Exception):
    """``PROG: MESSAGE`` on stderr and exit 1; ``Fatal(None)``: the usage."""


def command_main(prog: str, run: Callable[[list[str]], int], argv: list[str] | None,
                 usage: str) -> int:
    """A work-alike's main(): --version, run(argv), errors as ``PROG: MESSAGE``
    (or the usage line), and quiet when the reader of stdout has gone."""
    argv = sys.argv[1:] if argv is None else argv
    exit_if_version(prog, argv)
    try:
        return run(argv)
    except Fatal as e:
        sys.stdout.flush()
        sys.stderr.write(f"{usage}\n" if e.args and e.args[0] is None else f"{prog}: {e}\n")
        return 1
    except BrokenPipeError:
        return 1


def bsd_getopt(prog: str, args: list[str], optstring: str):
    """BSD getopt(3): options stop at the first operand or ``--``.

    Returns ``(opts, operands)``; an unknown option or a missing argument is
    reported the way BSD getopt does and yields ``("?", None)`` (and stops).
    """
    opts: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-") or a == "-":
            break
        j = 1
        while j < len(a):
            c = a[j]
            k = optstring.find(c)
            if c == ":" or k < 0:
                sys.stderr.write(f"{prog}: illegal option -- {c}\n")
                opts.append(("?", None))
                return opts, args[i + 1:]
            if optstring[k + 1:k + 2] == ":":
                if j + 1 < len(a):
                    val = a[j + 1:]
                elif i + 1 < len(args):
                    i += 1
                    val = args[i]
                else:
                    sys.stderr.write(f"{prog}: option requires an argument -- {c}\n")
                    opts.append(("?", None))
                    return opts, args[i + 1:]
                opts.append((c, val))
                break
            opts.append((c, None))
            j += 1
        i += 1
    return opts, args[i:]


def strtoul_int(s: str) -> int | None:
    """``(int)strtoul(s, &ep, 10)`` when it consumes all of ``s`` (jail_getid's
    and jls -j's test for a jid), else None."""
    value, rest = strtol(s)
    if rest or not s:
        return None
    if abs(value) >= 1 << 64:
        value = (1 << 64) - 1           # ERANGE: ULONG_MAX, whatever the sign
    value %= 1 << 64                    # "-1" is ULONG_MAX
    value &= 0xFFFFFFFF                 # into a C int
    return value - (1 << 32) if value >= 1 << 31 else value


def quote_char(value: str) -> str:
    """The quote jail.c and jls.c put around a value: \" unless the value holds a
    double quote and no single one; none when it needs no quoting."""
    if value == "" or "'" in value:
        return '"'
    if '"' in value:
        return "'"
    return '"' if " " in value or "\t" in value else ""


def login_path(home: str) -> str:
    """PATH as setusercontext(3) sets it for the default login class: a
    leading ``~`` of an element is the user's home directory (login_class.c
    substvar), without doubling the slash of a home of ``/``."""
    return ":".join(home.rstrip("/") + p[1:] if p.startswith("~") else p
                    for p in LOGIN_CLASS_PATH.split(":"))


def user_environment(env: dict[str, str], pw, clean: bool) -> dict[str, str]:
    """The environment of a command run as ``pw`` (jexec.c, command.c):
    with ``clean`` only TERM is kept (environ = &cleanenv), then PATH as
    setusercontext(3)'s LOGIN_SETPATH sets it, USER, HOME and SHELL."""
    if clean:
        env = {k: v for k, v in env.items() if k == "TERM"}
    return {**env, "PATH": login_path(pw.pw_dir), "USER": pw.pw_name, "HOME": pw.pw_dir,
            "SHELL": pw.pw_shell or "/bin/sh"}


def toolbox_dir() -> str:
    """The directory of FreeBSD's toolbox (``jailfs env``'s), made or
    refreshed when this process may; a jailed command gets it on PATH."""
    from jailfs.toolbox.env import bin_dir, ensure_bin_dir    # pathlib: only a jailed command's
    try:
        ensure_bin_dir()
    except OSError:
        pass                # not ours to write: what is there already serves
    return str(bin_dir())


def jailed_path(path: str | None, toolbox: str, root: str) -> str | None:
    """PATH of a command inside a jail: the toolbox's directory first when it
    exists under the jail's root ``root`` (as the command sees its files),
    else ``path`` as it is -- never an entry that leads nowhere."""
    if not os.path.isdir(os.path.join(root, toolbox.lstrip("/"))):
        return path
    from jailfs.toolbox.env import path_with
    return path_with(toolbox, os.defpath if path is None else path, first=True)
