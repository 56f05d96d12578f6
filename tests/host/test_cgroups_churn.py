"""Issue 9's churn, bounded: 300 jails, each with a real process attached,
made and removed through a real mount.  Afterwards nothing of them is left:
no jail (alive or dying), no cgroup below the daemon's base, no process, no
view (the filesystem's own check), and the kernel's invariants hold."""

from __future__ import annotations

import os
import subprocess
import time

from jailfs.host import cgroups as cg

N = 300


def daemon_base(pid: int) -> str:
    v2, v1 = cg.probe()
    with open(f"/proc/{pid}/cgroup") as f:
        own = next(line.rstrip("\n").split(":", 2)[2] for line in f if line.startswith("0::"))
    return os.path.join(v2[0] + own.rstrip("/"), f"jailfs-{pid}-{cg.start_time(pid)}")


def test_churn_of_jails_with_a_process_leaves_nothing(jailfs_mount):
    m = jailfs_mount
    base = daemon_base(m.proc.pid)
    assert os.path.isdir(base), "the daemon keeps membership in cgroups"
    started = []
    try:
        for i in range(N):
            name = f"c{i}"
            os.mkdir(m / name)
            child = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
            started.append(child)
            assert m.ctl(f"attach {name} {child.pid}") == (0, "ok\n")
            with open(f"/proc/{child.pid}/cgroup") as f:
                assert "/j" in f.read(), "attach placed it in its jail's cgroup"
            os.rmdir(m / name)
            assert child.wait(30) == -9             # killed with its jail
        deadline = time.monotonic() + 30
        while os.listdir(m / ".dying") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [n for n in os.listdir(m.path) if (m / n).is_dir() and not n.startswith(".")] == []
        assert os.listdir(m / ".dying") == []
        assert [d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d))] == []
        assert m.ctl("check") == (0, "ok\n")
    finally:
        for child in started:
            if child.poll() is None:
                child.kill()
                child.wait()
