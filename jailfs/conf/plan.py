"""What ``jailfs mount --conf FILE`` creates, without creating it.

conf knows nothing of the kernel: :func:`plan_file` turns a jail.conf into
:class:`Creation` records in dependency order, each with the parameter list
for one ``jail_set(JAIL_CREATE)`` from the host as root; the daemon applies
them and tells each record how it went::

    plan = plan_file("/etc/jail.conf", progress)
    for c in plan.creations():
        try:
            c.created(kernel.jail_set(host, c.params, JAIL_CREATE))
        except JailError as e:
            c.refused(str(e))
    plan.errors      # ["jail: web: ...", "jail: web.db: skipped"]

As a FreeBSD host's boot-time ``jail -c`` would, each jail gets its kernel
parameters and ``persist`` (nothing runs in it to keep it alive).  jail(8)'s
own parameters are not acted on: no exec.* command or ``command`` runs,
nothing is mounted and no interface address is added (``jail -c`` through
the mount does those).  A jail whose creation fails is reported in jail(8)'s
words and the jails that depend on it are skipped; the others still go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .progress import ProgressFn
from .config import CfJail, check_bool_int, PROGRESS_EVERY
from .depend import Dependencies


@dataclass
class Creation:
    """One jail to create: ``params`` for jail_set(JAIL_CREATE)."""
    name: str
    params: list[tuple[str, str | None]]
    jid: int | None = None
    error: str | None = None

    def created(self, jid: int) -> None:
        self.jid = jid

    def refused(self, message: str) -> None:
        self.error = message


@dataclass
class Plan:
    """The creations of a file in start order, and what went wrong."""
    jails: list[CfJail]
    deps: Dependencies
    errors: list[str]                       # "jail: NAME: message"
    progress: ProgressFn | None = None
    created: list[tuple[str, int]] = field(default_factory=list)

    def creations(self):
        """Yield each jail that can be created now; the caller reports the
        outcome with ``created(jid)`` or ``refused(message)`` before asking
        for the next.  Jails whose dependencies failed are skipped."""
        failed: set[str] = set()
        total = len(self.jails)
        for done, j in enumerate(self.jails):
            if self.progress is not None and done % PROGRESS_EVERY == 0:
                self.progress("creating", done, total)
            if j.failed or any(d.name in failed for d, _ in self.deps.deps_of(j)):
                if not j.failed:
                    self.errors.append(f"jail: {j.name}: skipped")
                failed.add(j.name)
                continue
            sink: list[str] = []
            if not check_bool_int(j, sink):
                self.errors.extend("jail: " + w for w in sink)
                failed.add(j.name)
                continue
            c = Creation(j.name, creation_params(j))
            yield c
            if c.jid is not None:
                self.created.append((c.name, c.jid))
            else:
                assert c.error is not None, "creation neither created nor refused"
                self.errors.append(f"jail: {c.name}: {c.error}")
                failed.add(j.name)
        if self.progress is not None:
            self.progress("creating", total, total)


def plan_file(path: str, progress: ProgressFn | None = None) -> Plan:
    """Load ``path`` and order its jails for creation.  ``progress(stage,
    done, total)`` hears about parsing (bytes), merging and creating (jails).
    Raises :class:`~jailfs.conf.ConfError` when the file cannot be parsed."""
    from .load import load_config   # the lexer and parser: not for strip_ip_decorations's users
    conf = load_config(path, progress)
    errors = ["jail: " + w for w in conf.warnings]
    sink: list[str] = []
    deps = Dependencies(conf.jails, sink)
    errors.extend("jail: " + w for w in sink)
    return Plan(deps.start_order, deps, errors, progress)


def creation_params(j: CfJail) -> list[tuple[str, str | None]]:
    """The jail's kernel parameters with ``persist`` added, its ip4.addr /
    ip6.addr values stripped of jail.conf's decorations."""
    return strip_ip_decorations(j.kernel_params()) + [("persist", None)]


def strip_ip_decorations(params: list[tuple[str, str | None]]
                         ) -> list[tuple[str, str | None]]:
    """Drop the ``iface|`` prefix, ``/mask`` suffix and trailing ifconfig
    options jail.conf allows on ip4.addr / ip6.addr values."""
    out = []
    for name, value in params:
        if name in ("ip4.addr", "ip6.addr") and value:
            vals = []
            for v in value.split(","):
                if "|" in v:
                    v = v.split("|", 1)[1]
                v = v.split("/", 1)[0].split(" ", 1)[0]
                vals.append(v)
            value = ",".join(vals)
        out.append((name, value))
    return out
