"""pgrep(1) and pkill(1), with -j jid|name|any|none, as bin/pkill/pkill.c.

    pgrep [-LSfilnoqvx] [-d delim] [-F pidfile] [-G gid] [-P ppid] [-U uid]
          [-c class] [-g pgrp] [-j jail] [-s sid] [-t tty] [-u euid] pattern ...
    pkill [-signal] [-ILfilnovx] ... pattern ...

Exit status 0 when something matched, 1 when nothing did, 2 for bad usage,
3 for a fatal error. The processes are those the caller's jail can see
(procs.py); each one's jail is the daemon's answer.
"""

from __future__ import annotations

import getopt
import grp
import os
import pwd
import re
import signal
import sys

from jailfs.toolbox.common import Failed, strtol0, warnx
from jailfs.toolbox.procs import Proc, jail_id, my_ancestors, visible

STATUS_MATCH, STATUS_NOMATCH, STATUS_BADUSAGE, STATUS_ERROR = 0, 1, 2, 3
MIN_PID, MAX_PID = 5, 99999
ANY_JAIL = -1
OPTIONS = "DF:G:ILM:N:P:SU:ac:d:fg:ij:lnoqs:t:u:vx"


class Exit(Exception):
    """errx(status, message): ``message`` may be empty (usage already printed)."""

    def __init__(self, status: int, message: str = ""):
        super().__init__(message)
        self.status = status


def usage(prog: str) -> Exit:
    ustr = "[-LSfilnoqvx] [-d delim]" if prog == "pgrep" else "[-signal] [-ILfilnovx]"
    print(f"usage: {prog} {ustr} [-F pidfile] [-G gid] [-M core] [-N system]\n"
          "             [-P ppid] [-U uid] [-c class] [-g pgrp] [-j jail]\n"
          "             [-s sid] [-t tty] [-u euid] pattern ...", file=sys.stderr)
    return Exit(STATUS_BADUSAGE)


def signal_number(word: str) -> int | None:
    """`-9`, `-KILL`, `-sigkill`: the signal a pkill argument names, None if none."""
    if re.fullmatch(r"[+-]?\d+", word):
        return int(word)
    name = word.upper().removeprefix("SIG")
    try:
        return signal.Signals["SIG" + name].value
    except KeyError:
        return None


def makelist(prog: str, kind: str, text: str) -> list:
    """pkill.c's makelist: comma-separated numbers or names of one kind."""
    out = []
    for word in text.split(","):
        if word == "":
            raise usage(prog)
        number = strtol0(word)
        if number is not None and kind != "class":
            if kind == "pgrp" and number == 0:
                number = os.getpgrp()
            elif kind == "sid" and number == 0:
                number = os.getsid(0)
            elif kind == "jail":
                if number < 0:
                    raise Exit(STATUS_BADUSAGE, f"Negative jail ID `{word}'")
                number = number or ANY_JAIL         # for compatibility with old -j
            elif kind == "tty":
                raise Exit(STATUS_BADUSAGE, f"No such tty: `/dev/pts/{word}'")
            out.append(number)
            continue
        if kind == "user":
            try:
                out.append(pwd.getpwnam(word).pw_uid)
            except KeyError:
                raise Exit(STATUS_BADUSAGE, f"Unknown user `{word}'") from None
        elif kind == "group":
            try:
                out.append(grp.getgrnam(word).gr_gid)
            except KeyError:
                raise Exit(STATUS_BADUSAGE, f"Unknown group `{word}'") from None
        elif kind == "jail":
            jid = 0 if word == "none" else ANY_JAIL if word == "any" else jail_id(word)
            if jid is None:
                raise Exit(STATUS_BADUSAGE, f"Invalid jail ID or name `{word}'")
            out.append(jid)
        elif kind == "tty":
            if word != "-":
                raise Exit(STATUS_BADUSAGE, f"No such tty: `{word}'")
            out.append(-1)
        elif kind == "class":
            out.append(word)
        else:
            raise usage(prog)
    return out


