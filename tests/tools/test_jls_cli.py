"""jls(8) end to end against the real kernel, through the loopback .ctl
(tests/tools/conftest.py: the real ctl.execute on a real Kernel), so these
tests see the kernel's real canonical values without FUSE.  The shell tests
(tests/shell/jls_*.sh) do the same through a real mount.
"""

import json
import shlex

import pytest

from jailfs.cli.bsdlib import strtoul_int
from jailfs.cli.libjail import ParamTable

from jailfs.cli import jls as J


@pytest.fixture
def ctl(loop):
    return loop


def all_names(loop):
    return J.ParamList(ParamTable.fetch(loop.mount)).all_names()


def run(capsys, *argv):
    rc = J.main(list(argv))
    o, e = capsys.readouterr()
    return rc, o, e


HEADER = "   JID  IP Address      Hostname                      Path\n"


@pytest.fixture
def www(ctl):
    ctl.create("name=www", "path=/", "host.hostname=www.example", "ip4.addr=192.0.2.10",
               "persist")
    return ctl


def test_no_jails(ctl, capsys):
    assert run(capsys) == (0, HEADER, "")


def test_default_listing(www, capsys):
    rc, o, e = run(capsys)
    assert rc == 0 and e == ""
    assert o == HEADER + "     1  192.0.2.10      www.example                   /\n"


def test_names_listing(www, capsys):
    rc, o, e = run(capsys, "-N")
    assert o == (" JID             IP Address      Hostname                      Path\n"
                 " www             192.0.2.10      www.example                   /\n")


def test_param_mode(www, capsys):
    assert run(capsys, "-j", "www", "name", "jid", "dying", "persist", "ip6.addr") == (
        0, "www 1 false true -\n", "")


def test_jid_lookup_by_name_and_number(www, capsys):
    assert run(capsys, "-j", "www", "jid") == (0, "1\n", "")
    assert run(capsys, "-j", "1", "name") == (0, "www\n", "")
    assert run(capsys, "-j1", "name") == (0, "www\n", "")


def test_not_found(www, capsys):
    assert run(capsys, "-j", "nope", "jid") == (1, "", 'jls: jail "nope" not found\n')
    assert run(capsys, "-j", "42", "jid") == (1, "", "jls: jail 42 not found\n")
    assert run(capsys, "-j", "0", "jid") == (1, "", 'jls: jail "0" not found\n')


def test_not_found_default_mode_prints_header_first(www, capsys):
    assert run(capsys, "-j", "nope") == (1, HEADER, 'jls: jail "nope" not found\n')


def test_check(www, capsys):
    assert run(capsys, "-c", "-j", "www") == (0, "", "")
    assert run(capsys, "-cj", "1") == (0, "", "")
    assert run(capsys, "-cj", "nope") == (1, "", "")
    assert run(capsys, "-cj", "5309") == (1, "", "")


def test_nameval_subset(www, capsys):
    rc, o, e = run(capsys, "-n", "-j", "www", "name", "host.hostname", "persist", "ip4.addr")
    assert o == "name=www host.hostname=www.example persist ip4.addr=192.0.2.10\n"


def test_nameval_all_order_and_shape(www, capsys):
    rc, o, e = run(capsys, "-n", "-j", "www")
    assert rc == 0 and o.endswith("\n") and o.count("\n") == 1
    words = o.split()
    names = [w.split("=", 1)[0] if "=" in w else w for w in words]
    bare = []
    for n in names:
        base = n
        head, dot, last = n.rpartition(".")
        if "=" not in n and last.startswith("no") and f"{head}{dot}{last[2:]}" in www.k.param_names():
            base = f"{head}{dot}{last[2:]}"
        bare.append(base)
    assert bare == all_names(www)
    assert "nodying" in words and "persist" in words
    assert 'host.domainname=""' in words and 'meta=""' in words


def test_all_order_matches_freebsd_sort(ctl):
    names = all_names(ctl)
    undotted = [n for n in names if "." not in n]
    dotted = [n for n in names if "." in n]
    assert names == undotted + dotted
    assert undotted == sorted(undotted, key=lambda s: s.encode())
    assert dotted == sorted(dotted, key=lambda s: s.encode())
    # the kernel's own order is the same
    assert list(ctl.k.param_names()) == names


def test_skip_mode(www, capsys):
    rc, o, e = run(capsys, "-s", "-j", "www")
    words = shlex.split(o)
    assert "jid=1" in words and "name=www" in words and "persist" in words
    for ro in ("parent", "dying", "nodying", "children.cur", "cpuset.id"):
        assert not any(w.split("=")[0] == ro for w in words), ro
    # host=new: host.* printed; ip4 reads back "disable" (FreeBSD quirk): ip4.* skipped
    assert "host.hostname=www.example" in words
    assert not any(w.startswith("ip4.addr") for w in words)


def test_quoted(ctl, capsys):
    ctl.create("name=q", "host.hostname=a b", "persist")
    assert run(capsys, "-q", "-j", "q", "host.hostname", "host.domainname", "ip4.addr") == (
        0, '"a b" "" ""\n', "")
    assert run(capsys, "-j", "q", "host.hostname", "ip4.addr") == (0, "a b -\n", "")


def test_header_with_params(www, capsys):
    assert run(capsys, "-h", "name", "jid") == (0, "name jid\nwww 1\n", "")


