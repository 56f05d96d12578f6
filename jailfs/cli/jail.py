"""jail(8) for jailfs: create, modify and remove jails through the mount.

Follows FreeBSD's usr.sbin/jail (jail.c, state.c, command.c): the same
command-line forms, jail.conf(5) files, messages and exit statuses.  Every
kernel operation is one ``.ctl`` transaction (see docs/ctl.md):
``create``/``createupdate``/``update`` carry all of a jail's parameters in one
request, ``remove JAIL`` removes, ``attach JAIL PID`` puts a real process
into a jail.

Commands: exec.prepare, exec.prestart, exec.created, exec.poststart,
exec.prestop, exec.poststop and exec.release run on the host; exec.start,
exec.stop and ``command`` run inside the jail: a keeper process attaches
itself with ``attach JAIL <its pid>`` and runs the command as its child,
keeping what the command leaves behind in the jail (see injail.py).
mount*, interface addresses, vnet.interface, zfs.dataset and exec.fib need a
FreeBSD host and are accepted but not performed.
"""

from __future__ import annotations

import getopt
import ipaddress
import os
import pwd
import re
import signal
import socket
import sys
import time

from jailfs.cli.bsdlib import quote_char
from jailfs.cli.injail import spawn as spawn_keeper, undo_locale_coercion
from jailfs.ctlproto import MountError, ctl_answer, find_mount, quote
from jailfs.conf import (CfJail, ConfError, check_bool_int,
                         load_config, wild_jail_match, wild_jail_name)
from jailfs.conf.config import _strtol
from jailfs.fs.callers import descendants
from jailfs.ops.version import exit_if_version

PROG = "jail"
CONF_FILE = "/etc/jail.conf"
DEFAULT_STOP_TIMEOUT = 10
OPTSTRING = "cCde:f:hiJ:lmn:p:qrRs:u:U:v"

JF_START = 0x1
JF_SET = 0x2
JF_STOP = 0x4
JF_DEPEND = 0x8
JF_WILD = 0x10
JF_RESTART = JF_START | JF_STOP

DEPRECATED_DYING = ("the 'allow.dying' parameter and '-d' flag are "
                    "deprecated and have no effect.")

# Shell metacharacters: a command holding one runs under /bin/sh -c.
SHELL_META = "!\"$&'()*;<>?[\\]`{|}~"

USAGE = (
    "usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n"
    "            -[cmr] param=value ... [command=command ...]\n"
    "       jail [-dqv] [-f file] -[cmr] [jail]\n"
    "       jail [-qv] [-f file] -[rR] ['*' | jail ...]\n"
    "       jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n"
    "            [-n jailname] [-s securelevel]\n"
    "            path hostname [ip[,...]] command ...\n"
    "       jail [-f file] -e separator\n"
)


class Usage(Exception):
    pass


class Fatal(Exception):
    """Print ``jail: MSG`` lines and exit 1."""

    def __init__(self, *msgs: str):
        self.msgs = msgs


def warnx(msg: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"{PROG}: {msg}\n")
    sys.stderr.flush()


def out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def quoted_print(s: str) -> str:
    """jail.c quoted_print: quote a value holding spaces or quotes."""
    qc = quote_char(s)
    body = "".join("\\" + c if (c == "\\" or (qc and c == qc)) else c
                   for c in s)
    return f"{qc}{body}{qc}"


def print_param(j: CfJail, p, sep: str, doname: bool) -> str:
    text = ""
    if doname:
        text += p.name
    if p is None or not p.values:
        return text
    if doname:
        text += "="
    return text + sep.join(quoted_print(s.text) for s in p.values)


def _kernel_params_table():
    try:
        from jailfs.kernel import PARAMS  # type: ignore
        return PARAMS
    except Exception:       # the kernel package is optional for this tool
        return {}


class Job:
    """One jail being worked on (struct cfjail's run-time half)."""

    def __init__(self, cj: CfJail, flags: int = 0):
        self.cj = cj
        self.flags = flags
        self.jid = 0            # 0: not looked up yet; -1: not running
        self.failed = cj.failed
        self.done = False
        self.persist_added = False
        self.checked = False

    @property
    def name(self):
        return self.cj.name


