"""vnet network stacks and their interfaces (spec sections 8.4, 8.5; edge case 22).

prison0 and every jail created with vnet=new own a stack; other jails use their nearest
such ancestor's. A new stack has its own lo0. `ifconfig IF vnet JAIL` moves an interface
into a descendant's stack and `ifconfig IF -vnet JAIL` takes it back. A stack is destroyed
only when its prison is FREED (not when it starts dying): interfaces moved in go back to
the stack they were created in (their home), interfaces created inside are destroyed.
"""

from __future__ import annotations

import re
from errno import EEXIST, EINVAL, ENOENT, ENXIO, EPERM

from .errors import JailError
from .modules import KernelModule
from .params import PR_VNET
from .prison import ALIVE, Caller, Prison

CLONERS = ("lo", "epair", "bridge", "tap", "tun", "vlan", "gif", "gre", "lagg", "wg")
HOST_INTERFACES = ("lo0", "em0")


class Iface:
    __slots__ = ("name", "home", "serial", "stack", "peer")

    def __init__(self, name: str, home: Stack, serial: int):
        self.name = name
        self.home = home            # the stack it was created in (if_home_vnet)
        self.serial = serial
        self.stack = home           # the stack holding it now
        self.peer: Iface | None = None   # an epair end's other end

    def __repr__(self) -> str:
        return f"<Iface {self.name} home={self.home.prison.name}>"


class Stack:
    __slots__ = ("prison", "ifaces", "alive", "made")

    def __init__(self, prison: Prison):
        self.prison = prison
        self.ifaces: list[Iface] = []   # attach order (ifconfig -l order)
        self.alive = True
        # the names of the interfaces made here and not destroyed, wherever
        # they are now: a cloner's unit stays taken in its vnet until destroy
        self.made: set[str] = set()

    def find(self, name: str) -> Iface | None:
        for i in self.ifaces:
            if i.name == name:
                return i
        return None

    def taken(self, name: str) -> bool:
        """Whether a new interface here cannot be called ``name``."""
        return name in self.made or self.find(name) is not None


