"""Loading a jail.conf: parse, then merge wildcards and resolve variables."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .config import CfJail, merge_and_resolve
from .parser import ParseState, parse_file, parse_text
from .progress import ProgressFn


@dataclass
class Config:
    jails: list[CfJail]
    warnings: list[str]


def parse_string(text: str, cfname: str = "jail.conf") -> Config:
    """Parse configuration text (``.include`` is relative to ``cfname``)."""
    st = ParseState()
    parse_text(st, text, cfname)
    warnings: list[str] = []
    jails = merge_and_resolve(st.jails, warnings)
    return Config(jails, warnings)


def load_config(cfname: str, progress: ProgressFn | None = None) -> Config:
    """Load a configuration file; ``-`` reads standard input (named STDIN
    in messages).  Raises :class:`ConfError` on a fatal error.
    ``progress(stage, done, total)`` is called now and then while parsing
    (bytes of the file) and merging (jails); see jailfs.conf.progress."""
    st = ParseState(progress)
    if cfname == "-":
        parse_text(st, sys.stdin.read(), "STDIN", is_stdin=True)
    else:
        parse_file(st, cfname)
    warnings: list[str] = []
    jails = merge_and_resolve(st.jails, warnings, progress)
    return Config(jails, warnings)
