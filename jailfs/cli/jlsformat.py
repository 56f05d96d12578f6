"""Pure output formatting for the jls(8) work-alike.

Nothing here touches the mount: the caller hands over the parameter list it
built (the way FreeBSD's jls.c builds its ``params`` array) and, per jail, the
values as canonical text.  Everything FreeBSD prints through libxo is
reproduced for three styles:

* ``text``  -- what a terminal shows (the default);
* ``json``  -- ``--libxo json`` (optionally ``pretty``);
* ``xml``   -- ``--libxo xml`` (optionally ``pretty``).

Values
------
A value is a ``str`` in the form ``jls -j X PARAM`` prints it (booleans
``true``/``false``, jailsys ``disable``/``new``/``inherit``, address lists
comma-joined), or ``None`` for a value of zero length: an empty address list,
or a ``meta.KEY`` that is not set.  An empty *string* parameter is ``""``,
which FreeBSD keeps apart from a zero-length value (it always prints ``""``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jailfs.cli.bsdlib import quote_char
from jailfs.cli.libjail import no_form, strip_no

__all__ = [
    "PRINT_DEFAULT", "PRINT_HEADER", "PRINT_NAMEVAL", "PRINT_QUOTED",
    "PRINT_SKIP", "PRINT_VERBOSE", "PRINT_JAIL_NAME",
    "JP_USER", "JP_OPT",
    "JParam", "Out", "sort_key",
    "emit_header", "emit_jail", "render",
    "DEFAULT_PARAMS", "NAME_PARAMS", "VERBOSE_PARAMS",
]

# Print-mode bits (the same meanings as jls.c's pflags).
PRINT_DEFAULT = 0x01
PRINT_HEADER = 0x02
PRINT_NAMEVAL = 0x04
PRINT_QUOTED = 0x08
PRINT_SKIP = 0x10
PRINT_VERBOSE = 0x20
PRINT_JAIL_NAME = 0x40

# Parameter-list flags.
JP_USER = 0x1       # asked for by the user: printed
JP_OPT = 0x2        # fetched only to decide something (-s parents); may not exist

# The fixed column sets of the default and -v listings, in jls.c's order.
DEFAULT_PARAMS = ("jid", "ip4.addr", "host.hostname", "path")
NAME_PARAMS = ("name", "ip4.addr", "host.hostname", "path")
VERBOSE_PARAMS = ("jid", "host.hostname", "path", "name", "dying", "cpuset.id",
                  "ip4.addr", "ip6.addr")


@dataclass
class JParam:
    """One entry of jls's parameter list.

    ``name`` is the name as printed (``nopersist`` for a negated boolean);
    ``kind`` is the kernel table's kind (``string`` for ``meta.KEY``);
    ``nobool`` marks a ``no``-form boolean; ``writable`` is false for the
    read-only parameters -s leaves out; ``parent`` is the index of the
    parameter named by the part before the first dot (-s only), or -1.
    """
    name: str
    kind: str
    flags: int = JP_USER
    nobool: bool = False
    writable: bool = True
    parent: int = -1

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"


def sort_key(name: str) -> tuple:
    """jls.c's sort of the ``all`` set: undotted names first, then byte order."""
    return ("." in name, name.encode("utf-8", "surrogateescape"))


# ----------------------------------------------------------------- the emitter

