"""The prison kernel: FreeBSD's jail subsystem in memory. No FUSE, no trio."""

from .errors import JailError
from .kernel import (JAIL_ATTACH, JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, Clock, Event, Kernel,
                     RefReport)
from .params import JAIL_MAX, PARAM_NAMES, PARAMS, Param
from .prison import ALIVE, DYING, FREED, Caller, Cred, File, Prison, Proc

__all__ = [
    "JailError", "Kernel", "Clock", "Event", "RefReport", "Caller", "Cred", "File", "Prison", "Proc",
    "JAIL_CREATE", "JAIL_UPDATE", "JAIL_ATTACH", "JAIL_DYING", "JAIL_MAX",
    "PARAMS", "PARAM_NAMES", "Param", "ALIVE", "DYING", "FREED",
]
