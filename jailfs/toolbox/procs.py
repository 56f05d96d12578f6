"""The processes a caller may see, as FreeBSD's kern.proc sysctl gives them.

Which processes and in which jail each is come from the daemon (`.ctl
proclist`: only the caller's own jail and those below it, each with its
jid, 0 for the host's own, and its pid in every pid namespace); what each
one is (command, arguments, ids, start) is read from this process's /proc,
under the pid this process's namespace gives it.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from jailfs.ctlproto import MountError, find_mount
from jailfs.ops.runfiles import stat_fields, status_field
from jailfs.toolbox.common import Failed, must

PF_KTHREAD = 0x00200000


class Proc(NamedTuple):
    pid: int
    ppid: int
    pgid: int
    sid: int
    tty: int
    state: str
    comm: str
    argv: list[str]
    ruid: int
    euid: int
    rgid: int
    start: int                  # clock ticks since boot
    cputicks: int
    kthread: bool
    jid: int


def _read(pid: int, jid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "surrogateescape")
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read().decode("utf-8", "surrogateescape")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    ids = {line.split(":")[0]: line.split()[1:] for line in status.splitlines() if ":" in line}
    argv = cmdline.split("\0")
    if argv and argv[-1] == "":
        argv.pop()
    return Proc(pid=pid, ppid=int(fields[1]), pgid=int(fields[2]), sid=int(fields[3]),
                tty=int(fields[4]), state=fields[0], comm=comm, argv=argv,
                ruid=int(ids["Uid"][0]), euid=int(ids["Uid"][1]), rgid=int(ids["Gid"][0]),
                start=int(fields[19]), cputicks=int(fields[11]) + int(fields[12]),
                kthread=bool(int(fields[6]) & PF_KTHREAD), jid=jid)


def own_nspids() -> list[str]:
    """This process's pids, from its /proc's pid namespace inward."""
    words = status_field("self", "NSpid")
    return [str(os.getpid())] if words is None else words


def _entries(lines: list[str]) -> list[tuple[int, list[str]]]:
    """The daemon's `PID JID NSPIDS` lines -> (jid, NSpid chain from the
    daemon's namespace inward)."""
    entries = []
    for line in lines:
        _pid, jid, chain = line.split()
        entries.append((int(jid), chain.split(",")))
    return entries


def _depth(entries: list[tuple[int, list[str]]]) -> int:
    """How many pid namespaces lie between the daemon and this process: a
    tool finds its own entry (the one whose NSpid chain ends with its own)."""
    mine = own_nspids()
    # A process in a deeper namespace may end with the same pids; the caller's
    # own namespace is the shallowest the daemon lists to it.
    depths = [len(chain) - len(mine) for _jid, chain in entries if chain[-len(mine):] == mine]
    if not depths:
        raise Failed("this process is not among those the daemon lists")
    return min(depths)


def as_seen_here(lines: list[str]) -> list[tuple[int, int]]:
    """The daemon's `PID JID NSPIDS` lines -> (pid as this process's /proc
    names it, jid); processes outside this process's namespace are left out."""
    entries = _entries(lines)
    depth = _depth(entries)
    return [(int(chain[depth]), jid) for jid, chain in entries if len(chain) > depth]


def host_pid(pid: int) -> int:
    """The pid the host gives the process this process's namespace calls
    ``pid``.  FreeBSD has one pid space, so a pid a jailed process writes
    down (daemon -p) is the host's too; here the host's is the daemon's
    namespace's, the first of each NSpid chain.  With no jailfs mount to
    ask there is no jail either: ``pid`` is the only pid known."""
    try:
        find_mount()
    except MountError:
        return pid
    entries = _entries(must("proclist").extra)
    depth = _depth(entries)
    for _jid, chain in entries:
        if len(chain) > depth and int(chain[depth]) == pid:
            return int(chain[0])
    raise Failed(f"pid {pid} is not among those the daemon lists")


def visible() -> list[Proc]:
    """Every live process the caller's jail can see, pid order."""
    out = []
    for pid, jid in as_seen_here(must("proclist").extra):
        proc = _read(pid, jid)
        if proc is not None:
            out.append(proc)
    return out


def jail_id(word: str) -> int | None:
    """jail_getid: a jid, or the jid of a jail named as the caller sees it; None if none."""
    if word.isdigit():
        return int(word)
    answer = must("list")
    for line in answer.extra:
        jid, name = line.split(" ", 1)
        if name == word:
            return int(jid)
    return None


def my_ancestors() -> set[int]:
    """This process and its ancestors (pgrep/pkill leave them alone unless -a)."""
    out, pid = set(), os.getpid()
    while pid > 0 and pid not in out:
        out.add(pid)
        fields = stat_fields(pid)
        try:
            pid = int(fields[1])
        except (TypeError, IndexError, ValueError):
            break
    return out
