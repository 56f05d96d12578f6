"""Hooks for the daemon: rctl rule-change events and real usage per jail;
security.jail.meta_maxbufsize as a kernel setting."""

from errno import EFBIG, EINVAL, EPERM

from kutil import U, expect, host, jailed_root, jset, mk, refused_errno, val


def test_rctl_rule_changes_are_events(k):
    seen = []
    k.subscribe(lambda ev: seen.append((ev.kind, ev.detail)) if ev.kind == "rctl" else None)
    k.rctl.add_rule(host(k), "jail:www:memoryuse:deny=1g".replace("1g", "1073741824"))
    k.rctl.add_rule(host(k), "jail:www:maxproc:deny=3")
    k.rctl.add_rule(host(k), "jail:www:maxproc:deny=4")              # replaces deny=3
    k.rctl.remove_rules(host(k), "jail:www")
    assert seen == [
        ("rctl", {"added": ["jail:www:memoryuse:deny=1073741824"]}),
        ("rctl", {"added": ["jail:www:maxproc:deny=3"]}),
        ("rctl", {"removed": ["jail:www:maxproc:deny=3"]}),
        ("rctl", {"added": ["jail:www:maxproc:deny=4"]}),
        ("rctl", {"removed": ["jail:www:maxproc:deny=4", "jail:www:memoryuse:deny=1073741824"]}),
    ]


def test_usage_provider_supplies_what_the_model_does_not_measure(k):
    www = mk(k, "name=www")
    k.spawn(www)
    asked = []

    def real(pr, resource):
        asked.append((pr.name, resource))
        return {"memoryuse": 5000, "pcpu": 42}.get(resource)

    use = dict(x.split("=") for x in k.rctl.usage(host(k), "jail:www"))
    assert (use["memoryuse"], use["maxproc"]) == ("0", "1")         # no provider: 0
    k.rctl.usage_provider = real
    use = dict(x.split("=") for x in k.rctl.usage(host(k), "jail:www"))
    assert (use["memoryuse"], use["pcpu"], use["vmemoryuse"], use["maxproc"]) == \
        ("5000", "42", "0", "1")
    assert ("www", "maxproc") not in asked                          # measured by the model
    # rule evaluation uses it too: a log rule on memoryuse fires, a deny rule denies
    k.rctl.add_rule(host(k), "jail:www:memoryuse:log=100")
    p = k.spawn(www)
    assert k.rctl.enforce(k.by_jid(www), "memoryuse", 0, p) is False
    assert k.rctl.log[-1].startswith(f'rctl: rule "jail:www:memoryuse:log=100" matched by pid {p.pid}')
    k.rctl.add_rule(host(k), "jail:www:memoryuse:deny=6000")
    assert k.rctl.enforce(k.by_jid(www), "memoryuse", 500, p) is False
    assert k.rctl.enforce(k.by_jid(www), "memoryuse", 1001, p) is True


def test_meta_maxbufsize_is_a_host_setting(k):
    a = mk(k, "name=a")
    assert k.meta_maxbufsize == 4096
    refused_errno(k, EPERM, k.set_meta_maxbufsize, jailed_root(k, a), 100)
    refused_errno(k, EINVAL, k.set_meta_maxbufsize, host(k), 0)
    k.set_meta_maxbufsize(host(k), 11)
    jset(k, "name=a", "meta=0123456789", flags=U)                   # 10 bytes + NUL
    assert val(k, a, "meta") == "0123456789"
    expect(k, EFBIG, "", "name=a", "meta=0123456789a", flags=U)
    jset(k, "name=a", "env.k=12345678", flags=U)                    # "k=12345678" + NUL
    expect(k, EFBIG, "", "name=a", "env.k=123456789", flags=U)


def test_a_subscriber_of_some_kinds_is_told_only_those_in_order_with_the_others(k):
    everything, some, order = [], [], []
    k.subscribe(lambda ev: (everything.append(ev.kind), order.append("all")))
    k.subscribe(lambda ev: (some.append(ev.kind), order.append("some")), kinds=("dying", "freed"))
    k.subscribe(lambda ev: order.append("last"))
    www = mk(k, "name=www")
    jset(k, f"jid={www}", "host.hostname=a", flags=U)
    k.jail_remove(host(k), www)
    assert everything == ["created", "updated", "removed", "dying", "freed"]
    assert some == ["dying", "freed"]
    assert order == ["all", "last"] * 3 + ["all", "some", "last"] * 2
    later = []
    k.subscribe(later.append, kinds=("created",))     # a new subscriber is told from now on
    mk(k, "name=db")
    assert [ev.kind for ev in later] == ["created"] and everything[-1] == "created"