def test_header_all(www, capsys):
    rc, o, e = run(capsys, "-h")
    head, row = o.splitlines()
    assert head.split() == all_names(www)
    assert len(row.split(" ")) >= len(head.split())


def test_duplicates_collapse(www, capsys):
    assert run(capsys, "-j", "www", "jid", "name", "jid") == (0, "1 www\n", "")


def test_nobool_param(www, capsys):
    assert run(capsys, "-j", "www", "nopersist") == (0, "false\n", "")
    assert run(capsys, "-n", "-j", "www", "nopersist", "nodying") == (0, "persist nodying\n", "")


def test_unknown_param(www, capsys):
    assert run(capsys, "foo") == (1, "", "jls: unknown parameter: foo\n")
    assert run(capsys, "nohost") == (1, "", "jls: unknown parameter: nohost\n")


def test_meta_keys(ctl, capsys):
    ctl.create("name=m", "persist", "meta=a=1", "env.x=hello")
    assert run(capsys, "-j", "m", "meta.a", "env.x", "meta") == (0, "1 hello a=1\n", "")
    assert run(capsys, "-n", "-j", "m", "meta.a") == (0, "meta.a=1\n", "")


def test_verbose(www, capsys):
    rc, o, e = run(capsys, "-v")
    lines = o.splitlines()
    assert lines[:4] == ["   JID  Hostname                      Path",
                         "        Name                          State",
                         "        CPUSetID",
                         "        IP Address(es)"]
    assert lines[4] == "     1  www.example                   /"
    assert lines[5] == "        www                           ACTIVE"
    assert lines[6].strip().isdigit()
    assert lines[7] == "        192.0.2.10"
    assert len(lines) == 8


def test_dying(www, capsys):
    ctl = www
    # a TCP connection in TIME_WAIT holds the jail: removed, it goes dying
    p = ctl.k.spawn(1)
    fd = ctl.k.tcp_connect(p, "192.0.2.10:1234", "198.51.100.1:80")
    ctl.k.close(p, fd)
    a = ctl.answer("remove www")
    assert a.ok
    assert run(capsys) == (0, HEADER, "")
    rc, o, e = run(capsys, "-d")
    assert o == HEADER + "     1  192.0.2.10      www.example                   /\n"
    assert run(capsys, "-j", "www", "jid") == (1, "", 'jls: jail "www" is dying\n')
    assert run(capsys, "-j", "1", "jid") == (1, "", "jls: jail 1 is dying\n")
    assert run(capsys, "-d", "-j", "1", "dying") == (0, "true\n", "")
    rc, o, e = run(capsys, "-dv")
    assert "        www                           DYING\n" in o
    ctl.k.advance(61)
    assert run(capsys, "-d") == (0, HEADER, "")


def test_libxo_json(www, capsys):
    rc, o, e = run(capsys, "--libxo", "json")
    assert rc == 0
    assert o.startswith('{"__version": "2", "jail-information": {"jail": [')
    doc = json.loads(o)
    assert doc["jail-information"]["jail"] == [
        {"jid": 1, "ipv4": "192.0.2.10", "hostname": "www.example", "path": "/"}]


def test_libxo_json_verbose(www, capsys):
    rc, o, e = run(capsys, "--libxo", "json", "-v")
    jail = json.loads(o)["jail-information"]["jail"][0]
    assert jail["name"] == "www" and jail["state"] == "ACTIVE"
    assert jail["ipv4_addrs"] == ["192.0.2.10"] and jail["ipv6_addrs"] == []


def test_libxo_forms(www, capsys):
    for argv in (["--libxo=json,pretty"], ["--libxo:JP"], ["--libxo", "pretty,json"]):
        rc, o, e = run(capsys, *argv)
        assert rc == 0 and o.startswith('{\n  "__version": "2", \n'), argv
    rc, o, e = run(capsys, "--libxo", "xml")
    assert o.startswith('<jail-information version="2"><jail><jid>1</jid>')
    assert run(capsys, "--libxo", "bogus") == (1, "", "jls: unknown libxo option value: 'bogus'\n")


def test_libxo_json_nameval(www, capsys):
    rc, o, e = run(capsys, "--libxo", "json", "-n", "-j", "www")
    jail = json.loads(o)["jail-information"]["jail"][0]
    assert jail["persist"] is True and jail["dying"] is False
    assert jail["ip4.addr"] == ["192.0.2.10"] and jail["name"] == "www"


def test_usage(ctl, capsys):
    rc, o, e = run(capsys, "-x")
    assert rc == 1 and o == ""
    assert e == "jls: illegal option -- x\njls: usage: jls [-dhNnqv] [-j jail] [param ...]\n"
    assert run(capsys, "-j") == (
        1, "", "jls: option requires an argument -- j\n"
               "jls: usage: jls [-dhNnqv] [-j jail] [param ...]\n")


def test_no_mount(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("JAILFS_MOUNT", str(tmp_path / "nothing"))
    rc, o, e = run(capsys)
    assert rc == 1 and e.startswith("jls: JAILFS_MOUNT=")


def test_strtoul_rules():
    assert strtoul_int("12") == 12
    assert strtoul_int(" 7") == 7
    assert strtoul_int("-1") == -1
    assert strtoul_int("0") == 0
    assert strtoul_int("12a") is None
    assert strtoul_int("web") is None
    assert strtoul_int("") is None
    assert strtoul_int("4294967297") == 1                # (int)strtoul: the low 32 bits
    assert strtoul_int("99999999999999999999999") == -1  # ERANGE: ULONG_MAX
