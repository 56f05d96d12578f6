"""sysctl(8): read and write the MIB as the caller's jail sees it.

    sysctl [-bdehiNnoqx] name[=value] ...
    sysctl [-bdehNnoqx] -a

Values come from the daemon (`.ctl sysctl`), one leaf per line with its
type and format; printing follows sbin/sysctl/sysctl.c: ``name: value``,
``-n`` the value alone, ``name: old -> new`` for a write, ``unknown oid``
for a name the kernel does not know (exit status: the number of failures).
"""

from __future__ import annotations

import shlex
import sys
from typing import NamedTuple

from jailfs.toolbox.common import Failed, Usage, getopts, request, run, strerror, warnx

PROG = "sysctl"
USAGE = ("usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...\n"
         "       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a")
NUMERIC = {"int": "integer", "uint": "unsigned integer", "long": "long integer",
           "ulong": "unsigned long"}
_RANGES = {"int": (-(1 << 31), (1 << 31) - 1), "uint": (0, (1 << 32) - 1),
           "long": (-(1 << 63), (1 << 63) - 1), "ulong": (0, (1 << 64) - 1)}


class Leaf(NamedTuple):
    name: str
    kind: str
    fmt: str
    access: str
    value: str
    descr: str

    @classmethod
    def parse(cls, line: str) -> "Leaf":
        return cls(*shlex.split(line))


class Options(NamedTuple):
    b: bool = False
    d: bool = False
    e: bool = False
    i: bool = False
    N: bool = False
    n: bool = False
    o: bool = False
    q: bool = False
    x: bool = False


def c_long(text: str) -> int | None:
    """strtol/strtoul(text, &end, 0) that must consume everything: None if not."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    base = 16 if body[:2].lower() == "0x" else 8 if body.startswith("0") and len(body) > 1 else 10
    try:
        return sign * int(body[2:] if base == 16 else body, base)
    except ValueError:
        return None


def shown(leaf: Leaf, opts: Options) -> str | bytes | None:
    """What show_var prints for one leaf (None: nothing, as for a struct without -o)."""
    if opts.N:
        return leaf.name
    if opts.d:
        return ("" if opts.n else leaf.name + ("=" if opts.e else ": ")) + leaf.descr
    if opts.b:
        if leaf.kind == "string":
            return leaf.value.encode() + b"\0"
        if leaf.kind == "struct":
            return bytes.fromhex(leaf.value)
        size = 4 if leaf.kind in ("int", "uint") else 8
        return int(leaf.value).to_bytes(size, "little", signed=not leaf.kind.startswith("u"))
    head = "" if opts.n else leaf.name + ("=" if opts.e else ": ")
    if leaf.kind != "struct":
        return head + leaf.value
    if not (opts.o or opts.x):
        return None
    data = bytes.fromhex(leaf.value)
    dump = data if opts.x else data[:16]
    # sysctl.c's loop leaves its unsigned counter wrapped when it ran out of
    # bytes, so a short value gets "..." too; a 17..33-byte one does not.
    more = len(data) <= 16 or len(data) > 33
    return f"{head}Format:{leaf.fmt} Length:{len(data)} Dump:0x{dump.hex()}" + \
        ("..." if not opts.x and more else "")


def out(text: str | bytes) -> None:
    """Everything goes through one unbuffered path, as sysctl.c's setbuf(stdout, 0)."""
    sys.stdout.buffer.write(text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.flush()


def emit(text: str | bytes | None, opts: Options, newline: bool = True) -> bool:
    if text is None:
        return False
    out(text)
    if newline and not opts.b:
        out("\n")
    return True


def fetch(name: str) -> tuple[list[Leaf] | None, str, str]:
    answer = request("sysctl", "get", name)
    if not answer.ok:
        return None, answer.errname, answer.value
    return [Leaf.parse(line) for line in answer.extra], "", ""


def parse(arg: str, opts: Options) -> int:
    """One argument: show NAME (a leaf or a whole node), or write NAME=VALUE."""
    cut = min((i for i in (arg.find("="), arg.find(":")) if i >= 0), default=-1)
    name, value = (arg, None) if cut < 0 else (arg[:cut], arg[cut + 1:].lstrip())
    if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    name = name.strip()
    leaves, errname, message = fetch(name)
    if leaves is None:
        if errname != "ENOENT":
            raise Failed(message)
        if opts.i:
            return 0
        if not opts.q:
            warnx(PROG, f"unknown oid '{name}'")
        return 1
    if value is None or opts.d:
        for leaf in leaves:
            emit(shown(leaf, opts), opts)
        return 0
    if len(leaves) != 1 or leaves[0].name != name:
        warnx(PROG, f"oid '{name}' isn't a leaf node")
        return 1
    return write(leaves[0], arg, value, opts)


def write(leaf: Leaf, arg: str, value: str, opts: Options) -> int:
    if leaf.access != "rw":
        if leaf.access == "rdtun":
            warnx(PROG, f"oid '{leaf.name}' is a read only tunable")
            warnx(PROG, "Tunable values are set in /boot/loader.conf")
        else:
            warnx(PROG, f"oid '{leaf.name}' is read only")
        return 1
    if leaf.kind in NUMERIC:
        if value == "":
            warnx(PROG, "empty numeric value")
            return 1
        number = c_long(value)
        lo, hi = _RANGES[leaf.kind]
        if number is None or not lo <= number <= hi:
            warnx(PROG, f"invalid {NUMERIC[leaf.kind]} '{value}'")
            return 1
        value = str(number)
    elif leaf.kind != "string":
        warnx(PROG, f"oid '{leaf.name}' is type 5, cannot set that")
        return 1
    printed = emit(shown(leaf, opts), opts, newline=False)
    answer = request("sysctl", "set", leaf.name, value)
    if not answer.ok:
        if printed and not opts.b:
            out("\n")
        warnx(PROG, f"{arg}: {strerror(answer.errname)}")
        return 1
    new = Leaf.parse(answer.extra[0])
    if not opts.b:
        out(" -> ")
    emit(shown(new, opts._replace(n=True)), opts)
    return 0


def sysctl(argv: list[str]) -> int:
    pairs, args = getopts(argv, "AabdehiNnoqwXx")
    flags = {f[1] for f, _ in pairs}
    if "A" in flags:
        flags |= {"a", "o"}
    if "X" in flags:
        flags |= {"a", "x"}
    opts = Options(**{f: True for f in flags if f in Options._fields})
    if opts.N and opts.n:
        raise Usage()
    if "a" in flags and not args:
        answer = request("sysctl", "all")
        if not answer.ok:
            raise Failed(answer.value)
        for line in answer.extra:
            emit(shown(Leaf.parse(line), opts), opts)
        return 0
    if not args:
        raise Usage()
    return sum(parse(arg, opts) for arg in args)


def main(argv: list[str] | None = None) -> int:
    return run(PROG, sysctl, argv, USAGE)
