"""The kernel's state on disk, so that a daemon's jails survive it.

``jailfs mount --state FILE`` restores the kernel from FILE when it exists
(``load``) and, while mounted, saves it there shortly after every change and
at exit (``StateKeeper``, a daemon service).  What is saved is the whole
kernel: jails and their parameters, rctl rules, SysV objects, interfaces, the
simulated world (processes, files, sockets, TCP connections and their
timers) and the clock.  Not saved: who listens to the kernel (the
filesystem; it is built afresh over the restored kernel).

File format: two header lines, then a pickle of the kernel::

    jailfs-state 2
    length=N sha256=HEX python=3.11

``load`` refuses a file whose magic, format version, length, checksum or
Python version is wrong, which is not owned by this user or is writable by
others (unpickling runs code), or whose kernel fails ``check_invariants``:
nothing is half-loaded, the mount does not happen.  Saves are atomic: a
temporary file beside FILE, fsync, rename, fsync of the directory.

Real processes cannot be restored: a real process attached to a jail was
watched (and confined) by the daemon that died, and the cgroups sentinel
ends the jailed processes of a dead daemon (jailfs/host/cgroups.py).  At
restore each simulated process that stood for a real one is killed (as when
the daemon sees it exit), so a jail that only they kept alive becomes dying
or is freed; restore itself signals no real process.
"""

from __future__ import annotations

import hashlib
import io
import logging
import marshal
import os
import pickle
import sys
import time
import types

from jailfs.fs.daemon import MountFailed, Service

log = logging.getLogger("jailfs.state")

MAGIC = b"jailfs-state"
FORMAT_VERSION = 2       # 2: vnet interfaces know their stack and epair peer
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
DEBOUNCE = 0.2          # seconds between a change and its save, at the least
SAVE_SHARE = 10         # ... and at least this many times the last save took: saving
                        # takes at most a tenth of the daemon's time, at any size


class StateError(Exception):
    """A state file that cannot be used; ``str(e)`` names the file and says why."""


# ------------------------------------------------------------ pickling
def _rebuild_function(code: bytes, module: str, name: str, defaults, cells):
    return types.FunctionType(marshal.loads(code), sys.modules[module].__dict__, name, defaults,
                              tuple(types.CellType(c) for c in cells) if cells is not None else None)


class _KernelPickler(pickle.Pickler):
    """Pickles the closures the kernel keeps (the clock's timers are lambdas)
    by their code, the kernel's own listeners, and no outside listener."""

    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)

    def reducer_override(self, obj):
        if isinstance(obj, types.FunctionType) and "<locals>" in obj.__qualname__:
            cells = [c.cell_contents for c in obj.__closure__] if obj.__closure__ else None
            return _rebuild_function, (marshal.dumps(obj.__code__), obj.__module__, obj.__name__,
                                       obj.__defaults__, cells)
        return NotImplemented


def _kernel_listener(fn) -> bool:
    owner = getattr(fn, "__self__", None)
    return owner is not None and type(owner).__module__.startswith("jailfs.kernel")


def dumps(k) -> bytes:
    """The kernel as a state file's bytes (header and payload)."""
    subscribers, signal_real = k._subscribers, k.signal_real
    k._subscribers = [fn for fn in subscribers if _kernel_listener(fn)]
    k.signal_real = None
    try:
        buf = io.BytesIO()
        _KernelPickler(buf).dump(k)
    finally:
        k._subscribers, k.signal_real = subscribers, signal_real
    payload = buf.getvalue()
    header = (f"{MAGIC.decode()} {FORMAT_VERSION}\n"
              f"length={len(payload)} sha256={hashlib.sha256(payload).hexdigest()} "
              f"python={PYTHON}\n").encode()
    return header + payload


