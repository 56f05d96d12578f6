"""Mounting: one kernel, one FUSE session, one trio nursery.

``serve()`` mounts, answers requests until unmounted or signalled (SIGINT,
SIGTERM, SIGHUP), then unmounts.  ``prepare_mountpoint()`` refuses a point
that is already mounted, clears a stale FUSE mount left by a dead daemon and
never blocks for ever on a hung one.  Run files (pid, log) are described in
jailfs/ops/runfiles.py.

Daemon-side services (saved state, and the owners of cgroups and namespaces)
start and stop in one place: ``services()``.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import logging
import os
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass

from jailfs.ops import logs
from jailfs.ops.deadline import stat_within
from jailfs.ops.notify import sd_notify
from jailfs.ops.runfiles import (absolute, alive, forget_dead_daemon, log_file,
                                 mounted_fstype, pid_file,
                                 process_state, read_pid, remove_log, remove_pid,
                                 state_dir, write_pid)

log = logging.getLogger("jailfs")

FSNAME = "jailfs"


class MountFailed(Exception):
    """A mount that cannot go ahead; ``str(e)`` is the one-line reason."""


@dataclass
class MountOptions:
    mountpoint: str
    conf: str | None = None          # a jail.conf(5) applied before mounting
    state: str | None = None         # the saved-state file (jailfs/state.py)
    verbosity: int = 0               # -1 quiet, 0 normal, 1 every request, 2 pyfuse3 too


# ------------------------------------------------------------------ services
class Service:
    """A daemon-side service: ``start()`` once the kernel and the filesystem
    exist (before the mount), ``run()`` in the daemon's nursery while
    mounted, ``stop()`` after the unmount (also when serving failed)."""

    def start(self) -> None:
        pass

    async def run(self) -> None:
        pass

    def stop(self) -> None:
        pass


def services(k, fs, opts: MountOptions) -> list[Service]:
    """Every daemon-side service, in start order (stopped in reverse).
    Owners of other services add one line each here."""
    found: list[Service] = []
    if opts.state:
        from jailfs.state import StateKeeper
        found.append(StateKeeper(k, fs, opts.state))
    found.append(fs.supervisor.service())     # a cgroup per jail (or the logged fallback)
    from jailfs.host.limitwatch import LimitWatchService
    found.append(LimitWatchService(k, fs.supervisor))   # what the jails' limits refuse
    from jailfs.host.jailhouse import Jailhouse
    found.append(Jailhouse(k, opts.mountpoint, fs.supervisor))   # the jails' namespaces
    return found


# ------------------------------------------------------------ mount helpers
def fusermount(mountpoint: str, lazy: bool = False) -> tuple[int, str]:
    cmd = ["fusermount3", "-u"] + (["-z"] if lazy else []) + [mountpoint]
    try:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            cmd = ["umount"] + (["-l"] if lazy else []) + [mountpoint]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return 1, f"{cmd[0]} did not return within 30 s"
    return r.returncode, (r.stderr or r.stdout).strip()


def _daemon_of(mountpoint: str) -> str:
    pid = read_pid(mountpoint)
    return f"its daemon (pid {pid})" if pid else "its daemon"


def prepare_mountpoint(mountpoint: str) -> None:
    """Refuse a live or hung mount; clear a stale one; the point must be a directory."""
    fstype = mounted_fstype(mountpoint)
    if fstype is not None:
        try:
            stat_within(mountpoint)
        except TimeoutError:
            raise MountFailed(f"{mountpoint}: mounted ({fstype}), and {_daemon_of(mountpoint)} "
                              f"does not answer (stopped or hung); "
                              f"`jailfs umount --lazy {mountpoint}` first")
        except OSError as e:
            if e.errno != errno.ENOTCONN:
                raise MountFailed(f"{mountpoint}: {e.strerror}")
            log.warning("%s: stale mount (transport endpoint is not connected): unmounting it",
                        mountpoint)
            rc, msg = fusermount(mountpoint, lazy=True)
            if rc != 0:
                raise MountFailed(f"{mountpoint}: cannot clear the stale mount: {msg}")
        else:
            pid = read_pid(mountpoint)
            who = f" by jailfs pid {pid}" if pid else ""
            raise MountFailed(f"{mountpoint}: already mounted ({fstype}){who}; "
                              f"`jailfs umount {mountpoint}` first")
    try:
        st = os.stat(mountpoint)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise MountFailed(f"{mountpoint}: no such directory")
        raise MountFailed(f"{mountpoint}: {e.strerror}")
    if not stat.S_ISDIR(st.st_mode):
        raise MountFailed(f"{mountpoint}: not a directory")


def _fuse_options() -> set[str]:
    opts = {f"fsname={FSNAME}", f"subtype={FSNAME}"}
    allow_other = os.geteuid() == 0
    if not allow_other:
        try:
            with open("/etc/fuse.conf") as f:
                allow_other = any(line.strip() == "user_allow_other" for line in f)
        except OSError:
            pass
    if allow_other:
        opts.add("allow_other")
    else:
        log.warning("not root and no user_allow_other in /etc/fuse.conf: "
                    "only this user will see the mount")
    return opts


# ------------------------------------------------------------------- serving
@contextlib.contextmanager
def _bulk_load():
    """No garbage collection while thousands of jails are made (the collector's
    passes over a growing heap made a 20,000-jail file cost more per jail than
    a 2,000-jail one); what was made is then frozen out of later collections."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