class Vnet(KernelModule):
    """k.vnet: every network stack and the interface calls."""

    name = "vnet"

    def __init__(self, kernel) -> None:
        super().__init__(kernel)
        self._serial = 0
        self.stacks: dict[Prison, Stack] = {}
        # every epair end, wherever it is: what the daemon makes real
        # (host/netif.py) without a walk over every jail's stack
        self.epairs: dict[int, Iface] = {}
        st = self.stacks[kernel.prison0] = Stack(kernel.prison0)
        for name in HOST_INTERFACES:
            self._attach(st, name, st)

    # ------------------------------------------------------------ module hooks
    def create(self, pr: Prison, req) -> None:
        """vnet_alloc: a vnet=new jail gets its own stack with a lo0."""
        if pr.flags & PR_VNET:
            st = self.stacks[pr] = Stack(pr)
            self._attach(st, "lo0", st)

    def freed(self, pr: Prison) -> None:
        if pr in self.stacks:
            self._destroy(self.stacks.pop(pr))

    def _destroy(self, st: Stack) -> None:
        """vnet_destroy: moved-in interfaces return home, the stack's own are destroyed."""
        st.alive = False
        for i in list(st.ifaces):
            if i.home is st or not i.home.alive:
                self._detach(i)
            else:
                self._place(i, i.home)

    def _attach(self, st: Stack, name: str, home: Stack) -> Iface:
        self._serial += 1
        i = Iface(name, home, self._serial)
        i.stack = st
        st.ifaces.append(i)
        home.made.add(name)
        if name.startswith("epair"):
            self.epairs[i.serial] = i
        return i

    def _place(self, i: Iface, dst: Stack) -> None:
        i.stack.ifaces.remove(i)
        dst.ifaces.append(i)
        i.stack = dst

    def _detach(self, i: Iface) -> None:
        i.stack.ifaces.remove(i)
        i.home.made.discard(i.name)
        self.epairs.pop(i.serial, None)

    # ------------------------------------------------------------ reading
    def stack_of(self, pr: Prison) -> Stack:
        while pr not in self.stacks:
            pr = pr.parent
        return self.stacks[pr]

    def interfaces(self, pr: Prison) -> list[str]:
        """The interface names of pr's stack (its own or the one it shares)."""
        return [i.name for i in self.stack_of(pr).ifaces]

    # ------------------------------------------------------------ calls
    def _priv(self, caller: Caller, op: str) -> Stack:
        """Network configuration privileges: root in prison0 or in a jail owning its vnet."""
        if caller.uid != 0 or caller.prison not in self.stacks:
            raise JailError(EPERM, "", op)
        return self.stacks[caller.prison]

    def if_create(self, caller: Caller, name: str) -> list[str]:
        """ifconfig NAME create: a cloned interface in the caller's stack. `epair` (or
        epairN) makes the pair epairNa/epairNb. Returns the new names."""
        st = self._priv(caller, "ifcreate")
        m = re.fullmatch(r"([a-z]+?)(\d*)", name)
        if m is None or m.group(1) not in CLONERS:
            raise JailError(EINVAL, f"{name}: unknown interface type", "ifcreate")
        driver, unit = m.group(1), m.group(2)

        def names(n: int) -> list[str]:
            base = f"{driver}{n}"
            return [base + "a", base + "b"] if driver == "epair" else [base]

        if unit:
            new = names(int(unit))
            if any(st.taken(n) for n in new):
                raise JailError(EEXIST, f"{name}: interface exists", "ifcreate")
        else:
            n = 0
            while any(st.taken(x) for x in names(n)):
                n += 1
            new = names(n)
        made = [self._attach(st, n, st) for n in new]
        if driver == "epair":
            made[0].peer, made[1].peer = made[1], made[0]
        return new

    def if_destroy(self, caller: Caller, ifname: str) -> list[str]:
        """ifconfig IF destroy: a cloned interface of the caller's stack; an
        epair's other end goes too, wherever it is.  Returns the names destroyed."""
        st = self._priv(caller, "ifdestroy")
        i = st.find(ifname)
        if i is None:
            raise JailError(ENXIO, f"interface {ifname} does not exist", "ifdestroy")
        cloned = re.fullmatch(r"([a-z]+?)\d+[ab]?", ifname)
        if ifname == "lo0" or cloned is None or cloned.group(1) not in CLONERS:
            raise JailError(EINVAL, "", "SIOCIFDESTROY")
        gone = sorted((i, i.peer) if i.peer is not None else (i,), key=lambda x: x.name)
        for end in gone:
            self._detach(end)
        return [end.name for end in gone]

    def _target(self, caller: Caller, jail: str | int, op: str) -> Prison:
        """What ifconfig(8) passes to if_vmove_loan/if_vmove_reclaim: jail_getid(3) takes
        a number as the jid as it is (the kernel then accepts a dying jail), and looks a
        name up with jail_get without JAIL_DYING, which refuses a dying jail."""
        word = str(jail)
        if word.isdigit() and word.isascii():
            pr = self.k.by_jid(int(word))
        else:
            pr = self.k.find_name(caller.prison, word)
            if pr is not None and pr.state != ALIVE and pr.is_descendant_of(caller.prison):
                raise JailError(ENOENT, f'jail "{word}" is dying', op)
        if pr is None or not pr.is_descendant_of(caller.prison):
            raise JailError(ENXIO, f"jail {word} not found", op)
        return pr

    def if_vmove(self, caller: Caller, ifname: str, jail: str | int) -> str:
        """ifconfig IF vnet JAIL."""
        st = self._priv(caller, "ifvnet")
        i = st.find(ifname)
        if i is None:
            raise JailError(ENXIO, f"interface {ifname} does not exist", "ifvnet")
        pr = self._target(caller, jail, "ifvnet")
        dst = self.stack_of(pr)
        if dst is st:
            raise JailError(EEXIST, f"jail {pr.name} shares the interface's stack", "ifvnet")
        if dst.find(ifname) is not None:
            raise JailError(EEXIST, f"interface {ifname} exists in jail {pr.name}", "ifvnet")
        self._place(i, dst)
        return i.name

    def if_vreclaim(self, caller: Caller, ifname: str, jail: str | int) -> str:
        """ifconfig IF -vnet JAIL: bring an interface back from a child's stack."""
        st = self._priv(caller, "ifreclaim")
        pr = self._target(caller, jail, "ifreclaim")
        src = self.stack_of(pr)
        if src is st:
            raise JailError(EEXIST, f"jail {pr.name} shares the caller's stack", "ifreclaim")
        i = src.find(ifname)
        if i is None:
            raise JailError(ENXIO, f"interface {ifname} not in jail {pr.name}", "ifreclaim")
        if st.find(ifname) is not None:
            raise JailError(EEXIST, f"interface {ifname} exists", "ifreclaim")
        self._place(i, st)
        return i.name

    def check_invariants(self) -> None:
        seen = set()
        for pr, st in self.stacks.items():
            assert st.alive and st.prison is pr
            assert pr is self.k.prison0 or (pr.flags & PR_VNET and pr.state != "freed"), pr
            for i in st.ifaces:
                assert i.serial not in seen, i
                seen.add(i.serial)
                assert i.home.alive and i.stack is st, i
                assert (i.serial in self.epairs) == i.name.startswith("epair"), i
                assert i.peer is None or (i.peer.peer is i and i.peer.serial in self.epairs), i
        assert seen.issuperset(self.epairs), self.epairs
        made: dict[int, set[str]] = {}
        for st in self.stacks.values():
            for i in st.ifaces:
                made.setdefault(id(i.home), set()).add(i.name)
        for st in self.stacks.values():
            assert st.made == made.get(id(st), set()), (st.prison, st.made)
        for pr in self.k.jids.values():
            if pr.flags & PR_VNET:
                assert pr in self.stacks, pr
