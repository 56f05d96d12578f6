"""ipcs(1) and ipcrm(1): the SysV IPC objects the caller's jail can see.

    ipcs [-abcmopqstMQST] [-u user] [-J jail]
    ipcrm [-W] [-v] [-q msqid] [-m shmid] [-s semid] [-Q msgkey] [-M shmkey] [-S semkey] [-J jail]

Without -J both behave as usr.bin/ipcs and usr.bin/ipcrm do in the caller's
jail: objects under its facility root, keys of objects made in another jail
shown as IPC_PRIVATE (0), an empty table where the facility is disabled.
``-J JAIL`` (ours: FreeBSD discussed it in 2006 and never built it) works
from above on one jail's objects, those made in JAIL or below it: ipcs
lists them as JAIL sees them with a last column JAIL naming each object's
maker, ipcrm removes them by JAIL's ids and keys (``-W`` all of them).
The model keeps an object's existence, key, owner and attach count; modes
(0600), sizes, times and pids are not modelled and print as such.
A jail with its own IPC namespace (a ``sysv*=new``) also has real objects:
the daemon reads them there (/proc/sysvipc) and they print after the
model's with their own modes, owners, sizes, pids (as the caller's pid
namespace numbers them) and times (a queue's QBYTES is not in /proc and
prints as 0). A caller sees those of its own namespace and of every jail
below it (the host: of every jail), the latter with keys 0 and, since ids
repeat across namespaces, with a last JAIL column. ipcrm removes one by id:
the model's, else its own namespace's, else the one jail below that has
it; an id several jails below have is refused (EINVAL) until -J names one.
"""

from __future__ import annotations

import getopt
import grp
import pwd
import re
import sys
import time
from typing import NamedTuple

from jailfs.toolbox.common import Failed, must, request, run, strerror, strtol0, warnx

# (letter, facility word, table title, IPC_TO_STR, IPC_TO_STRING)
_FACILITIES = {"msg": ("q", "Message Queues:", "msq", "message queue"),
               "shm": ("m", "Shared Memory:", "shm", "shared memory segment"),
               "sem": ("s", "Semaphores:", "sem", "semaphore")}
_ORDER = ("msg", "shm", "sem")                  # ipcs.c's order
BIGGEST, CREATOR, OUTSTANDING, PID, TIME = 1, 2, 4, 8, 16
MODE = 0o600
# The totals ipcs -T prints: FreeBSD 14's defaults, with the identifier
# counts the kernel model enforces.
_TOTALS = {
    "msg": ("msginfo:", [("msgmax", 16384, "max characters in a message"),
                         ("msgmni", 40, "# of message queues"),
                         ("msgmnb", 2048, "max characters in a message queue"),
                         ("msgtql", 40, "max # of messages in system"),
                         ("msgssz", 8, "size of a message segment"),
                         ("msgseg", 2048, "# of message segments in system")]),
    "shm": ("shminfo:", [("shmmax", 4294967296, "max shared memory segment size"),
                         ("shmmin", 1, "min shared memory segment size"),
                         ("shmmni", 192, "max number of shared memory identifiers"),
                         ("shmseg", 128, "max shared memory segments per process"),
                         ("shmall", 1048576, "max amount of shared memory in pages")]),
    "sem": ("seminfo:", [("semmni", 50, "# of semaphore identifiers"),
                         ("semmns", 340, "# of semaphores in system"),
                         ("semmnu", 150, "# of undo structures in system"),
                         ("semmsl", 340, "max # of semaphores per id"),
                         ("semopm", 100, "max # of operations per semop call"),
                         ("semume", 50, "max # of undo entries per process"),
                         ("semusz", 632, "size in bytes of undo structure"),
                         ("semvmx", 32767, "semaphore maximum value"),
                         ("semaem", 16384, "adjust on exit max value")]),
}


class SysvObject(NamedTuple):
    facility: str
    ident: int
    key: int
    uid: int
    nattch: int
    jail: str
    real: dict | None = None    # a real object's /proc/sysvipc columns


def objects(jail: str | None) -> list[SysvObject]:
    """The daemon's `sysvlist` answer (a disabled facility is an empty table)."""
    answer = must("sysvlist", *([jail] if jail else []))
    out = []
    for line in answer.extra:
        words = line.split()
        if len(words) == 6 or (len(words) > 6 and words[6] == "real"):
            real = dict(w.split("=", 1) for w in words[7:]) if len(words) > 6 else None
            out.append(SysvObject(words[0], int(words[1]), int(words[2]), int(words[3]),
                                  int(words[4]), words[5],
                                  {n: int(v) for n, v in real.items()} if real is not None else None))
    return out


