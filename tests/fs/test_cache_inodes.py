"""What the VFS caches is dropped at each change, by the path cache.py chose:
attributes only (inline) for an inode no reader has opened, its page cache
(worker thread) for one a descriptor able to read has, and nothing where Linux
drops it itself (an open without keep_cache).  test_staleness.py always stats
and reads together; these look at one cache at a time, each from the host,
the change made through .ctl (no open of the file itself)."""

from __future__ import annotations

import errno
import mmap
import os

from fsutil import read, write


def test_size_from_stat_alone_is_fresh(jailfs_mount):
    """An inode never opened: its attributes are cached, not its pages."""
    m = jailfs_mount
    os.mkdir(m / "a")
    f = m / "a/host.hostname"
    assert os.stat(f).st_size == len("\n")
    code, answer = m.ctl("set a host.hostname=a-much-longer-name")
    assert code == 0, answer
    assert os.stat(f).st_size == len("a-much-longer-name\n")


def test_nlink_after_a_child_made_elsewhere(jailfs_mount):
    """A directory's attributes (its nlink counts child jails)."""
    m = jailfs_mount
    os.mkdir(m / "a")
    before = os.stat(m / "a").st_nlink
    code, answer = m.ctl("create name=a.b persist")
    assert code == 0, answer
    assert os.stat(m / "a").st_nlink == before + 1


def test_open_reader_sees_the_change(jailfs_mount):
    """A descriptor open across the change reads the new value from offset 0."""
    m = jailfs_mount
    os.mkdir(m / "a")
    code, answer = m.ctl("set a host.hostname=aaaa")
    assert code == 0, answer
    fd = os.open(m / "a/host.hostname", os.O_RDONLY)
    try:
        assert os.pread(fd, 100, 0) == b"aaaa\n"
        code, answer = m.ctl("set a host.hostname=bbbb")
        assert code == 0, answer
        assert os.pread(fd, 100, 0) == b"bbbb\n"
    finally:
        os.close(fd)
    assert read(m / "a/host.hostname") == "bbbb\n"


def test_pages_mapped_through_a_read_write_descriptor(jailfs_mount):
    """A read-write descriptor has no page cache of its own (direct I/O) but
    a private mapping fills the inode's: a later cached read must not see it."""
    m = jailfs_mount
    os.mkdir(m / "a")
    f = m / "a/host.hostname"
    assert write(f, "aaaa\n") == 0
    fd = os.open(f, os.O_RDWR)
    try:
        with mmap.mmap(fd, 5, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ) as mm:
            assert mm[:] == b"aaaa\n"
    finally:
        os.close(fd)
    code, answer = m.ctl("set a host.hostname=bbbb")
    assert code == 0, answer
    assert read(f) == "bbbb\n"


def test_write_after_read_in_the_same_view(jailfs_mount):
    """echo's path: pages read before, then open(O_TRUNC) and write, then read."""
    m = jailfs_mount
    os.mkdir(m / "a")
    f = m / "a/host.hostname"
    for value in ("one", "two", "six"):          # same length: stale pages would show
        assert write(f, value + "\n") == 0
        assert read(f) == value + "\n"
        assert os.stat(f).st_size == 4


def test_a_removed_jails_files_are_gone_though_read_before(jailfs_mount):
    """Removal drops attributes only (cache.py: the numbers never come back),
    even for a file whose pages a cat filled: its path fails, and a descriptor
    opened before the removal is asked about afresh (the file is gone)."""
    m = jailfs_mount
    os.mkdir(m / "a")
    f = m / "a/host.hostname"
    assert read(f) == "\n"                      # pages filled (keep_cache)
    fd = os.open(f, os.O_RDONLY)
    try:
        assert os.fstat(fd).st_size == 1
        code, answer = m.ctl("remove a")        # not rmdir: the VFS would mark the directory dead itself
        assert code == 0, answer
        for probe in (lambda: os.stat(f), lambda: open(f).read(), lambda: os.fstat(fd)):
            try:
                probe()
            except FileNotFoundError:
                continue
            raise AssertionError("a removed jail's file answered from the cache")
    finally:
        os.close(fd)


