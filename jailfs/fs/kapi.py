"""The kernel names the filesystem uses: only the kernel's public API."""

from jailfs.kernel import JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, PARAMS, Caller, JailError, Kernel

__all__ = ["JAIL_CREATE", "JAIL_DYING", "JAIL_UPDATE", "PARAMS", "Caller", "JailError", "Kernel"]
