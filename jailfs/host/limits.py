"""rctl rules on jails as Linux limits, and Linux counters as rctl usage.

FreeBSD's racct counts a jail's resources hierarchically and rctl's ``deny``
rules refuse the allocation that would go over.  Here a ``jail:NAME:RES:deny=N``
rule becomes a limit on the jail's cgroup directory (``.../j<serial>``), which
covers its processes and its child jails' as racct does:

=============  =====================================================
rctl resource  Linux mechanism
=============  =====================================================
maxproc        pids.max (fork/clone fails with EAGAIN)
memoryuse      memory.max (v2) / memory.limit_in_bytes (v1): reclaim,
               then the OOM killer inside the jail
vmemoryuse     memory+swap: memory.swap.max = N - memory limit (v2) /
               memory.memsw.limit_in_bytes (v1), where swap accounting exists
pcpu           CPU bandwidth: cpu.max (v2) / cpu.cfs_quota_us (v1), N% of one CPU
openfiles      RLIMIT_NOFILE of each of the jail's processes (per process,
               where FreeBSD counts the jail's total)
=============  =====================================================

Only ``deny`` rules with subject ``jail`` (per jail) become limits, and
``process:PID:openfiles:deny=N`` on a real process's stand-in (its
RLIMIT_NOFILE); the other actions and subjects stay the kernel model's
(limitwatch.py reports what the limits refuse).  Usage (``rctl -u``) of real
processes comes from the same cgroup counters through the kernel's
``rctl.usage_provider``.
"""

from __future__ import annotations

import logging
import os
import time

import psutil


log = logging.getLogger("jailfs.limits")

ENFORCED = ("maxproc", "memoryuse", "vmemoryuse", "pcpu", "openfiles")
CPU_PERIOD_US = 100_000


def _write(path: str, value: str) -> bool:
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError as e:
        log.warning("limits: %s <- %s: %s", path, value, e.strerror)
        return False


