"""The prison kernel: FreeBSD's jail subsystem in memory. No FUSE, no trio."""

from .errors import JailError
from .jail_set import update_reach
from .kernel import (JAIL_ATTACH, JAIL_CREATE, JAIL_DYING, JAIL_UPDATE, Clock, Event, Kernel,
                     RefReport)
from .modules import KernelModule, SetRequest
from .params import JAIL_MAX, PARAMS, Param
from .prison import ALIVE, DYING, FREED, Caller, Cred, File, Prison, Proc
from . import params as _params

PARAM_NAMES = _params.PARAM_NAMES      # complete now that every module has registered

__all__ = [
    "JailError", "Kernel", "Clock", "Event", "RefReport", "Caller", "Cred", "File", "Prison", "Proc",
    "JAIL_CREATE", "JAIL_UPDATE", "JAIL_ATTACH", "JAIL_DYING", "JAIL_MAX",
    "PARAMS", "PARAM_NAMES", "Param", "ALIVE", "DYING", "FREED", "KernelModule", "SetRequest",
    "update_reach",
]
