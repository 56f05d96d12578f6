"""The address index behind jail_set's clash check (kern_jail.c's
prison_ip_conflict_check), so that the check costs what the new list costs,
not what the whole tree costs.

FreeBSD walks the jails of the network stack the jail lives in (below the
nearest vnet ancestor, or prison0). A jail that inherits the family is
passed through; a vnet jail, a jail that is not alive (prison_isalive) and
the jail being set are skipped with their subtrees; a jail with its own list
(PR_IP4_USER / PR_IP6_USER) is checked and its subtree is not. Two jails
clash when they share an address unless each holds exactly one.

So a jail is checked when it is alive, has its own list, is no vnet jail and
every jail between it and the stack's owner inherits the family. The flags
and the parent are fixed at creation (ip4, ip6 and vnet are create-only), and
an alive jail has only alive ancestors; so a jail joins the index when it is
created or its own list changes and leaves it when it starts dying. The index
maps (stack owner, address) to the checked jails holding that address, kept
apart by whether they hold one address or more: a one-address list is never
checked against one-address jails.
"""

from __future__ import annotations

from .params import PR_IP4_USER, PR_IP6_USER, PR_VNET
from .prison import ALIVE, Prison

USER_FLAG = {"ip4": PR_IP4_USER, "ip6": PR_IP6_USER}


def stack_owner(pr: Prison) -> Prison:
    """The jail whose network stack pr uses: pr itself with vnet, else its nearest
    vnet ancestor (prison0 has the flag)."""
    while not pr.flags & PR_VNET:
        pr = pr.parent
    return pr


class AddressIndex:
    """Per family: (stack owner serial, address) -> {serial: jail} for the jails
    the clash walk checks; `single` for one-address lists, `multi` for longer ones."""

    def __init__(self) -> None:
        self.single: dict[str, dict] = {"ip4": {}, "ip6": {}}
        self.multi: dict[str, dict] = {"ip4": {}, "ip6": {}}

    @staticmethod
    def _owner_if_checked(pr: Prison, fam: str) -> Prison | None:
        """The stack owner whose walk checks pr, or None when no walk reaches it."""
        user = USER_FLAG[fam]
        if pr.state != ALIVE or pr.flags & PR_VNET or not pr.flags & user:
            return None
        tpr = pr.parent
        while not tpr.flags & PR_VNET:
            if tpr.flags & user:
                return None                  # a walk stops at that ancestor
            tpr = tpr.parent
        return tpr

    def _entries(self, pr: Prison, fam: str):
        """(table, key) for each address of ``pr`` the walk would check."""
        addrs = getattr(pr, fam)
        owner = self._owner_if_checked(pr, fam) if addrs else None
        if owner is None:
            return ()
        table = (self.multi if len(addrs) > 1 else self.single)[fam]
        return ((table, (owner.serial, a)) for a in addrs)

    def add(self, pr: Prison, fam: str) -> None:
        for table, key in self._entries(pr, fam):
            table.setdefault(key, {})[pr.serial] = pr

    def discard(self, pr: Prison, fam: str) -> None:
        for table, key in self._entries(pr, fam):
            holders = table[key]
            del holders[pr.serial]
            if not holders:
                del table[key]

    def clashes(self, ppr: Prison, pr: Prison | None, addrs: tuple, fam: str) -> bool:
        """prison_ip_conflict_check's verdict for giving `addrs` to pr (None: a jail
        being created) under ppr."""
        owner = stack_owner(ppr).serial
        tables = (self.multi[fam],) if len(addrs) == 1 else (self.single[fam], self.multi[fam])
        for a in addrs:
            for table in tables:
                holders = table.get((owner, a))
                if holders:
                    # The walk skips pr's subtree. jail_set only gives addresses to a jail
                    # with its own list, whose subtree the index holds none of, so this
                    # loop stops at the first or second holder.
                    for holder in holders.values():
                        if pr is None or (holder is not pr and not holder.is_descendant_of(pr)):
                            return True
        return False

    @classmethod
    def of(cls, prisons) -> AddressIndex:
        """The index as it should be for these prisons (invariants, old state files)."""
        index = cls()
        for pr in prisons:
            for fam in ("ip4", "ip6"):
                index.add(pr, fam)
        return index

    def tables(self) -> tuple:
        return self.single, self.multi
