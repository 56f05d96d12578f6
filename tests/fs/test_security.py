"""Issue 9, the filesystem's part: descriptors do not carry rights, names and
values that cannot break a listing or a jail, views that are given back, and
an .events log that never repeats itself."""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pyfuse3
import pytest
import trio

from fsutil import err, events, value, write
from jailfs.fs.operations import JailFS
from jailfs.kernel import JAIL_CREATE, Caller, Kernel

# ------------------------------------------------------- an open .ctl's rights
TAKE_FD = Path(__file__).resolve().parents[1] / "shell" / "lib" / "take_fd.py"   # the jailed side


def _attacker(jailfs_mount, path: str, request: str, keep_own: bool, how: str = "write"):
    """A host process opens ``path`` and passes the descriptor to a process
    attached to jail web, which writes ``request`` on it (``how="swap"``:
    from a thread, putting /dev/null in the descriptor's place meanwhile)."""
    m = jailfs_mount.path
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    child = subprocess.Popen([sys.executable, str(TAKE_FD), f"fd:{theirs.fileno()}", request,
                              how, *(["answer"] if path == ".ctl" else [])],
                             stdout=subprocess.PIPE, text=True, pass_fds=[theirs.fileno()])
    theirs.close()
    try:
        code, answer = jailfs_mount.ctl(f"attach web {child.pid}")
        assert code == 0, answer
        fd = os.open(m / path, os.O_RDWR if path == ".ctl" else os.O_WRONLY)
        socket.send_fds(mine, [b"x"], [fd])
        if not keep_own:
            os.close(fd)
        out, _ = child.communicate(timeout=30)        # it writes once the descriptor comes
        if keep_own:
            os.close(fd)
    finally:
        mine.close()
        if child.poll() is None:
            child.kill()
    return out.splitlines()


@pytest.mark.parametrize("keep_own", [False, True])
def test_passed_ctl_descriptor_does_not_act_as_the_host(jailfs_mount, keep_own):
    m = jailfs_mount.path
    os.makedirs(m / "web")
    os.makedirs(m / "sib")
    lines = _attacker(jailfs_mount, ".ctl", "set sib host.hostname=pwned", keep_own)
    assert lines[0] == f"errno {errno.EPERM}", lines
    assert lines[1].startswith("error EPERM"), lines
    assert value(m / "sib/host.hostname") != "pwned"
    assert any("refused" in line and "is written by process" in line for line in events(m))
    # the host's own requests still work once the jailed process has let go
    code, answer = jailfs_mount.ctl("set sib host.hostname=fine")
    assert code == 0, answer


def test_a_passed_descriptor_replaced_during_its_write_does_not_act_as_the_host(jailfs_mount):
    """The writer is the thread waiting for the answer, whatever its
    descriptor has become meanwhile (the guard looked for the descriptor
    until session 6, and missed it in about half of these)."""
    m = jailfs_mount.path
    os.makedirs(m / "web")
    os.makedirs(m / "sib")
    for i in range(6):
        lines = _attacker(jailfs_mount, ".ctl", f"set sib host.hostname=pwned{i}",
                          keep_own=False, how="swap")
        assert lines[0] == f"errno {errno.EPERM}", lines
        assert not value(m / "sib/host.hostname").startswith("pwned")
    assert any("its writer cannot be told" in line for line in events(m))


