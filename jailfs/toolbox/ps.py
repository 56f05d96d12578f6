"""ps(1) with FreeBSD's jail selection and columns: -J and -o jid/jail.

    ps [-aAxX] [-J jid[,jid...]] [-p pid[,pid...]] [-U user[,user...]] [-o keyword[=header]...]

Selection as bin/ps: without a selector only the caller's own processes
with a terminal (-a: everybody's, -x: without a terminal too); -J, -p, -U
select, and a process matching any of them is shown (terminal or not).
The processes are those the caller's jail may see, each with its jid
(procs.py). Columns are as wide as their widest value, numbers right
aligned, the last column unpadded; STAT carries FreeBSD's ``J`` for a
process in a jail.
"""

from __future__ import annotations

import os
import pwd
from typing import Callable, NamedTuple

from jailfs.toolbox.common import Failed, Usage, getopts, must, run
from jailfs.toolbox.procs import Proc, jail_id, visible

PROG = "ps"
DEFAULT_FORMAT = "pid,tt,state,time,command"
USAGE = ("usage: ps [--libxo] [-aCcdefHhjlmrSTuvwXxZ] [-O fmt | -o fmt]\n"
         "          [-G gid[,gid...]] [-J jid[,jid...]] [-M core] [-N system]\n"
         "          [-p pid[,pid...]] [-t tty[,tty...]] [-U user[,user...]]\n"
         "       ps [--libxo] -L")
TICKS = os.sysconf("SC_CLK_TCK")
# ps.c sizes process-id columns for kern.pid_max (FreeBSD's default 99999).
PID_WIDTH = 5
PID_COLUMNS = {"pid", "ppid", "pgid", "sid"}


class Column(NamedTuple):
    header: str
    right: bool
    value: Callable[[Proc, dict], str]


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _tty(p: Proc, ctx) -> str:
    if p.tty == 0:
        return "-"
    major, minor = os.major(p.tty), os.minor(p.tty)
    return str(minor) if 136 <= major <= 143 else f"v{minor}"


def _state(p: Proc, ctx) -> str:
    letter = {"R": "R", "S": "S", "D": "D", "T": "T", "t": "T", "Z": "Z", "X": "Z",
              "I": "I"}.get(p.state, "S")
    if p.pid == p.sid:
        letter += "s"
    if p.jid > 0:
        letter += "J"
    return letter


