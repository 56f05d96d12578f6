"""Bad input through the mount (issue 9): every writable parameter file of a
jail, times a corpus of values that are wrong for its type.  Each write is
answered with an errno, the old value stays, and afterwards every jail is
still readable (its directory lists, every file reads)."""

from __future__ import annotations

import errno
import os

from fsutil import value, write
from jailfs.kernel import PARAMS

HUGE = b"9" * 5000                         # over one page
COMMON = [b"\n", b"\0", b"1\0", b"\xff\xfe\n", HUGE]
MALFORMED = [b"abc\n", b"1x\n", b"1.5\n", b" \n", b"--1\n", b"0x\n", b"1e3\n", b"1 2\n"]
CORPUS = {
    "bool": COMMON + [b"maybe\n", b"yes please\n", b"truee\n", b"1 1\n"],
    "int": COMMON + MALFORMED,
    "ulong": COMMON + MALFORMED,
    "jailsys": COMMON + [b"bogus\n", b"3\n", b"-1\n", b"new new\n"],
    "string": [b"\0", b"a\0b\n", b"\xff\xfe\n", HUGE, b"x" * 300 + b"\n"],
    "keyvalue": [b"\0", b"a=\0\n", b"\xc3\x28\n", HUGE],
    "ip4": COMMON[1:] + [b"1.2.3\n", b"300.1.1.1\n", b"::1\n", b"1.2.3.4,\n", b"a,b\n",
                         b"1.2.3.4/24\n"],
    "ip6": COMMON[1:] + [b"1.2.3.4\n", b"gggg::\n", b":::\n", b"::1,,::2\n"],
}
# out of each parameter's own range (numbers beyond the C type are read the way
# libjail's strtol reads them, as on FreeBSD, and are not in this corpus)
OUT_OF_RANGE = {"enforce_statfs": [b"3\n", b"-1\n"], "devfs_ruleset": [b"-1\n", b"65536\n"],
                "name": [b"a/b\n", b"..\n"]}
REFUSALS = (errno.EINVAL, errno.ENAMETOOLONG, errno.EFBIG)


def _readable(m):
    """Every jail directory lists and every file in it reads."""
    for top, dirs, files in os.walk(m):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if f not in (".ctl", ".events"):
                with open(os.path.join(top, f), "rb") as fh:
                    fh.read()


def test_every_writable_parameter_refuses_a_corpus_of_bad_values(jailfs_mount):
    m = jailfs_mount.path
    os.makedirs(m / "web/db")
    os.mkdir(m / "other")
    tried = 0
    wrong = []
    for name, row in PARAMS.items():
        if row.readonly or row.createonly:
            continue
        path = m / "web" / name
        for bad in CORPUS[row.kind] + OUT_OF_RANGE.get(name, []):
            before = value(path)
            code = write(path, bad)
            tried += 1
            if code not in REFUSALS or value(path) != before:
                wrong.append((name, bad[:24], errno.errorcode.get(code, code), value(path)))
                write(path, before + "\n")
        before = value(path)
        assert write(path, b"") == 0                # `: > file` changes nothing
        assert value(path) == before
    assert tried > 300
    assert wrong == []
    assert os.path.isdir(m / "web/db") and os.path.isdir(m / "other")
    _readable(m)
    code, answer = jailfs_mount.ctl("check")
    assert code == 0, answer
