"""jail(8) behaviours checked against FreeBSD's usr.sbin/jail (FreeBSD 15,
main), issue 12 items 13-17, through the loopback .ctl (the real ctl.execute
on a real Kernel).  Host-side commands (exec.prestop, exec.poststop) run for
real; nothing here runs a command inside a jail."""

import os

import pytest

from jailfs.cli import jail as J


def run(capsys, *argv):
    rc = J.main(list(argv))
    o, e = capsys.readouterr()
    return rc, o, e


@pytest.fixture
def conf(loop, tmp_path, monkeypatch):
    monkeypatch.setattr(J, "CONF_FILE", str(tmp_path / "no-jail.conf"))
    log = tmp_path / "log"
    c = tmp_path / "jail.conf"
    c.write_text(f"web {{ persist; exec.prestop = 'echo pre $JNAME >> {log}';\n"
                 f"      exec.poststop = 'echo post $JID $JNAME >> {log}'; }}\n")
    return loop, c, log


def test_r_by_jid_runs_the_file_s_stop_commands(capsys, conf):
    """Item 13: state.c start_state -> running_jail(): a jid given to -r maps
    to the running jail's name and so to its config entry, whose
    exec.prestop/exec.poststop run."""
    loop, c, log = conf
    loop.create("name=web", "jid=5", "persist")
    assert run(capsys, "-f", str(c), "-r", "5") == (0, "web: removed\n", "")
    assert log.read_text() == "pre web\npost 5 web\n"
    assert not loop.answer("get -d web jid").ok


def test_r_by_jid_of_a_jail_not_in_the_file(capsys, conf):
    loop, c, log = conf
    loop.create("name=other", "jid=7", "persist")
    assert run(capsys, "-f", str(c), "-r", "7") == (0, "other: removed\n", "")
    assert not log.exists()


def test_jid_is_in_poststop_s_environment(capsys, conf):
    """Item 14: the jid of the removed jail stays in exec.poststop's
    environment (command.c run_command builds it from the cfjail, whose jid
    is cleared only after the commands have been set up)."""
    loop, c, log = conf
    jid = loop.create("name=web", "persist")
    assert run(capsys, "-f", str(c), "-r", "web")[0] == 0
    assert log.read_text() == f"pre web\npost {jid} web\n"


def test_relative_path_is_resolved_against_the_cwd(capsys, loop, tmp_path, monkeypatch):
    """Item 16 (and issue 10 item 1): jail_set's path is looked up by namei
    from the caller's current directory (kern_jail.c kern_jail_set), so
    `jail -c path=sub` names $PWD/sub, not /sub."""
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "-c", "name=rel", "path=sub", "persist") == (0, "", "")
    assert loop.answer("get rel path").kv() == {"path": str(tmp_path / "sub")}
    monkeypatch.chdir(tmp_path / "sub")
    assert run(capsys, "-c", "name=up", "path=..", "persist") == (0, "", "")
    assert loop.answer("get up path").kv() == {"path": str(tmp_path)}


def test_consolelog_that_cannot_be_opened(capsys, loop, tmp_path):
    """Item 17: command.c run_command opens exec.consolelog before it forks;
    failing, it says `open FILE: strerror` once and the command fails --
    there is no second "COMMAND: failed" line, and the new jail is removed."""
    bad = tmp_path / "no" / "such" / "log"
    rc, o, e = run(capsys, "-c", "name=c", "persist", f"exec.consolelog={bad}",
                   "exec.start=/bin/true")
    assert rc == 1
    assert e == f"jail: open {bad}: No such file or directory\n"   # a command-line jail has no name
    assert not loop.answer("get c jid").ok


def test_login_path_expands_the_home_directory():
    """login_class.c substvar: a leading ~ is the home directory."""
    from jailfs.cli.bsdlib import login_path
    assert login_path("/home/u") == ("/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:"
                                     "/usr/local/bin:/home/u/bin")
    assert login_path("/").endswith(":/usr/local/bin:/bin")
    assert login_path("/root/").endswith(":/root/bin")


def test_exec_clean_path_is_the_login_class_one(capsys, loop, tmp_path):
    """Issue 10 item 6: exec.clean runs commands with PATH from the default
    login class, as command.c run_command's setusercontext(LOGIN_SETPATH)."""
    import pwd
    out = tmp_path / "env"
    home = pwd.getpwuid(os.getuid()).pw_dir
    rc, o, e = run(capsys, "-c", "name=clean", "persist", "exec.clean",
                   f"exec.prestart=/bin/sh -c 'env > {out}'")
    assert (rc, e) == (0, "")
    env = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert env["PATH"] == ("/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:"
                           + home.rstrip("/") + "/bin")
    assert "JAILFS_MOUNT" not in env


def test_vnet_interface_moves_after_exec_created_and_comes_back_on_failure(capsys, loop, tmp_path):
    """Issue 11 item 2: command.c IP_VNET_INTERFACE, after IP_EXEC_CREATED
    (jail.c startcommands): one `ifconfig IF vnet JAIL` per interface, the
    jail named by its name parameter; when a later step fails, next_command
    walks back and runs `ifconfig IF -vnet JAIL`, last first, before the
    jail is removed.  Here the ifconfig is the toolbox's, over .ctl."""
    for name in ("lo", "lo"):
        assert loop.answer(f"ifcreate {name}").ok
    log = tmp_path / "log"
    rc, o, e = run(capsys, "-c", "name=v", "vnet", "persist", "vnet.interface=lo1,lo2",
                   f"exec.created=echo created >> {log}", "exec.poststart=/bin/false")
    assert (rc, o, e) == (1, "", "jail: /bin/false: failed\n")
    assert log.read_text() == "created\n"
    moves = [r for r in loop.requests if r.split()[0] in ("create", "ifvnet", "ifreclaim", "remove")]
    # ifconfig's jail_getid turns the name jail(8) gives it into jid 1
    assert "get v jid" in loop.requests
    assert [m.split()[0] for m in moves] == ["create", "ifvnet", "ifvnet", "ifreclaim",
                                             "ifreclaim", "remove"]
    assert moves[1:5] == ["ifvnet lo1 1", "ifvnet lo2 1", "ifreclaim lo2 1", "ifreclaim lo1 1"]
    assert loop.answer("ifconfig .").extra == ["lo0", "em0", "lo2", "lo1"]   # back, last first
