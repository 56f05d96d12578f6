"""rctl/racct (spec section 8.1-8.3): resource limits and accounting, with jails as subjects.

Rules are `subject:subject-id:resource:action=amount[/per]`. Accounting of a jail is
keyed by its full NAME (as the host sees it; an unnamed jail's name is its jid, prison0's
is "0"), so same-named jails share it and a restarted jail finds it again; a rename
moves usage with the jail. It is hierarchical: a process counts in its jail and every
ancestor. Modelled resources: `maxproc` (running processes) and `openfiles` (descriptors
of running processes); the other resources parse and report 0.

Usage of the gauge resources is read from the simulated world when a rule is evaluated,
so nothing is ever charged twice or forgotten: a process that exits stops counting at
once (FreeBSD's racct_proc_exit reclaims its maxproc and openfiles before the zombie
stage), and jail_attach moves its usage to the new jail (racct_proc_ucred_changed).
"""

from __future__ import annotations

from errno import (EAGAIN, EINVAL, EMFILE, ENAMETOOLONG, ENOMEM, EOPNOTSUPP, EPERM, ERANGE,
                   ESRCH)
from typing import Callable, NamedTuple

from .errors import JailError
from .modules import KernelModule
from .prison import Caller, Prison, Proc

SUBJECTS = ("process", "user", "loginclass", "jail")

# FreeBSD's racct_types order (kern_racct.c), with the flags the rules need.
RESOURCES = ("cputime", "datasize", "stacksize", "coredumpsize", "memoryuse", "memorylocked",
             "maxproc", "openfiles", "vmemoryuse", "pseudoterminals", "swapuse", "nthr",
             "msgqqueued", "msgqsize", "nmsgq", "nsem", "nsemop", "nshm", "shmsize",
             "wallclock", "pcpu", "readbps", "writebps", "readiops", "writeiops")
IN_MILLIONS = frozenset({"cputime", "wallclock", "pcpu"})     # kern_racct.c racct_types
NOT_DENIABLE = frozenset({"cputime", "wallclock", "readbps", "writebps", "readiops", "writeiops"})
# memoryuse and pcpu are not racct-deniable but rctl enforces them another way: deny accepted.
DECAYING = frozenset({"pcpu", "readbps", "writebps", "readiops", "writeiops"})
SLOPPY = frozenset({"pseudoterminals", "swapuse", "msgqqueued", "msgqsize", "nmsgq", "nsem",
                    "nshm", "shmsize"})
SIGNALS = ("sighup", "sigint", "sigquit", "sigill", "sigtrap", "sigabrt", "sigemt", "sigfpe",
           "sigkill", "sigbus", "sigsegv", "sigsys", "sigpipe", "sigalrm", "sigterm", "sigurg",
           "sigstop", "sigtstp", "sigcont", "sigchld", "sigttin", "sigttou", "sigio", "sigxcpu",
           "sigxfsz", "sigvtalrm", "sigprof", "sigwinch", "siginfo", "sigusr1", "sigusr2",
           "sigthr")
ACTIONS = SIGNALS + ("deny", "log", "devctl", "throttle")
MAXHOSTNAMELEN = 256          # prison_racct_find refuses names this long (ENAMETOOLONG)
LOGINCLASS = "default"        # every simulated process is in the default login class


class Rule(NamedTuple):
    """A rule or a filter: None marks a field left empty."""
    subject: str | None
    sid: str | None           # jail name / uid / pid / class, as text
    resource: str | None
    action: str | None
    amount: int | None
    per: str | None

    def text(self) -> str:
        out = f"{self.subject or ''}:{self.sid or ''}:{self.resource or ''}:{self.action or ''}"
        out += f"={'' if self.amount is None else self.amount}"
        if self.per != self.subject:
            out += f"/{self.per or ''}"
        return out

    def matches(self, f: Rule) -> bool:
        """rctl_rule_matches: every field the filter sets must be equal."""
        return all(fv is None or fv == rv for rv, fv in zip(self, f))


def _word(text: str, table: tuple[str, ...]) -> str:
    low = text.lower()
    if low not in table:
        raise JailError(EINVAL, "", "rctl")
    return low


