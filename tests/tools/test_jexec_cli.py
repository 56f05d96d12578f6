"""jexec(8) without a mount: the loopback .ctl (the real ctl.execute on a real
Kernel) answers, exec and chdir are recorded.

The keeper (injail.spawn) is replaced by one that runs its two halves in this
very process: the keeper's attach, then the command's set-up and exec.  The
real keeper is tested at the end, with real processes and no mount.
"""

import os
import pwd
import select
import signal
import subprocess
import sys
import time

import pytest

from jailfs.cli import injail
from jailfs.cli import jexec as J
from jailfs.kernel import Caller


class Exec(Exception):
    pass


class Ended:
    """A keeper whose command has ended with wait status ``status``."""

    def __init__(self, status):
        self.status = status

    def wait(self, timeout=None, forward=False):
        return self.status


def fake_spawn(loop):
    """The keeper and the command in this process: errors are reported, exit 1.
    When it is done, this process leaves the jail, as a keeper does by ending."""
    def spawn(command, report, setsid=False, nested=None, enter_for=None):
        try:
            enter_for(os.getpid())
            command()
        except J.Fatal as e:
            report(e)
        finally:
            for proc in [p for p in loop.k.procs.values() if p.real_pid == os.getpid()]:
                loop.k.kill(proc)
        return Ended(1 << 8)
    return spawn


