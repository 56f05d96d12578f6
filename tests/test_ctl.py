"""The .ctl request language (jailfs/ctl.py) against a real Kernel, no mount.

Every verb through ``execute(kernel, caller, text)``: its answer, its errors
(``error ENAME message`` with the errno returned beside it), non-root callers
refused, and a jailed caller confined to its own jail and below.  The kernel's
invariants are checked after every request.
"""

from __future__ import annotations

import errno
import os
import shlex
import subprocess
import time

import pytest

from jailfs.ctl import execute
from jailfs.fs.callers import CallerResolver
from jailfs.kernel import Caller, Kernel


class World:
    def __init__(self):
        self.k = Kernel()
        self.host = Caller(self.k.prison0, uid=0)
        self.user = Caller(self.k.prison0, uid=1001)
        self.resolver = CallerResolver(self.k)

    def run(self, text, caller=None, **kw):
        # which prison a real process is in: the daemon's resolver by default
        kw.setdefault("prison_of", self.resolver.prison_of)
        code, answer = execute(self.k, caller or self.host, text, **kw)
        self.k.check_invariants()
        return code, answer

    def ok(self, text, caller=None, **kw):
        code, answer = self.run(text, caller, **kw)
        assert code == 0, answer
        head, *rest = answer.split("\n")
        assert head == "ok" or head.startswith("ok "), answer
        return head[3:] if rest == [] else (head[3:], rest)

    def err(self, text, caller=None, **kw):
        code, answer = self.run(text, caller, **kw)
        assert code != 0, answer
        assert "\n" not in answer
        word, name, msg = answer.split(" ", 2)
        assert word == "error"
        assert errno.errorcode[code] == name, answer
        return name, msg

    def jailed(self, name, uid=0):
        return Caller(self.k.lookup(self.host, name), uid=uid)


@pytest.fixture
def w():
    return World()


# ------------------------------------------------------------------ the language

def test_empty_and_unknown_requests(w):
    assert w.err("") == ("EINVAL", "empty request")
    assert w.err("   \n") == ("EINVAL", "empty request")
    assert w.err("frobnicate x") == ("EINVAL", "unknown request: frobnicate")
    name, msg = w.err("create name='unterminated")
    assert name == "EINVAL" and msg.startswith("cannot split request: ")


def test_usage_errors_name_the_form(w):
    assert w.err("remove") == ("EINVAL", "usage: remove JAIL")
    assert w.err("remove a b") == ("EINVAL", "usage: remove JAIL")
    assert w.err("list -x") == ("EINVAL", "usage: list [-d] [-p] [PARAM ...]")
    assert w.err("fork") == ("EINVAL", "usage: fork PID")
    assert w.err("fork x") == ("EINVAL", "usage: fork PID")
    assert w.err("close 1") == ("EINVAL", "usage: close PID FD")
    assert w.err("connect 1 a") == ("EINVAL", "usage: connect PID LADDR:PORT RADDR:PORT")
    assert w.err("pass 1 2") == ("EINVAL", "usage: pass PID FD TOPID")
    assert w.err("mount 1 nullfs") == ("EINVAL", "usage: mount PID FSTYPE PATH")
    assert w.err("sigio 1") == ("EINVAL", "usage: sigio PID FD")
    assert w.err("acct 1 a b") == ("EINVAL", "usage: acct PID PATH")
    assert w.err("unmount") == ("EINVAL", "usage: unmount ID")
    assert w.err("advance") == ("EINVAL", "usage: advance SECONDS")
    assert w.err("advance soon") == ("EINVAL", "usage: advance SECONDS")
    assert w.err("clock now") == ("EINVAL", "usage: clock")
    assert w.err("attach web") == ("EINVAL", "usage: attach JAIL PID")
    assert w.err("spawn") == ("EINVAL", "usage: spawn JAIL")
    assert w.err("set") == ("EINVAL", "usage: set JAIL PARAM[=VALUE] ...")
    assert w.err("get") == ("EINVAL", "usage: get [-d] JAIL [PARAM ...]")


def test_quoting_like_sh(w):
    assert w.ok("create name=web persist host.hostname='my host' meta=\"a=1\nb=2\"") == "1"
    assert w.k.jail_get(w.host, ("name", "web"), ["host.hostname", "meta"]) == {
        "jid": "1", "host.hostname": "my host", "meta": "a=1\nb=2"}
    # shlex.join of any value round-trips
    value = "it's \"quoted\" $HOME `x`"
    assert w.ok("set web " + shlex.quote(f"host.hostname={value}")) == "1"
    assert w.ok("get web host.hostname") == ("1", [f"host.hostname={shlex.quote(value)}"])


# ------------------------------------------------------------------ jail requests

def test_create_update_createupdate_set(w):
    assert w.ok("create name=web persist") == "1"
    assert w.ok("create name=db persist jid=7") == "7"
    assert w.err("create name=web persist") == ("EEXIST", 'jail "web" already exists')
    assert w.ok("update name=web host.hostname=a") == "1"
    assert w.ok("update jid=7 securelevel=2") == "7"
    assert w.err("update name=nope persist") == ("ENOENT", 'jail "nope" not found')
    assert w.ok("createupdate name=web persist host.hostname=b") == "1"
    assert w.ok("createupdate name=new persist") == "2"     # explicit jid 7 did not move lastprid
    assert w.ok("set web host.hostname=c children.max=3") == "1"
    assert w.ok("set 7 host.hostname=d") == "7"
    assert w.err("set web securelevel=abc") == ("EINVAL", 'securelevel: non-integer value "abc"')
    assert w.err("set web nosuch=1") == ("ENOENT", "unknown parameter: nosuch")   # libjail: ENOENT
    assert w.err("set 99 persist") == ("ENOENT", "jail 99 not found")
    vals = w.k.jail_get(w.host, ("name", "web"), ["host.hostname", "children.max"])
    assert vals == {"jid": "1", "host.hostname": "c", "children.max": "3"}


