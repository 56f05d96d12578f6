"""jls output formatting: exact bytes for every mode, fed with canonical values."""

import json
import xml.dom.minidom

import pytest

from jailfs.cli import jlsformat as F
from jailfs.cli.jlsformat import (JParam, PRINT_DEFAULT, PRINT_HEADER, PRINT_JAIL_NAME,
                                  PRINT_NAMEVAL, PRINT_QUOTED, PRINT_SKIP, PRINT_VERBOSE,
                                  render)

NAMEVAL_Q = PRINT_NAMEVAL | PRINT_QUOTED
SKIP = PRINT_NAMEVAL | PRINT_QUOTED | PRINT_SKIP

WWW_DEFAULT = ["1", "192.0.2.10", "www.example", "/jails/www"]
HEADER = "   JID  IP Address      Hostname                      Path\n"


def plist(*names, kinds=None):
    kinds = kinds or {}
    out = []
    for n in names:
        k = kinds.get(n) or ("ip4" if n == "ip4.addr" else "ip6" if n == "ip6.addr"
                             else "bool" if n in ("persist", "dying", "allow.mount",
                                                  "ip4.saddrsel") else
                             "jailsys" if n in ("host", "ip4", "ip6", "vnet") else
                             "int" if n in ("jid", "parent", "securelevel", "cpuset.id",
                                            "children.cur", "children.max") else "string")
        out.append(JParam(n, k, writable=n not in ("parent", "dying", "cpuset.id",
                                                   "children.cur")))
    return out


def default_params():
    return plist(*F.DEFAULT_PARAMS)


# ------------------------------------------------------------- default mode

def test_default_header_and_row():
    assert render(PRINT_DEFAULT, default_params(), [WWW_DEFAULT]) == (
        HEADER +
        "     1  192.0.2.10      www.example                   /jails/www\n")


def test_default_no_jails_prints_header_only():
    assert render(PRINT_DEFAULT, default_params(), []) == HEADER


def test_default_empty_address_and_hostname():
    out = render(PRINT_DEFAULT, default_params(), [["7", None, "", "/"]])
    assert out == HEADER + "     7" + "  " + " " * 15 + " " + " " * 29 + " /\n"


def test_default_first_address_only_and_truncation():
    long_host = "h" * 40
    long_path = "/" + "p" * 100
    out = render(PRINT_DEFAULT, default_params(),
                 [["123456", "10.100.200.123,10.0.0.1", long_host, long_path]])
    row = out.splitlines()[1]
    assert row == ("123456  10.100.200.123  " + "h" * 29 + " " + long_path[:74])


def test_default_long_jid_is_not_truncated():
    out = render(PRINT_DEFAULT, default_params(), [["1234567", None, "x", "/"]])
    assert out.splitlines()[1].startswith("1234567  ")


def test_default_with_names():
    params = plist(*F.NAME_PARAMS)
    out = render(PRINT_DEFAULT | PRINT_JAIL_NAME, params,
                 [["www", "192.0.2.10", "www.example", "/jails/www"],
                  ["a-very-long-jail-name", None, "", "/"]])
    assert out == (
        " JID             IP Address      Hostname                      Path\n"
        " www             192.0.2.10      www.example                   /jails/www\n"
        " a-very-long-jail-name" + " " + " " * 15 + " " + " " * 29 + " /\n")


# ------------------------------------------------------------- verbose mode

VERBOSE_HEADER = ("   JID  Hostname                      Path\n"
                  "        Name                          State\n"
                  "        CPUSetID\n"
                  "        IP Address(es)\n")


def verbose_params():
    return plist(*F.VERBOSE_PARAMS)


def test_verbose():
    vals = ["1", "www.example", "/jails/www", "www", "false", "3",
            "192.0.2.10,192.0.2.11", "2001:db8::1"]
    assert render(PRINT_VERBOSE, verbose_params(), [vals]) == VERBOSE_HEADER + (
        "     1  www.example                   /jails/www\n"
        "        www                           ACTIVE\n"
        "        3\n"
        "        192.0.2.10\n"
        "        192.0.2.11\n"
        "        2001:db8::1\n")


def test_verbose_dying_no_addresses_truncation():
    vals = ["2", "", "/", "n" * 35, "true", "12", None, None]
    assert render(PRINT_VERBOSE, verbose_params(), [vals]) == VERBOSE_HEADER + (
        "     2  " + " " * 29 + " /\n"
        "        " + "n" * 29 + " DYING\n"
        "        12\n")


