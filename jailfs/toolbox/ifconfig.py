"""ifconfig(8) for what jails need: clone, destroy, move between vnets, list.

    ifconfig [-a] | -l | IF | IF create | IF destroy | IF vnet JAIL | IF -vnet JAIL

The caller's network stack is the one its jail owns (vnet=new) or shares;
inside a vnet jail ifconfig shows that jail's interfaces.  Interfaces are
the kernel's (`.ctl ifconfig/ifcreate/ifdestroy/ifvnet/ifreclaim`): names
and where they live are modelled, addresses and link state are not, so
``up``, ``down``, ``inet ...`` and the like are accepted on an existing
interface and change nothing.  Messages follow sbin/ifconfig: ``interface
X does not exist``, ``SIOCIFCREATE2 (X): File exists``, ``SIOCSIFVNET: ...``.
"""

from __future__ import annotations

import re

from jailfs.toolbox.common import Failed, Usage, must, request, run, strerror

PROG = "ifconfig"
USAGE = """\
usage: ifconfig [-j jail] [-f type:format] [-L] [-C] [-g groupname] interface address_family
                [address [dest_address]] [parameters]
       ifconfig [-j jail] interface create
       ifconfig [-j jail] -a [-L] [-C] [-g groupname] [-d] [-m] [-u] [-v] [address_family]
       ifconfig [-j jail] -l [-d] [-u] [address_family]
       ifconfig [-j jail] [-L] [-C] [-g groupname] [-d] [-m] [-u] [-v]"""
# Settings of an existing interface that are accepted and not modelled.
_UNMODELLED = {"up", "down", "inet", "inet6", "alias", "-alias", "netmask", "mtu", "description",
               "descr", "-description", "promisc", "-promisc", "addm", "deletem", "ether", "lladdr",
               "link", "broadcast", "name"}


def _flags(ifname: str) -> str:
    """The header line of one interface: what a fresh one of its kind shows."""
    driver = re.sub(r"\d+[ab]?$", "", ifname)
    if ifname == "lo0":
        return "flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> metric 0 mtu 16384"
    if driver == "lo":
        return "flags=8008<LOOPBACK,MULTICAST> metric 0 mtu 16384"
    if ifname == "em0":
        return "flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 0 mtu 1500"
    return "flags=8802<BROADCAST,SIMPLEX,MULTICAST> metric 0 mtu 1500"


def _describe(ifname: str) -> str:
    driver = re.sub(r"\d+[ab]?$", "", ifname)
    groups = "" if ifname == "em0" else f"\n\tgroups: {driver}"
    return f"{ifname}: {_flags(ifname)}{groups}"


def _interfaces() -> list[str]:
    return must("ifconfig", ".").extra


def _jail(word: str) -> str:
    """jail_getid: a jid or a name as the caller sees it, libjail's message otherwise."""
    if word.isdigit():
        return word
    answer = request("get", word, "jid")
    if not answer.ok:
        raise Failed(answer.value)
    return answer.value


def _ioctl(what: str, *words: str) -> str:
    answer = request(*words)
    if not answer.ok:
        raise Failed(f"{what}: {strerror(answer.errname)}")
    return answer.value


def ifconfig(argv: list[str]) -> int:
    if argv in ([], ["-a"]):
        for ifname in _interfaces():
            print(_describe(ifname))
        return 0
    if argv == ["-l"]:
        print(" ".join(_interfaces()))
        return 0
    if argv[0].startswith("-"):
        raise Usage()
    ifname, rest = argv[0], argv[1:]
    if rest[:1] in (["create"], ["plumb"]):
        made = _ioctl(f"SIOCIFCREATE2 ({ifname})", "ifcreate", ifname).split()
        if made and made[0] != ifname:
            print(made[0])                  # the name the kernel chose, as ifclone.c prints it
        return 0
    if rest[:1] == ["-vnet"] and len(rest) == 2:
        _ioctl("SIOCSIFRVNET", "ifreclaim", ifname, _jail(rest[1]))
        return 0
    if ifname not in _interfaces():
        raise Failed(f"interface {ifname} does not exist")
    if not rest:
        print(_describe(ifname))
        return 0
    if rest in (["destroy"], ["unplumb"]):
        _ioctl("SIOCIFDESTROY", "ifdestroy", ifname)
        return 0
    if rest[0] == "vnet" and len(rest) == 2:
        _ioctl("SIOCSIFVNET", "ifvnet", ifname, _jail(rest[1]))
        return 0
    if rest[0] in _UNMODELLED:
        return 0
    raise Failed(f"{rest[0]}: bad value")


def main(argv: list[str] | None = None) -> int:
    return run(PROG, ifconfig, argv, USAGE)
