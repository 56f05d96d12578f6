"""Small helpers for the filesystem tests: raw syscalls that keep the errno."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path



def read(path) -> str:
    with open(path, "rb") as f:
        return f.read().decode()


def value(path) -> str:
    """A parameter file's value (its content without the one final newline)."""
    text = read(path)
    assert text.endswith("\n"), f"{path}: {text!r} does not end with a newline"
    return text[:-1]


def write(path, data, flags=os.O_WRONLY | os.O_TRUNC) -> int:
    """One write(2) of ``data``; returns 0 or the errno (of open or write)."""
    if isinstance(data, str):
        data = data.encode()
    try:
        fd = os.open(path, flags)
    except OSError as e:
        return e.errno
    try:
        n = os.write(fd, data)
        assert n == len(data)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def err(fn, *args) -> int:
    """Call fn(*args); return 0 or the errno it raised."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


def events(mnt) -> list[str]:
    return read(Path(mnt) / ".events").splitlines()


def kinds(mnt) -> list[str]:
    return [line.split()[1] for line in events(mnt)]


def nobody(*cmd: str, **kw) -> subprocess.CompletedProcess:
    """Run a command as the unprivileged user nobody."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           *cmd], capture_output=True, text=True, timeout=30, **kw)



E = errno
