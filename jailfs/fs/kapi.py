"""The kernel names the filesystem uses, from the kernel's public package.

``jailfs.kernel`` re-exports its API (docs/kernel-api.md); while it is being
written the same names are taken from the modules that define them.
"""

try:
    from jailfs.kernel import (JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, PARAMS, Caller,
                               JailError, Kernel)
except ImportError:                     # pragma: no cover - kernel package in progress
    from jailfs.kernel.errors import JailError
    from jailfs.kernel.kernel import JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, Kernel
    from jailfs.kernel.params import PARAMS
    from jailfs.kernel.prison import Caller

__all__ = ["JAIL_CREATE", "JAIL_DYING", "JAIL_UPDATE", "PARAMS", "Caller", "JailError", "Kernel"]
