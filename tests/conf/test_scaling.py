"""jail.conf work grows linearly with the file (issue 13 item 4), checked by
counting operations, not by timing: timings belong in benchmarks/."""

import sys

from hypothesis import given, settings, strategies as st

from jailfs.conf import load_config, plan_file
from jailfs.conf.config import (CfJail, WildcardIndex, equal_names, equalopts,
                                wild_jail_match)
from jailfs.conf.lexer import EOF, Lexer


def scale_conf(n: int) -> str:
    """n groups: a wildcard block per group, a parent and a child jail that
    depends on the previous group's child; global parameters and variables
    used everywhere."""
    out = ['$base = "/jails";', "path = /;", 'host.hostname = "${name}.example";',
           "persist;", "exec.clean;"]
    for i in range(n):
        dep = f" depend = g{i - 1}.web;" if i else ""
        out.append(f'g{i}.* {{ meta = "group {i}"; }}')
        out.append(f"g{i} {{ ip4.addr = 10.0.{i >> 8 & 255}.{i & 255}; }}")
        out.append(f'g{i}.web {{ exec.start = "$base/{i}";{dep} }}')
    return "\n".join(out) + "\n"


def traced_lines(fn) -> int:
    """How many Python lines run inside jailfs.conf while fn() runs."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def trace(frame, event, arg):
        if "jailfs/conf/" in frame.f_code.co_filename:
            return local
        return None

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def create_all(path):
    plan = plan_file(str(path))
    for jid, c in enumerate(plan.creations(), 1):
        c.created(jid)
    return plan


def test_lexing_parsing_merging_and_planning_are_linear(tmp_path):
    def work(n):
        path = tmp_path / f"{n}.conf"
        path.write_text(scale_conf(n))
        plan = create_all(path)
        assert plan.errors == [] and len(plan.created) == 2 * n
        return traced_lines(lambda: create_all(path))

    small, large = work(40), work(320)
    # 8x the file: linear work is ~8x the lines run; quadratic would be ~64x.
    assert large / small < 10, (small, large)


def test_a_jail_with_many_parameters_is_linear_in_them(tmp_path):
    # config.c's add_param compares a new parameter with every parameter the
    # jail has: here an index does it, so n parameters cost O(n).
    def work(n):
        path = tmp_path / f"params{n}.conf"
        path.write_text("".join(f"meta.p{i} = {i}; nometa.q{i};\n" for i in range(n)) +
                        "web { persist; }\n")
        conf = load_config(str(path))
        assert len(conf.jails[0].params) == 2 * n + 2
        return traced_lines(lambda: load_config(str(path)))

    small, large = work(50), work(400)
    assert large / small < 10, (small, large)


def test_line_numbers_count_each_character_once():
    text = "".join(f'j{i} {{ host.hostname = "h{i}"; persist; }}\n' for i in range(3000))
    text += "oops {\n"
    lex = Lexer(text, "big.conf")
    last = None
    while (tok := lex.next()).kind != EOF:
        last = tok
    assert last.line == 3001 and last.raw == "{"
    assert lex.chars_scanned_for_lines <= len(text)


def test_line_numbers_stay_right_when_asked_out_of_order():
    text = 'a { x = "${b\n";\n}\n'
    lex = Lexer(text, "f")
    while lex.next().kind != EOF:
        pass
    assert lex.errors == ["f line 1: unterminated variable"]


def test_a_long_dependency_chain_needs_no_recursion(tmp_path):
    n = sys.getrecursionlimit() * 2
    lines = ["persist;", "j0 { }"] + [f"j{i} {{ depend = j{i - 1}; }}" for i in range(1, n)]
    path = tmp_path / "chain.conf"
    path.write_text("\n".join(reversed(lines[1:])) + "\n" + lines[0] + "\n")
    plan = plan_file(str(path))
    assert [j.name for j in plan.jails] == [f"j{i}" for i in range(n)]


# Names built from a few components, some with a "no" prefix, so that the
# candidates equal_names() proposes are exercised both ways.
_parts = st.sampled_from(["a", "noa", "nonoa", "b", "nob", "no", "", "mount"])
_names = st.lists(_parts, min_size=1, max_size=4).map(".".join)


@settings(max_examples=400)
@given(_names, _names)
def test_equal_names_lists_exactly_what_equalopts_accepts(a, b):
    assert (b in equal_names(a)) == equalopts(a, b) == equalopts(b, a)


_jail_parts = st.sampled_from(["a", "b", "c"])
_pattern_parts = st.sampled_from(["a", "b", "*"])


@settings(max_examples=300)
@given(st.lists(st.lists(_pattern_parts, min_size=1, max_size=4).map(".".join),
                max_size=8),
       st.lists(_jail_parts, min_size=1, max_size=5).map(".".join))
def test_wildcard_index_finds_what_wild_jail_match_finds(patterns, name):
    wild = []
    for seq, pattern in enumerate(patterns, 1):
        wj = CfJail(pattern)
        wj.seq = seq
        wild.append(wj)
    expected = [wj for wj in wild if wild_jail_match(name, wj.name)]
    assert WildcardIndex(wild).matching(name) == expected


def test_many_group_wildcards_each_touch_only_their_jails(tmp_path):
    path = tmp_path / "groups.conf"
    path.write_text(scale_conf(50))
    conf = load_config(str(path))
    web = {j.name: j for j in conf.jails}["g7.web"]
    assert web.string("meta") == "group 7"
    assert web.string("host.hostname") == "g7.web.example"
    assert web.string("exec.start") == "/jails/7"
    assert {j.name: j for j in conf.jails}["g7"].string("meta") is None
