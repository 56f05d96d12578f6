"""A caller's view comes from its cgroup at each request, though the daemon
keeps each recent caller's /proc/PID/cgroup open (fs/callercgroups.py): an
attacker's tests that a process first answered as the host is answered from
its jail once it is in one, and that a descriptor whose process has ended
answers for no one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jailfs.fs.callercgroups import CallerCgroups

LISTER = r"""
import os, sys
for line in sys.stdin:
    try:
        print(" ".join(sorted(os.listdir(sys.argv[1]))), flush=True)
    except OSError as e:
        print(f"errno {e.errno}", flush=True)
"""


def _ask(proc) -> set[str]:
    proc.stdin.write("ls\n")
    proc.stdin.flush()
    return set(proc.stdout.readline().split())


def test_a_host_caller_moved_into_a_jail_gets_the_jails_view(jailfs_mount):
    m = jailfs_mount
    os.mkdir(m / "a")
    os.mkdir(m / "b")
    proc = subprocess.Popen([sys.executable, "-c", LISTER, str(m)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):                       # answered as the host, several times
            assert {"a", "b"} <= _ask(proc)
        code, answer = m.ctl(f"attach a {proc.pid}")
        assert code == 0, answer
        seen = _ask(proc)
        assert "b" not in seen and "a" not in seen, seen
        os.mkdir(m / "a/inner")
        code, answer = m.ctl(f"attach a.inner {proc.pid}")
        assert code == 0, answer
        assert "inner" not in _ask(proc)         # a.inner's own view: it has no children
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_the_text_is_parsed_again_only_when_it_changes(tmp_path):
    parsed = []

    def parse(text):
        parsed.append(text)
        return "answer"
    callers = CallerCgroups(parse, "unknown")
    try:
        me = os.getpid()
        assert callers.jail_of(me) == callers.jail_of(me) == "answer"
        assert len(parsed) == 1
        with open(f"/proc/{me}/cgroup") as f:
            assert parsed[0] == f.read()
    finally:
        callers.close()


def test_an_ended_process_descriptor_answers_for_no_one():
    callers = CallerCgroups(lambda text: "jail", "unknown")
    proc = subprocess.Popen(["sleep", "60"])
    try:
        assert callers.jail_of(proc.pid) == "jail"
        fd = callers._open[proc.pid][0]
    finally:
        proc.kill()
        proc.wait()
    try:
        # bound to the process, not to its number: once it has ended the
        # descriptor reads nothing, whoever has the pid now
        with pytest.raises(ProcessLookupError):
            os.pread(fd, 100, 0)
        answer = callers.jail_of(proc.pid)
        if not os.path.exists(f"/proc/{proc.pid}"):       # not reused meanwhile
            assert answer == "unknown" and proc.pid not in callers._open
    finally:
        callers.close()


def test_only_the_newest_callers_keep_a_descriptor():
    callers = CallerCgroups(lambda text: "x", "unknown", keep=2)
    procs = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
    try:
        for p in procs:
            assert callers.jail_of(p.pid) == "x"
        assert sorted(callers._open) == sorted(p.pid for p in procs[1:])
    finally:
        for p in procs:
            p.kill()
            p.wait()
        callers.close()


def test_out_of_descriptors_the_kept_ones_are_given_back():
    import resource
    callers = CallerCgroups(lambda text: "x", "unknown")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    hog = []
    try:
        assert callers.jail_of(os.getpid()) == "x"
        proc = subprocess.Popen(["sleep", "60"])
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
            while True:                          # every other descriptor in use
                try:
                    hog.append(os.open("/dev/null", os.O_RDONLY))
                except OSError:
                    break
            assert callers.jail_of(proc.pid) == "x"
            assert list(callers._open) == [proc.pid]
        finally:
            proc.kill()
            proc.wait()
    finally:
        for fd in hog:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        callers.close()
