"""jailfs/ctlproto.py: the one owner of the .ctl wire format, both sides."""

from __future__ import annotations

import os

import pytest

from jailfs.ctlproto import (
    CtlAnswer, MountError, error_answer, find_mount, jailfs_mounts, kv_line, ok_answer,
    parse_answer, parse_kv, request, split_request,
)


@pytest.fixture
def mounts(monkeypatch, tmp_path):
    """A fake mount table and run-file directory: mounts(*(point, served)) where
    ``served`` is the age rank of the point's daemon record, or None."""
    from jailfs.ops import runfiles
    state = tmp_path / "run"
    state.mkdir()
    monkeypatch.setattr(runfiles, "state_dir", lambda: str(state))
    monkeypatch.delenv("JAILFS_MOUNT", raising=False)

    def make(*table):
        monkeypatch.setattr(runfiles, "mounts", lambda fstype=None: [
            ("jailfs", point, "fuse.jailfs") for point, _ in table] + [("proc", "/proc", "proc")])
        for point, served in table:
            if served is not None:
                pid = runfiles.pid_file(point)
                open(pid, "w").close()
                os.utime(pid, ns=(served * 10**9, served * 10**9))
    return make


def test_jailfs_mount_from_jailfs_mount_env(mounts, tmp_path):
    mounts(("/mnt/a", 1), ("/mnt/b", 2))
    with pytest.raises(MountError, match="not a jailfs mount"):
        find_mount({"JAILFS_MOUNT": str(tmp_path)})
    (tmp_path / ".ctl").write_text("")
    assert find_mount({"JAILFS_MOUNT": str(tmp_path)}) == str(tmp_path)


def test_the_only_mount_is_used(mounts):
    """Inside a jail only the jail's own view is mounted: env -i still finds it."""
    mounts(("/jail/view", None))
    assert find_mount({}) == "/jail/view"
    mounts()
    with pytest.raises(MountError, match="no jailfs mount found"):
        find_mount({})


def test_several_mounts_the_longest_served_is_the_default(mounts):
    mounts(("/mnt/test", 5), ("/srv/jails", 1), ("/mnt/other", None))
    assert jailfs_mounts() == ["/mnt/test", "/srv/jails", "/mnt/other"]
    assert find_mount({}) == "/srv/jails"


def test_several_mounts_none_recorded(mounts):
    mounts(("/mnt/a", None), ("/mnt/b", None))
    with pytest.raises(MountError, match=r"several jailfs mounts \(/mnt/a, /mnt/b\)"):
        find_mount({})


def test_parse_answer():
    assert parse_answer("ok 3\nname=a\n") == CtlAnswer(True, "", "3", ["name=a"])
    assert parse_answer("error EPERM prison limit exceeded\n") == \
        CtlAnswer(False, "EPERM", "prison limit exceeded", [])
    assert parse_answer("", OSError(1, "x")) == \
        CtlAnswer(False, "EPERM", "Operation not permitted", [])
    assert parse_answer("").errname == "EIO"
    assert parse_answer("hello\n").errname == "EIO"


@pytest.mark.parametrize("value", ["", "a b", "it's", "x\ny", "$HOME", "=", "'\"\\"])
def test_server_formats_what_the_client_parses(value):
    text = ok_answer(7, [kv_line("host.hostname", value), kv_line("name", "w")])
    a = parse_answer(text + "\n")
    assert a.ok and a.value == "7"
    assert a.kv() == {"host.hostname": value, "name": "w"}
    assert parse_kv(a.extra) == a.kv()
    err = parse_answer(error_answer("ENOENT", "jail \"x\" not found"))
    assert (err.ok, err.errname, err.value) == (False, "ENOENT", 'jail "x" not found')


def test_request_quotes_each_word():
    words = ["set", "web", "host.hostname=a b", "meta=it's"]
    assert split_request(request(*words)) == words
