"""A process that still holds the host's privileges inside a jail's mount
namespace (the anchor, a keeper, the entry agent) loads no module from a
file: every path there names the jail's files, which its root may have
planted (jailfs.host.namespaces.load_no_module_files)."""

import subprocess
import sys

PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from jailfs.host.namespaces import load_no_module_files
import jailfs.host.enter                    # loaded before: still there
load_no_module_files()
for name in ("planted", "jailfs.toolbox.sysctl", "email.mime", "atexit"):
    try:
        __import__(name)
        print(name, "loaded")
    except ImportError:
        print(name, "refused")
"""


def test_a_planted_module_is_never_run(tmp_path):
    (tmp_path / "planted.py").write_text("print('planted code ran')\n")
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert "planted code ran" not in out
    assert out[:4] == ["planted refused", "jailfs.toolbox.sysctl refused",
                       "email.mime refused", "atexit loaded"]
