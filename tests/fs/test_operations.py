"""One test per row of the operations table (interface.md §3) and each refusal."""

from __future__ import annotations

import errno
import os
import stat

from fsutil import err, events, kinds, read, value, write
from jailfs.kernel import Kernel

ROOT_DOTS = {".ctl", ".dying", ".events", ".jid", ".refs"}


def params():
    return list(Kernel().param_names())


# ------------------------------------------------------------------ layout
def test_fresh_mount_holds_only_prison0(jailfs_mount):
    m = jailfs_mount.path
    names = set(os.listdir(m))
    assert names == set(params()) | ROOT_DOTS
    assert value(m / "jid") == "0"
    assert value(m / "name") == "0"
    assert value(m / "parent") == "0"
    assert os.listdir(m / ".jid") == []
    assert os.listdir(m / ".dying") == []
    with open("/proc/mounts") as f:
        line = next(x for x in f if f" {m} " in x)
    assert line.split()[0] == "jailfs" and line.split()[2] == "fuse.jailfs"


def test_root_param_files_are_read_only(jailfs_mount):
    m = jailfs_mount.path
    for name in ("host.hostname", "persist", "jid", "children.max"):
        assert stat.S_IMODE(os.stat(m / name).st_mode) == 0o444
        assert write(m / name, "x\n") == errno.EACCES


