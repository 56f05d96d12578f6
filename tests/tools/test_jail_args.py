"""jail(8) argument handling, without a mount: the loopback .ctl (the real
ctl.execute on a real Kernel) answers and records requests."""

import pytest

from jailfs.cli import jail as J
from jailfs.kernel import Caller


class Jail8Loop:
    """The loopback (tests/tools/conftest.py) with jail(8)'s setting: no
    /etc/jail.conf, and jails made running by name and jid."""

    def __init__(self, loop):
        self.loop = loop
        self.requests = loop.requests

    def running(self, **jails):
        for name, jid in jails.items():
            self.loop.create(f"name={name}", f"jid={jid}", "persist")
        self.requests.clear()


@pytest.fixture
def fake(loop, monkeypatch, tmp_path):
    monkeypatch.setattr(J, "CONF_FILE", str(tmp_path / "no-jail.conf"))
    return Jail8Loop(loop)


def run(capsys, *argv):
    rc = J.main(list(argv))
    o, e = capsys.readouterr()
    return rc, o, e


def test_no_arguments_is_usage(capsys):
    rc, o, e = run(capsys)
    assert rc == 1 and o == "" and e == J.USAGE


def test_usage_text_lists_forms():
    assert J.USAGE.startswith("usage: jail [-dhilqv]")
    assert J.USAGE.rstrip().endswith("jail [-f file] -e separator")


def test_bad_option(capsys):
    rc, o, e = run(capsys, "-Z")
    assert rc == 1 and e.startswith("jail: illegal option -- Z\nusage:")


def test_legacy_needs_absolute_path_and_four_args(capsys):
    assert run(capsys, "rel", "h", "", "cmd")[0] == 1
    assert run(capsys, "/", "h", "")[0] == 1


def test_remove_needs_target_and_no_params(capsys):
    assert run(capsys, "-r")[2] == J.USAGE
    assert run(capsys, "-r", "a=b")[2] == J.USAGE
    assert run(capsys, "-R", "-c", "name=a")[2] == J.USAGE