def test_all_or_nothing(w):
    w.ok("create name=web persist host.hostname=before")
    assert w.err("set web host.hostname=after securelevel=x")[0] == "EINVAL"
    assert w.ok("get web host.hostname") == ("1", ["host.hostname=before"])
    assert w.err("create name=db persist host.hostname=x ip4.addr=not-an-ip")[0] == "EINVAL"
    assert w.ok("list") == ("", ["1 web"])


def test_bare_booleans_and_meta_deletion(w):
    w.ok("create name=web persist allow.mount meta='k=v' env=x")
    assert w.ok("get web persist allow.mount") == ("1", ["persist=true", "allow.mount=true"])
    w.ok("set web allow.nomount")
    assert w.ok("get web allow.mount") == ("1", ["allow.mount=false"])
    w.ok("set web meta.k")
    assert w.ok("get web meta") == ("1", ["meta=''"])


def test_remove(w):
    w.ok("create name=web persist")
    w.ok("create name=web.db persist")
    assert w.ok("remove web") == ""
    assert w.k.by_jid(1) is None and w.k.by_jid(2) is None
    assert w.err("remove web") == ("ENOENT", 'jail "web" not found')
    assert w.err("remove 1") == ("EINVAL", "jail_remove: Invalid argument")
    assert w.err("remove 0") == ("EINVAL", "jail_remove: Invalid argument")


def test_remove_of_a_dying_jail_is_a_no_op(w):
    w.ok("create name=web persist")
    pid = w.ok("spawn web")
    fd = w.ok(f"connect {pid} 192.0.2.1:80 192.0.2.2:999")
    w.ok(f"close {pid} {fd}")
    w.ok("remove web")
    assert w.k.by_jid(1).state == "dying"
    assert w.ok("remove 1") == ""
    assert w.k.by_jid(1).state == "dying"


def test_get(w):
    w.ok("create name=web persist host.hostname='a b' ip4.addr=192.0.2.1,192.0.2.2")
    assert w.ok("get web name host.hostname ip4.addr jid") == (
        "1", ["name=web", "host.hostname='a b'", "ip4.addr=192.0.2.1,192.0.2.2", "jid=1"])
    assert w.ok("get 1 dying") == ("1", ["dying=false"])
    jid, lines = w.ok("get web")
    assert jid == "1"
    names = [line.split("=", 1)[0] for line in lines]
    assert names == list(w.k.param_names())               # jls's order
    assert "name=web" in lines and "persist=true" in lines
    assert w.err("get nope") == ("ENOENT", 'jail "nope" not found')
    assert w.err("get 42") == ("ENOENT", "jail 42 not found")
    assert w.err("get web nosuch") == ("EINVAL", "unknown parameter: nosuch")


def test_get_and_list_dying(w):
    w.ok("create name=web persist")
    w.ok("create name=db persist")
    pid = w.ok("spawn web")
    w.ok(f"close {pid} " + w.ok(f"connect {pid} 10.0.0.1:1 10.0.0.2:2"))
    w.ok("remove web")
    assert w.err("get 1") == ("ENOENT", "jail 1 is dying")
    assert w.err("get web") == ("ENOENT", 'jail "web" is dying')
    assert w.ok("get -d 1 name dying") == ("1", ["name=web", "dying=true"])
    assert w.ok("list") == ("", ["2 db"])
    assert w.ok("list -d") == ("", ["1 web", "2 db"])
    w.ok("remove db")
    assert w.ok("list") == ""
    assert w.ok("list -d") == ("", ["1 web"])


def test_list_names_are_relative(w):
    w.ok("create name=web persist children.max=2")
    w.ok("create name=web.db persist")
    w.ok("create name=other persist")
    assert w.ok("list") == ("", ["1 web", "2 web.db", "3 other"])
    assert w.ok("list", w.jailed("web")) == ("", ["2 db"])


# ------------------------------------------------------------------ the simulated world

def test_spawn_fork_exit_reap_kill(w):
    w.ok("create name=web persist")
    p = w.ok("spawn web")
    assert p == "100"
    assert w.ok("spawn 0") == "101"
    assert w.ok("spawn .") == "102"
    assert w.k.procs[101].prison is w.k.prison0
    c = w.ok(f"fork {p}")
    assert c == "103" and w.k.procs[103].prison.name == "web"
    assert w.ok(f"exit {c}") == ""
    assert w.k.procs[103].state == "zombie"
    assert w.err(f"exit {c}") == ("ESRCH", "process 103 is not running")
    assert w.err(f"fork {c}") == ("ESRCH", "process 103 is not running")
    assert w.ok(f"reap {c}") == ""
    assert 103 not in w.k.procs
    assert w.err(f"reap {c}") == ("ESRCH", "no process 103")
    assert w.err(f"reap {p}") == ("ESRCH", "process 100 is not a zombie")
    assert w.ok(f"kill {p}") == ""
    assert 100 not in w.k.procs
    assert w.err("kill 100") == ("ESRCH", "no process 100")
    assert w.err("spawn nope") == ("ENOENT", 'jail "nope" not found')
    assert w.err("spawn 55") == ("ENOENT", "jail 55 not found")