def test_modes(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert stat.S_IMODE(os.stat(m / "web").st_mode) == 0o755
    assert stat.S_ISDIR(os.stat(m / "web").st_mode)
    assert stat.S_IMODE(os.stat(m / "web/host.hostname").st_mode) == 0o644
    for ro in ("children.cur", "dying", "parent", "cpuset.id"):
        assert stat.S_IMODE(os.stat(m / "web" / ro).st_mode) == 0o444, ro
    assert stat.S_IMODE(os.stat(m / ".ctl").st_mode) == 0o666
    assert stat.S_IMODE(os.stat(m / ".events").st_mode) == 0o444
    assert os.stat(m / "web/persist").st_uid == 0


# ------------------------------------------------------------------ mkdir
def test_mkdir_creates_persistent_jail(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert value(m / "web/name") == "web"
    assert value(m / "web/persist") == "true"
    assert value(m / "web/jid") == "1"
    assert value(m / "web/dying") == "false"
    assert set(os.listdir(m / "web")) == set(params()) | {".refs"}
    assert "created" in kinds(m)


def test_mkdir_nested_is_a_child(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    os.mkdir(m / "web/db")
    assert value(m / "web/db/name") == "web.db"
    assert value(m / "web/db/parent") == value(m / "web/jid")
    assert value(m / "web/children.cur") == "1"
    assert "db" in os.listdir(m / "web")
    assert "db" not in os.listdir(m)


def test_mkdir_numeric_name_is_the_jid(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "42")
    assert value(m / "42/jid") == "42"
    assert value(m / "42/name") == "42"
    assert os.readlink(m / ".jid/42") == "../42"


def test_mkdir_dotted_name_einval(jailfs_mount):
    m = jailfs_mount.path
    assert err(os.mkdir, m / ".hidden") == errno.EINVAL
    assert err(os.mkdir, m / "a.b") == errno.EINVAL
    assert not os.path.exists(m / "a.b")
    assert any("refused" in line and "mkdir" in line for line in events(m))


def test_mkdir_param_or_reserved_name_eexist(jailfs_mount):
    m = jailfs_mount.path
    for name in ("persist", "jid", "path", ".dying", ".ctl", ".events"):
        assert err(os.mkdir, m / name) == errno.EEXIST, name
    os.mkdir(m / "web")
    assert err(os.mkdir, m / "web/persist") == errno.EEXIST
    assert err(os.mkdir, m / "web") == errno.EEXIST


def test_mkdir_in_special_dirs_refused(jailfs_mount):
    m = jailfs_mount.path
    assert err(os.mkdir, m / ".dying/x") == errno.EPERM
    assert err(os.mkdir, m / ".jid/x") == errno.EPERM


def test_mkdir_bad_jail_name_from_kernel(jailfs_mount):
    m = jailfs_mount.path
    long = "x" * 300
    assert err(os.mkdir, m / long[:255]) in (errno.ENAMETOOLONG, 0)


# ------------------------------------------------------------------ cat / echo
def test_cat_is_value_and_newline_with_truthful_size(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    text = read(m / "web/host.hostname")
    assert text.endswith("\n")
    assert os.stat(m / "web/host.hostname").st_size == len(text.encode())
    assert write(m / "web/host.hostname", "a-much-longer-host-name.example\n") == 0
    assert os.stat(m / "web/host.hostname").st_size == len("a-much-longer-host-name.example\n")
    assert read(m / "web/host.hostname") == "a-much-longer-host-name.example\n"


def test_echo_updates_one_param(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert write(m / "web/host.hostname", "www\n") == 0
    assert value(m / "web/host.hostname") == "www"
    assert write(m / "web/host.hostname", "nonl") == 0          # no newline: same
    assert value(m / "web/host.hostname") == "nonl"
    assert write(m / "web/securelevel", "2\n") == 0
    assert value(m / "web/securelevel") == "2"
    ev = [line for line in events(m) if " updated " in line]
    assert ev and "host.hostname" in ev[0]


def test_only_one_trailing_newline_is_dropped(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert write(m / "web/meta", "a=1\nb=2\n") == 0
    assert read(m / "web/meta") == "a=1\nb=2\n"


def test_bool_files_accept_1_0_true_false(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    f = m / "web/allow.mount"
    for text, want in (("1", "true"), ("0", "false"), ("true", "true"), ("false", "false")):
        assert write(f, text + "\n") == 0
        assert value(f) == want


def test_zero_length_write_changes_nothing(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    write(m / "web/host.hostname", "keep\n")
    assert write(m / "web/host.hostname", b"") == 0                  # `: > file`
    assert value(m / "web/host.hostname") == "keep"
    fd = os.open(m / "web/host.hostname", os.O_WRONLY | os.O_TRUNC)
    os.close(fd)
    assert value(m / "web/host.hostname") == "keep"
    os.truncate(m / "web/host.hostname", 0)
    assert value(m / "web/host.hostname") == "keep"


def test_write_over_one_page_einval(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert write(m / "web/meta", "x" * 5000) == errno.EINVAL
    assert value(m / "web/meta") == ""


def test_bad_value_einval_and_old_value_kept(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    write(m / "web/securelevel", "1\n")
    assert write(m / "web/securelevel", "abc\n") == errno.EINVAL
    assert value(m / "web/securelevel") == "1"
    assert write(m / "web/persist", "maybe\n") == errno.EINVAL
    assert value(m / "web/persist") == "true"
    assert write(m / "web/ip4.addr", "not-an-address\n") == errno.EINVAL
    refused = [line for line in events(m) if " refused " in line]
    assert any('non-integer value' in line for line in refused), refused
    assert any('unknown boolean value' in line for line in refused), refused


def test_read_only_params_refuse_writes(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    for name in ("children.cur", "dying", "parent", "cpuset.id"):
        assert write(m / "web" / name, "5\n") == errno.EACCES, name


def test_create_only_params_refuse_updates(jailfs_mount):
    """Create-only parameters are 0444 files (issue 12 item 20); jail_set refuses them."""
    m = jailfs_mount.path
    os.mkdir(m / "web")
    old = value(m / "web/path")
    for name in ("path", "vnet", "ip4", "ip6", "jid", "osrelease", "osreldate"):
        assert stat.S_IMODE(os.stat(m / "web" / name).st_mode) == 0o444, name
    assert write(m / "web/path", "/elsewhere\n") == errno.EACCES
    assert value(m / "web/path") == old
    assert write(m / "web/vnet", "new\n") == errno.EACCES
    assert write(m / "web/ip4", "new\n") == errno.EACCES
    code, answer = jailfs_mount.ctl("set web path=/elsewhere")
    assert code == errno.EINVAL, answer
    assert value(m / "web/path") == old
    assert any("cannot be changed after creation" in line for line in events(m))


def test_writes_are_validated_inside_write(jailfs_mount):
    """The error arrives at write(2), not at close(2)."""
    m = jailfs_mount.path
    os.mkdir(m / "web")
    fd = os.open(m / "web/securelevel", os.O_WRONLY)
    try:
        assert err(os.write, fd, b"bad\n") == errno.EINVAL
        assert os.write(fd, b"3\n") == 2
    finally:
        os.close(fd)
    assert value(m / "web/securelevel") == "3"


# ------------------------------------------------------------------ files refused
def test_unlink_create_rename_of_param_files_eperm(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert err(os.unlink, m / "web/persist") == errno.EPERM
    assert err(os.open, m / "web/newfile", os.O_CREAT | os.O_WRONLY, 0o644) == errno.EPERM
    assert err(os.rename, m / "web/persist", m / "web/persist2") == errno.EPERM
    assert err(os.symlink, "x", m / "web/link") == errno.EPERM
    assert err(os.link, m / "web/persist", m / "web/hard") == errno.EPERM
    assert err(os.unlink, m / ".events") == errno.EPERM
    assert err(os.chmod, m / "web/persist", 0o600) == errno.EPERM
    assert os.path.exists(m / "web/persist")


# ------------------------------------------------------------------ mv
def test_rename_within_parent(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    os.mkdir(m / "web/db")
    jid = value(m / "web/jid")
    ino = os.stat(m / "web").st_ino
    os.rename(m / "web", m / "www")
    assert not os.path.exists(m / "web")
    assert value(m / "www/name") == "www"
    assert value(m / "www/jid") == jid
    assert value(m / "www/db/name") == "www.db"
    assert os.stat(m / "www").st_ino == ino
    os.rename(m / "www/db", m / "www/db2")
    assert value(m / "www/db2/name") == "www.db2"
    assert sorted(x for x in os.listdir(m / "www") if x.startswith("db")) == ["db2"]


def test_rename_across_parents_exdev(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "a/x")
    os.mkdir(m / "b")
    assert err(os.rename, m / "a/x", m / "b/x") == errno.EXDEV
    assert err(os.rename, m / "a/x", m / "x") == errno.EXDEV
    assert value(m / "a/x/name") == "a.x"


def test_rename_onto_existing_jail_refused(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "a")
    os.mkdir(m / "b")
    assert err(os.rename, m / "a", m / "b") == errno.EEXIST
    assert value(m / "a/name") == "a" and value(m / "b/name") == "b"
    assert err(os.rename, m / "a", m / "c.d") == errno.EINVAL


def test_write_name_renames(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert write(m / "web/name", "www\n") == 0
    assert os.path.isdir(m / "www") and not os.path.exists(m / "web")


# ------------------------------------------------------------------ rmdir
def test_rmdir_removes_and_cascades(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db/x")
    os.rmdir(m / "web")
    assert not os.path.exists(m / "web")
    assert os.listdir(m / ".jid") == []
    assert os.listdir(m / ".dying") == []          # nothing held them: freed at once
    k = kinds(m)
    assert "removed" in k and "freed" in k


def test_rmdir_of_non_jails(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert err(os.rmdir, m / ".dying") == errno.EPERM
    assert err(os.rmdir, m / ".jid") == errno.EPERM
    assert err(os.rmdir, m / "web/persist") == errno.ENOTDIR
    assert err(os.rmdir, m / "nosuch") == errno.ENOENT


def test_persist_zero_removes_jail_without_processes(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert write(m / "web/persist", "0\n") == 0
    assert not os.path.exists(m / "web")
    assert "web" not in os.listdir(m)


def test_recreate_after_remove_gets_new_inode(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "a/web")
    ino = os.stat(m / "a/web").st_ino
    os.rmdir(m / "a/web")
    assert not os.path.exists(m / "a/web")
    os.mkdir(m / "a/web")
    assert os.stat(m / "a/web").st_ino != ino


# ------------------------------------------------------------------ .jid, .refs
def test_jid_symlinks(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db")
    assert sorted(os.listdir(m / ".jid"), key=int) == ["1", "2"]
    assert os.readlink(m / ".jid/1") == "../web"
    assert os.readlink(m / ".jid/2") == "../web/db"
    assert value(m / ".jid/2/name") == "web.db"          # the link resolves
    os.rename(m / "web", m / "www")
    assert os.readlink(m / ".jid/2") == "../www/db"


def test_refs_file(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db")
    text = read(m / "web/.refs")
    lines = text.splitlines()
    assert any("persist" in line for line in lines)
    assert any("web.db" in line for line in lines)
    assert "pr_ref=2 pr_uref=2" in lines[-1]
    assert os.stat(m / "web/.refs").st_size == len(text.encode())
    assert ".refs" in os.listdir(m)


def test_readdir_offsets_stable_while_jails_come_and_go(jailfs_mount):
    m = jailfs_mount.path
    for i in range(300):
        os.mkdir(m / f"j{i}")
    seen = []
    with os.scandir(m) as it:
        for n, entry in enumerate(it):
            seen.append(entry.name)
            if n % 7 == 0:
                os.mkdir(m / f"new{n}")
            if n % 11 == 0 and os.path.exists(m / f"j{299 - n // 11}"):
                os.rmdir(m / f"j{299 - n // 11}")
    assert len(seen) == len(set(seen)), "an entry was listed twice"
    # every jail that existed throughout was listed
    for i in range(0, 250):
        if os.path.exists(m / f"j{i}"):
            assert f"j{i}" in seen
