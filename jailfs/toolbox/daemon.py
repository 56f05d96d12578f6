"""daemon(8), as far as FreeBSD's jail tests use it: run a command detached.

    daemon [-cf] [-p child_pidfile] [-P supervisor_pidfile] command arguments ...

As usr.sbin/daemon: the command runs in a new session (cwd / unless -c,
stdio on /dev/null with -f) and daemon returns at once. With -p or -P a
supervisor stays behind: it writes the command's pid to the -p file and
its own to the -P file, waits for the command, removes both files, and
passes SIGTERM on to the command.
"""

from __future__ import annotations

import os
import signal
import sys

from jailfs.toolbox.common import Usage, getopts, run

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
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(pid, signal.SIGTERM))
    _write(child_file, pid)
    _write(own_file, os.getpid())
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
    return 0


def main(argv: list[str] | None = None) -> int:
    return run("daemon", daemon, argv, USAGE)
