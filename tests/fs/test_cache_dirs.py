"""An update leaves every directory's attributes as they were: cache.py does
not tell the kernel about directories on ``updated`` and ``renumbered``
(mode and times are fixed, nlink counts live children, which only
``created``, ``dying`` and ``freed`` change).  If a directory's attributes
ever came to follow a value, this fails and cache.py must tell again."""

from __future__ import annotations

import pytest

from jailfs.fs import nodes as N
from jailfs.fs.operations import JailFS
from jailfs.kernel import JAIL_CREATE, JAIL_UPDATE, Caller, Kernel

UPDATES = [
    [("host.hostname", "h")], [("host.domainname", "d")], [("host", "inherit")],
    [("securelevel", "3")], [("children.max", "3")], [("enforce_statfs", "1")],
    [("devfs_ruleset", "4")], [("allow.mount", None)], [("allow.nomount", None)],
    [("allow.sysvipc", None)], [("sysvshm", "new")], [("ip4.addr", "127.0.0.9")],
    [("meta", "x=1")], [("linux.osname", "L")], [("name", "top.renamed")],
    [("nopersist", None)],
]


def _dirs(fs, k):
    """Every directory's attributes the VFS may hold, in every view."""
    out = {}
    for view in (fs.views.get(k.prison0), fs.views.get(k.find_name(k.prison0, "top"))):
        out[(view.index, "root")] = fs.attr(view, N.Node(N.VIEW_ROOT, view.root))
        for pr in view.root.descendants():
            kind = N.JAIL_DIR if pr.state == "alive" else N.DYING_DIR
            out[(view.index, pr.serial)] = fs.attr(view, N.Node(kind, pr))
    return {key: (a.st_ino, a.st_mode, a.st_nlink, a.st_size, a.st_mtime_ns)
            for key, a in out.items()}


@pytest.mark.parametrize("params", UPDATES, ids=lambda p: p[0][0])
def test_an_update_leaves_directory_attributes(params):
    k = Kernel()
    fs = JailFS(k)
    host = Caller(k.prison0, 0)
    k.jail_set(host, [("name", "top"), ("persist", None), ("children.max", "9"),
                      ("allow.sysvipc", None), ("allow.mount", None), ("enforce_statfs", "0"),
                      ("ip4.addr", "127.0.0.9")], JAIL_CREATE)
    k.jail_set(host, [("name", "top.mid"), ("persist", None), ("children.max", "5")],
               JAIL_CREATE)
    k.jail_set(host, [("name", "top.mid.low"), ("persist", None)], JAIL_CREATE)
    target = k.find_name(k.prison0, "top.mid")
    before = _dirs(fs, k)
    kinds = []
    k.subscribe(lambda ev: kinds.append(ev.kind))
    k.jail_set(host, [("jid", str(target.jid)), *params], JAIL_UPDATE)
    assert "updated" in kinds
    if params[0][0] == "nopersist":
        # it has a child, so it stays alive: the update alone changed nothing here
        assert target.state == "alive"
    assert _dirs(fs, k) == before
