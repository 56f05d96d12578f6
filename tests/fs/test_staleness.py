"""Cached reads are never stale (issue 13): a fixed-seed random sequence of
changes through the mount (writes, cascading removals, renames by mv and by
the name file, renumbering of dying jails, frees), made from the host and
from jailed processes, each followed by reads from several views: the host
and processes attached to jails r1 and r1.r2.  Every read (the listing of a
directory, a file's size from stat, its content, a .jid link) must equal what
the kernel says through .ctl at that moment.  The view of r1 only stats the
parameter files of the jails below it, never opening them: what it holds are
attributes alone, which a write leaves alone where the size did not change
(fs/heldsizes.py), and values below a written jail follow it (securelevel,
allow.mount)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from jailfs.ctlproto import ctl_answer
from jailfs.kernel import PARAMS as TABLE

SEED = 20261203
STEPS = 80
PARAMS = ("host.hostname", "securelevel", "allow.mount", "children.cur", "jid", "name",
          "persist", "dying")
ROOT_PARAMS = ("host.hostname", "securelevel", "children.cur")
FILES = set(TABLE) | {".refs", ".ctl", ".dying", ".events", ".jid"}

# A reader serves the view of the jail it is attached to: for each request
# line (a JSON list of [op, path]) it answers one JSON line of results.
READER = r"""
import json, os, sys
m = sys.argv[1]
def one(op, arg):
    try:
        if op == "write":
            path, value = arg
            fd = os.open(os.path.join(m, path), os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, value.encode())
            finally:
                os.close(fd)
            return "ok"
        p = os.path.join(m, arg) if arg else m
        if op == "stat":
            return [os.stat(p).st_size, None]
        if op == "list":
            return sorted(os.listdir(p))
        if op == "link":
            return os.readlink(p)
        size = os.stat(p).st_size
        with open(p, "rb") as f:
            data = f.read().decode()
        return [size, data]
    except OSError as e:
        return ["errno", e.errno]
for line in sys.stdin:
    print(json.dumps([one(op, path) for op, path in json.loads(line)]), flush=True)
