"""Helpers for the kernel tests: every call goes through the kernel API and is
followed by k.check_invariants(); a refused call must leave the state as it was."""

from __future__ import annotations

import os

import pytest

from jailfs.kernel import (JAIL_ATTACH, JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, Caller, JailError,
                           Kernel)

C, U, A, D = JAIL_CREATE, JAIL_UPDATE, JAIL_ATTACH, JAIL_DYING
CU = C | U


def fake_paths(dirs=("/", "/jails", "/jails/a", "/jails/b", "/jails/a/sub"), files=("/etc/motd",)):
    """A path resolver over a fixed set of directories (no real filesystem)."""
    dirs, files = set(dirs), set(files)

    def resolve(root: str, path: str) -> str:
        full = os.path.normpath(os.path.join(root, path.lstrip("/")))
        if full in files:
            from errno import ENOTDIR
            raise JailError(ENOTDIR)
        if full not in dirs:
            from errno import ENOENT
            raise JailError(ENOENT)
        return full
    return resolve


class Checked:
    """A Kernel whose every public call is followed by check_invariants()."""

    def __init__(self, k: Kernel):
        object.__setattr__(self, "_k", k)

    def __getattr__(self, name):
        value = getattr(self._k, name)
        if callable(value) and not name.startswith("_") and name != "check_invariants":
            def call(*args, **kwargs):
                try:
                    return value(*args, **kwargs)
                finally:
                    self._k.check_invariants()
            return call
        return value

    def __setattr__(self, name, value):
        setattr(self._k, name, value)


def new_kernel(**kw) -> Checked:
    kw.setdefault("hostname", "host.example")
    kw.setdefault("resolve_path", fake_paths())
    k = Kernel(**kw)
    k.check_invariants()
    return Checked(k)


def host(k) -> Caller:
    return Caller(k.prison0, 0)


def P(*words) -> list:
    """'name=a' -> ('name', 'a'); 'persist' -> ('persist', None); tuples pass through."""
    out = []
    for w in words:
        if isinstance(w, tuple):
            out.append(w)
        elif "=" in w:
            n, _, v = w.partition("=")
            out.append((n, v))
        else:
            out.append((w, None))
    return out


def jset(k, *words, flags=C, caller=None, proc=None) -> int:
    return k.jail_set(caller or host(k), P(*words), flags, proc=proc)


def mk(k, *words, caller=None) -> int:
    """Create a persistent jail."""
    return jset(k, *words, "persist", flags=C, caller=caller)


def get(k, key, *names, caller=None, flags=0) -> dict:
    if isinstance(key, int):
        key = ("jid", key)
    elif isinstance(key, str):
        key = ("name", key)
    return k.jail_get(caller or host(k), key, list(names) if names else None, flags)


def val(k, jid, name, caller=None):
    """One parameter of jail jid (alive or dying), as the host (or caller) sees it."""
    return get(k, jid, name, caller=caller, flags=D)[name]


def jailed_root(k, jid) -> Caller:
    return Caller(k.by_jid(jid), 0)


def snapshot(k) -> tuple:
    kk = getattr(k, "_k", k)
    p0 = kk.prison0
    rows = [(0, p0.childcount, p0.childmax, p0.ref, p0.uref, p0.hostname)]
    for jid in sorted(kk.jids):
        pr = kk.jids[jid]
        rows.append((jid, pr.name, pr.state, pr.ref, pr.uref, pr.serial,
                     tuple(sorted(kk.get_values(p0, pr).items()))))
    # lastprid is left out: as in FreeBSD, a create refused after the jid was
    # allocated (step 25) still consumes that jid (see test_refused_create_consumes_jid).
    return (kk.lastdeadid, tuple(rows), len(kk.procs), len(kk.creds))


def refused(fn, *args, **kwargs) -> JailError:
    """fn must raise JailError and change nothing."""
    k = kwargs.pop("k", None)
    before = snapshot(k) if k is not None else None
    with pytest.raises(JailError) as info:
        fn(*args, **kwargs)
    if k is not None:
        assert snapshot(k) == before, "a refused call changed the state"
    return info.value


def refused_errno(k, errno_, fn, *args) -> JailError:
    """fn(*args) must fail with errno_, change nothing, and leave the invariants intact."""
    e = refused(fn, *args, k=k)
    assert e.errno == errno_, repr(e)
    getattr(k, "_k", k).check_invariants()
    return e


def expect(k, errno_, msg, *words, flags=C, caller=None, proc=None) -> JailError:
    """jail_set(words, flags) must fail with errno_ and msg (and str(e) as libjail prints)."""
    e = refused(jset, k, *words, flags=flags, caller=caller, proc=proc, k=k)
    assert (e.errno, e.msg) == (errno_, msg), repr(e)
    assert e.op == "jail_set"
    assert str(e) == (msg or f"jail_set: {os.strerror(errno_)}")
    return e


def state(k, jid):
    pr = k.by_jid(jid)
    return None if pr is None else pr.state