def test_e_must_be_alone(capsys, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text("a { persist; }\n")
    assert run(capsys, "-f", str(c), "-e", ",", "-c")[2] == J.USAGE


def test_e_prints_configured_jails(capsys, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text('path = "/j/$name";\n* { }\na { persist; host.hostname = "a b"; }\n'
                 'b { exec.start = "/bin/sh /etc/rc"; ip4.addr = 1.1.1.1, 2.2.2.2; }\n')
    rc, o, e = run(capsys, "-f", str(c), "-e", "|")
    assert rc == 0 and e == ""
    assert o == ('name=a|path=/j/a|persist|host.hostname="a b"\n'
                 'name=b|path=/j/b|exec.start="/bin/sh /etc/rc"|ip4.addr=1.1.1.1,2.2.2.2\n')


def test_config_syntax_error(capsys, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text("a {\n path = ;\n}\n")
    rc, o, e = run(capsys, "-f", str(c), "-c")
    assert rc == 1 and e == f"jail: {c} line 2: ;: syntax error\n"


def test_missing_config(capsys, tmp_path):
    rc, o, e = run(capsys, "-f", str(tmp_path / "x.conf"), "-c", "a")
    assert rc == 1 and e == f"jail: {tmp_path}/x.conf: No such file or directory\n"


def test_d_flag_warns_once(capsys, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text("a { persist; }\n")
    rc, o, e = run(capsys, "-d", "-d", "-f", str(c), "-e", ",")
    assert e == "jail: " + J.DEPRECATED_DYING + "\n"


# -------------------------------------------------------- with the fake .ctl

def test_create_is_one_request_and_silent(capsys, fake):
    rc, o, e = run(capsys, "-c", "name=web", "persist", "host.hostname=my host",
                   "ip4.addr=192.0.2.1,192.0.2.2", "allow.nomount")
    assert (rc, o, e) == (0, "", "")
    creates = [r for r in fake.requests if r.startswith("create")]
    assert creates == ["create name=web persist 'host.hostname=my host' "
                       "ip4.addr=192.0.2.1,192.0.2.2 allow.nomount"]


def test_create_existing(capsys, fake):
    fake.running(web=3)
    rc, o, e = run(capsys, "-c", "name=web", "persist")
    assert (rc, o, e) == (1, "", 'jail: "web" already exists\n')


def test_create_kernel_error(capsys, fake):
    fake.loop.create("name=full", "children.max=1", "persist")
    fake.loop.create("name=full.only", "persist")
    fake.loop.caller = fake.loop.jailed("full")         # its one child is made
    rc, o, e = run(capsys, "-c", "name=web", "persist")
    assert (rc, o, e) == (1, "", "jail: prison limit exceeded\n")


def test_i_prints_jid(capsys, fake):
    rc, o, e = run(capsys, "-ic", "name=web", "persist")
    assert (rc, o, e) == (0, "1\n", "")


def test_v_notes(capsys, fake):
    rc, o, e = run(capsys, "-vc", "name=web", "persist")
    assert o == "jail_set(JAIL_CREATE) name=web persist\ncreated\n"


def test_modify_not_found(capsys, fake):
    rc, o, e = run(capsys, "-m", "name=web", "securelevel=1")
    assert (rc, e) == (1, 'jail: "web" not found\n')


def test_modify_sends_update(capsys, fake):
    fake.running(web=5)
    rc, o, e = run(capsys, "-m", "name=web", "securelevel=1")
    assert (rc, o, e) == (0, "", "")
    assert "update jid=5 name=web securelevel=1" in fake.requests


def test_create_or_modify(capsys, fake):
    rc, o, e = run(capsys, "-cm", "name=web", "persist")
    assert rc == 0 and any(r.startswith("create ") for r in fake.requests)
    rc, o, e = run(capsys, "-cm", "name=web", "persist")
    assert rc == 0 and fake.requests[-1].startswith("update jid=")


def test_remove_command_line_is_silent(capsys, fake):
    fake.running(web=5)
    rc, o, e = run(capsys, "-r", "web")
    assert (rc, o, e) == (0, "", "")
    assert "remove 5" in fake.requests


def test_remove_several_notes(capsys, fake):
    fake.running(a=5, b=6)
    rc, o, e = run(capsys, "-r", "a", "b")
    assert (rc, o, e) == (0, "a: removed\nb: removed\n", "")


def test_remove_not_found(capsys, fake):
    rc, o, e = run(capsys, "-r", "ghost")
    assert (rc, o, e) == (1, "", 'jail: "ghost" not found\n')


def test_R_single_silent(capsys, fake):
    fake.running(web=5)
    assert run(capsys, "-R", "web") == (0, "", "")


def test_remove_eperm(capsys, fake):
    fake.running(web=5)
    fake.loop.caller = Caller(fake.loop.k.prison0, uid=1001)    # not root
    rc, o, e = run(capsys, "-r", "web")
    assert (rc, e) == (1, "jail: web: jail_remove: Operation not permitted\n")


def test_config_file_notes(capsys, fake, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text("a { persist; }\nb { persist; depend = a; }\n")
    rc, o, e = run(capsys, "-f", str(c), "-c")
    assert (rc, o, e) == (0, "a: created\nb: created\n", "")
    rc, o, e = run(capsys, "-f", str(c), "-r", "b")
    assert (rc, o, e) == (0, "b: removed\n", "")
    rc, o, e = run(capsys, "-f", str(c), "-r", "*")
    assert (rc, o, e) == (0, "a: removed\n", "")


def test_config_undefined_dependency(capsys, fake, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text("a { persist; depend = zz; }\n")
    rc, o, e = run(capsys, "-f", str(c), "-c", "a")
    assert rc == 1 and e == 'jail: a: depends on undefined jail "zz"\n'


def test_config_bad_variable_fails_only_that_jail(capsys, fake, tmp_path):
    c = tmp_path / "j.conf"
    c.write_text("a { path = $nope; }\nb { persist; }\n")
    rc, o, e = run(capsys, "-f", str(c), "-c")
    assert rc == 1
    assert e == 'jail: a: path: variable "nope" not found\n'
    assert o == "b: created\n"


def test_command_swallows_rest(capsys, fake, monkeypatch):
    seen = {}

    def fake_run(self, j, param, value, injail, argv=None):
        seen.setdefault(param, []).append(argv if argv is not None else value)
        return True
    monkeypatch.setattr(J.Jail8, "run_command", fake_run)
    rc, o, e = run(capsys, "-c", "name=x", "command=/bin/echo", "a", "b=c", "-q")
    assert rc == 0
    assert seen["command"] == [["/bin/echo", "a", "b=c", "-q"]]
    # persist added for the command's lifetime, then taken away
    assert fake.requests[1].startswith("create persist name=x")
    assert fake.requests[-1] == "update jid=1 nopersist"


def test_legacy_form(capsys, fake, monkeypatch):
    monkeypatch.setattr(J.Jail8, "run_command", lambda *a, **k: True)
    monkeypatch.setattr(J.Jail8, "is_jailed", lambda self: True)
    rc, o, e = run(capsys, "/", "host.example", "192.0.2.1,2001:db8::1", "/bin/sh", "-c", "true")
    assert (rc, o, e) == (0, "", "")
    create = [r for r in fake.requests if r.startswith("create")][0]
    assert create == ("create persist path=/ host.hostname=host.example "
                      "ip4.addr=192.0.2.1 ip6.addr=2001:db8::1")


def test_J_file(capsys, fake, tmp_path):
    jf = tmp_path / "jids"
    rc, o, e = run(capsys, "-J", str(jf), "-c", "name=web", "persist", "host.hostname=a b")
    assert rc == 0
    assert jf.read_text() == 'jid=1\tname=web\tpersist\thost.hostname="a b"\n'


def test_quoted_print():
    assert J.quoted_print("") == '""'
    assert J.quoted_print("a b") == '"a b"'
    assert J.quoted_print("it's") == '"it\'s"'
    assert J.quoted_print('say "x"') == "'say \"x\"'"
    assert J.quoted_print("back\\slash") == "back\\\\slash"
