"""Several processes at once: creating, updating, listing, removing jails.

Afterwards the mount and the kernel must agree: the tree seen through the
mount matches .jid, and the daemon's `check` request (the filesystem's tables
against the kernel, then k.check_invariants()) answers ok.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import random
import re

from fsutil import value

WORKERS = 4
STEPS = 400


def worker(mnt: str, seed: int, q) -> None:
    rnd = random.Random(seed)
    bad = []
    for _ in range(STEPS):
        op = rnd.choice(("mkdir", "mkdir", "nested", "echo", "ls", "rmdir", "rename", "cat"))
        a = f"j{rnd.randrange(12)}"
        b = f"k{rnd.randrange(4)}"
        try:
            if op == "mkdir":
                os.mkdir(f"{mnt}/{a}")
            elif op == "nested":
                os.mkdir(f"{mnt}/{a}/{b}")
            elif op == "echo":
                fd = os.open(f"{mnt}/{a}/host.hostname", os.O_WRONLY | os.O_TRUNC)
                try:
                    os.write(fd, f"h{seed}-{rnd.randrange(100)}\n".encode())
                finally:
                    os.close(fd)
            elif op == "ls":
                names = os.listdir(f"{mnt}/{a}" if rnd.random() < 0.5 else mnt)
                if len(names) != len(set(names)):
                    bad.append(f"duplicate names listed: {sorted(names)}")
            elif op == "rmdir":
                os.rmdir(f"{mnt}/{a}" if rnd.random() < 0.5 else f"{mnt}/{a}/{b}")
            elif op == "rename":
                os.rename(f"{mnt}/{a}", f"{mnt}/j{rnd.randrange(12)}")
            elif op == "cat":
                with open(f"{mnt}/{a}/name") as f:
                    text = f.read()
                # a rename may come between open and read: the file follows its
                # jail.  A read that overlaps the rename may get the new name cut
                # to the length the kernel had (the size check comes before READ,
                # the new bytes after), or a shorter new name padded with NULs to
                # it (README "Caching"), never anything else.
                if not re.fullmatch(r"j\d+\n?\0*", text):
                    bad.append(f"{a}/name read {text!r}")
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY):
                bad.append(f"{op} {a} {b}: {e}")
    q.put(bad)


def tree(mnt: str, rel: str = "") -> dict:
    """full name -> jid of every live jail, walking directories."""
    out = {}
    for entry in os.scandir(os.path.join(mnt, rel)):
        if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
            path = f"{rel}/{entry.name}" if rel else entry.name
            out[path.replace("/", ".")] = int(value(os.path.join(entry.path, "jid")))
            out.update(tree(mnt, path))
    return out


def test_concurrent_clients_agree_with_kernel(jailfs_mount):
    mnt = str(jailfs_mount.path)
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(mnt, seed, q)) for seed in range(WORKERS)]
    for p in procs:
        p.start()
    problems = []
    for _ in procs:
        problems += q.get(timeout=300)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert problems == []
    seen = tree(mnt)
    for name, jid in seen.items():
        assert value(os.path.join(mnt, name.replace(".", "/"), "name")) == name
        assert os.readlink(os.path.join(mnt, ".jid", str(jid))) == "../" + name.replace(".", "/")
    jids = {int(j) for j in os.listdir(os.path.join(mnt, ".jid"))}
    assert jids == set(seen.values())                 # nothing dying: no holders
    code, answer = jailfs_mount.ctl("check")
    assert (code, answer.split("\n")[0]) == (0, "ok"), answer