# Python's complaint -> regerror(3)'s text for the code regcomp(3) returns
_REGERROR = (("missing )", "parentheses not balanced"), ("unbalanced parenthesis", "parentheses not balanced"),
             ("unterminated character set", "brackets ([ ]) not balanced"),
             ("nothing to repeat", "repetition-operator operand invalid"),
             ("multiple repeat", "repetition-operator operand invalid"),
             ("bad escape (end of pattern)", "trailing backslash (\\)"),
             ("bad character range", "invalid character range"),
             ("min repeat greater than max repeat", "invalid repetition count(s)"),
             ("invalid group reference", "invalid backreference number"))


def regerror(e: re.error) -> str:
    """FreeBSD's regerror text for a pattern Python's re refuses."""
    return next((text for start, text in _REGERROR if e.msg.startswith(start)),
                "invalid regular expression")


def takepid(pidfile: str) -> int:
    try:
        with open(pidfile) as f:
            line = f.readline()
    except OSError as e:
        raise Exit(STATUS_ERROR, f"Cannot open pidfile `{pidfile}': {e.strerror}") from None
    if line == "":
        raise Exit(STATUS_ERROR, f"Pidfile `{pidfile}' is empty")
    m = re.match(r"\s*([+-]?\d+)(\s|$)", line)
    if m is None or not MIN_PID <= int(m.group(1)) <= MAX_PID:
        raise Exit(STATUS_ERROR, f"Invalid pid in file `{pidfile}'")
    return int(m.group(1))


def matched_text(p: Proc, matchargs: bool) -> str:
    return " ".join(p.argv) if matchargs and p.argv else p.comm


def shown(p: Proc, prog: str, longfmt: bool, matchargs: bool) -> str:
    if (longfmt or prog == "pkill") and matchargs and p.argv:
        return f"{p.pid} {' '.join(p.argv)}"
    if longfmt or prog == "pkill":
        return f"{p.pid} {p.comm}"
    return str(p.pid)


def select(procs: list[Proc], opts: dict, lists: dict, patterns: list[str], pidfromfile: int | None,
           kthreads: bool) -> list[Proc]:
    mypid = os.getpid()
    flags = re.IGNORECASE if "i" in opts else 0
    keep = [p for p in procs if p.pid != mypid and (kthreads or not p.kthread)]
    chosen = set()
    for pattern in patterns:
        try:
            rx = re.compile(pattern, flags)
        except re.error as e:
            raise Exit(STATUS_BADUSAGE,
                       f"Cannot compile regular expression `{pattern}' ({regerror(e)})") from None
        for p in keep:
            text = matched_text(p, "f" in opts)
            if (rx.fullmatch(text) if "x" in opts else rx.search(text)) is not None:
                chosen.add(p.pid)
    tests = {"ruid": lambda p: p.ruid, "rgid": lambda p: p.rgid, "euid": lambda p: p.euid,
             "ppid": lambda p: p.ppid, "pgrp": lambda p: p.pgid, "sid": lambda p: p.sid}
    for p in keep:
        if pidfromfile is not None and p.pid != pidfromfile:
            chosen.discard(p.pid)
            continue
        ok = all(get(p) in lists[name] for name, get in tests.items() if lists.get(name))
        if lists.get("tty"):
            ok = ok and p.tty == 0
        if lists.get("jail"):
            ok = ok and any(p.jid == j or (j == ANY_JAIL and p.jid > 0) for j in lists["jail"])
        if lists.get("class"):
            ok = ok and "default" in lists["class"]
        if not ok:
            chosen.discard(p.pid)
        elif not patterns:
            chosen.add(p.pid)
    if "a" not in opts:
        chosen -= my_ancestors()
    picked = [p for p in keep if p.pid in chosen]
    if ("n" in opts or "o" in opts) and picked:
        best = (max if "n" in opts else min)(picked, key=lambda p: (p.start, p.pid if "n" in opts else -p.pid))
        picked = [best]
    if "v" in opts:
        return [p for p in keep if p.pid not in {q.pid for q in picked} and p.pid not in my_ancestors()]
    return picked


