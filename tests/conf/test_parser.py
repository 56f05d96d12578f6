"""Unit tests of the jail.conf(5) parser (jailfs.conf)."""


import pytest

from jailfs.conf import ConfError, load_config, parse_string
from jailfs.conf.config import equalopts, wild_jail_match, wild_jail_name
from jailfs.conf.lexer import decode_escapes


def jails(text, **kw):
    c = parse_string(text, **kw)
    return {j.name: j for j in c.jails}, c.warnings


def kern(text, name):
    return jails(text)[0][name].kernel


# ---------------------------------------------------------------- structure

def test_block_sets_name_first():
    js, w = jails("web { persist; host.hostname = www; }")
    assert w == []
    assert list(js["web"].kernel.items()) == [
        ("name", ["web"]), ("persist", []), ("host.hostname", ["www"])]


def test_global_parameters_apply_to_every_jail():
    js, _ = jails("persist;\na { }\nb { }")
    assert js["a"].kernel == {"name": ["a"], "persist": []}
    assert js["b"].kernel == {"name": ["b"], "persist": []}


def test_no_global_only_jails():
    c = parse_string("persist;")
    assert c.jails == []


def test_nested_blocks_are_hierarchical():
    js, _ = jails("a { persist; b { persist; c { persist; } } x = 1; }")
    assert list(js) == ["a", "a.b", "a.b.c"]
    assert js["a"].kernel == {"name": ["a"], "persist": [], "x": ["1"]}
    assert js["a.b.c"].kernel["name"] == ["a.b.c"]


def test_numeric_block_is_a_jid_and_named_after_it():
    js, _ = jails("12 { persist; }")
    assert list(js["12"].kernel.items()) == [
        ("jid", ["12"]), ("persist", []), ("name", ["12"])]


def test_zero_block_is_a_name():
    js, _ = jails("0 { persist; }")
    assert js["0"].kernel["name"] == ["0"]


def test_name_cannot_be_redefined():
    js, w = jails("a { name = b; }")
    assert w == ['a: cannot redefine parameter "name".']
    assert js["a"].failed


def test_jid_cannot_be_redefined_in_numeric_block():
    js, w = jails("3 { jid = 4; }")
    assert w == ['3: cannot redefine parameter "jid".']


def test_jid_may_be_set_in_named_block():
    js, w = jails("a { jid = 4; }")
    assert w == [] and js["a"].kernel["jid"] == ["4"]


def test_empty_statements():
    js, w = jails(";; a { ; persist;; } ;")
    assert js["a"].kernel == {"name": ["a"], "persist": []}


# ---------------------------------------------------------------- values

