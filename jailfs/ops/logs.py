"""The daemon's logging: levels (-q, default, -v, -vv), a rotated log file
for background daemons, and one debug line per FUSE request."""

from __future__ import annotations

import errno
import functools
import inspect
import logging
import logging.handlers
import sys
import time

FORMAT = "%(asctime)s jailfs[%(process)d] %(levelname)s %(name)s: %(message)s"
LOG_MAX_BYTES = 1 << 20          # then the log is rotated once: LOG.1
REQUEST_HANDLERS = ("lookup", "getattr", "setattr", "readlink", "mkdir", "rmdir", "rename",
                    "unlink", "symlink", "link", "mknod", "create", "open", "opendir", "read",
                    "write", "flush", "fsync", "fsyncdir", "release", "releasedir", "readdir",
                    "statfs", "access", "forget", "poll", "getxattr", "setxattr", "listxattr",
                    "removexattr")

log = logging.getLogger("jailfs.request")


def level(verbosity: int) -> int:
    """-q (−1): warnings and errors; 0: also the mount's life; 1 (-v): every request."""
    return logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG


def setup_logging(verbosity: int = 0, logfile: str | None = None) -> None:
    if logfile is None:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.handlers.RotatingFileHandler(logfile, maxBytes=LOG_MAX_BYTES,
                                                       backupCount=1)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level(verbosity))
    # pyfuse3's own debug lines only at -vv
    logging.getLogger("pyfuse3").setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)


def subscribe_logged(kernel, handler, logger: logging.Logger,
                     message: str = "while handling kernel event %r", kinds=None) -> None:
    """Give ``handler`` the kernel's events (only those of ``kinds``, when
    given: the others cost it nothing); what it raises is logged on
    ``logger`` (``message`` % the event), never passed back: a subscriber must
    not break the kernel."""
    def on_event(ev) -> None:
        try:
            handler(ev)
        except Exception:       # noqa: BLE001 - see above
            logger.exception(message, ev)
    kernel.subscribe(on_event, kinds)


def _show(arg) -> str:
    if isinstance(arg, bytes):
        return repr(arg[:64].decode("utf-8", "backslashreplace")) + ("..." if len(arg) > 64 else "")
    if hasattr(arg, "uid") and hasattr(arg, "pid") and hasattr(arg, "umask"):   # RequestContext
        return f"pid={arg.pid} uid={arg.uid}"
    if isinstance(arg, (int, float, str)) or arg is None:
        return repr(arg)
    return type(arg).__name__


def _logged(name: str, method):
    @functools.wraps(method)
    async def wrapper(*args):
        start = time.perf_counter()
        shown = " ".join(_show(a) for a in args)
        try:
            result = await method(*args)
        except Exception as e:
            code = getattr(e, "errno", None)
            what = errno.errorcode.get(code, str(code)) if isinstance(code, int) else type(e).__name__
            log.debug("%s %s -> %s (%.2f ms)", name, shown, what, (time.perf_counter() - start) * 1e3)
            raise
        log.debug("%s %s -> ok (%.2f ms)", name, shown, (time.perf_counter() - start) * 1e3)
        return result
    return wrapper


def log_requests(fs) -> None:
    """Make every FUSE handler of ``fs`` log one debug line per request (the
    handler, its arguments, the answer or errno, the time it took)."""
    for name in REQUEST_HANDLERS:
        method = getattr(fs, name, None)
        if method is not None and inspect.iscoroutinefunction(method):
            setattr(fs, name, _logged(name, method))
