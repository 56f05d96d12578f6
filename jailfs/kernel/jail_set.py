"""jail_set(2): kern_jail_set's checks, in its order, then the changes.

Every check runs before the first change, except what FreeBSD itself changes
early: a create allocates its jid (lastprid advances) and renumbers a dying
jail that holds the requested jid before the final checks, so a create refused
after that point leaves both done, as in FreeBSD. Kernel modules check their
parameters at PR_METHOD_CHECK and apply them at PR_METHOD_CREATE/SET
(modules.py). Values arrive as text and are imported as libjail does first.
"""

from __future__ import annotations

import heapq
import ipaddress
from errno import EADDRINUSE, EAGAIN, EEXIST, EINVAL, ENAMETOOLONG, ENOENT, EPERM

from .errors import JailError
from .meta import KV_PARAMS, Meta
from .modules import SetRequest
from .params import (ALLOW_BITS, DEFAULT_HOSTUUID, IGNORED_PARAMS, JAIL_DEFAULT_ALLOW,
                     JAIL_MAX_AF_IPS, MAXHOSTNAMELEN, MAXPATHLEN, PARAMS,
                     PR_ALLOW_DIFFERENCES, PR_HOST, PR_IP4, PR_IP4_SADDRSEL, PR_IP4_USER,
                     PR_IP6, PR_IP6_SADDRSEL, PR_IP6_USER, PR_PERSIST, PR_VNET, SYS_DISABLE,
                     SYS_INHERIT, SYS_NEW, c_int, c_size, c_string, resolve_name, strtol)
from .prison import ALIVE, Caller, Prison, Proc

JAIL_CREATE, JAIL_UPDATE, JAIL_ATTACH, JAIL_DYING = 0x1, 0x2, 0x4, 0x8
JAIL_SET_MASK = 0xF

# Addresses jail_set refuses (INADDR_ANY, INADDR_BROADCAST, the unspecified IPv6 address).
_BAD_ADDRS = (("ip4", "ip4.addr", frozenset({ipaddress.IPv4Address("0.0.0.0"),
                                             ipaddress.IPv4Address("255.255.255.255")})),
              ("ip6", "ip6.addr", frozenset({ipaddress.IPv6Address("::")})))
# (family, its address parameter, ...): the keys spelled once, not joined on every call
_FAM_USER = (("ip4", "ip4.addr", PR_IP4_USER), ("ip6", "ip6.addr", PR_IP6_USER))
_FAM_RESTRICTED = (("ip4", "ip4.addr", PR_IP4, "IPv4"), ("ip6", "ip6.addr", PR_IP6, "IPv6"))
_FAM_FLAGS = (("ip4", "ip4.addr", PR_IP4_USER, PR_IP4), ("ip6", "ip6.addr", PR_IP6_USER, PR_IP6))
_HOST_FIELDS = tuple((f, "host." + f) for f in ("hostname", "domainname", "hostuuid", "hostid"))


def equalopts(opt1: str, opt2: str) -> bool:
    """vfs_equalopts: the same option, or one the `no` form of the other, at any
    dotted level (`persist`/`nopersist`, `meta.foo`/`meta.nofoo`)."""
    while True:
        if opt1 == opt2 or opt1 == "no" + opt2 or opt2 == "no" + opt1:
            return True
        dot = opt1.find(".")
        if dot < 0 or opt1[:dot + 1] != opt2[:dot + 1]:
            return False
        opt1, opt2 = opt1[dot + 1:], opt2[dot + 1:]


def sanitize(names: list[str]) -> list[int]:
    """vfs_sanitizeopts: the indexes that survive when a later equal option drops an earlier."""
    if len(set(names)) == len(names) and not any(
            name.startswith("no") or ".no" in name for name in names):
        return list(range(len(names)))     # no two equal: only a "no" component could pair them
    keep = []
    for i, name in enumerate(names):
        if not any(equalopts(name, later) for later in names[i + 1:]):
            keep.append(i)
    return keep


# What an update of one parameter can change, as _apply does it: (values of
# the jail, values of its descendants).  A parameter not here may change more
# (names, addresses, modules' values, SysV modes): update_reach says None.
_HOST_REACH = {f"host.{f}": (frozenset({f"host.{f}", "host"}), frozenset({f"host.{f}"}))
               for f in ("hostname", "domainname", "hostuuid", "hostid")}
