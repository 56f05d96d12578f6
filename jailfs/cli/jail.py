"""jail(8) for jailfs: create, modify and remove jails through the mount.

Follows FreeBSD's usr.sbin/jail, split as it is: this module is jail.c (the
command line, the kernel operations, -e and -J output), jail_state.py is
state.c (which jails, in what order), jail_command.py is command.c (exec.*
and ``command``, term_procs), jailp.py is jailp.h; jail.conf(5) is read by
jailfs.conf.  Every kernel operation is one ``.ctl`` transaction (see
docs/ctl.md): ``create``/``createupdate``/``update`` carry all of a jail's
parameters in one request, ``remove JAIL`` removes, ``attach JAIL PID`` puts
a real process into a jail, ``procs JAIL`` lists its processes, ``params``
is the parameter table.

exec.prepare, exec.prestart, exec.created, exec.poststart, exec.prestop,
exec.poststop and exec.release run on the host; exec.start, exec.stop and
``command`` run inside the jail, below a keeper (see injail.py).
vnet.interface moves each interface into the jail after exec.created (the
toolbox's ``ifconfig IF vnet JAIL``, in process).  mount*, interface
addresses, zfs.dataset and exec.fib need a FreeBSD host and are accepted but
not performed.
"""

from __future__ import annotations

import getopt
import os
import stat
import sys

from jailfs.cli.bsdlib import quote_char
from jailfs.cli.jail_command import Commands
from jailfs.cli.jail_state import State
from jailfs.cli.jailp import (JF_SET, JF_START, JF_STOP, Fatal, Job, Usage, out,
                              warnx)
from jailfs.cli.libjail import ParamError, ParamInfo, ParamTable, bool_value
from jailfs.conf.config import PROGRESS_EVERY, CfJail, ConfError, wild_jail_name
from jailfs.conf.depend import Dependencies
from jailfs.conf.plan import strip_ip_decorations
from jailfs.conf.progress import Progress
from jailfs.ctlproto import CtlSession, MountError, find_mount, quote
from jailfs.ops.version import exit_if_version
from jailfs.toolbox.common import strerror

CONF_FILE = "/etc/jail.conf"
OPTSTRING = "cCde:f:hiJ:lmn:p:qrRs:u:U:v"
ARG = object()          # the option's argument
# Options that set parameters of a command-line jail (jail.c main).
COMMAND_LINE_PARAMS = {
    "-h": [("ip_hostname", None)],
    "-l": [("exec.clean", None)],
    "-n": [("name", ARG)],
    "-s": [("securelevel", ARG)],
    "-u": [("exec.jail_user", ARG), ("exec.system_jail_user", None)],
    "-U": [("exec.jail_user", ARG), ("exec.system_jail_user", "false")],
}

# Parameters whose command-line value is a comma-separated list (jail.c main).
LIST_PARAMS = ("ip4.addr", "ip6.addr", "vnet.interface")

DEPRECATED_DYING = ("the 'allow.dying' parameter and '-d' flag are "
                    "deprecated and have no effect.")

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


def quoted_print(s: str) -> str:
    """jail.c quoted_print: quote a value holding spaces or quotes."""
    qc = quote_char(s)
    body = "".join("\\" + c if (c == "\\" or (qc and c == qc)) else c for c in s)
    return f"{qc}{body}{qc}"


def print_param(p, sep: str, doname: bool) -> str:
    text = p.name if doname else ""
    if not p.values:
        return text
    if doname:
        text += "="
    return text + sep.join(quoted_print(s.text) for s in p.values)


