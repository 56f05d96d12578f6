"""``.ctl enterchild JAIL PID FD``: jail_attach into a child jail for a
keeper inside a jail (FreeBSD lets a jailed root attach to its jail's
children).  The keeper cannot join namespaces itself; the daemon's entry
agent does it for it (jailfs/host/nested.py, jailfs/cli/entry_agent.py).
PID is the keeper's pid as its own jail numbers it, FD the descriptor of its
request (a memfd).  The kernel checks here are jail_attach's: root, and a
jail strictly below the caller's; the hooks then attach the agent."""

from __future__ import annotations

import errno

from jailfs.ctl_common import jid_of, need_root, ok, verb
from jailfs.kernel import JailError

# Hooks (kernel, caller, child prison, keeper's pid in the caller's jail,
# its request's descriptor) -> the answer's lines (jailfs/host/jailhouse.py).
enter_child_hooks: list = []


@verb("enterchild", "enterchild JAIL PID FD", real=True)
def enterchild(k, caller, args, real):
    word, pid_word, fd_word = args
    pid, fd = int(pid_word), int(fd_word)
    if pid <= 0 or fd < 0:
        raise ValueError(args)
    need_root(caller, "jail_attach")
    if caller.prison is k.prison0:
        raise JailError(errno.EINVAL, "the host's keeper enters by itself (enter)",
                        "jail_attach")
    pr = k.by_jid(jid_of(k, caller, word, "jail_attach"))
    if pr is None or pr is caller.prison or not pr.is_descendant_of(caller.prison) \
            or pr.state != "alive":
        raise JailError(errno.EINVAL, "", "jail_attach")
    if not enter_child_hooks:
        raise JailError(errno.EOPNOTSUPP, "jails do not confine here", "jail_attach")
    return ok(None, [line for hook in enter_child_hooks
                     for line in hook(k, caller, pr, pid, fd)])
