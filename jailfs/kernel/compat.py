"""Two small modules with jailsys parameters: linux (sys/compat/linux/linux_mib.c)
and zfs (OpenZFS's FreeBSD jail parameters). Each keeps its values in the
prison's `extra` dict, the way FreeBSD keeps them in an OSD slot."""

from __future__ import annotations

from errno import EINVAL
from typing import Any, Callable

from .errors import JailError
from .modules import KernelModule, SetRequest
from .params import SYS_INHERIT, SYS_NEW, Param, c_int, register_params, strtol
from .prison import Prison

LINUX_MAX_UTSNAME = 65          # linux_mib.h: the size of the osname/osrelease buffers
LINUX_DEFAULTS = {"linux.osname": "Linux", "linux.osrelease": "5.15.0",
                  "linux.oss_version": 0x030600}
_LINUX_VALUES = tuple(LINUX_DEFAULTS)


def extra_get(pr: Prison, key: str, default: Any = "") -> Any:
    return pr.extra.get(key, default) if pr.extra else default


def extra_set(pr: Prison, key: str, value: Any) -> None:
    if pr.extra is None:
        pr.extra = {}
    pr.extra[key] = value


def _linux_value(key: str) -> Callable:
    # linux=inherit follows the nearest ancestor with its own (linux=new) values.
    def read(pr, me):
        while pr is not None:
            if extra_get(pr, "linux") == SYS_NEW:
                return pr.extra.get(key, LINUX_DEFAULTS[key])
            pr = pr.parent
        return LINUX_DEFAULTS[key]
    return read


def linux_map_osrel(text: str) -> bool:
    """linux_map_osrel: "A.B.C" of three strtol numbers, at least 1.0.0."""
    parts = []
    rest = text
    for i in range(3):
        value, used = strtol(rest)
        if used == 0:
            return False
        rest = rest[used:]
        if i < 2:
            if len(rest) < 2 or rest[0] != ".":
                return False
            rest = rest[1:]
        parts.append(c_int(value, 32, True))
    if rest:
        return False
    kernver = c_int(parts[0] * 65536 + parts[1] * 256 + parts[2], 32, True)
    return kernver >= 65536


class Linux(KernelModule):
    name = "linux"
    params = (
        Param("linux", "jailsys", lambda pr, me: extra_get(pr, "linux", SYS_INHERIT), module="linux"),
        Param("linux.osname", "string", _linux_value("linux.osname"), maxlen=LINUX_MAX_UTSNAME,
              module="linux", toolong="linux.osname too long"),
        Param("linux.osrelease", "string", _linux_value("linux.osrelease"),
              maxlen=LINUX_MAX_UTSNAME, module="linux", toolong="linux.osrelease too long"),
        Param("linux.oss_version", "int", _linux_value("linux.oss_version"), module="linux"),
    )

    def check(self, req: SetRequest) -> None:
        """linux_prison_check: linux is new or inherit; the strings fit; osrelease parses."""
        opts = req.opts
        if "linux" in opts and opts["linux"] not in (SYS_NEW, SYS_INHERIT):
            raise JailError(EINVAL)
        if "linux.osrelease" in opts and not linux_map_osrel(opts["linux.osrelease"]):
            raise JailError(EINVAL, "linux.osrelease format error")

    def set(self, pr: Prison, req: SetRequest) -> None:
        """linux_prison_set: any linux.* value makes the jail's own (linux=new)."""
        opts = req.opts
        mode = opts.get("linux")
        if any(n in opts for n in _LINUX_VALUES):
            mode = SYS_NEW
        if mode == SYS_INHERIT:
            for key in ("linux",) + _LINUX_VALUES:
                if pr.extra:
                    pr.extra.pop(key, None)
        elif mode == SYS_NEW:
            if extra_get(pr, "linux") != SYS_NEW:       # start from the values it inherited
                for key in _LINUX_VALUES:
                    extra_set(pr, key, _linux_value(key)(pr, None))
            extra_set(pr, "linux", SYS_NEW)
            for key in _LINUX_VALUES:
                if key in opts:
                    extra_set(pr, key, opts[key])


class Zfs(KernelModule):
    name = "zfs"
    params = (
        Param("zfs", "jailsys", lambda pr, me: extra_get(pr, "zfs", SYS_INHERIT), module="zfs"),
        Param("zfs.mount_snapshot", "int", lambda pr, me: extra_get(pr, "zfs.mount_snapshot", 0),
              module="zfs"),
    )

    def check(self, req: SetRequest) -> None:
        """zfs_jailparam_check: zfs is new or inherit, mount_snapshot 0 or 1."""
        opts = req.opts
        if "zfs" in opts and opts["zfs"] not in (SYS_NEW, SYS_INHERIT):
            raise JailError(EINVAL)
        if opts.get("zfs.mount_snapshot", 0) not in (0, 1):
            raise JailError(EINVAL)

    def set(self, pr: Prison, req: SetRequest) -> None:
        for key in ("zfs", "zfs.mount_snapshot"):
            if key in req.opts:
                extra_set(pr, key, req.opts[key])


register_params(Linux.params + Zfs.params)