def parse(text: str, k=None) -> Rule:
    """rctl_string_to_rule: split on ':' ':' ':' '=/' '/'; empty fields stay undefined."""
    rest = text
    parts = []
    for sep in (":", ":", ":"):
        head, found, rest = rest.partition(sep)
        parts.append(head)
        if not found:
            rest = None
            break
    while len(parts) < 3:
        parts.append("")
    subject_s, sid, resource_s = parts
    action_s = amount_s = per_s = ""
    if rest is not None:
        i = min((rest.find(c) for c in "=/" if c in rest), default=-1)
        if i < 0:
            action_s = rest
        else:
            action_s, rest = rest[:i], rest[i + 1:]
            amount_s, _, per_s = rest.partition("/")
    subject = _word(subject_s, SUBJECTS) if subject_s else None
    if sid:
        if subject is None:
            raise JailError(EINVAL, "", "rctl")
        if subject in ("process", "user"):
            if not sid.isdigit():
                raise JailError(EINVAL, "", "rctl")
            sid = str(int(sid))
            if subject == "process" and (k is None or int(sid) not in k.procs):
                raise JailError(ESRCH, "", "rctl")
        elif len(sid) >= MAXHOSTNAMELEN:
            raise JailError(ENAMETOOLONG, "", "rctl")
    else:
        sid = None
    resource = _word(resource_s, RESOURCES) if resource_s else None
    action = _word(action_s, ACTIONS) if action_s else None
    amount = None
    if amount_s:
        s = amount_s[1:] if amount_s[:1] in "+-" else amount_s
        if not s.isdigit():
            raise JailError(EINVAL, "", "rctl")
        amount = int(amount_s)
        if amount < 0 or amount >= 1 << 63:
            raise JailError(ERANGE, "", "rctl")
        # kern_rctl.c rctl_string_to_rule: RACCT_IS_IN_MILLIONS amounts are kept x 1000000.
        if resource in IN_MILLIONS and amount > ((1 << 63) - 1) // 1000000:
            raise JailError(ERANGE, "", "rctl")
    per = _word(per_s, SUBJECTS) if per_s else None
    return Rule(subject, sid, resource, action, amount, per)