def test_spawn_in_a_dying_jail(w):
    w.ok("create name=web persist")
    p = w.ok("spawn web")
    w.ok(f"close {p} " + w.ok(f"connect {p} 10.0.0.1:1 10.0.0.2:2"))
    w.ok("remove web")
    assert w.err("spawn 1") == ("EINVAL", "jail 1 is dying")


def test_descriptors_and_timewait(w):
    w.ok("create name=web persist")
    p = w.ok("spawn web")
    assert w.ok(f"open {p}") == "3"
    assert w.ok(f"open {p} /etc/motd") == "4"
    assert w.ok(f"socket {p}") == "5"
    assert w.ok(f"socket {p} unix") == "6"
    assert w.err(f"socket {p} sctp") == ("EINVAL", "unknown socket type sctp")
    assert w.ok(f"connect {p} 192.0.2.1:80 198.51.100.7:5555") == "7"
    pr = w.k.by_jid(1)
    text = "\n".join(w.k.refs(pr).lines)
    assert "file /etc/motd open as fd 4 of process 100 in jail web (jid 1)" in text
    assert "tcp 192.0.2.1:80 -> 198.51.100.7:5555 ESTABLISHED open as fd 7" in text
    assert w.ok(f"close {p} 7") == ""
    assert w.err(f"close {p} 7") == ("EBADF", "process 100 has no descriptor 7")
    assert w.err(f"close {p} 99") == ("EBADF", "process 100 has no descriptor 99")
    assert "    tcp 192.0.2.1:80 -> 198.51.100.7:5555 TIME_WAIT, 60 s left" in w.k.refs(pr).lines
    w.ok(f"kill {p}")
    w.ok("remove web")
    assert pr.state == "dying"
    assert (w.k.refs(pr).ref, w.k.refs(pr).uref) == (1, 0)
    assert w.ok("advance 59.5") == "59.5"
    assert "    tcp 192.0.2.1:80 -> 198.51.100.7:5555 TIME_WAIT, 0.5 s left" in w.k.refs(pr).lines
    assert w.ok("clock") == "59.5"
    assert w.ok("advance 0.5") == "60"
    assert pr.state == "freed" and w.k.by_jid(1) is None


def test_clock_answers(w):
    assert w.ok("clock") == "0"
    assert w.ok("advance 0") == "0"
    assert w.ok("advance 1000000") == "1000000"
    assert w.ok("advance 0.25") == "1000000.25"
    assert w.err("advance -1") == ("EINVAL", "the clock cannot go backwards")
    assert w.err("advance nan") == ("EINVAL", "usage: advance SECONDS")
    assert w.err("advance inf") == ("EINVAL", "usage: advance SECONDS")
    assert w.ok("clock") == "1000000.25"


def test_pass_keeps_the_jail_until_the_receiver_closes(w):
    w.ok("create name=web persist")
    p = w.ok("spawn web")
    h = w.ok("spawn 0")
    fd = w.ok(f"open {p} /data")
    assert w.ok(f"pass {p} {fd} {h}") == "3"
    assert w.err(f"pass {p} 9 {h}") == ("EBADF", "process 100 has no descriptor 9")
    assert w.err(f"pass {p} {fd} 999") == ("ESRCH", "no process 999")
    w.ok("remove web")
    pr = w.k.by_jid(1)
    assert pr.state == "dying"
    assert "    file /data open as fd 3 of process 101 in host" in w.k.refs(pr).lines
    w.ok("advance 3600")
    assert pr.state == "dying"
    w.ok(f"close {h} 3")
    assert pr.state == "freed"


def test_holders_mount_sigio_acct_unmount(w):
    w.ok("create name=web persist")
    p = w.ok("spawn web")
    m = w.ok(f"mount {p} nullfs /mnt/data")
    s = w.ok(f"sigio {p} 3")
    a = w.ok(f"acct {p} /var/account/acct")
    assert (m, s, a) == ("1", "2", "3")
    pr = w.k.by_jid(1)
    lines = w.k.refs(pr).lines
    assert "    mount nullfs on /mnt/data (holder 1)" in lines
    assert "    sigio 3 (holder 2)" in lines
    assert "    acct /var/account/acct (holder 3)" in lines
    w.ok(f"kill {p}")
    w.ok("remove web")
    assert pr.state == "dying"
    assert w.ok("unmount 1") == ""
    assert w.err("unmount 1") == ("ENOENT", "no holder 1")
    assert w.ok("release 2") == ""
    assert pr.state == "dying"
    w.ok("unmount 3")
    assert pr.state == "freed"
    assert w.err("mount 999 nullfs /x") == ("ESRCH", "no process 999")


def test_check(w):
    assert w.ok("check") == ""
    w.ok("create name=web persist")
    w.k.by_jid(1).ref += 1
    code, answer = execute(w.k, w.host, "check")
    assert code == errno.EIO
    assert answer.startswith("error EIO invariant broken: ")


# ------------------------------------------------------------------ real processes

@pytest.fixture
def sleeper():
    p = subprocess.Popen(["sleep", "300"])
    for _ in range(500):                # until it runs sleep, not the forked python
        with open(f"/proc/{p.pid}/comm") as f:
            if f.read().strip() == "sleep":
                break
        time.sleep(0.01)
    yield p.pid
    p.kill()
    p.wait()