def build(conf: str | None = None, state: str | None = None):
    """A kernel (restored from ``state``, or fresh with jail.conf applied)
    and the filesystem over it."""
    with _bulk_load():
        return _build(conf, state)


def _build(conf: str | None, state: str | None):
    from jailfs.kernel import Kernel
    from .operations import JailFS
    k = None
    if state:
        from jailfs.state import StateError, load
        try:
            k = load(state)
        except StateError as e:
            raise MountFailed(str(e))
        if k is not None:
            log.info("%s: restored %d jail(s), clock at %g s", state, len(k.jids), k.clock.now)
    fresh = k is None
    if fresh:
        k = Kernel()
    # the kernel's default resolver stats the path as given: one leading into
    # this mount would be a request to ourselves, and the daemon would hang
    from jailfs.host.paths import resolve_jail_path
    k.resolve_path = resolve_jail_path
    if conf and fresh:              # before the filesystem listens: refusals are the cause
        from jailfs.conf import Progress, plan_file
        from jailfs.kernel import JAIL_CREATE, Caller, JailError
        host = Caller(k.prison0, 0)
        try:
            plan = plan_file(conf, Progress(sys.stderr, conf, log=log.info))
            for c in plan.creations():
                try:
                    c.created(k.jail_set(host, c.params, JAIL_CREATE))
                except JailError as e:
                    c.refused(str(e))
        except OSError as e:
            raise MountFailed(f"{conf}: {e.strerror or e}")
        except Exception as e:   # noqa: BLE001 - a parse error: one line
            msg = str(e)
            raise MountFailed(msg if msg.startswith(conf) else f"{conf}: {msg}")
        if plan.errors:             # a half-applied file is refused, not mounted
            raise MountFailed("\n".join(f"{conf}: {err.removeprefix('jail: ')}"
                                         for err in plan.errors))
    elif conf:
        log.info("%s: not applied: the jails come from the saved state %s", conf, state)
    return k, JailFS(k)


def serve(opts: MountOptions, ready=None) -> int:
    """Mount and serve until unmounted or signalled. Returns an exit status."""
    import pyfuse3
    import trio

    mountpoint = opts.mountpoint = absolute(opts.mountpoint)
    prepare_mountpoint(mountpoint)
    k, fs = build(opts.conf, opts.state)
    if logs.level(opts.verbosity) <= logging.DEBUG:
        logs.log_requests(fs)
    running: list[Service] = []
    try:
        for service in services(k, fs, opts):
            service.start()
            running.append(service)
        try:
            pyfuse3.init(fs, mountpoint, _fuse_options())
        except RuntimeError as e:
            raise MountFailed(f"{mountpoint}: mount failed: {e}")
        return _serve_mounted(pyfuse3, trio, fs, mountpoint, running, ready)
    finally:
        for service in reversed(running):
            try:
                service.stop()
            except Exception:       # noqa: BLE001 - the others must still stop
                log.exception("stopping %s failed", type(service).__name__)


def _serve_mounted(pyfuse3, trio, fs, mountpoint: str, running: list[Service], ready) -> int:
    from .ctlguard import OurMount
    fs.mounted, fs.our_mount = True, OurMount(mountpoint)
    write_pid(mountpoint)

    async def signals():
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as sigs:
            async for sig in sigs:
                log.info("%s received: unmounting %s", signal.Signals(sig).name, mountpoint)
                pyfuse3.terminate()
                return

    async def main():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(signals)
            await nursery.start(fs.run)
            for service in running:
                nursery.start_soon(service.run)
            log.info("jailfs mounted on %s (pid %d)", mountpoint, os.getpid())
            sd_notify(f"READY=1\nMAINPID={os.getpid()}\nSTATUS=serving {mountpoint}")
            if ready is not None:
                ready()
            await pyfuse3.main()
            sd_notify("STOPPING=1")
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    except BaseException:
        log.exception("jailfs stopped by an error")
        pyfuse3.close(unmount=True)
        remove_pid(mountpoint)
        raise
    fs.mounted = False
    pyfuse3.close(unmount=True)
    remove_pid(mountpoint)
    log.info("jailfs unmounted from %s", mountpoint)
    return 0


