"""Child jails' entries are kept from one listing to the next (fs/listings.py)
until a kernel event changes them: a listing after a change shows it, and the
attributes it hands the kernel (which keeps them an hour) are exact.

Through the mount, a listing's entry refreshes the attributes the kernel
holds for that inode, so a kept entry that should have been dropped shows up
as a wrong ``stat`` after the listing.
"""

from __future__ import annotations

import os

import pyfuse3
import pytest
import trio

from jailfs.fs import listings
from jailfs.fs.operations import JailFS
from jailfs.kernel import JAIL_CREATE, JAIL_UPDATE, Caller, Kernel
from tests.fs.test_listings import Ctx, Page, fake_reply, listing

ROOT = pyfuse3.ROOT_INODE


def unmounted(monkeypatch, names, kept: int | None = None):
    """A kernel with jails ``names`` and the filesystem over it, listed
    without a mount (test_listings.fake_reply); ``kept``: KEPT_ENTRIES."""
    monkeypatch.setattr(pyfuse3, "readdir_reply", fake_reply)
    if kept is not None:
        monkeypatch.setattr(listings, "KEPT_ENTRIES", kept)
    k = Kernel()
    host = Caller(k.prison0, 0)
    for name in names:
        k.jail_set(host, [("name", name), ("persist", None)], JAIL_CREATE)
    return k, JailFS(k), host


def test_a_listed_jails_link_count_follows_its_children(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "a")
    os.mkdir(m / "a/x")
    # each listing leaves its directory's attributes to be asked again (atime),
    # so the root is listed last: a's stat then comes from the root's entry
    for d in (m / "a", m):
        os.listdir(d)                   # kept: a (nlink 3) in the root, x in a
    os.mkdir(m / "a/x/y")               # x gets a child: a's list is stale, the root's not
    os.mkdir(m / "a/b")                 # a gets one: the root's list is stale
    for d in (m / "a", m):
        os.listdir(d)
    assert os.stat(m / "a").st_nlink == 4
    assert os.stat(m / "a/x").st_nlink == 3
    os.rmdir(m / "a/x/y")
    os.rmdir(m / "a/b")
    for d in (m / "a", m):
        os.listdir(d)
    assert os.stat(m / "a").st_nlink == 3
    assert os.stat(m / "a/x").st_nlink == 2


def test_made_renamed_and_removed_jails_show_in_the_next_listing(jailfs_mount):
    m = jailfs_mount.path
    for name in ("a", "b", "c", "a/in"):
        os.mkdir(m / name)
    assert {"a", "b", "c"} <= set(os.listdir(m))
    assert "in" in os.listdir(m / "a")
    os.rename(m / "b", m / "bee")
    os.rmdir(m / "c")
    os.mkdir(m / "d")
    os.rename(m / "a/in", m / "a/out")
    seen = set(os.listdir(m))
    assert {"a", "bee", "d"} <= seen and not {"b", "c"} & seen
    assert os.listdir(m / "a").count("out") == 1 and "in" not in os.listdir(m / "a")
    # a rename through the name file, and a value that is not a name: the
    # same entries and, for the jail, the inode its path gives
    (m / "bee/name").write_text("bea\n")
    (m / "d/host.hostname").write_text("d.example\n")
    seen = set(os.listdir(m))
    assert {"a", "bea", "d"} <= seen and "bee" not in seen
    with os.scandir(m) as it:
        inos = {e.name: e.inode() for e in it}
    for name in ("a", "bea", "d"):
        assert inos[name] == os.stat(m / name).st_ino


def test_a_jailed_listing_and_the_hosts_are_kept_apart(monkeypatch):
    k, fs, host = unmounted(monkeypatch, ("web", "web.db"))
    k.spawn(k.lookup(host, "web").jid, 0, real_pid=os.getpid())
    jailed, as_host = Ctx(os.getpid()), Ctx(1)
    web_ino = trio.run(fs.lookup, ROOT, b"web", as_host).st_ino
    from_host = {e[0]: e[2] for e in listing(fs, web_ino, as_host)}
    from_web = {e[0]: e[2] for e in listing(fs, ROOT, jailed)}
    assert from_host["db"] != from_web["db"]            # one number per view
    assert from_web["db"] == trio.run(fs.lookup, ROOT, b"db", jailed).st_ino


@pytest.mark.parametrize("kept", [0, 3, 100_000])
def test_every_listed_jail_is_counted_once_per_listing_whether_kept_or_not(
        monkeypatch, kept):
    k, fs, host = unmounted(monkeypatch, [f"j{i}" for i in range(5)], kept)
    ctx = Ctx(1)
    first = listing(fs, ROOT, ctx, room=4)
    k.jail_set(host, [("jid", str(k.lookup(host, "j2").jid)), ("name", "two")], JAIL_UPDATE)
    second = listing(fs, ROOT, ctx, room=4)
    jails = [e for e in second if e[1] >= 1 << 20]     # child jails' cookies
    assert [e[0] for e in jails] == ["j0", "j1", "two", "j3", "j4"]
    assert [e[0] for e in first if e[1] >= 1 << 20] == ["j0", "j1", "j2", "j3", "j4"]
    for name, _, ino, *_ in jails:
        pr = k.lookup(host, name)
        assert fs.cache.counts(pr.serial)[ino] == 2, name
    # what the kernel would hold of the root's own files: one per listing
    held = fs.cache.counts(k.prison0.serial)
    assert held and set(held.values()) == {2}


