"""Directory listings, driven through the operations without a mount.

A listing is resumed by the kernel once per page of entries (the cookie of
the last entry it kept); each entry carries attributes the kernel caches as
long as a lookup's.  These tests hold a listing to what lookup and getattr
answer, in pages of any size, after changes, and in each view.
"""

from __future__ import annotations

import os

import pyfuse3
import pytest
import trio

from jailfs.fs.operations import JailFS
from jailfs.kernel import JAIL_CREATE, JAIL_UPDATE, Caller, Kernel

ROOT = pyfuse3.ROOT_INODE


class Ctx:
    def __init__(self, pid, uid=0):
        self.pid, self.uid, self.gid, self.umask = pid, uid, 0, 0o022


class Page:
    """A readdir reply that holds ``room`` entries."""

    def __init__(self, room):
        self.room, self.entries = room, []


def fake_reply(page, name, attr, cookie):
    if len(page.entries) == page.room:
        return False
    # readdir_reply copies the attributes: so does this
    page.entries.append((name.decode(), cookie, attr.st_ino, attr.st_mode, attr.st_size,
                         attr.st_nlink, attr.st_mtime_ns, attr.attr_timeout))
    return True


@pytest.fixture(autouse=True)
def replies(monkeypatch):
    monkeypatch.setattr(pyfuse3, "readdir_reply", fake_reply)


@pytest.fixture
def world():
    k = Kernel()
    fs = JailFS(k)
    host = Caller(k.prison0, 0)
    web = k.jail_set(host, [("name", "web"), ("persist", None)], JAIL_CREATE)
    k.jail_set(host, [("name", "web.db"), ("persist", None)], JAIL_CREATE)
    k.spawn(web, 0, real_pid=os.getpid())       # this process plays one in web
    return k, fs, Ctx(os.getpid()), Ctx(1)


def listing(fs, ino, ctx, room=10_000):
    """Every entry of a directory, read in pages of ``room`` entries."""
    async def go():
        fh = await fs.opendir(ino, ctx)
        out, start = [], 0
        while True:
            page = Page(room)
            await fs.readdir(fh, start, page)
            if not page.entries:
                break
            out += page.entries
            start = page.entries[-1][1]
        await fs.releasedir(fh)
        return out
    return trio.run(go)


def lookup(fs, parent, name, ctx):
    return trio.run(fs.lookup, parent, name.encode(), ctx)


def getattr_(fs, ino, ctx):
    return trio.run(fs.getattr, ino, ctx)


@pytest.mark.parametrize("room", [1, 3, 7, 64, 10_000])
def test_pages_of_any_size_list_every_entry_once_in_cookie_order(world, room):
    k, fs, _, host = world
    for i in range(40):
        k.jail_set(Caller(k.prison0, 0), [("name", f"j{i}"), ("persist", None)], JAIL_CREATE)
    whole = listing(fs, ROOT, host)
    paged = listing(fs, ROOT, host, room)
    assert [e[0] for e in paged] == [e[0] for e in whole]
    cookies = [e[1] for e in paged]
    assert cookies == sorted(set(cookies))
    names = [e[0] for e in paged]
    assert {"web", "j0", "j39", "host.hostname", ".refs", ".ctl"} <= set(names)
    assert "db" not in names
    web = lookup(fs, ROOT, "web", host).st_ino
    assert [e[0] for e in listing(fs, web, host, room)] == \
        [e[0] for e in listing(fs, web, host)]


def test_entries_carry_what_lookup_and_getattr_answer(world):
    k, fs, jailed, host = world
    db = k.lookup(Caller(k.prison0, 0), "web.db")
    k.jail_set(Caller(k.prison0, 0), [("jid", str(db.jid)), ("host.hostname", "a.example")],
               JAIL_UPDATE)
    for ctx, path in ((host, ["web"]), (host, ["web", "db"]), (jailed, ["db"]),
                      (host, []), (jailed, [])):
        ino = ROOT
        for part in path:
            ino = lookup(fs, ino, part, ctx).st_ino
        for name, _, e_ino, mode, size, nlink, mtime, timeout in listing(fs, ino, ctx, 5):
            if name in (".", ".."):
                continue            # the kernel links no inode for these
            a = lookup(fs, ino, name, ctx)
            assert (e_ino, mode, nlink, mtime) == (a.st_ino, a.st_mode, a.st_nlink,
                                                   a.st_mtime_ns), (path, name)
            assert timeout == a.attr_timeout
            if timeout:             # the kernel answers from these: exact
                assert size == getattr_(fs, e_ino, ctx).st_size, (path, name)