def _time(p: Proc, ctx) -> str:
    hundredths = p.cputicks * 100 // TICKS
    secs, cs = divmod(hundredths, 100)
    return "%ld:%02ld.%02ld" % (secs // 60, secs % 60, cs)


def _command(p: Proc, ctx) -> str:
    if not p.argv:
        return f"[{p.comm}]"
    text = " ".join(p.argv)
    if os.path.basename(p.argv[0])[:15] != p.comm:
        text += f" ({p.comm})"
    return text


COLUMNS = {
    "pid": Column("PID", True, lambda p, c: str(p.pid)),
    "ppid": Column("PPID", True, lambda p, c: str(p.ppid)),
    "pgid": Column("PGID", True, lambda p, c: str(p.pgid)),
    "sid": Column("SID", True, lambda p, c: str(p.sid)),
    "jid": Column("JID", True, lambda p, c: str(p.jid)),
    "jail": Column("JAIL", False, lambda p, c: c["jails"].get(p.jid, "-")),
    "uid": Column("UID", True, lambda p, c: str(p.euid)),
    "ruid": Column("RUID", True, lambda p, c: str(p.ruid)),
    "user": Column("USER", False, lambda p, c: _user(p.euid)),
    "ruser": Column("RUSER", False, lambda p, c: _user(p.ruid)),
    "comm": Column("COMMAND", False, lambda p, c: p.comm),
    "ucomm": Column("UCOMM", False, lambda p, c: p.comm),
    "command": Column("COMMAND", False, _command),
    "state": Column("STAT", False, _state),
    "tt": Column("TT", False, _tty),
    "time": Column("TIME", True, _time),
}
ALIASES = {"args": "command", "stat": "state", "tty": "tt", "cputime": "time", "login": "user"}


def parse_format(text: str) -> list[tuple[str, str]]:
    """`pid,jid=J,command` -> [(keyword, header)], split at commas and blanks
    first as ps.c's parsefmt does, so `-o pid=,comm=` has two empty headers."""
    out = []
    for word in text.replace("\t", " ").replace(" ", ",").split(","):
        if not word:
            continue
        name, eq, header = word.partition("=")
        key = ALIASES.get(name, name)
        if key not in COLUMNS:
            raise Failed(f"{name}: keyword not found")
        out.append((key, header if eq else COLUMNS[key].header))
    return out


def _numbers(text: str, what: str, convert) -> set[int]:
    out = set()
    for word in text.replace(" ", ",").split(","):
        if word:
            value = convert(word)
            if value is None:
                raise Failed(f"Invalid {what}: {word}")
            out.add(value)
    return out


def _uid(word: str) -> int:
    """ps.c's addelem_uid: a user name, else a uid some user has."""
    try:
        return pwd.getpwnam(word).pw_uid
    except KeyError:
        pass
    if not (word.isascii() and word.isdigit()) or int(word) > 0xFFFFFFFF:
        raise Failed(f"No user named '{word}'")
    try:
        return pwd.getpwuid(int(word)).pw_uid
    except KeyError:
        raise Failed(f"No user name or ID matches '{word}'") from None


def _pid(word: str) -> int | None:
    """ps.c's addelem_pid: a decimal pid, at most the system's pid_max."""
    if not (word.isascii() and word.isdigit()):
        return None
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
    except (OSError, ValueError):
        pid_max = 4194304           # Linux's PID_MAX_LIMIT
    if int(word) > pid_max:
        raise Failed(f"process id too large: {word}")
    return int(word)


def ps(argv: list[str]) -> int:
    pairs, rest = getopts(argv, "aAxXwJ:p:U:o:")
    if rest:
        raise Usage()
    everybody = no_tty = False
    jails: set[int] = set()
    pids: set[int] = set()
    uids: set[int] = set()
    fmt: list[tuple[str, str]] = []
    for flag, value in pairs:
        letter = flag[1]
        if letter in "aA":
            everybody = True
            no_tty = no_tty or letter == "A"
        elif letter == "x":
            no_tty = True
        elif letter == "X":
            no_tty = False
        elif letter == "J":
            jails |= _numbers(value, "jail id", jail_id)
        elif letter == "p":
            pids |= _numbers(value, "process id", _pid)
        elif letter == "U":
            uids |= _numbers(value, "user", _uid)
        elif letter == "o":
            fmt += parse_format(value)
    fmt = fmt or parse_format(DEFAULT_FORMAT)
    selected = []
    for p in visible():
        if jails or pids or uids:
            if p.jid in jails or p.pid in pids or p.ruid in uids:
                selected.append(p)
        elif (everybody or p.euid == os.geteuid()) and (no_tty or p.tty != 0):
            selected.append(p)
    ctx = {"jails": {int(line.split(" ", 1)[0]): line.split(" ", 1)[1]
                     for line in must("list").extra} if any(k == "jail" for k, _ in fmt) else {}}
    rows = [[COLUMNS[key].value(p, ctx) for key, _ in fmt] for p in selected]
    headers = [header for _, header in fmt]
    widths = [max([len(h), PID_WIDTH if key in PID_COLUMNS else 0] + [len(r[i]) for r in rows])
              for i, (h, (key, _)) in enumerate(zip(headers, fmt))]
    for cells in ([headers] if any(headers) else []) + rows:
        out = []
        for i, (key, _) in enumerate(fmt):
            last = i == len(fmt) - 1
            cell = cells[i]
            if COLUMNS[key].right:
                cell = cell.rjust(widths[i])
            elif not last:
                cell = cell.ljust(widths[i])
            out.append(cell)
        print(" ".join(out))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(PROG, ps, argv, USAGE)
