"""The toolbox's .ctl verbs without a mount: ifdestroy, sysvlist/sysvrm, proclist, extra words."""

import errno
import os

import pytest

from jailfs.ctl import execute
from jailfs.kernel import Caller, Kernel


def ok(k, caller, text, prison_of=lambda pid: None):
    code, answer = execute(k, caller, text, prison_of=prison_of)
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
    assert execute(k, host, "sysvrm msg 65538 web", prison_of=lambda pid: None) == (errno.EINVAL, "error EINVAL msgctl: Invalid argument")
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
    assert execute(k, host, "sysvlist")[0] == errno.EOPNOTSUPP



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


class FakeNamespaces:
    """Real IPC namespaces without Linux: what jailhouse's ipc_namespace hook
    answers (the owner of a jail's namespace, an anchor pid) and what
    host.sysvipc reads and removes there."""

    def __init__(self, k, owners):
        self.k, self.owners = k, owners       # jail name -> its namespace's objects
        self.removed = []

    def hook(self, k, pr):
        while pr is not k.prison0:
            if pr.name in self.owners:
                return pr, 1000 + pr.jid
            pr = pr.parent
        return None

    def objects(self, anchor, which):
        name = next(n for n in self.owners if self.k.lookup(Caller(self.k.prison0), n).jid + 1000 == anchor)
        return [dict(o) for o in self.owners[name] if o["which"] == which and (anchor, o["id"]) not in self.removed]

    def remove(self, anchor, which, ident):
        self.removed.append((anchor, ident))
        return True


def shm(ident, key, cpid=0, uid=0):
    return {"which": "shm", "key": key, "id": ident, "perms": 0o600, "size": 4096, "cpid": cpid,
            "lpid": 0, "nattch": 0, "uid": uid, "gid": 0, "cuid": uid, "cgid": 0}


@pytest.fixture
def namespaces(monkeypatch):
    """Jails a (sysvshm=new) with a.c (new) and a.i (inherit), b (new); the
    same id 0 in a, a.c and b; id 7 only in a.c."""
    from jailfs import ctl_toolbox
    k = Kernel()
    host = Caller(k.prison0)
    for text in ("name=a sysvshm=new", "name=a.c sysvshm=new", "name=a.i sysvshm=inherit",
                 "name=b sysvshm=new"):
        ok(k, host, f"create {text} persist")
    fake = FakeNamespaces(k, {"a": [shm(0, 11, cpid=4242)], "a.c": [shm(0, 12), shm(7, 13, uid=5)],
                              "b": [shm(0, 14)]})
    monkeypatch.setattr(ctl_toolbox, "ipc_namespace_hooks", [fake.hook])
    monkeypatch.setattr(ctl_toolbox.sysvipc, "objects", fake.objects)
    monkeypatch.setattr(ctl_toolbox.sysvipc, "remove", fake.remove)
    return k, fake


def real_rows(answer, facility="shm"):
    return [" ".join(line.split()[:6]) for line in answer.splitlines()[1:] if line.startswith(facility + " ")
            and " real " in line]


def test_the_hosts_plain_listing_has_every_jails_real_objects(namespaces):
    """FreeBSD's host sees every object: here each jail's own namespace, keys
    as IPC_PRIVATE (made in another jail), each row naming its jail."""
    k, _ = namespaces
    assert real_rows(ok(k, Caller(k.prison0), "sysvlist")) == [
        "shm 0 0 0 0 a", "shm 0 0 0 0 a.c", "shm 7 0 5 0 a.c", "shm 0 0 0 0 b"]


def test_a_jail_lists_its_own_namespace_and_those_below_only(namespaces):
    k, _ = namespaces
    a = k.lookup(Caller(k.prison0), "a")
    assert real_rows(ok(k, Caller(a), "sysvlist")) == ["shm 0 11 0 0 0", "shm 0 0 0 0 c", "shm 7 0 5 0 c"]
    # a.i inherits a's namespace: a's objects, keys as its own namespace's
    assert real_rows(ok(k, Caller(k.lookup(Caller(k.prison0), "a.i")), "sysvlist")) == ["shm 0 11 0 0 -"]
    assert real_rows(ok(k, Caller(k.lookup(Caller(k.prison0), "b")), "sysvlist")) == ["shm 0 14 0 0 0"]
    # -J a from the host: a's keys as a sees them, a.c's as 0
    assert real_rows(ok(k, Caller(k.prison0), "sysvlist a")) == ["shm 0 11 0 0 a", "shm 0 0 0 0 a.c",
                                                                 "shm 7 0 5 0 a.c"]


def test_real_pids_as_the_caller_numbers_them(namespaces, monkeypatch):
    """The host gets host pids; a jail at depth D the (D+1)th NSpid entry of a
    process in it or below; a process elsewhere, or gone, reads 0."""
    from jailfs.ops import runfiles
    k, _ = namespaces
    host = Caller(k.prison0)
    a, b = k.lookup(host, "a"), k.lookup(host, "b")
    chains = {"4242": ["4242", "17"]}
    monkeypatch.setattr(runfiles, "status_field", lambda pid, name, proc=None: chains.get(str(pid)))

    def cpid(caller, where, jail):
        """the cpid of a's segment (id 0), from the row that names jail a as `jail`"""
        words = next(x.split() for x in ok(k, caller, "sysvlist", prison_of=lambda pid: where).splitlines()
                     if x.startswith("shm 0 ") and x.split()[5] == jail)
        return dict(w.split("=") for w in words[7:])["cpid"]
    assert cpid(host, a, "a") == "4242"
    assert cpid(Caller(a), a, "0") == "17"
    assert cpid(Caller(a), b, "0") == "0"       # not a's: its number there is not a's to know
    del chains["4242"]
    assert cpid(Caller(a), a, "0") == "0"       # gone


def test_ipcrm_by_id_names_one_object_or_refuses(namespaces):
    k, fake = namespaces
    host = Caller(k.prison0)
    a = k.lookup(host, "a")
    ja, jc, jb = (1000 + k.lookup(host, n).jid for n in ("a", "a.c", "b"))
    # from the host, id 0 is in three jails' namespaces: refused, nothing removed
    assert execute(k, host, "sysvrm shm 0", prison_of=lambda pid: None)[0] == errno.EINVAL
    assert fake.removed == []
    # in a: its own namespace's id 0, not a.c's
    ok(k, Caller(a), "sysvrm shm 0")
    assert fake.removed == [(ja, 0)]
    # from the host: id 7 is only a.c's; -J b names b's id 0, now the only other left... -J picks
    ok(k, host, "sysvrm shm 7")
    ok(k, host, "sysvrm shm 0 b")
    assert fake.removed == [(ja, 0), (jc, 7), (jb, 0)]
    # uid 5 (a.c's id 7 owner) cannot remove root's objects
    assert execute(k, Caller(k.lookup(host, "a.c"), uid=5), "sysvrm shm 0", prison_of=lambda pid: None)[0] \
        == errno.EPERM
