"""Per-caller views: a process attached to a jail sees that jail as the root.

The unit tests drive the operations directly (no mount) with a fake request
context; the end-to-end test attaches a real process through .ctl.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest
import trio

import pyfuse3

from fsutil import value
from jailfs.kernel import JAIL_CREATE, JAIL_UPDATE, Caller, JailError, Kernel
from jailfs.fs.operations import JailFS


class Ctx:
    def __init__(self, pid, uid=0):
        self.pid, self.uid, self.gid, self.umask = pid, uid, 0, 0o022


def run(coro_fn, *args):
    return trio.run(coro_fn, *args)


@pytest.fixture
def world():
    k = Kernel()
    fs = JailFS(k)
    host = Caller(k.prison0, 0)
    web = k.jail_set(host, [("name", "web"), ("persist", None)], JAIL_CREATE)
    k.jail_set(host, [("name", "web.db"), ("persist", None)], JAIL_CREATE)
    k.jail_set(host, [("name", "other"), ("persist", None)], JAIL_CREATE)
    # this test process plays the attached process
    proc = k.spawn(web, 0, real_pid=os.getpid())
    jailed = Ctx(os.getpid())
    hostctx = Ctx(1)                 # init is attached nowhere
    return k, fs, jailed, hostctx, proc


def names(fs, ino, ctx):
    async def go():
        fh = await fs.opendir(ino, ctx)
        out = []

        class Tok:
            pass
        orig = pyfuse3.readdir_reply
        try:
            pyfuse3.readdir_reply = lambda tok, name, attr, nxt: out.append(name.decode()) or True
            await fs.readdir(fh, 0, Tok())
        finally:
            pyfuse3.readdir_reply = orig
        await fs.releasedir(fh)
        return out
    return trio.run(go)


def test_jailed_caller_sees_its_jail_as_root(world):
    k, fs, jailed, hostctx, _ = world
    root_j = names(fs, pyfuse3.ROOT_INODE, jailed)
    root_h = names(fs, pyfuse3.ROOT_INODE, hostctx)
    assert "db" in root_j and "web" not in root_j and "other" not in root_j
    assert "web" in root_h and "other" in root_h


def test_inodes_differ_per_view_and_do_not_leak(world):
    k, fs, jailed, hostctx, _ = world

    async def go():
        web_h = await fs.lookup(pyfuse3.ROOT_INODE, b"web", hostctx)
        db_h = await fs.lookup(web_h.st_ino, b"db", hostctx)
        db_j = await fs.lookup(pyfuse3.ROOT_INODE, b"db", jailed)
        assert db_h.st_ino != db_j.st_ino
        assert db_j.entry_timeout == 0            # root entries depend on the caller
        # a host inode is not reachable by the jailed caller, and vice versa
        for ino, ctx in ((db_h.st_ino, jailed), (web_h.st_ino, jailed), (db_j.st_ino, hostctx)):
            with pytest.raises(pyfuse3.FUSEError) as e:
                await fs.getattr(ino, ctx)
            assert e.value.errno == errno.ENOENT
        with pytest.raises(pyfuse3.FUSEError):
            await fs.lookup(pyfuse3.ROOT_INODE, b"other", jailed)
        # .jid in the jail lists only the jail's descendants, relative links
        jid_dir = await fs.lookup(pyfuse3.ROOT_INODE, b".jid", jailed)
        return jid_dir.st_ino
    jid_ino = trio.run(go)
    db = k.lookup(Caller(k.prison0, 0), "web.db")
    assert names(fs, jid_ino, jailed)[2:] == [str(db.jid)]


def test_jailed_caller_reads_names_relative_and_own_params_read_only(world):
    k, fs, jailed, hostctx, _ = world

    async def go():
        db = await fs.lookup(pyfuse3.ROOT_INODE, b"db", jailed)
        name = await fs.lookup(db.st_ino, b"name", jailed)
        fh = (await fs.open(name.st_ino, os.O_RDONLY, jailed)).fh
        data = await fs.read(fh, 0, 100)
        await fs.release(fh)
        own = await fs.lookup(pyfuse3.ROOT_INODE, b"host.hostname", jailed)
        assert own.st_mode & 0o777 == 0o444
        with pytest.raises(pyfuse3.FUSEError) as e:
            await fs.open(own.st_ino, os.O_WRONLY, jailed)
        assert e.value.errno == errno.EACCES
        return data
    assert trio.run(go) == b"db\n"


def test_dead_attached_process_is_a_stranger(world):
    k, fs, jailed, hostctx, proc = world
    fs.supervisor.callers._starts[proc.pid] = -1            # as if the pid had been reused
    assert "web" in names(fs, pyfuse3.ROOT_INODE, jailed)


def test_children_max_applies_inside_jail(world):
    k, fs, jailed, hostctx, _ = world
    web = k.lookup(Caller(k.prison0, 0), "web")
    k.jail_set(Caller(k.prison0, 0), [("jid", str(web.jid)), ("children.max", "1")], 2)

    async def go():
        with pytest.raises(pyfuse3.FUSEError) as e:
            await fs.mkdir(pyfuse3.ROOT_INODE, b"more", 0o755, jailed)
        return e.value.errno
    assert trio.run(go) == errno.EPERM
    assert "prison limit exceeded" in fs.host.log.lines()[-1]


def test_attached_process_sees_jail_through_mount(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db")
    os.mkdir(m / "other")
    script = ("import os, sys\n"
              "sys.stdin.readline()\n"
              "m = sys.argv[1]\n"
              "ls = os.listdir(m)\n"
              "print('db' in ls, 'web' in ls, 'other' in ls)\n"
              "print(open(m + '/db/name').read().strip())\n"
              "print(open(m + '/name').read().strip())\n")
    child = subprocess.Popen([sys.executable, "-c", script, str(m)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        code, answer = jailfs_mount.ctl(f"attach web {child.pid}")
        assert code == 0, answer
        out, _ = child.communicate("go\n", timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    lines = out.splitlines()
    assert lines[0] == "True False False", out
    assert lines[1] == "db"
    assert value(m / "web/name") == "web"         # the host's view is unchanged


# ------------------------------------------------------------------ dying jails
def _lookup_path(fs, ctx, path):
    async def go():
        ino = pyfuse3.ROOT_INODE
        attr = None
        for part in path.split("/"):
            attr = await fs.lookup(ino, part.encode(), ctx)
            ino = attr.st_ino
        return attr
    return trio.run(go)


def _read(fs, ctx, path):
    a = _lookup_path(fs, ctx, path)

    async def rd():
        fh = (await fs.open(a.st_ino, os.O_RDONLY, ctx)).fh
        data = await fs.read(fh, 0, 65536)
        await fs.release(fh)
        return data.decode()
    return trio.run(rd)


def test_dying_jails_listed_with_params_refs_and_links():
    k = Kernel()
    fs = JailFS(k)
    host = Caller(k.prison0, 0)
    jid = k.jail_set(host, [("name", "web"), ("persist", None)], JAIL_CREATE)
    proc = k.spawn(jid)
    fd = k.tcp_connect(proc, "192.0.2.1:1234", "192.0.2.2:80")
    k.close(proc, fd)                         # TIME_WAIT holds the credential for 2*MSL
    k.jail_remove(host, jid)
    ctx = Ctx(1)
    assert names(fs, pyfuse3.ROOT_INODE, ctx).count("web") == 0
    dying_ino = _lookup_path(fs, ctx, ".dying").st_ino
    assert names(fs, dying_ino, ctx)[2:] == [str(jid)]
    assert _read(fs, ctx, f".dying/{jid}/name") == "web\n"
    assert _read(fs, ctx, f".dying/{jid}/dying") == "true\n"
    assert _lookup_path(fs, ctx, f".dying/{jid}/persist").st_mode & 0o777 == 0o444
    assert "TIME_WAIT" in _read(fs, ctx, f".dying/{jid}/.refs")

    async def link():
        a = await fs.lookup((await fs.lookup(pyfuse3.ROOT_INODE, b".jid", ctx)).st_ino,
                            str(jid).encode(), ctx)
        return await fs.readlink(a.st_ino, ctx)
    assert trio.run(link) == f"../.dying/{jid}".encode()
    # a new jail asking for the dying one's jid renumbers it
    k.jail_set(host, [("name", str(jid)), ("persist", None)], JAIL_CREATE)
    listed = names(fs, dying_ino, ctx)[2:]
    assert len(listed) == 1 and listed[0] != str(jid)
    assert any(" renumbered " in line for line in fs.host.log.lines())
    k.advance(61)                             # TIME_WAIT ends: the last holder goes, freed
    assert names(fs, dying_ino, ctx)[2:] == []
    assert fs.check() == ""
    k.check_invariants()


def test_events_lines_say_what_was_true_when_each_event_happened():
    # .events lines are written after the request that made them is answered,
    # or when someone looks; by then the jail may be renamed, renumbered, freed
    k = Kernel()
    fs = JailFS(k)
    host = Caller(k.prison0, 0)
    web = k.jail_set(host, [("name", "web"), ("persist", None)], JAIL_CREATE)
    db = k.jail_set(host, [("name", "web.db"), ("persist", None)], JAIL_CREATE)
    web_view = fs.views.get(k.by_jid(web))
    k.jail_set(host, [("jid", str(db)), ("name", "web.cache")], JAIL_UPDATE)
    k.jail_set(host, [("name", "web.cache.x"), ("persist", None)], JAIL_CREATE)
    k.jail_remove(host, db)
    assert fs.host.log.unwritten and web_view.log.unwritten     # nobody looked yet
    mine = [" ".join(line.split()[1:4]) for line in web_view.log.lines()]
    assert mine == [f"updated jid={db} name=cache", f"created jid={db + 1} name=cache.x",
                    f"removed jid={db} name=cache", f"dying jid={db} name=cache",
                    f"dying jid={db + 1} name=cache.x", f"freed jid={db + 1} name=cache.x",
                    f"freed jid={db} name=cache"]
    hosts = [" ".join(line.split()[1:4]) for line in fs.host.log.lines()]
    assert hosts[:3] == [f"created jid={web} name=web", f"created jid={db} name=web.db",
                         f"updated jid={db} name=web.cache"]
    # a refusal's line comes after the events before it
    with pytest.raises(JailError):
        k.jail_set(host, [("name", "web"), ("persist", None)], JAIL_CREATE)
    k.jail_set(host, [("name", "late"), ("persist", None)], JAIL_CREATE)
    kinds = [line.split()[1] for line in fs.host.log.lines()]
    assert kinds[-2:] == ["refused", "created"] and fs.host.log.seq == len(kinds)