def test_passed_parameter_descriptor_does_not_act_as_the_host(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web")
    os.makedirs(m / "sib")
    lines = _attacker(jailfs_mount, "sib/host.hostname", "pwned", keep_own=False)
    assert lines[0] == f"errno {errno.EPERM}", lines
    assert value(m / "sib/host.hostname") != "pwned"


# ------------------------------------------------------------------ names
def test_names_that_cannot_be_listed_are_refused(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "s1")
    assert write(m / "s1/name", "a/b") == errno.EINVAL
    assert write(m / "s1/name", b"x\0y") == errno.EINVAL
    assert write(m / "s1/name", "..") == errno.EINVAL
    assert value(m / "s1/name") == "s1"
    assert sorted(x for x in os.listdir(m) if not x.startswith(".") and x == "s1") == ["s1"]
    assert os.listdir(m / ".jid") == ["1"]


def test_a_bad_name_made_through_ctl_never_breaks_a_listing(jailfs_mount):
    m = jailfs_mount.path
    code, _ = jailfs_mount.ctl("create name=ok persist")
    assert code == 0
    code, answer = jailfs_mount.ctl("create 'name=x/y' persist")
    listing = os.listdir(m)                      # must not fail, whatever the kernel did
    assert "ok" in listing and "x/y" not in listing
    jids = os.listdir(m / ".jid")
    for j in jids:
        target = os.readlink(m / ".jid" / j)
        assert "x/y" not in target


def test_non_utf8_names(jailfs_mount):
    m = bytes(jailfs_mount.path)
    assert err(os.mkdir, m + b"/\xff\xfe") == errno.EINVAL
    os.mkdir(m + b"/web")
    assert err(os.rename, m + b"/web", m + b"/\xff") == errno.EINVAL
    assert err(os.stat, m + b"/\xff") == errno.ENOENT
    assert os.path.isdir(m + b"/web")


def test_jid_names_are_ascii_digits(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert os.readlink(m / ".jid/1") == "../web"
    for name in ("²", "١", "01", "+1", " 1"):
        assert err(os.lstat, m / ".jid" / name) == errno.ENOENT, name
        assert err(os.lstat, m / ".dying" / name) == errno.ENOENT, name


def test_rename_whiteout_refused(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "a")
    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD, RENAME_WHITEOUT = -100, 4
    rc = libc.renameat2(AT_FDCWD, bytes(m / "a"), AT_FDCWD, bytes(m / "b"), RENAME_WHITEOUT)
    assert rc == -1 and ctypes.get_errno() == errno.EINVAL
    assert os.path.isdir(m / "a") and not os.path.exists(m / "b")


def test_mkdir_jid_above_jail_max_refused(jailfs_mount):
    m = jailfs_mount.path
    for name in ("2147483648", "1000000", "99999999999999999999"):
        assert err(os.mkdir, m / name) == errno.EINVAL, name
        assert not os.path.exists(m / name)
    os.mkdir(m / "999999")
    assert value(m / "999999/jid") == "999999"


# ------------------------------------------------------------ newline writes
def test_newline_only_write(jailfs_mount):
    """A newline alone is the empty value: a string is cleared, a boolean refuses
    it (EINVAL, 'unknown boolean value ""'), an integer too (non-integer)."""
    m = jailfs_mount.path
    os.mkdir(m / "web")
    write(m / "web/host.hostname", "www\n")
    for name, before in (("allow.mount", "false"), ("persist", "true"), ("securelevel", "-1")):
        assert value(m / "web" / name) == before
        assert write(m / "web" / name, "\n") == errno.EINVAL, name
        assert value(m / "web" / name) == before, name
    assert any('unknown boolean value ""' in line for line in events(m))
    assert write(m / "web/host.hostname", "\n") == 0
    assert value(m / "web/host.hostname") == ""


def test_value_and_newline_in_two_writes(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    for name, text, want in (("allow.mount", "1", "true"), ("allow.mount", "0", "false"),
                             ("host.hostname", "two", "two"), ("securelevel", "2", "2")):
        fd = os.open(m / "web" / name, os.O_WRONLY | os.O_TRUNC)
        try:
            assert os.write(fd, text.encode()) == len(text)
            assert os.write(fd, b"\n") == 1
        finally:
            os.close(fd)
        assert value(m / "web" / name) == want, name
        write(m / "web" / name, "x-other\n" if name == "host.hostname" else
              ("1\n" if want == "false" else "0\n") if name == "allow.mount" else "1\n")
        with open(m / "web" / name, "wb", buffering=0) as out:  # python -u: print writes twice
            subprocess.run([sys.executable, "-u", "-c", f"print({text!r})"], stdout=out,
                           check=True)
        assert value(m / "web" / name) == want, name


# ------------------------------------------------------- views and polls
def test_views_of_freed_jails_are_released_and_reused():
    k = Kernel()
    fs = JailFS(k)
    host = Caller(k.prison0, 0)
    indices = set()
    for i in range(20):
        jid = k.jail_set(host, [("name", f"j{i}"), ("persist", None)], JAIL_CREATE)
        sleeper = subprocess.Popen(["sleep", "60"])
        try:
            proc = k.spawn(0, 0, real_pid=sleeper.pid)
            k.jail_attach(proc, jid)             # a real process attached: the jail's view
            assert len(fs.views) == 2
            indices.add(fs.views.get(k.by_jid(jid)).index)
            k.jail_remove(host, jid)             # kills the sleeper; its model is reaped
            k.kill(proc)
        finally:
            sleeper.kill()
            sleeper.wait()
        assert k.by_jid(jid) is None
        assert len(fs.views) == 1
    assert len(indices) == 1                     # one index, handed out again and again
    assert fs.check() == ""


def test_poll_handles_do_not_pile_up():
    k = Kernel()
    fs = JailFS(k)

    class Ctx:
        pid, uid, gid, umask = 1, 0, 0, 0o022

    class Handle:
        notified = 0

        def notify(self):
            Handle.notified += 1

    async def go():
        ev = await fs.lookup(pyfuse3.ROOT_INODE, b".events", Ctx())
        fh = (await fs.open(ev.st_ino, os.O_RDONLY, Ctx())).fh
        for _ in range(100):
            assert await fs.poll(ev.st_ino, fh, Handle(), Ctx()) == 0
        assert len(fs.host.log._poll_handles) == 1
        await fs.release(fh)
        assert len(fs.host.log._poll_handles) == 0
    trio.run(go)


def test_events_reader_never_gets_a_line_twice_after_trimming():
    k = Kernel()
    fs = JailFS(k)
    fs.host.log.limit = 20
    host = Caller(k.prison0, 0)

    class Ctx:
        pid, uid, gid, umask = 1, 0, 0, 0o022

    async def go():
        ev = await fs.lookup(pyfuse3.ROOT_INODE, b".events", Ctx())
        fh = (await fs.open(ev.st_ino, os.O_RDONLY, Ctx())).fh
        seen, off = [], 0
        for i in range(200):
            k.jail_set(host, [("name", f"j{i}"), ("persist", None)], JAIL_CREATE)
            if i % 37 == 0:               # a slow reader, far behind the trimmed log
                while True:
                    data = await fs.read(fh, off, 50)
                    if not data:
                        break
                    seen.append(data)
                    off += len(data)
        await fs.release(fh)
        return b"".join(seen).decode().splitlines()
    lines = trio.run(go)
    seqs = [int(line.split()[0]) for line in lines]
    assert seqs == sorted(set(seqs)), "a line came twice or out of order"
    assert seqs[-1] == 186                       # the last read (after j185) reached the end

