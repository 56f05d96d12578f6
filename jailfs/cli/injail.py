"""Running a command inside a jail so that what it leaves behind stays there.

FreeBSD keeps a jail alive while any process is in it, and whatever a jailed
process starts is in the jail too.  The daemon knows a real process's jail by
its cgroup, which the daemon moves it into when it enters; what it starts is
born there.  jexec(8) and jail(8)'s commands run as::

    invoking process (jexec, jail)
     `- K, the keeper: entered into the jail (the invoking process asks
        ``enter JAIL <K's pid>`` and hands K the answer) and a child
        subreaper (orphans below it are re-parented to K, not init)
         `- C, the command: working directory, user, environment, then exec

K sends C's pid, then C's wait status, to the invoking process over a pipe;
then it reaps the orphans it adopts until it has no child left, and exits (its
Proc, holding the jail, goes with it).  K keeps no descriptor of the invoking
process's (its stdin, stdout and stderr become /dev/null) nor its working
directory.  The invoking process waits only for the status, so
``jexec j sh -c 'sleep 300 &'`` returns at once while the sleep keeps the jail
alive and sees the jail's view of the mount.

Confinement (jailfs/host/enter.py): the ``enter`` answer names the jail's
anchor; K joins the anchor's namespaces
(mount: the jail's path is its ``/``; pid, UTS, IPC, net, cgroup), with the
jail's own view of the mount bound at /dev/jailfs on the way (``enter.join``;
K runs nothing when it cannot), but stays
in the host's pid namespace, out of the jail's sight, so C is born in the
jail's pid namespace.  C closes every descriptor above 2 and sheds the host's
privileges before ``command()``.  Inside a pid namespace an orphan goes to the
namespace's init (the anchor), not to K: it stays in the jail through its
cgroup.  A process already inside a jail cannot join another's namespaces
(``enter.can_enter``): for jexec(8) into a child jail K asks for the daemon's
entry agent instead (``enterchild``, jailfs/cli/entry_agent.py), which takes
K's stdin, stdout, stderr and a pipe, runs C in the child and reports C's pid
and status to K, which passes them on; any other entry K refuses.  When C has ended, K writes a
hostname C set into the jail's ``host.hostname`` (through the jail's view of
the mount) before it reports C's status.

Errors: K and C report their own (attach refused, chdir, exec...) with
``report(exception)`` on the stderr they share with the invoking process and
exit 1, which becomes the status the invoking process gets.

Signals: K and C stay in the invoking process's process group, so what the
terminal sends to the foreground job (^C, ^\\, hangup) reaches C directly, as
with a plain exec.  ``Keeper.wait(forward=True)`` (jexec) passes SIGINT,
SIGQUIT, SIGTERM and SIGHUP sent to the invoking process with kill(2) on to C;
the terminal's own (si_code SI_KERNEL) are not passed on, C has them already.
K ignores those four: it ends when its last child is gone, or by SIGKILL
(removing the jail kills it and its whole tree).  C execs with the
dispositions the invoking process had for them, and with SIGPIPE and SIGXFSZ
at their defaults (Python ignores both).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import resource
import select
import shlex
import signal
import socket
import sys
import time
from typing import Callable, NoReturn

from jailfs.host import enter
from jailfs.host.enter import Confinement

__all__ = ["Keeper", "spawn", "exit_status", "undo_locale_coercion", "confined"]

# True in the command's process once it is inside a confining jail: its root
# is the jail's path, so jexec(8) and jail(8) chdir to "/" there, not to path.
confined = False

PR_SET_CHILD_SUBREAPER = 36
SI_KERNEL = 0x80
HELD = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)
# The values Python's locale coercion (PEP 538) gives LC_CTYPE.
COERCED = ("C.UTF-8", "C.utf8", "UTF-8")


class Keeper:
    """The invoking process's side: K's pid and the pipe K reports on."""

    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.command_pid: int | None = None
        self.status: int | None = None
        self._fd = fd
        self._buf = b""

    def close(self) -> None:
        """Stop listening (K's status, if it comes, is dropped)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def wait(self, timeout: float | None = None, forward: bool = False) -> int | None:
        """C's wait status (K's own when K ended without one: it could not run
        C, or was killed); None when ``timeout`` seconds pass first.  With
        ``forward``, signals sent to this process go on to C (module doc)."""
        if forward:
            self._wait_forwarding()
            return self.status
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._take():
            if deadline is not None and not select.select(
                    [self._fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return None
        return self.status

    def _take(self) -> bool:
        """Read what K sent; True once the status is known (then closes)."""
        try:
            data = os.read(self._fd, 64)      # K's two lines fit: one read takes all
        except BlockingIOError:
            return False
        if not data:
            self.status = os.waitpid(self.pid, 0)[1]
        self._buf += data
        lines = self._buf.split(b"\n")[:-1]
        if lines and self.command_pid is None:
            self.command_pid = int(lines[0])
        if len(lines) > 1:
            self.status = int(lines[1])
        if self.status is None:
            return False
        self.close()
        _take_terminal(self.command_pid, os.getpgrp())
        return True

    def _wait_forwarding(self) -> None:
        waited = HELD + (signal.SIGIO,)
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        fcntl.fcntl(self._fd, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_NONBLOCK | os.O_ASYNC)
        pending: list[int] = []
        try:
            while not self._take():
                if self.command_pid is not None:
                    for sig in pending:
                        with contextlib.suppress(OSError):
                            os.kill(self.command_pid, sig)
                    pending.clear()
                info = signal.sigwaitinfo(waited)     # SIGIO: K wrote or ended
                if info.si_signo != signal.SIGIO and info.si_code != SI_KERNEL:
                    pending.append(info.si_signo)
        finally:
            if self._fd >= 0:
                fcntl.fcntl(self._fd, fcntl.F_SETFL, flags)
            while signal.sigtimedwait(waited, 0):      # too late for C: dropped
                pass
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def spawn(command: Callable[[], None], report: Callable[[BaseException], None],
          setsid: bool = False, nested: tuple[Callable[[int], list[str]], dict] | None = None,
          enter_for: Callable[[int], list[str]] | None = None) -> Keeper:
    """Fork K: it enters the jail (``enter_for``; None: a host command, K
    enters nowhere but still keeps its orphans), then forks C, which calls
    ``command()`` to set up and exec.  The lines of the daemon's answer tell
    K how: with an anchor there, K joins the jail's namespaces and C sheds the
    host's descriptors and privileges before ``command()`` (see Confinement).
    ``setsid``: K starts a new session first (a command jail(8) runs in the
    background).

    ``nested`` = (request, entry): how K, itself inside a confining jail,
    enters a child jail it cannot join (module doc): ``request(fd)`` asks
    the daemon's entry agent to take K's descriptors, ``entry`` the command
    as the agent runs it (``entry_agent.run_entry``).

    ``enter_for(K's pid)``: the invoking process asks ``enter`` for K and
    hands K the answer's lines through a pipe, so the descriptor
    that asked, opened in the host's view, never is in the jail: were K to
    ask, it would hold it while the daemon moves it in, and the daemon
    refuses every host process's .ctl write while a jailed process holds a
    host-view descriptor (fs/ctlguard.py)."""
    sys.stdout.flush()
    sys.stderr.flush()
    handoff = os.pipe() if enter_for is not None else None
    attach = None if handoff is None else lambda: _handed(handoff)    # noqa: E731 - K's side
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(report, lambda: _keep(attach, command, report, w, setsid, nested))
    os.close(w)
    if handoff is not None:
        _hand(enter_for, pid, handoff)
    return Keeper(pid, r)


def _hand(enter_for: Callable[[int], list[str]], pid: int, handoff: tuple[int, int]) -> None:
    """The invoking process: ask for K, write ``ok`` and the answer's lines
    (or ``error`` and the message) to K.  Inside a jail K goes through the
    entry agent instead and asks nothing of us."""
    r, w = handoff
    os.close(r)
    try:
        if enter.can_enter() is not None:
            return
        try:
            text = "\n".join(["ok", *enter_for(pid)])
        except Exception as e:      # noqa: BLE001 - K reports it, as if it had asked
            text = f"error\n{e}"
        with contextlib.suppress(BrokenPipeError):      # K gave up first
            os.write(w, text.encode("utf-8", "surrogateescape"))
    finally:
        os.close(w)


def _handed(handoff: tuple[int, int]) -> list[str]:
    """K: the lines of the answer the invoking process got for it."""
    r, w = handoff
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    status, _, rest = b"".join(chunks).decode("utf-8", "surrogateescape").partition("\n")
    if status != "ok":
        raise enter.EnterError(rest or "jail_attach: no answer from the invoking process")
    return rest.split("\n") if rest else []


def _child(report: Callable[[BaseException], None], body: Callable[[], None]) -> NoReturn:
    """Run ``body`` in a forked process; never return into the caller's code."""
    try:
        body()
    except BaseException as e:
        with contextlib.suppress(BaseException):
            report(e)
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(1)


def _keep(attach, command, report, w: int, setsid: bool, nested) -> NoReturn:
    if setsid:
        os.setsid()
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in HELD}
    jail = None
    if attach is not None:
        refused = enter.can_enter()
        if refused and nested is not None:
            _relay_agent(*nested, w)
        if refused:
            raise enter.EnterError(f"jail_attach: {os.strerror(errno.EPERM)} ({refused})")
        lines = attach()
        jail = Confinement.parse(lines) if isinstance(lines, list) else None
    if jail is not None:
        enter.join(jail)
    cpid = fork_command(jail, command, report, saved)
    _send(w, cpid)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, w)
    os.closerange(w + 1, os.sysconf("SC_OPEN_MAX"))
    os.chdir("/")
    reap_until_alone(cpid, jail, lambda status: _send_last(w, status))
    os._exit(0)


def fork_command(jail: Confinement | None, command: Callable[[], None],
                 report: Callable[[BaseException], None], saved: dict) -> int:
    """Become a child subreaper and fork C (``_confined``); C's pid."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER): "
                      + os.strerror(ctypes.get_errno()))
    cpid = os.fork()
    if cpid == 0:
        for sig, was in saved.items():
            signal.signal(sig, signal.SIG_IGN if was == signal.SIG_IGN else signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        _child(report, lambda: _confined(jail, command))
    return cpid


def reap_until_alone(cpid: int, jail: Confinement | None, status_to) -> None:
    """Reap children and adopted orphans until none is left; C's wait status
    goes to ``status_to`` (after a hostname C set is taken into the jail)."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        if pid == cpid:
            if jail is not None:
                _hostname_set_inside(jail)
            status_to(status)


def _relay_agent(request: Callable[[int], list[str]], entry: dict, w: int) -> NoReturn:
    """K inside a jail: the daemon's entry agent takes K's stdin, stdout,
    stderr and the write end of a pipe, joins the child jail, runs C there
    and reports on the pipe: ``pid N`` (C as this jail's pid namespace numbers
    it) then ``status S``, which K passes on to the invoking process; or
    ``failed`` (it said why on stderr): K exits 1.  An agent that ends
    without a word was killed with the child jail: so is K."""
    r, agent_w = os.pipe()
    spec = os.memfd_create("jailfs-entry")
    env = dict(os.environ)
    undo_locale_coercion(env)
    os.write(spec, json.dumps({"entry": entry, "environ": env, "report_fd": agent_w}).encode())
    lines = request(spec)
    if "confine=agent" not in lines:
        Confinement.parse(lines)        # confine=error: the daemon's reason
        raise enter.EnterError("jail_attach: the daemon sent no entry agent")
    os.close(agent_w)
    os.close(spec)
    got = b""
    while True:
        data = os.read(r, 4096)
        if not data:
            break
        got += data
        while b"\n" in got:
            line, got = got.split(b"\n", 1)
            what, _, n = line.decode().partition(" ")
            if what in ("pid", "status"):
                _send(w, int(n))
            if what == "status":
                os._exit(0)
            if what == "failed":        # the agent said why on our stderr
                os._exit(1)
    # The agent was killed (the child jail removed): so is K, as a keeper
    # inside the jail would have been.
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")


def _confined(jail: Confinement | None, command: Callable[[], None]) -> None:
    global confined
    if jail is not None:
        # Its own process group: kill(0) inside the jail must not reach the
        # invoking process and its group on the host (Linux does not check
        # pid namespaces there).  It becomes the terminal's foreground group
        # when the invoking one was; Keeper gives the terminal back.
        foreground = os.getpgrp()
        os.setpgid(0, 0)
        _take_terminal(foreground, os.getpgrp())
        enter.shed(jail)
        confined = True
    command()


def _take_terminal(owner: int | None, new: int) -> None:
    """Make process group ``new`` the foreground of the controlling terminal
    (on stdin, stdout or stderr) if ``owner``'s group is."""
    for fd in (0, 1, 2):
        try:
            if owner is None or not os.isatty(fd) or os.tcgetpgrp(fd) != owner:
                continue
            old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                os.tcsetpgrp(fd, new)
            finally:
                signal.signal(signal.SIGTTOU, old)
            return
        except OSError:
            continue


def _hostname_set_inside(jail: Confinement) -> None:
    """A hostname the command set in the jail's UTS namespace goes into the
    jail's host.hostname before its status is reported (the anchor reports
    later changes, made in the background, on its own)."""
    now = socket.gethostname()
    if jail.params.get("host") != "new" or now == jail.params.get("host.hostname") or not jail.proc:
        return
    try:
        fd = os.open(os.path.join(jail.mount, ".ctl"), os.O_RDWR)
        try:
            os.write(fd, f"sethostname {jail.proc} {shlex.quote(now)}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        pass                    # the anchor reports it within 2 s anyway


def _send_last(w: int, n: int) -> None:
    _send(w, n)
    os.close(w)


def _send(w: int, n: int) -> None:
    with contextlib.suppress(OSError):      # nobody listens (jail(8) background)
        os.write(w, b"%d\n" % n)


def exit_status(status: int) -> int:
    """Pass wait status ``status`` on as a plain exec would: return its exit
    code, or die of its signal (re-raised here, without a core dump); 128+N
    should the signal not end this process."""
    if not os.WIFSIGNALED(status):
        return os.waitstatus_to_exitcode(status)
    sig = os.WTERMSIG(status)
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    with contextlib.suppress(OSError, ValueError):
        signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    return 128 + sig


def undo_locale_coercion(env: dict) -> None:
    """Give ``env`` back the LC_CTYPE this process was started with, when
    Python's locale coercion (PEP 538) changed it to C.UTF-8: the command must
    get the environment it was given."""
    now = env.get("LC_CTYPE")
    if now not in COERCED:
        return
    given = None
    try:
        with open("/proc/self/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(b"LC_CTYPE="):
                    given = os.fsdecode(item[len(b"LC_CTYPE="):])
    except OSError:
        return
    if given is None:
        del env["LC_CTYPE"]
    else:
        env["LC_CTYPE"] = given
