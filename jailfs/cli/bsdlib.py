"""The bits of FreeBSD's libc the work-alikes share: getopt(3), strtol(3),
strerror(3) by errno name, and the quoting jail.c and jls.c use."""

from __future__ import annotations

import errno
import os
import sys

_C_SPACE = " \t\n\v\f\r"


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


def strtol(s: str) -> tuple[int, str]:
    """strtol(s, &ep, 10) -> (value, the text at ep), without C's clamping.
    No digits: (0, s), as ep is left at s."""
    i = 0
    while i < len(s) and s[i] in _C_SPACE:
        i += 1
    j = i + 1 if s[i:i + 1] in ("+", "-") else i
    k = j
    while k < len(s) and s[k] in "0123456789":
        k += 1
    if k == j:
        return 0, s
    return int(s[i:k]), s[k:]


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


def strerror_name(errname: str) -> str:
    """strerror() of an errno given by name (``"EPERM"``); the name itself if unknown."""
    num = getattr(errno, errname, None)
    return os.strerror(num) if isinstance(num, int) else errname


def quote_char(value: str) -> str:
    """The quote jail.c and jls.c put around a value: \" unless the value holds a
    double quote and no single one; none when it needs no quoting."""
    if value == "" or "'" in value:
        return '"'
    if '"' in value:
        return "'"
    return '"' if " " in value or "\t" in value else ""
