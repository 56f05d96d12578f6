"""Grammar of jail.conf(5): statements, jail blocks (nested), ``.include``.

Builds the raw list of :class:`~jailfs.conf.config.CfJail` records in file
order, exactly as FreeBSD's jailparse.y does before config.c merges
wildcards and expands variables.
"""

from __future__ import annotations

import glob
import os

from .config import (CfJail, CfParam, CfString, ConfError, PF_APPEND,
                     PF_NAMEVAL, PF_VAR, PROGRESS_EVERY)
from .lexer import EOF, PLEQ, STR, STR1, VAR, VAR1, Lexer, Token
from .progress import ProgressFn

MAX_INCLUDE_DEPTH = 32


class _Syntax(Exception):
    def __init__(self, tok: Token):
        self.tok = tok


class ParseState:
    """What all files of one load share: the jail list and the open block."""

    def __init__(self, progress: ProgressFn | None = None):
        self.jails: list[CfJail] = []
        self.current: CfJail | None = None
        self.errors: list[str] = []
        self.depth = 0
        self.progress = progress    # progress("parsing", bytes, size)

    def add_jail(self, name: str) -> CfJail:
        j = CfJail(name)
        self.jails.append(j)
        return j


class _FileParser:
    def __init__(self, state: ParseState, text: str, cfname: str,
                 is_stdin: bool):
        self.st = state
        self.lex = Lexer(text, cfname, state.errors)
        self.cfname = cfname
        self.is_stdin = is_stdin
        self.tok = self.lex.next()
        self.quiet = 0      # like bison: no new report until 3 tokens shifted
        # progress of the top-level file only, every PROGRESS_EVERY jails
        self.progress = state.progress if state.depth == 0 else None
        self.jails_seen = 0

    def advance(self) -> Token:
        t = self.tok
        self.tok = self.lex.next()
        if self.quiet:
            self.quiet -= 1
        return t

    def syntax_error(self) -> None:
        t = self.tok
        if self.quiet:
            return
        if t.kind == EOF:
            self.st.errors.append(f"{self.cfname}: unexpected EOF")
        else:
            self.st.errors.append(
                f"{self.cfname} line {t.line}: {t.raw}: syntax error")

    # conf : (jail | param ';' | ';')*   -- until EOF (top) or '}' (block)
    def parse_conf(self, in_block: bool) -> bool:
        """Parse statements; return False when parsing must stop (EOF
        reached while recovering or inside a block)."""
        while True:
            t = self.tok
            if t.kind == EOF:
                if in_block:
                    self.syntax_error()
                    return False
                return True
            if t.kind == "}" and in_block:
                return True
            if t.kind == ";":
                self.advance()
                continue
            try:
                if t.kind == STR and self._peek_is_brace():
                    self.parse_jail()
                    self._report()
                    continue
                p = self.parse_param()
                if self.tok.kind != ";":
                    raise _Syntax(self.tok)
                semi = self.advance()
                self.statement(p, semi.line)
            except _Syntax:
                self.syntax_error()
                if not self.recover():
                    return False

    def _report(self) -> None:
        self.jails_seen += 1
        if self.progress is not None and self.jails_seen % PROGRESS_EVERY == 0:
            self.progress("parsing", self.lex.pos, len(self.lex.text))

    def _peek_is_brace(self) -> bool:
        # A STR directly followed by '{' opens a jail block.  (A name glued
        # from pieces, like web.* unquoted, is accepted too.)  Peeking needs
        # the lexer's next tokens; keep them in the pending queue.
        seen = []
        while True:
            nxt = self.lex.next()
            seen.append(nxt)
            if nxt.kind != STR1:
                break
        self.lex.pending.extendleft(reversed(seen))
        return nxt.kind == "{"

    def recover(self) -> bool:
        """Bison-style recovery of ``param: error``: drop tokens up to and
        including the next ';'.  False if EOF comes first."""
        while self.tok.kind not in (";", EOF):
            self.tok = self.lex.next()
        if self.tok.kind == EOF:
            return False
        self.quiet = 3
        self.advance()
        return True

    def parse_jail(self) -> None:
        bname = self.advance().value        # STR
        while self.tok.kind == STR1:
            bname += self.advance().value
        self.advance()                      # '{'
        st = self.st
        if st.current is None:
            name = bname
        else:
            name = st.current.name + "." + bname
        j = st.add_jail(name)
        j.parent = st.current
        st.current = j
        try:
            ok = self.parse_conf(in_block=True)
            if not ok:
                raise _Abort()
            self.advance()                  # '}'
        finally:
            st.current = j.parent

    def parse_param(self) -> CfParam:
        t = self.tok
        if t.kind == STR:
            p = CfParam(t.value, [], 0)
        elif t.kind == VAR:
            p = CfParam(t.value, [], PF_VAR)
        else:
            raise _Syntax(t)
        self.advance()
        k = self.tok.kind
        if k == "=":
            self.advance()
            p.values = self.parse_value()
        elif k == PLEQ:
            self.advance()
            p.values = self.parse_value()
            p.flags |= PF_APPEND
        elif k in (STR, VAR):
            p.values = self.parse_value()
            p.flags |= PF_NAMEVAL
        return p

    def parse_value(self) -> list[CfString]:
        vals = [self.parse_string()]
        while self.tok.kind == ",":
            self.advance()
            vals.append(self.parse_string())
        return vals

    def parse_string(self) -> CfString:
        t = self.tok
        if t.kind == STR:
            s = CfString(t.value, [])
        elif t.kind == VAR:
            s = CfString("", [(t.value, 0)])
        else:
            raise _Syntax(t)
        self.advance()
        while self.tok.kind in (STR1, VAR1):
            t = self.advance()
            if t.kind == STR1:
                s.text += t.value
            else:
                s.vars.append((t.value, len(s.text)))
        return s

    # A complete statement: `.include`, or a parameter of the open block
    # (or of the global pseudo-jail "*").
    def statement(self, p: CfParam, line: int) -> None:
        if (p.name == ".include"
                and (p.flags & (PF_VAR | PF_APPEND | PF_NAMEVAL)) == PF_NAMEVAL):
            for s in p.values:
                if s.vars:
                    self.st.errors.append(
                        f"{self.cfname} line {line}: variables not "
                        f"permitted in '.include' filename")
                else:
                    include_config(self.st, self.cfname, self.is_stdin, s.text)
            return
        st = self.st
        j = st.current
        if j is None:
            j = st.jails[-1] if st.jails else None
            if j is None or j.name != "*":
                j = st.add_jail("*")
        j.params.append(p)