def read_number(path: str, key: str | None = None) -> int | None:
    """The number a cgroup file holds: its first word, or (``key``) the
    number on its ``KEY N`` line; None when unreadable or absent."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    try:
        if key is None:
            return int(text.split()[0])
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (ValueError, IndexError):
        pass
    return None


def memory_limit(mem: int | None, vmem: int | None) -> tuple[int | None, str | None]:
    """The memory cgroup's limit for a memoryuse rule of ``mem`` and a
    vmemoryuse rule of ``vmem`` (None: no such rule), and which of the two
    it stands for: the smaller (memory alone can never exceed memory+swap)."""
    if vmem is not None and (mem is None or vmem < mem):
        return vmem, "vmemoryuse"
    return (mem, "memoryuse") if mem is not None else (None, None)


class Limits:
    """The rule set of a kernel applied to a CgroupTree's jails."""

    def __init__(self, kernel, tree, real_pids):
        self.k = kernel
        self.tree = tree
        self.real_pids = real_pids      # prison -> pids of it and its descendants
        self._applied: dict[int, dict[str, int | None]] = {}   # serial -> resource -> amount
        self._nofile: dict[int, tuple[int, int]] = {}           # pid -> rlimit before ours
        self._cpu: dict[int, tuple[float, int]] = {}            # serial -> (time, usage_usec)
        self._proc_nofile: dict[int, int] = {}                  # real pid -> process rule's

    # ..................................................... rules -> limits
    def wanted(self, prison) -> dict[str, int]:
        """resource -> the smallest deny amount of the rules naming this jail."""
        out: dict[str, int] = {}
        if prison.parent is None:
            return out
        for r in self.k.rctl.rules_of_jail(prison):
            if r.action != "deny" or (r.per or "jail") != "jail" or r.resource not in ENFORCED:
                continue
            out[r.resource] = min(r.amount, out.get(r.resource, r.amount))
        return out

    def apply(self, prisons) -> None:
        """Bring the limits of ``prisons`` (those with cgroups) to the rules."""
        for pr in prisons:
            if not self.tree.has(pr):
                continue
            want = self.wanted(pr)
            had = self._applied.get(pr.serial, {})
            if want == had:
                continue
            self._set_cgroup_limits(pr, want)
            if want:
                self._applied[pr.serial] = want
            else:
                self._applied.pop(pr.serial, None)
            if want.get("openfiles") != had.get("openfiles"):
                self._set_nofile(pr)
            log.info("limits: jail %s: %s", pr.name,
                     ", ".join(f"{k}={v}" for k, v in sorted(want.items())) or "none")
        self._apply_process_rules()

    def _apply_process_rules(self) -> None:
        """``process:PID:openfiles:deny=N`` on the stand-in of a real process
        (PID as .refs shows it): that process's RLIMIT_NOFILE, as a jail's."""
        want: dict[int, tuple[int, object]] = {}       # real pid -> (amount, prison)
        for r in self.k.rctl.process_rules():
            proc = self.k.procs.get(int(r.sid))
            if (r.resource != "openfiles" or r.action != "deny"
                    or (r.per or "process") != "process" or proc is None
                    or proc.real_pid is None or proc.state != "running"):
                continue
            had = want.get(proc.real_pid, (r.amount, None))[0]
            want[proc.real_pid] = (min(had, r.amount), proc.prison)
        before = self._proc_nofile
        self._proc_nofile = {pid: amount for pid, (amount, _pr) in want.items()}
        for pid in set(before) | set(want):
            if before.get(pid) != self._proc_nofile.get(pid):
                prison = want[pid][1] if pid in want else self._prison_of(pid)
                if prison is not None:
                    self.started(pid, prison)

    def _prison_of(self, real_pid: int):
        proc = self.k.real_procs.get(real_pid)
        return proc.prison if proc is not None else None

    def forget(self, prison) -> None:
        self._applied.pop(prison.serial, None)
        self._cpu.pop(prison.serial, None)

    def _set_cgroup_limits(self, pr, want: dict[str, int]) -> None:
        pids = self.tree.limits.get("pids")
        if pids is not None:
            n = want.get("maxproc")
            _write(os.path.join(self.tree.dir(pr, pids), "pids.max"),
                   "max" if n is None else str(n))
        mem = self.tree.limits.get("memory")
        if mem is not None:
            self._set_memory(pr, mem, want.get("memoryuse"), want.get("vmemoryuse"))
        cpu = self.tree.limits.get("cpu")
        if cpu is not None:
            pcpu = want.get("pcpu")
            d = self.tree.dir(pr, cpu)
            quota = None if pcpu is None else max(1000, pcpu * CPU_PERIOD_US // 100)
            if cpu.v2:
                _write(os.path.join(d, "cpu.max"),
                       f"{'max' if quota is None else quota} {CPU_PERIOD_US}")
            else:
                _write(os.path.join(d, "cpu.cfs_period_us"), str(CPU_PERIOD_US))
                _write(os.path.join(d, "cpu.cfs_quota_us"), "-1" if quota is None else str(quota))

    def _set_memory(self, pr, h, mem: int | None, vmem: int | None) -> None:
        d = self.tree.dir(pr, h)
        mem, _ = memory_limit(mem, vmem)
        if h.v2:
            _write(os.path.join(d, "memory.max"), "max" if mem is None else str(mem))
            if os.path.exists(os.path.join(d, "memory.swap.max")):
                _write(os.path.join(d, "memory.swap.max"),
                       "max" if vmem is None else str(vmem - mem))
            return
        memsw = os.path.join(d, "memory.memsw.limit_in_bytes")
        swap = os.path.exists(memsw)
        if swap:            # memsw >= limit at every step: lift it, set the limit, lower it
            _write(memsw, "-1")
        _write(os.path.join(d, "memory.limit_in_bytes"), "-1" if mem is None else str(mem))
        if swap and vmem is not None:
            _write(memsw, str(vmem))

    def _set_nofile(self, pr) -> None:
        for pid in self.real_pids(pr):
            self.started(pid, pr)

    def started(self, pid: int, prison) -> None:
        """A real process joined ``prison``: its RLIMIT_NOFILE follows the
        smallest openfiles deny of the jail and its ancestors (and of a
        process rule on it)."""
        if not self._applied and not self._proc_nofile and pid not in self._nofile:
            return
        limit = self._proc_nofile.get(pid)
        p = prison
        while p is not None and p.parent is not None:
            n = self._applied.get(p.serial, {}).get("openfiles")
            if n is not None:
                limit = n if limit is None else min(limit, n)
            p = p.parent
        try:
            proc = psutil.Process(pid)
            if limit is None:
                old = self._nofile.pop(pid, None)
                if old is not None:     # raising a hard limit needs CAP_SYS_RESOURCE
                    proc.rlimit(psutil.RLIMIT_NOFILE, old)
                return
            self._nofile.setdefault(pid, proc.rlimit(psutil.RLIMIT_NOFILE))
            proc.rlimit(psutil.RLIMIT_NOFILE, (limit, limit))
        except (psutil.Error, OSError) as e:
            log.info("limits: RLIMIT_NOFILE of %d: %s", pid, e)

    def ended(self, pid: int) -> None:
        self._nofile.pop(pid, None)
        self._proc_nofile.pop(pid, None)

    def limited(self) -> list[int]:
        """Serials of the jails that have limits."""
        return list(self._applied)

    def applied(self, prison) -> dict[str, int]:
        """resource -> amount of the limits the jail's cgroup has now."""
        return dict(self._applied.get(prison.serial, {}))

    # ..................................................... counters -> usage
    def usage(self, prison, resource: str) -> int | None:
        """rctl's usage_provider: the jail's real usage (descendants included)."""
        if not self.tree.has(prison):
            return None
        if resource in ("memoryuse", "vmemoryuse", "swapuse"):
            return self._memory(prison, resource)
        if resource in ("cputime", "pcpu"):
            # v2 keeps cpu.stat's usage_usec on every cgroup, controller or not
            usec = read_number(os.path.join(self.tree.dir(prison), "cpu.stat"), "usage_usec")
            if usec is None:
                return None
            if resource == "cputime":
                return usec // 1_000_000
            now = time.monotonic()
            then, before = self._cpu.get(prison.serial, (None, None))
            self._cpu[prison.serial] = (now, usec)
            if then is None or now <= then:
                return 0
            return round((usec - before) / 1e6 / (now - then) * 100)
        if resource == "nthr":
            n = 0
            for d, _s, _f in os.walk(self.tree.dir(prison)):
                try:
                    with open(os.path.join(d, "cgroup.threads")) as f:
                        n += len(f.read().split())
                except OSError:
                    pass
            return n
        return None

    def peak(self, prison, resource: str) -> int | None:
        """The jail's highest memoryuse/vmemoryuse since the last call (v1's
        max_usage_in_bytes, reset to the current usage on reading); None
        where there is no resettable peak (v2)."""
        h = self.tree.limits.get("memory")
        if h is None or h.v2 or resource not in ("memoryuse", "vmemoryuse") \
                or not self.tree.has(prison):
            return None
        name = "memory.max_usage_in_bytes" if resource == "memoryuse" else \
            "memory.memsw.max_usage_in_bytes"
        path = os.path.join(self.tree.dir(prison, h), name)
        top = read_number(path)
        if top is not None:
            _write(path, "0")
        return top

    def _memory(self, prison, resource: str) -> int | None:
        h = self.tree.limits.get("memory")
        if h is None:
            return None
        d = self.tree.dir(prison, h)
        if h.v2:
            mem = read_number(os.path.join(d, "memory.current"))
            swap = read_number(os.path.join(d, "memory.swap.current")) or 0
        else:
            mem = read_number(os.path.join(d, "memory.usage_in_bytes"))
            memsw = read_number(os.path.join(d, "memory.memsw.usage_in_bytes"))
            swap = max(0, memsw - mem) if memsw is not None and mem is not None else 0
        if mem is None:
            return None
        return {"memoryuse": mem, "vmemoryuse": mem + swap, "swapuse": swap}[resource]
