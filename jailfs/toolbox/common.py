"""What every toolbox command shares: one `.ctl` transaction, FreeBSD's err(3)."""

from __future__ import annotations

import errno
import getopt
import os
import re
import sys

from jailfs.ctlproto import CtlAnswer, MountError, ctl_answer, find_mount, request as ctl_request


class Failed(Exception):
    """The command cannot go on; ``str(e)`` follows ``PROG: `` on stderr."""


class Usage(Exception):
    """Bad usage: run() prints the tool's usage text and exits 1."""


def getopts(argv: list[str], spec: str) -> tuple[list[tuple[str, str]], list[str]]:
    """getopt(3) as FreeBSD's tools call it: options first, Usage on a bad one."""
    try:
        return getopt.getopt(argv, spec)
    except getopt.GetoptError:
        raise Usage() from None


_C_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")


def strtol0(word: str) -> int | None:
    """strtol(word, &ep, 0) where it reads all of word (``*ep == '\\0'``):
    C's leading blanks and sign, 0x hexadecimal, 0 octal, else decimal;
    None where something is left over (a name, then, to pkill and ipcs)."""
    m = _C_NUMBER.fullmatch(word)
    if m is None:
        return None
    digits = m.group(2)
    value = int(digits, 16 if digits[:2] in ("0x", "0X") else 8 if digits[0] == "0" else 10)
    return -value if m.group(1) == "-" else value


def warnx(prog: str, message: str) -> None:
    print(f"{prog}: {message}", file=sys.stderr, flush=True)


def strerror(errname: str) -> str:
    """The C library's text for an errno name sent by the daemon."""
    code = getattr(errno, errname, None)
    return os.strerror(code) if isinstance(code, int) else errname


def request(*words: str) -> CtlAnswer:
    """One `.ctl` transaction; Failed when there is no mount to ask."""
    try:
        return ctl_answer(find_mount(), ctl_request(*words))
    except MountError as e:
        raise Failed(str(e)) from None
    except OSError as e:
        raise Failed(f"{e.filename or '.ctl'}: {e.strerror}") from None


def must(*words: str) -> CtlAnswer:
    """A transaction that must succeed: Failed with the daemon's message otherwise."""
    answer = request(*words)
    if not answer.ok:
        raise Failed(answer.value)
    return answer


def run(prog: str, body, argv, usage: str = "") -> int:
    """main() of a tool: body(argv) -> exit status; Failed is `PROG: MESSAGE`,
    Usage prints ``usage``; both exit 1."""
    try:
        return body(list(sys.argv[1:] if argv is None else argv))
    except Failed as e:
        warnx(prog, str(e))
        return 1
    except Usage:
        print(usage, file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
