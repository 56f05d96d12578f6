"""jail(8)'s ordering of work (FreeBSD's usr.sbin/jail/state.c): which jails
an invocation acts on (start_state, running_jail), and doing each one after
the jails it depends on -- or, when stopping, after those depending on it.

The dependency graph itself (``depend``, a hierarchical name's parent,
undefined names and loops) is jailfs.conf's ``Dependencies`` (``self.deps``).
"""

from __future__ import annotations

from jailfs.bsdparse import strtol
from jailfs.cli.jailp import (JF_DEPEND, JF_RESTART, JF_SET, JF_START, JF_STOP, JF_WILD, Job,
                              warnx)
from jailfs.conf.config import CfJail, check_bool_int, wild_jail_match, wild_jail_name
from jailfs.ctlproto import quote


class State:
    """The state.c half of jail(8); mixed into :class:`jailfs.cli.jail.Jail8`."""

    # ------------------------------------------------------------ running jails
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
            num, rest = strtol(jidp)
            j.jid = -1 if num == 0 or rest else self.lookup(str(num))
            return
        name = cj.string("name")
        j.jid = self.lookup(name) if name is not None else -1

    def running_jail(self, target: str) -> Job | None:
        """state.c running_jail(): the running (or dying) jail ``target`` names
        -- a jid or a name -- as the file's entry for its name when there is one."""
        num, rest = strtol(target)
        a = self.ctl(f"get -d {quote(str(num) if num and not rest else target)} jid name")
        if not a.ok:
            return None
        got = a.kv()
        jid, name = int(got["jid"]), got.get("name", target)
        j = self.by_name.get(name)
        if j is None:
            cj = CfJail(name)
            cj.add_param(ipname="name", value=name)
            j = Job(cj)
            self.jobs.append(j)
        j.jid = jid
        return j

    def start_state(self, target: str | None, op: int, running: bool) -> list[Job] | None:
        if target is None or (not self.docf and op != JF_STOP) or \
                (not running and target == "*"):
            for j in self.jobs:
                j.flags = op | (JF_WILD if self.docf else 0)
            return list(self.jobs)
        if wild_jail_name(target):
            sel = []
            if running:
                a = self.ctl("list")
                for line in a.extra if a.ok else ():
                    jid, _, name = line.partition(" ")
                    if name and wild_jail_match(name, target):
                        cj = CfJail(name)
                        cj.add_param(ipname="name", value=name)
                        j = Job(cj, op | JF_WILD)
                        j.jid = int(jid)
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
            j = self.running_jail(target)       # -r/-R may name a running jail
        if j is None:
            warnx(f'"{target}" not found')
            return None
        j.flags = op
        return [j]

    # ------------------------------------------------------------ dependencies
    def deps_of(self, j: Job) -> list[tuple[Job, bool]]:
        """(job, light) pairs j depends on (config jails only); light: the
        implied dependency on a hierarchical name's parent."""
        if not self.docf or j.name is None:
            return []
        return [(self.job_of[d], light) for d, light in self.deps.deps_of(j.cj)]

    def dependents_of(self, j: Job) -> list[tuple[Job, bool]]:
        return [(self.job_of[d], light) for d, light in self.deps.dependents_of(j.cj)]

    def check_once(self, j: Job) -> bool:
        """The per-jail checks done before its first operation."""
        j.checked = True
        if j.cj.param("allow.dying") is not None:
            self.warn_dying()
        sink: list[str] = []
        if not check_bool_int(j.cj, sink):
            for w in sink:
                warnx(w)
            j.failed = True
            return False
        if j.cj.bool("ip_hostname") and j.flags & (JF_START | JF_SET):
            return self.ip_hostname(j)
        return True

    def process(self, j: Job, stack: tuple = ()) -> bool:
        """Do j's operation after the jails it depends on (or, for removal,
        after the jails that depend on it).  Returns success."""
        if j.done or j in stack:
            return not j.failed
        stack = stack + (j,)
        if j.failed or (not j.checked and not self.check_once(j)):
            j.done = True
            self.error = 1
            return False
        if j.jid == 0:
            self.running_jid(j)
        stopping = bool(j.flags & JF_STOP)
        for dj, light in (self.dependents_of(j) if stopping else self.deps_of(j)):
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
                if not (j.flags & JF_DEPEND) and not j.failed and self.verbose >= 0:
                    self.jail_warnx(j, "skipped")
                j.failed = True
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
                j.failed = True
                return False
            op = JF_RESTART if self.rdtun_params(j, False) else JF_SET
        elif op == JF_START | JF_SET | JF_STOP:
            op = JF_START if j.jid < 0 else (
                JF_RESTART if self.rdtun_params(j, False) else JF_SET)
        if op == JF_START:
            if j.jid > 0:
                if not (j.flags & (JF_DEPEND | JF_WILD)):
                    self.quoted_warnx(j, "already exists", None)
                    j.failed = True
                    return False
                return True
            return self.start_sequence(j)
        if op == JF_SET:
            if j.jid < 0:
                if j.flags & JF_DEPEND:
                    return True
                self.quoted_warnx(j, "not found", "no jail specified")
                j.failed = True
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
                j.failed = True
                return False
        elif not self.stop_sequence(j):
            return False
        if op == JF_RESTART:
            return self.start_sequence(j)
        return True
