"""jls(8) work-alike: list jails through the jailfs mount.

    jls [--libxo json|xml[,pretty]] [-cdhNnqsv] [-j jail] [parameter ...]

Behaves as FreeBSD's usr.sbin/jls/jls.c (the libxo version): the same option
handling, parameter list (``all``, de-duplication, ``no``-form booleans,
``meta.KEY``), output in every mode, messages and exit status.  Data comes
only from the mount's ``.ctl``: the parameter table from ``params``, all
jails in one ``list [-d] -p PARAM...``, one jail (-j) with ``get``.  Formatting lives
in :mod:`jailfs.cli.jlsformat`.
"""

from __future__ import annotations

import sys

from jailfs.cli import jlsformat as F
from jailfs.cli.bsdlib import Fatal, bsd_getopt, command_main, strtoul_int
from jailfs.cli.libjail import ParamError, ParamTable, strip_no
from jailfs.ctlproto import MountError, ctl_answer, find_mount, parse_records, quote

PROG = "jls"
USAGE = "usage: jls [-dhNnqv] [-j jail] [param ...]"
JAIL_DYING = 0x8


# ----------------------------------------------------------------- arguments

_XO_WORDS = {"text", "json", "xml", "html", "pretty", "underscores", "warn",
             "warn-xml", "keys", "flush", "flush-line", "info", "no-humanize",
             "no-locale", "no-top", "not-first", "color", "no-color",
             "dtrt", "log-gettext", "log-syslog", "no-retain", "retain",
             "units", "columns", "all", "xpath", "no-color"}
_XO_CHARS = {"J": "json", "X": "xml", "T": "text", "H": "html", "P": "pretty",
             "U": "underscores", "W": "warn", "k": "keys", "F": "flush",
             "I": "info", "x": "xpath", "c": "color", "C": "color", "i": "info",
             "n": "no-humanize", "N": "no-top", "u": "units", "L": "no-locale"}


class XoOptions:
    def __init__(self):
        self.style = "text"
        self.pretty = False
        self.underscores = False

    def apply(self, word: str) -> None:
        word = word.strip()
        if not word:
            return
        name = word.split("=", 1)[0]
        if name not in _XO_WORDS:
            raise Fatal(f"unknown libxo option value: '{word}'")
        if name in ("text", "json", "xml"):
            self.style = name
        elif name == "html":
            raise Fatal("--libxo html: not supported by this jls (use text, json or xml)")
        elif name == "pretty":
            self.pretty = True
        elif name == "underscores":
            self.underscores = True


def parse_libxo(argv: list[str]) -> tuple[XoOptions, list[str]]:
    """Take the ``--libxo`` arguments out of argv, as xo_parse_args does."""
    xo = XoOptions()
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--libxo":
            if i + 1 >= len(argv):
                raise Fatal("missing libxo option")
            i += 1
            for w in argv[i].split(","):
                xo.apply(w)
        elif a.startswith("--libxo="):
            for w in a[len("--libxo="):].split(","):
                xo.apply(w)
        elif a.startswith("--libxo:"):
            for ch in a[len("--libxo:"):]:
                if ch not in _XO_CHARS:
                    raise Fatal(f"unknown libxo option value: '{ch}'")
                xo.apply(_XO_CHARS[ch])
        else:
            rest.append(a)
        i += 1
    return xo, rest


# ------------------------------------------------------------ parameter list

class ParamList:
    """jls.c's ``params`` array and its add_param() rules, over the table the
    daemon publishes (``.ctl params``)."""

    def __init__(self, table: ParamTable):
        self.table = table
        self.params: list[F.JParam] = []
        self.index: dict[str, int] = {}

    def all_names(self) -> list[str]:
        # jailparam_all() reads the security.jail.param sysctls; jls sorts them.
        return sorted(self.table.names(), key=F.sort_key)

    def lookup(self, name: str) -> F.JParam | None:
        """jailparam_init(): the parameter's type, or None if unknown."""
        info = self.table.lookup(name)
        if info is None:
            return None
        return F.JParam(name, info.kind, nobool=info.negated, writable=not info.readonly)

    def add(self, name: str, flags: int) -> int:
        if name == "all":
            for n in self.all_names():
                self.add(n, flags)
            return -1
        i = self.index.get(name)
        if i is not None:
            self.params[i].flags |= flags
            return i
        p = self.lookup(name)
        if p is None:
            if flags & F.JP_OPT:
                return -1
            raise Fatal(f"unknown parameter: {name}")
        p.flags = flags
        self.params.append(p)
        self.index[name] = len(self.params) - 1
        return len(self.params) - 1

    def add_skip_parents(self) -> None:
        for i in range(len(self.params)):
            p = self.params[i]
            if p.flags & F.JP_USER and "." in p.name:
                p.parent = self.add(p.name.split(".", 1)[0], F.JP_OPT)

    def kernel_names(self) -> list[str]:
        """The names to ask .ctl for (negated booleans fetched positively)."""
        out: list[str] = []
        for p in self.params:
            n = strip_no(p.name) if p.nobool else p.name
            if n not in out:
                out.append(n)
        return out


# ----------------------------------------------------------------- the mount

