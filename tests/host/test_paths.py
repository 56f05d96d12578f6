"""jailfs.host.paths: a jail's path resolved inside its creator's root, one
component at a time, as FreeBSD resolves it (namei from the jail's root)."""

import errno
import os

import pytest

from jailfs.host.paths import open_within, resolve_jail_path
from jailfs.kernel import JailError


@pytest.fixture
def root(tmp_path):
    """A jail's root holding links that lead out of it, as its root would make."""
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "file").write_text("x")
    (tmp_path / "outside").mkdir()
    os.symlink("/", r / "up")
    os.symlink("../../../../../../..", r / "dots")
    os.symlink("/up/../etc", r / "etcl")
    os.symlink(str(tmp_path / "outside"), r / "abs")
    os.symlink("loop", r / "loop")
    return str(r)


@pytest.mark.parametrize("path, want", [
    ("/", ""), ("/up", ""), ("up/up/..", ""), ("/dots", ""), ("/dots/etc", "/etc"),
    ("/etcl", "/etc"), ("/etc/../../..", ""),
])
def test_links_and_dots_stay_in_the_root(root, path, want):
    assert resolve_jail_path(root, path) == root + want


def test_an_absolute_link_is_read_in_the_root(root):
    # the host's path of "outside" does not exist inside the root
    with pytest.raises(JailError) as e:
        resolve_jail_path(root, "/abs")
    assert e.value.errno == errno.ENOENT


@pytest.mark.parametrize("path, err", [("/loop", errno.ELOOP), ("/file", errno.ENOTDIR),
                                       ("/none", errno.ENOENT)])
def test_refusals(root, path, err):
    with pytest.raises(JailError) as e:
        resolve_jail_path(root, path)
    assert e.value.errno == err


def test_the_descriptor_is_the_directory_resolved(root):
    before = len(os.listdir("/proc/self/fd"))
    fd, real = open_within(root, "/dots/etc")
    try:
        assert real == root + "/etc"
        assert os.path.samestat(os.fstat(fd), os.stat(real))
    finally:
        os.close(fd)
    assert len(os.listdir("/proc/self/fd")) == before      # nothing else left open
