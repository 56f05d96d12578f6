"""How FreeBSD's jail(8) and libjail read a number or a boolean out of text,
shared by jail.conf parsing (jailfs.conf) and the tools (jailfs.cli).  It
imports nothing of jailfs, so either side may use it."""

from __future__ import annotations

_C_SPACE = " \t\n\v\f\r"


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


def true_text(s: str) -> bool:
    """A boolean's value as config.c's bool_param and libjail read it:
    ``true`` in any case, or a number strtol finds that is not 0
    (``false``, ``0``, junk: false)."""
    return s.lower() == "true" or strtol(s)[0] != 0
