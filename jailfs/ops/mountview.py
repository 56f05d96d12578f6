"""What the jailfs commands that look at a host (export, tree, graph,
status) read: the mount only, through its files and ``.ctl``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from jailfs.ctlproto import MountError, ctl_answer, find_mount, parse_kv, request
from jailfs.ops import Failed


def add_mount_option(parser) -> None:
    parser.add_argument("-m", "--mount", help="the jailfs mount (default: $JAILFS_MOUNT or the only one)")


def mount_of(args) -> str:
    try:
        return args.mount or find_mount()
    except MountError as e:
        raise Failed(str(e)) from None


def ctl(mount: str, request: str):
    """One .ctl request's answer (value, extra lines); Failed on an error."""
    try:
        answer = ctl_answer(mount, request)
    except MountError as e:
        raise Failed(str(e)) from None
    except OSError as e:
        raise Failed(f"{e.filename or mount}: {e.strerror}") from None
    if not answer.ok:
        raise Failed(answer.value)
    return answer.value, answer.extra


@dataclass
class Jail:
    jid: int
    name: str                       # as the reader sees it (relative inside a jail)
    dying: bool
    refs: list[str] = field(default_factory=list)     # the lines of its .refs

    @property
    def parent_name(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def totals(self) -> tuple[int, int]:
        """(pr_ref, pr_uref) from the .refs totals line."""
        words = dict(w.split("=") for w in self.refs[-1].split()[1:]) if self.refs else {}
        return int(words.get("pr_ref", 0)), int(words.get("pr_uref", 0))

    @property
    def processes(self) -> int:
        return sum(1 for line in self.refs if line.startswith("process "))


def jails(mount: str, with_refs: bool = True) -> list[Jail]:
    """Every jail below the reader, live and dying, in jid order."""
    _, live_lines = ctl(mount, "list")
    _, all_lines = ctl(mount, "list -d")
    live = {int(line.split(" ", 1)[0]) for line in live_lines}
    found = []
    for line in all_lines:
        jid, name = line.split(" ", 1)
        j = Jail(int(jid), name, int(jid) not in live)
        if with_refs:
            j.refs = read_refs(mount, j.jid)
        found.append(j)
    return sorted(found, key=lambda j: j.jid)


def read_refs(mount: str, jid: int) -> list[str]:
    try:
        with open(os.path.join(mount, ".jid", str(jid), ".refs")) as f:
            return f.read().splitlines()
    except OSError:                 # freed between the listing and the read
        return []


def params(mount: str, jail: str) -> dict[str, str]:
    """NAME -> value (as jls -n prints it) of a jail, live or dying."""
    return parse_kv(ctl(mount, request("get", "-d", jail))[1])


def find_jail(mount: str, word: str) -> Jail:
    """By jid, else by name (a live jail before a dying one of that name)."""
    found = jails(mount, with_refs=False)
    for match in (lambda j: str(j.jid) == word, lambda j: j.name == word and not j.dying,
                  lambda j: j.name == word):
        for j in found:
            if match(j):
                j.refs = read_refs(mount, j.jid)
                return j
    raise Failed(f'jail "{word}" not found')