def test_list_values_and_append():
    js, _ = jails("a { ip4.addr = 10.0.0.1, 10.0.0.2; ip4.addr += 10.0.0.3; }")
    assert js["a"].kernel["ip4.addr"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert ("ip4.addr", "10.0.0.1,10.0.0.2,10.0.0.3") in js["a"].kernel_params()


def test_assignment_replaces():
    js, _ = jails("a { ip4.addr = 1.1.1.1; ip4.addr = 2.2.2.2; }")
    assert js["a"].kernel["ip4.addr"] == ["2.2.2.2"]


def test_scalar_keeps_last_value_for_the_kernel():
    js, _ = jails("a { host.hostname = x, y; }")
    assert ("host.hostname", "y") in js["a"].kernel_params()


def test_name_value_without_equals():
    js, _ = jails("a { host.hostname www; }")
    assert js["a"].kernel["host.hostname"] == ["www"]


def test_bare_parameter_clears_values():
    js, _ = jails("a { securelevel = 2; securelevel; }")
    assert js["a"].kernel["securelevel"] == []


def test_no_forms_are_the_same_parameter():
    js, _ = jails("a { persist; nopersist; allow.mount; allow.nomount; }")
    assert js["a"].kernel == {"name": ["a"], "nopersist": [],
                              "allow.nomount": []}
    assert js["a"].kernel_params() == [("name", "a"), ("nopersist", None),
                                       ("allow.nomount", None)]
    assert not js["a"].bool("persist")


def test_bool_values():
    js, _ = jails("a { persist = false; mount.devfs = 1; exec.clean = TRUE;"
                  " mount.noprocfs; }")
    a = js["a"]
    assert not a.bool("persist")
    assert a.bool("mount.devfs")
    assert a.bool("exec.clean")
    assert not a.bool("mount.procfs")


def test_pseudo_parameters_kept_apart():
    js, _ = jails('a { persist; exec.start = "/bin/sh /etc/rc"; '
                  'exec.start += "echo hi"; command = x; depend = b; '
                  'mount.devfs; mount = "a b c"; stop.timeout = 3; }'
                  'b { persist; }')
    a = js["a"]
    assert a.kernel == {"name": ["a"], "persist": []}
    assert a.pseudo == {"exec.start": ["/bin/sh /etc/rc", "echo hi"],
                        "command": ["x"], "depend": ["b"], "mount.devfs": [],
                        "mount": ["a b c"], "stop.timeout": ["3"]}
    assert a.int("stop.timeout") == 3


# ---------------------------------------------------------------- strings

def test_quoting_and_escapes():
    js, _ = jails(r'''a { p1 = "two words"; p2 = 'it''s'; p3 = "tab\there";
                  p4 = \x41\102\n; p5 = 'no\$exp'; p6 = "q\"q"; p7 = ""; }''')
    k = js["a"].kernel
    assert k["p1"] == ["two words"]
    assert k["p2"] == ["its"]          # adjacent pieces glue
    assert k["p3"] == ["tab\there"]
    assert k["p4"] == ["AB\n"]
    assert k["p5"] == ["no$exp"]
    assert k["p6"] == ['q"q']
    assert k["p7"] == [""]


def test_backslash_newline_continues():
    js, _ = jails('a { host.hostname = "foo\\\nbar"; x = ab\\\ncd; }')
    assert js["a"].kernel["host.hostname"] == ["foobar"]
    assert js["a"].kernel["x"] == ["abcd"]


def test_multiline_quoted_string():
    js, _ = jails("a { exec.start = 'one\ntwo'; }")
    assert js["a"].pseudo["exec.start"] == ["one\ntwo"]


def test_comments():
    js, _ = jails("""# shell
    // c++
    /* c
       multi */ a { persist; # trailing
    host.hostname = x; /* inline */ }""")
    assert js["a"].kernel == {"name": ["a"], "persist": [],
                              "host.hostname": ["x"]}


def test_decode_escapes():
    assert decode_escapes(r"\a\b\f\n\r\t\v") == "\a\b\f\n\r\t\v"
    assert decode_escapes(r"\101\x4a\q") == "AJq"
    assert decode_escapes("a\\\nb") == "ab"


# ---------------------------------------------------------------- variables

def test_variables_and_parameter_expansion():
    js, w = jails('$base = "/var/jail";\npath = "$base/$name";\n'
                  'a { host.hostname = "${name}.example.org"; '
                  'x = ${host.hostname}; }')
    assert w == []
    k = js["a"].kernel
    assert k["path"] == ["/var/jail/a"]
    assert k["host.hostname"] == ["a.example.org"]
    assert k["x"] == ["a.example.org"]
    assert "base" not in k and "$base" not in k


def test_dollar_name_stops_at_dot():
    js, w = jails("a { $h = x; y = $h.example; }")
    assert js["a"].kernel["y"] == ["x.example"]


def test_single_quotes_do_not_expand():
    js, _ = jails("a { p = '$name'; }")
    assert js["a"].kernel["p"] == ["$name"]


def test_lone_dollar_is_literal():
    js, _ = jails('a { p = "cost $5"; q = $; }')
    assert js["a"].kernel["p"] == ["cost $5"]
    assert js["a"].kernel["q"] == ["$"]


def test_expansion_is_per_jail_after_wildcard_merge():
    js, _ = jails('* { path = "/j/$name"; }\na { }\nb { }')
    assert js["a"].kernel["path"] == ["/j/a"]
    assert js["b"].kernel["path"] == ["/j/b"]


def test_variable_defined_later_still_resolves():
    js, w = jails("a { p = $v; $v = late; }")
    assert w == [] and js["a"].kernel["p"] == ["late"]


def test_variable_not_found():
    js, w = jails("a { path = $nope; }\nb { persist; }")
    assert w == ['a: path: variable "nope" not found']
    assert js["a"].failed and not js["b"].failed


def test_variable_loop():
    js, w = jails("a { $x = $y; $y = $x; p = $x; }")
    assert w == ["a: x: variable loop"]
    assert js["a"].failed


def test_self_reference_is_a_loop():
    js, w = jails("a { $x = ${x}; p = $x; }")
    assert w == ["a: x: variable loop"]


def test_array_substitution_whole_value_only():
    js, w = jails("a { $l = 1.1.1.1, 2.2.2.2; ip4.addr = $l; }")
    assert w == [] and js["a"].kernel["ip4.addr"] == ["1.1.1.1", "2.2.2.2"]
    js, w = jails('a { $l = x, y; p = "pre$l"; }')
    assert w == ["a: p: array cannot be substituted inline"]


def test_variable_may_not_share_a_parameter_name():
    js, w = jails("a { $path = /x; }")
    assert w == ['a: variable "$path" cannot have the same name as a parameter.']
    js, w = jails("a { $name = x; }")
    assert w == ['a: variable "$name" cannot have the same name as a parameter.']


def test_variable_reordering_puts_dependency_first():
    js, _ = jails("a { p = $q; q = ${name}x; }")
    assert list(js["a"].kernel) == ["name", "q", "p"]
    assert js["a"].kernel["p"] == ["ax"]


# ---------------------------------------------------------------- wildcards

def test_wildcard_above_gives_defaults_below_overrides():
    js, _ = jails("* { securelevel = 1; host.hostname = def; }\n"
                  "a { securelevel = 2; }\n"
                  "* { host.hostname = forced; }")
    k = js["a"].kernel
    assert k["securelevel"] == ["2"]
    assert k["host.hostname"] == ["forced"]


def test_global_statements_after_a_jail_override_it():
    js, _ = jails("a { securelevel = 2; }\nsecurelevel = 3;")
    assert js["a"].kernel["securelevel"] == ["3"]


def test_partial_wildcards():
    js, _ = jails("web { persist; c1 { persist; d { persist; } } }\n"
                  "web.* { securelevel = 3; }\n"
                  '"x.*.y" { enforce_statfs = 1; }\n'
                  "x { persist; q { persist; y { persist; } } }")
    assert "securelevel" not in js["web"].kernel
    assert js["web.c1"].kernel["securelevel"] == ["3"]
    assert js["web.c1.d"].kernel["securelevel"] == ["3"]
    assert js["x.q.y"].kernel["enforce_statfs"] == ["1"]
    assert "enforce_statfs" not in js["x.q"].kernel


def test_wild_match_rules():
    assert wild_jail_match("foo.bar", "foo.*")
    assert wild_jail_match("foo.bar.baz", "foo.*")
    assert not wild_jail_match("foo", "foo.*")
    assert wild_jail_match("a.b.c", "a.*.c")
    assert not wild_jail_match("a.b.x.c", "a.*.c")
    assert wild_jail_match("anything", "*")
    assert wild_jail_name("*") and wild_jail_name("a.*") and wild_jail_name("*.b")
    assert not wild_jail_name("a*") and not wild_jail_name("a.b")


def test_equalopts():
    assert equalopts("persist", "nopersist")
    assert equalopts("allow.mount", "allow.nomount")
    assert equalopts("allow.mount.devfs", "allow.mount.nodevfs")
    assert not equalopts("allow.mount", "allow.mount.devfs")
    assert not equalopts("name", "path")


# ---------------------------------------------------------------- errors

def errors_of(text, cfname="t.conf"):
    with pytest.raises(ConfError) as ei:
        parse_string(text, cfname)
    return ei.value.messages


def test_syntax_error_message():
    assert errors_of("a {\n  path = ;\n}\n") == ["t.conf line 2: ;: syntax error"]


def test_unexpected_eof():
    assert errors_of("a { persist;") == ["t.conf: unexpected EOF"]
    assert errors_of("a { persist") == ["t.conf: unexpected EOF"]


def test_unterminated_string_comment_variable():
    # the lexer goes on after the bad string, so the parser then complains too
    assert errors_of('a { p = "abc;\n}') == ["t.conf line 1: unterminated string",
                                              "t.conf line 2: }: syntax error"]
    assert errors_of('a { p = "abc;\n; }') == ["t.conf line 1: unterminated string",
                                                "t.conf line 2: ;: syntax error"]
    assert errors_of("a { p = x; }\n/* never") == [
        "t.conf line 2: unterminated comment"]
    assert errors_of("a { p = ${abc;\n}") == ["t.conf line 1: unterminated variable",
                                             "t.conf line 2: }: syntax error"]


def test_stray_brace():
    assert errors_of("}\n") == ["t.conf line 1: }: syntax error"]


# ---------------------------------------------------------------- includes

def test_include_relative_glob_and_depth(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.conf").write_text("one { persist; }\n")
    (tmp_path / "d" / "two.conf").write_text("two { persist; }\n")
    (tmp_path / "sub.conf").write_text(".include \"d/*.conf\";\n")
    main = tmp_path / "jail.conf"
    main.write_text('path = "/j/$name";\n.include "sub.conf";\n'
                    '.include "nomatch-*.conf";\nlast { persist; }\n')
    c = load_config(str(main))
    assert [j.name for j in c.jails] == ["one", "two", "last"]
    assert c.jails[0].kernel["path"] == ["/j/one"]


def test_include_missing_file(tmp_path):
    main = tmp_path / "jail.conf"
    main.write_text('.include "absent.conf";\n')
    with pytest.raises(ConfError) as ei:
        load_config(str(main))
    assert ei.value.messages == [f"{tmp_path}/absent.conf: No such file or directory"]


def test_include_inside_block_adds_to_that_jail(tmp_path):
    (tmp_path / "inner.conf").write_text("persist;\nsub { persist; }\n")
    main = tmp_path / "jail.conf"
    main.write_text('a { .include "inner.conf"; }\n')
    c = load_config(str(main))
    assert [(j.name, j.kernel) for j in c.jails] == [
        ("a", {"name": ["a"], "persist": []}),
        ("a.sub", {"name": ["a.sub"], "persist": []})]


def test_include_loop_depth_limit(tmp_path):
    main = tmp_path / "loop.conf"
    main.write_text('.include "loop.conf";\n')
    with pytest.raises(ConfError) as ei:
        load_config(str(main))
    assert ei.value.messages[-1].endswith("loop.conf: includes nested too deeply")


def test_include_no_variables(tmp_path):
    main = tmp_path / "jail.conf"
    main.write_text('$d = x;\n.include "$d.conf";\n')
    with pytest.raises(ConfError) as ei:
        load_config(str(main))
    assert ei.value.messages == [
        f"{main} line 2: variables not permitted in '.include' filename"]


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfError) as ei:
        load_config(str(tmp_path / "none.conf"))
    assert ei.value.messages == [f"{tmp_path}/none.conf: No such file or directory"]