# ----------------------------------------------------------- parameter mode

def test_param_mode_values_and_empties():
    params = plist("name", "jid", "dying", "persist", "ip6.addr", "host.domainname", "host")
    vals = ["www", "1", "false", "true", None, "", "new"]
    assert render(0, params, [vals]) == 'www 1 false true - "" new\n'


def test_param_mode_lists_comma_joined():
    params = plist("ip4.addr")
    assert render(0, params, [["192.0.2.1,192.0.2.2"]]) == "192.0.2.1,192.0.2.2\n"


def test_param_mode_quoting_only_with_q():
    params = plist("host.hostname")
    assert render(0, params, [["my host"]]) == "my host\n"
    assert render(PRINT_QUOTED, params, [["my host"]]) == '"my host"\n'
    assert render(PRINT_QUOTED, params, [["tab\there"]]) == '"tab\there"\n'
    assert render(PRINT_QUOTED, params, [["it's"]]) == '"it\'s"\n'
    assert render(PRINT_QUOTED, params, [['say "x"']]) == "'say \"x\"'\n"
    assert render(PRINT_QUOTED, params, [["both ' and \""]]) == '"both \' and ""\n'
    assert render(PRINT_QUOTED, params, [["plain"]]) == "plain\n"


def test_param_mode_empty_list_with_q():
    params = plist("ip4.addr", "host.hostname")
    assert render(PRINT_QUOTED, params, [[None, ""]]) == '"" ""\n'


def test_header_line_with_params():
    params = plist("name", "jid")
    assert render(PRINT_HEADER, params, [["www", "1"], ["db", "2"]]) == (
        "name jid\nwww 1\ndb 2\n")


def test_header_only_user_params():
    params = plist("name", "jid")
    params[1].flags = F.JP_OPT
    assert render(PRINT_HEADER, params, []) == "name\n"


# --------------------------------------------------------------------- -n/-s

def test_nameval():
    params = plist("name", "host.hostname", "persist", "ip4.addr", "dying",
                   "host.domainname", "allow.mount")
    vals = ["www", "www.example", "true", "192.0.2.10", "false", "", "false"]
    assert render(PRINT_NAMEVAL, params, [vals]) == (
        'name=www host.hostname=www.example persist ip4.addr=192.0.2.10 nodying '
        'host.domainname="" allow.nomount\n')


def test_nameval_empty_list_prints_nothing_after_equals():
    params = plist("ip4.addr", "ip6.addr")
    assert render(PRINT_NAMEVAL, params, [[None, None]]) == "ip4.addr= ip6.addr=\n"
    assert render(NAMEVAL_Q, params, [[None, None]]) == 'ip4.addr="" ip6.addr=""\n'


def test_nameval_nobool():
    p = JParam("nopersist", "bool", nobool=True)
    assert render(PRINT_NAMEVAL, [p], [["true"]]) == "nopersist\n"
    assert render(PRINT_NAMEVAL, [p], [["false"]]) == "persist\n"
    assert render(0, [p], [["true"]]) == "true\n"


def test_nameval_quoted_value():
    params = plist("host.hostname")
    assert render(PRINT_NAMEVAL, params, [["a b"]]) == "host.hostname=a b\n"
    assert render(NAMEVAL_Q, params, [["a b"]]) == 'host.hostname="a b"\n'


def test_skip_mode_drops_readonly_and_non_new_children():
    params = plist("jid", "name", "parent", "dying", "cpuset.id", "host.hostname",
                   "ip4.addr", "ip4.saddrsel", "children.max", "children.cur",
                   "allow.mount", "persist", "path")
    params += plist("host", "ip4")
    params[5].parent = 13   # host.hostname -> host
    params[6].parent = 14   # ip4.addr -> ip4
    params[7].parent = 14
    params[13].flags = F.JP_OPT
    params[14].flags = F.JP_OPT
    vals = ["3", "web", "0", "false", "2", "www", "192.0.2.1", "true", "0", "0",
            "false", "true", "/", "new", "disable"]
    assert render(SKIP, params, [vals]) == (
        'jid=3 name=web host.hostname=www children.max=0 allow.nomount persist path=/\n')
    vals[13] = "inherit"
    vals[14] = "new"
    assert render(SKIP, params, [vals]) == (
        'jid=3 name=web ip4.addr=192.0.2.1 ip4.saddrsel children.max=0 allow.nomount '
        'persist path=/\n')


