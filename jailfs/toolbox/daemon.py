"""daemon(8), as far as FreeBSD's jail tests use it: run a command detached.

    daemon [-cf] [-p child_pidfile] [-P supervisor_pidfile] command arguments ...

As usr.sbin/daemon: the command runs in a new session (cwd / unless -c,
stdio on /dev/null with -f) and daemon returns at once. With -p or -P a
supervisor stays behind: it writes the command's pid to the -p file and
its own to the -P file, waits for the command, removes both files, and
passes SIGTERM on to the command.

The pids written are the host's (procs.host_pid), also in a jail with its
own pid namespace: FreeBSD has one pid space, and a pidfile is read by
whoever manages the service, the host included (pgrep-j_test.sh compares
`pgrep -j` on the host with the pidfiles jailed daemons wrote, and `kill
$(cat pidfile)` from the host must reach the command, not whatever host
process has the jail's small pid).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from jailfs.toolbox.common import Failed, Usage, getopts, run, warnx
from jailfs.toolbox.procs import host_pid

USAGE = ("usage: daemon [-cfHrS] [-p child_pidfile] [-P supervisor_pidfile]\n"
         "              [-u user] [-o output_file] [-t title]\n"
         "              [-l syslog_facility] [-s syslog_priority]\n"
         "              [-T syslog_tag] [-m output_mask] [-R restart_delay_secs]\n"
         "              command arguments ...")


def _write(path: str | None, pid: int) -> None:
    if path:
        with open(path, "w") as f:
            f.write(f"{pid}\n")


def _detach(keep_cwd: bool, quiet: bool) -> None:
    """daemon(3): fork (the parent returns 0), new session, cwd /, stdio to /dev/null."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if not keep_cwd:
        os.chdir("/")
    if quiet:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)


def daemon(argv: list[str]) -> int:
    pairs, command = getopts(argv, "cfp:P:")
    if not command:
        raise Usage()
    opts = dict(pairs)
    child_file, own_file = opts.get("-p"), opts.get("-P")
    _detach("-c" in opts, "-f" in opts)
    if not (child_file or own_file):
        try:
            os.execvp(command[0], command)
        except OSError as e:
            print(f"daemon: {command[0]}: {e.strerror}", file=sys.stderr)
            os._exit(1)
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        except OSError as e:
            print(f"daemon: {command[0]}: {e.strerror}", file=sys.stderr)
            os._exit(1)
    def pass_on(signum, frame):
        # the command may have ended (and been reaped) already: pkill -j
        # signals both at once, and the pidfiles must still go
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    signal.signal(signal.SIGTERM, pass_on)
    status = 0
    try:
        _write(child_file, host_pid(pid))
        _write(own_file, host_pid(os.getpid()))
    except (Failed, OSError) as e:
        # no pidfile, no command: as daemon.c, which opens them before forking
        os.kill(pid, signal.SIGKILL)
        warnx("daemon", str(e) if isinstance(e, Failed) else f"{e.filename}: {e.strerror}")
        status = 1
    while True:
        try:
            os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            break
    for path in (child_file, own_file):
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
    return status


def main(argv: list[str] | None = None) -> int:
    return run("daemon", daemon, argv, USAGE)
