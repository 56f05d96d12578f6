"""The `.ctl` request language (docs/ctl.md): one request in, one answer out.

Pure translation from words to kernel calls, so it is tested without a mount.
`execute(kernel, caller, text)` returns (errno or 0, answer text).
"""

from __future__ import annotations

import errno
import math
import os

from jailfs.ctlproto import error_answer, kv_line, split_request
from jailfs.ctlproto import ok_answer as _ok
from jailfs.kernel import JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, Caller, JailError, Kernel

_SET_VERBS = {"create": JAIL_CREATE, "update": JAIL_UPDATE,
              "createupdate": JAIL_CREATE | JAIL_UPDATE}


def execute(k: Kernel, caller: Caller, text: str, *, prison_of=None) -> tuple[int, str]:
    """Run one request. ``prison_of(real_pid) -> Prison`` tells which prison a
    real Linux process is in (the filesystem passes its caller resolver); by
    default its parent chain is walked over the kernel's attached processes."""
    try:
        words = split_request(text)
    except ValueError as e:
        return errno.EINVAL, error_answer("EINVAL", f"cannot split request: {e}")
    if not words:
        return errno.EINVAL, error_answer("EINVAL", "empty request")
    verb, args = words[0], words[1:]
    handler = _VERBS.get(verb)
    if handler is None:
        return errno.EINVAL, error_answer("EINVAL", f"unknown request: {verb}")
    try:
        if verb == "attach":
            answer = _attach(k, caller, args, prison_of)
        else:
            answer = handler(k, caller, args)
    except JailError as e:
        return e.errno, error_answer(e.name, str(e))
    except (ValueError, IndexError):
        return errno.EINVAL, error_answer("EINVAL", f"usage: {_USAGE[verb]}")
    return 0, answer


# ------------------------------------------------------------------- helpers

