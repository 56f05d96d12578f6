"""What a jail's limits refuse its real processes reaches the kernel
(jailfs.host.limitwatch) on the real cgroupfs: each test's tree and
processes go, whatever happens."""

from __future__ import annotations

import errno

import pytest

from jailfs.host.limits import Limits
from jailfs.host.limitwatch import LimitWatch, LimitWatchService
from jailfs.kernel import JAIL_CREATE, Caller, Kernel

from .cgutil import Procs, make_tree, wait_until


def make_jail(k, name: str):
    jid = k.jail_set(Caller(k.prison0, 0), [("name", name), ("persist", None)], JAIL_CREATE)
    return k.jids[jid]


class FakeSupervisor:
    """What the service needs of fs/supervisor.py's Supervisor."""

    def __init__(self, k, tree):
        self.cgroups = tree
        self.limits = Limits(k, tree, lambda pr: tree.pids(pr, recursive=True))
        self.synced = []

    def sync(self, pr) -> None:
        self.synced.append(pr)


@pytest.fixture
def world():
    k = Kernel()
    tree = make_tree()
    procs = Procs()
    events = []
    k.subscribe(events.append)
    sup = FakeSupervisor(k, tree)
    service = LimitWatchService(k, sup)
    try:
        web = make_jail(k, "web")
        service.start()
        yield k, tree, sup, service, procs, events, web
    finally:
        procs.end()
        service.stop()
        tree.teardown()


def refusals(events) -> list[dict]:
    return [e.detail for e in events if e.kind == "refused"]


def ruled(world, controller: str, rule: str) -> None:
    k, tree, sup, service, procs, events, web = world
    if controller not in tree.limits:
        pytest.skip(f"no {controller} controller")
    tree.ensure(web)
    k.rctl.add_rule(Caller(k.prison0, 0), rule)
    sup.limits.apply([web])
    service.refresh()


def test_refused_forks_are_refusals_of_the_rule(world):
    k, tree, sup, service, procs, events, web = world
    ruled(world, "pids", "jail:web:maxproc:deny=3")
    assert list(service.watch.jails) == [web.serial]
    procs.start_in(tree, web, "for i in 1 2 3 4 5; do sleep 300 & done; wait")
    assert wait_until(lambda: service.report() or refusals(events))
    (d,) = refusals(events)
    assert (d["op"], d["errno"]) == ("fork", errno.EAGAIN)
    assert d["msg"].startswith('rctl: rule "jail:web:maxproc:deny=3" refused maxproc in jail web')
    assert d["msg"].endswith("fork(s) refused by pids.max")
    assert sup.synced[:1] == [web]                 # the model counted the jail first
    service.report()                                # nothing rose since: nothing more
    assert len(refusals(events)) == 1


def test_an_oom_kill_is_a_refusal_at_once(world):
    k, tree, sup, service, procs, events, web = world
    ruled(world, "memory", "jail:web:memoryuse:deny=67108864")
    p = procs.start_in(tree, web, "exec python3 -c 'b = bytearray(100 << 20)'")
    assert p.wait(60) != 0                          # killed, or MemoryError
    assert wait_until(lambda: service.report() or any(
        "OOM" in d["msg"] for d in refusals(events)))
    oom = [d for d in refusals(events) if "OOM" in d["msg"]]
    assert (oom[0]["op"], oom[0]["errno"]) == ("memory", errno.ENOMEM)
    assert oom[0]["msg"].startswith('rctl: rule "jail:web:memoryuse:deny=67108864" refused '
                                    "memoryuse in jail web")


def test_the_memory_limit_notifies_where_the_kernel_can(world):
    k, tree, sup, service, procs, events, web = world
    ruled(world, "memory", "jail:web:memoryuse:deny=67108864")
    (jail,) = service.watch.jails.values()
    h = tree.limits["memory"]
    # v2's memory.events and v1's oom eventfd (cgroup.event_control) notify
    assert all(c.notified for c in jail.counters if "memsw" not in c.path), \
        [(c.path, c.notified) for c in jail.counters]
    assert {c.key for c in jail.counters} >= ({"max", "oom_kill"} if h.v2 else {None, "oom_kill"})


