"""rctl/racct (spec 8.1-8.3, edge 21) through the kernel API; invariants after every step."""

from errno import EAGAIN, EINVAL, EMFILE, ENAMETOOLONG, EOPNOTSUPP, EPERM, ERANGE, ESRCH

import pytest

from jailfs.kernel import Caller
from kutil import refused_errno, U, host, jailed_root, jset, mk, state


def ok(k):
    k.check_invariants()


def add(k, text):
    out = k.rctl.add_rule(host(k), text)
    ok(k)
    return out


def usage(k, name):
    lines = k.rctl.usage(host(k), f"jail:{name}")
    return dict(line.split("=") for line in lines)


def nproc(k, name):
    return int(usage(k, name)["maxproc"])


# ----------------------------------------------------------------- syntax

@pytest.mark.parametrize("text, errno_", [
    ("jail:www:bogus:deny=1", EINVAL),
    ("jale:www:maxproc:deny=1", EINVAL),
    ("jail:www:maxproc:smite=1", EINVAL),
    ("jail:www:maxproc:deny=1/jial", EINVAL),
    ("jail:www:maxproc:deny=ten", EINVAL),
    ("jail:www:maxproc:deny=-1", ERANGE),
    ("jail:www:maxproc:deny", EINVAL),             # not fully specified
    ("jail::maxproc:deny=1", EINVAL),
    (":www:maxproc:deny=1", EINVAL),               # an id without a subject
    ("jail:" + "x" * 256 + ":maxproc:deny=1", ENAMETOOLONG),
    ("jail:www:cputime:deny=1", EOPNOTSUPP),       # not deniable
    ("jail:www:wallclock:deny=1", EOPNOTSUPP),
    ("jail:www:maxproc:throttle=1", EOPNOTSUPP),   # throttle: decaying I/O only
    ("jail:www:pcpu:throttle=1", EOPNOTSUPP),
    ("jail:www:nsem:deny=1/process", EOPNOTSUPP),  # sloppy per process
    ("process:99999:maxproc:deny=1", ESRCH),
])
def test_add_refused(k, text, errno_):
    refused_errno(k, errno_, k.rctl.add_rule, host(k), text)
    assert k.rctl.rules(host(k)) == []


def test_accepted_forms_and_text(k):
    assert add(k, "jail:www:maxproc:deny=10") == "jail:www:maxproc:deny=10"
    assert add(k, "JAIL:www:MaxProc:Log=5/jail") == "jail:www:maxproc:log=5"
    assert add(k, "jail:www:openfiles:devctl=3/user") == "jail:www:openfiles:devctl=3/user"
    assert add(k, "jail:www:memoryuse:deny=1000") == "jail:www:memoryuse:deny=1000"
    assert add(k, "jail:www:pcpu:deny=50") == "jail:www:pcpu:deny=50"
    assert add(k, "jail:www:readbps:throttle=1000") == "jail:www:readbps:throttle=1000"
    assert add(k, "jail:www:maxproc:sigterm=7") == "jail:www:maxproc:sigterm=7"
    assert add(k, "user:1001:maxproc:deny=4") == "user:1001:maxproc:deny=4"
    # newest first: kern_rctl.c keeps rules with LIST_INSERT_HEAD
    assert k.rctl.rules(host(k), "jail:") == [
        "jail:www:maxproc:sigterm=7", "jail:www:readbps:throttle=1000", "jail:www:pcpu:deny=50",
        "jail:www:memoryuse:deny=1000", "jail:www:openfiles:devctl=3/user",
        "jail:www:maxproc:log=5", "jail:www:maxproc:deny=10"]
    assert k.rctl.rules(host(k), "::maxproc") == [
        "user:1001:maxproc:deny=4", "jail:www:maxproc:sigterm=7", "jail:www:maxproc:log=5",
        "jail:www:maxproc:deny=10"]
    assert k.rctl.rules(host(k), "jail:WWW") == []          # names are case-sensitive


def test_duplicates_and_deny_replacement(k):
    add(k, "jail:www:maxproc:deny=10")
    add(k, "jail:www:maxproc:deny=3")                 # deny: differs only in amount -> replaced
    add(k, "jail:www:maxproc:log=3")
    add(k, "jail:www:maxproc:log=3")                  # exact duplicate -> replaced
    add(k, "jail:www:maxproc:log=4")                  # log: another amount is another rule
    assert k.rctl.rules(host(k), ":") == [
        "jail:www:maxproc:log=4", "jail:www:maxproc:log=3", "jail:www:maxproc:deny=3"]


