"""A jail's real SysV IPC objects, read and removed inside its IPC namespace.

The daemon never changes its own IPC namespace: a short-lived ``nsenter
--ipc`` child reads ``/proc/sysvipc/{msg,shm,sem}`` (which show the reading
process's IPC namespace) or runs util-linux's ipcrm there.
"""

from __future__ import annotations

import logging
import subprocess

log = logging.getLogger("jailfs.sysvipc")

NSENTER = "/usr/bin/nsenter"
IPCRM = "/usr/bin/ipcrm"
# /proc/sysvipc's id column and ipcrm's option, per facility
_ID = {"msg": "msqid", "shm": "shmid", "sem": "semid"}
_RM = {"msg": "-q", "shm": "-m", "sem": "-s"}


def _in_ns(anchor_pid: int, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([NSENTER, f"--target={anchor_pid}", "--ipc", "--", *argv],
                          capture_output=True, text=True, timeout=10, check=False)


def parse(text: str, facility: str) -> list[dict[str, int]]:
    """/proc/sysvipc/FACILITY -> one dict per object, named by its header
    (``id`` for the msqid/shmid/semid column; ``perms`` is octal there)."""
    lines = text.splitlines()
    if not lines:
        return []
    names = ["id" if n == _ID[facility] else n for n in lines[0].split()]
    out = []
    for line in lines[1:]:
        words = line.split()
        if len(words) == len(names):
            obj = dict(zip(names, words))
            out.append({n: int(v, 8 if n == "perms" else 10) for n, v in obj.items()})
    return out


def objects(anchor_pid: int, facility: str) -> list[dict[str, int]]:
    """The real objects of one facility in the IPC namespace of anchor_pid
    (none, logged, when it cannot be read: the anchor ended meanwhile)."""
    try:
        done = _in_ns(anchor_pid, "cat", f"/proc/sysvipc/{facility}")
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("nsenter --ipc %d: %s", anchor_pid, e)
        return []
    if done.returncode != 0:
        log.warning("nsenter --ipc %d: %s", anchor_pid, done.stderr.strip())
        return []
    return parse(done.stdout, facility)


def remove(anchor_pid: int, facility: str, ident: int) -> bool:
    """IPC_RMID on one real object in anchor_pid's IPC namespace."""
    try:
        return _in_ns(anchor_pid, IPCRM, _RM[facility], str(ident)).returncode == 0
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("nsenter --ipc %d ipcrm: %s", anchor_pid, e)
        return False