def pkill_main(prog: str, argv: list[str]) -> int:
    signum = signal.SIGTERM
    if prog == "pkill" and argv and argv[0].startswith("-"):
        number = signal_number(argv[0][1:])
        if number is not None:
            signum, argv = number, argv[1:]
    try:
        pairs, patterns = getopt.getopt(argv, OPTIONS)
    except getopt.GetoptError:
        raise usage(prog) from None
    opts: dict[str, str] = {}
    lists: dict[str, list] = {}
    kinds = {"G": ("rgid", "group"), "P": ("ppid", "number"), "U": ("ruid", "user"),
             "c": ("class", "class"), "g": ("pgrp", "pgrp"), "j": ("jail", "jail"),
             "s": ("sid", "sid"), "t": ("tty", "tty"), "u": ("euid", "user")}
    criteria = bool(patterns)
    for flag, value in pairs:
        letter = flag[1]
        if (letter in "Sdq" and prog != "pgrep") or (letter == "I" and prog == "pgrep"):
            raise usage(prog)
        if letter in kinds:
            name, kind = kinds[letter]
            lists.setdefault(name, []).extend(makelist(prog, kind, value))
            criteria = True
        else:
            opts[letter] = value
            criteria = criteria or letter in "Fno"
    if not criteria:
        raise usage(prog)
    if "n" in opts and "o" in opts:
        raise Exit(STATUS_ERROR, "Options -n and -o are mutually exclusive")
    if "M" in opts or "N" in opts:
        raise Exit(STATUS_ERROR, "Cannot open kernel files (only the running kernel is known here)")
    if "L" in opts and "F" not in opts:
        raise Exit(STATUS_ERROR, "Option -L doesn't make sense without -F")
    pidfromfile = takepid(opts["F"]) if "F" in opts else None
    try:
        procs = visible()
    except Failed as e:
        raise Exit(STATUS_ERROR, f"Cannot get process list ({e})") from None
    picked = select(procs, opts, lists, patterns, pidfromfile, "S" in opts)
    return act(prog, picked, opts, signum)


def act(prog: str, picked: list[Proc], opts: dict, signum: int) -> int:
    longfmt, matchargs = "l" in opts, "f" in opts
    did = False
    for p in picked:
        if prog == "pgrep":
            if "q" not in opts:
                sys.stdout.write(shown(p, prog, longfmt, matchargs) + opts.get("d", "\n"))
            did = True
            continue
        if longfmt:
            print(f"kill -{int(signum)} {p.pid}")
        if "I" in opts:
            sys.stdout.write(f"kill {shown(p, prog, longfmt, matchargs)}? ")
            sys.stdout.flush()
            if sys.stdin.readline()[:1] not in ("y", "Y"):
                continue
        try:
            os.kill(p.pid, signum)
            did = True
        except ProcessLookupError:
            pass
        except OSError as e:
            warnx(prog, f"signalling pid {p.pid}: {e.strerror}")
    if prog == "pkill" and longfmt and not picked:
        print("No matching processes belonging to you were found", file=sys.stderr)
    sys.stdout.flush()
    return STATUS_MATCH if did else STATUS_NOMATCH


def _main(prog: str, argv: list[str] | None) -> int:
    try:
        return pkill_main(prog, list(sys.argv[1:] if argv is None else argv))
    except Exit as e:
        if str(e):
            warnx(prog, str(e))
        return e.status
    except Failed as e:
        warnx(prog, str(e))
        return STATUS_ERROR


def main_pgrep(argv: list[str] | None = None) -> int:
    return _main("pgrep", argv)


def main_pkill(argv: list[str] | None = None) -> int:
    return _main("pkill", argv)