def _real(o: SysvObject, *names: str, default: int = 0) -> tuple:
    """A real object's columns (the model's default where it has none)."""
    return tuple((o.real or {}).get(n, default) for n in names)


def _times(o: SysvObject, *names: str) -> tuple:
    """ipcs.c's cvt_time of each: %2d:%02d:%02d local time, no-entry for none."""
    out = []
    for t in _real(o, *names):
        tm = time.localtime(t)
        out.append("%2d:%02d:%02d" % (tm.tm_hour, tm.tm_min, tm.tm_sec) if t else "no-entry")
    return tuple(out)


def fmt_perm(mode: int) -> str:
    bits = "".join(c if mode & (0o400 >> i) else "-" for i, c in enumerate("rwarwarwa"))
    return "--" + bits


def user_from_uid(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_from_uid(uid: int) -> str:
    try:
        return group_from_gid(pwd.getpwuid(uid).pw_gid)
    except KeyError:
        return str(uid)


def group_from_gid(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


# The columns each option adds, per facility, as ipcs.c prints them:
# (option, header format, headers, row format, row values). What the model
# does not keep (byte counts, sizes, pids, times) prints as zero or no-entry.
_COLUMNS = {
    "msg": [(OUTSTANDING, " %20s %20s", ("CBYTES", "QNUM"), " %12d %12d",
             lambda o: _real(o, "cbytes", "qnum")),
            (BIGGEST, " %20s", ("QBYTES",), " %20d", lambda o: (0,) if o.real else (2048,)),
            (PID, " %12s %12s", ("LSPID", "LRPID"), " %12d %12d", lambda o: _real(o, "lspid", "lrpid")),
            (TIME, " %-8s %-8s %-8s", ("STIME", "RTIME", "CTIME"), " %s %s %s",
             lambda o: _times(o, "stime", "rtime", "ctime"))],
    "shm": [(OUTSTANDING, " %12s", ("NATTCH",), " %12d", lambda o: (o.nattch,)),
            (BIGGEST, " %12s", ("SEGSZ",), " %12d", lambda o: _real(o, "size")),
            (PID, " %12s %12s", ("CPID", "LPID"), " %12d %12d", lambda o: _real(o, "cpid", "lpid")),
            (TIME, " %-8s %-8s %-8s", ("ATIME", "DTIME", "CTIME"), " %s %s %s",
             lambda o: _times(o, "atime", "dtime", "ctime"))],
    "sem": [(BIGGEST, " %12s", ("NSEMS",), " %12d", lambda o: _real(o, "nsems")),
            (TIME, " %-8s %-8s", ("OTIME", "CTIME"), " %s %s", lambda o: _times(o, "otime", "ctime"))],
}


def header(facility: str, option: int, jail_column: bool) -> str:
    text = "T %12s %12s %-11s %-8s %-8s" % ("ID", "KEY", "MODE", "OWNER", "GROUP")
    if option & CREATOR:
        text += " %-8s %-8s" % ("CREATOR", "CGROUP")
    for bit, fmt, names, _, _ in _COLUMNS[facility]:
        if option & bit:
            text += fmt % names
    return text + (" JAIL" if jail_column else "")


def row(o: SysvObject, option: int, jail_column: bool) -> str:
    owner, group = user_from_uid(o.uid), group_from_uid(o.uid)
    creator, cgroup, mode = owner, group, MODE
    if o.real:
        group, creator = group_from_gid(o.real["gid"]), user_from_uid(o.real["cuid"])
        cgroup, mode = group_from_gid(o.real["cgid"]), o.real["perms"] & 0o777
    text = "%s %12d %12d %s %-8s %-8s" % (_FACILITIES[o.facility][0], o.ident, o.key,
                                          fmt_perm(mode), owner, group)
    if option & CREATOR:
        text += " %-8s %-8s" % (creator, cgroup)
    for bit, _, _, fmt, values in _COLUMNS[o.facility]:
        if option & bit:
            text += fmt % values(o)
    return text + (f" {o.jail}" if jail_column else "")


def user2uid(name: str) -> int:
    """ipcs.c's user2uid: a number strtoul reads whole (base 0, as uid_t), else a user name."""
    number = strtol0(name)
    if number is not None:
        return number & 0xFFFFFFFF
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise Failed("getpwnam failed: No such user") from None


def ipcs(argv: list[str]) -> int:
    try:
        pairs, rest = getopt.getopt(argv, "MmQqSsabC:cN:optTu:yJ:")
    except getopt.GetoptError:
        print("usage: ipcs [-abcmopqstyMQST] [-C corefile] [-N namelist] [-u user] [-J jail]",
              file=sys.stderr)
        return 1
    display, totals, option, user, jail = set(_ORDER), set(), 0, None, None
    for flag, value in pairs:
        letter = flag[1]
        if letter in "mqs":
            display, totals = {"shm" if letter == "m" else "msg" if letter == "q" else "sem"}, set()
        elif letter in "MQS":
            display, totals = set(), {"shm" if letter == "M" else "msg" if letter == "Q" else "sem"}
        elif letter == "T":
            display, totals = set(), set(_ORDER)
        elif letter in "abcopt":
            option |= {"a": 31, "b": BIGGEST, "c": CREATOR, "o": OUTSTANDING, "p": PID, "t": TIME}[letter]
        elif letter in "CN":
            raise Failed("kvm_openfiles: only the running kernel is known here")
        elif letter == "u":
            user = user2uid(value)
        elif letter == "J":
            jail = value
    found = objects(jail) if display else []
    # ids of real objects repeat across IPC namespaces: when objects of a
    # namespace other than the caller's own are listed, each row names its jail
    jail_column = jail is not None or any(o.real is not None and o.jail != "0"
                                          and o.facility in display for o in found)
    for facility in _ORDER:
        if facility in totals:
            title, rows = _TOTALS[facility]
            print(title)
            for name, number, what in rows:
                print(f"\t{name}: {number:12d}\t({what})")
            print()
        if facility in display:
            print(_FACILITIES[facility][1])
            print(header(facility, option, jail_column))
            for o in found:
                if o.facility == facility and (user is None or o.uid == user):
                    print(row(o, option, jail_column))
            print()
    return 0


def _usage_ipcrm() -> int:
    print("usage: ipcrm [-W] [-v[v]] [-y] [-q msqid] [-m shmid] [-s semid]\n"
          "             [-Q msgkey] [-M shmkey] [-S semkey] ... [-J jail]", file=sys.stderr)
    return 1


def _atol(text: str) -> int:
    """atoi/atol: the leading decimal number, 0 when there is none."""
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def ipcrm(argv: list[str]) -> int:
    try:
        pairs, rest = getopt.getopt(argv, "q:m:s:Q:M:S:vWyJ:")
    except getopt.GetoptError as e:
        print(f"unrecognized option: -{e.opt}" if "requires" not in e.msg
              else f"option -{e.opt} requires an argument", file=sys.stderr)
        return _usage_ipcrm()
    if rest:
        print(f"unknown argument: {rest[0]}", file=sys.stderr)
        return _usage_ipcrm()
    jail = next((value for flag, value in pairs if flag == "-J"), None)
    where = [jail] if jail else []
    failed = 0
    for flag, value in pairs:
        letter = flag[1]
        if letter == "W":
            must("sysvrm", "all", *where)
        elif letter in "qms":
            facility = {"q": "msg", "m": "shm", "s": "sem"}[letter]
            ident = _atol(value)
            answer = request("sysvrm", facility, str(ident), *where)
            if not answer.ok:
                failed += 1
                warnx("ipcrm", f"{_FACILITIES[facility][2]}id({ident}): : {strerror(answer.errname)}")
        elif letter in "QMS":
            facility = {"Q": "msg", "M": "shm", "S": "sem"}[letter]
            key = _atol(value)
            if key == 0:
                warnx("ipcrm", f"can't remove private {_FACILITIES[facility][3]}s")
                continue
            own = [o for o in objects(jail) if o.facility == facility and o.key == key]
            answer = request("sysvrm", facility, str(own[0].ident), *where) if own else None
            if answer is None or not answer.ok:
                failed += 1
                errname = answer.errname if answer is not None else "ENOENT"
                warnx("ipcrm", f"{_FACILITIES[facility][2]}s({key}): : {strerror(errname)}")
    return failed


def main(argv: list[str] | None = None) -> int:
    return run("ipcs", ipcs, argv)


def main_ipcrm(argv: list[str] | None = None) -> int:
    return run("ipcrm", ipcrm, argv)
