"""A hypothesis state machine drives random jail and process activity through the
kernel API and checks the kernel's invariants after every step.

Deterministic in CI (derandomize=True); JAILFS_HYPOTHESIS_EXAMPLES=N runs longer by hand
(JAILFS_HYPOTHESIS_STEPS=N sets the steps per example)."""

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from jailfs.kernel import (JAIL_ATTACH, JAIL_CREATE, JAIL_UPDATE, PARAMS, Caller, JailError,
                           Kernel)

EXAMPLES = int(os.environ.get("JAILFS_HYPOTHESIS_EXAMPLES", "300"))
STEPS = int(os.environ.get("JAILFS_HYPOTHESIS_STEPS", "80"))
NAMES = ("a", "b", "c", "7", "")
pick = st.integers(min_value=0, max_value=10_000)
# Values no parameter should be broken by (issue 9): empty, blank, NUL, huge, bytes that are
# not UTF-8 (as the filesystem passes them, surrogate-escaped), out-of-range and malformed
# numbers, bad addresses, names that would be bad paths.
BAD_VALUES = ("", "\n", " ", "\0", "a\0b", "\0\n", "x" * 5000, "\udcff\udcfe", "\ud800",
              "-1", "-2147483649", "2147483648", "4294967297", "99999999999999999999", "+5",
              "1_0", "3 ", "\uff13", "0x10", "1e3", "nan", "-", ",", "1.2.3.4,", "1.2.3.4, 1.2.3.5",
              "1.2.3.999", "::g", "0.0.0.0", "255.255.255.255", "::", "a/b", "/", "..", ".",
              "a.", ".a", "5", "new", "disable", "inherit", "7", "-3", "true", "x=y\nz")
BAD_NAMES = ("a/b", "/", "\0", "a\0/b", "..", ".", "a.", ".a", "a..b", "", "\n", "\udcff",
             "\ud800", "-5", "+5", "4294967297", "99999999999999999999", " 5", "05", "x" * 300)
WRITABLE = tuple(name for name, row in PARAMS.items() if row.writable)


def _choose(seq, i):
    return seq[i % len(seq)] if seq else None


class JailMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
        self.host = Caller(self.k.prison0, 0)
        self.seen: dict[int, str] = {}           # serial -> worst state seen
        self.fds: list = []                      # (proc, fd)
        self.mounts: list[int] = []

    # ------------------------------------------------------------ helpers
    def alive(self):
        return [pr for pr in self.k.jails_below(self.k.prison0) if pr.state == "alive"]

    def existing(self):
        return self.k.jails_below(self.k.prison0, dying=True)

    def running(self):
        return sorted((p for p in self.k.procs.values() if p.state == "running"), key=lambda p: p.pid)

    def zombies(self):
        return sorted((p for p in self.k.procs.values() if p.state == "zombie"), key=lambda p: p.pid)

    def live_fds(self):
        self.fds = [(p, fd) for p, fd in self.fds if p.state == "running" and fd in p.fds]
        return self.fds

    def attempt(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except JailError:
            return None

    # ------------------------------------------------------------ jails
    @rule(parent=pick, name=st.sampled_from(NAMES), persist=st.sampled_from([True, True, True, False]), attach=pick,
          childmax=st.integers(0, 3), jid=st.sampled_from([0] * 6 + [3, 5, 999999]),
          inside=st.booleans())
    def create(self, parent, name, persist, attach, childmax, jid, inside):
        ppr = _choose([self.k.prison0] + self.alive(), parent)
        caller = self.host
        full = name
        if inside and ppr is not self.k.prison0:
            caller = Caller(ppr, 0)                # jailed root creating a child
        elif ppr is not self.k.prison0:
            full = f"{ppr.name}.{name}"
        params = [("name", full)] if (name or ppr is not self.k.prison0) else []
        params.append(("children.max", str(childmax)))
        if jid:
            params.append(("jid", str(jid)))
        if persist:
            params.append(("persist", None))
        flags = JAIL_CREATE
        proc = None
        procs = [p for p in self.running() if p.prison is caller.prison]
        if attach % 2 == 0 and procs:
            flags |= JAIL_ATTACH
            proc = _choose(procs, attach)
        self.attempt(self.k.jail_set, caller, params, flags, proc=proc)

    @rule(tgt=pick, what=st.sampled_from(["nopersist", "persist", "securelevel", "children.max",
                                             "host.hostname", "allow.nomount", "name", "meta.k"]),
          value=st.integers(-1, 3))
    def update(self, tgt, what, value):
        pr = _choose(self.alive(), tgt)
        if pr is None:
            return
        params = [("jid", str(pr.jid))]
        if what in ("nopersist", "persist", "allow.nomount"):
            params.append((what, None))
        elif what == "name":
            params.append(("name", f"{pr.parent.name}.n{value}" if pr.parent.parent else f"n{value}"))
        else:
            params.append((what, str(value)))
        self.attempt(self.k.jail_set, self.host, params, JAIL_UPDATE)

    @rule(tgt=pick)
    def remove(self, tgt):
        pr = _choose(self.existing(), tgt)
        if pr is not None:
            self.k.jail_remove(self.host, pr.jid)

    @rule(proc=pick, tgt=pick)
    def attach(self, proc, tgt):
        p = _choose(self.running(), proc)
        pr = _choose(self.alive(), tgt)
        if p is not None and pr is not None:
            self.attempt(self.k.jail_attach, p, pr.jid)

    # ------------------------------------------------------------ processes
    @rule(tgt=pick)
    def spawn(self, tgt):
        pr = _choose([self.k.prison0] + self.alive(), tgt)
        self.k.spawn(pr.jid)

    @rule(proc=pick)
    def fork(self, proc):
        p = _choose(self.running(), proc)
        if p is not None:
            self.attempt(self.k.fork, p)

    @rule(proc=pick)
    def exit(self, proc):
        p = _choose(self.running(), proc)
        if p is not None:
            self.k.exit(p)

    @rule(proc=pick)
    def reap(self, proc):
        p = _choose(self.zombies(), proc)
        if p is not None:
            self.k.reap(p)

    # ------------------------------------------------------------ descriptors and mounts
    @rule(proc=pick, tcp=st.booleans())
    def open(self, proc, tcp):
        p = _choose(self.running(), proc)
        if p is not None:
            fd = self.k.tcp_connect(p, "10.0.0.1:1", "192.0.2.1:80") if tcp else self.k.open_file(p, "/f")
            self.fds.append((p, fd))

    @rule(which=pick)
    def close(self, which):
        item = _choose(self.live_fds(), which)
        if item is not None:
            self.k.close(*item)

    @rule(which=pick, to=pick)
    def pass_fd(self, which, to):
        item = _choose(self.live_fds(), which)
        dest = _choose([p for p in self.running() if p.prison is self.k.prison0], to)
        if item is not None and dest is not None:
            self.fds.append((dest, self.k.pass_fd(item[0], item[1], dest)))

    @rule(proc=pick)
    def mount(self, proc):
        p = _choose(self.running(), proc)
        if p is not None:
            self.mounts.append(self.k.mount(p, "tmpfs", "/mnt"))

    @rule(which=pick)
    def unmount(self, which):
        if self.mounts:
            self.k.unmount(self.mounts.pop(which % len(self.mounts)))

    # ------------------------------------------------------------ SysV IPC, hostname
    @rule(tgt=pick, fac=st.integers(0, 2), mode=st.sampled_from(["new", "inherit", "disable"]))
    def sysv_mode(self, tgt, fac, mode):
        pr = _choose(self.alive(), tgt)
        if pr is not None:
            name = ("sysvmsg", "sysvsem", "sysvshm")[fac]
            self.attempt(self.k.jail_set, self.host, [("jid", str(pr.jid)), (name, mode)], JAIL_UPDATE)

    @rule(proc=pick, fac=st.integers(0, 2), key=st.integers(0, 2), excl=st.booleans())
    def ipc_get(self, proc, fac, key, excl):
        p = _choose(self.running(), proc)
        if p is not None:
            self.attempt(self.k.ipc.get, fac, p, key, True, excl)

    @rule(proc=pick, fac=st.integers(0, 2), ident=st.integers(0, 12))
    def ipc_rm(self, proc, fac, ident):
        p = _choose(self.running(), proc)
        if p is not None:
            self.attempt(self.k.ipc.remove, fac, p, ident)

    @rule(proc=pick, ident=st.integers(0, 12), attach=st.booleans())
    def shm_at_dt(self, proc, ident, attach):
        p = _choose(self.running(), proc)
        if p is not None:
            self.attempt(self.k.ipc.shmat if attach else self.k.ipc.shmdt, p, ident)

    @rule(proc=pick, value=st.sampled_from(["x", "y"]))
    def sethostname(self, proc, value):
        p = _choose(self.running(), proc)
        if p is not None:
            self.attempt(self.k.sethostname, p, "kern.hostname", value)

    @rule(tgt=pick, name=st.sampled_from(WRITABLE + ("name", "meta.k", "env.K", "jid")),
          value=st.sampled_from(BAD_VALUES), create=st.booleans())
    def bad_value(self, tgt, name, value, create):
        """A value from the bad-input corpus: refused, or taken in a form every
        reader can still read back."""
        if create:
            self.attempt(self.k.jail_set, self.host, [("name", "bad"), ("persist", None),
                                                      (name, value)], JAIL_CREATE)
            return
        pr = _choose(self.alive(), tgt)
        if pr is not None:
            self.attempt(self.k.jail_set, self.host, [("jid", str(pr.jid)), (name, value)],
                         JAIL_UPDATE)

    @rule(tgt=pick, value=st.sampled_from(BAD_NAMES), create=st.booleans())
    def bad_name(self, tgt, value, create):
        pr = _choose(self.alive(), tgt)
        if create or pr is None:
            self.attempt(self.k.jail_set, self.host, [("name", value), ("persist", None)],
                         JAIL_CREATE)
        else:
            self.attempt(self.k.jail_set, self.host, [("jid", str(pr.jid)), ("name", value)],
                         JAIL_UPDATE)

    @rule(seconds=st.sampled_from([1.0, 30.0, 59.0, 60.0, 120.0]))
    def advance(self, seconds):
        self.k.advance(seconds)

    # ------------------------------------------------------------ invariants
    @invariant()
    def kernel_invariants(self):
        self.k.check_invariants()

    @invariant()
    def tree_is_sound(self):
        k = self.k
        every = list(k.prison0.descendants())
        assert len({pr.jid for pr in every}) == len(every), "two jails share a jid"
        assert sorted(pr.jid for pr in every) == sorted(k.jids)
        for pr in [k.prison0] + every:
            alive = [c.short for c in pr.newest_first() if c.state == "alive"]
            assert len(alive) == len(set(alive)), f"{pr}: siblings share a name"
            assert pr.childcount == sum(1 for _ in pr.descendants()), f"{pr}: children.cur"
            if pr is not k.prison0:
                assert int(k.get_values(k.prison0, pr, ["children.cur"])["children.cur"]) == \
                    pr.childcount

    @invariant()
    def every_jail_is_readable(self):
        """get_values answers for every jail, alive or dying, from the host and from
        each ancestor, and every value encodes as the filesystem encodes it."""
        k = self.k
        for pr in k.jails_below(k.prison0, dying=True):
            viewer = pr.parent
            while viewer is not None:
                for text in k.get_values(viewer, pr).values():
                    text.encode("utf-8", "surrogateescape")
                viewer = viewer.parent

    @invariant()
    def no_name_forms_a_bad_path(self):
        for pr in self.k.prison0.descendants():
            assert pr.short and "/" not in pr.short and "\0" not in pr.short, pr
            assert pr.short not in (".", "..") and "." not in pr.short, pr
            assert 0 < pr.jid <= 2**31 - 1, pr

    @invariant()
    def dying_is_final_and_freed_when_unheld(self):
        k = self.k
        holders: dict[int, int] = {}
        for cred in k.creds:
            holders[cred.prison.serial] = holders.get(cred.prison.serial, 0) + 1
        for obj in k.ipc.objects():              # a jail that is its own root keeps none
            pr = obj.creator
            if pr.state == "dying" and not obj.removed:
                assert pr.sysv_root(obj.facility) is not pr, f"{obj.describe()} outlived {pr}"
        for pr in k.prison0.descendants():
            before = self.seen.get(pr.serial)
            assert not (before in ("dying", "freed") and pr.state == "alive"), f"{pr} resurrected"
            self.seen[pr.serial] = pr.state
            if pr.state == "dying":
                kids = len(pr.children) if pr.children else 0
                assert holders.get(pr.serial, 0) + kids > 0, f"{pr}: dying with no holder"
                assert not pr.flags & 1
        existing = {pr.serial for pr in k.prison0.descendants()}
        for serial, st_ in list(self.seen.items()):
            if serial not in existing:
                self.seen[serial] = "freed"


JailMachine.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, derandomize=True, deadline=None,
    suppress_health_check=list(HealthCheck), database=None)
test_jail_state_machine = JailMachine.TestCase