@pytest.fixture
def env(loop, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(J.os, "environ", dict(os.environ))
    calls = []

    def fake_execvp(file, args):
        calls.append(("execvp", file, list(args), os.getcwd(), dict(os.environ)))
        raise Exec()

    def fake_execlp(file, *args):
        calls.append(("execlp", file, list(args), os.getcwd(), dict(os.environ)))
        raise Exec()

    monkeypatch.setattr(J.os, "execvp", fake_execvp)
    monkeypatch.setattr(J.os, "execlp", fake_execlp)
    jaildir = tmp_path / "jails" / "www"
    jaildir.mkdir(parents=True)
    loop.create("name=www", "jid=3", f"path={jaildir}", "persist")
    gone = tmp_path / "gone"
    gone.mkdir()
    loop.create("name=sim", "jid=4", f"path={gone}", "persist")
    gone.rmdir()                        # the jail's path no longer exists here
    loop.create("name=old", "jid=5", "ip4.addr=192.0.2.10", "persist")
    p = loop.k.spawn(5)                 # a TIME_WAIT socket keeps "old" dying after its removal
    loop.k.close(p, loop.k.tcp_connect(p, "192.0.2.10:1234", "198.51.100.1:80"))
    assert loop.answer("remove old").ok
    loop.requests.clear()
    monkeypatch.setattr(J.injail, "spawn", fake_spawn(loop))
    return loop, calls, jaildir


def run(capsys, *argv):
    try:
        rc = J.main(list(argv))
    except Exec:
        rc = "exec"
    o, e = capsys.readouterr()
    return rc, o, e


def test_usage(env, capsys):
    usage = J.USAGE + "\n"
    assert run(capsys) == (1, "", usage)
    assert run(capsys, "-u", "root", "-U", "root", "www", "true") == (1, "", usage)
    assert run(capsys, "-x", "www") == (1, "", "jexec: illegal option -- x\n" + usage)
    assert run(capsys, "www", "-d") != (1, "", usage)       # options stop at the jail
    assert run(capsys, "-d") == (1, "", "jexec: option requires an argument -- d\n" + usage)


def test_usage_is_one_line():
    assert "\n" not in J.USAGE and J.USAGE.startswith("usage: jexec ")


def test_runs_command_in_jail_root(env, capsys):
    ctl, calls, jaildir = env
    assert run(capsys, "www", "echo", "hi")[0] == "exec"
    kind, file, args, cwd, _ = calls[-1]
    assert (kind, file, args) == ("execvp", "echo", ["echo", "hi"])
    assert cwd == str(jaildir)
    assert ctl.requests == ["get www jid path", f"enter 3 {os.getpid()}"]


def test_jid_and_simulated_path(env, capsys):
    ctl, calls, _ = env
    assert run(capsys, "4", "true")[0] == "exec"
    assert calls[-1][3] == "/"            # path does not exist here: /
    assert ctl.requests[-1] == f"enter 4 {os.getpid()}"


def test_not_found_and_dying(env, capsys):
    assert run(capsys, "nope", "true") == (1, "", 'jexec: jail "nope" not found\n')
    assert run(capsys, "9", "true") == (1, "", "jexec: jail 9 not found\n")
    assert run(capsys, "old", "true") == (1, "", 'jexec: jail "old" is dying\n')


def test_zero_is_invalid(env, capsys):
    ctl, _, _ = env
    assert run(capsys, "0", "true") == (1, "", "jexec: jail_attach(0): Invalid argument\n")
    assert not any(r.startswith(("attach", "enter")) for r in ctl.requests)


def test_attach_refused(env, capsys):
    ctl, _, _ = env
    ctl.caller = Caller(ctl.k.prison0, uid=1001)      # jail_attach needs root
    assert run(capsys, "www", "true") == (
        1, "", "jexec: jail_attach(3): Operation not permitted\n")


def test_workdir(env, capsys, tmp_path):
    _, calls, _ = env
    d = tmp_path / "work"
    d.mkdir()
    assert run(capsys, "-d", str(d), "www", "pwd")[0] == "exec"
    assert calls[-1][3] == str(d)
    assert run(capsys, "-d", "/no/where", "www", "pwd") == (
        1, "", "jexec: chdir(): /no/where: No such file or directory\n")


def test_shell_when_no_command(env, capsys, monkeypatch):
    _, calls, _ = env
    os.environ["SHELL"] = "/bin/bash"
    assert run(capsys, "www")[0] == "exec"
    assert calls[-1][:3] == ("execlp", "/bin/bash", ["/bin/bash", "-i"])
    del os.environ["SHELL"]
    assert run(capsys, "www")[0] == "exec"
    assert calls[-1][:3] == ("execlp", "/bin/sh", ["/bin/sh", "-i"])


def test_clean_environment(env, capsys):
    _, calls, _ = env
    me = pwd.getpwuid(os.getuid())
    os.environ.update({"TERM": "xterm", "SECRET": "x", "PATH": "/weird"})
    assert run(capsys, "-l", "www", "env")[0] == "exec"
    _, _, _, cwd, environ = calls[-1]
    # PATH: login.conf's default class (setusercontext(3), LOGIN_SETPATH), ~ = home
    login_class_path = ("/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:"
                        + me.pw_dir.rstrip("/") + "/bin")
    assert environ == {"PATH": login_class_path, "TERM": "xterm", "USER": me.pw_name,
                       "HOME": me.pw_dir, "SHELL": me.pw_shell or "/bin/sh"}
    assert cwd == os.path.realpath(me.pw_dir)


def test_user(env, capsys):
    _, calls, _ = env
    root = pwd.getpwnam("root")
    if os.getuid() != 0:
        pytest.skip("needs root to switch users")
    assert run(capsys, "-U", "root", "www", "id")[0] == "exec"
    environ = calls[-1][4]
    assert environ["USER"] == "root" and environ["HOME"] == root.pw_dir


def test_unknown_user(env, capsys):
    assert run(capsys, "-u", "no-such-user-xyz", "www", "true") == (
        1, "", "jexec: no-such-user-xyz: no such user\n")
    assert run(capsys, "-U", "no-such-user-xyz", "www", "true") == (
        1, "", "jexec: no-such-user-xyz: no such user\n")


def test_exec_failure(env, capsys, monkeypatch):
    def boom(file, args):
        raise FileNotFoundError(2, "No such file or directory")
    monkeypatch.setattr(J.os, "execvp", boom)
    assert run(capsys, "www", "nosuchcmd") == (
        1, "", "jexec: execvp: nosuchcmd: No such file or directory\n")


def test_no_mount(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("JAILFS_MOUNT", str(tmp_path / "none"))
    rc, o, e = run(capsys, "www", "true")
    assert rc == 1 and e.startswith("jexec: JAILFS_MOUNT=")


# --- the keeper itself (injail): real processes, no mount

def _ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _reap(pid, seconds=10):
    """The wait status of child ``pid``, which must end within ``seconds``."""
    for _ in range(seconds * 100):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"process {pid} did not end")


def _report(e):
    sys.stderr.write(f"test: {e}\n")


def _keep(argv, enter_for=None):
    return injail.spawn(lambda: os.execvp(argv[0], argv), _report, enter_for=enter_for)


def test_keeper_passes_on_exit_status_and_signal():
    k = _keep(["sh", "-c", "exit 7"])
    assert os.waitstatus_to_exitcode(k.wait()) == 7
    assert os.waitstatus_to_exitcode(_reap(k.pid)) == 0      # no orphans: K ends
    k = _keep([sys.executable, "-c", "import os, signal; signal.signal(signal.SIGTERM, "
               "signal.SIG_DFL); os.kill(os.getpid(), signal.SIGTERM)"])   # even if inherited ignored
    st = k.wait()
    assert os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGTERM
    _reap(k.pid)


def test_keeper_is_entered_then_runs_the_command_below_it(tmp_path):
    seen = tmp_path / "attached"

    def enter_for(keeper):
        seen.write_text(str(keeper))
        return []                   # no confinement: a host command below K
    k = _keep(["sh", "-c", 'echo $PPID > "$0"', str(tmp_path / "ppid")], enter_for=enter_for)
    assert os.waitstatus_to_exitcode(k.wait()) == 0
    assert int(seen.read_text()) == k.pid == int((tmp_path / "ppid").read_text())
    _reap(k.pid)


def test_keeper_keeps_what_the_command_left_behind(tmp_path):
    pidfile = tmp_path / "pid"
    k = _keep(["sh", "-c", 'sleep 30 & echo $! > "$0"', str(pidfile)])
    assert os.waitstatus_to_exitcode(k.wait(timeout=10)) == 0     # returns at once
    orphan = int(pidfile.read_text())
    try:
        assert _ppid(orphan) == k.pid                # re-parented to K, not to init
        assert os.waitpid(k.pid, os.WNOHANG) == (0, 0)
        # K holds nothing of ours: a $(jexec ...) is not kept waiting by K
        assert os.readlink(f"/proc/{k.pid}/cwd") == "/"
        fds = {fd: os.readlink(f"/proc/{k.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{k.pid}/fd")}
        assert [fds.pop(fd) for fd in ("0", "1", "2")] == ["/dev/null"] * 3
        assert all(v.startswith("pipe:") for v in fds.values())   # its pipe, until it closes it
    finally:
        os.kill(orphan, signal.SIGKILL)
    assert os.waitstatus_to_exitcode(_reap(k.pid)) == 0      # its last child gone: K ends


def test_keeper_timeout():
    k = _keep(["sleep", "30"])
    assert k.wait(timeout=0.1) is None
    os.kill(k.command_pid, signal.SIGKILL)
    assert os.WTERMSIG(k.wait(timeout=10)) == signal.SIGKILL
    _reap(k.pid)


def test_keeper_errors_are_reported_and_exit_1(tmp_path, capfd):
    ran = tmp_path / "ran"

    def refuse(keeper):
        raise J.Fatal("jail_attach(3): Operation not permitted")
    k = _keep(["touch", str(ran)], enter_for=refuse)
    assert os.waitstatus_to_exitcode(k.wait()) == 1
    assert capfd.readouterr().err == "test: jail_attach(3): Operation not permitted\n"
    assert not ran.exists()

    def bad_dir():
        raise J.Fatal("chdir(): /no/where: No such file or directory")
    k = injail.spawn(bad_dir, _report)
    assert os.waitstatus_to_exitcode(k.wait()) == 1
    assert capfd.readouterr().err == "test: chdir(): /no/where: No such file or directory\n"
    _reap(k.pid)


# jexec's part: run ARGV... below a keeper, wait forwarding signals, exit alike
FORWARDER = """
import os, sys
from jailfs.cli import injail
k = injail.spawn(lambda: os.execvp(sys.argv[1], sys.argv[1:]), print)
sys.exit(injail.exit_status(k.wait(forward=True)))
"""
# a command that counts the SIGINTs it gets in one second
COUNT_INT = """
import signal, sys, time
n = 0
def count(*_):
    global n
    n += 1
signal.signal(signal.SIGINT, count)
open(sys.argv[1], "w").close()
time.sleep(1)
print("SIGINT", n)
"""


def _default_signals():
    """The dispositions these tests rely on, whatever the runner inherited (nohup ignores SIGHUP)."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


def _wait_file(path):
    for _ in range(1000):
        if path.exists():
            return
        time.sleep(0.01)
    raise AssertionError(f"no {path}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_sent_to_the_invoker_reach_the_command(tmp_path, sig):
    ready = tmp_path / "ready"
    p = subprocess.Popen([sys.executable, "-c", FORWARDER,
                          "sh", "-c", 'echo > "$0"; exec sleep 30', str(ready)],
                         preexec_fn=_default_signals)
    try:
        _wait_file(ready)
        p.send_signal(sig)
        assert p.wait(timeout=10) == -sig        # the command died of it, and so does jexec
    finally:
        p.kill()
        p.wait()


def test_the_terminals_signal_reaches_the_command_once(tmp_path):
    ready = tmp_path / "ready"
    pid, fd = os.forkpty()
    if pid == 0:
        _default_signals()
        os.execv(sys.executable, [sys.executable, "-c", FORWARDER,
                                  sys.executable, "-c", COUNT_INT, str(ready)])
    out = b""
    try:
        _wait_file(ready)
        os.write(fd, b"\x03")                    # ^C: SIGINT to the foreground group
        while select.select([fd], [], [], 10)[0]:
            try:
                data = os.read(fd, 1024)
            except OSError:                      # EIO: the terminal's last user is gone
                break
            if not data:
                break
            out += data
    finally:
        os.close(fd)
        status = _reap(pid)
    assert b"SIGINT 1" in out and os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("given, passed", [(None, None), ("C", "C"), ("C.UTF-8", "C.UTF-8")])
def test_locale_coercion_is_undone(given, passed):
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_CTYPE")}
    if given is not None:
        env["LC_CTYPE"] = given
    code = ("import os; from jailfs.cli.injail import undo_locale_coercion as u; "
            "e = dict(os.environ); u(e); print(e.get('LC_CTYPE'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out == f"{passed}\n"


def test_jailed_path_puts_the_toolbox_first_only_where_the_root_has_it(tmp_path):
    """Issue 11 item 7: the toolbox's directory first on a jailed command's
    PATH when the jail's root has it (once), PATH untouched otherwise."""
    from jailfs.cli.bsdlib import jailed_path
    tb = "/opt/jailfs/libexec/jailfs-bsd"
    assert jailed_path("/bin:/usr/bin", tb, str(tmp_path)) == "/bin:/usr/bin"
    assert jailed_path(None, tb, str(tmp_path)) is None
    (tmp_path / tb.lstrip("/")).mkdir(parents=True)
    assert jailed_path("/bin:/usr/bin", tb, str(tmp_path)) == f"{tb}:/bin:/usr/bin"
    assert jailed_path(f"/bin:{tb}:/usr/bin", tb, str(tmp_path)) == f"{tb}:/bin:/usr/bin"
    assert jailed_path(None, tb, str(tmp_path)) == f"{tb}:{os.defpath}"
