"""The entry agent: the keeper's stand-in for a keeper inside a jail.

A jailed root may jail_attach into a child of its jail (FreeBSD's
prison_priv_check lets it), but its keeper K (injail.py) cannot join the
child's namespaces: it has shed CAP_SYS_ADMIN and runs under the jail's
seccomp filter.  So the daemon starts this agent on the host for it
(jailfs/host/nested.py), after the kernel has checked the request:

1. the agent takes, with pidfd_getfd(2), K's stdin, stdout, stderr and the
   memfd K wrote its request into (the command as jexec(8) runs it, its
   environment, and the write end of the pipe K listens on), says
   ``taken`` to the daemon, and waits for ``go LINES``: the child jail's
   confinement, sent once the agent is attached to the child jail (its
   cgroup);
2. it joins the child's namespaces as K does for the host (enter.join: the
   agent stays in the host's pid namespace, out of every jail's sight), forks
   C, which sheds the jail's privileges and runs the command;
3. it reports ``pid N`` (C as the caller's jail numbers it, for jexec's
   signal forwarding) and ``status S`` on K's pipe, reaps the orphans it
   adopts, and ends with its last child.

Nothing the request says is acted on before C has shed the host's
privileges inside the child jail, and every descriptor the agent passes on
came from K, a process of the caller's jail.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import signal
import sys

import pyprctl

from jailfs.cli import injail, jexec
# jexec.command's jailed_path uses it in C, after joining: no module is
# loaded from a file there (namespaces.load_no_module_files)
from jailfs.toolbox import env as _env  # noqa: F401
from jailfs.host import enter
from jailfs.host import syscalls as sc
from jailfs.host.enter import Confinement
from jailfs.ops.runfiles import pid_at_depth, start_time

MAX_REQUEST = 1 << 20


def _take(keeper: int, keeper_start: int, spec_fd: int) -> tuple[dict, dict[int, int]]:
    """K's request and its descriptors: {K's fd number: ours} for 0, 1, 2
    and the report pipe (a closed one of K's 0-2 becomes /dev/null)."""
    pidfd = os.pidfd_open(keeper)
    try:
        if start_time(keeper) != keeper_start:
            raise ProcessLookupError(f"keeper {keeper} is gone")
        spec = sc.pidfd_getfd(pidfd, spec_fd)
        try:
            # memory-backed (only shmem has seals): reading it cannot wait on
            # anyone -- a FUSE file of our own mount would wait on the daemon,
            # which waits for us
            fcntl.fcntl(spec, fcntl.F_GET_SEALS)
            request = json.loads(os.pread(spec, MAX_REQUEST, 0))
        finally:
            os.close(spec)
        fds = {}
        for n in (0, 1, 2, int(request["report_fd"])):
            try:
                fds[n] = sc.pidfd_getfd(pidfd, n)
            except OSError:
                if n > 2:
                    raise
                fds[n] = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        return request, fds
    finally:
        os.close(pidfd)


def run_entry(request: dict) -> None:
    """In C, inside the child jail with its privileges: jexec(8)'s command."""
    e = request["entry"]
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["environ"].items()})
    pw = pwd.struct_passwd(e["pw"]) if e.get("pw") else None
    jexec.command([str(a) for a in e["argv"]], e["jpath"], e["workdir"], bool(e["clean"]),
                  e["username"], bool(e["Uflag"]), pw, e["toolbox"])


def main() -> int:
    pyprctl.set_dumpable(False)
    stdin = sys.stdin.buffer
    order = json.loads(stdin.readline())
    try:
        request, fds = _take(int(order["keeper"]), int(order["keeper_start"]),
                             int(order["spec_fd"]))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"error {e}", flush=True)
        return 1
    print("taken", flush=True)
    go, _, lines = stdin.readline().decode().partition(" ")
    if go != "go":
        return 1
    jail = Confinement.parse(json.loads(lines))
    proc_dir = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    report = fds.pop(int(request["report_fd"]))
    for n, fd in fds.items():
        os.dup2(fd, n)              # K's stdin, stdout, stderr (inheritable)
        os.close(fd)
    try:
        enter.join(jail)
        saved = {sig: signal.SIG_DFL for sig in injail.HELD}
        cpid = injail.fork_command(jail, lambda: run_entry(request), jexec.report, saved)
    except (OSError, enter.EnterError) as e:
        jexec.report(e)             # on K's stderr; for jexec, exit status 1
        os.write(report, b"failed\n")
        return 1
    os.write(report, b"pid %d\n" % (pid_at_depth(cpid, int(order["depth"]), proc_dir) or 0))
    os.close(proc_dir)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    injail.reap_until_alone(cpid, jail, lambda status: os.write(report, b"status %d\n" % status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
