"""A picture of the host: jailfs tree, graph and status, read from a real mount."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO, daemon_env

BIN = REPO / ".venv/bin"


def jailfs(m, *args, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([str(BIN / "jailfs"), *args], capture_output=True, text=True,
                       env={**daemon_env(), "JAILFS_MOUNT": str(m.path)}, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def time_wait_replay(m) -> None:
    """The README's "why won't my jail die" example."""
    (m / "web").mkdir()
    (m / "web" / "db").mkdir()
    assert jailfs(m, "sim", "spawn", "web").stdout == "100\n"
    jailfs(m, "sim", "connect", "100", "192.0.2.1:80", "198.51.100.7:5555")
    jailfs(m, "sim", "close", "100", "3")
    jailfs(m, "sim", "kill", "100")
    (m / "web" / "db").rmdir()
    (m / "web").rmdir()


def test_tree_shows_live_and_dying_jails(jailfs_mount):
    m = jailfs_mount
    time_wait_replay(m)
    (m / "web").mkdir()
    (m / "web" / "app").mkdir()
    jailfs(m, "sim", "spawn", "web.app")
    jailfs(m, "sim", "advance", "10")
    assert jailfs(m, "tree").stdout == (
        f"jails below {m.path} (clock 10 s)\n"
        "├─1 web              dying  0 procs  pr_ref 1  pr_uref 0\n"
        "└─3 web              alive  0 procs  pr_ref 2  pr_uref 2\n"
        "  └─4 app            alive  1 proc   pr_ref 2  pr_uref 2\n")


def test_tree_of_an_empty_host(jailfs_mount):
    assert jailfs(jailfs_mount, "tree").stdout == f"jails below {jailfs_mount.path} (clock 0 s)\n(none)\n"


def test_graph_of_the_time_wait_replay_is_a_valid_svg_naming_the_connection(jailfs_mount, tmp_path):
    m = jailfs_mount
    time_wait_replay(m)
    dot = jailfs(m, "graph", "1").stdout
    assert dot.startswith('digraph "jail web" {') and "TIME_WAIT, 60 s left" in dot
    if shutil.which("dot") is None:
        pytest.fail("scripts/setup installs graphviz (dot)")
    svg = tmp_path / "web.svg"
    jailfs(m, "graph", "-o", str(svg), "web")
    root = ET.parse(svg).getroot()                       # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "tcp 192.0.2.1:80 -> 198.51.100.7:5555 TIME_WAIT, 60 s left" in texts
    assert "jail web" in texts and "jid 1, dying" in texts
    png = tmp_path / "web.png"
    jailfs(m, "graph", "-T", "png", "-o", str(png), "1")
    assert png.read_bytes().startswith(b"\x89PNG\r\n")


def test_graph_of_a_live_jail_names_every_holder(jailfs_mount):
    m = jailfs_mount
    (m / "web").mkdir()
    (m / "web" / "db").mkdir()
    jailfs(m, "sim", "spawn", "web")
    jailfs(m, "sim", "spawn", "web.db")
    jailfs(m, "sim", "open", "100", "/etc/passwd")
    jailfs(m, "sim", "pass", "100", "3", "101")
    jailfs(m, "sim", "mount", "100", "nullfs", "/x")
    dot = jailfs(m, "graph", "web").stdout
    for holder in ("persist", "child jail web.db (jid 2, alive)", "process 100 (running)",
                   "file /etc/passwd open as fd 3 of process 100 in jail web (jid 1), "
                   "fd 3 of process 101 in jail web.db (jid 2)", "mount nullfs on /x",
                   "credential 3 (uid 0)"):
        assert holder in dot


def test_graph_of_an_unknown_jail(jailfs_mount):
    r = jailfs(jailfs_mount, "graph", "nope", check=False)
    assert r.returncode == 1 and r.stderr == 'jailfs: jail "nope" not found\n'


def test_status_summarises_the_mount(jailfs_mount):
    m = jailfs_mount
    time_wait_replay(m)
    (m / "other").mkdir()
    jailfs(m, "sim", "spawn", "other")
    out = jailfs(m, "status", "-m", str(m.path)).stdout
    assert out == (f"{m.path}: daemon pid {m.proc.pid} (sleeping)\n"
                   "  jails: 1 live, 1 dying; processes: 1; clock: 0 s\n")