def test_attach_real_process(w, sleeper):
    w.ok("create name=web persist")
    assert w.ok(f"attach web {sleeper}") == ""
    (proc,) = [p for p in w.k.procs.values() if p.real_pid == sleeper]
    assert proc.prison.name == "web"
    assert w.k.by_jid(1).uref == 2
    # attached again, the same process moves on (to a child jail)
    w.ok("create name=web.db persist")
    assert w.ok(f"attach web.db {sleeper}") == ""
    assert [p.prison.name for p in w.k.procs.values() if p.real_pid == sleeper] == ["web.db"]
    assert w.err(f"attach web {sleeper}") == ("EINVAL", "jail_attach: Invalid argument")


def test_attach_errors(w, sleeper):
    w.ok("create name=web persist")
    assert w.err("attach web 999999999") == ("ESRCH", "no process 999999999")
    assert w.err("attach web 0") == ("ESRCH", "no process 0")
    assert w.err(f"attach nope {sleeper}") == ("ENOENT", 'jail "nope" not found')
    assert w.err(f"attach 77 {sleeper}") == ("EINVAL", "jail_attach: Invalid argument")
    assert w.err(f"attach 0 {sleeper}") == ("EINVAL", "jail_attach: Invalid argument")
    assert not [p for p in w.k.procs.values() if p.real_pid == sleeper]
    assert w.k.by_jid(1).uref == 1


def test_attach_non_root(w, sleeper):
    w.ok("create name=web persist")
    assert w.err(f"attach web {sleeper}", w.user) == ("EPERM", "jail_attach: Operation not permitted")
    assert not [p for p in w.k.procs.values() if p.real_pid == sleeper]


def test_attach_uses_the_process_s_own_prison(w, sleeper):
    """A process inside jail a cannot be attached to b (not below a), even by the host."""
    w.ok("create name=a persist")
    w.ok("create name=a.c persist")
    w.ok("create name=b persist")
    where = {sleeper: w.k.lookup(w.host, "a")}
    prison_of = lambda pid: where.get(pid, w.k.prison0)   # noqa: E731
    assert w.err(f"attach b {sleeper}", prison_of=prison_of) == ("EINVAL", "jail_attach: Invalid argument")
    assert w.err(f"attach a {sleeper}", prison_of=prison_of) == ("EINVAL", "jail_attach: Invalid argument")
    assert not [p for p in w.k.procs.values() if p.real_pid == sleeper]
    assert w.ok(f"attach a.c {sleeper}", prison_of=prison_of) == ""
    assert [p.prison.name for p in w.k.procs.values() if p.real_pid == sleeper] == ["a.c"]


def test_jailed_caller_cannot_attach_a_host_process(w, sleeper):
    w.ok("create name=web persist children.max=1")
    w.ok("create name=web.db persist")
    inside = w.jailed("web")
    # default resolver: the sleeper is a host process (nothing attached above it)
    assert w.err(f"attach db {sleeper}", inside) == ("ESRCH", f"no process {sleeper}")
    assert w.err(f"attach . {sleeper}", inside) == ("ESRCH", f"no process {sleeper}")
    assert not [p for p in w.k.procs.values() if p.real_pid == sleeper]
    # a process already attached to web itself may go further down, by the jailed caller
    w.ok(f"attach web {sleeper}")
    assert w.ok(f"attach db {sleeper}", inside) == ""
    # and a process of the parent jail is out of reach from db
    assert w.err(f"attach . {os.getpid()}", w.jailed("web.db")) == ("ESRCH", f"no process {os.getpid()}")


# ------------------------------------------------------------------ who may do what

STATE_CHANGING = ["spawn 0", "fork 100", "exit 100", "reap 100", "kill 100", "open 100",
                  "socket 100", "connect 100 10.0.0.1:1 10.0.0.2:2", "close 100 3",
                  "pass 100 3 101", "mount 100 nullfs /x", "sigio 100 3", "acct 100 /x",
                  "unmount 1", "advance 1"]


@pytest.mark.parametrize("request_text", STATE_CHANGING)
def test_non_root_refused(w, request_text):
    w.ok("create name=web persist")
    w.ok("spawn web")
    w.ok("spawn 0")
    w.ok("open 100")
    w.ok("mount 100 nullfs /m")
    verb = request_text.split()[0]
    op = {"unmount": "unmount"}.get(verb, verb)
    before = (dict(w.k.procs), w.k.clock.now)
    assert w.err(request_text, w.user) == ("EPERM", f"{op}: Operation not permitted")
    assert (dict(w.k.procs), w.k.clock.now) == before


def test_non_root_jail_requests_refused_reads_allowed(w):
    w.ok("create name=web persist")
    assert w.err("create name=x persist", w.user) == ("EPERM", "jail_set: Operation not permitted")
    assert w.err("set web host.hostname=x", w.user) == ("EPERM", "jail_set: Operation not permitted")
    assert w.err("update name=web persist", w.user) == ("EPERM", "jail_set: Operation not permitted")
    assert w.err("remove web", w.user) == ("EPERM", "jail_remove: Operation not permitted")
    assert w.ok("get web name", w.user) == ("1", ["name=web"])
    assert w.ok("list", w.user) == ("", ["1 web"])
    assert w.ok("clock", w.user) == "0"
    assert w.err("check", w.user) == ("EPERM", "check: Operation not permitted")   # DoS: host root only


