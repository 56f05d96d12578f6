"""The `.ctl` request language (docs/ctl.md): one request in, one answer out.

Pure translation from words to kernel calls, so it is tested without a mount.
``execute(kernel, caller, text)`` returns (errno or 0, answer text).  The
verbs live in this module (jails, the simulated world, SysV IPC, rctl, vnet)
and in ``ctl_real`` (real processes); each registers itself in
``ctl_common.VERBS``.  The wire format is ``jailfs.ctlproto``'s.
"""

from __future__ import annotations

import errno
import math

from jailfs import ctl_nested  # noqa: F401 - registers enterchild (nested jexec)
from jailfs import ctl_real  # noqa: F401 - registers the real-process verbs
from jailfs import ctl_toolbox  # noqa: F401 - registers the toolbox's verbs (sysctl, proclist...)
from jailfs.ctl_common import (NEEDS_REAL, USAGE, VERBS, RealProcs, jid_of, key, need_host_root,
                               need_root, no_args, ok, sim_proc, verb, visible)
from jailfs.ctlproto import error_answer, kv_line, record_line, split_request
from jailfs.kernel import JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, PARAMS, Caller, JailError, Kernel

# advance refuses a step longer than this (about 31 years): the clock stays a
# number every timer can be compared with.
MAX_ADVANCE = 1e9


def execute(k: Kernel, caller: Caller, text: str, *, prison_of=None,
            procs_in=None) -> tuple[int, str]:
    """Run one request.  ``prison_of(real_pid) -> Prison`` (and optionally
    ``procs_in(prison) -> [(pid, command)]``) are the daemon's knowledge of
    real Linux processes; without them the real-process verbs are refused."""
    try:
        words = split_request(text)
    except ValueError as e:
        return errno.EINVAL, error_answer("EINVAL", f"cannot split request: {e}")
    if not words:
        return errno.EINVAL, error_answer("EINVAL", "empty request")
    name, args = words[0], words[1:]
    handler = VERBS.get(name)
    if handler is None:
        return errno.EINVAL, error_answer("EINVAL", f"unknown request: {name}")
    try:
        if name in NEEDS_REAL:
            if prison_of is None:
                raise JailError(errno.EOPNOTSUPP, "real processes are not supervised here", name)
            answer = handler(k, caller, args, RealProcs(prison_of, procs_in))
        else:
            answer = handler(k, caller, args)
    except JailError as e:
        return e.errno, error_answer(e.name, str(e))
    except (ValueError, IndexError):
        return errno.EINVAL, error_answer("EINVAL", f"usage: {USAGE[name]}")
    return 0, answer


# ------------------------------------------------------------------- helpers