_INHERITED = {p: (frozenset({p}), frozenset({p}))
              for p in ("securelevel", "children.max", "enforce_statfs", "devfs_ruleset")}
_ALLOW_REACH = {f"allow.{a}": (frozenset({f"allow.{a}"}), frozenset({f"allow.{a}"}))
                for a in ALLOW_BITS if a != "sysvipc"}     # sysvipc: the SysV modes follow
UPDATE_REACH = {**_HOST_REACH, **_INHERITED, **_ALLOW_REACH,
                "persist": (frozenset({"persist"}), frozenset())}


def update_reach(names) -> tuple[frozenset, frozenset] | None:
    """Which parameters' values a JAIL_UPDATE setting ``names`` (as given:
    `nopersist` too; not the jid naming the jail) can change on the jail and on
    its descendants; None when it may change others.  A refused update changes
    nothing; a jail left without persist may die (events of its own follow)."""
    own: set[str] = set()
    below: set[str] = set()
    for name in names:
        row, _ = resolve_name(name)
        reach = UPDATE_REACH.get(row.name) if row is not None else None
        if reach is None:
            return None
        own |= reach[0]
        below |= reach[1]
    return frozenset(own), frozenset(below)


def numeric_name(text: str) -> int | None:
    """strtoul(text, &p, 10) with *p == '\0': the number a name spells, else None."""
    value, used = strtol(text, unsigned=True)
    return value if used == len(text) and used else None


