"""jls reads thousands of words per bulk answer: ctlproto.split_words splits
them at regular-expression speed and must give exactly shlex.split's words (or
its error) for any text, quoted by shlex.quote or not."""

import random
import shlex

from jailfs.ctlproto import parse_records, record_line, split_words

ALPHABET = ["a", "b", "=", " ", "\t", "\n", "\r", "\v", "\f", "'", '"', "\\", "\0", "é",
            "\xa0", "\udcff", "#", "$", ",", "."]


def _split(split, text):
    try:
        return split(text)
    except ValueError as e:
        return ("ValueError", str(e))


def test_split_words_is_shlex_split():
    rnd = random.Random(13)
    for _ in range(40_000):
        text = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 14)))
        assert _split(split_words, text) == _split(shlex.split, text), repr(text)
        words = ["".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 6)))
                 for _ in range(rnd.randint(0, 4))]
        assert split_words(" ".join(shlex.quote(w) for w in words)) == words


def test_records_round_trip_awkward_values():
    values = ["", "two words", "it's", 'say "hi"', "a\nb", "back\\slash", "x=y", "7"]
    lines = [record_line(1, [("meta", v) for v in values[:1]]),
             record_line(2, [(f"p{i}", v) for i, v in enumerate(values)])]
    text = "\n".join(lines).split("\n")
    assert parse_records(text) == [(1, {"meta": ""}),
                                   (2, {f"p{i}": v for i, v in enumerate(values)})]