def test_remove(k):
    add(k, "jail:www:maxproc:deny=10")
    add(k, "jail:db:maxproc:deny=10")
    add(k, "jail:db:openfiles:log=10")
    refused_errno(k, ESRCH, k.rctl.remove_rules, host(k), "jail:nope")
    refused_errno(k, ESRCH, k.rctl.remove_rules, host(k), "::nthr")
    refused_errno(k, EINVAL, k.rctl.remove_rules, host(k), "jail:db:bogus")
    assert k.rctl.remove_rules(host(k), "jail:db") == 2
    ok(k)
    assert k.rctl.rules(host(k), ":") == ["jail:www:maxproc:deny=10"]
    assert k.rctl.remove_rules(host(k), ":") == 1
    assert k.rctl.rules(host(k), ":") == [] and k.rctl.racct_names == {}
    ok(k)


def test_rule_events_follow_the_change(k):
    """A subscriber told of an added, replaced or removed rule finds the rule
    set as it now is (the daemon applies jails' limits from it)."""
    seen = []
    k.subscribe(lambda ev: seen.append((ev.detail, k.rctl.rules(host(k), ":"))), kinds=("rctl",))
    add(k, "jail:www:maxproc:deny=10")
    add(k, "jail:www:maxproc:deny=20")                # replaces it
    k.rctl.remove_rules(host(k), "jail:www")
    assert seen == [
        ({"added": ["jail:www:maxproc:deny=10"]}, ["jail:www:maxproc:deny=10"]),
        ({"removed": ["jail:www:maxproc:deny=10"]}, []),
        ({"added": ["jail:www:maxproc:deny=20"]}, ["jail:www:maxproc:deny=20"]),
        ({"removed": ["jail:www:maxproc:deny=20"]}, []),
    ]


def test_jailed_caller_eperm(k):
    j = mk(k, "name=a", "allow.raw_sockets")
    add(k, "jail:a:maxproc:deny=10")
    for caller in (jailed_root(k, j), Caller(k.prison0, 1001)):
        refused_errno(k, EPERM, k.rctl.add_rule, caller, "jail:a:maxproc:deny=1")
        refused_errno(k, EPERM, k.rctl.remove_rules, caller, ":")
        refused_errno(k, EPERM, k.rctl.rules, caller, ":")
        refused_errno(k, EPERM, k.rctl.usage, caller, "jail:a")
    assert k.rctl.rules(host(k)) == ["jail:a:maxproc:deny=10"]


def test_usage_lines(k):
    j = mk(k, "name=a")
    p = k.spawn(j)
    k.open_file(p)
    lines = k.rctl.usage(host(k), "jail:a")
    assert lines[0] == "cputime=0" and lines[-1] == "writeiops=0" and len(lines) == 25
    assert "maxproc=1" in lines and "openfiles=1" in lines
    assert usage(k, "nosuch")["maxproc"] == "0"       # any name has a (zero) racct
    refused_errno(k, EINVAL, k.rctl.usage, host(k), "jail:")
    refused_errno(k, EINVAL, k.rctl.usage, host(k), ":")
    assert dict(x.split("=") for x in k.rctl.usage(host(k), f"process:{p.pid}"))["openfiles"] == "1"
    assert dict(x.split("=") for x in k.rctl.usage(host(k), "user:0"))["maxproc"] == "1"


# ----------------------------------------------------------------- accounting

def test_maxproc_deny_fork_eagain_nothing_created(k):
    j = mk(k, "name=www")
    add(k, "jail:www:maxproc:deny=2")
    p1 = k.spawn(j)
    p2 = k.fork(p1)
    before = (len(k.procs), k.by_jid(j).uref)
    e = refused_errno(k, EAGAIN, k.fork, p1)
    assert e.op == "fork"
    refused_errno(k, EAGAIN, k.spawn, j)
    assert (len(k.procs), k.by_jid(j).uref) == before
    k.exit(p2)                                         # uncharged at exit (zombie no longer counts)
    ok(k)
    assert nproc(k, "www") == 1
    p3 = k.fork(p1)
    ok(k)
    assert nproc(k, "www") == 2
    k.reap(p2)
    ok(k)
    k.kill(p3)
    k.kill(p1)
    ok(k)
    assert nproc(k, "www") == 0


def test_hierarchical_charge_and_rule_on_descendants(k):
    """edge 21: a process counts in its jail and every ancestor; a rule on NAME binds
    processes of NAME's descendants; per=jail uses the process's own jail's total."""
    www = mk(k, "name=www", "children.max=2")
    db = mk(k, "name=www.db")
    k.spawn(www)
    k.spawn(db)
    k.spawn(db)
    ok(k)
    assert (nproc(k, "www"), nproc(k, "www.db"), nproc(k, "0")) == (3, 2, 3)
    add(k, "jail:www:maxproc:deny=3")
    refused_errno(k, EAGAIN, k.spawn, www)                      # www's own total is 3
    k.spawn(db)                                       # www.db's total is 2 < 3: allowed
    ok(k)
    assert (nproc(k, "www"), nproc(k, "www.db")) == (4, 3)
    refused_errno(k, EAGAIN, k.spawn, db)                       # now www.db's own total is 3
    # prison0 ("0") is charged by everything; a rule on it binds every process.
    add(k, "jail:0:maxproc:deny=4")
    refused_errno(k, EAGAIN, k.spawn, 0)


