"""Transitional name: the `.ctl` client moved to :mod:`jailfs.ctlproto`.

Kept so that code not yet switched (jailfs/cli/jailfs.py, the keeper) still
imports; new code imports jailfs.ctlproto.
"""

from jailfs.ctlproto import (  # noqa: F401 - re-exported
    FSTYPE, CtlAnswer, MountError, ctl_answer, ctl_path, find_mount,
    parse_answer as _parse_answer, quote,
)