def test_jailed_caller_sees_only_its_processes(w):
    w.ok("create name=web persist children.max=2")
    w.ok("create name=web.db persist")
    w.ok("create name=other persist")
    outside = w.ok("spawn other")            # 100
    host = w.ok("spawn 0")                   # 101
    mine = w.ok("spawn web")                 # 102
    below = w.ok("spawn web.db")             # 103
    w.ok(f"mount {outside} nullfs /o")       # holder 1
    fd = w.ok(f"open {outside} /secret")
    inside = w.jailed("web")
    for req in [f"kill {outside}", f"exit {host}", f"fork {outside}", f"reap {outside}",
                f"open {outside}", f"socket {host}", f"connect {outside} a:1 b:2",
                f"close {outside} {fd}", f"pass {outside} {fd} {mine}", f"pass {mine} 3 {host}",
                f"mount {host} nullfs /x", f"sigio {outside} 3", f"acct {outside} /x"]:
        pid = req.split()[1] if not req.startswith("pass " + mine) else host
        assert w.err(req, inside) == ("ESRCH", f"no process {pid}"), req
    assert w.err("unmount 1", inside) == ("ENOENT", "no holder 1")
    assert w.err("spawn other", inside) == ("ENOENT", 'jail "other" not found')
    oid = w.k.lookup(w.host, "other").jid
    assert w.err(f"spawn {oid}", inside) == ("ENOENT", f"jail {oid} not found")
    assert w.err(f"remove {oid}", inside) == ("EINVAL", "jail_remove: Invalid argument")
    assert w.err(f"set {oid} host.hostname=x", inside) == ("ENOENT", f"jail {oid} not found")
    assert w.err("get other", inside) == ("ENOENT", 'jail "other" not found')
    # its own prison and below: allowed
    assert w.ok("spawn 0", inside) == "104"
    assert w.k.procs[104].prison.name == "web"
    assert w.ok("spawn db", inside) == "105"
    assert w.ok(f"fork {below}", inside) == "106"
    fd2 = w.ok(f"open {mine}", inside)
    assert w.ok(f"pass {mine} {fd2} {below}", inside) == "3"
    m = w.ok(f"mount {mine} tmpfs /tmp", inside)
    assert w.ok(f"unmount {m}", inside) == ""
    assert w.ok(f"kill {below}", inside) == ""
    # nothing outside was touched
    assert {outside, host} <= {str(p) for p in w.k.procs}
    assert w.k.holders.get(1) is not None


def test_jailed_caller_names_are_relative(w):
    w.ok("create name=web persist children.max=3")
    w.ok("create name=web.db persist")
    inside = w.jailed("web")
    assert w.ok("get db name parent", inside) == ("2", ["name=db", "parent=0"])
    assert w.ok("create name=cache persist", inside) == "3"
    assert w.k.by_jid(3).name == "web.cache"
    assert w.ok("set cache host.hostname=c", inside) == "3"
    assert w.ok("remove cache", inside) == ""
    assert w.err("get web", inside) == ("ENOENT", 'jail "web" not found')
    assert w.ok("list -d", inside) == ("", ["2 db"])


def test_jailed_children_max(w):
    w.ok("create name=web persist")
    inside = w.jailed("web")
    # children.max 0: a jailed root has no jail privilege at all
    assert w.err("create name=x persist", inside) == ("EPERM", "jail_set: Operation not permitted")
    assert w.ok("list", inside) == ""
    w.ok("set web children.max=1")
    assert w.ok("create name=x persist", inside) == "2"
    assert w.err("create name=y persist", inside) == ("EPERM", "prison limit exceeded")
    assert w.ok("list", inside) == ("", ["2 x"])


# ------------------------------------------------------------------ SysV IPC, kern.hostname

def test_msgget(w):
    h = w.ok("spawn 0")
    assert w.ok(f"msgget {h} 0x1234 create") == "65536"
    assert w.ok(f"msgget {h} 4660") == "65536"                        # the same key, decimal
    assert w.err(f"msgget {h} 0x1234 create excl") == ("EEXIST", "msgget: File exists")
    assert w.err(f"msgget {h} 0x99") == ("ENOENT", "msgget: No such file or directory")
    assert w.err(f"msgget {h} 1 maybe") == ("EINVAL", "usage: msgget PID KEY [create] [excl]")
    w.ok("create name=web persist")
    p = w.ok("spawn web")                                         # sysvmsg disabled
    assert w.err(f"msgget {p} 1 create") == ("ENOSYS", "msgget: Function not implemented")
    assert w.err(f"msgget {h} 1", w.user) == ("EPERM", "msgget: Operation not permitted")


def test_semget(w):
    w.ok("create name=web persist sysvsem=new")
    p, h = w.ok("spawn web"), w.ok("spawn 0")
    assert w.ok(f"semget {p} 7 create") == "65536"
    assert w.ok(f"semget {h} 7 create") == "65537"                    # keys are per jail
    assert w.ok(f"semget {p} 7", w.jailed("web")) == "65536"
    assert w.err(f"semget {h} 7", w.jailed("web")) == ("ESRCH", f"no process {h}")


def test_shmget_shmat_shmdt(w):
    w.ok("create name=web persist sysvshm=inherit")
    p, h = w.ok("spawn web"), w.ok("spawn 0")
    s = w.ok(f"shmget {p} 0x10 create")
    w.ok(f"shmat {h} {s}")
    w.ok(f"ipcrm shm {h} {s}")
    assert w.ok(f"ipcs {h}") == ("", [f"shm {s} 0x0 web"])       # removed, still attached
    w.ok(f"shmdt {h} {s}")
    assert w.err(f"shmdt {h} {s}") == ("EINVAL", "shmdt: Invalid argument")
    assert w.ok(f"ipcs {h}") == ""