def test_a_renamed_jails_old_name_is_dropped(jailfs_mount):
    """A name the VFS holds (the listing gave it) goes when the jail is
    renamed by its name file; cache.py queues a name only while its inode is
    held, and this one is."""
    m = jailfs_mount
    os.mkdir(m / "a")
    os.mkdir(m / "a/b")
    assert "b" in os.listdir(m / "a")
    assert os.stat(m / "a/b/name").st_size == len("a.b\n")
    write(m / "a/b/name", "a.c\n")              # a rename by the name file: no VFS rename
    assert not os.path.exists(m / "a/b")
    assert read(m / "a/c/name") == "a.c\n"


def test_a_write_into_a_listed_jail_tells_what_followed_it_below(jailfs_mount):
    """A write tells the kernel only about the held files whose size it may
    have changed (fs/heldsizes.py): the written one, the values derived from it
    and those its descendants inherit; the rest of a listed jail is left alone."""
    m = jailfs_mount
    os.makedirs(m / "a/b/c")
    code, answer = m.ctl("set a.b host=inherit")
    assert code == 0, answer
    for d in ("a", "a/b", "a/b/c"):
        os.listdir(m / d)                  # every parameter file of each is held
    stat = {p: os.stat(m / p).st_size for p in ("a/b/securelevel", "a/b/c/securelevel",
                                                  "a/b/host.hostname", "a/b/host",
                                                  "a/b/c/allow.mount", "a/b/enforce_statfs")}
    assert stat["a/b/securelevel"] == len("-1\n") and stat["a/b/host"] == len("inherit\n")
    assert write(m / "a/securelevel", "1\n") == 0
    assert os.stat(m / "a/b/securelevel").st_size == len("1\n")
    assert os.stat(m / "a/b/c/securelevel").st_size == len("1\n")
    assert write(m / "a/host.hostname", "a-much-longer-name\n") == 0
    assert os.stat(m / "a/b/host.hostname").st_size == len("a-much-longer-name\n")
    assert write(m / "a/b/host.hostname", "bee\n") == 0          # no longer inherited
    assert os.stat(m / "a/b/host").st_size == len("new\n")
    assert write(m / "a/allow.mount", "1\n") == 0               # the parent allows it first
    assert write(m / "a/b/allow.mount", "1\n") == 0
    assert write(m / "a/b/c/allow.mount", "1\n") == 0
    assert os.stat(m / "a/b/c/allow.mount").st_size == len("true\n")
    assert write(m / "a/allow.mount", "0\n") == 0               # cleared below it too
    assert os.stat(m / "a/b/c/allow.mount").st_size == len("false\n")
    assert os.stat(m / "a/b/enforce_statfs").st_size == stat["a/b/enforce_statfs"]


def test_a_removed_jail_is_gone_by_every_path_of_the_remover(jailfs_mount):
    """rmdir leaves its own view's name to the VFS (cache.py ``unlinked``):
    the directory's one dentry is the one rmdir went through, whichever of the
    root's names or .view's it was reached by before."""
    m = jailfs_mount
    os.makedirs(m / "a/b")
    os.mkdir(m / "c")
    view = os.path.realpath(m / ".view")
    for p in (m / "a", m / "a/b", os.path.join(view, "c"), m / "c"):
        os.stat(p)                                       # held, names cached
    os.rmdir(m / "a/b")
    os.rmdir(os.path.join(view, "c"))                   # reached through .view this time
    for p in (m / "a/b", os.path.join(view, "a/b"), m / "c", os.path.join(view, "c")):
        assert not os.path.exists(p), p
    os.rmdir(m / "a")
    assert not os.path.exists(os.path.join(view, "a")) and not os.path.exists(m / "a")
    assert not {"a", "c"} & set(os.listdir(m.path))


def test_another_views_name_of_a_removed_jail_is_dropped(jailfs_mount):
    """Only the remover's own name is left to the VFS: a jailed view that
    walked to the jail (a name cached below its root) must not find the old
    directory under a name made again."""
    from test_staleness import Reader

    m = jailfs_mount
    os.makedirs(m / "r/s/k")
    reader = Reader(m.path, "r", m.ctl)
    try:
        first = reader.ask([("stat", "s/k/securelevel")])[0]
        assert first[0] == len("-1\n"), first
        os.rmdir(m / "r/s/k")
        os.mkdir(m / "r/s/k")
        code, answer = m.ctl("set r.s.k securelevel=2")
        assert code == 0, answer
        assert reader.ask([("stat", "s/k/securelevel")])[0][0] == len("2\n")
        os.rmdir(m / "r/s/k")
        assert reader.ask([("stat", "s/k")])[0] == ["errno", errno.ENOENT]
    finally:
        reader.close()
