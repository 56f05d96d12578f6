"""rctl(8)'s client side: what it hands the kernel and how it prints."""

import pytest

from jailfs.toolbox.rctl import Malformed, by_subject, expand_rule, humanize_number


@pytest.mark.parametrize("num, text", [(0, "0"), (100, "100"), (9999, "9999"), (10000, "9.8K"),
                                       (10240, "10K"), (1048576, "1024K"), (67108864, "64M"),
                                       (10 ** 12, "931G"), (-5, "-5")])
def test_humanize_number_as_libutil(num, text):
    assert humanize_number(num) == text


def test_expand_rule():
    assert expand_rule("j:web:memoryuse:deny=64m", True) == "jail:web:memoryuse:deny=67108864"
    assert expand_rule("u:root:maxproc:deny=1k/process", True) == "user:0:maxproc:deny=1024/process"
    assert expand_rule("u:root:maxproc:deny=1", False) == "user:root:maxproc:deny=1"
    assert expand_rule("p:12:openfiles", True) == "process:12:openfiles"
    assert expand_rule("CLASS:daemon", True) == "loginclass:daemon:"   # as rctl.c joins it
    assert expand_rule("jail:", True) == "jail::"
    for bad, message in [("web", "malformed rule 'web': missing subject"),
                         ("u:nobody-xyz:maxproc", "malformed rule 'u:nobody-xyz:maxproc': uknown user 'nobody-xyz'"),
                         ("u:12a:maxproc", "malformed rule 'u:12a:maxproc': trailing characters after numerical id"),
                         ("j:w:maxproc:deny=x", "malformed rule 'j:w:maxproc:deny=x': invalid numeric value 'x'")]:
        with pytest.raises(Malformed) as e:
            expand_rule(bad, True)
        assert str(e.value) == message


def test_listing_by_subject_keeping_the_kernels_newest_first():
    from_kernel = ["process:7:openfiles:deny=4", "jail:b:maxproc:deny=3", "user:0:maxproc:deny=2",
                   "jail:a:maxproc:deny=1"]
    assert by_subject(from_kernel) == ["process:7:openfiles:deny=4", "user:0:maxproc:deny=2",
                                       "jail:b:maxproc:deny=3", "jail:a:maxproc:deny=1"]


def test_pids_as_a_tool_in_a_jails_pid_namespace_names_them(monkeypatch):
    """The daemon lists pids from its namespace inward; a tool whose /proc is
    a jail's own (NSpid 3) finds itself (host 900) and names every process
    by the jail's pids, leaving out those outside the jail's namespace."""
    from jailfs.toolbox import procs
    lines = ["1 0 1", "900 5 900,3", "901 5 901,1", "950 6 950,7,3"]   # 950 ends with 3 too, deeper
    monkeypatch.setattr(procs, "own_nspids", lambda: ["3"])
    assert procs.as_seen_here(lines) == [(3, 5), (1, 5), (7, 6)]
    monkeypatch.setattr(procs, "own_nspids", lambda: ["1"])        # the host: one namespace
    assert procs.as_seen_here(["1 0 1", "900 5 900,3"]) == [(1, 0), (900, 5)]
