"""Tokenizer for jail.conf(5), following the rules of FreeBSD's jaillex.l.

Tokens:

- ``PLEQ`` (``+=``), and the single characters ``{ } , ; =``
- ``STR`` / ``STR1``: a piece of string text.  A piece that directly follows
  another piece (no whitespace or punctuation in between) is ``STR1`` and is
  glued onto the string being built; otherwise it is ``STR`` and starts a new
  string.  Unquoted tokens, ``'single'`` and ``"double"`` quoted pieces and
  single backslash escapes are all pieces.
- ``VAR`` / ``VAR1``: a ``$name`` or ``${name}`` reference, in the same
  first/continuation forms.  Only unquoted and double-quoted text expands.
- ``EOF``

Lexical errors (unterminated comment, string or variable) are recorded in
``Lexer.errors`` as ``FILE line N: ...`` messages; tokenizing goes on, as in
FreeBSD, and the parse as a whole then fails.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

PLEQ = "PLEQ"
STR = "STR"
STR1 = "STR1"
VAR = "VAR"
VAR1 = "VAR1"
EOF = "EOF"

# An unquoted "atomic" run of ordinary characters.
_ATOM = re.compile(r"[A-Za-z0-9_!%&()\-.:<>?@\[\]^`|~]+")
_VARNAME = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)")
_WS = re.compile(r"[ \t\r\n]+")
_COMMENT_C = re.compile(r"/\*([^*]|(\*+([^*/])))*\*+/")
_COMMENT_C_OPEN = re.compile(r"/\*([^*]|(\*+([^*/])))*\**")


def _scan_braced_var(t: str, q: int, end: int, stops: str) -> tuple[int, bool]:
    """Scan the body of ``${...}`` from q: (index of the closing brace, True),
    or (where the scan stopped, False) at one of ``stops`` or at ``end``.
    Backslash escapes are skipped over."""
    while q < end:
        d = t[q]
        if d == "\\" and q + 1 < end:
            q += 2
            continue
        if d in stops:
            return q, False
        if d == "}":
            return q, True
        q += 1
    return q, False


@dataclass
class Token:
    kind: str
    value: str          # decoded text (pieces) or variable name
    raw: str            # the matched source text, for error messages
    line: int           # line number at the end of the match


def decode_escapes(s: str) -> str:
    """Decode backslash escapes the way jaillex.l's text2lval does."""
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            # A lone trailing backslash cannot come from the lexer rules.
            out.append("\\")
            break
        c = s[i]
        if "0" <= c <= "7":
            val = ord(c) - 48
            i += 1
            for _ in range(2):
                if i < n and "0" <= s[i] <= "7":
                    val = val * 8 + ord(s[i]) - 48
                    i += 1
                else:
                    break
            out.append(chr(val & 0xFF))
            continue
        i += 1
        if c == "x":
            val = 0
            for _ in range(2):
                if i < n and _hexdigit(s[i]):
                    val = val * 16 + int(s[i], 16)
                    i += 1
                else:
                    break
            out.append(chr(val))
        else:
            # backslash-newline is a continuation: it decodes to nothing
            out.append(_ESCAPES.get(c, c))
    return "".join(out)


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\n": ""}


