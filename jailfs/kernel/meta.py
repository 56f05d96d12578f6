"""meta and env: free-form KEY=VALUE buffers of a jail (sys/kern/kern_jail_meta.c).

`meta` (or `env`) sets the whole buffer; `meta.KEY=VALUE` sets one line and
`meta.KEY` with no value deletes it. The buffer, NUL included, may not exceed
the kernel setting `security.jail.meta_maxbufsize` (`k.meta_maxbufsize`,
default 4096, settable by the host only): EFBIG.
"""

from __future__ import annotations

from errno import EFBIG, EINVAL, EPERM

from .compat import extra_get, extra_set
from .errors import JailError
from .modules import KernelModule, SetRequest
from .params import META_MAXBUFSIZE, Param, c_size, register_params
from .prison import Caller, Prison

KV_PARAMS = ("meta", "env")


def kv_get(buf: str, key: str) -> str:
    for line in buf.split("\n"):
        k, eq, v = line.partition("=")
        if eq and k == key:
            return v
    return ""


class Meta(KernelModule):
    name = "meta"
    params = tuple(Param(which, "keyvalue", lambda pr, me, w=which: extra_get(pr, w),
                         maxlen=META_MAXBUFSIZE, module="meta") for which in KV_PARAMS)

    def __init__(self, kernel) -> None:
        super().__init__(kernel)
        self.maxbufsize = META_MAXBUFSIZE

    def set_maxbufsize(self, caller: Caller, size: int) -> None:
        """sysctl security.jail.meta_maxbufsize=SIZE: the host's root only."""
        if caller.uid != 0 or caller.prison is not self.k.prison0:
            raise JailError(EPERM, "", "sysctl")
        if not 0 < size < 1 << 32:
            raise JailError(EINVAL, "", "sysctl")
        self.maxbufsize = size

    @staticmethod
    def edits(params) -> list[tuple[str, str | None, str | None]]:
        """(which, key or None for the whole buffer, text or None to delete) in call order."""
        out = []
        for name, text in params:
            which, dot, key = name.partition(".")
            if which in KV_PARAMS:
                out.append((which, key if dot else None, text if dot else (text or "")))
        return out

    def check(self, req: SetRequest) -> None:
        """The buffers after this call's edits, each within the size limit."""
        result = {}
        for which, key, text in req.data.get("kv_edits", ()):
            buf = result.get(which, extra_get(req.pr, which) if req.pr is not None else "")
            if key is None:
                buf = text
            else:
                if key == "":
                    raise JailError(EINVAL)
                lines = [ln for ln in buf.split("\n") if ln and ln.partition("=")[0] != key]
                if text is not None:
                    lines.insert(0, f"{key}={text}")
                buf = "\n".join(lines)
            if c_size(buf) + 1 > self.maxbufsize:
                raise JailError(EFBIG)
            result[which] = buf
        req.data["kv_new"] = result

    def set(self, pr: Prison, req: SetRequest) -> None:
        for which, buf in req.data.get("kv_new", {}).items():
            extra_set(pr, which, buf)


register_params(Meta.params)