def _params(words: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for word in words:
        name, eq, value = word.partition("=")
        out.append((name, value if eq else None))
    return out


def _key(word: str) -> tuple[str, str]:
    """A jail as named in a request: all digits is a jid, anything else a name."""
    return ("jid", word) if word.isdigit() else ("name", word)


def _jid_of(k: Kernel, caller: Caller, word: str, op: str) -> int:
    """JAIL -> jid as the caller sees it; `.` or `0` is the caller's own prison."""
    if word in (".", "0"):
        return caller.prison.jid
    if word.isdigit():
        return int(word)
    try:
        return k.lookup(caller, word).jid
    except JailError as e:
        e.op = op
        raise


def _visible(caller: Caller, pr) -> bool:
    return pr is caller.prison or pr.is_descendant_of(caller.prison)


def _number(x: float) -> str:
    """A clock value: no exponent, at most microseconds."""
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _need_root(caller: Caller, op: str) -> None:
    if caller.uid != 0:
        raise JailError(errno.EPERM, "", op)


def _proc(k: Kernel, caller: Caller, word: str, op: str):
    """A simulated process the caller can see: in its own prison or below."""
    proc = k.procs.get(int(word))
    if proc is None or not _visible(caller, proc.prison):
        raise JailError(errno.ESRCH, f"no process {word}", op)
    return proc


# ------------------------------------------------------------------- jail requests

def _jail_set_verb(flags: int):
    def run(k, caller, args):
        return _ok(k.jail_set(caller, _params(args), flags))
    return run


def _set(k, caller, args):
    kind, value = _key(args[0])
    return _ok(k.jail_set(caller, [(kind, value)] + _params(args[1:]), JAIL_UPDATE))


def _remove(k, caller, args):
    (word,) = args
    k.jail_remove(caller, _jid_of(k, caller, word, "jail_remove"))
    return _ok()


def _get(k, caller, args):
    flags = 0
    if args and args[0] == "-d":
        flags, args = JAIL_DYING, args[1:]
    names = args[1:] or None
    values = k.jail_get(caller, _key(args[0]), names, flags)
    jid = values["jid"]
    if names is not None:
        order = names
    else:                           # jls's order
        order = [n for n in k.param_names() if n in values]
        order += [n for n in values if n not in order]
    return _ok(jid, [kv_line(name, values[name]) for name in order])


def _list(k, caller, args):
    dying = args == ["-d"]
    if args and not dying:
        raise ValueError
    return _ok(None, [f"{pr.jid} {pr.relname(caller.prison)}"
                      for pr in k.jails_below(caller.prison, dying)])


def _attach(k, caller, args, prison_of=None):
    """Attach real Linux process PID (and what it starts later) to JAIL.

    The process must be one the caller can see: in the caller's prison or
    below (a jailed caller cannot pull a host process into its jail)."""
    word, pid_word = args
    real_pid = int(pid_word)
    if real_pid <= 0 or not os.path.exists(f"/proc/{real_pid}"):
        raise JailError(errno.ESRCH, f"no process {real_pid}", "jail_attach")
    if prison_of is None:
        from jailfs.fs.callers import CallerResolver
        prison_of = CallerResolver(k).prison_of
    where = prison_of(real_pid)
    if not _visible(caller, where):
        raise JailError(errno.ESRCH, f"no process {real_pid}", "jail_attach")
    jid = _jid_of(k, caller, word, "jail_attach")
    proc = next((p for p in k.procs.values() if p.real_pid == real_pid and p.state == "running"), None)
    if proc is not None:
        k.jail_attach(proc, jid)
        return _ok()
    # First sight of this process: it enters the kernel in the prison it is in
    # (its parent chain's), then attaches from there.
    proc = k.spawn(where.jid, caller.uid, real_pid=real_pid)
    try:
        k.jail_attach(proc, jid)
    except JailError:
        k.kill(proc)
        raise
    return _ok()


# ------------------------------------------------------------------- the simulated world

def _spawn(k, caller, args):
    _need_root(caller, "spawn")
    (word,) = args
    jid = _jid_of(k, caller, word, "spawn")
    pr = k.by_jid(jid)
    if pr is not None and not _visible(caller, pr):     # a jid outside the caller's view
        raise JailError(errno.ENOENT, f"jail {jid} not found", "spawn")
    return _ok(k.spawn(jid, caller.uid).pid)


def _proc_verb(method: str):
    def run(k, caller, args):
        _need_root(caller, method)
        (pid,) = args
        result = getattr(k, method)(_proc(k, caller, pid, method))
        return _ok(result.pid if result is not None else None)
    return run


def _open(k, caller, args):
    _need_root(caller, "open")
    return _ok(k.open_file(_proc(k, caller, args[0], "open"), *args[1:2]))


def _socket(k, caller, args):
    _need_root(caller, "socket")
    return _ok(k.socket(_proc(k, caller, args[0], "socket"), *args[1:2]))


def _connect(k, caller, args):
    _need_root(caller, "connect")
    pid, laddr, raddr = args
    return _ok(k.tcp_connect(_proc(k, caller, pid, "connect"), laddr, raddr))


def _close(k, caller, args):
    _need_root(caller, "close")
    pid, fd = args
    k.close(_proc(k, caller, pid, "close"), int(fd))
    return _ok()


def _pass(k, caller, args):
    _need_root(caller, "pass")
    pid, fd, to = args
    return _ok(k.pass_fd(_proc(k, caller, pid, "pass"), int(fd), _proc(k, caller, to, "pass")))


def _hold_verb(kind: str, arity: int):
    def run(k, caller, args):
        _need_root(caller, kind)
        if len(args) != arity + 1:
            raise ValueError
        return _ok(k.hold(_proc(k, caller, args[0], kind), kind, " on ".join(args[1:])))
    return run


def _unmount(k, caller, args):
    _need_root(caller, "unmount")
    (ident,) = args
    holder = k.holders.get(int(ident))
    if holder is not None and not _visible(caller, holder.cred.prison):
        raise JailError(errno.ENOENT, f"no holder {ident}", "release")
    k.release(int(ident))
    return _ok()


def _advance(k, caller, args):
    _need_root(caller, "advance")
    (seconds,) = args
    value = float(seconds)
    if not math.isfinite(value):
        raise ValueError(seconds)
    return _ok(_number(k.advance(value)))


def _clock(k, caller, args):
    if args:
        raise ValueError
    return _ok(_number(k.clock.now))


def _check(k, caller, args):
    try:
        k.check_invariants()
    except AssertionError as e:
        raise JailError(errno.EIO, f"invariant broken: {e}", "check")
    return _ok()


# ------------------------------------------------------------------- SysV IPC, kern.hostname

_FACILITY = {"msg": 0, "sem": 1, "shm": 2}


def _ipc_get_verb(facility: int, op: str):
    def run(k, caller, args):
        _need_root(caller, op)
        pid, key, *opts = args
        if any(o not in ("create", "excl") for o in opts):
            raise ValueError(opts)
        proc = _proc(k, caller, pid, op)
        return _ok(k.ipc.get(facility, proc, int(key, 0), "create" in opts, "excl" in opts))
    return run


def _ipcrm(k, caller, args):
    _need_root(caller, "ipcrm")
    which, pid, ident = args
    if which not in _FACILITY:
        raise ValueError(which)
    k.ipc.remove(_FACILITY[which], _proc(k, caller, pid, "ipcrm"), int(ident))
    return _ok()


def _ipcs(k, caller, args):
    _need_root(caller, "ipcs")
    (pid,) = args
    proc = _proc(k, caller, pid, "ipcs")
    lines = []
    for which, facility in _FACILITY.items():
        for ident, key, creator in k.ipc.stat(facility, proc):
            who = creator.relname(caller.prison) if _visible(caller, creator) else "-"
            lines.append(f"{which} {ident} {key:#x} {who}")
    return _ok(None, lines)


def _shm_attach_verb(method: str):
    def run(k, caller, args):
        _need_root(caller, method)
        pid, ident = args
        getattr(k.ipc, method)(_proc(k, caller, pid, method), int(ident))
        return _ok()
    return run


def _sethostname_verb(field: str):
    def run(k, caller, args):
        _need_root(caller, "sysctl")
        pid, value = args
        pr = k.sethostname(_proc(k, caller, pid, "sysctl"), field, value)
        return _ok(pr.relname(caller.prison) if _visible(caller, pr) else None)
    return run


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


def _rctl(k, caller, args):
    """rctl [FILTER] | -a RULE | -r FILTER | -u FILTER"""
    if not args:
        return _ok(lines=k.rctl.rules(caller, ":"))
    if args[0] == "-a":
        (rule,) = args[1:]
        return _ok(k.rctl.add_rule(caller, _expand_amount(rule)))
    if args[0] == "-r":
        (flt,) = args[1:]
        return _ok(k.rctl.remove_rules(caller, flt))
    if args[0] == "-u":
        (flt,) = args[1:]
        return _ok(lines=k.rctl.usage(caller, flt))
    (flt,) = args
    if flt.startswith("-"):
        raise ValueError(flt)
    return _ok(lines=k.rctl.rules(caller, flt))


def _ifconfig(k, caller, args):
    (word,) = args
    if word in (".", "0"):
        pr = caller.prison
    elif word.isdigit():
        pr = k.by_jid(int(word))
        if pr is None or not _visible(caller, pr):
            raise JailError(errno.ENOENT, f"jail {word} not found", "ifconfig")
    else:
        try:
            pr = k.lookup(caller, word, dying=True)
        except JailError as e:
            e.op = "ifconfig"
            raise
    return _ok(lines=k.vnet.interfaces(pr))


def _ifcreate(k, caller, args):
    (name,) = args
    return _ok(" ".join(k.vnet.if_create(caller, name)))


def _ifmove_verb(method: str):
    def run(k, caller, args):
        ifname, jail = args
        return _ok(getattr(k.vnet, method)(caller, ifname, jail))
    return run


_VERBS = {
    **{verb: _jail_set_verb(flags) for verb, flags in _SET_VERBS.items()},
    "set": _set, "remove": _remove, "get": _get, "list": _list, "attach": _attach,
    "spawn": _spawn, "fork": _proc_verb("fork"), "exit": _proc_verb("exit"),
    "reap": _proc_verb("reap"), "kill": _proc_verb("kill"),
    "open": _open, "socket": _socket, "connect": _connect, "close": _close, "pass": _pass,
    "mount": _hold_verb("mount", 2), "sigio": _hold_verb("sigio", 1), "acct": _hold_verb("acct", 1),
    "unmount": _unmount, "release": _unmount,
    "advance": _advance, "clock": _clock, "check": _check,
    "msgget": _ipc_get_verb(0, "msgget"), "semget": _ipc_get_verb(1, "semget"),
    "shmget": _ipc_get_verb(2, "shmget"), "ipcrm": _ipcrm, "ipcs": _ipcs,
    "shmat": _shm_attach_verb("shmat"), "shmdt": _shm_attach_verb("shmdt"),
    "sethostname": _sethostname_verb("hostname"), "setdomainname": _sethostname_verb("domainname"),
    "sethostuuid": _sethostname_verb("hostuuid"),
    "rctl": _rctl, "ifconfig": _ifconfig, "ifcreate": _ifcreate,
    "ifvnet": _ifmove_verb("if_vmove"), "ifreclaim": _ifmove_verb("if_vreclaim"),
}

_USAGE = {
    "create": "create PARAM[=VALUE] ...", "update": "update PARAM[=VALUE] ...",
    "createupdate": "createupdate PARAM[=VALUE] ...", "set": "set JAIL PARAM[=VALUE] ...",
    "remove": "remove JAIL", "get": "get [-d] JAIL [PARAM ...]", "list": "list [-d]",
    "attach": "attach JAIL PID", "spawn": "spawn JAIL", "fork": "fork PID", "exit": "exit PID",
    "reap": "reap PID", "kill": "kill PID", "open": "open PID [PATH]",
    "socket": "socket PID [udp|tcp|unix]", "connect": "connect PID LADDR:PORT RADDR:PORT",
    "close": "close PID FD", "pass": "pass PID FD TOPID", "mount": "mount PID FSTYPE PATH",
    "sigio": "sigio PID FD", "acct": "acct PID PATH", "unmount": "unmount ID", "release": "release ID",
    "advance": "advance SECONDS", "clock": "clock", "check": "check",
    "msgget": "msgget PID KEY [create] [excl]", "semget": "semget PID KEY [create] [excl]",
    "shmget": "shmget PID KEY [create] [excl]", "ipcrm": "ipcrm msg|sem|shm PID ID",
    "ipcs": "ipcs PID", "shmat": "shmat PID ID", "shmdt": "shmdt PID ID",
    "sethostname": "sethostname PID VALUE", "setdomainname": "setdomainname PID VALUE",
    "sethostuuid": "sethostuuid PID VALUE",
    "rctl": "rctl [-a RULE | -r FILTER | -u FILTER | FILTER]", "ifconfig": "ifconfig JAIL",
    "ifcreate": "ifcreate NAME", "ifvnet": "ifvnet IFNAME JAIL",
    "ifreclaim": "ifreclaim IFNAME JAIL",
}

# The toolbox verbs (sysctl, procs, sysvlist, sysvrm, ifdestroy) add themselves to _VERBS.
from jailfs import ctl_toolbox  # noqa: E402,F401