class JailSet:
    """jail_set for the Kernel (a mixin)."""

    def jail_set(self, caller: Caller, params, flags: int, proc: Proc | None = None) -> int:
        try:
            return self._jail_set(caller, list(params), flags, proc)
        except JailError as err:
            err.op = "jail_set"
            raise self._refuse(err)

    # ------------------------------------------------------------- libjail
    @staticmethod
    def _import(params) -> tuple[dict, list, bool, list[str]]:
        """jailparam_import of every value (its errors come first), then the kernel's
        vfs_sanitizeopts: (opts, meta/env edits, desc given, names as given)."""
        parsed = []
        for name, text in params:
            if name in IGNORED_PARAMS or name == "desc":
                parsed.append((name, None, text, False))
                continue
            which, dot, _ = name.partition(".")
            if dot and which in KV_PARAMS:
                parsed.append((name, None, None if text is None else c_string(text), False))
                continue
            row, negated = resolve_name(name)
            if row is None:
                raise JailError(ENOENT, f"unknown parameter: {name}")   # libjail
            parsed.append((name, row, row.parse(text, negated), negated))
        names = [p[0] for p in parsed]
        opts: dict = {}
        kv_params = []
        desc_given = False
        for i in sanitize(names):
            name, row, value, _ = parsed[i]
            if name == "desc":
                desc_given = True
            elif row is not None:
                opts.pop(row.name, None)
                opts[row.name] = value
                if row.name in KV_PARAMS:
                    kv_params.append((row.name, value))
            elif name.partition(".")[0] in KV_PARAMS:
                kv_params.append((name, value))
        return opts, Meta.edits(kv_params), desc_given, names

    def _value_checks(self, opts: dict, names, update: bool) -> None:
        """What the table says of each given value: a create-only one refused with
        JAIL_UPDATE (`jid` is the key, not a value), a string over its size limit."""
        for name in names:
            if name not in opts:
                continue
            row = PARAMS[name]
            if row.createonly and update and name != "jid":
                raise JailError(EINVAL, f"{name} cannot be changed after creation")
            if row.kind == "string":
                row.check_size(opts[name])

    # ------------------------------------------------------------- kern_jail_set
    def _jail_set(self, caller: Caller, params, flags: int, proc: Proc | None) -> int:
        mypr = caller.prison
        opts, kv_edits, desc_given, given = self._import(params)
        create, update, attach = flags & JAIL_CREATE, flags & JAIL_UPDATE, flags & JAIL_ATTACH
        cuflags = flags & (JAIL_CREATE | JAIL_UPDATE)

        # --- the kernel's checks, in kern_jail.c's order (spec 2.2)
        if create and mypr.childmax == 0:                                  # 1
            raise JailError(EPERM)
        if flags & ~JAIL_SET_MASK:                                         # 2
            raise JailError(EINVAL)
        if not cuflags:                                                    # 4
            raise JailError(EINVAL, "no valid operation (create or update)")
        if desc_given:                                                     # 5
            raise JailError(EINVAL, "unexpected desc")
        self._check_priv(caller)                                           # 6
        if attach and proc is None:
            raise JailError(EINVAL, "attach needs a process")
        if "enforce_statfs" in opts and not 0 <= opts["enforce_statfs"] <= 2:  # 7
            raise JailError(EINVAL)
        for sysname in ("host", "vnet", "ip4", "ip6"):                     # 8
            if sysname in opts and opts[sysname] not in (SYS_DISABLE, SYS_NEW, SYS_INHERIT):
                raise JailError(EINVAL)
        if opts.get("host") == SYS_DISABLE or opts.get("vnet") == SYS_DISABLE:
            raise JailError(EINVAL)
        if (flags & (JAIL_CREATE | JAIL_ATTACH)) == JAIL_CREATE \
                and not opts.get("persist"):                               # 9
            raise JailError(EINVAL, "new jail must persist or attach")
        self._value_checks(opts, ("vnet", "ip4", "ip6"), update)          # 10
        name = opts.get("name")                                            # 12
        if name is not None and "/" in name:
            raise JailError(EINVAL, "name cannot contain \"/\"")    # jailfs: a name is a path
        self._value_checks(opts, ("name", "host.hostname", "host.domainname",  # 13
                                  "host.hostuuid"), update)
        for fam, key, bad in _BAD_ADDRS:                                   # 14
            addrs = opts.get(key)
            if addrs is None:
                continue
            if len(addrs) > JAIL_MAX_AF_IPS:
                raise JailError(EINVAL, f"too many IPv{fam[2]} addresses")
            if any(a in bad for a in addrs) or len(set(addrs)) != len(addrs):
                raise JailError(EINVAL)
            opts[key] = addrs[:1] + tuple(sorted(addrs[1:]))
        ip4_mentioned = "ip4" in opts or "ip4.addr" in opts
        ip6_mentioned = "ip6" in opts or "ip6.addr" in opts
        if "vnet" in opts and (ip4_mentioned or ip6_mentioned):            # 15
            raise JailError(EINVAL, "vnet jails cannot have IP address restrictions")
        self._value_checks(opts, ("osrelease", "osreldate"), update)      # 16
        if opts.get("osreldate", 1) == 0:
            raise JailError(EINVAL, "osreldate cannot be 0")
        path = None
        self._value_checks(opts, ("path",), update)                        # 17
        if "path" in opts:
            if opts["path"] == "":
                raise JailError(EINVAL)
            path = self.resolve_path(mypr.path, opts["path"])
            if c_size(path) + 1 > MAXPATHLEN:
                raise JailError(ENAMETOOLONG)
        jid = opts.get("jid", 0)
        if cuflags == JAIL_CREATE and jid == 0 and name is not None:       # 18
            jid = c_int(numeric_name(name.rpartition(".")[2]) or 0, 32, True)
        if mypr.state != ALIVE:                                            # 19
            raise JailError(EAGAIN)

        pr: Prison | None = None                                           # 20
        deadpr: Prison | None = None
        ppr = mypr
        if jid != 0:
            if jid < 0:
                raise JailError(EINVAL, "negative jid")
            held = self.jids.get(jid)
            if held is not None and held.state == ALIVE:
                if cuflags == JAIL_CREATE:
                    raise JailError(EEXIST, f"jail {jid} already exists")
                if not held.is_descendant_of(mypr):
                    raise JailError(ENOENT, f"jail {jid} not found")
                pr, ppr = held, held.parent
            else:
                deadpr = held
                if cuflags == JAIL_UPDATE:
                    raise JailError(ENOENT, f"jail {jid} not found")
        short = None                                                       # 21
        if name is not None:
            prefix, dot, short = name.rpartition(".")
            if dot:
                if pr is not None:
                    if prefix != ppr.name or ppr is self.prison0:
                        raise JailError(EINVAL, "cannot change jail's parent")
                else:
                    ppr = self.find_name(mypr, prefix)
                    if ppr is None:
                        raise JailError(ENOENT, f'jail "{prefix}" not found')
                    if ppr.state != ALIVE:
                        raise JailError(ENOENT, f'jail "{prefix}" is dying')
            if short:
                sibling = ppr.alive_names.get(short) if ppr.alive_names else None
                if sibling is not None and sibling is not pr:
                    if cuflags == JAIL_CREATE or pr is not None:
                        raise JailError(EEXIST, f'jail "{name}" already exists')
                    pr = sibling
                if pr is None and cuflags == JAIL_UPDATE:
                    raise JailError(ENOENT, f'jail "{name}" not found')
        elif cuflags == JAIL_UPDATE and pr is None:                        # 22
            raise JailError(ENOENT, "update specified no jail")

        created = pr is None
        if created:                                                        # 23
            tpr = mypr
            while tpr is not None:
                if tpr.childcount >= tpr.childmax:
                    raise JailError(EPERM, "prison limit exceeded")
                tpr = tpr.parent
            if deadpr is not None:                                         # 24: done now, kept
                self._renumber(deadpr, self._next_deadid())                # even if a check fails
            if jid == 0:                                                   # 25
                jid = self._next_prid()
            target_flags = self._new_jail_flags(opts, ppr)
        else:
            if pr.flags & PR_VNET and pr is not self.prison0 and (ip4_mentioned or ip6_mentioned):  # 27
                raise JailError(EINVAL, "vnet jails cannot have IP address restrictions")
            for fam, key, user in _FAM_USER:
                if key in opts and not pr.flags & user:
                    raise JailError(EINVAL, f"{fam} cannot be changed after creation")
            target_flags = pr.flags

        if "securelevel" in opts and opts["securelevel"] < ppr.securelevel:   # 28
            raise JailError(EPERM)
        if "children.max" in opts and opts["children.max"] >= ppr.childmax:
            raise JailError(EPERM)
        if "enforce_statfs" in opts and opts["enforce_statfs"] < ppr.enforce_statfs:
            raise JailError(EPERM)
        if "devfs_ruleset" in opts:
            rsnum = opts["devfs_ruleset"]
            if not 0 <= rsnum <= 65535:
                raise JailError(EINVAL)
            if mypr is not self.prison0:
                if rsnum > 0 and rsnum != ppr.devfs_ruleset:
                    raise JailError(EPERM)
                opts["devfs_ruleset"] = ppr.devfs_ruleset
        for fam, key, restricted, label in _FAM_RESTRICTED:                # 29
            addrs = opts.get(key)
            if addrs:
                if ppr.flags & restricted:
                    self._check_ip_subset(addrs, ppr, fam)
                self._check_ip_clash(addrs, ppr, pr, fam, label)
        if short is not None:                                              # 30
            if short == "":
                short = str(jid)
            else:
                number = numeric_name(short)
                if number is not None and (number != jid or not "1" <= short[0] <= "9"):
                    raise JailError(EINVAL, "name cannot be numeric (unless it is the jid)")
            pnamelen = 0 if ppr is self.prison0 else c_size(ppr.name) + 1
            if pnamelen + c_size(short) + 1 > MAXHOSTNAMELEN:
                raise JailError(ENAMETOOLONG)
            if not created:
                grow = c_size(short) - c_size(pr.short)
                if any(c_size(d.name) + grow >= MAXHOSTNAMELEN for d in pr.descendants()):
                    raise JailError(ENAMETOOLONG)
        allow_set, allow_clear = 0, 0
        for pname, value in opts.items():                                  # 11
            if pname.startswith("allow."):
                bit = ALLOW_BITS[pname[6:]]
                if value:
                    allow_set |= bit
                else:
                    allow_clear |= bit
        if allow_set & ~ppr.allow & ~PR_ALLOW_DIFFERENCES:                 # 31
            raise JailError(EPERM)
        req = SetRequest(caller, flags, opts, given)                       # 32: PR_METHOD_CHECK
        req.created, req.pr, req.ppr = created, pr, ppr
        req.data["kv_edits"] = kv_edits
        for names, check in self._check_steps:
            if not opts.keys().isdisjoint(names):
                self._value_checks(opts, names, update)
            if check is not None:
                check(req)
        for pname in opts:                                                 # 33
            if PARAMS[pname].readonly and pname != "jid":
                raise JailError(EINVAL, f"unknown parameter: {pname}")

        # --- every check passed: apply (step 34 onwards). Nothing below raises.
        if created:
            pr = self._link_new(jid, short if short is not None else str(jid), ppr,
                                target_flags, path or "/", opts)
            req.pr = pr
        drop_persist = self._apply(pr, opts, created, allow_set, allow_clear, short)
        if created:
            for create in self._create_hooks:
                create(pr, req)
        for set_values in self._set_hooks:
            set_values(pr, req)
        if created:
            self.emit("created", pr)
        else:
            self.emit("updated", pr, params=[n for n, _ in params])
        if drop_persist:                   # after "updated": it may kill and free the jail
            self._deref(pr, 1, 1)
        if attach:
            self._attach(proc, pr)
        self._settle(pr)
        return pr.jid

    # --------------------------------------------------------------- helpers of jail_set
    def _new_jail_flags(self, opts: dict, ppr: Prison) -> int:
        flags = PR_HOST | PR_IP4_SADDRSEL | PR_IP6_SADDRSEL
        if opts.get("vnet") == SYS_NEW:
            return flags | PR_VNET
        for fam, key, user, restricted in _FAM_FLAGS:
            if fam not in opts and key not in opts:
                flags |= user | restricted        # a new jail has no address of this family
            elif opts.get(fam) == SYS_INHERIT and key not in opts:
                flags |= ppr.flags & restricted
        return flags

    def _check_ip_subset(self, addrs: tuple, ppr: Prison, fam: str) -> None:
        parent = getattr(ppr, fam) or ()
        if not parent or addrs[0] not in parent:
            raise JailError(EPERM)
        allowed = set(parent)
        if any(a not in allowed for a in addrs[1:]):
            raise JailError(EPERM)

    def _check_ip_clash(self, addrs: tuple, ppr: Prison, pr: Prison | None, fam: str, label: str) -> None:
        """prison_ip_conflict_check, answered by the address index (addrindex.py)."""
        if self.addr_index.clashes(ppr, pr, addrs, fam):
            raise JailError(EADDRINUSE, f"{label} addresses clash")

    def _set_addrs(self, pr: Prison, fam: str, addrs: tuple | None, flags: int = 0) -> None:
        """Every change of a jail's address list (and of the flags that decide whether
        the clash walk checks it) goes through here, so the index follows."""
        self.addr_index.discard(pr, fam)
        pr.flags |= flags
        setattr(pr, fam, addrs)
        self.addr_index.add(pr, fam)

    def _link_new(self, jid: int, short: str, ppr: Prison, flags: int, path: str, opts: dict) -> Prison:
        pr = Prison(next(self._serials), jid, short, ppr)
        self._index(pr)
        if ppr.children is None:
            ppr.children = {}
        ppr.children[pr.serial] = pr
        if ppr.alive_names is None:
            ppr.alive_names = {}
        ppr.alive_names[short] = pr
        tpr = ppr
        while tpr is not None:
            tpr.childcount += 1
            tpr = tpr.parent
        ppr.ref += 1
        ppr.uref += 1
        pr.flags = flags
        pr.path = path
        pr.hostname, pr.domainname, pr.hostuuid, pr.hostid = "", "", DEFAULT_HOSTUUID, 0
        if not flags & PR_IP4_USER and flags & PR_IP4:
            self._set_addrs(pr, "ip4", ppr.ip4)
        if not flags & PR_IP6_USER and flags & PR_IP6:
            self._set_addrs(pr, "ip6", ppr.ip6)
        pr.securelevel = ppr.securelevel
        pr.allow = JAIL_DEFAULT_ALLOW & ppr.allow
        pr.enforce_statfs = 2
        pr.devfs_ruleset = ppr.devfs_ruleset
        pr.childmax = 0
        pr.osreldate = opts.get("osreldate") or ppr.osreldate
        pr.osrelease = opts["osrelease"] if "osrelease" in opts else ppr.osrelease
        pr.sysv = 0
        if self._cpuset_free:
            pr.cpuset_id = heapq.heappop(self._cpuset_free)
        else:
            pr.cpuset_id, self._cpuset_next = self._cpuset_next, self._cpuset_next + 1
        return pr

    def _apply(self, pr: Prison, opts: dict, created: bool, allow_set: int, allow_clear: int,
               short: str | None) -> bool:
        """Set everything; True when persist was cleared (the caller drops its references)."""
        for fam, key, user, restricted in _FAM_FLAGS:
            if opts.get(fam) in (SYS_NEW, SYS_DISABLE) or key in opts:
                self._set_addrs(pr, fam, opts.get(key) or None, user | restricted)
                self._restrict_children(pr, fam, user, restricted)
        if "securelevel" in opts:
            level = pr.securelevel = opts["securelevel"]
            for d in pr.descendants():
                d.securelevel = max(d.securelevel, level)
        if "children.max" in opts:
            cmax = pr.childmax = opts["children.max"]
            for d in pr.descendants():
                level = d.depth_below(pr)
                if d.childmax > cmax - level:
                    d.childmax = max(cmax - level, 0)
        if "enforce_statfs" in opts:
            enforce = pr.enforce_statfs = opts["enforce_statfs"]
            for d in pr.descendants():
                d.enforce_statfs = max(d.enforce_statfs, enforce)
        if "devfs_ruleset" in opts:
            pr.devfs_ruleset = opts["devfs_ruleset"]
            for d in pr.descendants():
                d.devfs_ruleset = pr.devfs_ruleset
        if short is not None and not created and short != pr.short:
            names = pr.parent.alive_names
            del names[pr.short]
            pr.short = short
            names[short] = pr
        host_given = [f for f, key in _HOST_FIELDS if key in opts]
        if opts.get("host") == SYS_INHERIT and not host_given:
            pr.flags &= ~PR_HOST
            for field in ("hostname", "domainname", "hostuuid", "hostid"):
                setattr(pr, field, getattr(pr.parent, field))
        elif host_given:
            pr.flags |= PR_HOST
            for field in host_given:
                setattr(pr, field, opts["host." + field])
            self._propagate_host(pr, host_given)
        elif opts.get("host") == SYS_NEW:
            pr.flags |= PR_HOST
        for bitname, flag in (("ip4.saddrsel", PR_IP4_SADDRSEL), ("ip6.saddrsel", PR_IP6_SADDRSEL)):
            if bitname in opts:
                pr.flags = pr.flags | flag if opts[bitname] else pr.flags & ~flag
        cleared = allow_clear & ~allow_set
        if cleared:
            for d in pr.descendants():
                d.allow &= ~cleared
        pr.allow = (pr.allow & ~(allow_set | allow_clear)) | allow_set
        if "persist" in opts:
            want = bool(opts["persist"])
            has = bool(pr.flags & PR_PERSIST)
            if want and not has:
                pr.flags |= PR_PERSIST
                pr.ref += 1
                pr.uref += 1
            elif has and not want:
                pr.flags &= ~PR_PERSIST
                return True
        return False

    def _restrict_children(self, pr: Prison, fam: str, user: int, restricted: int) -> None:
        """prison_restrict_ip*: descendants follow a changed address list."""
        stack = list(pr.newest_first())
        while stack:
            tpr = stack.pop()
            if tpr.flags & PR_VNET:
                continue
            parent_addrs = getattr(tpr.parent, fam)
            if not tpr.flags & user:
                self._set_addrs(tpr, fam, parent_addrs, tpr.parent.flags & restricted)
            else:
                mine = getattr(tpr, fam) or ()
                kept = tuple(a for a in mine if parent_addrs and a in parent_addrs)
                self._set_addrs(tpr, fam, kept or None)
            stack.extend(tpr.newest_first())

    def _propagate_host(self, pr: Prison, fields: list[str]) -> None:
        if not pr.children:
            return
        stack = list(pr.newest_first())
        while stack:
            tpr = stack.pop()
            if tpr.flags & PR_HOST:
                continue
            for field in fields:
                setattr(tpr, field, getattr(pr, field))
            stack.extend(tpr.newest_first())

