"""The one error type every kernel call raises."""

import errno as _errno
import os


class JailError(Exception):
    """A refused call: FreeBSD's errno, its errmsg (possibly empty), the call that refused."""

    def __init__(self, errno: int, msg: str = "", op: str = "jail_set"):
        super().__init__(errno, msg)
        self.errno = errno
        self.msg = msg
        self.op = op

    @property
    def name(self) -> str:
        return _errno.errorcode.get(self.errno, str(self.errno))

    def __str__(self) -> str:
        # What libjail and jail(8) print: the kernel's message, else "op: strerror".
        return self.msg or f"{self.op}: {os.strerror(self.errno)}"

    def __repr__(self) -> str:
        return f"JailError({self.name}, {self.msg!r}, op={self.op!r})"