def test_sizes_follow_each_change_and_each_view(world):
    k, fs, jailed, host = world
    web_h = lookup(fs, ROOT, "web", host).st_ino
    db_h = lookup(fs, web_h, "db", host).st_ino
    db_j = lookup(fs, ROOT, "db", jailed).st_ino

    def size(ino, ctx, name):
        return {e[0]: e[4] for e in listing(fs, ino, ctx)}[name]
    # the same jail's name file, as the host and as web see it
    assert size(db_h, host, "name") == len("web.db\n")
    assert size(db_j, jailed, "name") == len("db\n")
    assert size(db_h, host, "host.hostname") == size(db_j, jailed, "host.hostname")
    db = k.lookup(Caller(k.prison0, 0), "web.db")
    k.jail_set(Caller(k.prison0, 0), [("jid", str(db.jid)), ("host.hostname", "x" * 200)],
               JAIL_UPDATE)
    assert size(db_h, host, "host.hostname") == 201
    assert size(db_j, jailed, "host.hostname") == 201
    k.jail_set(Caller(k.prison0, 0), [("name", "web.db.deeper"), ("persist", None)],
               JAIL_CREATE)
    assert size(db_h, host, "children.cur") == len("1\n")
    k.jail_set(Caller(k.prison0, 0), [("jid", str(db.jid)), ("name", "web.database")],
               JAIL_UPDATE)
    assert size(db_h, host, "name") == len("web.database\n")


def test_a_listing_works_out_no_refs_text(world, monkeypatch):
    k, fs, jailed, host = world

    def refuse(*args):
        raise AssertionError(".refs text worked out for a listing")
    monkeypatch.setattr(fs.supervisor, "refs_text", refuse)
    web = lookup(fs, ROOT, "web", host).st_ino
    for ino, ctx in ((ROOT, host), (web, host), (ROOT, jailed)):
        refs = [e for e in listing(fs, ino, ctx) if e[0] == ".refs"]
        assert refs and refs[0][7] == 0     # zero timeout: the kernel asks getattr


def test_renamed_and_removed_jails_during_a_listing(world):
    k, fs, _, host = world
    host_caller = Caller(k.prison0, 0)
    for i in range(10):
        k.jail_set(host_caller, [("name", f"j{i}"), ("persist", None)], JAIL_CREATE)

    async def go():
        fh = await fs.opendir(ROOT, host)
        first = Page(7 + len(fs.param_names) + 2)   # . .. five dot files, params, web, j0
        await fs.readdir(fh, 0, first)
        j5 = k.lookup(host_caller, "j5")
        k.jail_set(host_caller, [("jid", str(j5.jid)), ("name", "five")], JAIL_UPDATE)
        k.jail_remove(host_caller, k.lookup(host_caller, "j7").jid)
        rest = Page(10_000)
        await fs.readdir(fh, first.entries[-1][1], rest)
        await fs.releasedir(fh)
        return [e[0] for e in first.entries], [e[0] for e in rest.entries]
    before, after = trio.run(go)
    assert before[-2:] == ["web", "j0"]
    assert "j7" not in after and "five" in after and "j5" not in after
    names = before + after
    assert len(names) == len(set(names))


def test_through_the_mount_a_listed_refs_has_its_true_size(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db")
    for d in (m, m / "web"):
        assert ".refs" in os.listdir(d)
        with open(d / ".refs", "rb") as f:
            text = f.read()
        assert text and os.stat(d / ".refs").st_size == len(text)
        assert os.stat(d / "host.hostname").st_size == len((d / "host.hostname").read_bytes())