def loads(data: bytes, path: str):
    """The kernel of a state file's bytes, or StateError (nothing half-loaded)."""
    def refuse(why: str):
        return StateError(f"{path}: not a usable jailfs state file: {why}")

    first, _, rest = data.partition(b"\n")
    magic, _, version = first.partition(b" ")
    if magic != MAGIC:
        raise refuse("no jailfs-state header")
    if version != str(FORMAT_VERSION).encode():
        raise refuse(f"format version {version.decode(errors='replace')}, "
                     f"this jailfs reads {FORMAT_VERSION}")
    second, nl, payload = rest.partition(b"\n")
    try:
        fields = dict(f.split("=", 1) for f in second.decode().split())
        length, digest, python = int(fields["length"]), fields["sha256"], fields["python"]
    except (UnicodeDecodeError, ValueError, KeyError):
        raise refuse("damaged second header line") from None
    if not nl or len(payload) < length:
        raise refuse(f"truncated: {len(payload)} of {length} bytes")
    if len(payload) > length:
        raise refuse(f"{len(payload) - length} bytes after the end")
    if hashlib.sha256(payload).hexdigest() != digest:
        raise refuse("checksum mismatch (corrupt)")
    if python != PYTHON:
        raise refuse(f"written by Python {python}, this is Python {PYTHON}")
    from jailfs.kernel import Kernel
    try:
        k = pickle.loads(payload)
    except Exception as e:   # noqa: BLE001 - any failure means: refuse it
        raise refuse(f"cannot be read: {type(e).__name__}: {e}") from None
    if not isinstance(k, Kernel):
        raise refuse(f"holds a {type(k).__name__}, not a kernel")
    k.signal_real = lambda real_pid: None
    try:
        k.check_invariants()
    except Exception as e:   # noqa: BLE001
        raise refuse(f"inconsistent: {e}") from None
    return k


def _drop_real_processes(k) -> int:
    """Kill the simulated processes that stood for real ones (see the module doc)."""
    real = [p for p in k.procs.values() if getattr(p, "real_pid", None)]
    for proc in real:
        k.kill(proc)
        if proc.state == "zombie" and proc.parent is None:
            k.reap(proc)
    return len(real)


def load(path: str):
    """The kernel saved in ``path``; None when there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StateError(f"{path}: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise StateError(f"{path}: refused: not owned by uid {os.geteuid()} "
                             f"or writable by others (mode {st.st_mode & 0o777:o})")
        data = f.read()
    k = loads(data, path)
    dropped = _drop_real_processes(k)
    if dropped:
        log.warning("%s: %d real process(es) cannot be restored: their processes in the "
                    "model were killed", path, dropped)
    return k


def save(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# ------------------------------------------------------------- the service
MUTATING = ("write", "mkdir", "rmdir", "rename", "setattr")


class StateKeeper(Service):
    """The daemon service that keeps ``path`` up to date: a change (a kernel
    event or a request that may change something, .ctl included) is saved
    DEBOUNCE seconds later (a large kernel: SAVE_SHARE times as long as the
    last save took); the last state is saved at exit."""

    def __init__(self, k, fs, path: str):
        self.k, self.fs, self.path = k, fs, path
        self.dirty = False
        self._wake = None

    def start(self) -> None:
        import functools
        self.k.subscribe(lambda event: self.changed())
        for name in MUTATING:
            method = getattr(self.fs, name)

            @functools.wraps(method)
            async def marking(*args, _method=method):
                try:
                    return await _method(*args)
                finally:
                    self.changed()
            setattr(self.fs, name, marking)
        try:
            self.save_now()              # the file exists (and is valid) from the start
        except OSError as e:
            raise MountFailed(f"{self.path}: cannot save the state: {e.strerror}") from None

    def changed(self) -> None:
        self.dirty = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        import trio
        pause = DEBOUNCE
        while True:
            self._wake = trio.Event()
            if not self.dirty:
                await self._wake.wait()
            await trio.sleep(pause)
            self.dirty = False
            began = time.monotonic()
            data = self._dump()                      # on the trio thread: a consistent state
            if data is not None:
                try:
                    await trio.to_thread.run_sync(save, self.path, data)
                except OSError as e:
                    log.error("%s: cannot save the state: %s", self.path, e.strerror)
            pause = max(DEBOUNCE, SAVE_SHARE * (time.monotonic() - began))

    def _dump(self) -> bytes | None:
        """The state's bytes; None (and an error logged) when something in the
        kernel cannot be saved: the mount goes on serving."""
        try:
            return dumps(self.k)
        except Exception:   # noqa: BLE001 - a save must never stop the daemon
            log.exception("%s: cannot save the state", self.path)
            return None

    def save_now(self) -> None:
        data = self._dump()
        if data is not None:
            save(self.path, data)
        self.dirty = False

    def stop(self) -> None:
        try:
            self.save_now()
            log.info("%s: state saved (%d jail(s))", self.path, len(self.k.jids))
        except OSError as e:
            log.error("%s: cannot save the state: %s", self.path, e.strerror)
