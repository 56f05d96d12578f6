"""The write guard (jailfs/fs/ctlguard.py) finds the thread that waits for a
write's answer: inside a write-family call, waiting on FUSE, on a descriptor
of this very file on this mount.  Anything else is not the writer, and a
write whose writer is not found is refused (tests/shell/escape_passedfd.sh,
tests/fs/test_security.py: the attacks through the real mount).

Here /proc is answered for a made-up thread, since the states in question (a
descriptor replaced while its write waits, a process that ends while it is
looked at) cannot be timed from a test."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest
import trio

from jailfs.fs import ctlguard

INO = 4711
TASK = "/proc/100/task/100"


class Mount(ctlguard.OurMount):
    def __init__(self):             # not read from /proc/self/mountinfo
        self.mnt_id, self.dev = "77", "0:99"


def answers(monkeypatch, files: dict[str, bytes | None]):
    """/proc reads answered from ``files`` (None: the file is gone)."""
    def read(path):
        return files.get(path)
    monkeypatch.setattr(ctlguard, "_read", read)


def writing(fd=3, call=1, wchan=b"request_wait_answer\n", ino=INO, mnt_id=77) -> dict:
    """A thread in system call ``call`` on descriptor ``fd`` of inode ``ino``."""
    return {TASK + "/syscall": f"{call} {fd:#x} 0x7ffd 0x2 0x0 0x0 0x0 0x7ffc 0x7f".encode(),
            TASK + "/wchan": wchan,
            f"{TASK}/fdinfo/{fd}": f"pos:\t0\nflags:\t02\nmnt_id:\t{mnt_id}\nino:\t{ino}\n".encode()}


def waits(monkeypatch, files) -> bool:
    return state(monkeypatch, files) is ctlguard.WRITER


def state(monkeypatch, files) -> str:
    answers(monkeypatch, files)
    return ctlguard._writing(TASK, str(INO).encode(), Mount(), 100, {})


def writer_of(*args, **kwargs):
    return trio.run(lambda: ctlguard.writer_of(*args, **kwargs))


def test_the_thread_waiting_for_its_write_on_this_file_is_the_writer(monkeypatch):
    assert waits(monkeypatch, writing())
    for call in ctlguard.WRITE_SYSCALLS:          # pwrite, writev, sendfile, splice, ...
        arg = ctlguard.WRITE_SYSCALLS[call]
        files = writing(call=call)
        if arg:
            files[TASK + "/syscall"] = f"{call} 0x9 0x0 0x3 0x0 0x2 0x0 0x0 0x0".encode()
        assert waits(monkeypatch, files), call


def test_a_replaced_or_closed_descriptor_names_no_writer(monkeypatch):
    """The attack: write on a passed host descriptor, then dup2 /dev/null onto
    it (or close it) before the daemon looks: the thread still waits in its
    write, but its descriptor is no longer this file."""
    files = writing()
    files[f"{TASK}/fdinfo/3"] = b"pos:\t0\nflags:\t01\nmnt_id:\t25\nino:\t5\n"   # /dev/null
    assert not waits(monkeypatch, files)
    files[f"{TASK}/fdinfo/3"] = None                                            # closed
    assert not waits(monkeypatch, files)


def test_a_thread_not_waiting_on_fuse_is_not_the_writer(monkeypatch):
    """A thread in write on this file but waiting for the file's lock (behind
    the write in flight) is not the one being answered; a running one may
    be about to wait (MAYBE: looked at again)."""
    assert state(monkeypatch, writing(wchan=b"rwsem_down_write_slowpath\n")) is ctlguard.OTHER
    assert state(monkeypatch, writing(wchan=b"0\n")) is ctlguard.MAYBE
    files = writing()
    files[TASK + "/syscall"] = b"running\n"
    assert state(monkeypatch, files) is ctlguard.MAYBE
    files[TASK + "/syscall"] = b"-1 0x7ffd 0x7f\n"                  # blocked outside a call
    assert state(monkeypatch, files) is ctlguard.OTHER


def test_a_writer_seen_running_is_found_once_it_waits(monkeypatch):
    """Between queueing its request and going to sleep the writer runs (and a
    virtual CPU may be taken from it just then): it is looked at again after
    a pause, not refused at once (a full test run refused jls's write so,
    once).  One that never waits is not the writer, after the pauses."""
    monkeypatch.setattr(ctlguard, "PAUSES", (0.0001,) * 3)
    monkeypatch.setattr(ctlguard, "_tasks", lambda pid: [TASK] if pid == 100 else [])
    monkeypatch.setattr(ctlguard.os, "listdir", lambda path: ["100"])
    files = writing()
    later = dict(files)
    files[TASK + "/syscall"] = b"running\n"
    reads = []

    def read(path):
        reads.append(path)
        return (later if len(reads) > 1 else files).get(path)
    monkeypatch.setattr(ctlguard, "_read", read)
    assert writer_of(INO, Mount(), 100) == 100
    answers(monkeypatch, files)                     # running throughout
    assert writer_of(INO, Mount(), 100) is None


def test_other_calls_files_and_mounts_are_not_writes_on_this_file(monkeypatch):
    assert not waits(monkeypatch, writing(call=209))        # io_submit: the file is not said
    assert not waits(monkeypatch, writing(call=426))        # io_uring_enter
    assert not waits(monkeypatch, writing(ino=INO + 1))
    monkeypatch.setattr(ctlguard, "_mounts", lambda pid: {"12": ("0:50", "/x", "fuse.jailfs")})
    assert not waits(monkeypatch, writing(mnt_id=12))       # another jailfs mount
    monkeypatch.setattr(ctlguard, "_mounts", lambda pid: {"12": ("0:99", "/dev/jailfs",
                                                                 "fuse.jailfs")})
    assert waits(monkeypatch, writing(mnt_id=12))           # a jail's bind of this one
    monkeypatch.setattr(ctlguard, "_mounts", lambda pid: {})
    assert not waits(monkeypatch, writing(mnt_id=12))       # in no table


def test_the_opener_is_looked_at_first_and_alone_when_it_writes(monkeypatch):
    looked = []

    def writing_(task, ino, mount, pid, tables):
        looked.append(pid)
        return ctlguard.WRITER if pid == 100 else ctlguard.OTHER
    monkeypatch.setattr(ctlguard, "_writing", writing_)
    monkeypatch.setattr(ctlguard, "_tasks", lambda pid: [f"/proc/{pid}/task/{pid}"])
    assert writer_of(INO, Mount(), 100) == 100
    assert looked == [100]

    def not_asked():
        raise AssertionError("the jail's processes listed though the opener writes")
    assert writer_of(INO, Mount(), 100, near=not_asked) == 100
    looked.clear()
    monkeypatch.setattr(ctlguard.os, "listdir", lambda path: ["1", "self", "100", "205"])
    assert writer_of(INO, Mount(), 205) == 100      # a process it gave the descriptor
    assert looked == [205, 1, 100]
    looked.clear()
    assert writer_of(INO, Mount(), 205, near=lambda: [300, 100]) == 100   # its jail's first
    assert looked == [205, 300, 100]
    monkeypatch.setattr(ctlguard, "_writing", lambda *args: ctlguard.OTHER)
    assert writer_of(INO, Mount(), 205) is None


@pytest.mark.parametrize("err", [errno.ESRCH, errno.EACCES, errno.ENOENT])
def test_a_process_that_cannot_be_read_is_not_found_writing(monkeypatch, err):
    """Linux answers ESRCH when a process ends between the lookup of its /proc
    entry and the open: it is not the writer, and nothing breaks; one that
    cannot be read is not found either (the write is then refused unless its
    writer is found elsewhere)."""
    child = subprocess.Popen(["sleep", "30"])
    try:
        real_open = os.open

        def answer(path, *args, **kwargs):
            if str(path).startswith(f"/proc/{child.pid}/"):
                raise OSError(err, os.strerror(err), path)
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(ctlguard.os, "open", answer)
        tasks = list(ctlguard._tasks(child.pid))
        assert tasks == [f"/proc/{child.pid}/task/{child.pid}"]
        assert ctlguard._writing(tasks[0], b"1", Mount(), child.pid, {}) is ctlguard.OTHER
    finally:
        child.kill()
        child.wait()


def test_our_mount_is_found_in_the_daemons_table(monkeypatch):
    monkeypatch.setattr(ctlguard, "_mounts", lambda pid: {
        "30": ("0:40", "/mnt/j", "fuse.jailfs"), "31": ("0:41", "/mnt/k", "fuse.jailfs"),
        "32": ("0:42", "/mnt/j", "tmpfs")})
    m = ctlguard.OurMount("/mnt/j")
    assert (m.mnt_id, m.dev) == ("30", "0:40")
    assert not ctlguard.OurMount("/elsewhere").holds("30", 1, {})   # not mounted there
    assert not ctlguard.OurMount().holds("30", 1, {})              # not mounted at all


def test_a_mount_point_with_a_space_is_found(monkeypatch, tmp_path):
    """mountinfo writes a space in a path as \\040: unescaped, or the guard
    would find no writer on such a mount and refuse every write."""
    info = tmp_path / "mountinfo"
    info.write_bytes(b"30 25 0:40 / /mnt/my\\040jails rw,nosuid - fuse.jailfs jailfs rw\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(
        info if str(path) == "/proc/self/mountinfo" else path, *a, **k))
    m = ctlguard.OurMount("/mnt/my jails")
    assert (m.mnt_id, m.dev) == ("30", "0:40")
