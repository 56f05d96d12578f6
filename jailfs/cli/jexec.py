"""jexec(8) work-alike: run a command attached to a jail of the jailfs mount.

    jexec [-l] [-d working-directory] [-u username | -U username] jail [command ...]

Follows FreeBSD's usr.sbin/jexec/jexec.c: the jail is resolved the way
jail_getid(3) does (a number is a jid, ``0`` is the host, anything else a
name, relative to the caller), then the working directory, user and
environment are set up and the command is exec'd; jexec's exit status is the
command's (or it dies of the command's signal).

What differs, because the jails are simulated: attaching is a ``.ctl``
request (``attach JAIL PID``), which moves a real process -- and everything
it forks later -- into the jail as the mount sees it.  The attached process
is a keeper (see injail.py) that runs the command as its child and stays
until the last process the command left behind is gone, so those stay in the
jail and keep it alive; jexec itself returns when the command ends, and
passes SIGINT, SIGQUIT, SIGTERM and SIGHUP sent to it on to the command.
There is no chroot: the jail's ``path`` is a simulated path.  jexec changes
directory to it when that directory exists on this Linux system, and to ``/``
otherwise; ``-d DIR`` names a directory of this system.

Inside the jail FreeBSD's tools are the ones a command finds: its PATH starts
with the toolbox's directory (``jailfs env``'s) when that directory exists
under the jail's root -- a jail whose path is ``/`` sees the host's -- and is
left as it is otherwise.
"""

from __future__ import annotations

import errno as _errno
import os
import pwd
import sys

from jailfs.cli import injail
from jailfs.cli.bsdlib import (Fatal, bsd_getopt, command_main, jailed_path, strtoul_int,
                               toolbox_dir, user_environment)
from jailfs.ctlproto import MountError, ctl_answer, find_mount, quote
from jailfs.toolbox.common import strerror

PROG = "jexec"
USAGE = ("usage: jexec [-l] [-d working-directory] [-u username | -U username] "
         "jail [command ...]")
PATH_BSHELL = "/bin/sh"


class Usage(Exception):
    pass


def get_user_info(username: str | None):
    """The passwd entry of ``username`` or of the invoking user, as jexec does."""
    if username is not None:
        try:
            return pwd.getpwnam(username)
        except KeyError:
            raise Fatal(f"{username}: no such user")
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid)
    except KeyError:
        raise Fatal(f"unknown uid: {uid}")


def _set_credentials(pw, change_uid: bool) -> None:
    """initgroups + setgid (+ setuid for -u/-U), skipped when nothing changes."""
    need = (pw.pw_gid != os.getgid() or (change_uid and pw.pw_uid != os.getuid())
            or os.geteuid() == 0)
    if not need:
        return
    try:
        os.initgroups(pw.pw_name, pw.pw_gid)
    except OSError as e:
        raise Fatal(f"initgroups: {pw.pw_name}: {e.strerror}")
    try:
        os.setgid(pw.pw_gid)
    except OSError as e:
        raise Fatal(f"setgid: {e.strerror}")
    if change_uid:
        try:
            os.setuid(pw.pw_uid)
        except OSError as e:
            raise Fatal(f"setusercontext: {e.strerror}")


def resolve(mount: str, name: str) -> tuple[int, str]:
    """jail_getid(): the jid (and path) of ``name``; 0 is the host."""
    n = strtoul_int(name)
    if n == 0:
        return 0, "/"
    if n is not None and n < 0:
        raise Fatal(f"jail {n} not found")
    key = str(n) if n is not None else name
    a = ctl_answer(mount, f"get {quote(key)} jid path")
    if not a.ok:
        raise Fatal(a.value or f"jail_get: {strerror(a.errname)}")
    try:
        values = a.kv()
    except ValueError:
        raise Fatal(f"jail_get: unexpected answer: {a.value}")
    try:
        jid = int(values.get("jid") or a.value)
    except ValueError:
        raise Fatal(f"jail_get: unexpected answer: {a.value}")
    return jid, values.get("path", "/")


