"""Small routines the FreeBSD work-alikes share: BSD getopt(3), and quoting as jail.c and jls.c quote."""

import sys


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


def quote_char(value: str) -> str:
    """The quote jail.c and jls.c put around a value: \" unless the value holds a
    double quote and no single one; none when it needs no quoting."""
    if value == "" or "'" in value:
        return '"'
    if '"' in value:
        return "'"
    return '"' if " " in value or "\t" in value else ""
