"""README.md's console examples, run against a real mount (readme_check.py),
so that they cannot drift from what a shell prints."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import REPO, require_fuse

sys.path.insert(0, str(Path(__file__).parent))
import readme_check  # noqa: E402

README_BLOCKS = readme_check.blocks(REPO / "README.md")


@pytest.mark.parametrize("block", README_BLOCKS, ids=[b.source for b in README_BLOCKS])
def test_readme_example(block):
    require_fuse()
    problems = readme_check.run_block(block)
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_wrong_example(tmp_path):
    require_fuse()
    doc = tmp_path / "doc.md"
    doc.write_text("text\n```console\n# mkdir web web/db   # two jails\n# cat web/db/name\n"
                   "web.db\n# jls -j web jid\n7          # an annotation\n# ls\n...db...\n"
                   "web\n```\n")
    [block] = readme_check.blocks(doc)
    assert [s.command for s in block.steps] == ["mkdir web web/db   # two jails",
                                                "cat web/db/name", "jls -j web jid", "ls"]
    problems = readme_check.run_block(block)
    assert len(problems) == 2, problems
    assert "`jls -j web jid`" in problems[0] and "expected: ['7']" in problems[0]
    assert "got:      ['1']" in problems[0]
    assert "`ls`" in problems[1]          # "...db..." does not match "web": one line only
