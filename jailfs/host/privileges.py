"""Root in a jail is not root of the host: what a jailed process keeps.

FreeBSD decides in prison_priv_check() (sys/kern/kern_jail.c, read at
freebsd-src dce23b283c7c) which
privileges a jailed root keeps: the ones that touch only the jail's own
processes and files, plus those its ``allow.*`` bits grant.  Linux splits
root's power into capabilities; a jailed process keeps the capabilities that
map to privileges FreeBSD leaves a jail (the bounding set, so nothing it
execs gets more back), and a seccomp filter refuses the calls whose
capability is too coarse (CAP_SYS_ADMIN covers hostname, mount, namespaces
and much more) or which need no capability at all (mlock within
RLIMIT_MEMLOCK, SysV IPC).  The table in the README (confine-readme.md) is
this module in words; ``derive`` is the one place it is decided.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

# Imported here, not where used: the process that uses them has by then
# joined the jail's mount namespace, where the host's Python files are gone.
import pyprctl
import pyseccomp as seccomp

from . import syscalls as sc

# Capabilities a jail keeps unless a rule below takes them away: the
# privileges prison_priv_check() allows every jailed root (file ownership and
# modes, signals and credentials of its own processes, chroot, rlimits,
# SysV IPC permissions, leases).
BASE_CAPS = frozenset({
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
    "SETGID", "SETUID", "SETPCAP", "IPC_OWNER", "SYS_CHROOT", "SYS_RESOURCE",
    "LEASE", "AUDIT_WRITE",
})
# Capabilities no jail ever has: kernel modules, raw I/O and devices, reboot,
# process accounting, debugging processes of more privilege (the jail's
# anchor), tty configuration, the kernel log, MAC, BPF, perf, audit control,
# file capabilities, alarms that wake the machine, checkpoint/restore.
NEVER = ("SYS_MODULE", "SYS_RAWIO", "MKNOD", "SYS_BOOT", "SYS_PACCT",
         "SYS_PTRACE", "SYS_TTY_CONFIG", "SYSLOG", "MAC_OVERRIDE", "MAC_ADMIN",
         "BPF", "PERFMON", "AUDIT_CONTROL", "AUDIT_READ", "SETFCAP",
         "WAKE_ALARM", "BLOCK_SUSPEND", "CHECKPOINT_RESTORE", "NET_BROADCAST",
         "SYS_NICE")

SYSV = {"sysvmsg": ("msgget", "msgsnd", "msgrcv", "msgctl"),
        "sysvsem": ("semget", "semop", "semtimedop", "semctl"),
        "sysvshm": ("shmget", "shmat", "shmdt", "shmctl")}
# Always refused: leaving or changing the jail's namespaces and root, and what
# CAP_SYS_ADMIN (kept for sethostname or mount) would allow on the whole host.
ESCAPES = ("setns", "unshare", "pivot_root", "open_by_handle_at", "bpf",
           "perf_event_open", "fanotify_init", "lookup_dcookie", "swapon",
           "swapoff", "kexec_load", "kexec_file_load", "init_module",
           "finit_module", "delete_module", "iopl", "ioperm", "acct", "reboot",
           "keyctl", "add_key", "request_key", "quotactl_fd", "syslog")
# The new mount API: ENOSYS, so mount(8) falls back to mount(2), which the
# filter can see (and allow with allow.mount).
NEW_MOUNT_API = ("open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
                 "fspick", "mount_setattr")
# Asynchronous I/O: ENOSYS (libc's POSIX aio uses threads and still works).
# An asynchronous direct write to a jailfs file is in flight with no thread
# waiting in a write call, so the write guard cannot tell its writer
# (fs/ctlguard.py); io_uring is also the kernel's largest attack surface.
ASYNC_IO = ("io_setup", "io_submit", "io_getevents", "io_pgetevents", "io_cancel",
            "io_destroy", "io_uring_setup", "io_uring_enter", "io_uring_register")
CLOCK = ("settimeofday", "clock_settime", "clock_adjtime", "adjtimex")
MLOCK = ("mlock", "mlock2", "mlockall")
# every CLONE_NEW* flag: clone(2) may not make a namespace
CLONE_NEW = (sc.CLONE_NEWNS | sc.CLONE_NEWCGROUP | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC
             | sc.CLONE_NEWUSER | sc.CLONE_NEWPID | sc.CLONE_NEWNET | sc.CLONE_NEWTIME)
TIOCSTI = 0x5412                # push input into a terminal (the host's, through jexec's stdin)


@dataclass
class Privileges:
    caps: set[str]                              # capability names kept
    deny: dict[str, int] = field(default_factory=dict)   # syscall -> errno
    mount: bool = False                         # mount(2)/umount2(2) allowed


def derive(params: dict[str, str], allow: set[str]) -> Privileges:
    """What a process of a jail with these parameters (as jail_get renders
    them) and these allow.* bits (names without the prefix) keeps."""
    caps = set(BASE_CAPS)
    deny = {name: errno.EPERM for name in ESCAPES}
    deny.update({name: errno.ENOSYS for name in NEW_MOUNT_API})
    deny["clone3"] = errno.ENOSYS       # flags out of the filter's sight: glibc falls back to clone
    deny.update({name: errno.ENOSYS for name in ASYNC_IO})
    securelevel = _int(params.get("securelevel"), -1)
    enforce_statfs = _int(params.get("enforce_statfs"), 2)
    vnet = params.get("vnet") == "new"
    if "reserved_ports" in allow:
        caps.add("NET_BIND_SERVICE")
    if "raw_sockets" in allow or vnet:  # a vnet jail has every network privilege
        caps.add("NET_RAW")
    if vnet:
        caps.add("NET_ADMIN")           # configures its own stack only
    if "mlock" in allow:
        caps.add("IPC_LOCK")
    else:
        deny.update({name: errno.EPERM for name in MLOCK})
    if "settime" in allow and securelevel < 2:
        caps.add("SYS_TIME")
    else:
        deny.update({name: errno.EPERM for name in CLOCK if name != "adjtimex"})
    if "chflags" in allow and securelevel < 1:
        caps.add("LINUX_IMMUTABLE")
    if "quotas" not in allow:
        deny["quotactl"] = errno.EPERM
    mount = ("mount" in allow and enforce_statfs < 2
             and any(a.startswith("mount.") for a in allow))
    if not mount:
        deny["mount"] = deny["umount2"] = errno.EPERM
    own_uts = params.get("host") == "new"
    if "set_hostname" in allow and own_uts or mount:
        caps.add("SYS_ADMIN")
    if "set_hostname" not in allow or not own_uts:
        deny["sethostname"] = deny["setdomainname"] = errno.EPERM
    for facility, calls in SYSV.items():
        if params.get(facility) == "disable":
            deny.update({name: errno.ENOSYS for name in calls})
    return Privileges(caps - set(NEVER), deny, mount)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def apply(p: Privileges) -> None:
    """Make this process (about to exec) hold only ``p``: the seccomp filter
    first (loading it without no_new_privs needs CAP_SYS_ADMIN), then the
    capability bounding, inheritable, ambient, permitted and effective sets."""
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    for name, err in sorted(p.deny.items()):
        try:
            f.add_rule(seccomp.ERRNO(err), name)
        except (OSError, ValueError, RuntimeError):
            pass                        # a call this architecture does not have
    for flag in _bits(CLONE_NEW):
        f.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                   seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(errno.EPERM), "ioctl", seccomp.Arg(1, seccomp.EQ, TIOCSTI))
    f.load()
    keep = {pyprctl.Cap[name] for name in p.caps}
    for cap in pyprctl.Cap:
        if cap not in keep and pyprctl.capbset_read(cap):
            pyprctl.capbset_drop(cap)
    pyprctl.cap_ambient_clear_all()
    state = pyprctl.CapState.get_current()
    state.inheritable &= keep
    state.permitted &= keep
    state.effective &= keep
    state.set_current()


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(32) if mask >> i & 1]