def test_skip_mode_non_jailsys_parent_skips():
    # meta.KEY's parent "meta" is a string: jls compares it as a jailsys int and skips.
    params = [JParam("meta.a", "string", parent=1), JParam("meta", "keyvalue", flags=F.JP_OPT)]
    assert render(SKIP, params, [["x", ""]]) == "\n"


def test_skip_quotes_empty_strings():
    params = plist("host.hostname", "name")
    assert render(SKIP, params, [["", "a b"]]) == 'host.hostname="" name="a b"\n'


# ------------------------------------------------------------------- libxo

def test_json_default():
    out = render(PRINT_DEFAULT, default_params(), [WWW_DEFAULT, ["2", None, "", "/"]],
                 style="json")
    assert out == (
        '{"__version": "2", "jail-information": {"jail": ['
        '{"jid":1,"ipv4":"192.0.2.10","hostname":"www.example","path":"/jails/www"}, '
        '{"jid":2,"ipv4":"","hostname":"","path":"/"}]}}\n')
    doc = json.loads(out)
    assert doc["jail-information"]["jail"][1]["ipv4"] == ""


def test_json_empty():
    out = render(PRINT_DEFAULT, default_params(), [], style="json")
    assert out == '{"__version": "2", "jail-information": {"jail": []}}\n'
    assert json.loads(out)["jail-information"]["jail"] == []


def test_json_pretty_default():
    out = render(PRINT_DEFAULT, default_params(), [WWW_DEFAULT], style="json", pretty=True)
    assert out == (
        '{\n'
        '  "__version": "2", \n'
        '  "jail-information": {\n'
        '    "jail": [\n'
        '      {\n'
        '        "jid": 1,\n'
        '        "ipv4": "192.0.2.10",\n'
        '        "hostname": "www.example",\n'
        '        "path": "/jails/www"\n'
        '      }\n'
        '    ]\n'
        '  }\n'
        '}\n')
    json.loads(out)


def test_json_names_mode():
    params = plist(*F.NAME_PARAMS)
    out = render(PRINT_DEFAULT | PRINT_JAIL_NAME, params,
                 [["www", "192.0.2.10", "www.example", "/jails/www"]], style="json")
    assert json.loads(out)["jail-information"]["jail"] == [
        {"name": "www", "ipv4": "192.0.2.10", "hostname": "www.example",
         "path": "/jails/www"}]


def test_json_verbose():
    vals = ["1", "www.example", "/jails/www", "www", "false", "3",
            "192.0.2.10,192.0.2.11", None]
    out = render(PRINT_VERBOSE, verbose_params(), [vals], style="json")
    assert out == (
        '{"__version": "2", "jail-information": {"jail": [{"jid":1,"hostname":"www.example",'
        '"path":"/jails/www","name":"www","state":"ACTIVE","cpusetid":3, '
        '"ipv4_addrs": ["192.0.2.10","192.0.2.11"], "ipv6_addrs": []}]}}\n')
    jail = json.loads(out)["jail-information"]["jail"][0]
    assert jail["ipv4_addrs"] == ["192.0.2.10", "192.0.2.11"]
    assert jail["state"] == "ACTIVE" and jail["cpusetid"] == 3


def test_json_verbose_pretty_parses():
    vals = ["1", "www.example", "/jails/www", "www", "true", "3", "192.0.2.10", None]
    out = render(PRINT_VERBOSE, verbose_params(), [vals, vals], style="json", pretty=True)
    doc = json.loads(out)
    assert [j["state"] for j in doc["jail-information"]["jail"]] == ["DYING", "DYING"]
    assert '        "ipv4_addrs": [\n          "192.0.2.10"\n        ],\n' in out


def test_json_param_mode_strings_bools_lists():
    params = plist("name", "jid", "persist", "ip4.addr", "host.domainname")
    vals = ["www", "1", "true", "192.0.2.1", ""]
    out = render(0, params, [vals], style="json")
    assert out == (
        '{"__version": "2", "jail-information": {"jail": [{"name":"www","jid":"1",'
        '"persist":"true", "ip4.addr": ["192.0.2.1"],"host.domainname":""}]}}\n')
    json.loads(out)


