"""The floors of the house, read from the code: every module's imports
(ast, including imports inside functions) against the forbidden arrows, and
the size limit of a source file.

cli -> (the mount) -> fs -> kernel: the tools know the daemon only through
the mount, the kernel knows nothing of FUSE, trio or the rest of jailfs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "jailfs"
MAX_LINES = 700


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            found.add(prefix)
            found.update(f"{prefix}.{a.name}" for a in node.names)
    return found


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


SOURCES = sorted(PKG.rglob("*.py"))

# (files the rule covers, what they may not import, why)
RULES = [
    (lambda m: under(m, "jailfs.kernel"),
     lambda i, m: (under(i, "jailfs") and not under(i, "jailfs.kernel"))
     or under(i, "pyfuse3") or under(i, "trio"),
     "the kernel is pure: nothing of jailfs outside it, no FUSE, no trio"),
    (lambda m: under(m, "jailfs.cli") or under(m, "jailfs.toolbox"),
     lambda i, m: under(i, "jailfs.kernel") or under(i, "jailfs.fs"),
     "the tools know the daemon only through the mount"),
    (lambda m: m == "jailfs.ctl" or m.startswith("jailfs.ctl_") or m == "jailfs.ctlproto",
     lambda i, m: under(i, "jailfs.fs"),
     ".ctl is below the filesystem, not beside it"),
    (lambda m: m == "jailfs.ctlproto",
     lambda i, m: under(i, "jailfs") and i not in ("jailfs.ops", "jailfs.ops.runfiles"),
     "the wire format is usable by anything: of jailfs it knows only the run files"),
    (lambda m: under(m, "jailfs.conf"),
     lambda i, m: under(i, "jailfs.kernel") or under(i, "jailfs.fs"),
     "jail.conf parsing does not drive the kernel or the filesystem"),
]


def forbidden_arrows(path: Path) -> list[str]:
    mod = module_name(path)
    return [f"{mod} -> {i} ({why})" for covers, forbids, why in RULES if covers(mod)
            for i in sorted(imports_of(path)) if forbids(i, mod)]


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_no_forbidden_arrow(path):
    assert forbidden_arrows(path) == []


def test_the_rules_catch_an_arrow(tmp_path):
    """A rule that cannot fail proves nothing: a cli module importing the
    kernel (also relatively, also inside a function) is caught."""
    cli = tmp_path / "jailfs" / "cli"
    cli.mkdir(parents=True)
    (cli / "bad.py").write_text("def f():\n    from ..kernel import PARAMS\n    import jailfs.fs.ops\n")
    global ROOT
    saved = ROOT
    ROOT = tmp_path
    try:
        found = imports_of(cli / "bad.py")
    finally:
        ROOT = saved
    assert {"jailfs.kernel.PARAMS", "jailfs.fs.ops"} <= found
    assert RULES[1][1]("jailfs.kernel.PARAMS", "jailfs.cli.bad")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_file_over_700_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