@pytest.mark.parametrize("kept", [0, 100_000])
def test_a_name_removed_and_made_again_during_a_listing_is_listed_once(monkeypatch, kept):
    k, fs, host = unmounted(monkeypatch, [f"j{i}" for i in range(6)], kept)

    async def go():
        fh = await fs.opendir(ROOT, Ctx(1))
        first = Page(7 + len(fs.param_names) + 2)   # . .. five dot files, params, j0, j1
        await fs.readdir(fh, 0, first)
        k.jail_remove(host, k.lookup(host, "j1").jid)
        k.jail_set(host, [("name", "j1"), ("persist", None)], JAIL_CREATE)
        k.jail_set(host, [("name", "j9"), ("persist", None)], JAIL_CREATE)
        rest = Page(10_000)
        await fs.readdir(fh, first.entries[-1][1], rest)
        # a descriptor that seeks to a cookie it was given lists what follows
        fh2 = await fs.opendir(ROOT, Ctx(1))
        sought = Page(10_000)
        await fs.readdir(fh2, first.entries[-2][1], sought)
        for h in (fh, fh2):
            await fs.releasedir(h)
        return ([e[0] for e in first.entries + rest.entries],
                [e[0] for e in sought.entries])
    names, sought = trio.run(go)
    assert names[-6:] == ["j0", "j1", "j2", "j3", "j4", "j5"]
    assert sought == ["j2", "j3", "j4", "j5", "j1", "j9"]     # the old j1 is gone


def test_what_is_kept_is_bounded(monkeypatch):
    k, fs, host = unmounted(monkeypatch, ("a", "b", "a.x", "a.y", "b.x", "b.y"), kept=3)
    ctx = Ctx(1)
    ino = {n: trio.run(fs.lookup, ROOT, n.encode(), ctx).st_ino for n in ("a", "b")}
    for name in ("a.x", "a.y", "b.x"):                  # childless: nothing to keep
        parent, child = name.split(".")
        listing(fs, trio.run(fs.lookup, ino[parent], child.encode(), ctx).st_ino, ctx)
    assert len(fs.listings) == 0
    listing(fs, ino["a"], ctx)
    assert len(fs.listings) == 1
    listing(fs, ino["b"], ctx)                          # 2 + 2 > 3: a's list goes
    assert len(fs.listings) == 1 and fs.listings._kept == 2
    for i in range(2):                                  # the root, 4 children: listed, not kept
        k.jail_set(host, [("name", f"c{i}"), ("persist", None)], JAIL_CREATE)
    assert [e[0] for e in listing(fs, ROOT, ctx) if e[1] >= 1 << 20] == ["a", "b", "c0", "c1"]
    assert len(fs.listings) == 1 and fs.listings._kept == 2     # b's still


def test_forget_sees_every_lookup_a_listing_handed_out(monkeypatch):
    """The kernel forgets a listed inode with the lookups it holds: all at
    once when it drops the inode, or one for a reply it could not use.  The
    cache must follow either exactly, though a kept list counts on its side."""
    k, fs, host = unmounted(monkeypatch, ("j0", "j1", "j2"))
    ctx = Ctx(1)
    j1 = k.lookup(host, "j1")
    ino = [e for e in listing(fs, ROOT, ctx) if e[0] == "j1"][0][2]
    listing(fs, ROOT, ctx)
    listing(fs, ROOT, ctx)                              # the kernel holds 3
    trio.run(fs.forget, [(ino, 1)])
    assert ino in fs.cache.held(j1.serial)             # 2 left
    trio.run(fs.forget, [(ino, 2)])
    assert ino not in fs.cache.held(j1.serial)
    listing(fs, ROOT, ctx)                              # held again: 1
    assert ino in fs.cache.held(j1.serial)
    listing(fs, ROOT, ctx)                              # 2
    trio.run(fs.forget, [(ino, 1)])
    assert ino in fs.cache.held(j1.serial)
    trio.run(fs.forget, [(ino, 1)])
    assert ino not in fs.cache.held(j1.serial)


def test_a_dropped_list_leaves_its_lookups_with_the_cache(monkeypatch):
    k, fs, host = unmounted(monkeypatch, ("a",))
    a = k.lookup(host, "a")
    ctx = Ctx(1)
    for _ in range(4):
        ino = [e for e in listing(fs, ROOT, ctx) if e[0] == "a"][0][2]
    k.jail_set(host, [("name", "b"), ("persist", None)], JAIL_CREATE)     # drops the root's
    assert fs.cache.held(a.serial) == {ino: 4}


def test_parameter_files_listed_again_carry_their_sizes_after_each_change(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "a/b")
    for d in (m, m / "a", m / "a/b"):
        for _ in range(3):
            os.listdir(d)
    (m / "a/host.hostname").write_text("x" * 100 + "\n")        # inherited by nothing
    (m / "a/securelevel").write_text("2\n")                     # a/b follows: 2
    os.mkdir(m / "a/c")                                         # a's children.cur
    for d in (m, m / "a", m / "a/b"):
        for _ in range(3):
            os.listdir(d)
    assert os.stat(m / "a/host.hostname").st_size == 101
    assert os.stat(m / "a/children.cur").st_size == len("2\n")
    assert os.stat(m / "a/b/securelevel").st_size == len("2\n")
    assert os.stat(m / "children.cur").st_size == len("1\n")
    assert os.stat(m / "a/b/name").st_size == len("a.b\n")