def test_json_nameval_bools_unquoted():
    params = plist("persist", "dying", "name")
    params.append(JParam("nopersist", "bool", nobool=True))
    out = render(PRINT_NAMEVAL, params, [["true", "false", "w", "false"]], style="json")
    jail = json.loads(out)["jail-information"]["jail"][0]
    assert jail == {"persist": True, "dying": False, "name": "w", "nopersist": True}
    assert '"persist":true,"dying":false,' in out


def test_json_escaping():
    params = plist("meta")
    out = render(0, params, [['a="b"\nc=\\d\te']], style="json")
    assert '"meta":"a=\\"b\\"\\nc=\\\\d\\u0009e"' in out
    assert json.loads(out)["jail-information"]["jail"][0]["meta"] == 'a="b"\nc=\\d\te'


def test_json_underscores():
    out = render(PRINT_DEFAULT, default_params(), [], style="json", underscores=True)
    assert out == '{"__version": "2", "jail_information": {"jail": []}}\n'


def test_xml_default():
    out = render(PRINT_DEFAULT, default_params(), [WWW_DEFAULT], style="xml")
    assert out == ('<jail-information version="2"><jail><jid>1</jid><ipv4>192.0.2.10</ipv4>'
                   '<hostname>www.example</hostname><path>/jails/www</path></jail>'
                   '</jail-information>')
    xml.dom.minidom.parseString(out)


def test_xml_pretty_verbose():
    vals = ["1", "www.example", "/jails/www", "www", "false", "3", "192.0.2.10", None]
    out = render(PRINT_VERBOSE, verbose_params(), [vals], style="xml", pretty=True)
    assert out == (
        '<jail-information version="2">\n'
        '  <jail>\n'
        '    <jid>1</jid>\n'
        '    <hostname>www.example</hostname>\n'
        '    <path>/jails/www</path>\n'
        '    <name>www</name>\n'
        '    <state>ACTIVE</state>\n'
        '    <cpusetid>3</cpusetid>\n'
        '    <ipv4_addr>192.0.2.10</ipv4_addr>\n'
        '  </jail>\n'
        '</jail-information>\n')
    xml.dom.minidom.parseString(out)


def test_xml_param_mode_escaping_and_empty():
    params = plist("host.hostname", "host.domainname", "ip4.addr", "persist")
    out = render(PRINT_NAMEVAL, params, [["a<b&c>", "", None, "false"]], style="xml")
    assert out == ('<jail-information version="2"><jail>'
                   '<host.hostname>a&lt;b&amp;c&gt;</host.hostname>'
                   '<host.domainname></host.domainname><persist>false</persist>'
                   '</jail></jail-information>')
    xml.dom.minidom.parseString(out)


def test_xml_empty():
    out = render(PRINT_DEFAULT, default_params(), [], style="xml", pretty=True)
    assert out == '<jail-information version="2">\n</jail-information>\n'


# ------------------------------------------------------------------ helpers

def test_no_form_and_strip_no():
    from jailfs.cli.libjail import no_form, strip_no
    assert no_form("persist") == "nopersist"
    assert no_form("allow.mount.devfs") == "allow.mount.nodevfs"
    assert strip_no("allow.mount.nodevfs") == "allow.mount.devfs"
    assert strip_no("nodying") == "dying"
    assert strip_no("persist") is None


def test_sort_key_undotted_first_then_bytes():
    names = ["allow.mount", "vnet", "allow.mlock", "jid", "allow.mount.devfs", "host",
             "host.hostname", "children.max", "allow.set_hostname", "allow.setaudit"]
    assert sorted(names, key=F.sort_key) == [
        "host", "jid", "vnet", "allow.mlock", "allow.mount", "allow.mount.devfs",
        "allow.set_hostname", "allow.setaudit", "children.max", "host.hostname"]


@pytest.mark.parametrize("style", ["text", "json", "xml"])
def test_styles_agree_on_number_of_jails(style):
    out = render(PRINT_DEFAULT, default_params(), [WWW_DEFAULT] * 3, style=style)
    if style == "json":
        assert len(json.loads(out)["jail-information"]["jail"]) == 3
    elif style == "xml":
        assert out.count("<jail>") == 3
    else:
        assert len(out.splitlines()) == 4