def test_no_rule_no_watch_and_a_removed_rule_stops_it(world):
    k, tree, sup, service, procs, events, web = world
    other = make_jail(k, "other")
    tree.ensure(web)
    tree.ensure(other)
    service.refresh()
    assert service.watch.jails == {}                # no rule: nothing read, nothing polled
    ruled(world, "pids", "jail:web:maxproc:deny=3")
    assert list(service.watch.jails) == [web.serial]   # other has no rule: not watched
    k.rctl.remove_rules(Caller(k.prison0, 0), "jail:web")
    sup.limits.apply([web])
    service.refresh()
    assert service.watch.jails == {}


def test_watched_cgroups_are_still_removed(world):
    k, tree, sup, service, procs, events, web = world
    ruled(world, "memory", "jail:web:memoryuse:deny=67108864")
    assert service.watch.jails
    assert tree.remove(web)                         # eventfds and inotify do not pin it
    k.jail_remove(Caller(k.prison0, 0), web.jid)    # freed: why the daemon removes it
    service.refresh()
    assert service.watch.jails == {}


def test_a_log_rule_on_memory_matches_once_when_usage_goes_over(world):
    k, tree, sup, service, procs, events, web = world
    k.rctl.usage_provider = sup.limits.usage
    ruled(world, "memory", "jail:web:memoryuse:log=1048576")
    procs.start_in(tree, web, "exec python3 -c 'import time; b = bytearray(8 << 20); time.sleep(300)'")
    matched = lambda: [e.detail["log"] for e in events if e.kind == "rctl" and "log" in e.detail]
    assert wait_until(lambda: service.report() or matched(), timeout=20)
    service.report()
    (line,) = matched()
    assert line.startswith('rctl: rule "jail:web:memoryuse:log=1048576" matched by jail web, usage ')


def test_a_watch_of_no_jail_reads_nothing():
    w = LimitWatch(None)
    try:
        assert w.poll() == [] and not w.polled()
    finally:
        w.close()


@pytest.mark.parametrize("rule,script,wanted", [
    ("jail:web:maxproc:deny=3", "for i in 1 2 3 4 5; do sleep 300 & done; wait",
     "fork(s) refused by pids.max"),
    ("jail:web:memoryuse:deny=67108864", "exec python3 -c 'b = bytearray(100 << 20)'",
     "killed by the OOM killer"),
    ("jail:web:memoryuse:log=1048576",
     "exec python3 -c 'import time; b = bytearray(8 << 20); time.sleep(300)'",
     'rctl: rule "jail:web:memoryuse:log=1048576" matched by jail web, usage '),
])
def test_the_service_reports_while_the_daemon_runs(world, rule, script, wanted):
    """run() as the daemon runs it: woken by the attach, by a notification
    or its poll, it reports without being asked."""
    import trio
    k, tree, sup, service, procs, events, web = world
    ruled(world, "pids" if "maxproc" in rule else "memory", rule)
    k.rctl.usage_provider = sup.limits.usage
    said = lambda: [str(v) for e in events if e.kind in ("refused", "rctl")
                    for v in e.detail.values() if wanted in str(v)]

    async def main():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(service.run)
            await trio.sleep(0.2)
            procs.start_in(tree, web, script)
            with trio.move_on_after(15):
                while not said():
                    await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    trio.run(main)
    assert said(), events


def test_a_throttled_cpu_quota_is_reported_as_throttling(world):
    k, tree, sup, service, procs, events, web = world
    ruled(world, "cpu", "jail:web:pcpu:deny=5")
    procs.start_in(tree, web, "exec python3 -c 'while True: pass'")
    throttled = lambda: [e.detail["throttled"] for e in events
                         if e.kind == "rctl" and "throttled" in e.detail]
    assert wait_until(lambda: service.report() or throttled(), timeout=10)
    assert throttled()[0].startswith('rctl: rule "jail:web:pcpu:deny=5" throttled jail web: '
                                     "throttled in ")
    assert refusals(events) == []                   # a quota refuses nothing
