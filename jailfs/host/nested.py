"""Entering a child jail from inside a jail: the daemon's side.

A jailed root's keeper K cannot join a child jail's namespaces (it has no
CAP_SYS_ADMIN), so for ``.ctl enterchild JAIL PID FD`` (jailfs/ctl_nested.py,
after the kernel-level checks) the jailhouse starts an entry agent
(jailfs/cli/entry_agent.py) that takes K's descriptors and runs K's command
in the child jail.  Here: finding K on the host, and the agent's handle.

K names itself by its pid in its own jail's pid namespace (the only one it
knows); the host's pid is found among the processes of exactly the caller's
jail (its cgroup) by their NSpid chains, so a request can only ever name a
process of the caller's own jail.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys

from jailfs.ops.runfiles import start_time, status_field

from .anchor import READY_TIMEOUT, read_line


def host_pid(pids, level: int, ns_pid: int) -> int | None:
    """The host's pid of the process among ``pids`` (host pids of one jail's
    own processes) that its jail's pid namespace, ``level`` below the host's
    (a top-level jail: 1), calls ``ns_pid``."""
    for pid in pids:
        chain = status_field(pid, "NSpid")
        if chain is not None and len(chain) == level + 1 and int(chain[level]) == ns_pid:
            return pid
    return None


class EntryAgent:
    """The daemon's handle on one entry agent: started, it has taken the
    keeper's descriptors (or raised OSError); ``go`` lets it enter."""

    def __init__(self, keeper: int, spec_fd: int, caller_depth: int):
        order = {"keeper": keeper, "keeper_start": start_time(keeper), "spec_fd": spec_fd,
                 "depth": caller_depth}
        # cwd "/": never start Python in a directory of the mount we serve
        self.proc = subprocess.Popen([sys.executable, "-m", "jailfs.cli.entry_agent"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd="/", close_fds=True)
        self.pid = self.proc.pid
        self.proc.stdin.write(json.dumps(order).encode() + b"\n")
        self.proc.stdin.flush()
        line, _ = read_line(self.proc.stdout.fileno(), b"", READY_TIMEOUT)
        if line != "taken":
            self.kill()
            raise OSError(errno.ESRCH, f"entry agent: {line or 'no answer'}")

    def go(self, lines: list[str]) -> None:
        try:
            self.proc.stdin.write(b"go " + json.dumps(lines).encode() + b"\n")
            self.proc.stdin.close()
        except OSError:
            pass                        # it died: the keeper hears of it (no status)
        self.proc.stdout.close()

    def ended(self) -> bool:
        return self.proc.poll() is not None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