class _Abort(Exception):
    pass


def parse_text(state: ParseState, text: str, cfname: str,
               is_stdin: bool = False) -> None:
    fp = _FileParser(state, text, cfname, is_stdin)
    if fp.progress is not None:
        fp.progress("parsing", 0, len(text))
    try:
        fp.parse_conf(in_block=False)
    except _Abort:
        pass
    if fp.progress is not None:
        fp.progress("parsing", len(text), len(text))
    if state.errors:
        raise ConfError(list(state.errors))


def parse_file(state: ParseState, cfname: str) -> None:
    try:
        with open(cfname, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as e:
        raise ConfError(list(state.errors) +
                        [f"{cfname}: {os.strerror(e.errno or 5)}"])
    parse_text(state, text, cfname)


def include_config(state: ParseState, outer: str, outer_is_stdin: bool,
                   name: str) -> None:
    state.depth += 1
    try:
        if state.depth > MAX_INCLUDE_DEPTH:
            raise ConfError(list(state.errors) +
                            [f"{name}: includes nested too deeply"])
        # Relative names are relative to the including file's directory.
        if not outer_is_stdin and not name.startswith("/"):
            slash = outer.rfind("/")
            if slash >= 0:
                name = outer[:slash + 1] + name
        if glob.has_magic(name):
            for path in sorted(glob.glob(name)):
                parse_file(state, path)
        else:
            parse_file(state, name)
    finally:
        state.depth -= 1
