"""Attacks on the daemon's availability through `.ctl`, by callers with no
privilege: a request is at most 64 KiB, and its answer (which the open file
keeps until the next request or close) must not grow with how often the
request repeats a name."""

from __future__ import annotations

import os

from fsutil import nobody

REPEAT = 4000


def _nobody_ctl(mnt, request: str) -> str:
    """``request`` written to MNT/.ctl by uid nobody; the answer read back."""
    script = ("import os, sys\n"
              "fd = os.open(sys.argv[1], os.O_RDWR)\n"
              "try:\n"
              "    os.write(fd, sys.argv[2].encode() + b'\\n')\n"
              "except OSError:\n"
              "    pass\n"
              "out = b''\n"
              "while (b := os.read(fd, 1 << 20)):\n"
              "    out += b\n"
              "sys.stdout.write(out.decode())\n")
    r = nobody("/usr/bin/python3", "-c", script, os.fspath(mnt / ".ctl"), request)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_list_repeated_names_answer_once(jailfs_mount):
    """`list -p NAME NAME ...` by nobody: each jail's line has NAME once
    (clients read a line into a mapping), not once per repetition."""
    m = jailfs_mount.path
    for i in range(3):
        assert jailfs_mount.ctl(f"create name=j{i} persist host.hostname=h{i}")[0] == 0
    answer = _nobody_ctl(m, "list -p" + " host.hostname" * REPEAT)
    assert answer.splitlines() == ["ok 3", "1 host.hostname=h0", "2 host.hostname=h1",
                                   "3 host.hostname=h2"]


def test_get_repeated_names_answer_once(jailfs_mount):
    m = jailfs_mount.path
    assert jailfs_mount.ctl("create name=web persist meta=tier=front")[0] == 0
    answer = _nobody_ctl(m, "get web" + " meta.tier name" * REPEAT + " meta.other")
    assert answer.splitlines() == ["ok 1", "meta.tier=front", "name=web"]


def test_check_is_the_host_roots(jailfs_mount):
    """`check` walks every table of the daemon and the kernel (0.86 s of the
    daemon's only thread with 200 jails): nobody may not make it do that."""
    assert _nobody_ctl(jailfs_mount.path, "check") == "error EPERM check: Operation not permitted\n"
    assert jailfs_mount.ctl("check") == (0, "ok\n")


def test_check_refused_to_a_jailed_root():
    from jailfs.ctl import execute
    from jailfs.kernel import Caller, Kernel
    k = Kernel()
    host = Caller(k.prison0, uid=0)
    assert execute(k, host, "create name=web persist")[0] == 0
    web = Caller(k.lookup(host, "web"), uid=0)
    assert execute(k, web, "check") == (1, "error EPERM check: Operation not permitted")
    assert execute(k, host, "check") == (0, "ok")


HOLDER = r"""
import os, sys
fds, refused = [], None
for i in range(int(sys.argv[2])):
    fd = os.open(sys.argv[1], os.O_RDWR)
    fds.append(fd)
    try:
        os.write(fd, b"list -p\n")
    except OSError as e:
        refused = (i, e.errno, os.pread(fd, 200, 0).decode())
        break
print(refused)
sys.stdin.read()                        # holds every descriptor until told
for fd in fds:
    os.close(fd)
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b"list\n")
print(len(os.read(fd, 1 << 16).decode().splitlines()) - 1)
"""


def test_answers_kept_for_an_unprivileged_user_are_bounded(jailfs_mount):
    """Each open .ctl keeps its last answer: nobody writing `list -p` on
    thousands of descriptors must not make the daemon keep them all."""
    import subprocess
    m = jailfs_mount.path
    for i in range(40):
        assert jailfs_mount.ctl(f"create name=j{i} persist host.hostname=h{i}")[0] == 0
    size = len(jailfs_mount.ctl("list -p")[1])
    n = (8 << 20) // size + 2                                # 8 MiB kept per user
    p = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          "/usr/bin/python3", "-c", HOLDER, os.fspath(m / ".ctl"), str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    refused = p.stdout.readline().strip()
    assert refused.startswith("(") and ", 12, 'error ENOMEM " in refused, refused
    assert "answers kept for uid 65534" in refused
    assert jailfs_mount.ctl("list")[0] == 0                  # root is not refused
    out, _ = p.communicate("", timeout=60)
    assert out.strip() == "40"                               # closed: given back