def attach(mount: str, jid: int, keeper: int) -> list[str]:
    """jail_attach(jid) for the keeper (asked here, on the host: injail.spawn's
    ``enter_for``), through .ctl; the answer's lines tell it how to enter."""
    a = ctl_answer(mount, f"enter {jid} {keeper}")
    if not a.ok:
        raise Fatal(f"jail_attach({jid}): {strerror(a.errname)}")
    return a.extra


def attach_child(mount: str, jid: int, request_fd: int) -> list[str]:
    """jail_attach(jid) into a child jail for this keeper, itself inside a
    jail: the daemon's entry agent takes the request in ``request_fd`` and
    this process's descriptors (injail's nested entry)."""
    a = ctl_answer(mount, f"enterchild {jid} {os.getpid()} {request_fd}")
    if not a.ok:
        raise Fatal(f"jail_attach({jid}): {strerror(a.errname)}")
    return a.extra


def run(argv: list[str]) -> int:
    try:
        opts, args = bsd_getopt(PROG, argv, "d:lnu:U:")
        if opts and opts[-1][0] == "?":
            raise Usage()
    except Usage:
        raise Fatal(None)
    clean = False
    username = None
    uflag = Uflag = False
    workdir = None
    for c, val in opts:
        if c == "d":
            workdir = val
        elif c == "l":
            clean = True
        elif c == "n":
            pass                        # historical, unused
        elif c == "u":
            username, uflag = val, True
        elif c == "U":
            username, Uflag = val, True
    if len(args) < 1 or (uflag and Uflag):
        raise Fatal(None)

    pw = None
    if uflag or (clean and not Uflag):
        pw = get_user_info(username)    # the host's user database

    try:
        mount = find_mount()
    except MountError as e:
        raise Fatal(str(e))
    jid, jpath = resolve(mount, args[0])
    if jid == 0:
        raise Fatal(f"jail_attach({jid}): {os.strerror(_errno.EINVAL)}")
    toolbox = toolbox_dir()
    injail.undo_locale_coercion(os.environ)     # the command gets what jexec was given
    entry = {"argv": args[1:], "jpath": jpath, "workdir": workdir, "clean": clean,
             "username": username, "Uflag": Uflag, "pw": list(pw) if pw else None,
             "toolbox": toolbox}
    keeper = injail.spawn(
        lambda: command(args[1:], jpath, workdir, clean, username, Uflag, pw, toolbox),
        report, nested=(lambda fd: attach_child(mount, jid, fd), entry),
        enter_for=lambda pid: attach(mount, jid, pid))
    return injail.exit_status(keeper.wait(forward=True))


def command(argv: list[str], jpath: str, workdir: str | None, clean: bool,
            username: str | None, Uflag: bool, pw, toolbox: str) -> None:
    """In the jail (the keeper's child): directory, user, environment, exec."""
    # The jail's root: its path when that exists here (no chroot), else /.
    root = "/" if injail.confined else jpath if jpath and os.path.isdir(jpath) else "/"
    target = workdir if workdir is not None else root
    try:
        os.chdir(target)
    except OSError as e:
        raise Fatal(f"chdir(): {target}: {e.strerror}")

    if clean or username is not None:
        if Uflag:
            pw = get_user_info(username)    # "inside the jail": the same passwd here
        _set_credentials(pw, username is not None)
        environ = user_environment(dict(os.environ), pw, clean)
        os.environ.clear()
        os.environ.update(environ)
        if clean and workdir is None:
            try:
                os.chdir(pw.pw_dir)
            except OSError as e:
                raise Fatal(f"chdir: {pw.pw_dir}: {e.strerror}")
    path = jailed_path(os.environ.get("PATH"), toolbox, root)
    if path is not None:
        os.environ["PATH"] = path

    sys.stdout.flush()
    sys.stderr.flush()
    if argv:
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            raise Fatal(f"execvp: {argv[0]}: {e.strerror}")
    shell = os.environ.get("SHELL") or PATH_BSHELL
    try:
        os.execlp(shell, shell, "-i")
    except OSError as e:
        raise Fatal(f"execlp: {shell}: {e.strerror}")


def report(e: BaseException) -> None:
    sys.stderr.write(f"{PROG}: {e}\n")


def main(argv: list[str] | None = None) -> int:
    return command_main(PROG, run, argv, USAGE)


if __name__ == "__main__":
    sys.exit(main())
