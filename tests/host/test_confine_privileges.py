"""privileges.derive: each allow.* bit and parameter, and what Linux enforces."""

import errno

import pytest

from jailfs.host.privileges import BASE_CAPS, NEVER, derive

DEFAULT = {"host": "new", "vnet": "inherit", "securelevel": "-1", "enforce_statfs": "2",
           "sysvmsg": "disable", "sysvsem": "disable", "sysvshm": "disable"}


def d(allow=(), **params):
    return derive({**DEFAULT, **params}, set(allow))


def test_default_jail_keeps_the_base_and_never_the_host_wide_caps():
    p = d()
    assert p.caps <= BASE_CAPS
    assert not p.caps & set(NEVER)
    for name in ("SYS_MODULE", "SYS_RAWIO", "SYS_BOOT", "SYS_TIME", "NET_RAW",
                 "NET_ADMIN", "IPC_LOCK", "SYS_ADMIN", "MKNOD", "SYS_PTRACE"):
        assert name not in p.caps, name


@pytest.mark.parametrize("call", ["setns", "unshare", "pivot_root", "init_module",
                                  "finit_module", "reboot", "kexec_load", "iopl",
                                  "open_by_handle_at", "bpf", "keyctl"])
def test_escapes_always_refused(call):
    assert d().deny[call] == errno.EPERM
    assert d(["mount", "mount.tmpfs", "set_hostname", "raw_sockets"],
             enforce_statfs="0").deny[call] == errno.EPERM


def test_new_mount_api_is_enosys_so_mount8_falls_back():
    assert d().deny["fsopen"] == errno.ENOSYS
    assert d().deny["clone3"] == errno.ENOSYS


@pytest.mark.parametrize("call", ["io_setup", "io_submit", "io_uring_setup", "io_uring_enter"])
def test_asynchronous_io_is_enosys_whatever_is_allowed(call):
    assert d().deny[call] == errno.ENOSYS
    assert d(["mount", "mount.tmpfs", "set_hostname", "mlock"], enforce_statfs="0",
             vnet="new").deny[call] == errno.ENOSYS


def test_raw_sockets():
    assert "NET_RAW" not in d().caps
    assert "NET_RAW" in d(["raw_sockets"]).caps


def test_network_configuration_only_with_vnet():
    assert "NET_ADMIN" not in d(["raw_sockets", "routing"]).caps
    assert {"NET_ADMIN", "NET_RAW"} <= d(vnet="new").caps      # every network privilege


def test_reserved_ports():
    assert "NET_BIND_SERVICE" not in d().caps
    assert "NET_BIND_SERVICE" in d(["reserved_ports"]).caps


def test_mlock():
    assert d().deny["mlock"] == errno.EPERM and "IPC_LOCK" not in d().caps
    p = d(["mlock"])
    assert "mlock" not in p.deny and "IPC_LOCK" in p.caps


def test_settime_and_securelevel():
    assert d().deny["clock_settime"] == errno.EPERM
    p = d(["settime"])
    assert "SYS_TIME" in p.caps and "clock_settime" not in p.deny
    assert "SYS_TIME" not in d(["settime"], securelevel="2").caps


def test_chflags_and_securelevel():
    assert "LINUX_IMMUTABLE" not in d().caps
    assert "LINUX_IMMUTABLE" in d(["chflags"], securelevel="0").caps
    assert "LINUX_IMMUTABLE" not in d(["chflags"], securelevel="1").caps


def test_mount_needs_allow_mount_a_filesystem_and_enforce_statfs_below_2():
    assert d(["mount", "mount.tmpfs"]).deny["mount"] == errno.EPERM      # enforce_statfs=2
    assert d(["mount"], enforce_statfs="1").deny["mount"] == errno.EPERM  # no fs allowed
    p = d(["mount", "mount.tmpfs"], enforce_statfs="1")
    assert p.mount and "mount" not in p.deny and "SYS_ADMIN" in p.caps


def test_hostname_only_in_an_own_uts_namespace_with_allow_set_hostname():
    assert "sethostname" not in d(["set_hostname"]).deny
    assert "SYS_ADMIN" in d(["set_hostname"]).caps
    assert d().deny["sethostname"] == errno.EPERM
    assert d(["set_hostname"], host="inherit").deny["sethostname"] == errno.EPERM
    assert "SYS_ADMIN" not in d(["set_hostname"], host="inherit").caps


def test_sysv_disable_is_enosys_per_facility():
    p = d(sysvshm="new", sysvmsg="inherit")
    assert p.deny["semget"] == errno.ENOSYS
    assert "shmget" not in p.deny and "msgget" not in p.deny


def test_quotas():
    assert d().deny["quotactl"] == errno.EPERM
    assert "quotactl" not in d(["quotas"]).deny
