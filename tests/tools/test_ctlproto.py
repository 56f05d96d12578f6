"""jailfs/ctlproto.py: the one owner of the .ctl wire format, both sides."""

from __future__ import annotations

import pytest

from jailfs.ctlproto import (
    CtlAnswer, MountError, error_answer, find_mount, kv_line, ok_answer, parse_answer,
    parse_kv, proc_mounts, request, split_request, unescape_mount_field,
)


def test_proc_mounts_parsing(tmp_path):
    m = tmp_path / "mounts"
    m.write_text("jailfs /mnt/a\\040b fuse.jailfs rw 0 0\nproc /proc proc rw 0 0\n"
                 "jailfs /mnt/c fuse.jailfs rw 0 0\n")
    assert proc_mounts(str(m)) == ["/mnt/a b", "/mnt/c"]
    with pytest.raises(MountError, match="several jailfs mounts"):
        find_mount({}, str(m))
    with pytest.raises(MountError, match="no jailfs mount found"):
        find_mount({}, "/dev/null")
    with pytest.raises(MountError, match="not a jailfs mount"):
        find_mount({"JAILFS_MOUNT": str(tmp_path)}, str(m))


def test_unescape_mount_field_octal_only():
    assert unescape_mount_field(r"/a\011b\134c\012") == "/a\tb\\c\n"
    assert unescape_mount_field(r"/a\089") == r"/a\089"     # not octal: kept


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