def _params(words: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for word in words:
        name, eq, value = word.partition("=")
        out.append((name, value if eq else None))
    return out


def _number(x: float) -> str:
    """A clock value: no exponent, at most microseconds."""
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _access(row) -> str:
    return "ro" if row.readonly else "createonly" if row.createonly else "rw"


# ------------------------------------------------------------------- jail requests

def _jail_set_verb(name: str, flags: int):
    @verb(name, f"{name} PARAM[=VALUE] ...")
    def run(k, caller, args):
        return ok(k.jail_set(caller, _params(args), flags))
    return run


for _name, _flags in (("create", JAIL_CREATE), ("update", JAIL_UPDATE),
                      ("createupdate", JAIL_CREATE | JAIL_UPDATE)):
    _jail_set_verb(_name, _flags)


@verb("set", "set JAIL PARAM[=VALUE] ...")
def _set(k, caller, args):
    return ok(k.jail_set(caller, [key(args[0])] + _params(args[1:]), JAIL_UPDATE))


@verb("remove", "remove JAIL")
def _remove(k, caller, args):
    (word,) = args
    k.jail_remove(caller, jid_of(k, caller, word, "jail_remove"))
    return ok()


def _order(k: Kernel, values: dict, names) -> list[str]:
    if names is not None:
        return [n for n in names if n in values]
    order = [n for n in k.param_names() if n in values]      # jls's order
    return order + [n for n in values if n not in order]


def _jail_get(k, caller, jkey, names, flags) -> dict[str, str]:
    """jail_get, less the ``meta.KEY``/``env.KEY`` sub-parameters whose key is
    not set: libjail reports those with a zero-length value, which an answer
    says by leaving the name out (a key set to "" stays, as ``KEY=''``)."""
    values = k.jail_get(caller, jkey, names, flags)
    keys: dict[str, set[str]] = {}      # each buffer read once, however many keys are asked
    for name in [n for n in names or () if "." in n]:
        prefix, _, subkey = name.partition(".")
        row = PARAMS.get(prefix)
        if row is None or row.kind != "keyvalue":
            continue
        if prefix not in keys:
            buf = k.jail_get(caller, ("jid", values["jid"]), [prefix], flags)[prefix]
            keys[prefix] = {line.partition("=")[0] for line in buf.split("\n") if "=" in line}
        if subkey not in keys[prefix]:
            del values[name]
    return values


def _names(words: list[str]) -> list[str] | None:
    """The parameter names a get or list asks for, each once: a client reads an
    answer into a mapping, and a repeated name must not multiply the answer."""
    return list(dict.fromkeys(words)) or None


@verb("get", "get [-d] JAIL [PARAM ...]")
def _get(k, caller, args):
    flags = 0
    if args and args[0] == "-d":
        flags, args = JAIL_DYING, args[1:]
    names = _names(args[1:])
    values = _jail_get(k, caller, key(args[0]), names, flags)
    return ok(values["jid"], [kv_line(n, values[n]) for n in _order(k, values, names)])


@verb("list", "list [-d] [-p] [PARAM ...]")
def _list(k, caller, args):
    """Every visible jail in jid order: ``JID NAME`` lines, or with ``-p``
    (bulk jail_get, one request for jls) ``JID NAME=VALUE ...`` lines."""
    dying = bool(args) and args[0] == "-d"
    args = args[1:] if dying else args
    bulk = bool(args) and args[0] == "-p"
    names = args[1:] if bulk else args
    if (names and not bulk) or any(n.startswith("-") for n in names):
        raise ValueError(args)
    prisons = k.jails_below(caller.prison, dying)
    if not bulk:
        return ok(None, [f"{pr.jid} {pr.relname(caller.prison)}" for pr in prisons])
    flags = JAIL_DYING if dying else 0
    want = _names(names)
    lines = []
    for pr in prisons:
        values = _jail_get(k, caller, ("jid", pr.jid), want, flags)
        lines.append(record_line(pr.jid, [(n, values[n]) for n in _order(k, values, want)]))
    return ok(len(lines), lines)


@verb("params", "params")
def _params_table(k, caller, args):
    """The parameter table as libjail discovers it (security.jail.param.*):
    ``NAME TYPE ACCESS MAXLEN`` lines in jls's order; ACCESS is rw, ro
    (CTLFLAG_RD) or createonly (CTLFLAG_RDTUN); MAXLEN counts the NUL (0: not
    a string)."""
    no_args(args)
    return ok(len(PARAMS), [f"{row.name} {row.kind} {_access(row)} {row.maxlen}"
                            for row in PARAMS.values()])


@verb("jailed", "jailed")
def _jailed(k, caller, args):
    """security.jail.jailed for the caller: 1 inside a jail, 0 on the host."""
    no_args(args)
    return ok(0 if caller.prison is k.prison0 else 1)


# ------------------------------------------------------------------- the simulated world

@verb("spawn", "spawn JAIL")
def _spawn(k, caller, args):
    need_root(caller, "spawn")
    (word,) = args
    jid = jid_of(k, caller, word, "spawn")
    pr = k.by_jid(jid)
    if pr is not None and not visible(caller, pr):     # a jid outside the caller's view
        raise JailError(errno.ENOENT, f"jail {jid} not found", "spawn")
    return ok(k.spawn(jid, caller.uid).pid)


def _stand_in_refused(proc, method: str) -> None:
    """A stand-in of a real process does only what the real one does: its
    exit and reaping follow the real process (the daemon reaps it when the
    real one ends), so a simulated exit would leave the real one running
    outside any jail."""
    if proc.real_pid is not None:
        raise JailError(errno.EPERM, f"process {proc.pid} is real process {proc.real_pid}: "
                        "it exits when that process does", method)


def _proc_verb(method: str):
    @verb(method, f"{method} PID")
    def run(k, caller, args):
        need_root(caller, method)
        (pid,) = args
        proc = sim_proc(k, caller, pid, method)
        if method in ("exit", "reap"):
            _stand_in_refused(proc, method)
        if method == "kill" and proc.real_pid is not None:
            # SIGKILL reaches the real process, as jail_remove's does; its
            # stand-in is reaped when the daemon sees the process end.
            k.signal_real(proc.real_pid)
            return ok()
        result = getattr(k, method)(proc)
        return ok(result.pid if result is not None else None)
    return run


for _method in ("fork", "exit", "reap", "kill"):
    _proc_verb(_method)


def _descriptor_verb(name: str, usage: str, method: str):
    """A verb that gives process PID a new descriptor: ``NAME PID [WHAT]``."""
    @verb(name, usage)
    def run(k, caller, args):
        need_root(caller, name)
        if len(args) > 2:
            raise ValueError(args)
        return ok(getattr(k, method)(sim_proc(k, caller, args[0], name), *args[1:2]))
    return run


_descriptor_verb("open", "open PID [PATH]", "open_file")
_descriptor_verb("socket", "socket PID [udp|tcp|unix]", "socket")


@verb("connect", "connect PID LADDR:PORT RADDR:PORT")
def _connect(k, caller, args):
    need_root(caller, "connect")
    pid, laddr, raddr = args
    return ok(k.tcp_connect(sim_proc(k, caller, pid, "connect"), laddr, raddr))


@verb("close", "close PID FD")
def _close(k, caller, args):
    need_root(caller, "close")
    pid, fd = args
    k.close(sim_proc(k, caller, pid, "close"), int(fd))
    return ok()


@verb("pass", "pass PID FD TOPID")
def _pass(k, caller, args):
    need_root(caller, "pass")
    pid, fd, to = args
    return ok(k.pass_fd(sim_proc(k, caller, pid, "pass"), int(fd), sim_proc(k, caller, to, "pass")))


def _hold_verb(kind: str, usage: str, arity: int):
    @verb(kind, usage)
    def run(k, caller, args):
        need_root(caller, kind)
        if len(args) != arity + 1:
            raise ValueError
        return ok(k.hold(sim_proc(k, caller, args[0], kind), kind, " on ".join(args[1:])))
    return run


_hold_verb("mount", "mount PID FSTYPE PATH", 2)
_hold_verb("sigio", "sigio PID FD", 1)
_hold_verb("acct", "acct PID PATH", 1)


def _unmount(k, caller, args):
    need_root(caller, "unmount")
    (ident,) = args
    holder = k.holders.get(int(ident))
    if holder is not None and not visible(caller, holder.cred.prison):
        raise JailError(errno.ENOENT, f"no holder {ident}", "release")
    k.release(int(ident))
    return ok()


verb("unmount", "unmount ID")(_unmount)
verb("release", "release ID")(_unmount)


@verb("advance", "advance SECONDS")
def _advance(k, caller, args):
    """Move the simulated clock: the host's root only (a jailed root cannot
    set the clock without allow.settime on FreeBSD either, and this clock is
    everybody's)."""
    need_host_root(k, caller, "advance", "the simulated clock belongs to the host")
    (seconds,) = args
    value = float(seconds)
    if not math.isfinite(value):
        raise ValueError(seconds)
    if value > MAX_ADVANCE:
        raise JailError(errno.EINVAL, f"cannot advance the clock by more than {MAX_ADVANCE:.0f} s",
                        "advance")
    return ok(_number(k.advance(value)))


@verb("clock", "clock")
def _clock(k, caller, args):
    no_args(args)
    return ok(_number(k.clock.now))


@verb("check", "check")
def _check(k, caller, args):
    """The invariant check walks the whole kernel: the host's root only
    (anyone else could keep the daemon's one thread busy with it)."""
    no_args(args)
    need_host_root(k, caller, "check")
    try:
        k.check_invariants()
    except AssertionError as e:
        raise JailError(errno.EIO, f"invariant broken: {e}", "check")
    return ok()


# ------------------------------------------------------------------- SysV IPC, kern.hostname

_FACILITY = {"msg": 0, "sem": 1, "shm": 2}


def _ipc_get_verb(which: str):
    op = f"{which}get"

    @verb(op, f"{op} PID KEY [create] [excl]")
    def run(k, caller, args):
        need_root(caller, op)
        pid, ipckey, *opts = args
        if any(o not in ("create", "excl") for o in opts):
            raise ValueError(opts)
        proc = sim_proc(k, caller, pid, op)
        return ok(k.ipc.get(_FACILITY[which], proc, int(ipckey, 0), "create" in opts, "excl" in opts))
    return run


for _which in _FACILITY:
    _ipc_get_verb(_which)


@verb("ipcrm", "ipcrm msg|sem|shm PID ID")
def _ipcrm(k, caller, args):
    need_root(caller, "ipcrm")
    which, pid, ident = args
    if which not in _FACILITY:
        raise ValueError(which)
    k.ipc.remove(_FACILITY[which], sim_proc(k, caller, pid, "ipcrm"), int(ident))
    return ok()


@verb("ipcs", "ipcs PID")
def _ipcs(k, caller, args):
    need_root(caller, "ipcs")
    (pid,) = args
    proc = sim_proc(k, caller, pid, "ipcs")
    lines = []
    for which, facility in _FACILITY.items():
        for ident, ipckey, creator in k.ipc.stat(facility, proc):
            who = creator.relname(caller.prison) if visible(caller, creator) else "-"
            lines.append(f"{which} {ident} {ipckey:#x} {who}")
    return ok(None, lines)


def _shm_attach_verb(method: str):
    @verb(method, f"{method} PID ID")
    def run(k, caller, args):
        need_root(caller, method)
        pid, ident = args
        getattr(k.ipc, method)(sim_proc(k, caller, pid, method), int(ident))
        return ok()
    return run


_shm_attach_verb("shmat")
_shm_attach_verb("shmdt")


def _sethostname_verb(field: str):
    @verb(f"set{field}", f"set{field} PID VALUE")
    def run(k, caller, args):
        need_root(caller, "sysctl")
        pid, value = args
        pr = k.sethostname(sim_proc(k, caller, pid, "sysctl"), field, value)
        return ok(pr.relname(caller.prison) if visible(caller, pr) else None)
    return run


for _field in ("hostname", "domainname", "hostuuid"):
    _sethostname_verb(_field)


# ------------------------------------------------------------------- rctl, vnet

_SUFFIXES = "kmgtpe"


def _expand_amount(rule: str) -> str:
    """rctl(8) expands byte suffixes (expand_number) before the kernel sees the rule."""
    head, eq, tail = rule.partition("=")
    if not eq:
        return rule
    amount, slash, per = tail.partition("/")
    if len(amount) > 1 and amount[-1].lower() in _SUFFIXES and amount[:-1].isdigit():
        amount = str(int(amount[:-1]) << (10 * (_SUFFIXES.index(amount[-1].lower()) + 1)))
    return f"{head}={amount}{slash}{per}"


@verb("rctl", "rctl [-a RULE | -r FILTER | -u FILTER | FILTER]")
def _rctl(k, caller, args):
    if not args:
        return ok(lines=k.rctl.rules(caller, ":"))
    if args[0] == "-a":
        (rule,) = args[1:]
        return ok(k.rctl.add_rule(caller, _expand_amount(rule)))
    if args[0] == "-r":
        (flt,) = args[1:]
        return ok(k.rctl.remove_rules(caller, flt))
    if args[0] == "-u":
        (flt,) = args[1:]
        return ok(lines=k.rctl.usage(caller, flt))
    (flt,) = args
    if flt.startswith("-"):
        raise ValueError(flt)
    return ok(lines=k.rctl.rules(caller, flt))


@verb("ifconfig", "ifconfig JAIL")
def _ifconfig(k, caller, args):
    (word,) = args
    if word in (".", "0"):
        pr = caller.prison
    elif key(word)[0] == "jid":
        pr = k.by_jid(int(word))
        if pr is None or not visible(caller, pr):
            raise JailError(errno.ENOENT, f"jail {word} not found", "ifconfig")
    else:
        try:
            pr = k.lookup(caller, word, dying=True)
        except JailError as e:
            e.op = "ifconfig"
            raise
    return ok(lines=k.vnet.interfaces(pr))


@verb("ifcreate", "ifcreate NAME")
def _ifcreate(k, caller, args):
    (name,) = args
    return ok(" ".join(k.vnet.if_create(caller, name)))


def _ifmove_verb(name: str, method: str):
    @verb(name, f"{name} IFNAME JAIL")
    def run(k, caller, args):
        ifname, jail = args
        return ok(getattr(k.vnet, method)(caller, ifname, jail))
    return run


_ifmove_verb("ifvnet", "if_vmove")
_ifmove_verb("ifreclaim", "if_vreclaim")
