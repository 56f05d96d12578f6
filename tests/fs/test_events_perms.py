"""The .events log (content, poll, tail -f) and who may do what."""

from __future__ import annotations

import errno
import os
import select
import subprocess
import threading
import time

from fsutil import err, events, nobody, read, value, write


# ------------------------------------------------------------------ .events
def test_events_record_the_lifecycle_in_order(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    write(m / "web/host.hostname", "www\n")
    os.rename(m / "web", m / "www")
    os.rmdir(m / "www")
    lines = events(m)
    seqs = [int(line.split()[0]) for line in lines]
    assert seqs == list(range(1, len(lines) + 1))
    assert [line.split()[1] for line in lines] == ["created", "updated", "updated", "removed",
                                                    "dying", "freed"]
    assert "jid=1" in lines[0] and "name=web" in lines[0]
    assert "host.hostname" in lines[1]
    assert "name=www" in lines[2]


def test_events_record_refusals_with_freebsd_message(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    write(m / "web/securelevel", "x\n")
    last = events(m)[-1]
    assert " refused " in last and "errno=EINVAL" in last
    assert 'non-integer value' in last
    assert "refused" in jailfs_mount.log_text()          # and the daemon's log


def test_events_size_grows_and_offsets_stay(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "a")
    size1 = os.stat(m / ".events").st_size
    first = read(m / ".events")
    assert size1 == len(first.encode())
    os.mkdir(m / "b")
    size2 = os.stat(m / ".events").st_size
    assert size2 > size1
    with open(m / ".events", "rb") as f:
        f.seek(size1)
        assert f.read().decode().split()[1] == "created"


def test_events_poll_wakes_reader(jailfs_mount):
    m = jailfs_mount.path
    fd = os.open(m / ".events", os.O_RDONLY)
    try:
        while os.read(fd, 65536):
            pass
        p = select.poll()
        p.register(fd, select.POLLIN)
        assert p.poll(0) == []                        # nothing new yet
        t = threading.Timer(0.3, os.mkdir, [m / "web"])
        t.start()
        start = time.monotonic()
        ready = p.poll(5000)
        t.join()
        assert ready and ready[0][1] & select.POLLIN
        assert time.monotonic() - start < 4
        assert os.read(fd, 65536).decode().split()[1] == "created"
    finally:
        os.close(fd)


def test_tail_f_follows(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "before")
    tail = subprocess.Popen(["tail", "-n", "0", "-f", str(m / ".events")],
                            stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        os.mkdir(m / "after")
        got = []

        def reader():
            got.append(tail.stdout.readline())
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(8)
        assert got and "created" in got[0] and "name=after" in got[0], got
    finally:
        tail.kill()
        tail.wait()


# ------------------------------------------------------------------ permissions
def test_non_root_may_read(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db")
    r = nobody("cat", str(m / "web/db/name"))
    assert r.returncode == 0 and r.stdout == "web.db\n", r
    r = nobody("ls", str(m / "web"))
    assert r.returncode == 0 and "db" in r.stdout.split()
    r = nobody("cat", str(m / ".events"))
    assert r.returncode == 0 and "created" in r.stdout


def test_non_root_may_change_nothing(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    r = nobody("sh", "-c", f"echo x > {m}/web/host.hostname")
    assert r.returncode != 0 and "Permission denied" in r.stderr          # EACCES
    for cmd in (["mkdir", f"{m}/web/x"], ["rmdir", f"{m}/web"], ["mv", f"{m}/web", f"{m}/www"]):
        r = nobody(*cmd)
        assert r.returncode == 1 and "Operation not permitted" in r.stderr, (cmd, r.stderr)  # EPERM
    assert value(m / "web/name") == "web" and not os.path.exists(m / "web/x")
    assert value(m / "web/host.hostname") != "x"


def test_non_root_shell_messages(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    r = nobody("sh", "-c", f"echo x > {m}/web/host.hostname")
    assert r.returncode != 0 and "Permission denied" in r.stderr
    r = nobody("mkdir", f"{m}/web/q")
    assert r.returncode == 1 and "Operation not permitted" in r.stderr


def test_access_reports_the_rules(jailfs_mount):
    m = jailfs_mount.path
    os.mkdir(m / "web")
    assert os.access(m / "web/host.hostname", os.W_OK)
    assert not os.access(m / "web/children.cur", os.W_OK)
    assert not os.access(m / "host.hostname", os.W_OK)
    assert os.access(m / ".ctl", os.W_OK)
    r = nobody("test", "-w", str(m / "web/host.hostname"))
    assert r.returncode == 1
    r = nobody("test", "-r", str(m / "web/host.hostname"))
    assert r.returncode == 0
    assert err(os.open, m / ".events", os.O_WRONLY) == errno.EACCES