class Jail8:
    def __init__(self):
        self.verbose = 0
        self.iflag = False
        self.note_remove = False
        self.mount: str | None = None
        self.jfp = None
        self.oldcl = False
        self.separator = "\t"
        self.dying_warned = False
        self.error = 0
        self.jobs: list[Job] = []
        self.by_name: dict[str, Job] = {}
        self.docf = True
        self.jailed: bool | None = None

    # ------------------------------------------------------------ messages
    def jail_warnx(self, j: Job | CfJail | None, msg: str) -> None:
        name = j.name if j is not None else None
        warnx(f"{name}: {msg}" if name is not None else msg)

    def jail_note(self, j: Job, msg: str) -> None:
        out(f"{j.name}: {msg}" if j.name is not None else msg)

    def quoted_warnx(self, j: Job, name_msg: str, noname_msg: str | None):
        pval = j.name or j.cj.string("jid") or j.cj.string("name")
        if pval:
            warnx(f'"{pval}" {name_msg}')
        else:
            warnx(noname_msg if noname_msg is not None else "(null)")

    def fail(self, j: Job) -> None:
        j.failed = True

    def warn_dying(self) -> None:
        if not self.dying_warned:
            self.dying_warned = True
            warnx(DEPRECATED_DYING)

    # ------------------------------------------------------------ the mount
    def ctl(self, text: str):
        if self.mount is None:
            try:
                self.mount = find_mount()
            except MountError as e:
                raise Fatal(str(e))
        try:
            return ctl_answer(self.mount, text)
        except OSError as e:
            raise Fatal(f"{self.mount}/.ctl: {os.strerror(e.errno or 5)}")

    def lookup(self, key: str, dying: bool = False) -> int:
        """The jid of a running jail (name or jid), or -1."""
        a = self.ctl(f"get {'-d ' if dying else ''}{quote(key)} jid")
        if not a.ok:
            return -1
        try:
            return int(a.value.split()[0])
        except (ValueError, IndexError):
            return -1

    def running_jid(self, j: Job) -> None:
        cj = j.cj
        jidp = cj.string("jid")
        if jidp is not None:
            num, rest = _strtol(jidp)
            if num == 0 or rest:
                j.jid = -1
                return
            j.jid = self.lookup(str(num))
            return
        name = cj.string("name")
        if name is not None:
            j.jid = self.lookup(name)
        else:
            j.jid = -1

    def is_jailed(self) -> bool:
        if self.jailed is None:
            self.jailed = False
            try:
                mnt = self.mount or find_mount()
                with open(os.path.join(mnt, "jid")) as f:
                    self.jailed = f.read().strip() not in ("", "0")
            except (OSError, MountError):
                pass
        return self.jailed

    # ------------------------------------------------------------ commands
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
        if self.verbose > 0:
            self.jail_note(j, "run command%s%s%s: %s\n" % (
                " in jail" if injail else "", " as " if username else "",
                username or "", comline))
        timeout = cj.int("exec.timeout") or 0
        conslog = cj.string("exec.consolelog") if injail else None
        keeper = spawn_keeper(
            (lambda: self._attach(j)) if injail else None,
            lambda: self._command(j, argv, injail, clean, username, conslog),
            lambda e: self.jail_warnx(j, str(e)), setsid=bg)
        if bg:
            keeper.close()
            return True
        status = keeper.wait(timeout if timeout > 0 else None)
        if status is None:
            self.jail_warnx(j, f"{comline}: timed out")
            return False
        if os.WIFSIGNALED(status):
            self.jail_warnx(j, f"{comline}: exited on signal "
                               f"{os.WTERMSIG(status)}")
            return False
        if os.WEXITSTATUS(status) != 0:
            self.jail_warnx(j, f"{comline}: failed")
            return False
        return True

    def _attach(self, j: Job) -> None:
        """In the keeper: attach it to the jail."""
        a = self.ctl(f"attach {j.jid} {os.getpid()}")
        if not a.ok:
            raise Fatal(f"jail_attach: {a.value}")

    def _command(self, j: Job, argv, injail, clean, username, conslog) -> None:
        """In the command's process: directory, user, environment, exec."""
        cj = j.cj
        env = dict(os.environ)
        undo_locale_coercion(env)
        path = cj.string("path")
        if injail and path:
            try:
                os.chdir(path)
            except OSError as e:
                raise Fatal(f"chdir {path}: {e.strerror}")
        if clean or username:
            try:
                pw = pwd.getpwnam(username) if username else \
                    pwd.getpwuid(os.getuid())
            except KeyError:
                raise Fatal(f"{username}: no such user" if username
                            else f"unknown uid {os.getuid()}")
            if clean:
                term = os.environ.get("TERM")
                env = {"PATH": "/bin:/usr/bin"}
                if term is not None:
                    env["TERM"] = term
            if username and pw.pw_uid != os.getuid():
                try:
                    os.setgid(pw.pw_gid)
                    os.initgroups(pw.pw_name, pw.pw_gid)
                    os.setuid(pw.pw_uid)
                except OSError as e:
                    raise Fatal(f"setgid {pw.pw_gid}: {e.strerror}")
            env["USER"] = pw.pw_name
            env["HOME"] = pw.pw_dir
            env["SHELL"] = pw.pw_shell or "/bin/sh"
            if clean:
                try:
                    os.chdir(pw.pw_dir)
                except OSError as e:
                    raise Fatal(f"chdir {pw.pw_dir}: {e.strerror}")
        if not clean:
            if j.jid > 0:
                env["JID"] = str(j.jid)
            env["JNAME"] = cj.string("name") or (str(j.jid) if j.jid > 0 else "")
            env["JPATH"] = path or ""
        if conslog:
            try:
                fd = os.open(conslog, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                             0o666)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
            except OSError as e:
                raise Fatal(f"open {conslog}: {e.strerror}")
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

    # ------------------------------------------------------------ processes
    def jail_pids(self, j: Job) -> list[int]:
        """Real processes in the jail: those attached to it (read from its
        .refs file: keepers, which ignore SIGTERM and end with their last
        child) and every process below them."""
        pids: list[int] = []
        try:
            with open(os.path.join(self.mount or find_mount(), ".jid",
                                   str(j.jid), ".refs")) as f:
                text = f.read()
        except (OSError, MountError):
            return pids
        for line in text.splitlines():
            if "child" in line.lower() and "jail" in line.lower():
                continue            # a child jail's processes are not ours
            for m in re.finditer(r"(?:real|linux|host)[ _-]?pid[ =:]*(\d+)",
                                 line, re.I):
                pid = int(m.group(1))
                if pid not in pids and pid != os.getpid():
                    pids.append(pid)
        for pid in list(pids):
            pids += [p for p in descendants(pid) if p not in pids]
        return pids

    def term_procs(self, j: Job) -> None:
        timeout = j.cj.int("stop.timeout")
        if timeout is None:
            timeout = DEFAULT_STOP_TIMEOUT
        elif timeout == 0:
            return
        sent = []
        for pid in self.jail_pids(j):
            try:
                os.kill(pid, signal.SIGTERM)
                sent.append(pid)
            except OSError:
                pass
        if sent and self.verbose > 0:
            self.jail_note(j, "sent SIGTERM to:" +
                           "".join(f" {p}" for p in sent) + "\n")
        deadline = time.monotonic() + timeout
        while sent and time.monotonic() < deadline:
            alive = []
            for pid in sent:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                if os.path.exists(f"/proc/{pid}") and not _zombie(pid):
                    alive.append(pid)
            sent = alive
            if sent:
                time.sleep(0.05)
        if sent and self.verbose > 0:
            self.jail_note(j, "timed out\n")

    # ------------------------------------------------------------ kernel ops
    def set_note(self, j: Job, params: list[tuple[str, str | None]],
                 op: str, verb: str) -> tuple[bool, int, str, str]:
        req = op + "".join(" " + quote(n if v is None else f"{n}={v}")
                           for n, v in params)
        a = self.ctl(req)
        if self.verbose > 0:
            line = f"jail_set({verb})" + "".join(
                f" {n}" if v is None else f" {n}={quoted_print(v)}"
                for n, v in params)
            if not a.ok:
                line += ": " + _strerror_of(a.errname)
            self.jail_note(j, line + "\n")
        if a.ok:
            try:
                return True, int(a.value.split()[0]), "", ""
            except (ValueError, IndexError):
                return True, j.jid, "", ""
        return False, -1, a.errname, a.value

    def kernel_params(self, j: Job) -> list[tuple[str, str | None]]:
        params = []
        for name, value in j.cj.kernel_params():
            if name in ("ip4.addr", "ip6.addr") and value:
                vals = []
                for v in value.split(","):
                    if "|" in v:
                        v = v.split("|", 1)[1]
                    vals.append(v.split("/", 1)[0].split(" ", 1)[0])
                value = ",".join(vals)
            params.append((name, value))
        return params

    def create_jail(self, j: Job) -> bool:
        cj = j.cj
        path = cj.string("path")
        if path is not None:
            if j.name is not None and not path.startswith("/"):
                self.jail_warnx(j, f"path {path}: not an absolute pathname")
                return False
            try:
                st = os.stat(path)
            except OSError as e:
                self.jail_warnx(j, f"path {path}: {e.strerror}")
                return False
            import stat as _st
            if not _st.S_ISDIR(st.st_mode):
                self.jail_warnx(j, f"path {path}: {os.strerror(20)}")
                return False
        params = self.kernel_params(j)
        dopersist = (not cj.bool("persist") and
                     any(cj.param(x) is not None for x in
                         ("exec.start", "command", "exec.poststart")))
        if dopersist:
            params = [("persist", None)] + [
                (n, v) for n, v in params
                if not (n == "persist" or n == "nopersist")]
        ok, jid, errname, msg = self.set_note(j, params, "create",
                                              "JAIL_CREATE")
        if not ok:
            self.jail_warnx(j, msg)
            return False
        j.jid = jid
        if dopersist:
            j.persist_added = True
        return True

    def clear_persist(self, j: Job) -> None:
        if not j.persist_added:
            return
        j.persist_added = False
        a = self.ctl(f"update jid={j.jid} nopersist")
        if self.verbose > 0:
            self.jail_note(j, "jail_set(JAIL_UPDATE) jid=%d nopersist%s\n" % (
                j.jid, "" if a.ok else ": " + _strerror_of(a.errname)))

    def remove(self, j: Job) -> bool:
        a = self.ctl(f"remove {j.jid}")
        if not a.ok and a.errname == "EPERM":
            self.jail_warnx(j, "jail_remove: Operation not permitted")
            return False
        return True

    def rdtun_params(self, j: Job, dofail: bool) -> int:
        """Whether the update would change a create-only parameter."""
        table = _kernel_params_table()
        rt = [(n, v) for n, v in self.kernel_params(j)
              if n != "jid" and _createonly(table, n)]
        if not rt:
            return 0
        a = self.ctl(f"get {j.jid} " + " ".join(quote(_base(table, n))
                                                 for n, _ in rt))
        if not a.ok:
            return 0
        cur = a.kv()
        for n, v in rt:
            base = _base(table, n)
            if base not in cur:
                continue
            if not _same_value(table, n, v, cur[base]):
                if dofail:
                    self.jail_warnx(j, f"{n} cannot be changed after creation")
                    self.fail(j)
                    return -1
                return 1
        return 0

    def update_jail(self, j: Job) -> bool:
        table = _kernel_params_table()
        sets = [(n, v) for n, v in self.kernel_params(j)
                if not _createonly(table, n)]
        if not sets:
            return True
        ok, jid, errname, msg = self.set_note(
            j, [("jid", str(j.jid))] + sets, "update", "JAIL_UPDATE")
        if not ok:
            self.jail_warnx(j, msg)
            self.fail(j)
            return False
        return True

    # ------------------------------------------------------------ sequences
    def start_sequence(self, j: Job) -> bool:
        # exec.prepare, (addresses, mounts: not on Linux), exec.prestart
        for param in ("exec.prepare", "exec.prestart"):
            if not self.run_param(j, param, False):
                self.fail(j)
                return False
        if not self.create_jail(j):
            self.fail(j)
            return False
        if self.iflag:
            out(f"{j.jid}\n")
        if self.verbose >= 0 and (j.name is not None or self.verbose > 0):
            self.jail_note(j, "created\n")
        for param, injail in (("exec.created", False), ("exec.start", True),
                              ("command", True), ("exec.poststart", False)):
            if not self.run_param(j, param, injail):
                self.fail(j)
                # undo: remove the jail again
                self.remove(j)
                if self.verbose > 0 or (self.verbose == 0 and
                                        j.name is not None):
                    self.jail_note(j, "removed\n")
                j.jid = -1
                j.persist_added = False
                return False
        self.clear_persist(j)
        if self.jfp is not None:
            self.print_jail(self.jfp, j)
        return True

    def stop_sequence(self, j: Job) -> bool:
        if not self.run_param(j, "exec.prestop", False):
            self.fail(j)
            return False
        if not self.run_param(j, "exec.stop", True):
            self.fail(j)
            return False
        self.term_procs(j)
        if not self.remove(j):
            self.fail(j)
            return False
        if self.verbose > 0 or (self.verbose == 0 and self.note_remove):
            self.jail_note(j, "removed\n")
        j.jid = -1
        for param in ("exec.poststop", "exec.release"):
            if not self.run_param(j, param, False):
                self.fail(j)
                return False
        return True

    def print_jail(self, fp, j: Job) -> None:
        cj = j.cj
        sep = self.separator
        if self.oldcl:
            ips = [s for s in (print_param(cj, cj.param("ip4.addr"), ",", False)
                               if cj.param("ip4.addr") else "",
                               print_param(cj, cj.param("ip6.addr"), ",", False)
                               if cj.param("ip6.addr") else "") if s]
            fields = [str(j.jid),
                      print_param(cj, cj.param("path"), ",", False)
                      if cj.param("path") else "",
                      print_param(cj, cj.param("host.hostname"), ",", False)
                      if cj.param("host.hostname") else "",
                      ",".join(ips),
                      print_param(cj, cj.param("command"), " ", False)
                      if cj.param("command") else ""]
            fp.write(sep.join(fields) + "\n")
        else:
            parts = [f"jid={j.jid}"]
            parts += [print_param(cj, p, ",", True) for p in cj.params
                      if p.name != "jid"]
            fp.write(sep.join(parts) + "\n")
        fp.flush()

    # ------------------------------------------------------------ scheduling
    def deps_of(self, j: Job) -> list[tuple[Job, bool]]:
        """(job, light) pairs j depends on (config jails only)."""
        deps = []
        if not self.docf or j.name is None:
            return deps
        for d in j.cj.strings("depend"):
            dj = self.by_name.get(d)
            if dj is not None:
                deps.append((dj, False))
        if "." in j.name:
            pj = self.by_name.get(j.name.rsplit(".", 1)[0])
            if pj is not None:
                deps.append((pj, True))
        return deps

    def dependents_of(self, j: Job) -> list[tuple[Job, bool]]:
        return [(k, light) for k in self.jobs for d, light in self.deps_of(k)
                if d is j]

    def process(self, j: Job, stack: tuple = ()) -> bool:
        """Do j's operation after the jails it depends on (or, for removal,
        after the jails that depend on it).  Returns success."""
        if j.done:
            return not j.failed
        if j in stack:
            return not j.failed
        stack = stack + (j,)
        if j.failed:
            j.done = True
            self.error = 1
            return False
        if not j.checked:
            j.checked = True
            if j.cj.param("allow.dying") is not None:
                self.warn_dying()
            sink: list[str] = []
            if not check_bool_int(j.cj, sink):
                for w in sink:
                    warnx(w)
                self.fail(j)
                j.done = True
                self.error = 1
                return False
            if j.cj.bool("ip_hostname") and (j.flags & JF_START or
                                              j.flags & JF_SET):
                if not self.ip_hostname(j):
                    j.done = True
                    self.error = 1
                    return False
        if j.jid == 0:
            self.running_jid(j)
        stopping = bool(j.flags & JF_STOP)
        # dependencies first
        rel = self.dependents_of(j) if stopping else self.deps_of(j)
        for dj, light in rel:
            if not (dj.flags & (JF_START | JF_SET | JF_STOP)):
                dj.flags |= JF_DEPEND
            if stopping:
                dj.flags |= JF_STOP
                if dj.flags & JF_SET:
                    dj.flags ^= (JF_START | JF_SET)
            elif j.flags & JF_START:
                dj.flags |= JF_START
            elif not (dj.flags & (JF_START | JF_STOP)):
                dj.flags |= JF_SET
            if dj.jid == 0:
                self.running_jid(dj)
            if light and (dj.jid < 0 if stopping else dj.jid > 0):
                continue
            if not self.process(dj, stack):
                if not (j.flags & (JF_DEPEND)) and not j.failed and \
                        self.verbose >= 0:
                    self.jail_warnx(j, "skipped")
                self.fail(j)
        if j.failed:
            j.done = True
            self.error = 1
            return False
        ok = self.do_op(j)
        j.done = True
        if not ok:
            self.error = 1
        return ok

    def do_op(self, j: Job) -> bool:
        op = j.flags & (JF_START | JF_SET | JF_STOP)
        if op == JF_START | JF_SET:
            op = JF_START if j.jid < 0 else JF_SET
        elif op == JF_SET | JF_STOP:
            if j.jid < 0:
                self.quoted_warnx(j, "not found", "no jail specified")
                self.fail(j)
                return False
            op = JF_RESTART if self.rdtun_params(j, False) else JF_SET
        elif op == JF_START | JF_SET | JF_STOP:
            op = JF_START if j.jid < 0 else (
                JF_RESTART if self.rdtun_params(j, False) else JF_SET)
        if op == JF_START:
            if j.jid > 0:
                if not (j.flags & (JF_DEPEND | JF_WILD)):
                    self.quoted_warnx(j, "already exists", None)
                    self.fail(j)
                    return False
                return True
            return self.start_sequence(j)
        if op == JF_SET:
            if j.jid < 0:
                if j.flags & JF_DEPEND:
                    return True
                self.quoted_warnx(j, "not found", "no jail specified")
                self.fail(j)
                return False
            if j.flags & JF_DEPEND:
                return True
            if self.rdtun_params(j, True) < 0 or not self.update_jail(j):
                return False
            if self.verbose >= 0 and (j.name is not None or self.verbose > 0):
                self.jail_note(j, "updated\n")
            return True
        # JF_STOP or JF_RESTART
        if j.jid < 0:
            if not (j.flags & (JF_DEPEND | JF_WILD)):
                if self.verbose >= 0:
                    self.quoted_warnx(j, "not found", None)
                self.fail(j)
                return False
        elif not self.stop_sequence(j):
            return False
        if op == JF_RESTART:
            return self.start_sequence(j)
        return True

    def ip_hostname(self, j: Job) -> bool:
        host = j.cj.string("host.hostname")
        if host is None:
            return True
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            self.jail_warnx(j, f"host.hostname {host}: {e.strerror}")
            self.fail(j)
            return False
        for fam, _, _, _, sa in infos:
            if fam == socket.AF_INET:
                j.cj.add_param(ipname="ip4.addr", value=sa[0])
            elif fam == socket.AF_INET6:
                j.cj.add_param(ipname="ip6.addr", value=sa[0])
        return True

    # ------------------------------------------------------------ main
    def main(self, argv: list[str]) -> int:
        try:
            return self._main(argv)
        except Usage:
            sys.stdout.flush()
            sys.stderr.write(USAGE)
            return 1
        except Fatal as e:
            for m in e.msgs:
                warnx(m)
            return 1
        except ConfError as e:
            for m in e.messages:
                warnx(m)
            return 1
        finally:
            if self.jfp is not None:
                self.jfp.close()

    def _load(self, cfname: str):
        conf = load_config(cfname)
        for w in conf.warnings:
            warnx(w)
        return conf

    def _main(self, argv: list[str]) -> int:
        op = 0
        rflag = False
        cflag_clean = False
        eflag = False
        cfname = CONF_FILE
        jidfile = None
        cl = CfJail(None)
        self.docf = True
        try:
            opts, args = getopt.getopt(argv, OPTSTRING)
        except getopt.GetoptError as e:
            if e.msg.startswith("option -") and "requires argument" in e.msg:
                warnx(f"option requires an argument -- {e.opt}")
            else:
                warnx(f"illegal option -- {e.opt}")
            raise Usage()
        for o, a in opts:
            if o == "-c":
                op |= JF_START
            elif o == "-C":
                cflag_clean = True
            elif o == "-d":
                self.warn_dying()
            elif o == "-e":
                eflag = True
                self.separator = a
            elif o == "-f":
                cfname = a
            elif o == "-h":
                cl.add_param(ipname="ip_hostname")
                self.docf = False
            elif o == "-i":
                self.iflag = True
                self.verbose = -1
            elif o == "-J":
                jidfile = a
            elif o == "-l":
                cl.add_param(ipname="exec.clean")
                self.docf = False
            elif o == "-m":
                op |= JF_SET
            elif o == "-n":
                cl.add_param(ipname="name", value=a)
                self.docf = False
            elif o == "-p":
                pass            # commands run one at a time anyway
            elif o == "-q":
                self.verbose = -1
            elif o == "-r":
                op |= JF_STOP
            elif o == "-R":
                op |= JF_STOP
                rflag = True
            elif o == "-s":
                cl.add_param(ipname="securelevel", value=a)
                self.docf = False
            elif o == "-u":
                cl.add_param(ipname="exec.jail_user", value=a)
                cl.add_param(ipname="exec.system_jail_user")
                self.docf = False
            elif o == "-U":
                cl.add_param(ipname="exec.jail_user", value=a)
                cl.add_param(ipname="exec.system_jail_user", value="false")
                self.docf = False
            elif o == "-v":
                self.verbose = 1

        if eflag:
            if op or args:
                raise Usage()
            conf = self._load(cfname)
            for cj in conf.jails:
                parts = [print_param(cj, p, ",", True) for p in cj.params
                         if p.name != "jid"]
                out(self.separator.join(parts) + "\n")
            return 0

        if cflag_clean:
            return self.clean_up(args, cfname)

        conf = None
        targets: list[str] = []
        if not op:
            # legacy: jail path hostname ip[,...] command ...
            if len(args) < 4 or not args[0].startswith("/"):
                raise Usage()
            op = JF_START
            self.docf = False
            self.oldcl = True
            cl.add_param(ipname="path", value=args[0])
            cl.add_param(ipname="host.hostname", value=args[1])
            if args[2] != "":
                for ip in args[2].split(","):
                    try:
                        ipaddress.IPv6Address(ip)
                        cl.add_param(ipname="ip6.addr", value=ip)
                    except ValueError:
                        cl.add_param(ipname="ip4.addr", value=ip)
            for c in args[3:]:
                cl.add_param(ipname="command", value=c)
            if not self.is_jailed():
                table = _kernel_params_table()
                for pname, val in (("allow.set_hostname", None),
                                   ("allow.sysvipc", "false"),
                                   ("allow.raw_sockets", "false"),
                                   ("allow.chflags", "false"),
                                   ("allow.mount", "false"),
                                   ("allow.socket_af", "false")):
                    if not table or pname in table:
                        cl.add_param(ipname=pname, value=val)
            self.jobs = [Job(cl, JF_START)]
        elif op == JF_STOP:
            if not self.docf or not args:
                raise Usage()
            if not rflag and any("=" in a for a in args):
                raise Usage()
            self.docf = not rflag and (cfname == "-" or os.path.exists(cfname))
            if self.docf:
                conf = self._load(cfname)
            self.note_remove = self.docf or len(args) > 1 or \
                wild_jail_name(args[0])
            targets = args
        elif len(args) > 1 or (len(args) == 1 and "=" in args[0]):
            if rflag:
                raise Usage()
            self.docf = False
            i = 0
            while i < len(args):
                a = args[i]
                if a.startswith("command") and (len(a) == 7 or a[7] == "="):
                    if len(a) > 7:
                        cl.add_param(ipname="command", value=a[8:])
                    for rest in args[i + 1:]:
                        cl.add_param(ipname="command", value=rest)
                    break
                if a.startswith("ip4.addr=") or a.startswith("ip6.addr="):
                    for v in a[9:].split(","):
                        cl.add_param(ipname=a[:8], value=v)
                else:
                    cl.add_param(from_arg=a, sink=None)
                i += 1
            for w in cl.warnings:
                warnx(w)
            self.jobs = [Job(cl, op)]
        else:
            if rflag or not self.docf:
                raise Usage()
            conf = self._load(cfname)
            targets = args[:1]

        if conf is not None:
            self.jobs = [Job(cj) for cj in conf.jails]
            self.by_name = {jb.name: jb for jb in self.jobs}
            self.dep_setup()
        elif self.jobs and self.jobs[0].cj.param("depend") is not None:
            j = self.jobs[0]
            for d in j.cj.strings("depend"):
                if self.lookup(d) < 0:
                    warnx(f'depends on nonexistent jail "{d}"')
                    j.failed = True

        # choose the jails to work on
        selected: list[Job] = []
        if op == JF_STOP:
            for t in targets:
                r = self.start_state(t, op, rflag)
                if r is None:
                    self.error = 1
                else:
                    selected.extend(r)
        elif conf is not None:
            r = self.start_state(targets[0] if targets else None, op, False)
            if r is None:
                return 1
            selected = r
        else:
            selected = self.jobs

        if jidfile is not None:
            try:
                self.jfp = open(jidfile, "w")
            except OSError as e:
                raise Fatal(f"open {jidfile}: {e.strerror}")

        if op & JF_STOP and not op & JF_START:
            # removals: dependents first; go through in reverse file order
            order = list(selected)
        else:
            order = list(selected)
        for j in order:
            self.process(j)
        return self.error

    def dep_setup(self) -> None:
        for j in self.jobs:
            if j.failed:
                continue
            for d in j.cj.strings("depend"):
                if d not in self.by_name:
                    self.jail_warnx(j, f'depends on undefined jail "{d}"')
                    j.failed = True
        # dependency loops
        state: dict[int, int] = {}

        def visit(j: Job, path: list[Job]) -> None:
            s = state.get(id(j), 0)
            if s == 2:
                return
            if s == 1:
                for k in path[path.index(j):]:
                    if not k.failed:
                        self.jail_warnx(k, "dependency loop")
                        k.failed = True
                return
            state[id(j)] = 1
            for dj, light in self.deps_of(j):
                visit(dj, path + [j])
            state[id(j)] = 2

        for j in self.jobs:
            visit(j, [])

    def start_state(self, target: str | None, op: int, running: bool
                    ) -> list[Job] | None:
        if target is None or (not self.docf and op != JF_STOP) or \
                (not running and target == "*"):
            sel = []
            for j in self.jobs:
                j.flags = op | (JF_WILD if self.docf else 0)
                sel.append(j)
            return sel
        if wild_jail_name(target):
            sel = []
            if running:
                a = self.ctl("list")
                if a.ok:
                    for line in a.extra:
                        parts = line.split(None, 1)
                        if len(parts) == 2 and wild_jail_match(parts[1], target):
                            cj = CfJail(parts[1])
                            cj.add_param(ipname="name", value=parts[1])
                            j = Job(cj, op | JF_WILD)
                            j.jid = int(parts[0])
                            self.jobs.append(j)
                            sel.append(j)
            else:
                for j in self.jobs:
                    if wild_jail_match(j.name, target):
                        j.flags = op | JF_WILD
                        sel.append(j)
            return sel
        j = self.by_name.get(target)
        if j is None and op == JF_STOP:
            jid = self.lookup(target, dying=False)
            if jid > 0:
                cj = CfJail(target)
                cj.add_param(ipname="name", value=target)
                num, rest = _strtol(target)
                if num != 0 and rest == "":
                    cj = CfJail(target)
                    cj.add_param(ipname="jid", value=target)
                j = Job(cj)
                j.jid = jid
                self.jobs.append(j)
        if j is None:
            warnx(f'"{target}" not found')
            return None
        j.flags = op
        return [j]

    def clean_up(self, args: list[str], cfname: str) -> int:
        """-C: run the post-removal commands of jails that are gone."""
        if not args:
            raise Usage()
        conf = self._load(cfname) if (cfname == "-" or
                                      os.path.exists(cfname)) else None
        by_name = {cj.name: cj for cj in conf.jails} if conf else {}
        for t in args:
            cj = by_name.get(t)
            if cj is None:
                warnx(f'"{t}" not found')
                self.error = 1
                continue
            j = Job(cj)
            j.jid = -1
            for param in ("exec.poststop", "exec.release"):
                if not self.run_param(j, param, False):
                    self.error = 1
                    break
        return self.error


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _strerror_of(errname: str) -> str:
    import errno as _e
    num = getattr(_e, errname, None)
    return os.strerror(num) if isinstance(num, int) else errname


def _base(table, name: str) -> str:
    if name in table or not table:
        return name
    head, _, last = name.rpartition(".")
    if last.startswith("no"):
        cand = (head + "." if head else "") + last[2:]
        if cand in table:
            return cand
    return name


def _createonly(table, name: str) -> bool:
    prm = table.get(_base(table, name)) if table else None
    if prm is None:
        return name in ("path", "vnet", "ip4", "ip6", "osrelease", "osreldate")
    return bool(getattr(prm, "createonly", False))


def _same_value(table, name: str, given: str | None, current: str) -> bool:
    base = _base(table, name)
    prm = table.get(base) if table else None
    kind = getattr(prm, "kind", "string")
    if kind == "bool":
        neg = base != name
        if given is None:
            want = not neg
        else:
            want = given.strip().lower() == "true" or _strtol(given)[0] != 0
            want = want ^ neg
        return want == (current.lower() in ("true", "1"))
    if given is None:
        return True
    return given == current


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    exit_if_version("jail", argv)
    rc = Jail8().main(argv)
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
