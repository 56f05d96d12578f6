"""Attacks on jailfs.host.paths by jailed roots: a link an ancestor jail puts
on its child's root, and a path whose links make the daemon walk for long."""

import errno
import os

import pytest

from jailfs.host.paths import MAX_STEPS, open_within, resolve_jail_path
from jailfs.kernel import JailError


def test_a_creator_root_swapped_for_a_link_is_refused(tmp_path):
    # g's root (tmp_path/g) made p with path /p; p's root creates children.
    # g swaps /p for a link to / : resolving p's root from the host's root
    # would follow it, and p.c's path=/etc would be the host's /etc.
    p = tmp_path / "g" / "p"
    (p / "etc").mkdir(parents=True)
    assert resolve_jail_path(str(p), "/etc") == str(p / "etc")
    os.rename(p, tmp_path / "g" / "p.old")
    os.symlink("/", p)
    with pytest.raises(JailError) as e:
        resolve_jail_path(str(p), "/etc")
    assert e.value.errno == errno.EPERM
    # the anchor (not fixed_roots) resolves the chain, each inside the one above
    fd, real = open_within([str(tmp_path / "g"), str(p)], "/")
    os.close(fd)
    assert real == str(tmp_path / "g")


def test_links_that_make_a_long_walk_are_refused(tmp_path):
    # 40 links of "a/../a/../..." (under 4 KB each): 64,000 names to walk
    (tmp_path / "a").mkdir()
    walk = "/".join(["a", ".."] * 800)
    for i in range(1, 41):
        os.symlink(f"{walk}/l{i + 1}" if i < 40 else f"{walk}/a", tmp_path / f"l{i}")
    assert os.path.realpath(tmp_path / "l1") == str(tmp_path / "a")     # Linux follows it
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(JailError) as e:
        resolve_jail_path(str(tmp_path), "/l1")
    assert e.value.errno == errno.ELOOP
    assert len(os.listdir("/proc/self/fd")) == before
    # a walk within the bound still resolves: two links, 3,200 names
    short = "/".join(["a", ".."] * 800)
    os.symlink(f"{short}/s2", tmp_path / "s1")
    os.symlink(f"{short}/a", tmp_path / "s2")
    assert 3200 < MAX_STEPS
    assert resolve_jail_path(str(tmp_path), "/s1") == str(tmp_path / "a")
