"""The toolbox's .ctl verbs without a mount: ifdestroy, sysvlist/sysvrm, proclist, extra words."""

import errno
import os

import pytest

from jailfs.ctl import execute
from jailfs.kernel import Caller, Kernel


def ok(k, caller, text):
    code, answer = execute(k, caller, text)
    assert code == 0, answer
    return answer


def test_ifdestroy_takes_both_ends_wherever_they_are():
    k = Kernel()
    host = Caller(k.prison0)
    ok(k, host, "create name=v vnet persist")
    ok(k, host, "ifcreate epair")
    ok(k, host, "ifvnet epair0b v")
    assert ok(k, host, "ifdestroy epair0a") == "ok epair0a epair0b"
    assert ok(k, host, "ifconfig v") == "ok\nlo0"
    assert execute(k, host, "ifdestroy epair0a")[0] == errno.ENXIO
    assert execute(k, host, "ifdestroy lo0")[0] == errno.EINVAL
    assert execute(k, Caller(k.prison0, uid=1), "ifdestroy em0")[0] == errno.EPERM


def test_sysv_objects_of_one_jail_from_the_host():
    k = Kernel()
    host = Caller(k.prison0)
    ok(k, host, "create name=web persist sysvmsg=new sysvshm=new")
    ok(k, host, "create name=web.db persist sysvmsg=inherit")
    web = ok(k, host, "spawn web").split()[1]
    db = ok(k, host, "spawn web.db").split()[1]
    me = ok(k, host, "spawn 0").split()[1]
    ok(k, host, f"msgget {web} 0x11 create")
    ok(k, host, f"msgget {db} 0x22 create")
    ok(k, host, f"shmget {web} 0x33 create")
    ok(k, host, f"msgget {me} 0x44 create")
    # the host sees everything, keys of objects made elsewhere as IPC_PRIVATE
    # ids as IXSEQ_TO_IPCID(index, seq): 65536 is the first slot's first use
    assert ok(k, host, "sysvlist").splitlines()[1:] == [
        "msg 65536 0 0 0 web", "msg 65537 0 0 0 web.db", "msg 65538 68 0 0 0", "shm 65536 0 0 0 web"]
    # -J web: what web made and below, keys as web sees them
    assert ok(k, host, "sysvlist web").splitlines()[1:] == [
        "msg 65536 17 0 0 web", "msg 65537 0 0 0 web.db", "sem disabled", "shm 65536 51 0 0 web"]
    web_pr = k.lookup(host, "web")
    assert ok(k, Caller(web_pr), "sysvlist").splitlines()[1:] == [
        "msg 65536 17 0 0 0", "msg 65537 0 0 0 db", "sem disabled", "shm 65536 51 0 0 0"]
    assert execute(k, host, "sysvrm msg 65538 web") == (errno.EINVAL, "error EINVAL msgctl: Invalid argument")
    ok(k, host, "sysvrm msg 65537 web")
    assert ok(k, host, "sysvrm all web") == "ok 2"
    assert ok(k, host, "sysvlist").splitlines()[1:] == ["msg 65538 68 0 0 0"]


def test_proclist_lists_the_callers_own_and_below():
    """Each real pid with the jid the daemon's prison_of gives it; a jailed
    caller sees its own and below, never the host's; an unplaceable pid is left out."""
    k = Kernel()
    host = Caller(k.prison0)
    ok(k, host, "create name=web persist")
    web = k.lookup(host, "web")
    where = {os.getpid(): web, 1: None}

    def prison_of(pid):
        return where.get(pid, k.prison0)

    def lines(caller):
        code, answer = execute(k, caller, "proclist", prison_of=prison_of)
        assert code == 0, answer
        return answer.splitlines()[1:]
    me = f"{os.getpid()} 1 {os.getpid()}"                    # this test runs in one pid namespace
    assert me in lines(host)
    assert f"{os.getppid()} 0 {os.getppid()}" in lines(host)
    assert not any(line.startswith("1 ") for line in lines(host))
    assert lines(Caller(web)) == [me]
    assert execute(k, host, "proclist")[0] == errno.EOPNOTSUPP     # no daemon: no real processes



@pytest.mark.parametrize("request_text", ["sysctl get kern.ostype x", "sysctl all x",
                                          "sysctl set kern.hostname h x", "sysctl bogus",
                                          "proclist x", "sysvlist web x", "sysvrm msg 0 web x",
                                          "sysvrm all web x", "sysvrm bogus 0", "ifdestroy lo1 x"])
def test_extra_words_are_refused_and_change_nothing(request_text):
    """As every .ctl verb (tests/test_ctl.py's EXTRA_WORDS): more words than
    the form is EINVAL with the usage line, before anything is done."""
    from jailfs.ctl_common import USAGE
    k = Kernel(hostname="h0")
    host = Caller(k.prison0)
    ok(k, host, "create name=web persist sysvmsg=new")
    pid = ok(k, host, "spawn web").split()[1]
    ok(k, host, f"msgget {pid} 5 create")
    ok(k, host, "ifcreate lo")
    before = (k.prison0.hostname, ok(k, host, "sysvlist"), ok(k, host, "ifconfig ."))
    code, answer = execute(k, host, request_text, prison_of=lambda p: k.prison0)
    assert (code, answer) == (errno.EINVAL, f"error EINVAL usage: {USAGE[request_text.split()[0]]}")
    assert (k.prison0.hostname, ok(k, host, "sysvlist"), ok(k, host, "ifconfig .")) == before
