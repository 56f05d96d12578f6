"""The write guard (jailfs/fs/ctlguard.py) inspects every process that could
be the writer; one that ends while it is being inspected is not.

Linux answers ESRCH, not ENOENT, when a process ends between the lookup of
its /proc entry and the open (fdinfo, syscall and mountinfo all look the task
up again in their open): counted as "cannot inspect it", that made a host's
parameter write EPERM now and then while a jail's processes came and went
(`echo 0 > b/persist` beside a jailed `while ...; do sleep 0.05; done`).
The race cannot be timed from a test, so a live process's /proc answers
are replaced by the kernel's answer for a process that has just ended."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from jailfs.fs import ctlguard


@pytest.mark.parametrize("err, writer", [
    (errno.ESRCH, False),       # it ended: it cannot be writing
    (errno.EACCES, True),       # it cannot be inspected: it might be the writer
])
def test_a_process_that_ends_during_inspection_is_not_a_writer(monkeypatch, err, writer):
    child = subprocess.Popen(["sleep", "30"])
    try:
        real_open = os.open

        def answer(path, *args, **kwargs):
            if str(path).startswith(f"/proc/{child.pid}/"):
                raise OSError(err, os.strerror(err), path)
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(ctlguard.os, "open", answer)
        assert ctlguard.holds_or_writes(child.pid, 1) is writer
    finally:
        child.kill()
        child.wait()


def test_a_thread_that_ends_during_inspection_is_skipped(monkeypatch):
    """ESRCH on a thread's syscall file: that thread is gone; it is skipped,
    not counted as a possible writer."""
    child = subprocess.Popen(["sleep", "30"])
    try:
        real_open = os.open
        seen = []

        def answer(path, *args, **kwargs):
            if str(path).startswith(f"/proc/{child.pid}/task/") and str(path).endswith("/syscall"):
                seen.append(path)
                raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(ctlguard.os, "open", answer)
        assert ctlguard.holds_or_writes(child.pid, 1) is False
        assert seen
    finally:
        child.kill()
        child.wait()