"""


class Reader:
    """A process in a view: the host's (this test) or a jail's (attached)."""

    def __init__(self, mnt, jail=None, ctl=None):
        self.mnt, self.jail = str(mnt), jail
        self.proc = None
        if jail is not None:
            self.proc = subprocess.Popen([sys.executable, "-c", READER, self.mnt],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True)
            code, answer = ctl(f"attach {jail} {self.proc.pid}")
            assert code == 0, answer

    def ask(self, requests):
        if self.proc is None:
            ns = {}
            exec(READER.split("for line in")[0], ns)            # the same code, in-process
            ns["m"] = self.mnt
            return [ns["one"](op, path) for op, path in requests]
        self.proc.stdin.write(json.dumps(requests) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


def kernel_view(mnt, root: str):
    """What the kernel says, for a caller whose root is jail ``root`` ("" for
    the host): {relative path of each live jail: {param: value}}, dying jids."""
    def rel(name):
        if not root:
            return name
        return name[len(root) + 1:] if name.startswith(root + ".") else None
    live, dying = {}, []
    a = ctl_answer(str(mnt), "list")
    assert a.ok, a
    for line in a.extra:
        jid, name = line.split(" ", 1)
        r = rel(name)
        if r is None:
            continue
        values = ctl_answer(str(mnt), f"get {jid} " + " ".join(PARAMS)).kv()
        values["name"] = r
        live[r] = values
    alive = {v["jid"] for v in live.values()}
    for line in ctl_answer(str(mnt), "list -d").extra:      # live and dying jails
        jid, name = line.split(" ", 1)
        if rel(name) is not None and jid not in alive:
            dying.append(jid)
    return live, dying


def check_view(mnt, reader: Reader, root: str, step: int, stat_only: bool = False) -> None:
    live, dying = kernel_view(mnt, root)
    look = "stat" if stat_only else "read"
    reqs = [("list", ""), ("list", ".dying"), ("list", ".jid")]
    if root:                                     # the view's own jail, as its root
        reqs += [("read", p) for p in ROOT_PARAMS]
    for r in sorted(live):
        d = r.replace(".", "/")
        # a listing refreshes the attributes of what it lists: stat-only, the
        # files are stat'ed before, so what they show is what was cached
        looks = [(look, f"{d}/{p}") for p in PARAMS]
        reqs += looks + [("list", d)] if stat_only else [("list", d)] + looks
        reqs.append(("link", f".jid/{live[r]['jid']}"))
    got = iter(reader.ask(reqs))
    where = f"step {step}, view {root or 'host'}"

    def children(listing):
        return sorted(x for x in listing if x not in FILES)
    assert children(next(got)) == sorted(r for r in live if "." not in r), where
    assert next(got) == sorted(dying), where
    assert next(got) == sorted([live[r]["jid"] for r in live] + dying), where
    if root:
        own = ctl_answer(str(mnt), f"get {root} " + " ".join(ROOT_PARAMS)).kv()
        for p in ROOT_PARAMS:
            size, text = next(got)
            assert text == own[p] + "\n" and size == len(text.encode()), (where, p, text)
    for r in sorted(live):
        kids = sorted(c[len(r) + 1:] for c in live
                      if c.startswith(r + ".") and "." not in c[len(r) + 1:])
        if not stat_only:
            assert children(next(got)) == kids, (where, r)
        for p in PARAMS:
            size, text = next(got)
            want = live[r][p] + "\n"
            assert stat_only or text == want, (where, r, p, text, want)
            assert size == len(want.encode()), (where, r, p, "stale size", size, want)
        if stat_only:
            assert children(next(got)) == kids, (where, r)
        assert next(got) == "../" + r.replace(".", "/"), (where, r)


def test_cached_reads_are_never_stale(jailfs_mount):
    m = jailfs_mount.path
    ctl = jailfs_mount.ctl
    os.makedirs(m / "r1/r2")
    rnd = random.Random(SEED)
    readers = [("", Reader(m)), ("r1", Reader(m, "r1", ctl)), ("r1.r2", Reader(m, "r1.r2", ctl))]
    host = readers[0][1]
    bases = ["", "r1", "r1.r2"]          # jails are made and changed below these
    try:
        for step in range(STEPS):
            live, _ = kernel_view(m, "")
            mine = [n for n in live if n not in ("r1", "r1.r2")]
            op = rnd.choice(("mkdir", "mkdir", "write", "write", "jailwrite", "ctlset", "mv",
                             "name", "rmdir", "persist0", "renumber", "advance"))
            base = rnd.choice(bases)
            where = (base.replace(".", "/") + "/") if base else ""
            if op == "mkdir" or not mine:
                parent = rnd.choice([base] + [n for n in mine if n.startswith(base)])
                d = parent.replace(".", "/")
                os.makedirs(m / d / f"k{rnd.randrange(6)}", exist_ok=True)
            elif op in ("write", "jailwrite"):
                target = rnd.choice(mine)
                param, value = rnd.choice((("host.hostname", f"h{rnd.randrange(1000)}"),
                                           ("securelevel", str(rnd.randrange(-1, 3))),
                                           ("allow.mount", rnd.choice(("true", "false")))))
                who = [(root, rd) for root, rd in readers
                       if not root or target.startswith(root + ".")]
                root, rd = rnd.choice(who) if op == "jailwrite" else readers[0]
                rel = target[len(root) + 1:] if root else target
                rd.ask([("write", [f"{rel.replace('.', '/')}/{param}", value + "\n"])])
            elif op == "ctlset":
                target = rnd.choice(mine + ["r1", "r1.r2"])
                ctl(f"set {target} host.hostname=c{rnd.randrange(1000)} "
                    f"securelevel={rnd.randrange(-1, 3)}")
            elif op in ("mv", "name"):
                target = rnd.choice(mine)
                new = f"k{rnd.randrange(6)}"
                d = target.replace(".", "/")
                if op == "mv":
                    try:
                        os.rename(m / d, m / os.path.dirname(d) / new)
                    except OSError:
                        pass
                else:
                    parent = target.rsplit(".", 1)[0] + "." if "." in target else ""
                    host.ask([("write", [f"{d}/name", parent + new + "\n"])])
            elif op in ("rmdir", "persist0"):
                target = rnd.choice(mine)
                if op == "rmdir":
                    os.rmdir(m / target.replace(".", "/"))
                else:
                    host.ask([("write", [f"{target.replace('.', '/')}/persist", "0\n"])])
            elif op == "renumber":
                # a jail held by a TIME_WAIT connection goes dying; asking for its
                # jid renumbers it
                target = rnd.choice(mine)
                code, pid = ctl(f"spawn {target}")
                pid = pid.split()[1]
                code, fd = ctl(f"connect {pid} 192.0.2.1:80 198.51.100.7:{1000 + step}")
                ctl(f"close {pid} {fd.split()[1]}")
                ctl(f"kill {pid}")
                jid = live[target]["jid"]
                os.rmdir(m / target.replace(".", "/"))
                if rnd.random() < 0.7 and not os.path.exists(m / where / jid):
                    os.mkdir(m / where / jid)
            else:
                ctl(f"advance {rnd.choice((10, 30, 61))}")
            for root, rd in readers:
                check_view(m, rd, root, step, stat_only=root == "r1")
    finally:
        for _, rd in readers:
            rd.close()
    code, answer = ctl("check")
    assert code == 0, answer
