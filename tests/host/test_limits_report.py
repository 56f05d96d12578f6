"""The kernel side of what limits refuse (jailfs.kernel.rctl): the model's
own refusals and the daemon's word on real ones take one path, a
``refused`` event naming the rule, the jail and its usage."""

from __future__ import annotations

from errno import EAGAIN, EMFILE, ENOMEM

import pytest

from jailfs.kernel import JAIL_CREATE, Caller, JailError, Kernel


@pytest.fixture
def k():
    k = Kernel()
    k.events = []
    k.subscribe(k.events.append)
    return k


def jail(k, name: str):
    jid = k.jail_set(Caller(k.prison0, 0), [("name", name), ("persist", None)], JAIL_CREATE)
    return k.jids[jid]


def rule(k, text: str) -> None:
    k.rctl.add_rule(Caller(k.prison0, 0), text)


def refused(k) -> list[dict]:
    return [e.detail for e in k.events if e.kind == "refused"]


def test_the_model_refusing_a_fork_names_rule_jail_and_usage(k):
    web = jail(k, "web")
    rule(k, "jail:web:maxproc:deny=1")
    p = k.spawn(web.jid)
    with pytest.raises(JailError) as e:
        k.fork(p)
    assert (e.value.errno, str(e.value)) == (EAGAIN, "fork: Resource temporarily unavailable")
    assert refused(k) == [{"op": "fork", "errno": EAGAIN, "msg":
                           'rctl: rule "jail:web:maxproc:deny=1" refused maxproc in jail web, '
                           "usage 1"}]


def test_the_model_refusing_a_descriptor_is_the_same_line(k):
    web = jail(k, "web")
    rule(k, "jail:web:openfiles:deny=0")
    p = k.spawn(web.jid)
    with pytest.raises(JailError):
        k.open_file(p)
    assert refused(k) == [{"op": "open", "errno": EMFILE, "msg":
                           'rctl: rule "jail:web:openfiles:deny=0" refused openfiles in jail '
                           "web, usage 0"}]


def test_a_real_limit_hit_is_the_same_line_with_what_the_counter_says(k):
    web = jail(k, "web")
    rule(k, "jail:web:maxproc:deny=30")
    rule(k, "jail:web:maxproc:deny=20")      # replaces the first: one deny per amount-less rule
    rule(k, "jail:web:memoryuse:deny=1000")
    k.rctl.usage_provider = lambda pr, res: 990 if res == "memoryuse" else None
    assert k.rctl.limit_hit(web, "maxproc", "7 fork(s) refused by pids.max")
    assert k.rctl.limit_hit(web, "memoryuse", "1 process(es) killed by the OOM killer")
    assert refused(k) == [
        {"op": "fork", "errno": EAGAIN, "msg": 'rctl: rule "jail:web:maxproc:deny=20" refused '
         "maxproc in jail web, usage 0: 7 fork(s) refused by pids.max"},
        {"op": "memory", "errno": ENOMEM, "msg": 'rctl: rule "jail:web:memoryuse:deny=1000" '
         "refused memoryuse in jail web, usage 990: 1 process(es) killed by the OOM killer"}]


def test_a_limit_hit_with_no_rule_behind_it_says_nothing(k):
    web = jail(k, "web")
    rule(k, "jail:web:maxproc:log=5")
    assert not k.rctl.limit_hit(web, "maxproc", "1 fork(s) refused by pids.max")
    assert refused(k) == []


def test_throttling_is_not_a_refusal(k):
    web = jail(k, "web")
    rule(k, "jail:web:pcpu:deny=50")
    assert k.rctl.limit_hit(web, "pcpu", "throttled in 3 period(s) of 100 ms")
    assert refused(k) == []
    (ev,) = [e for e in k.events if e.kind == "rctl" and "throttled" in e.detail]
    assert ev.detail["throttled"] == ('rctl: rule "jail:web:pcpu:deny=50" throttled jail web: '
                                      "throttled in 3 period(s) of 100 ms")


def test_log_and_devctl_on_real_usage_match_once_per_exceedance(k):
    web = jail(k, "web")
    rule(k, "jail:web:memoryuse:log=100")
    rule(k, "jail:web:memoryuse:devctl=100")
    rule(k, "jail:web:maxproc:log=1")            # the model counts maxproc itself
    used = {"memoryuse": 50}
    k.rctl.usage_provider = lambda pr, res: used.get(res)
    lines = lambda: [v for e in k.events if e.kind == "rctl"
                     for key, v in e.detail.items() if key in ("log", "devctl")]
    assert k.rctl.check_real_usage(web) and lines() == []
    used["memoryuse"] = 150
    k.rctl.check_real_usage(web)
    k.rctl.check_real_usage(web)                  # still over: no second line
    assert lines() == [
        "!system=RCTL subsystem=rule type=matched rule=jail:web:memoryuse:devctl=100 "
        "jail=web usage=150",
        'rctl: rule "jail:web:memoryuse:log=100" matched by jail web, usage 150']
    assert k.rctl.log == lines()
    used["memoryuse"] = 10
    k.rctl.check_real_usage(web)
    used["memoryuse"] = 200
    k.rctl.check_real_usage(web)                  # over again: matched again
    assert len(lines()) == 4


def test_no_usage_rule_no_check(k):
    web = jail(k, "web")
    rule(k, "jail:web:memoryuse:deny=100")
    assert not k.rctl.check_real_usage(web)


def test_a_spike_between_two_checks_matches_through_the_peak(k):
    web = jail(k, "web")
    rule(k, "jail:web:memoryuse:log=100")
    rule(k, "jail:web:memoryuse:devctl=100")     # both see the spike: the peak is read once
    k.rctl.usage_provider = lambda pr, res: 10
    peaks = iter([500, 20, 600])
    k.rctl.check_real_usage(web, lambda res: next(peaks))
    assert k.rctl.log == ["!system=RCTL subsystem=rule type=matched "
                          "rule=jail:web:memoryuse:devctl=100 jail=web usage=500",
                          'rctl: rule "jail:web:memoryuse:log=100" matched by jail web, usage 500']
    k.rctl.check_real_usage(web, lambda res: next(peaks))     # back under: nothing
    k.rctl.check_real_usage(web, lambda res: next(peaks))     # the next spike matches again
    assert len(k.rctl.log) == 4 and k.rctl.log[-1].endswith("usage 600")