def test_ipcrm(w):
    w.ok("create name=web persist sysvmsg=inherit")
    p, h = w.ok("spawn web"), w.ok("spawn 0")
    q = w.ok(f"msgget {p} 0x1234 create")
    w.ok(f"kill {p}")
    w.ok("remove web")
    pr = w.k.by_jid(1)
    assert pr.state == "dying"                                    # the queue keeps it
    assert f"    sysv msq id {q} key 0x1234" in w.k.refs(pr).lines
    assert w.err(f"ipcrm msg {h} 99") == ("EINVAL", "msgctl: Invalid argument")
    assert w.err(f"ipcrm queue {h} {q}") == ("EINVAL", "usage: ipcrm msg|sem|shm PID ID")
    assert w.ok(f"ipcrm msg {h} {q}") == ""
    assert pr.state == "freed"


def test_ipcs(w):
    w.ok("create name=web persist children.max=1 sysvmsg=new sysvsem=new")
    w.ok("create name=web.db persist sysvmsg=inherit")
    p, d, h = w.ok("spawn web"), w.ok("spawn web.db"), w.ok("spawn 0")
    w.ok(f"msgget {h} 0x1 create")
    w.ok(f"msgget {p} 0x2 create")
    w.ok(f"msgget {d} 0x3 create")
    w.ok(f"semget {p} 0x4 create")
    assert w.ok(f"ipcs {h}") == ("", ["msg 65536 0x1 0", "msg 65537 0x0 web", "msg 65538 0x0 web.db",
                                      "sem 65536 0x0 web"])
    assert w.ok(f"ipcs {p}", w.jailed("web")) == ("", ["msg 65537 0x2 0", "msg 65538 0x0 db",
                                                      "sem 65536 0x4 0"])
    assert w.ok(f"ipcs {d}", w.jailed("web")) == ("", ["msg 65537 0x0 0", "msg 65538 0x3 db"])
    w.ok("create name=mail persist sysvmsg=inherit")
    m = w.ok("spawn mail")
    assert w.ok(f"ipcs {m}", w.jailed("mail")) == ("", ["msg 65536 0x0 -", "msg 65537 0x0 -",
                                                       "msg 65538 0x0 -"])
    assert w.err("ipcs") == ("EINVAL", "usage: ipcs PID")


def test_sethostname_domainname_hostuuid(w):
    w.ok("create name=web persist children.max=1 host.hostname=web.example")
    w.ok("create name=web.db persist host=inherit")
    d = w.ok("spawn web.db")
    assert w.ok(f"sethostname {d} renamed") == "web"              # where it landed
    assert w.k.jail_get(w.host, ("name", "web.db"), ["host.hostname"])["host.hostname"] == "renamed"
    assert w.ok(f"setdomainname {d} example.org", w.jailed("web.db")) == ""   # above the caller
    assert w.ok(f"sethostuuid {d} 11111111-2222-3333-4444-555555555555") == "web"
    assert w.k.by_jid(1).hostuuid == "11111111-2222-3333-4444-555555555555"
    w.ok("set web allow.noset_hostname")
    assert w.err(f"sethostname {d} x") == ("EPERM", "sysctl: Operation not permitted")
    h = w.ok("spawn 0")
    w.ok(f"sethostname {h} newhost")
    assert w.k.prison0.hostname == "newhost"
    assert w.err(f"sethostname {h}") == ("EINVAL", "usage: sethostname PID VALUE")


# ------------------------------------------------------------------ rctl, vnet

def test_rctl(w):
    w.ok("create name=www persist")
    assert w.ok("rctl") == ""
    assert w.ok("rctl -a jail:www:maxproc:deny=2") == "jail:www:maxproc:deny=2"
    assert w.ok("rctl -a jail:www:memoryuse:deny=1g") == "jail:www:memoryuse:deny=1073741824"
    assert w.ok("rctl -a jail:www:openfiles:log=5/jail") == "jail:www:openfiles:log=5"
    assert w.ok("rctl ::maxproc") == ("", ["jail:www:maxproc:deny=2"])
    p = w.ok("spawn www")
    w.ok(f"fork {p}")
    assert w.err(f"fork {p}") == ("EAGAIN", "fork: Resource temporarily unavailable")
    head, lines = w.ok("rctl -u jail:www")
    assert "maxproc=2" in lines and len(lines) == 25
    assert w.ok("rctl -r jail:www:maxproc") == "1"
    assert w.err("rctl -r jail:www:maxproc") == ("ESRCH", "rctl: No such process")
    name, msg = w.err("rctl -a jail:www:cputime:deny=1")
    assert errno.errorcode[getattr(errno, name)] == errno.errorcode[errno.EOPNOTSUPP]
    assert msg == "rctl: Operation not supported"
    assert w.err("rctl -a jail:www:maxproc:deny=-1")[0] == "ERANGE"
    assert w.err("rctl -a jail:www:bogus:deny=1")[0] == "EINVAL"
    assert w.err("rctl", w.jailed("www")) == ("EPERM", "rctl: Operation not permitted")
    assert w.err("rctl -x y") == ("EINVAL", "usage: rctl [-a RULE | -r FILTER | -u FILTER | FILTER]")


def test_ifconfig(w):
    assert w.ok("ifconfig .") == ("", ["lo0", "em0"])
    w.ok("create name=v persist vnet=new")
    w.ok("create name=p persist")
    assert w.ok("ifconfig v") == ("", ["lo0"])
    assert w.ok("ifconfig 2") == ("", ["lo0", "em0"])
    assert w.ok("ifconfig .", w.jailed("v")) == ("", ["lo0"])
    assert w.err("ifconfig nope")[0] == "ENOENT"
    assert w.err("ifconfig") == ("EINVAL", "usage: ifconfig JAIL")