class Rctl(KernelModule):
    """k.rctl: the rule set, the evaluation hooks and the in-memory log.

    Two hooks for whoever runs real processes (the daemon):
    - events `rctl` (detail `added=[rule]` or `removed=[rules]`) when the rule set
      changes, through k.subscribe, so that it can apply the rules as cgroup limits;
    - `usage_provider(prison, resource) -> int | None`: the real usage of a jail
      (its cgroup, descendants included) for resources the model does not measure
      (memoryuse, vmemoryuse, pcpu, ...); None or no provider reads 0. Used by
      `usage` and by rule evaluation (`enforce`).

    What rules do is told as events: a deny rule's refusal is a `refused` event
    (op, errno, a message naming the rule, the jail and its usage), the same
    whether the model refused (a simulated fork, open) or the daemon reports a
    real process's Linux limit (`limit_hit`); a log or devctl rule's line is an
    `rctl` event (`log=` / `devctl=`), also for real usage (`check_real_usage`);
    a throttled CPU quota is an `rctl` event `throttled=`."""

    name = "rctl"
    MEASURED = frozenset({"maxproc", "openfiles"})

    def __init__(self, kernel) -> None:
        super().__init__(kernel)
        self.usage_provider: Callable[[Prison, str], int | None] | None = None
        # rule -> when it was added; newest last (rctl lists newest first:
        # LIST_INSERT_HEAD), and each rule by its subject, so that a check
        # looks at the rules of its jail, user, process and class only
        self._rules: dict[Rule, int] = {}
        self._by_subject: dict[str, dict[str, set[Rule]]] = {}   # subject -> id -> rules
        self._added = 0
        self._exceeded: set[tuple[Rule, int]] = set()   # (rule, pid): already logged/signalled
        self.log: list[str] = []                        # console lines and devctl notifications
        self.signals: list[tuple[int, str]] = []        # (pid, signal) sent by a rule

    @property
    def racct_names(self) -> dict[str, int]:
        """name -> the rules naming that jail (prison_racct's users)."""
        return {sid: len(rules) for sid, rules in self.jails_named().items()}

    def jails_named(self) -> dict[str, set[Rule]]:
        """Jail name -> the rules naming it (read only)."""
        return self._by_subject.get("jail", {})

    def process_rules(self) -> list[Rule]:
        return [r for rules in self._by_subject.get("process", {}).values() for r in rules]

    def _newest_first(self, rules) -> list[Rule]:
        return sorted(rules, key=self._rules.__getitem__, reverse=True)

    def rules_of_jail(self, pr: Prison) -> list[Rule]:
        """The rules naming jail ``pr`` (its full name), newest first."""
        return self._newest_first(self.jails_named().get(pr.name, ()))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["usage_provider"] = None        # the daemon's, not part of the kernel state
        return state

    # ------------------------------------------------------------ system calls
    def _priv(self, caller: Caller) -> None:
        if caller.uid != 0 or caller.prison is not self.k.prison0:
            raise JailError(EPERM, "", "rctl")         # PRIV_RCTL_*: not granted in jails

    def add_rule(self, caller: Caller, text: str) -> str:
        self._priv(caller)
        rule = parse(text, self.k)
        if rule.per is None and rule.subject is not None:
            rule = rule._replace(per=rule.subject)
        if None in rule:
            raise JailError(EINVAL, "", "rctl")
        r = rule.resource
        if rule.action == "deny" and r in NOT_DENIABLE:
            raise JailError(EOPNOTSUPP, "", "rctl")
        if rule.action == "throttle" and (r not in DECAYING or r == "pcpu"):
            raise JailError(EOPNOTSUPP, "", "rctl")
        if rule.per == "process" and r in SLOPPY:
            raise JailError(EOPNOTSUPP, "", "rctl")
        # No duplicates; a deny rule also replaces one differing only in amount.
        same = rule._replace(amount=None) if rule.action == "deny" else rule
        self._remove(same)
        self._added += 1
        self._rules[rule] = self._added
        self._by_subject.setdefault(rule.subject, {}).setdefault(rule.sid, set()).add(rule)
        self.k.emit("rctl", None, added=[rule.text()])
        return rule.text()

    def remove_rules(self, caller: Caller, filter_text: str) -> int:
        self._priv(caller)
        n = self._remove(parse(filter_text, self.k))
        if not n:
            raise JailError(ESRCH, "", "rctl")
        return n

    def rules(self, caller: Caller, filter_text: str = ":") -> list[str]:
        self._priv(caller)
        f = parse(filter_text, self.k)
        return [r.text() for r in reversed(self._rules) if r.matches(f)]

    def usage(self, caller: Caller, filter_text: str) -> list[str]:
        """rctl -u: resource=value for one subject (every resource, in racct order)."""
        self._priv(caller)
        f = parse(filter_text, self.k)
        if f.subject is None or f.sid is None:
            raise JailError(EINVAL, "", "rctl")
        return [f"{res}={self.racct(f.subject, f.sid, res)}" for res in RESOURCES]

    def _remove(self, f: Rule) -> int:
        # a filter naming its subject looks at that subject's rules only
        # (every add removes the rule it replaces: no walk over every rule)
        of_subject = self._by_subject.get(f.subject, {}) if f.subject else None
        if of_subject is None:
            pool = self._rules
        elif f.sid:
            pool = of_subject.get(f.sid, ())
        else:
            pool = [r for rules in of_subject.values() for r in rules]
        gone = self._newest_first(r for r in pool if r.matches(f))
        for r in gone:
            del self._rules[r]
            by_id = self._by_subject[r.subject]
            by_id[r.sid].discard(r)
            if not by_id[r.sid]:
                del by_id[r.sid]
                if not by_id:
                    del self._by_subject[r.subject]
            if self._exceeded:
                self._exceeded = {e for e in self._exceeded if e[0] != r}
        if gone:                        # told once the rule set is what it will be
            self.k.emit("rctl", None, removed=[r.text() for r in gone])
        return len(gone)

    # ------------------------------------------------------------ accounting
    def prisons_named(self, name: str) -> list[Prison]:
        """The jails sharing the accounting of ``name``: the live one and any
        dying ones (from the kernel's dying index: no walk over every jail)."""
        if name == "0":
            return [self.k.prison0]
        alive = self.k.alive_named(self.k.prison0, name)
        dying = [pr for pr in self.k.dying.values() if pr.name == name]
        return ([alive] if alive is not None else []) + dying

    def jails_changed(self, detail: dict) -> list[Prison] | None:
        """The jails the rules an ``rctl`` event added or removed name; None
        when it changed no rule (a log line, a throttle)."""
        texts = [*detail.get("added", ()), *detail.get("removed", ())]
        if not texts:
            return None
        names = {text.split(":")[1] for text in texts if text.startswith("jail:")}
        return [pr for name in names for pr in self.prisons_named(name)]

    def _real_usage(self, prisons, resource: str) -> int:
        if self.usage_provider is None:
            return 0
        return sum(self.usage_provider(pr, resource) or 0 for pr in prisons)

    def _procs(self):
        return (p for p in self.k.procs.values() if p.state == "running")

    @staticmethod
    def _proc_usage(p: Proc, resource: str) -> int:
        if resource == "maxproc":
            return 1
        if resource == "openfiles":
            return len(p.fds)
        return 0

    def racct(self, subject: str, sid: str, resource: str) -> int:
        """Current usage of one container: a jail name (hierarchical), a uid, a pid, a class."""
        if subject == "jail":
            tops = self.prisons_named(sid)
            if not tops:
                return 0
            if resource not in self.MEASURED:
                return self._real_usage(tops, resource)
            running = self.k.running
            return sum(self._proc_usage(p, resource)
                       for t in tops for d in (t, *t.descendants())
                       for p in running.get(d.serial, ()))
        if subject == "user":
            return sum(self._proc_usage(p, resource) for p in self._procs()
                       if p.cred.uid == int(sid))
        if subject == "process":
            p = self.k.procs.get(int(sid))
            return self._proc_usage(p, resource) if p is not None and p.state == "running" else 0
        return sum(self._proc_usage(p, resource) for p in self._procs())

    def _applying(self, pr: Prison, uid: int | None, pid: int | None) -> list[Rule]:
        """The rules that apply to a process in ``pr`` (a jail rule names pr
        or one of its ancestors), newest first."""
        keys = []
        t = pr
        while t is not None:
            keys.append(("jail", t.name))
            t = t.parent
        if uid is not None:
            keys.append(("user", str(uid)))
        if pid is not None:
            keys.append(("process", str(pid)))
        keys.append(("loginclass", LOGINCLASS))
        by_subject = self._by_subject
        return self._newest_first(r for subject, sid in keys
                                  for r in by_subject.get(subject, {}).get(sid, ()))

    def _available(self, rule: Rule, pr: Prison, uid: int | None, proc: Proc | None) -> int:
        per = rule.per
        if per == "jail":
            used = self.racct("jail", pr.name, rule.resource)
        elif per == "user":
            used = self.racct("user", str(uid), rule.resource) if uid is not None else 0
        elif per == "process":
            used = self._proc_usage(proc, rule.resource) if proc is not None else 0
        else:
            used = self.racct("loginclass", LOGINCLASS, rule.resource)
        return rule.amount - used

    def enforce(self, pr: Prison, resource: str, amount: int, proc: Proc | None = None,
                uid: int | None = None) -> bool:
        """rctl_enforce: may `amount` more of `resource` be allocated? log/devctl/signal
        fire once per exceedance (not for a process still being created: proc None);
        deny is decided last. Returns True when the allocation must fail."""
        return self._denying(pr, resource, amount, proc, uid) is not None

    def _denying(self, pr: Prison, resource: str, amount: int, proc: Proc | None = None,
                 uid: int | None = None) -> Rule | None:
        """enforce(), naming the deny rule that refuses (the newest), or None."""
        if not self._rules:
            return None
        if proc is not None:
            uid = proc.cred.uid
        pid = proc.pid if proc is not None else None
        deny = None
        for rule in self._applying(pr, uid, pid):
            if rule.resource != resource:
                continue
            key = (rule, pid)
            if self._available(rule, pr, uid, proc) >= amount:
                self._exceeded.discard(key)
                continue
            if rule.action == "deny":
                deny = deny or rule
                continue
            if proc is None or key in self._exceeded or rule.action == "throttle":
                continue
            if rule.action in ("log", "devctl"):
                self._matched(rule, pr, proc.pid, self.comm(proc), proc.cred.uid)
            else:
                self.signals.append((proc.pid, rule.action[3:].upper()))
            self._exceeded.add(key)
        return deny

    # ------------------------------------------------------------ what rules report
    def _matched(self, rule: Rule, pr: Prison, pid: int | None, comm: str,
                 uid: int | None, usage: int = 0) -> None:
        """A log or devctl rule exceeded: its console line or devctl notification
        (kern_rctl.c's texts), kept in `log` and told as an `rctl` event; a
        jail's real usage over the amount (pid None) names the jail and `usage`."""
        if rule.action == "log" and pid is None:
            line = f'rctl: rule "{rule.text()}" matched by jail {pr.name}, usage {usage}'
        elif rule.action == "log":
            line = (f'rctl: rule "{rule.text()}" matched by pid {pid} ({comm}), '
                    f"uid {uid}, jail {pr.name}")
        elif pid is None:
            line = (f"!system=RCTL subsystem=rule type=matched rule={rule.text()} "
                    f"jail={pr.name} usage={usage}")
        else:
            line = (f"!system=RCTL subsystem=rule type=matched rule={rule.text()} "
                    f"pid={pid} ruid={uid} jail={pr.name}")
        self.log.append(line)
        self.k.emit("rctl", None, **{rule.action: line})

    def _refused(self, rule: Rule, pr: Prison, op: str, code: int, how: str = "") -> None:
        """A deny rule refused an allocation in jail `pr`: one `refused` event
        naming the rule, the jail and its usage, whether the model refused
        (a simulated fork, open) or a real process's limit did (`how`)."""
        usage = self.racct("jail", rule.sid, rule.resource) if rule.subject == "jail" else None
        msg = f'rctl: rule "{rule.text()}" refused {rule.resource} in jail {pr.name}'
        if usage is not None:
            msg += f", usage {usage}"
        if how:
            msg += f": {how}"
        self.k.emit("refused", None, op=op, errno=code, msg=msg)

    @staticmethod
    def comm(proc: Proc) -> str:
        return "jailfs-sim" if proc.real_pid is None else f"pid{proc.real_pid}"

    # ------------------------------------------------------------ real processes
    # The daemon's word on what Linux did to a jail's real processes; reported
    # through _refused and _matched, as the model's own refusals and matches are.
    LIMIT_ERRNO = {"maxproc": ("fork", EAGAIN), "openfiles": ("open", EMFILE),
                   "memoryuse": ("memory", ENOMEM), "vmemoryuse": ("memory", ENOMEM)}

    def limit_rule(self, pr: Prison, resource: str) -> Rule | None:
        """The deny rule a jail's Linux limit for `resource` stands for: of the
        per-jail deny rules naming the jail, the smallest amount."""
        found = [r for r in self.rules_of_jail(pr)
                 if r.resource == resource and r.action == "deny" and r.per == "jail"]
        return min(found, key=lambda r: r.amount, default=None)

    def limit_hit(self, pr: Prison, resource: str, how: str) -> bool:
        """Jail `pr`'s Linux limit for `resource` refused or killed its real
        processes (`how`: what its counter says): a `refused` line naming the
        rule, or for pcpu (a quota throttles, it refuses nothing) an `rctl`
        event `throttled=`. False when no rule stands behind the limit now."""
        rule = self.limit_rule(pr, resource)
        if rule is None:
            return False
        if resource == "pcpu":
            self.k.emit("rctl", None, throttled=f'rctl: rule "{rule.text()}" throttled '
                                                f"jail {pr.name}: {how}")
            return True
        op, code = self.LIMIT_ERRNO.get(resource, (resource, EAGAIN))
        self._refused(rule, pr, op, code, how)
        return True

    def check_real_usage(self, pr: Prison,
                         peak: Callable[[str], int | None] | None = None) -> bool:
        """log and devctl rules naming jail `pr` (per jail) on a resource only
        its real processes measure (memoryuse, pcpu, ...): matched once when
        the usage went over the amount, again after it came back under.
        `peak(resource)`: the highest usage since the last check, where the
        daemon knows it (a spike between two checks counts). True when such a
        rule exists (the daemon then keeps checking)."""
        found = False
        peaks: dict[str, int | None] = {}      # asked once per resource: reading resets it
        for rule in self.rules_of_jail(pr):
            if (rule.per != "jail" or rule.action not in ("log", "devctl")
                    or rule.resource in self.MEASURED):
                continue
            found = True
            key = (rule, None)                  # the jail's container: its name
            used = self.racct("jail", rule.sid, rule.resource)
            if peak is not None and rule.resource not in peaks:
                peaks[rule.resource] = peak(rule.resource)
            top = max(used, peaks.get(rule.resource) or 0)
            if top > rule.amount and key not in self._exceeded:
                self._exceeded.add(key)
                self._matched(rule, pr, None, "", None, top)
            if used <= rule.amount:
                self._exceeded.discard(key)
        return found

    # ------------------------------------------------------------ kernel hooks
    def proc_check(self, pr: Prison, op: str) -> None:
        """fork1 -> racct_proc_fork: one more process, the child not yet running."""
        rule = self._denying(pr, "maxproc", 1)
        if rule is not None:
            self._refused(rule, pr, op, EAGAIN)
            raise JailError(EAGAIN, "", op)

    def proc_created(self, proc: Proc) -> None:
        """racct_proc_fork_done: rules re-evaluated for the running child (log fires here)."""
        self.enforce(proc.prison, "maxproc", 0, proc)

    def open_check(self, proc: Proc, op: str) -> None:
        """fdalloc: one more descriptor; a deny is EMFILE."""
        rule = self._denying(proc.prison, "openfiles", 1, proc)
        if rule is not None:
            self._refused(rule, proc.prison, op, EMFILE)
            raise JailError(EMFILE, "", op)

    def check_invariants(self) -> None:
        by_subject: dict[str, dict[str, set[Rule]]] = {}
        for r in self._rules:
            assert None not in r, r
            by_subject.setdefault(r.subject, {}).setdefault(r.sid, set()).add(r)
        assert by_subject == self._by_subject, "rules by subject"
        assert sorted(self._rules.values()) == list(self._rules.values()), "rule order"
