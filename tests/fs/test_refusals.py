"""Refusal lines: a refusal reported between requests (a cgroup limit hit the
daemon's watcher saw) is the host's alone and never swallows the line of the
next request's own refusal."""

from __future__ import annotations

import errno

import trio

from jailfs.fs.operations import JailFS, handler
from jailfs.kernel import JAIL_CREATE, Caller, JailError, Kernel


class RefusingFS(JailFS):
    @handler
    def refused_outside_a_kernel_call(self):
        raise JailError(errno.EPERM, "refused by the test", op="probe")


def test_a_refusal_between_requests_does_not_hide_the_next_requests_own():
    k = Kernel()
    fs = RefusingFS(k)
    host = Caller(k.prison0, 0)
    web = k.jail_set(host, [("name", "web"), ("persist", None)], JAIL_CREATE)
    k.rctl.add_rule(host, "jail:web:maxproc:deny=20")
    assert k.rctl.limit_hit(k.jids[web], "maxproc", "3 fork(s) refused by pids.max")

    async def ask():
        try:
            await fs.refused_outside_a_kernel_call()
        except Exception as e:      # noqa: BLE001 - the FUSEError the kernel gets
            return e.errno
    assert trio.run(ask) == errno.EPERM
    text = "\n".join(fs.host.log.lines())
    assert "3 fork(s) refused by pids.max" in text
    assert "refused by the test" in text
