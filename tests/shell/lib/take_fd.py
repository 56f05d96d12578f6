"""The jailed side of the passed-descriptor attacks (tests/shell/escape_passedfd.sh,
tests/fs/test_security.py): receive one descriptor over a unix socket and
write REQUEST and a newline on it; print "wrote" or "errno N", then with
``answer`` what a read of the descriptor gives (a .ctl answer; not after a
swap, which leaves no copy of the descriptor).

    take_fd.py SOCKET REQUEST [write|swap|aio] [answer]

SOCKET is a listening socket's path, or fd:N for a connected one inherited.
HOW: ``write`` writes; ``swap`` writes from a thread and, once that write
waits for the daemon's answer, puts /dev/null in the descriptor's place (the
guard must still find the writer); ``aio`` only tries io_setup, the first
step of Linux AIO (a confined jail refuses it)."""

import ctypes
import os
import socket
import sys

where, request = sys.argv[1], sys.argv[2]
how = sys.argv[3] if len(sys.argv) > 3 else "write"
if where.startswith("fd:"):
    s = socket.socket(fileno=int(where[3:]))
else:
    s = socket.socket(socket.AF_UNIX)
    s.connect(where)
_, fds, _, _ = socket.recv_fds(s, 16, 1)
fd = fds[0]
got = {}


def write():
    try:
        os.write(fd, (request + "\n").encode())
        got["out"] = "wrote"
    except OSError as e:
        got["out"] = f"errno {e.errno}"


if how == "aio":
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(206, 8, ctypes.byref(ctypes.c_ulong(0)))       # io_setup
    got["out"] = "aio" if r == 0 else f"errno {ctypes.get_errno()}"
elif how == "swap":
    import threading
    t = threading.Thread(target=write)
    t.start()
    while t.is_alive():             # until the write waits for the daemon's answer
        try:
            with open(f"/proc/self/task/{t.native_id}/wchan") as w:
                if w.read() == "request_wait_answer":
                    break
        except OSError:
            break
    os.dup2(os.open("/dev/null", os.O_WRONLY), fd)     # no copy of it kept anywhere
    t.join()
else:
    write()
print(got["out"], flush=True)
if "answer" in sys.argv[4:] and how != "swap":
    print(os.read(fd, 4096).decode().strip())
s.send(b"x")
