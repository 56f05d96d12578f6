"""The mount's root and `.view` (a caller's own view root): what is cached
there, for whom, and who can never get someone else's answer.  Real mounts."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

from fsutil import err, value, write

# Run by a process the test attaches to a jail (unconfined: it keeps the host's
# tree): each line of stdin is a path; it answers "ERRNO" or the listing /
# the file's first line (a directory: its number and its jails).
PROBE = r"""
import os, sys
for line in sys.stdin:
    p = line.rstrip("\n")
    try:
        if os.path.isdir(p):
            out = " ".join(sorted(n for n in os.listdir(p) if not n.startswith(".")
                                  and os.path.isdir(os.path.join(p, n))))
            out = f"{os.stat(p).st_ino} {out}"
        else:
            out = open(p).read().splitlines()[0]
    except OSError as e:
        out = f"E{e.errno}"
    print(out, flush=True)
"""


class Probe:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", PROBE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, path) -> str:
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().rstrip("\n")

    def close(self):
        self.proc.kill()
        self.proc.wait()


def _jails(m, *names):
    for n in names:
        os.makedirs(m / n.replace(".", "/"))
    with open(m / "web/host.hostname", "w") as f:
        f.write("www.example\n")


def test_view_is_the_callers_own_root(jailfs_mount):
    m = jailfs_mount.path
    _jails(m, "web", "web.db", "other")
    assert ".view" not in os.listdir(m)                 # looked up only, never listed
    host = os.stat(m / ".view")
    assert host.st_ino not in (1, os.stat(m / "web").st_ino)
    assert {"web", "other", ".ctl", ".jid", ".events"} <= set(os.listdir(m / ".view"))
    assert value(m / ".view/web/host.hostname") == "www.example"
    assert err(os.stat, m / ".view/.view") == errno.ENOENT   # only in the mount's root
    probe = Probe()
    try:
        code, answer = jailfs_mount.ctl(f"attach web {probe.proc.pid}")
        assert code == 0, answer
        ino, names = probe.ask(m / ".view").split(" ", 1)
        assert names == "db"                            # web's own view, not the host's
        assert int(ino) != host.st_ino
        assert probe.ask(m / ".view/host.hostname") == "www.example"
        assert probe.ask(m / ".view/web") == f"E{errno.ENOENT}"
        assert probe.ask(m / ".view/other") == f"E{errno.ENOENT}"
        # .view links to the asker's own .v<index>; nobody finds another's
        assert probe.ask(m / ".v0") == f"E{errno.ENOENT}"
        mine = probe.ask(m / ".view")
        assert mine.startswith(ino + " ")
        assert value(m / ".view/other/name") == "other"     # the host's is still the host's
        assert os.readlink(m / ".view") == ".v0"
        # the host finds web's .v<index> as web does (an answer that differs
        # would drop web's dentry: tests/shell/escape_viewlink.sh), nothing below
        others = [p for p in (m / f".v{i}" for i in range(1, 4)) if os.path.exists(p)]
        assert [os.stat(p).st_ino for p in others] == [int(ino)]
        assert err(os.listdir, others[0]) == errno.ENOENT
        assert probe.ask(m / ".view") == mine
    finally:
        probe.close()


def test_names_below_view_follow_renames_and_removals(jailfs_mount):
    """Names below V(host) are cached; a change made elsewhere (another
    descriptor, .ctl) drops exactly the old name.  (Nothing here walks the
    mount's root: a directory's one dentry would move there.)"""
    m = jailfs_mount.path
    _jails(m, "web", "gone")
    v = m / ".view"
    assert value(v / "web/name") == "web"               # cached now, in V(host)
    assert os.path.isdir(v / "gone")
    assert write(v / "web/name", "www\n") == 0
    assert err(os.stat, v / "web") == errno.ENOENT
    assert value(v / "www/name") == "www"
    code, answer = jailfs_mount.ctl("remove gone")
    assert code == 0, answer
    assert err(os.stat, v / "gone") == errno.ENOENT
    assert err(os.stat, m / "gone") == errno.ENOENT


def test_host_root_names_are_exact(jailfs_mount):
    m = jailfs_mount.path
    _jails(m, "web")
    assert os.path.isdir(m / "web")                     # cached for the host
    assert write(m / "web/name", "www\n") == 0
    assert err(os.stat, m / "web") == errno.ENOENT
    assert value(m / "www/name") == "www"
    code, answer = jailfs_mount.ctl("remove www")
    assert code == 0, answer
    assert err(os.stat, m / "www") == errno.ENOENT


def test_unconfined_attach_never_gets_the_hosts_cached_names(jailfs_mount):
    """The host warms names in the root; a process attached with `.ctl attach`
    (it keeps the host's tree) then walks the root: every answer is its
    jail's, none the host's cached one, and the host's stay right."""
    m = jailfs_mount.path
    _jails(m, "web", "web.db", "other")
    assert value(m / "web/host.hostname") == "www.example"
    assert os.path.isdir(m / "other") and os.path.isdir(m / "web/db")
    probe = Probe()
    try:
        code, answer = jailfs_mount.ctl(f"attach web {probe.proc.pid}")
        assert code == 0, answer
        assert probe.ask(m / "web") == f"E{errno.ENOENT}"       # not a name in web's view
        assert probe.ask(m / "other") == f"E{errno.ENOENT}"
        assert probe.ask(m / "web/host.hostname") == f"E{errno.ENOENT}"
        assert probe.ask(m / "host.hostname") == "www.example"  # its own root's file
        assert probe.ask(m).split(" ", 1)[1] == "db"
        assert probe.ask(m / "db/name") == "db"
        # and the reverse: what the jailed process looked up never answers the host
        assert err(os.stat, m / "db") == errno.ENOENT
        assert value(m / "web/db/name") == "web.db"
        assert value(m / "web/host.hostname") == "www.example"
    finally:
        probe.close()
    assert "no longer cached" in jailfs_mount.log.read_text()