class Jail8(State, Commands):
    def __init__(self):
        self.verbose = 0
        self.iflag = False
        self.note_remove = False
        self.mount: str | None = None
        self.session: CtlSession | None = None   # one .ctl descriptor for the whole run
        self._table: ParamTable | None = None
        self.jfp = None
        self.oldcl = False
        self.separator = "\t"
        self.dying_warned = False
        self.error = 0
        self.jobs: list[Job] = []
        self.by_name: dict[str, Job] = {}
        self.deps = Dependencies([], [])          # the config file's graph
        self.job_of: dict[CfJail, Job] = {}
        self.progress: Progress | None = None     # with a config file
        self.docf = True

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

    def warn_dying(self) -> None:
        if not self.dying_warned:
            self.dying_warned = True
            warnx(DEPRECATED_DYING)

    # ------------------------------------------------------------ the mount
    def drop_session(self) -> None:
        """Close the run's .ctl descriptor; the next request opens another.
        Done before every fork: a keeper the daemon moves into a jail would
        otherwise hold a descriptor opened in the host's view, and the daemon
        refuses every host process's write while one is (fs/ctlguard.py)."""
        if self.session is not None:
            self.session.close()
            self.session = None

    def ctl(self, text: str):
        if self.mount is None:
            try:
                self.mount = find_mount()
            except MountError as e:
                raise Fatal(str(e))
        try:
            if self.session is None:
                self.session = CtlSession(self.mount)
            return self.session.answer(text)
        except OSError as e:
            raise Fatal(f"{self.mount}/.ctl: {os.strerror(e.errno or 5)}")

    @property
    def table(self) -> ParamTable:
        """The daemon's parameter table (security.jail.param), read once."""
        if self._table is None:
            self.ctl("params")                  # finds the mount, or fails
            try:
                self._table = ParamTable.fetch(self.mount)
            except ParamError as e:
                raise Fatal(str(e))
        return self._table

    def is_jailed(self) -> bool:
        """security.jail.jailed."""
        a = self.ctl("jailed")
        return a.ok and a.value == "1"

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
                line += ": " + strerror(a.errname)
            self.jail_note(j, line + "\n")
        if a.ok:
            try:
                return True, int(a.value.split()[0]), "", ""
            except (ValueError, IndexError):
                return True, j.jid, "", ""
        return False, -1, a.errname, a.value

    def kernel_params(self, j: Job) -> list[tuple[str, str | None]]:
        """The jail's kernel parameters as jail_set gets them: addresses
        without jail.conf's decorations, and a relative ``path`` resolved
        against this process's directory, as the kernel's namei does."""
        params = strip_ip_decorations(j.cj.kernel_params())
        return [("path", os.path.realpath(v)) if n == "path" and v and not v.startswith("/")
                else (n, v) for n, v in params]

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
            if not stat.S_ISDIR(st.st_mode):
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
                j.jid, "" if a.ok else ": " + strerror(a.errname)))

    def remove(self, j: Job) -> bool:
        a = self.ctl(f"remove {j.jid}")
        if not a.ok and a.errname == "EPERM":
            self.jail_warnx(j, "jail_remove: Operation not permitted")
            return False
        return True

    def rdtun_params(self, j: Job, dofail: bool) -> int:
        """Whether the update would change a create-only parameter (jail.c
        rdtun_params): 1, or -1 after failing the jail when ``dofail``."""
        given = [(n, v, self.table.lookup(n)) for n, v in self.kernel_params(j) if n != "jid"]
        rt = [(n, v, info) for n, v, info in given if info is not None and info.createonly]
        if not rt:
            return 0
        a = self.ctl(f"get {j.jid} " + " ".join(quote(info.base) for _, _, info in rt))
        if not a.ok:
            return 0
        current = a.kv()
        for n, v, info in rt:
            if info.base in current and not _same_value(info, v, current[info.base]):
                if dofail:
                    self.jail_warnx(j, f"{n} cannot be changed after creation")
                    j.failed = True
                    return -1
                return 1
        return 0

    def update_jail(self, j: Job) -> bool:
        sets = [(n, v) for n, v in self.kernel_params(j)
                if not (self.table.lookup(n) or _RW).createonly]
        if not sets:
            return True
        ok, jid, errname, msg = self.set_note(
            j, [("jid", str(j.jid))] + sets, "update", "JAIL_UPDATE")
        if not ok:
            self.jail_warnx(j, msg)
            j.failed = True
            return False
        return True

    # ------------------------------------------------------------ sequences
    def start_sequence(self, j: Job) -> bool:
        # exec.prepare, (addresses, mounts: not on Linux), exec.prestart
        for param in ("exec.prepare", "exec.prestart"):
            if not self.run_param(j, param, False):
                j.failed = True
                return False
        if not self.create_jail(j):
            j.failed = True
            return False
        if self.iflag:
            out(f"{j.jid}\n")
        if self.verbose >= 0 and (j.name is not None or self.verbose > 0):
            self.jail_note(j, "created\n")
        moved: list[str] = []
        for param, injail in (("exec.created", False), ("vnet.interface", False),
                              ("exec.start", True), ("command", True),
                              ("exec.poststart", False)):
            if param == "vnet.interface":
                ok = self.give_interfaces(j, moved)
            else:
                ok = self.run_param(j, param, injail)
            if not ok:
                j.failed = True
                # undo: the interfaces back, then remove the jail again
                self.take_interfaces(j, moved)
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
            j.failed = True
            return False
        if not self.run_param(j, "exec.stop", True):
            j.failed = True
            return False
        self.term_procs(j)
        if not self.remove(j):
            j.failed = True
            return False
        if self.verbose > 0 or (self.verbose == 0 and self.note_remove):
            self.jail_note(j, "removed\n")
        j.jid = -1
        for param in ("exec.poststop", "exec.release"):
            if not self.run_param(j, param, False):
                j.failed = True
                return False
        return True

    def print_jail(self, fp, j: Job) -> None:
        cj = j.cj
        sep = self.separator
        if self.oldcl:
            ips = [s for s in (print_param(cj.param("ip4.addr"), ",", False)
                               if cj.param("ip4.addr") else "",
                               print_param(cj.param("ip6.addr"), ",", False)
                               if cj.param("ip6.addr") else "") if s]
            fields = [str(j.jid),
                      print_param(cj.param("path"), ",", False)
                      if cj.param("path") else "",
                      print_param(cj.param("host.hostname"), ",", False)
                      if cj.param("host.hostname") else "",
                      ",".join(ips),
                      print_param(cj.param("command"), " ", False)
                      if cj.param("command") else ""]
            fp.write(sep.join(fields) + "\n")
        else:
            parts = [f"jid={j.jid}"]
            parts += [print_param(p, ",", True) for p in cj.params
                      if p.name != "jid"]
            fp.write(sep.join(parts) + "\n")
        fp.flush()

    def ip_hostname(self, j: Job) -> bool:
        host = j.cj.string("host.hostname")
        if host is None:
            return True
        import socket
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            self.jail_warnx(j, f"host.hostname {host}: {e.strerror}")
            j.failed = True
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
            self.drop_session()

    def _load(self, cfname: str):
        from jailfs.conf.load import load_config    # its lexer and parser: only with a file
        self.progress = Progress(sys.stderr, "STDIN" if cfname == "-" else cfname)
        conf = load_config(cfname, self.progress)
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
            elif o in COMMAND_LINE_PARAMS:
                # these describe a command-line jail: no jail.conf
                for pname, value in COMMAND_LINE_PARAMS[o]:
                    cl.add_param(ipname=pname, value=a if value is ARG else value)
                self.docf = False
            elif o == "-i":
                self.iflag = True
                self.verbose = -1
            elif o == "-J":
                jidfile = a
            elif o == "-m":
                op |= JF_SET
            elif o == "-p":
                pass            # commands run one at a time anyway
            elif o == "-q":
                self.verbose = -1
            elif o == "-r":
                op |= JF_STOP
            elif o == "-R":
                op |= JF_STOP
                rflag = True
            elif o == "-v":
                self.verbose = 1

        if eflag:
            if op or args:
                raise Usage()
            conf = self._load(cfname)
            for cj in conf.jails:
                parts = [print_param(p, ",", True) for p in cj.params
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
                import ipaddress
                for ip in args[2].split(","):
                    try:
                        ipaddress.IPv6Address(ip)
                        cl.add_param(ipname="ip6.addr", value=ip)
                    except ValueError:
                        cl.add_param(ipname="ip4.addr", value=ip)
            for c in args[3:]:
                cl.add_param(ipname="command", value=c)
            if not self.is_jailed():
                for pname, val in (("allow.set_hostname", None),
                                   ("allow.sysvipc", "false"),
                                   ("allow.raw_sockets", "false"),
                                   ("allow.chflags", "false"),
                                   ("allow.mount", "false"),
                                   ("allow.socket_af", "false")):
                    if self.table.lookup(pname) is not None:
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
                pname, eq, value = a.partition("=")
                if eq and pname in LIST_PARAMS:
                    for v in value.split(","):
                        cl.add_param(ipname=pname, value=v)
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
            # state.c dep_setup: undefined dependencies and loops fail their jails
            warnings: list[str] = []
            self.deps = Dependencies(conf.jails, warnings)
            for w in warnings:
                warnx(w)
            self.jobs = [Job(cj) for cj in conf.jails]
            self.by_name = {jb.name: jb for jb in self.jobs}
            self.job_of = {jb.cj: jb for jb in self.jobs}
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

        stage = ("removing" if op == JF_STOP else "restarting" if op & JF_STOP
                 else "creating" if op & JF_START else "updating")
        for done, j in enumerate(selected):
            if self.progress is not None and done % PROGRESS_EVERY == 0:
                self.progress(stage, done, len(selected))
            self.process(j)
        if self.progress is not None:
            self.progress(stage, len(selected), len(selected))
        return self.error

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


_RW = ParamInfo("", "string", "rw", 0)


def _same_value(info: ParamInfo, given: str | None, current: str) -> bool:
    """Whether a create-only parameter as given equals its current value."""
    if info.kind == "bool":
        return (bool_value(given) ^ info.negated) == (current in ("true", "1"))
    return given is None or given == current


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    exit_if_version("jail", argv)
    rc = Jail8().main(argv)
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
