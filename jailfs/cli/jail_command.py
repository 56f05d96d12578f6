"""jail(8)'s commands (FreeBSD's usr.sbin/jail/command.c): exec.* and
``command``, run on the host or inside the jail, and the SIGTERM pass over a
jail's processes before it is removed (term_procs).

A command "in the jail" runs below a keeper that attaches itself with
``.ctl attach JID PID`` (see injail.py).  The jail's real processes come
from the daemon (``.ctl procs JID``), as term_procs gets them from the kernel.
"""

from __future__ import annotations

import os
import pwd
import select
import signal
import time

from jailfs.cli.bsdlib import jailed_path, toolbox_dir, user_environment
from jailfs.cli.jailp import Fatal, Job

DEFAULT_STOP_TIMEOUT = 10
IFCONFIG = "/sbin/ifconfig"     # _PATH_IFCONFIG, as jail(8)'s messages name it
# Shell metacharacters: a command holding one runs under /bin/sh -c.
SHELL_META = "!\"$&'()*;<>?[\\]`{|}~"


class Commands:
    """The command.c half of jail(8); mixed into :class:`jailfs.cli.jail.Jail8`."""

    def run_command(self, j: Job, param: str, value: str, injail: bool,
                    argv: list[str] | None = None) -> bool:
        """Run one command; True if it succeeded (or went to background)."""
        cj = j.cj
        bg = False
        if argv is None:
            cs = next((i for i, c in enumerate(value) if c in SHELL_META), -1)
            if cs >= 0 and not (value[cs] == "&" and cs == len(value) - 1):
                argv = ["/bin/sh", "-c", value]
            else:
                if cs >= 0:
                    value = value[:cs]
                    bg = True
                argv = value.split()
        if not argv:
            return True
        comline = " ".join(argv)
        clean = cj.bool("exec.clean")
        username = cj.string("exec.jail_user" if injail else "exec.system_user")
        timeout = cj.int("exec.timeout") or 0
        conslog = cj.string("exec.consolelog") if injail else None
        consfd = None
        if conslog:
            try:
                consfd = os.open(conslog, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
            except OSError as e:
                self.jail_warnx(j, f"open {conslog}: {e.strerror}")
                return False
        if self.verbose > 0:
            self.jail_note(j, "run command%s%s%s: %s\n" % (
                " in jail" if injail else "", " as " if username else "",
                username or "", comline))
        toolbox = toolbox_dir() if injail else ""
        # injail brings the confinement's libraries (pyprctl, pyseccomp): only
        # a jail(8) that runs a command pays for them
        from jailfs.cli.injail import spawn as spawn_keeper
        self.drop_session()                 # the keeper is a fork: it must not inherit it
        try:
            keeper = spawn_keeper(
                lambda: self._command(j, argv, injail, toolbox, clean, username, consfd),
                lambda e: self.jail_warnx(j, str(e)), setsid=bg,
                enter_for=(lambda pid: self._enter(j, pid)) if injail else None)
        finally:
            if consfd is not None:
                os.close(consfd)
        if bg:
            keeper.close()
            return True
        status = keeper.wait(timeout if timeout > 0 else None)
        if status is None:
            self.jail_warnx(j, f"{comline}: timed out")
            return False
        if os.WIFSIGNALED(status):
            self.jail_warnx(j, f"{comline}: exited on signal {os.WTERMSIG(status)}")
            return False
        if os.WEXITSTATUS(status) != 0:
            self.jail_warnx(j, f"{comline}: failed")
            return False
        return True

    def _enter(self, j: Job, pid: int) -> list[str]:
        """``enter`` the keeper ``pid`` into the jail, asked here on the host
        (injail.spawn's ``enter_for``): the answer's lines for the keeper."""
        try:
            a = self.ctl(f"enter {j.jid} {pid}")
        except Fatal as e:
            raise Fatal("; ".join(e.msgs)) from None
        if not a.ok:
            raise Fatal(f"jail_attach: {a.value}")
        return a.extra

    def _command(self, j: Job, argv, injail, toolbox: str, clean, username, consfd) -> None:
        """In the command's process: directory, user, environment, exec.  A
        command in the jail gets ``toolbox`` (the toolbox's directory) first
        on PATH where the jail's root has it."""
        from jailfs.cli import injail as keeper     # loaded already: run_command spawned us
        cj = j.cj
        env = dict(os.environ)
        keeper.undo_locale_coercion(env)
        path = cj.string("path")
        root = "/"
        if injail and path and not keeper.confined:     # confined: already at its /
            try:
                os.chdir(path)
            except OSError as e:
                raise Fatal(f"chdir {path}: {e.strerror}")
            root = path
        if clean or username:
            try:
                pw = pwd.getpwnam(username) if username else pwd.getpwuid(os.getuid())
            except KeyError:
                raise Fatal(f"{username}: no such user" if username
                            else f"unknown uid {os.getuid()}")
            if username and pw.pw_uid != os.getuid():
                try:
                    os.setgid(pw.pw_gid)
                    os.initgroups(pw.pw_name, pw.pw_gid)
                    os.setuid(pw.pw_uid)
                except OSError as e:
                    raise Fatal(f"setgid {pw.pw_gid}: {e.strerror}")
            env = user_environment(env, pw, clean)
            if clean:
                try:
                    os.chdir(pw.pw_dir)
                except OSError as e:
                    raise Fatal(f"chdir {pw.pw_dir}: {e.strerror}")
        if injail and (jail_path := jailed_path(env.get("PATH"), toolbox, root)) is not None:
            env["PATH"] = jail_path
        if not clean:
            # the jail's jid stays known after its removal (exec.poststop)
            if j.known_jid > 0:
                env["JID"] = str(j.known_jid)
            env["JNAME"] = cj.string("name") or (str(j.known_jid) if j.known_jid > 0 else "")
            env["JPATH"] = path or ""
        if consfd is not None:
            os.dup2(consfd, 1)
            os.dup2(consfd, 2)
        os.closerange(3, 65536)
        try:
            os.execvpe(argv[0], argv, env)
        except OSError as e:
            raise Fatal(f"exec {argv[0]}: {e.strerror}")

    def run_param(self, j: Job, param: str, injail: bool) -> bool:
        p = j.cj.param(param)
        if p is None:
            return True
        if param == "command" and j.name is None:
            # a command-line jail's command is an argument vector
            return self.run_command(j, param, "", True, argv=p.strings)
        for v in p.strings:
            if v == "":
                continue
            if not self.run_command(j, param, v, injail):
                return False
        return True

    # ------------------------------------------------------------ vnet.interface
    def vnet_interface(self, j: Job, ifname: str, down: bool) -> bool:
        """command.c's IP_VNET_INTERFACE: ``ifconfig IF vnet JAIL`` after
        creation (``-vnet`` when undoing a start that failed later), naming
        the jail by its jid or name parameter, else by the jid it got.  The
        toolbox's ifconfig runs in this process: the same `.ctl` verbs
        (ifvnet, ifreclaim) and sbin/ifconfig's messages."""
        target = j.cj.string("jid") or j.cj.string("name") or str(j.known_jid)
        argv = [ifname, "-vnet" if down else "vnet", target]
        comline = " ".join([IFCONFIG] + argv)
        if self.verbose > 0:
            self.jail_note(j, f"run command: {comline}\n")
        from jailfs.toolbox.ifconfig import main as ifconfig    # only a vnet jail's start
        if ifconfig(argv) != 0:
            self.jail_warnx(j, f"{comline}: failed")
            return False
        return True

    def give_interfaces(self, j: Job, moved: list[str]) -> bool:
        """Move every vnet.interface into the new jail, in order; ``moved``
        collects those that went, for :meth:`take_interfaces`."""
        for ifname in j.cj.strings("vnet.interface"):
            if ifname == "":
                continue
            if not self.vnet_interface(j, ifname, False):
                return False
            moved.append(ifname)
        return True

    def take_interfaces(self, j: Job, moved: list[str]) -> None:
        """A start failed after interfaces went in: take them back, last
        first, before the jail is removed (next_command walking back)."""
        while moved:
            self.vnet_interface(j, moved.pop(), True)

    # ------------------------------------------------------------ processes
    def jail_pids(self, j: Job) -> list[int]:
        """The real processes in the jail, as the daemon knows them."""
        a = self.ctl(f"procs {j.jid}")
        if not a.ok:
            return []
        pids = [int(line.split(" ", 1)[0]) for line in a.extra]
        return [pid for pid in pids if pid != os.getpid()]

    def term_procs(self, j: Job) -> None:
        """SIGTERM every process in the jail and wait up to stop.timeout for
        them to end (pidfds stand in for FreeBSD's kevent NOTE_EXIT)."""
        timeout = j.cj.int("stop.timeout")
        if timeout is None:
            timeout = DEFAULT_STOP_TIMEOUT
        elif timeout == 0:
            return
        waiting: dict[int, int] = {}            # pidfd -> pid
        for pid in self.jail_pids(j):
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                continue                        # already gone
            try:
                signal.pidfd_send_signal(fd, signal.SIGTERM)
            except OSError:
                os.close(fd)
                continue
            waiting[fd] = pid
        if waiting and self.verbose > 0:
            self.jail_note(j, "sent SIGTERM to:" +
                           "".join(f" {p}" for p in sorted(waiting.values())) + "\n")
        poller = select.poll()
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + timeout
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for fd, _ in poller.poll(left * 1000):
                poller.unregister(fd)
                os.close(fd)
                del waiting[fd]
        for fd in waiting:
            os.close(fd)
        if waiting and self.verbose > 0:
            self.jail_note(j, "timed out\n")
