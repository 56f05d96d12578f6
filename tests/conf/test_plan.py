"""What `jailfs mount --conf` creates (jailfs.conf.plan), the dependency
order it shares with jail(8) (jailfs.conf.depend, after FreeBSD's
usr.sbin/jail/state.c dep_setup), and the progress it reports."""

import ast
import io
from pathlib import Path

import jailfs.conf
from jailfs.conf import Dependencies, Progress, parse_string, plan_file


def plan_of(tmp_path, text):
    path = tmp_path / "jail.conf"
    path.write_text(text)
    return plan_file(str(path))


def apply(plan, refuse=()):
    """Create every jail the plan offers; refuse those named in ``refuse``."""
    done = []
    for jid, c in enumerate(plan.creations(), 1):
        if c.name in refuse:
            c.refused("jail_set: Permission denied")
        else:
            c.created(jid)
            done.append((c.name, c.params))
    return done


def test_creations_carry_kernel_params_and_persist(tmp_path):
    plan = plan_of(tmp_path, 'web { host.hostname = www; ip4.addr = "em0|192.0.2.1/24"; '
                             "exec.start = /bin/true; mount.devfs; }\n")
    assert apply(plan) == [("web", [("name", "web"), ("host.hostname", "www"),
                                    ("ip4.addr", "192.0.2.1"), ("persist", None)])]
    assert plan.created == [("web", 1)] and plan.errors == []


def test_dependencies_and_parents_come_first(tmp_path):
    plan = plan_of(tmp_path, "a.b { } c { depend = a.b; } a { }\n")
    assert [name for name, _ in apply(plan)] == ["a", "a.b", "c"]


def test_a_refused_jail_skips_its_dependents_only(tmp_path):
    plan = plan_of(tmp_path, "a { } a.b { } c { depend = a; } d { }\n")
    assert [name for name, _ in apply(plan, refuse={"a"})] == ["d"]
    assert plan.errors == ["jail: a: jail_set: Permission denied",
                           "jail: a.b: skipped", "jail: c: skipped"]


def test_bad_values_are_reported_and_skip_dependents(tmp_path):
    plan = plan_of(tmp_path, "a { exec.timeout = soon; } b { depend = a; }\n")
    assert apply(plan) == []
    assert plan.errors == ['jail: a: exec.timeout: non-integer value "soon"',
                           "jail: b: skipped"]


def test_undefined_dependency(tmp_path):
    plan = plan_of(tmp_path, "a { depend = zz; } b { }\n")
    assert [name for name, _ in apply(plan)] == ["b"]
    assert plan.errors == ['jail: a: depends on undefined jail "zz"']


def test_a_loop_fails_the_first_waiting_jail_as_dep_setup_does():
    # state.c dep_setup: when only waiting jails remain, the first of them
    # is reported as a "dependency loop" and failed; its dependents are then
    # released, and fail later as skipped.
    conf = parse_string("a { depend = b; } b { depend = a; } c { depend = b; } d { }")
    sink = []
    deps = Dependencies(conf.jails, sink)
    assert sink == ["a: dependency loop"]
    assert [j.name for j in deps.start_order] == ["d", "a", "b", "c"]
    a, b, c, d = conf.jails
    assert deps.deps_of(c) == [(b, False)]
    assert deps.dependents_of(b) == [(a, False), (c, False)]


def test_parent_edges_are_light():
    conf = parse_string("a { } a.b { }")
    a, ab = conf.jails
    deps = Dependencies(conf.jails, [])
    assert deps.deps_of(ab) == [(a, True)] and deps.dependents_of(a) == [(ab, True)]


def test_progress_is_a_count_on_a_terminal(tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True
    out = Tty()
    plan = plan_of(tmp_path, "".join(f"j{i} {{ }}\n" for i in range(1200)))
    plan.progress = Progress(out)
    apply(plan)
    shown = out.getvalue()
    assert "\rjail.conf: creating 500/1200 jails" in shown
    assert shown.endswith("\rjail.conf: creating 1200/1200 jails\n")


def test_progress_is_a_log_line_per_stage_elsewhere(tmp_path):
    lines = []
    path = tmp_path / "big.conf"
    path.write_text("path = /;\n" + "".join(f'j{i} {{ host.hostname = "h{i}.example"; }}\n'
                                           for i in range(2000)))
    plan = plan_file(str(path), Progress(io.StringIO(), log=lines.append,
                                         clock=lambda: 0.0))
    apply(plan)
    assert lines == [f"jail.conf: parsed {path.stat().st_size} bytes in 0.0 s",
                     "jail.conf: merged 2000 jails in 0.0 s",
                     "jail.conf: created 2000 jails in 0.0 s"]


def test_small_files_are_silent(tmp_path):
    path = tmp_path / "small.conf"
    path.write_text("a { }\n")
    out, lines = io.StringIO(), []
    apply(plan_file(str(path), Progress(out, log=lines.append)))
    assert out.getvalue() == "" and lines == []


def test_conf_imports_neither_kernel_nor_fs():
    forbidden = ("jailfs.kernel", "jailfs.fs")
    for path in Path(jailfs.conf.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