def test_ifcreate(w):
    assert w.ok("ifcreate epair") == "epair0a epair0b"
    assert w.ok("ifcreate bridge") == "bridge0"
    assert w.err("ifcreate bridge0")[0] == "EEXIST"
    assert w.err("ifcreate frob")[0] == "EINVAL"
    w.ok("create name=p persist")
    assert w.err("ifcreate tap", w.jailed("p"))[0] == "EPERM"


def test_ifvnet_and_ifreclaim(w):
    w.ok("ifcreate epair")
    w.ok("create name=v persist vnet=new")
    w.ok("create name=p persist")
    assert w.ok("ifvnet epair0b v") == "epair0b"
    assert w.ok("ifconfig v") == ("", ["lo0", "epair0b"])
    assert w.err("ifvnet epair0a p")[0] == "EEXIST"
    assert w.err("ifvnet epair0a nosuch")[0] == "ENXIO"
    assert w.err("ifvnet lo0 v")[0] == "EEXIST"
    assert w.ok("ifreclaim epair0b 1") == "epair0b"
    assert w.ok("ifconfig v") == ("", ["lo0"])
    assert w.err("ifreclaim epair0b v")[0] == "ENXIO"
    assert w.err("ifvnet epair0b") == ("EINVAL", "usage: ifvnet IFNAME JAIL")


# ------------------------------------------------------------------ what the tools learn from the daemon

def test_params_is_the_table_as_libjail_sees_it(w):
    from jailfs.kernel import PARAMS
    count, lines = w.ok("params")
    assert int(count) == len(PARAMS) == len(lines)
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    assert list(rows) == list(w.k.param_names())             # jls's order
    assert rows["host.hostname"] == ["string", "rw", "256"]
    assert rows["children.cur"] == ["int", "ro", "0"]
    assert rows["path"] == ["string", "createonly", "1024"]
    assert rows["persist"] == ["bool", "rw", "0"]
    assert rows["meta"] == ["keyvalue", "rw", "4096"]
    assert w.err("params x") == ("EINVAL", "usage: params")


def test_jailed(w):
    w.ok("create name=web persist")
    assert w.ok("jailed") == "0"
    assert w.ok("jailed", w.jailed("web")) == "1"


def test_bulk_list_is_every_jail_s_get(w):
    from jailfs.ctlproto import parse_answer, parse_records
    w.ok("create name=web persist host.hostname='a b' meta=k=1")
    w.ok("create name=web.db persist")
    w.ok("create name=other persist")
    code, text = w.run("list -p jid name host.hostname meta.k meta.unset")
    a = parse_answer(text)
    assert a.value == "3"
    assert parse_records(a.extra) == [
        (1, {"jid": "1", "name": "web", "host.hostname": "a b", "meta.k": "1"}),
        (2, {"jid": "2", "name": "web.db", "host.hostname": ""}),
        (3, {"jid": "3", "name": "other", "host.hostname": ""})]
    # each jail's record is what `get` answers for it
    for jid, values in parse_records(a.extra):
        assert parse_answer(w.run(f"get {jid} jid name host.hostname meta.k meta.unset")[1]).kv() == values
    # a jailed caller sees its own jails, named relative to it
    inside = parse_answer(w.run("list -p name", w.jailed("web"))[1])
    assert parse_records(inside.extra) == [(2, {"name": "db"})]
    assert w.err("list -p -x") == ("EINVAL", "usage: list [-d] [-p] [PARAM ...]")
    assert w.err("list jid") == ("EINVAL", "usage: list [-d] [-p] [PARAM ...]")
    assert w.err("list -p nosuch")[0] == "EINVAL"


def test_unset_key_is_left_out_of_get(w):
    """libjail reports an unset meta/env key with a zero-length value
    (lib/libjail/jail.c jailparam_get); a key set to "" is kept."""
    w.ok("create name=web persist meta=a=1 env=e=")
    assert w.ok("get web meta.a meta.b env.e env.f") == ("1", ["meta.a=1", "env.e=''"])


def test_procs_lists_the_real_processes_of_exactly_that_jail(w, sleeper):
    w.ok("create name=web persist")
    w.ok("create name=web.db persist")
    assert w.ok("procs web") == "0"
    w.ok(f"attach web {sleeper}")
    assert w.ok("procs web") == ("1", [f"{sleeper} sleep"])
    assert w.ok("procs web.db") == "0"
    assert w.err("procs nope") == ("ENOENT", 'jail "nope" not found')
    assert w.err("procs web x") == ("EINVAL", "usage: procs JAIL")
    # the daemon's own list, when it has one, is used as is
    assert w.ok("procs web", procs_in=lambda pr: [(7, "init")]) == ("1", ["7 init"])
    # without the daemon's knowledge of real processes: refused
    assert w.run("procs web", prison_of=None)[0] == errno.EOPNOTSUPP


# ------------------------------------------------------------------ issue 9: .ctl items 3, 4, 9 and the clock

