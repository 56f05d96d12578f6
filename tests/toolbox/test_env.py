"""`jailfs env`: the opt-in directory of launchers and the shell lines."""

import os
import subprocess
import sys

from jailfs import toolbox
from jailfs.toolbox import TOOLS, env


def test_path_first_once_and_out_again():
    assert env.path_with("/x/bsd", "/usr/bin:/x/bsd:/bin", True) == "/x/bsd:/usr/bin:/bin"
    assert env.path_with("/x/bsd", "/x/bsd:/usr/bin", False) == "/usr/bin"


def test_lines_are_shell():
    assert env.lines("/x/b d", "/usr/bin", "/m nt", False) == [
        "PATH='/x/b d:/usr/bin'; export PATH", "JAILFS_MOUNT='/m nt'; export JAILFS_MOUNT"]
    assert env.lines("/x", "/x:/bin", None, True) == ["PATH=/bin; export PATH", "unset JAILFS_MOUNT"]


def test_launchers_off_the_virtualenvs_bin(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    where = env.ensure_bin_dir()
    assert where == tmp_path / "libexec" / "jailfs-bsd"
    assert sorted(os.listdir(where)) == sorted(TOOLS)
    assert not (tmp_path / "bin").exists()          # nothing where a PATH already looks
    (where / "sysctl").write_text("stale")
    env.ensure_bin_dir()
    assert (where / "sysctl").read_text().startswith(f"#!{sys.executable} -IS\n")
    run = subprocess.run([str(where / "sysctl"), "-n", "kern.ostype"], capture_output=True, text=True,
                         env={**os.environ, "JAILFS_MOUNT": str(tmp_path / "none")})
    assert run.returncode == 1
    assert run.stderr == f"sysctl: JAILFS_MOUNT={tmp_path}/none: not a jailfs mount (no {tmp_path}/none/.ctl)\n"


def test_jailfs_env_command():
    run = subprocess.run([sys.executable, "-m", "jailfs", "env", "-u"], capture_output=True,
                         text=True, env={**os.environ, "PATH": f"{env.bin_dir()}:/bin"})
    assert (run.returncode, run.stdout) == (0, "PATH=/bin; export PATH\nunset JAILFS_MOUNT\n")


def test_every_tool_starts_without_site(tmp_path):
    """The launchers run with -S: a tool importing anything outside the
    standard library and jailfs would fail there, so import each as they do."""
    for tool, (module, entry) in sorted(set(toolbox._ENTRY.items())):
        code = (f"import sys; sys.path.insert(0, {env.ROOT!r}); import jailfs.toolbox.{module} as m; "
                f"m.{entry}; print(sorted(n for n, v in sys.modules.items() "
                f"if n.split('.')[0] != 'jailfs' and 'site-packages' in (getattr(v, '__file__', None) or '')))")
        run = subprocess.run([sys.executable, "-IS", "-c", code], capture_output=True, text=True,
                             cwd=tmp_path)
        assert (tool, run.returncode, run.stdout, run.stderr) == (tool, 0, "[]\n", "")
