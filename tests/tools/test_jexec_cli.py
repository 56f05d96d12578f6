"""jexec(8) without a mount: a fake .ctl answers, exec and chdir are recorded."""

import os
import pwd

import pytest

from jailfs.cli import jexec as J
from jailfs.cli.mountfind import CtlAnswer


class Exec(Exception):
    pass


class FakeCtl:
    def __init__(self, jails=None, dying=(), attach_error=None):
        self.jails = dict(jails or {})           # name -> (jid, path)
        self.dying = set(dying)
        self.attach_error = attach_error
        self.requests = []

    def __call__(self, mount, text):
        import shlex
        self.requests.append(text)
        w = shlex.split(text)
        if w[0] == "get":
            key = w[1]
            for name, (jid, path) in self.jails.items():
                if key in (name, str(jid)):
                    if name in self.dying:
                        what = f"jail {key}" if key.isdigit() else f'jail "{key}"'
                        return CtlAnswer(False, "ENOENT", f"{what} is dying", [])
                    return CtlAnswer(True, "", str(jid),
                                     [f"jid={jid}", f"path={shlex.quote(path)}"])
            what = f"jail {key}" if key.isdigit() else f'jail "{key}"'
            return CtlAnswer(False, "ENOENT", f"{what} not found", [])
        if w[0] == "attach":
            if self.attach_error:
                return CtlAnswer(False, self.attach_error, "jail_attach: x", [])
            return CtlAnswer(True, "", "", [])
        return CtlAnswer(False, "EINVAL", "bad request", [])


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("JAILFS_MOUNT", str(tmp_path))
    (tmp_path / ".ctl").write_text("")
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
    ctl = FakeCtl({"www": (3, str(jaildir)), "sim": (4, "/no/such/dir"), "old": (5, "/")},
                  dying={"old"})
    monkeypatch.setattr(J, "ctl_answer", ctl)
    return ctl, calls, jaildir


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
    assert ctl.requests == ["get www jid path", f"attach 3 {os.getpid()}"]


def test_jid_and_simulated_path(env, capsys):
    ctl, calls, _ = env
    assert run(capsys, "4", "true")[0] == "exec"
    assert calls[-1][3] == "/"            # path does not exist here: /
    assert ctl.requests[-1] == f"attach 4 {os.getpid()}"


def test_not_found_and_dying(env, capsys):
    assert run(capsys, "nope", "true") == (1, "", 'jexec: jail "nope" not found\n')
    assert run(capsys, "9", "true") == (1, "", "jexec: jail 9 not found\n")
    assert run(capsys, "old", "true") == (1, "", 'jexec: jail "old" is dying\n')


def test_zero_is_invalid(env, capsys):
    ctl, _, _ = env
    assert run(capsys, "0", "true") == (1, "", "jexec: jail_attach(0): Invalid argument\n")
    assert not any(r.startswith("attach") for r in ctl.requests)


def test_attach_refused(env, capsys):
    ctl, _, _ = env
    ctl.attach_error = "EPERM"
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
    assert environ == {"PATH": "/bin:/usr/bin", "TERM": "xterm", "USER": me.pw_name,
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