def test_unnamed_jail_by_jid_and_user_per(k):
    j = jset(k, "persist")
    assert k.by_jid(j).name == str(j)
    add(k, f"jail:{j}:maxproc:deny=1")
    k.spawn(j, uid=1001)
    refused_errno(k, EAGAIN, k.spawn, j)
    k.rctl.remove_rules(host(k), ":")
    add(k, f"jail:{j}:openfiles:deny=1/user")           # against uid 1001's total everywhere
    p = k.spawn(j, uid=1001)
    q = k.spawn(0, uid=1001)
    k.open_file(q)
    refused_errno(k, EMFILE, k.open_file, p)
    k.open_file(k.spawn(j, uid=0))                    # uid 0 has none open: allowed
    ok(k)


def test_openfiles_deny_emfile(k):
    j = mk(k, "name=f")
    add(k, "jail:f:openfiles:deny=2")
    p = k.spawn(j)
    k.open_file(p)
    fd = k.socket(p)
    for call, args in ((k.open_file, (p,)), (k.socket, (p, "tcp")),
                       (k.tcp_connect, (p, "10.0.0.1:1", "10.0.0.2:80"))):
        e = refused_errno(k, EMFILE, call, *args)
        assert e.op in ("open", "socket", "connect")
    assert len(p.fds) == 2
    k.close(p, fd)
    ok(k)
    k.tcp_connect(p, "10.0.0.1:1", "10.0.0.2:80")
    ok(k)
    assert usage(k, "f")["openfiles"] == "2"
    k.kill(p)
    ok(k)
    assert usage(k, "f")["openfiles"] == "0"


def test_per_process_rule(k):
    j = mk(k, "name=pp")
    add(k, "jail:pp:openfiles:deny=1/process")
    p, q = k.spawn(j), k.spawn(j)
    k.open_file(p)
    k.open_file(q)                                    # each process its own budget
    refused_errno(k, EMFILE, k.open_file, p)
    assert k.rctl.rules(host(k)) == ["jail:pp:openfiles:deny=1/process"]


def test_log_and_devctl_once_per_exceedance(k):
    j = mk(k, "name=www")
    add(k, "jail:www:maxproc:log=1")
    add(k, "jail:www:maxproc:devctl=1")
    p1 = k.spawn(j, uid=1001)
    assert k.rctl.log == []
    p2 = k.fork(p1)                                   # 2 > 1: not denied, logged for the child
    ok(k)
    assert k.rctl.log == [                            # rules are evaluated newest first
        f"!system=RCTL subsystem=rule type=matched rule=jail:www:maxproc:devctl=1 "
        f"pid={p2.pid} ruid=1001 jail=www",
        f'rctl: rule "jail:www:maxproc:log=1" matched by pid {p2.pid} (jailfs-sim), '
        f"uid 1001, jail www"]
    add(k, "jail:www:openfiles:log=0")
    k.open_file(p1)
    k.open_file(p1)                                   # already exceeded for p1: once
    assert len(k.rctl.log) == 3 and f"pid {p1.pid}" in k.rctl.log[-1]
    add(k, "jail:www:openfiles:sigxfsz=0")
    k.open_file(p1)
    assert k.rctl.signals == [(p1.pid, "XFSZ")]


def test_rule_survives_restart_and_rename_moves_usage(k):
    j = mk(k, "name=www")
    add(k, "jail:www:maxproc:deny=1")
    k.spawn(j)
    k.jail_remove(host(k), j)
    ok(k)
    assert k.rctl.racct_names == {"www": 1} and nproc(k, "www") == 0
    j2 = mk(k, "name=www")                            # restarted: the same name, the same rule
    k.spawn(j2)
    refused_errno(k, EAGAIN, k.spawn, j2)
    jset(k, f"jid={j2}", "name=web", flags=U)         # renamed: usage follows to "web"
    ok(k)
    assert (nproc(k, "web"), nproc(k, "www")) == (1, 0)
    k.spawn(j2)                                       # no rule on "web"
    ok(k)
    assert nproc(k, "web") == 2
    h = k.spawn(0)
    k.jail_attach(h, j2)                              # attach moves its usage in
    ok(k)
    assert (nproc(k, "web"), nproc(k, "0")) == (3, 3)


def test_dying_same_name_shares_racct(k):
    j = mk(k, "name=www")
    p = k.spawn(j)
    k.hold(p, "mount", "x")                           # keeps the first www around while dying
    k.jail_remove(host(k), j)
    assert state(k, j) in ("dying", None)
    j2 = mk(k, "name=www")
    q = k.spawn(j2)
    assert nproc(k, "www") == 1
    k.kill(q)
    ok(k)