def serve_foreground(opts: MountOptions) -> int:
    logs.setup_logging(opts.verbosity)
    try:
        return serve(opts)
    except MountFailed as e:
        say(str(e))
        return 1


def say(message: str) -> None:
    """``jailfs: `` before each line of a message, on stderr."""
    for line in message.splitlines():
        print(f"jailfs: {line}", file=sys.stderr)


def serve_background(opts: MountOptions, announce: bool = True) -> int:
    """Fork a daemon; return once it has mounted (0, saying where unless not
    ``announce``) or failed (1, with the cause on stderr)."""
    opts.mountpoint = mountpoint = absolute(opts.mountpoint)
    os.makedirs(state_dir(), mode=0o755, exist_ok=True)
    logpath = log_file(mountpoint)
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os._exit(_daemon_child(opts, logpath, w))
    os.close(w)
    chunks = []
    while b"\n" not in b"".join(chunks):
        b = os.read(r, 4096)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    msg = b"".join(chunks).decode(errors="replace").strip()
    if msg == "ready":
        if announce:
            print(f"jailfs: mounted on {mountpoint} (pid {pid}, log {logpath})",
                  file=sys.stderr)
        return 0
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 0
    if msg.startswith("error "):
        say(json.loads(msg[len("error "):]))
    else:                           # it died without a word: show what it logged
        print(f"jailfs: the daemon ended ({_describe(status)}) before the mount was ready; "
              f"last lines of {logpath}:", file=sys.stderr)
        print(_tail(logpath), file=sys.stderr)
    return 1


def _daemon_child(opts: MountOptions, logpath: str, w: int) -> int:
    """The background daemon: returns its exit status."""
    os.setsid()
    created = False
    try:
        try:                                    # a live daemon's log is not ours to remove
            fd = os.open(logpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            created = True
        except FileExistsError:
            fd = os.open(logpath, os.O_WRONLY | os.O_APPEND)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        logs.setup_logging(opts.verbosity, logpath)

        def ready():
            os.write(w, b"ready\n")
            os.close(w)
        rc = serve(opts, ready)
        if rc == 0:                             # a clean unmount: nothing to read later
            remove_log(logpath)
        return rc
    except BaseException as e:                  # noqa: BLE001 - report it, whatever it is
        if isinstance(e, MountFailed):
            log.error("%s", e)
            why = str(e)
        else:
            log.exception("daemon failed")
            why = f"daemon failed: {type(e).__name__}: {e}"
        try:
            os.write(w, f"error {json.dumps(why)}\n".encode())     # one line
            if created:                         # the cause went to the terminal
                remove_log(logpath)
        except OSError:                         # the mount was ready: the log tells
            pass
        return 1
    finally:
        logging.shutdown()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _tail(path: str, lines: int = 10) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip("\n") or "(empty)"
    except OSError as e:
        return f"({e.strerror})"


# ----------------------------------------------------------------- unmount
def unmount(mountpoint: str, lazy: bool = False, timeout: float = 10.0) -> int:
    """Unmount, then wait for (and if need be end) the daemon that served it.
    Never blocks for ever: a daemon that does not answer is reported."""
    import time
    mountpoint = absolute(mountpoint)
    pid = read_pid(mountpoint)
    if pid is None:                 # a killed daemon's pid file and log are of no use now
        forget_dead_daemon(mountpoint)
    fstype = mounted_fstype(mountpoint)
    if fstype is None and pid is None:
        print(f"jailfs: {mountpoint}: not mounted", file=sys.stderr)
        return 1
    if fstype is not None:
        rc, msg = fusermount(mountpoint, lazy)
        if rc != 0 and not lazy:
            try:
                stat_within(mountpoint)
            except TimeoutError:
                print(f"jailfs: {mountpoint}: {msg}; and {_daemon_of(mountpoint)} does not "
                      f"answer (stopped or hung): `jailfs umount --lazy {mountpoint}` detaches it",
                      file=sys.stderr)
                return 1
            except OSError as e:
                if e.errno == errno.ENOTCONN:       # stale: nothing serves it
                    rc, msg = fusermount(mountpoint, lazy=True)
        if rc != 0:
            print(f"jailfs: {mountpoint}: {msg}", file=sys.stderr)
            return 1
    if pid is not None:
        deadline = time.monotonic() + timeout
        while alive(pid) and process_state(pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_state(pid) == "T":
            os.kill(pid, signal.SIGTERM)
            print(f"jailfs: {mountpoint}: unmounted; the daemon (pid {pid}) is stopped: "
                  f"sent SIGTERM, it ends when continued (kill -CONT {pid})", file=sys.stderr)
            return 0
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        try:
            os.unlink(pid_file(mountpoint))
        except OSError:
            pass
    return 0