class Source:
    """Jail data through the mount's .ctl: one request for one jail (-j), or
    one bulk request for all of them."""

    def __init__(self, mount: str, dying: bool):
        self.mount = mount
        self.dflag = "-d " if dying else ""

    def all(self, names: list[str]) -> list[dict[str, str]]:
        """Every visible jail's values, in jid order (``list -p``)."""
        a = ctl_answer(self.mount, f"list {self.dflag}-p " + " ".join(quote(n) for n in names))
        if not a.ok:
            raise Fatal(a.value)
        return [values for _jid, values in parse_records(a.extra)]

    def get(self, jail: str, names: list[str]):
        """-> (ok, message, values)."""
        req = f"get {self.dflag}{quote(jail)} " + " ".join(quote(n) for n in names)
        a = ctl_answer(self.mount, req.rstrip())
        if not a.ok:
            return False, a.value, {}
        return True, a.value, a.kv()


def values_for(plist: ParamList, got: dict[str, str], key: tuple | None) -> list:
    vals: list = []
    for p in plist.params:
        if key is not None and p.name == key[0]:
            # The index key keeps the value jls was given (import_raw).
            vals.append(key[1])
            continue
        if p.nobool:
            v = got.get(strip_no(p.name) or p.name)
            vals.append(None if v is None else ("false" if v == "true" else "true"))
            continue
        v = got.get(p.name)
        if p.kind in ("ip4", "ip6") and v == "":
            v = None                      # an empty address list has length 0
        vals.append(v)
    return vals


# ---------------------------------------------------------------------- main

def run(argv: list[str]) -> int:
    xo, argv = parse_libxo(argv)
    opts, operands = bsd_getopt(PROG, argv, "acdj:hNnqsv")
    pflags = 0
    jflags = 0
    jid = 0
    jname: str | None = None
    check = False
    for c, val in opts:
        if c in ("a", "d"):
            jflags |= JAIL_DYING
        elif c == "c":
            check = True
        elif c == "j":
            n = strtoul_int(val)
            if n is None or n == 0:
                jid, jname = 0, val
            else:
                jid, jname = n, None
        elif c == "h":
            pflags = (pflags & ~(F.PRINT_SKIP | F.PRINT_VERBOSE)) | F.PRINT_HEADER
        elif c == "N":
            pflags |= F.PRINT_JAIL_NAME
        elif c == "n":
            pflags = (pflags & ~F.PRINT_VERBOSE) | F.PRINT_NAMEVAL
        elif c == "q":
            pflags |= F.PRINT_QUOTED
        elif c == "s":
            pflags = ((pflags & ~(F.PRINT_HEADER | F.PRINT_VERBOSE))
                      | F.PRINT_NAMEVAL | F.PRINT_QUOTED | F.PRINT_SKIP)
        elif c == "v":
            pflags = ((pflags & ~(F.PRINT_HEADER | F.PRINT_NAMEVAL | F.PRINT_SKIP))
                      | F.PRINT_VERBOSE)
        else:
            raise Fatal(USAGE)

    if check and jid == 0 and jname is None:
        raise Fatal("-c requires -j")

    try:
        mount = find_mount()
        plist = ParamList(ParamTable.fetch(mount))
    except (MountError, ParamError) as e:
        raise Fatal(str(e))
    if not operands:
        if pflags & (F.PRINT_HEADER | F.PRINT_NAMEVAL):
            plist.add("all", F.JP_USER)
        elif pflags & F.PRINT_VERBOSE:
            for n in F.VERBOSE_PARAMS:
                plist.add(n, F.JP_USER)
        else:
            pflags |= F.PRINT_DEFAULT
            names = F.NAME_PARAMS if pflags & F.PRINT_JAIL_NAME else F.DEFAULT_PARAMS
            for n in names:
                plist.add(n, F.JP_USER)
    else:
        pflags &= ~F.PRINT_VERBOSE
        for n in operands:
            plist.add(n, F.JP_USER)
    if pflags & F.PRINT_SKIP:
        plist.add_skip_parents()
    key: tuple | None = None
    if jid != 0:
        key = ("jid", str(jid))
        plist.add("jid", 0)
    elif jname is not None:
        key = ("name", jname)
        plist.add("name", 0)

    src = Source(mount, bool(jflags & JAIL_DYING))
    names = plist.kernel_names()

    if check:
        ok, _msg, _got = lookup_one(src, jid, jname, ["jid"])
        return 0 if ok else 1

    out = F.Out(xo.style, xo.pretty, xo.underscores, version="2")
    F.emit_header(out, pflags, plist.params)
    out.open_container("jail-information")
    out.open_list("jail")
    if key is not None:
        ok, msg, got = lookup_one(src, jid, jname, names)
        if not ok:
            if xo.style == "text":
                write(out.getvalue())
            raise Fatal(msg)
        F.emit_jail(out, pflags, plist.params, values_for(plist, got, key))
    else:
        for got in src.all(names):
            F.emit_jail(out, pflags, plist.params, values_for(plist, got, None))
    out.close_list()
    out.close_container()
    write(out.finish())
    return 0


def lookup_one(src: Source, jid: int, jname: str | None, names: list[str]):
    """Fetch the jail given with -j -> (ok, message, values)."""
    if jname is not None:
        n = strtoul_int(jname)
        if n == 0:
            # A name that reads as 0 cannot exist (numeric names are jids).
            return False, f'jail "{jname}" not found', {}
        return src.get(jname, names)
    if jid < 0:
        return False, f"jail {jid} not found", {}
    return src.get(str(jid), names)


def write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    return command_main(PROG, run, argv, USAGE)


if __name__ == "__main__":
    sys.exit(main())
