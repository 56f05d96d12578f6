"""The other jail system calls: jail_get, jail_remove, jail_attach, and the
kern.hostname sysctls a jailed process may write."""

from __future__ import annotations

from errno import EINVAL, ENOENT, EPERM, ESRCH
from typing import Iterable

from .errors import JailError
from .jail_set import JAIL_DYING
from .meta import KV_PARAMS, kv_get
from . import params as _params
from .params import ALLOW_BITS, HOSTUUIDLEN, MAXHOSTNAMELEN, PARAMS, PR_HOST, PR_PERSIST, c_size
from .prison import ALIVE, Caller, Prison, Proc, by_pid

_SUSER = ALLOW_BITS["suser"]


class Syscalls:
    """jail_get, jail_remove, jail_attach and sethostname for the Kernel (a mixin)."""

    def param_names(self) -> tuple[str, ...]:
        return _params.PARAM_NAMES

    def _check_priv(self, caller: Caller) -> None:
        """priv_check(PRIV_JAIL_*): root, and allow.suser inside a jail."""
        if caller.uid != 0 or (caller.prison is not self.prison0 and not caller.prison.allow & _SUSER):
            raise JailError(EPERM)

    def get_values(self, viewer: Prison, pr: Prison, names: Iterable[str] | None = None) -> dict[str, str]:
        """Canonical text of each parameter as `viewer` sees it (no lookup rules)."""
        out = {}
        for name in _params.PARAM_NAMES if names is None else names:
            row = PARAMS.get(name)
            if row is not None:
                out[name] = row.render(row.read(pr, viewer))
            elif name.partition(".")[0] in KV_PARAMS and "." in name:
                which, _, key = name.partition(".")
                out[name] = kv_get(PARAMS[which].read(pr, viewer), key)
            else:
                raise JailError(EINVAL, f"unknown parameter: {name}", "jail_get")
        return out

    # ============================================================== jail_get
    def jail_get(self, caller: Caller, key: tuple[str, object], names: Iterable[str] | None = None,
                 flags: int = 0) -> dict[str, str]:
        try:
            return self._jail_get(caller, key, names, flags)
        except JailError as err:
            err.op = "jail_get"
            raise self._refuse(err)

    def _jail_get(self, caller, key, names, flags):
        if flags & ~JAIL_DYING:
            raise JailError(EINVAL)
        mypr = caller.prison
        dying_ok = bool(flags & JAIL_DYING)
        kind, value = key
        pr = None
        if kind == "lastjid":
            for jid in self._sorted_jids.after(int(value)):
                cand = self.jids[jid]
                if (dying_ok or cand.state == ALIVE) and cand.is_descendant_of(mypr):
                    pr = cand
                    break
            if pr is None:
                raise JailError(ENOENT, f"no jail after {int(value)}")
        elif kind == "jid" and int(value) != 0:
            jid = int(value)
            pr = self.jids.get(jid)
            if pr is None or not pr.is_descendant_of(mypr):
                raise JailError(ENOENT, f"jail {jid} not found")
            if pr.state != ALIVE and not dying_ok:
                raise JailError(ENOENT, f"jail {jid} is dying")
        elif kind == "name":
            if not value:
                raise JailError(EINVAL)
            pr = self.lookup(caller, str(value), dying_ok)
        else:
            raise JailError(ENOENT, "no jail specified")
        values = self.get_values(mypr, pr, names)
        values.setdefault("jid", str(pr.jid))
        return values

    # ============================================================ kern.hostname
    def sethostname(self, who: Caller | Proc, field: str, value: str) -> Prison:
        """sysctl kern.hostname / kern.domainname / kern.hostuuid written by who
        (a Caller or a Proc): root and allow.set_hostname in its prison, else
        EPERM; the value lands in the nearest ancestor-or-self with host=new
        (possibly prison0) and its host=inherit descendants. Returns that prison."""
        op = "sysctl"
        if isinstance(who, Proc):
            self._running(who, op)
            who = Caller(who.prison, who.cred.uid)
        limit = {"hostname": MAXHOSTNAMELEN, "domainname": MAXHOSTNAMELEN,
                 "hostuuid": HOSTUUIDLEN}.get(field.removeprefix("kern."))
        try:
            if limit is None:
                raise JailError(ENOENT, f"unknown oid: {field}")
            pr = who.prison
            if who.uid != 0 or (pr is not self.prison0 and not pr.allow & _SUSER) \
                    or not pr.allow & ALLOW_BITS["set_hostname"]:
                raise JailError(EPERM)
            if c_size(value) >= limit:
                raise JailError(EINVAL)          # sysctl_handle_string: no room for the NUL
        except JailError as err:
            err.op = op
            raise self._refuse(err)
        field = field.removeprefix("kern.")
        while not pr.flags & PR_HOST:
            pr = pr.parent
        setattr(pr, field, value)
        self._propagate_host(pr, [field])
        self.emit("updated", pr, params=["host." + field])
        return pr

    # ============================================================ jail_remove
    def jail_remove(self, caller: Caller, jid: int) -> None:
        try:
            self._check_priv(caller)
            pr = self.jids.get(jid)
            if pr is None or not pr.is_descendant_of(caller.prison):
                raise JailError(EINVAL)
        except JailError as err:
            err.op = "jail_remove"
            raise self._refuse(err)
        if pr.state != ALIVE:
            return                                   # already dying: nothing to do
        self.emit("removed", pr)
        self._kill(pr)

    def _kill(self, pr: Prison) -> None:
        doomed = [pr] + [d for d in pr.descendants() if d.state == ALIVE]
        for d in doomed:
            self._mark_dying(d)
        # the running processes of the subtree (dying jails' too), in pid order
        running = self.running
        victims = sorted((p for d in (pr, *pr.descendants()) for p in running.get(d.serial, ())),
                         key=by_pid)
        for d in reversed(doomed):                   # bottom-up: drop each persist
            if d.flags & PR_PERSIST:
                d.flags &= ~PR_PERSIST
                self._deref(d, 1, 1)
        for p in victims:                            # SIGKILL
            if p.real_pid is not None:
                self.signal_real(p.real_pid)
            else:
                self.kill(p)

    # ============================================================ jail_attach
    def jail_attach(self, proc: Proc, jid: int) -> None:
        try:
            caller = Caller(proc.prison, proc.cred.uid)
            self._check_priv(caller)
            pr = self.jids.get(jid)
            if pr is None or not pr.is_descendant_of(caller.prison) or pr.state != ALIVE:
                raise JailError(EINVAL)
            if proc.state != "running":
                raise JailError(ESRCH)
        except JailError as err:
            err.op = "jail_attach"
            raise self._refuse(err)
        self._attach(proc, pr)

    def _attach(self, proc: Proc, pr: Prison) -> None:
        old = proc.cred
        self._recredit(proc, self.crget(pr, old.uid))
        pr.uref += 1
        for attach in self._attach_hooks:
            attach(proc, pr)
        self.emit("attached", pr, pid=proc.pid, real_pid=proc.real_pid)
        self.crfree(old, uref_too=True)
