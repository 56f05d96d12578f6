"""Bad input, read as FreeBSD's C reads it: strtol/strtoul base 0 (pkill's
makelist, ipcs's user2uid) and regcomp's complaints (pkill)."""

import re

import pytest

from jailfs.toolbox.common import strtol0
from jailfs.toolbox.ipcs import user2uid
from jailfs.toolbox.pkill import regerror


@pytest.mark.parametrize("word, value", [("010", 8), ("0x10", 16), ("0X1f", 31), ("12", 12), ("0", 0),
                                         (" \t7", 7), ("+3", 3), ("-5", -5)])
def test_strtol_base_0_read_whole(word, value):
    assert strtol0(word) == value


@pytest.mark.parametrize("word", ["", " ", "08", "0x", "1a", "abc", "7 ", "--1"])
def test_strtol_base_0_leaves_something_a_name(word):
    assert strtol0(word) is None


def test_ipcs_user_is_a_number_strtoul_reads_else_a_name():
    assert user2uid("010") == 8
    assert user2uid("-1") == 0xFFFFFFFF            # strtoul's wrap, cast to uid_t
    assert user2uid("root") == 0


@pytest.mark.parametrize("pattern, text", [("(", "parentheses not balanced"), ("[a", "brackets ([ ]) not balanced"),
                                           ("*a", "repetition-operator operand invalid"),
                                           ("a\\", "trailing backslash (\\)"), ("[z-a]", "invalid character range"),
                                           ("a{3,1}", "invalid repetition count(s)"), ("(?<", "invalid regular expression")])
def test_regerror_words(pattern, text):
    with pytest.raises(re.error) as e:
        re.compile(pattern)
    assert regerror(e.value) == text
