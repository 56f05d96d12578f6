"""What the tools know of jail parameters, learned from the daemon the way
libjail learns it from the kernel's security.jail.param.* sysctls.

``ParamTable.fetch(mount)`` asks ``.ctl params`` once; ``lookup(name)``
resolves a name as jailparam_init does: a table row, a ``KEY`` below a
key=value parameter (``meta.KEY``: a string), or the ``no`` form of a boolean
(``nopersist``, ``allow.nomount``).  The no-form helpers and libjail's
reading of a boolean live here too.
"""

from __future__ import annotations

from typing import NamedTuple

from jailfs.bsdparse import true_text
from jailfs.ctlproto import ctl_answer


class ParamError(Exception):
    """The table could not be read; ``str(e)`` is the message."""


class ParamInfo(NamedTuple):
    name: str           # as given (``nopersist``, ``meta.KEY``)
    kind: str           # int uint ulong string bool jailsys ip4 ip6 keyvalue
    access: str         # rw, ro (read-only) or createonly
    maxlen: int         # strings: bytes including the NUL; else 0
    negated: bool = False   # the ``no`` form of a boolean
    base: str = ""      # the table row's name (``persist`` for ``nopersist``)

    @property
    def readonly(self) -> bool:
        return self.access == "ro"

    @property
    def createonly(self) -> bool:
        return self.access == "createonly"


def no_form(name: str) -> str:
    """``persist`` -> ``nopersist``; ``allow.mount`` -> ``allow.nomount``."""
    head, dot, last = name.rpartition(".")
    return f"{head}{dot}no{last}"


def strip_no(name: str) -> str | None:
    """``nopersist`` -> ``persist``; None when the last component lacks ``no``."""
    head, dot, last = name.rpartition(".")
    if not last.startswith("no"):
        return None
    return f"{head}{dot}{last[2:]}"


def bool_value(text: str | None) -> bool:
    """A boolean as jail(8) and libjail read one: bare or ``true`` is true,
    otherwise the number strtol finds (``false``, ``0``, junk: false)."""
    if text is None:
        return True
    return true_text(text.strip())


class ParamTable:
    """The daemon's parameter table, in its order (jls's ``all`` order)."""

    def __init__(self, rows: list[ParamInfo]):
        self.rows = {r.name: r for r in rows}

    @classmethod
    def parse(cls, lines: list[str]) -> "ParamTable":
        rows = []
        for line in lines:
            name, kind, access, maxlen = line.split()
            rows.append(ParamInfo(name, kind, access, int(maxlen), base=name))
        return cls(rows)

    @classmethod
    def fetch(cls, mount: str) -> "ParamTable":
        a = ctl_answer(mount, "params")
        if not a.ok:
            raise ParamError(f"security.jail.param: {a.value}")
        return cls.parse(a.extra)

    def names(self) -> list[str]:
        return list(self.rows)

    def lookup(self, name: str) -> ParamInfo | None:
        """jailparam_init's name resolution; None for an unknown name."""
        row = self.rows.get(name)
        if row is not None:
            return row
        prefix, dot, _ = name.partition(".")
        row = self.rows.get(prefix) if dot else None
        if row is not None and row.kind == "keyvalue":
            return ParamInfo(name, "string", row.access, row.maxlen, base=prefix)
        base = strip_no(name)
        row = self.rows.get(base) if base is not None else None
        if row is not None and row.kind == "bool":
            return row._replace(name=name, negated=True)
        return None