def _closing_quote(t: str, i: int, quote: str) -> int:
    """Where the quote opened just before i closes (a backslash escapes any
    character, even a newline), or a position at or past the end."""
    n = len(t)
    while i < n:
        c = t[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i
        i += 1
    return i


def _hexdigit(c: str) -> bool:
    return c in "0123456789abcdefABCDEF"


class Lexer:
    def __init__(self, text: str, cfname: str,
                 errors: list[str] | None = None):
        self.text = text
        self.cfname = cfname
        self.pos = 0
        self.instr = False      # the previous token was a string piece
        self.errors: list[str] = [] if errors is None else errors
        self.pending: deque[Token] = deque()
        # Line numbers are counted from the last position asked about, not
        # from the start of the file: positions mostly move forward, so
        # every character is counted about once (linear in the file).
        self._line_pos = 0
        self._line = 1
        self.chars_scanned_for_lines = 0       # characters scanned for line numbers

    # -- helpers ---------------------------------------------------------
    def _line_at(self, pos: int) -> int:
        last = self._line_pos
        if pos >= last:
            self._line += self.text.count("\n", last, pos)
            self.chars_scanned_for_lines += pos - last
        else:
            self._line -= self.text.count("\n", pos, last)
            self.chars_scanned_for_lines += last - pos
        self._line_pos = pos
        return self._line

    def _error(self, msg: str, end: int) -> None:
        self.errors.append(f"{self.cfname} line {self._line_at(end)}: {msg}")

    def _piece(self, kind_first: str, kind_cont: str, value: str, raw: str,
               end: int) -> Token:
        kind = kind_cont if self.instr else kind_first
        self.instr = True
        return Token(kind, value, raw, self._line_at(end))

    # -- double-quoted strings ------------------------------------------
    def _scan_dquote(self, start: int) -> list[Token] | None:
        """Scan a complete "..." string at start; None if unterminated."""
        t = self.text
        n = len(t)
        i = start + 1
        j = _closing_quote(t, i, '"')
        if j >= n:
            return None
        end = j + 1                 # just past the closing quote
        raw = t[start:end]
        toks: list[Token] = []
        lit_start = i
        buf_pieces: list[tuple[str, int, int]] = []  # (kind, a, b)

        # Split the body into literal runs and variable references.
        k = i
        while k < j:
            c = t[k]
            if c == "\\":
                k += 2
                continue
            if c == "$":
                m = _VARNAME.match(t, k, j)
                if m:
                    buf_pieces.append(("lit", lit_start, k))
                    buf_pieces.append(("var", m.start(1), m.end(1)))
                    k = m.end()
                    lit_start = k
                    continue
                if k + 1 < j and t[k + 1] == "{":
                    # ${...}: no newline, quote or brace inside (escapes ok)
                    q, ok = _scan_braced_var(t, k + 2, j, "\n\"{")
                    if ok:
                        buf_pieces.append(("lit", lit_start, k))
                        buf_pieces.append(("bvar", k + 2, q))
                        k = q + 1
                        lit_start = k
                        continue
                    # unterminated variable inside a string
                    self._error("unterminated variable", q)
                    buf_pieces.append(("lit", lit_start, k))
                    k = q
                    lit_start = k
                    continue
                # a lone "$" is literal text
            k += 1
        buf_pieces.append(("lit", lit_start, j))

        first = True
        for kind, a, b in buf_pieces:
            if kind == "lit":
                # The first piece is always emitted (even empty: "" and "$x");
                # later empty literal runs produce nothing.
                if a == b and not first:
                    continue
                toks.append(self._piece(STR, STR1, decode_escapes(t[a:b]),
                                        raw, end))
            else:
                toks.append(self._piece(VAR, VAR1, decode_escapes(t[a:b]),
                                        raw, end))
            first = False
        return toks

    # -- main entry ------------------------------------------------------
    def next(self) -> Token:
        if self.pending:
            return self.pending.popleft()
        t = self.text
        n = len(t)
        while True:
            p = self.pos
            if p >= n:
                return Token(EOF, "", "", self._line_at(n))
            c = t[p]
            m = _WS.match(t, p)
            if m:
                self.pos = m.end()
                self.instr = False
                continue
            if c == "#" or t.startswith("//", p):
                e = t.find("\n", p)
                self.pos = n if e < 0 else e
                self.instr = False
                continue
            if t.startswith("/*", p):
                m = _COMMENT_C.match(t, p)
                if m:
                    self.pos = m.end()
                    self.instr = False
                    continue
                m = _COMMENT_C_OPEN.match(t, p)
                self.pos = m.end()
                self._error("unterminated comment", self.pos)
                continue
            if t.startswith("+=", p):
                self.pos = p + 2
                self.instr = False
                return Token(PLEQ, "+=", "+=", self._line_at(self.pos))
            if c in ",;={}":
                self.pos = p + 1
                self.instr = False
                return Token(c, c, c, self._line_at(self.pos))
            m = _ATOM.match(t, p)
            if m:
                self.pos = m.end()
                return self._piece(STR, STR1, m.group(), m.group(), self.pos)
            if c == "\\":
                # one escape: \\ followed by any char, newline, octal or hex
                q = p + 1
                if q >= n:
                    self.pos = n
                    return self._piece(STR, STR1, "\\", "\\", n)
                d = t[q]
                if "0" <= d <= "7":
                    e = q + 1
                    while e < n and e < q + 3 and "0" <= t[e] <= "7":
                        e += 1
                elif d == "x" and q + 1 < n and _hexdigit(t[q + 1]):
                    e = q + 2
                    if e < n and _hexdigit(t[e]):
                        e += 1
                else:
                    e = q + 1
                self.pos = e
                raw = t[p:e]
                return self._piece(STR, STR1, decode_escapes(raw), raw, e)
            if c == "'":
                j = _closing_quote(t, p + 1, "'")
                if j < n:
                    self.pos = j + 1
                    raw = t[p:j + 1]
                    return self._piece(STR, STR1, decode_escapes(t[p + 1:j]),
                                       raw, self.pos)
                e = t.find("\n", p)
                self.pos = n if e < 0 else e
                self._error("unterminated string", self.pos)
                continue
            if c == '"':
                toks = self._scan_dquote(p)
                if toks is None:
                    e = t.find("\n", p)
                    self.pos = n if e < 0 else e
                    self._error("unterminated string", self.pos)
                    continue
                # advance past the closing quote
                self.pos = p + len(toks[0].raw)
                self.pending.extend(toks[1:])
                return toks[0]
            if c == "$":
                m = _VARNAME.match(t, p)
                if m:
                    self.pos = m.end()
                    return self._piece(VAR, VAR1, m.group(1), m.group(),
                                       self.pos)
                if t.startswith("${", p):
                    q, ok = _scan_braced_var(t, p + 2, n, "\n{")
                    if ok:
                        self.pos = q + 1
                        raw = t[p:q + 1]
                        return self._piece(VAR, VAR1,
                                           decode_escapes(t[p + 2:q]), raw,
                                           self.pos)
                    self.pos = min(q, n)
                    self._error("unterminated variable", self.pos)
                    continue
                self.pos = p + 1
                return self._piece(STR, STR1, "$", "$", self.pos)
            if c in "*+/":
                self.pos = p + 1
                return self._piece(STR, STR1, c, c, self.pos)
            # anything else is returned as itself (and is a syntax error)
            self.pos = p + 1
            return Token(c, c, c, self._line_at(self.pos))
