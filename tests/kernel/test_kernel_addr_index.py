"""The address index behind jail_set's clash check (addrindex.py) against the plain
walk it replaces (FreeBSD 15's prison_ip_conflict_check), over random sequences of
creates, address changes, renames, removes and processes; and its cost: eight times
the jails cost about eight times the work, not sixty-four.

Deterministic (derandomize=True); JAILFS_HYPOTHESIS_EXAMPLES=N runs longer by hand."""

import ipaddress
import os
import pickle
import sys
from errno import EADDRINUSE

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from jailfs.kernel import JAIL_ATTACH, JAIL_CREATE, JAIL_UPDATE, Caller, JailError, Kernel
from jailfs.kernel.params import PR_IP4_USER, PR_IP6_USER, PR_VNET

EXAMPLES = int(os.environ.get("JAILFS_HYPOTHESIS_EXAMPLES", "150"))
ADDRS = {"ip4": [ipaddress.IPv4Address(f"10.0.0.{i}") for i in range(1, 5)],
         "ip6": [ipaddress.IPv6Address(f"2001:db8::{i}") for i in range(1, 4)]}
USER = {"ip4": PR_IP4_USER, "ip6": PR_IP6_USER}
# Lists a jail_set may ask for: one address, or several (the first is the primary).
LISTS = {fam: [(a,) for a in addrs] + [tuple(addrs[i:i + n]) for n in (2, 3)
                                       for i in range(len(addrs) - n + 1)]
         for fam, addrs in ADDRS.items()}
pick = st.integers(min_value=0, max_value=10_000)


def walk_clashes(k, ppr, pr, addrs, fam) -> bool:
    """prison_ip_conflict_check as kern_jail.c (FreeBSD 15) writes it: walk the
    stack owner's descendants; skip pr, vnet jails and jails not alive with their
    subtrees; pass through jails inheriting the family; check the others, not
    their subtrees; two one-address lists never clash."""
    top = ppr
    while top is not k.prison0 and not top.flags & PR_VNET:
        top = top.parent
    stack = list(top.newest_first())
    while stack:
        tpr = stack.pop()
        if tpr is pr or tpr.flags & PR_VNET or tpr.state != "alive":
            continue
        if not tpr.flags & USER[fam]:
            stack.extend(tpr.newest_first())
            continue
        theirs = getattr(tpr, fam)
        if not theirs or (len(addrs) == 1 and len(theirs) == 1):
            continue
        if any(a in theirs for a in addrs):
            return True
    return False


def _text(addrs) -> str:
    return ",".join(str(a) for a in addrs)


def _choose(seq, i):
    return seq[i % len(seq)] if seq else None


class AddressMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
        self.host = Caller(self.k.prison0, 0)
        self.procs = []

    def alive(self):
        return [pr for pr in self.k.jails_below(self.k.prison0) if pr.state == "alive"]

    def attempt(self, *args):
        try:
            return self.k.jail_set(*args)
        except JailError:
            return None

    @rule(parent=pick, name=st.sampled_from("abcd"), ip4=pick, ip6=pick, persist=pick)
    def create(self, parent, name, ip4, ip6, persist):
        ppr = _choose([self.k.prison0] + self.alive(), parent)
        params = [("name", name if ppr is self.k.prison0 else f"{ppr.name}.{name}")]
        if persist % 5:
            params.append(("persist", None))
        modes = ("list", "list", "list", "inherit", "new", "disable", "vnet")
        for fam, choice in (("ip4", ip4), ("ip6", ip6)):
            mode = modes[choice % len(modes)]
            if mode == "list":
                params.append((fam + ".addr", _text(_choose(LISTS[fam], choice // 7))))
            elif mode == "vnet":
                params.append(("vnet", "new"))
                break
            else:
                params.append((fam, mode))
        if persist % 5:
            self.attempt(self.host, params, JAIL_CREATE)
        else:                                   # kept alive by a process only
            proc = self.k.spawn(0)
            if self.attempt(self.host, params, JAIL_CREATE | JAIL_ATTACH, proc) is None:
                self.k.kill(proc)
            else:
                self.procs.append(proc)

    @rule(which=pick, fam=st.sampled_from(["ip4", "ip6"]), choice=pick)
    def set_addrs(self, which, fam, choice):
        """An update: a new list (the parent restricts its children) or none."""
        users = [pr for pr in self.alive() if pr.flags & USER[fam]]
        pr = _choose(users, which)
        if pr is not None:
            lists = LISTS[fam] + [()]
            self.attempt(self.host, [("jid", str(pr.jid)),
                                     (fam + ".addr", _text(_choose(lists, choice)))], JAIL_UPDATE)

    @rule(which=pick, name=st.sampled_from("abcdef"))
    def rename(self, which, name):
        pr = _choose(self.alive(), which)
        if pr is not None:
            prefix = pr.name.rpartition(".")[0]
            self.attempt(self.host, [("jid", str(pr.jid)), ("name", f"{prefix}.{name}" if prefix else name)],
                         JAIL_UPDATE)

    @rule(which=pick)
    def remove(self, which):
        pr = _choose(self.alive(), which)
        if pr is not None:
            self.k.jail_remove(self.host, pr.jid)

    @rule(which=pick)
    def linger(self, which):
        """A process in a jail that is then removed: dying, yet with a user reference."""
        pr = _choose(self.alive(), which)
        if pr is not None:
            self.procs.append(self.k.spawn(pr.jid, real_pid=10_000 + len(self.procs)))

    @rule(which=pick)
    def exit_one(self, which):
        running = [p for p in self.procs if p.state == "running"]
        proc = _choose(running, which)
        if proc is not None:
            self.k.kill(proc)

    @invariant()
    def index_agrees_with_the_walk(self):
        self.k.check_invariants()              # the index equals one built afresh
        k = self.k
        for ppr in [k.prison0] + self.alive():
            for pr in [None] + ppr.alive_children():
                for fam in ("ip4", "ip6"):
                    for addrs in LISTS[fam]:
                        assert k.addr_index.clashes(ppr, pr, addrs, fam) == \
                            walk_clashes(k, ppr, pr, addrs, fam), (ppr, pr, fam, addrs)


AddressMachine.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=30, derandomize=True, deadline=None,
    suppress_health_check=list(HealthCheck), database=None)
test_address_index_agrees_with_the_walk = AddressMachine.TestCase


def test_a_dying_jail_clashes_no_more():
    """prison_isalive: a removed jail whose processes have not exited yet (a user
    reference left) no longer holds its addresses; nor, of course, does a freed one."""
    k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    k.jail_set(host, [("name", "a"), ("persist", None), ("ip4.addr", "10.0.0.1,10.0.0.2")],
               JAIL_CREATE)
    with _raises(EADDRINUSE, "IPv4 addresses clash"):
        k.jail_set(host, [("name", "b"), ("persist", None), ("ip4.addr", "10.0.0.2")], JAIL_CREATE)
    a = k.find_name(k.prison0, "a")
    k.spawn(a.jid, real_pid=4242)                # a real process the kill only signals
    k.jail_remove(host, a.jid)
    assert a.state == "dying" and a.uref > 0
    k.jail_set(host, [("name", "b"), ("persist", None), ("ip4.addr", "10.0.0.2,10.0.0.3")],
               JAIL_CREATE)
    with _raises(EADDRINUSE, "IPv4 addresses clash"):
        k.jail_set(host, [("name", "c"), ("persist", None), ("ip4.addr", "10.0.0.3")], JAIL_CREATE)
    k.check_invariants()


class _raises:
    def __init__(self, errno, msg):
        self.errno, self.msg = errno, msg

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        assert isinstance(err, JailError), f"no JailError ({err!r})"
        assert (err.errno, err.msg) == (self.errno, self.msg)
        return True


def _kernel_lines(n: int) -> int:
    """Lines of kernel code run to create n jails, each with its own address (every
    fourth with two), the way `jailfs mount --conf` does."""
    k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    kernel_dir = os.path.dirname(sys.modules[Kernel.__module__].__file__)
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename.startswith(kernel_dir):
            count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        for i in range(1, n + 1):
            addrs = f"10.{i >> 8 & 255}.{i & 255}.1"
            if i % 4 == 0:
                addrs += f",10.{i >> 8 & 255}.{i & 255}.2"
            k.jail_set(host, [("name", f"j{i}"), ("persist", None), ("ip4.addr", addrs)],
                       JAIL_CREATE)
    finally:
        sys.settrace(None)
    return count


def test_creating_jails_with_addresses_costs_linear_work():
    small, large = _kernel_lines(100), _kernel_lines(800)
    assert large <= 8 * 1.2 * small, f"8x the jails ran {large / small:.1f}x the kernel lines"


def test_a_state_file_from_before_the_index_gets_one():
    """A kernel pickled before the index existed is given one when loaded."""
    k = Kernel(hostname="h", resolve_path=lambda root, path: "/")
    host = Caller(k.prison0, 0)
    k.jail_set(host, [("name", "a"), ("persist", None), ("ip4.addr", "10.0.0.1,10.0.0.2")],
               JAIL_CREATE)
    state = dict(pickle.loads(pickle.dumps(k)).__dict__)
    del state["addr_index"]
    old = Kernel.__new__(Kernel)
    old.__setstate__(state)
    old.check_invariants()
    with _raises(EADDRINUSE, "IPv4 addresses clash"):
        old.jail_set(Caller(old.prison0, 0), [("name", "b"), ("persist", None),
                                              ("ip4.addr", "10.0.0.2")], JAIL_CREATE)