def _json_escape(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\" or ch == '"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20:
            # libxo passes other control bytes through raw, which no JSON
            # parser accepts; escape them so the output stays JSON.
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def _xml_escape(s: str) -> str:
    """libxo's xo_escape_xml escapes & < > only, and passes control bytes
    through, which no XML 1.0 parser accepts (not even as &#x1;); those are
    written as the JSON output writes them (\\u0001), so the output parses."""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\u%04x" % ord(ch) if _xml_forbidden(ch) else ch for ch in s)


def _xml_forbidden(ch: str) -> bool:
    o = ord(ch)
    return (o < 0x20 and ch not in "\t\n\r") or 0xD800 <= o <= 0xDFFF or o in (0xFFFE, 0xFFFF)


@dataclass
class _Frame:
    kind: str               # "top", "container", "list", "instance"
    name: str = ""
    not_first: bool = False


@dataclass
class Out:
    """A small model of the libxo calls jls makes, for text, JSON and XML.

    ``text(s)``: literal text, padding and titles (shown only in text style).
    ``field(name, display, enc, quote)``: a value; ``display`` is what text
    style shows (None: nothing), ``enc`` what JSON/XML encode (None: nothing);
    ``quote=False`` leaves a JSON value unquoted (numbers, true/false).
    """
    style: str = "text"
    pretty: bool = False
    underscores: bool = False
    version: str | None = None
    _buf: list = field(default_factory=list)
    _stack: list = field(default_factory=lambda: [_Frame("top")])
    _top: bool = False
    _xml_depth: int = 0
    _attrs: str = ""

    def __post_init__(self):
        if self.style == "xml" and self.version is not None:
            self._attrs = f' version="{_xml_escape(self.version)}"'
        if self.style == "text":
            # A terminal listing makes these two calls per value of every jail:
            # the text style's versions, bound once.
            self.text = self._buf.append
            self.field = self._text_field

    def _text_field(self, name: str, display: str | None, enc: str | None,
                    quote: bool = True) -> None:
        if display is not None:
            self._buf.append(display)

    # -- helpers
    @property
    def _cur(self) -> _Frame:
        return self._stack[-1]

    def _ppn(self) -> str:
        return "\n" if self.pretty else ""

    def _indent(self) -> str:
        if not self.pretty:
            return ""
        if self.style == "json":
            n = (len(self._stack) - 1) * 2 + (2 if self._top else 0)
        else:
            n = self._xml_depth * 2
        return " " * n

    def _jname(self, name: str) -> str:
        if self.underscores:
            name = name.replace("-", "_")
        return _json_escape(name)

    def _w(self, s: str) -> None:
        self._buf.append(s)

    def _json_top(self) -> None:
        if self._top:
            return
        self._w(self._indent() + "{" + self._ppn())
        self._top = True
        if self.version is not None:
            self._w(f'{self._indent()}"__version": "{_json_escape(self.version)}", '
                    + self._ppn())

    def _json_sep_open(self) -> str:
        cur = self._cur
        pre = ""
        if cur.not_first:
            pre = ",\n" if self.pretty else ", "
        cur.not_first = True
        return pre

    # -- text
    def text(self, s: str) -> None:
        if self.style == "text":
            self._w(s)

    # -- values
    def field(self, name: str, display: str | None, enc: str | None,
              quote: bool = True) -> None:
        if self.style == "text":
            if display is not None:
                self._w(display)
            return
        if enc is None:
            return
        if self.style == "json":
            cur = self._cur
            if cur.not_first:
                self._w("," + ("\n" if self.pretty else ""))
            cur.not_first = True
            sep = '": ' if self.pretty else '":'
            val = f'"{_json_escape(enc)}"' if quote else enc
            self._w(self._indent() + '"' + self._jname(name) + sep + val)
        else:
            self._w(f"{self._indent()}<{name}>{_xml_escape(enc)}</{name}>{self._ppn()}")

    def leaf(self, name: str, value: str) -> None:
        """One member of an address list (libxo's ``{ql:...}`` leaf-list)."""
        if self.style == "text":
            self._w(value)
        elif self.style == "json":
            cur = self._cur
            if cur.not_first:
                self._w("," + ("\n" if self.pretty else ""))
            cur.not_first = True
            self._w(self._indent() + f'"{_json_escape(value)}"')
        else:
            self._w(f"{self._indent()}<{name}>{_xml_escape(value)}</{name}>{self._ppn()}")

    # -- structure
    def _xml_open(self, name: str) -> None:
        self._w(f"{self._indent()}<{name}{self._attrs}>{self._ppn()}")
        self._attrs = ""
        self._xml_depth += 1

    def open_container(self, name: str) -> None:
        if self.style == "json":
            self._json_top()
            pre = self._json_sep_open()
            self._w(f'{pre}{self._indent()}"{self._jname(name)}": {{{self._ppn()}')
        elif self.style == "xml":
            self._xml_open(name)
        self._stack.append(_Frame("container", name))

    def open_list(self, name: str) -> None:
        if self.style == "json":
            self._json_top()
            pre = self._json_sep_open()
            self._w(f'{pre}{self._indent()}"{self._jname(name)}": [{self._ppn()}')
        self._stack.append(_Frame("list", name))

    def open_instance(self, name: str) -> None:
        if self.style == "json":
            pre = self._json_sep_open()
            self._w(f"{pre}{self._indent()}{{{self._ppn()}")
        elif self.style == "xml":
            self._xml_open(name)
        self._stack.append(_Frame("instance", name))

    def _close(self, kind: str, closer: str) -> None:
        frame = self._stack.pop()
        assert frame.kind == kind, (frame.kind, kind)
        if self.style == "json":
            pre_nl = "\n" if self.pretty else ""
            self._w(f"{pre_nl}{self._indent()}{closer}")
            self._cur.not_first = True
        elif self.style == "xml" and kind != "list":
            self._xml_depth -= 1
            self._w(f"{self._indent()}</{frame.name}>{self._ppn()}")

    def close_container(self) -> None:
        self._close("container", "}")

    def close_list(self) -> None:
        self._close("list", "]")

    def close_instance(self) -> None:
        self._close("instance", "}")

    def getvalue(self) -> str:
        """What has been produced so far (without finishing)."""
        return "".join(self._buf)

    def finish(self) -> str:
        """Close what is open, end the document, return the whole output."""
        while len(self._stack) > 1:
            self._close(self._cur.kind, {"container": "}", "list": "]",
                                         "instance": "}"}[self._cur.kind])
        if self.style == "json":
            pre_nl = "\n" if self.pretty else ""
            opened = ""
            if not self._top:
                self._json_top()
                opened = "{ "
            self._top = False
            self._w(f"{pre_nl}{self._indent()}{opened}}}\n")
        return "".join(self._buf)


# ------------------------------------------------------------- jls's printing

def _col(s: str, width: int, maxw: int | None = None, left: bool = True) -> str:
    """printf's %-W.Ms / %W.Ms for strings (columns = characters here)."""
    if maxw is not None:
        s = s[:maxw]
    return s.ljust(width) if left else s.rjust(width)


def emit_header(out: Out, pflags: int, params: list[JParam]) -> None:
    """The header line(s) printed before any jail (text style only)."""
    if pflags & PRINT_VERBOSE:
        out.text("   JID  Hostname" + " " * 22 + "Path\n")
        out.text(" " * 8 + "Name" + " " * 26 + "State\n")
        out.text(" " * 8 + "CPUSetID\n")
        out.text(" " * 8 + "IP Address(es)\n")
    elif pflags & PRINT_DEFAULT:
        if pflags & PRINT_JAIL_NAME:
            out.text(" " + _col("JID", 15) + " " + _col("IP Address", 15) + " "
                     + _col("Hostname", 29) + " " + "Path\n")
        else:
            out.text(_col("JID", 6, left=False) + "  " + "IP Address" + " " * 6
                     + "Hostname" + " " * 22 + "Path\n")
    elif pflags & PRINT_HEADER:
        out.text(" ".join(p.name for p in params if p.flags & JP_USER) + "\n")


def _addrs(value: str | None) -> list[str]:
    if not value:
        return []
    return [a for a in value.split(",") if a]


def _ip_list(out: Out, list_name: str, leaf_name: str, value: str | None) -> None:
    out.open_list(list_name)
    for addr in _addrs(value):
        out.text(" " * 8)
        out.leaf(leaf_name, addr)
        out.text("\n")
    out.close_list()


def _quoted_print(out: Out, pflags: int, name: str, value: str) -> None:
    if value == "":
        # An empty string is always shown as "", in every mode.
        out.field(name, '""', "")
        return
    qc = quote_char(value)
    if qc and pflags & PRINT_QUOTED:
        out.text(qc)
    out.field(name, value, value)
    if qc and pflags & PRINT_QUOTED:
        out.text(qc)


def _special_print(out: Out, pflags: int, p: JParam, value: str | None) -> bool:
    if out.style in ("json", "xml") and p.name in ("ip4.addr", "ip6.addr"):
        _ip_list(out, p.name, "ipv4_addr" if p.name == "ip4.addr" else "ipv6_addr", value)
        return True
    if value is None:
        # A zero-length value (an unset meta.KEY, an empty address list):
        # jls.c emits only padding ({P:}), so JSON and XML have no field.
        if pflags & PRINT_QUOTED:
            out.text('""')
        elif not pflags & PRINT_NAMEVAL:
            out.text("-")
        return True
    return False


def _int(value: str | None) -> int:
    try:
        return int(value or "0")
    except ValueError:
        return 0


def _skipped(pflags: int, params: list[JParam], values: list, i: int) -> bool:
    if not pflags & PRINT_SKIP:
        return False
    p = params[i]
    if not p.writable:
        return True
    if p.parent >= 0:
        parent = params[p.parent]
        # jls reads the parent's value as a jailsys int: only "new" passes.
        if parent.kind != "jailsys" or values[p.parent] != "new":
            return True
    return False


def emit_jail(out: Out, pflags: int, params: list[JParam], values: list) -> None:
    """One jail: ``values[i]`` is the value of ``params[i]`` (see module doc)."""
    out.open_instance("jail")
    if pflags & PRINT_VERBOSE:
        jid = _int(values[0])
        hostname = values[1] or ""
        path = values[2] or ""
        name = values[3] or ""
        state = "DYING" if values[4] == "true" else "ACTIVE"
        cpuset = _int(values[5])
        out.field("jid", "%6d" % jid, str(jid), quote=False)
        out.text("  ")
        out.field("hostname", _col(hostname, 29, 29), hostname)
        out.text(" ")
        out.field("path", path[:74], path)
        out.text("\n")
        out.text(" " * 8)
        out.field("name", _col(name, 29, 29), name)
        out.text(" ")
        out.field("state", state[:74], state[:74])
        out.text("\n")
        out.text(" " * 8)
        out.field("cpusetid", str(cpuset), str(cpuset), quote=False)
        out.text("\n")
        n = 6
        if n < len(params) and params[n].name == "ip4.addr":
            _ip_list(out, "ipv4_addrs", "ipv4_addr", values[n])
            n += 1
        if n < len(params) and params[n].name == "ip6.addr":
            _ip_list(out, "ipv6_addrs", "ipv6_addr", values[n])
            n += 1
    elif pflags & PRINT_DEFAULT:
        if pflags & PRINT_JAIL_NAME:
            name = values[0] or ""
            out.text(" ")
            out.field("name", _col(name, 15), name)
            out.text(" ")
        else:
            jid = _int(values[0])
            out.field("jid", "%6d" % jid, str(jid), quote=False)
            out.text("  ")
        addrs = _addrs(values[1])
        ip = addrs[0] if addrs else ""
        hostname = values[2] or ""
        path = values[3] or ""
        out.field("ipv4", _col(ip, 15, 15), ip)
        out.text(" ")
        out.field("hostname", _col(hostname, 29, 29), hostname)
        out.text(" ")
        out.field("path", path[:74], path)
        out.text("\n")
    else:
        spc = False
        for i, p in enumerate(params):
            if not p.flags & JP_USER:
                continue
            if _skipped(pflags, params, values, i):
                continue
            if spc:
                out.text(" ")
            else:
                spc = True
            value = values[i]
            if pflags & PRINT_NAMEVAL:
                if p.is_bool:
                    if value == "true":
                        out.field(p.name, None, "true", quote=False)
                        out.text(p.name)
                    else:
                        if p.nobool:
                            out.field(p.name, None, "true", quote=False)
                            nname = strip_no(p.name) or p.name
                        else:
                            out.field(p.name, None, "false", quote=False)
                            nname = no_form(p.name)
                        out.text(nname)
                    continue
                out.text(p.name + "=")
            if not _special_print(out, pflags, p, value):
                _quoted_print(out, pflags, p.name, value or "")
        out.text("\n")
    out.close_instance()


def render(pflags: int, params: list[JParam], jails: list[list],
           style: str = "text", pretty: bool = False,
           underscores: bool = False) -> str:
    """The whole output of one jls run over ``jails`` (lists of values)."""
    out = Out(style, pretty, underscores, version="2")
    emit_header(out, pflags, params)
    out.open_container("jail-information")
    out.open_list("jail")
    for values in jails:
        emit_jail(out, pflags, params, values)
    out.close_list()
    out.close_container()
    return out.finish()
