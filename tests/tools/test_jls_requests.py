"""Issue 13 item 3: jls fetches every jail it prints in one `.ctl` request
(`list -p`), whatever the mode and however many jails; -j is one `get`.
The loopback counts the requests."""

import re

import pytest

from jailfs.cli import jls as J

MODES = [[], ["-v"], ["-n"], ["-s"], ["-q", "name", "meta.x"], ["-h"], ["-N"], ["-d"],
         ["--libxo", "json"], ["--libxo", "xml"], ["--libxo", "json", "-n"], ["name", "nopersist"]]


@pytest.mark.parametrize("count", [0, 1, 50])
@pytest.mark.parametrize("argv", MODES, ids=" ".join)
def test_all_jails_in_one_request(capsys, loop, argv, count):
    for n in range(count):
        loop.create(f"name=j{n}", "persist")
    loop.requests.clear()
    assert J.main(list(argv)) == 0
    out = capsys.readouterr().out
    assert loop.verbs() == ["params", "list"], loop.requests
    assert loop.requests[1].startswith("list -d -p" if "-d" in argv else "list -p")
    if count:                       # the last jail is printed (by name, or by jid)
        assert f"j{count - 1}" in out or re.search(rf"(^|\D){count}(\D|$)", out), out


def test_one_jail_is_one_get(capsys, loop):
    loop.create("name=web", "persist")
    loop.requests.clear()
    assert J.main(["-j", "web", "-n"]) == 0
    assert loop.verbs() == ["params", "get"]
