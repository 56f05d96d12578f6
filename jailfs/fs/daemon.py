"""Mounting: one kernel, one FUSE session, one trio nursery.

``serve()`` mounts, answers requests until unmounted or signalled (SIGINT,
SIGTERM, SIGHUP), then unmounts.  ``prepare_mountpoint()`` refuses a point
that is already mounted and clears a stale FUSE mount left by a dead daemon.
The pid of a running daemon is kept in ``state_dir()/<escaped mount
point>.pid`` so that ``jailfs umount`` can find it.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import subprocess
import sys

log = logging.getLogger("jailfs")

FSNAME = "jailfs"


class MountFailed(Exception):
    """A mount that cannot go ahead; ``str(e)`` is the one-line reason."""


# ------------------------------------------------------------ where things are
def state_dir() -> str:
    if os.geteuid() == 0:
        d = "/run/jailfs"
    elif os.environ.get("XDG_RUNTIME_DIR"):
        d = os.path.join(os.environ["XDG_RUNTIME_DIR"], "jailfs")
    else:
        d = f"/tmp/jailfs-{os.getuid()}"
    return d


def _escape(path: str) -> str:
    return path.replace("%", "%25").replace("/", "%2F")


def pid_file(mountpoint: str) -> str:
    return os.path.join(state_dir(), _escape(mountpoint) + ".pid")


def log_file(mountpoint: str) -> str:
    return os.path.join(state_dir(), _escape(mountpoint) + ".log")


def absolute(mountpoint: str) -> str:
    """The mount point's canonical path, without touching the point itself
    (stat on a stale FUSE mount fails with ENOTCONN)."""
    p = os.path.abspath(mountpoint)
    head, tail = os.path.split(p)
    return os.path.join(os.path.realpath(head), tail) if tail else p


def _unescape(field: str) -> str:
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mounted_fstype(mountpoint: str) -> str | None:
    """The fs type mounted exactly at ``mountpoint`` (topmost), or None."""
    found = None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 10 or _unescape(fields[4]) != mountpoint:
                    continue
                sep = fields.index("-", 6)
                found = fields[sep + 1]
    except OSError:
        return None
    return found


def read_pid(mountpoint: str) -> int | None:
    """The daemon pid recorded for ``mountpoint`` if that process still runs jailfs."""
    try:
        with open(pid_file(mountpoint)) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return None
    return pid if b"jailfs" in cmd else None


def _write_pid(mountpoint: str) -> None:
    os.makedirs(state_dir(), mode=0o755, exist_ok=True)
    tmp = pid_file(mountpoint) + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n{mountpoint}\n")
    os.replace(tmp, pid_file(mountpoint))


def _remove_pid(mountpoint: str) -> None:
    try:
        with open(pid_file(mountpoint)) as f:
            if int(f.read().split()[0]) != os.getpid():
                return
        os.unlink(pid_file(mountpoint))
    except (OSError, ValueError, IndexError):
        pass


def fusermount(mountpoint: str, lazy: bool = False) -> tuple[int, str]:
    cmd = ["fusermount3", "-u"] + (["-z"] if lazy else []) + [mountpoint]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        cmd[0] = "umount"
        del cmd[1]
        if lazy:
            cmd[1] = "-l"
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return r.returncode, (r.stderr or r.stdout).strip()


def prepare_mountpoint(mountpoint: str) -> None:
    """Refuse a live mount; clear a stale one; the point must be a directory."""
    try:
        st = os.stat(mountpoint)
    except OSError as e:
        if e.errno == errno.ENOTCONN:
            log.warning("%s: stale mount (transport endpoint is not connected): unmounting it",
                        mountpoint)
            rc, msg = fusermount(mountpoint, lazy=True)
            if rc != 0:
                raise MountFailed(f"{mountpoint}: cannot clear the stale mount: {msg}")
            st = os.stat(mountpoint)
        elif e.errno == errno.ENOENT:
            raise MountFailed(f"{mountpoint}: no such directory")
        else:
            raise MountFailed(f"{mountpoint}: {e.strerror}")
    if not os.path.isdir(mountpoint):
        raise MountFailed(f"{mountpoint}: not a directory")
    fstype = mounted_fstype(mountpoint)
    if fstype is not None:
        pid = read_pid(mountpoint)
        who = f" by jailfs pid {pid}" if pid else ""
        raise MountFailed(f"{mountpoint}: already mounted ({fstype}){who}; "
                          f"`jailfs umount {mountpoint}` first")
    del st


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
def build(conf: str | None = None):
    """A kernel (with jail.conf applied) and the filesystem over it."""
    from jailfs.kernel import Kernel
    from .operations import JailFS
    k = Kernel()
    fs = JailFS(k)
    k.signal_real = fs.signal_real
    if conf:
        from jailfs.conf import apply_conf
        try:
            result = apply_conf(k, conf)
        except OSError as e:
            raise MountFailed(f"{conf}: {e.strerror or e}")
        except Exception as e:   # noqa: BLE001 - JailError or a parse error: one line
            raise MountFailed(f"{conf}: {e}")
        if result.errors:           # a half-applied file is refused, not mounted
            raise MountFailed("\n".join(result.errors))
    return k, fs


def serve(mountpoint: str, conf: str | None = None, ready=None) -> int:
    """Mount and serve until unmounted or signalled. Returns an exit status."""
    import pyfuse3
    import trio

    mountpoint = absolute(mountpoint)
    prepare_mountpoint(mountpoint)
    k, fs = build(conf)
    try:
        pyfuse3.init(fs, mountpoint, _fuse_options())
    except RuntimeError as e:
        raise MountFailed(f"{mountpoint}: mount failed: {e}")
    fs.mounted = True
    from jailfs.host.jailhouse import Jailhouse
    house = Jailhouse(k, mountpoint)            # the jails' namespaces (jailfs/host)
    _write_pid(mountpoint)
    stop = {"signal": None}

    async def signals(cancel_scope):
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as sigs:
            async for sig in sigs:
                stop["signal"] = sig
                log.info("%s received: unmounting %s", signal.Signals(sig).name, mountpoint)
                pyfuse3.terminate()
                return

    async def main():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(signals, nursery.cancel_scope)
            nursery.start_soon(fs.run_watchers, nursery)
            nursery.start_soon(house.run)
            log.info("jailfs mounted on %s (pid %d)", mountpoint, os.getpid())
            if ready is not None:
                ready()
            await pyfuse3.main()
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    except BaseException:
        log.exception("jailfs stopped by an error")
        house.close()
        pyfuse3.close(unmount=True)
        _remove_pid(mountpoint)
        raise
    fs.mounted = False
    house.close()
    pyfuse3.close(unmount=True)
    _remove_pid(mountpoint)
    log.info("jailfs unmounted from %s", mountpoint)
    return 0


def setup_logging(debug: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s jailfs[%(process)d] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr)
    if not debug:
        logging.getLogger("pyfuse3").setLevel(logging.WARNING)


def serve_background(mountpoint: str, conf: str | None = None, debug: bool = False) -> int:
    """Fork a daemon; return once it has mounted (0) or failed (1)."""
    mountpoint = absolute(mountpoint)
    os.makedirs(state_dir(), mode=0o755, exist_ok=True)
    logpath = log_file(mountpoint)
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:                                    # the daemon
        os.close(r)
        os.setsid()
        try:
            fd = os.open(logpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
            os.close(null)
            setup_logging(debug)

            def ready():
                os.write(w, b"ready\n")
                os.close(w)
            rc = serve(mountpoint, conf, ready)
        except MountFailed as e:
            log.error("%s", e)
            try:
                os.write(w, f"error {e}\n".encode())
            except OSError:
                pass
            rc = 1
        except BaseException as e:                  # noqa: BLE001
            log.exception("daemon failed")
            try:
                os.write(w, f"error {e}\n".encode())
            except OSError:
                pass
            rc = 1
        finally:
            logging.shutdown()
        os._exit(rc)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        chunks.append(b)
        if b"\n" in b"".join(chunks):
            break
    os.close(r)
    msg = b"".join(chunks).decode(errors="replace").strip()
    if msg == "ready":
        print(f"jailfs: mounted on {mountpoint} (pid {pid}, log {logpath})", file=sys.stderr)
        return 0
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    reason = msg[len("error "):] if msg.startswith("error ") else f"daemon failed, see {logpath}"
    print(f"jailfs: {reason}", file=sys.stderr)
    return 1


def unmount(mountpoint: str, lazy: bool = False, timeout: float = 10.0) -> int:
    """Unmount, then wait for (and if need be end) the daemon that served it."""
    import time
    mountpoint = absolute(mountpoint)
    pid = read_pid(mountpoint)
    fstype = mounted_fstype(mountpoint)
    if fstype is None and pid is None:
        print(f"jailfs: {mountpoint}: not mounted", file=sys.stderr)
        return 1
    if fstype is not None:
        rc, msg = fusermount(mountpoint, lazy)
        if rc != 0:
            stale = False
            try:
                os.stat(mountpoint)
            except OSError as e:
                stale = e.errno == errno.ENOTCONN
            if stale and not lazy:
                rc, msg = fusermount(mountpoint, lazy=True)
            if rc != 0:
                print(f"jailfs: {mountpoint}: {msg}", file=sys.stderr)
                return 1
    if pid is not None:
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        try:
            os.unlink(pid_file(mountpoint))
        except OSError:
            pass
    return 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    state = data[data.rfind(b")") + 2:data.rfind(b")") + 3]
    return state != b"Z"
