"""Issue 12 item 15: in a block whose name is a jid, ``${name}`` expands to
the jid-implied name.

FreeBSD: usr.sbin/jail/config.c, load_config() (FreeBSD 15: a jid block that
does not set ``name`` is also given the name its block implies), as
usr.sbin/jail/tests/jail_basic_test.sh, jid_name_set_body, checks with
``5309 { host.hostname = "${name}"; persist; }`` and ``jls -j 5309
host.hostname`` printing 5309.  The config.c versions in the reference store
(724ffd0d, 086e0149) predate that change; the test script states it.
"""

from jailfs.conf import parse_string


def jail(text):
    conf = parse_string(text)
    assert len(conf.jails) == 1
    return conf.jails[0], conf.warnings


def test_name_expands_to_the_jid_in_a_jid_block():
    j, warnings = jail('5309 { host.hostname = "${name}"; persist; }')
    assert warnings == [] and not j.failed
    assert j.kernel_params() == [("jid", "5309"), ("host.hostname", "5309"),
                                 ("persist", None), ("name", "5309")]


def test_an_explicit_name_in_a_jid_block_is_kept():
    # jid_name_set_body: "$jid { name = basejail; persist; }" creates basejail
    j, warnings = jail("5309 { name = basejail; persist; }")
    assert warnings == []
    assert j.kernel_params() == [("jid", "5309"), ("name", "basejail"),
                                 ("persist", None)]


def test_a_wildcard_may_name_a_jid_block():
    j, warnings = jail('* { name = "n$jid"; } 7 { persist; }')
    assert warnings == [] and j.string("name") == "n7"


def test_named_blocks_get_no_jid():
    j, _ = jail('web { host.hostname = "${name}"; }')
    assert j.kernel_params() == [("name", "web"), ("host.hostname", "web")]


def test_through_the_mount(mount_factory, tmp_path):
    conf = tmp_path / "jail.conf"
    conf.write_text('5309 { host.hostname = "${name}"; persist; path = "/"; }\n')
    m = mount_factory("--conf", str(conf))
    assert (m.path / "5309/jid").read_text() == "5309\n"
    assert (m.path / "5309/host.hostname").read_text() == "5309\n"
