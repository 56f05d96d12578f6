"""jls(8) behaviours checked against FreeBSD's usr.sbin/jls/jls.c and
lib/libjail/jail.c, issue 12 items 18 and 19, through the loopback .ctl."""

import json
import xml.etree.ElementTree as ET

import pytest

from jailfs.cli import jls as J


def run(capsys, *argv):
    rc = J.main(list(argv))
    o, e = capsys.readouterr()
    assert e == ""
    return rc, o


@pytest.fixture
def web(loop):
    loop.create("name=web", "persist", "meta=a=1\nempty=", "env=e=x")
    return loop


# Item 18: a meta.KEY / env.KEY that is not set comes back from jail_get with
# a zero-length value (libjail jailparam_get), and jls.c print_jail prints a
# zero-length value as "-" in a plain list, "" with -q, nothing after NAME=
# with -n (-s skips a sub-key whose parent is not jailsys "new"), and -- libxo {P:} padding only -- no field in JSON or XML.
# A key set to the empty string is a value: "" everywhere.
@pytest.mark.parametrize("argv, want", [
    (["-j", "web", "meta.a", "meta.unset", "meta.empty", "env.unset"], '1 - "" -\n'),
    (["-j", "web", "-q", "meta.unset", "name"], '"" web\n'),
    (["-j", "web", "-n", "meta.unset", "env.unset", "name"], "meta.unset= env.unset= name=web\n"),
    (["-j", "web", "-s", "meta.unset", "name"], "name=web\n"),   # -s skips KEYs of non-jailsys parents
    (["-j", "web", "-h", "meta.unset", "name"], "meta.unset name\n- web\n"),
    (["meta.unset", "name"], "- web\n"),
])
def test_unset_key_in_text_modes(capsys, web, argv, want):
    assert run(capsys, *argv) == (0, want)


def test_unset_key_is_left_out_of_json(capsys, web):
    rc, o = run(capsys, "--libxo", "json", "-j", "web", "meta.unset", "env.unset")
    assert json.loads(o)["jail-information"]["jail"] == [{}]
    rc, o = run(capsys, "--libxo", "json", "meta.unset", "meta.empty", "env.e", "name")
    assert json.loads(o)["jail-information"]["jail"] == [{"meta.empty": "", "env.e": "x", "name": "web"}]


def test_unset_key_is_left_out_of_xml(capsys, web):
    rc, o = run(capsys, "--libxo", "xml", "meta.unset", "meta.a", "name")
    jail = ET.fromstring(o).find("jail")
    assert [(child.tag, child.text) for child in jail] == [("meta.a", "1"), ("name", "web")]


@pytest.mark.parametrize("style", ["xml", "xml,pretty", "json", "json,pretty"])
def test_control_characters_keep_the_output_parseable(capsys, loop, style):
    """Item 19: libxo's xo_escape_xml (contrib/libxo/libxo/libxo.c) escapes
    only & < > (and " in attributes) and passes a \\x01 through, which no XML
    1.0 parser accepts, not even as &#x1;.  jls writes such characters as its
    JSON does (\\u0001), so both outputs always parse."""
    loop.create("name=ctl", "persist", "meta=k=a\x01b\x1fc<&>\td")
    rc, o = run(capsys, "--libxo", style, "meta.k", "name")
    if style.startswith("xml"):
        jail = ET.fromstring(o).find("jail")
        assert jail.find("meta.k").text == "a\\u0001b\\u001fc<&>\td"
    else:
        assert json.loads(o)["jail-information"]["jail"][0]["meta.k"] == "a\x01b\x1fc<&>\td"