EXTRA_WORDS = ["remove web x", "list -d x", "spawn web x", "fork 1 x", "exit 1 x", "reap 1 x",
               "kill 1 x", "open 1 /p x", "socket 1 tcp x", "connect 1 a:1 b:2 x", "close 1 3 x",
               "pass 1 3 2 x", "mount 1 nullfs /x y", "sigio 1 3 x", "acct 1 /x y",
               "unmount 1 x", "release 1 x", "advance 1 x", "clock x", "check x",
               "msgget 1 5 create x", "semget 1 5 x", "shmget 1 5 excl x", "ipcrm shm 1 2 x", "ipcs 1 x", "shmat 1 2 x",
               "shmdt 1 2 x", "sethostname 1 h x", "setdomainname 1 d x", "sethostuuid 1 u x", "rctl -a jail:web:maxproc:deny=1 x",
               "rctl -r jail:web x", "rctl -u jail:web x", "ifconfig web x", "ifcreate lo x",
               "ifvnet lo0 web x", "ifreclaim lo0 web x", "attach web 1 x", "enter web 1 x", "procs web x",
               "params x", "jailed x"]


@pytest.mark.parametrize("request_text", EXTRA_WORDS)
def test_extra_words_are_refused_and_change_nothing(w, request_text):
    """Issue 9 item 9: a request with more words than its form is EINVAL with
    the usage line, before anything is done."""
    from jailfs.ctl_common import USAGE
    w.ok("create name=web persist")
    pid = w.ok("spawn web")
    before = (w.k.clock.now, sorted(w.k.procs), w.ok("get web"))
    name, msg = w.err(request_text.replace(" 1 ", f" {pid} ", 1))
    assert (name, msg) == ("EINVAL", f"usage: {USAGE[request_text.split()[0]]}")
    assert (w.k.clock.now, sorted(w.k.procs), w.ok("get web")) == before


def test_every_verb_has_an_extra_words_case():
    """Every verb of ctl.py and ctl_real.py (other modules test their own)."""
    from jailfs.ctl_common import VERBS
    covered = {r.split()[0] for r in EXTRA_WORDS}
    open_ended = {"create", "update", "createupdate", "set", "get"}   # PARAM ... forms
    mine = {name for name, fn in VERBS.items() if fn.__module__ in ("jailfs.ctl", "jailfs.ctl_real")}
    assert mine - open_ended - covered == set()


def test_kill_of_a_stand_in_kills_the_real_process(w, sleeper):
    """Issue 9 item 3: `kill PID` of the process standing for a real one
    sends the real one SIGKILL (the kernel's signal_real hook, the daemon's
    supervisor), as jail_remove does; the stand-in goes when the real process
    ends, so the real one is never left running outside its jail."""
    w.ok("create name=web persist")
    w.ok(f"attach web {sleeper}")
    (stand_in,) = [p for p in w.k.procs.values() if p.real_pid == sleeper]
    signalled = []
    w.k.signal_real = signalled.append
    assert w.ok(f"kill {stand_in.pid}") == ""
    assert signalled == [sleeper]
    assert stand_in.state == "running" and stand_in.prison.name == "web"


@pytest.mark.parametrize("verb", ["exit", "reap"])
def test_exit_of_a_stand_in_is_refused(w, sleeper, verb):
    """Issue 9 item 3: a simulated exit would drop the real process out of
    its jail while it runs on; refused, nothing changes."""
    w.ok("create name=web persist")
    w.ok(f"attach web {sleeper}")
    (stand_in,) = [p for p in w.k.procs.values() if p.real_pid == sleeper]
    assert w.err(f"{verb} {stand_in.pid}") == (
        "EPERM", f"process {stand_in.pid} is real process {sleeper}: it exits when that process does")
    assert stand_in.state == "running" and w.k.procs[stand_in.pid] is stand_in


def test_attach_needs_the_caller_s_privilege(w, sleeper):
    """Issue 9 item 4: FreeBSD's jail_attach checks the calling thread's
    credential (priv_check(td, PRIV_JAIL_ATTACH)), not the target's: a
    non-root caller cannot move a root process, even one already attached."""
    w.ok("create name=web persist")
    w.ok("create name=web.db persist")
    w.ok(f"attach web {sleeper}")                       # by root: a root stand-in
    assert w.err(f"attach web.db {sleeper}", w.user) == ("EPERM", "jail_attach: Operation not permitted")
    assert w.err(f"attach web.db {sleeper}", w.jailed("web", uid=1001)) == (
        "EPERM", "jail_attach: Operation not permitted")
    assert [p.prison.name for p in w.k.procs.values() if p.real_pid == sleeper] == ["web"]
    # root in web sees both the process and web.db: allowed
    assert w.ok(f"attach db {sleeper}", w.jailed("web")) == ""


def test_a_jailed_caller_cannot_move_the_clock(w):
    """The simulated clock is everybody's: a jailed root (even with
    allow.settime, which sets its own jail's view on FreeBSD) gets EPERM."""
    w.ok("create name=web persist allow.settime")
    assert w.err("advance 100000", w.jailed("web")) == (
        "EPERM", "the simulated clock belongs to the host")
    assert w.k.clock.now == 0


@pytest.mark.parametrize("value", ["1e308", "1e10", "1000000001", "inf", "-inf", "nan", "1e400"])
def test_advance_refuses_absurd_values(w, value):
    name, _ = w.err(f"advance {value}")
    assert name == "EINVAL" and w.k.clock.now == 0
    assert w.ok("advance 1000000000") == "1000000000"


def test_procs_leaves_out_processes_the_daemon_cannot_place(w, sleeper):
    """The daemon's prison_of refuses (raises) for a process whose jail it
    cannot establish; procs lists what it can place and nothing else."""
    w.ok("create name=web persist")

    def prison_of(pid):
        if pid == sleeper:
            return w.k.lookup(w.host, "web")
        raise PermissionError(pid)
    assert w.ok("procs web", prison_of=prison_of) == ("1", [f"{sleeper} sleep"])
