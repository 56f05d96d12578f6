"""jail.conf(5): parser and loader, shared by jail(8) and ``jailfs mount --conf``.

    from jailfs.conf import load_config, ConfError

    conf = load_config("/etc/jail.conf")     # raises ConfError on a fatal error
    for w in conf.warnings: print("jail: " + w)   # per-jail problems
    for j in conf.jails:                      # file order, wildcards merged
        j.name, j.failed
        j.kernel      # {"name": ["web"], "persist": [], "ip4.addr": ["192.0.2.1", ...]}
        j.pseudo      # {"exec.start": ["/bin/sh /etc/rc"], "mount.devfs": []}
        j.kernel_params()   # [("name", "web"), ("persist", None), ("ip4.addr", "a,b")]

``Dependencies(conf.jails, sink)`` orders them (jailfs.conf.depend);
``plan_file(path)`` lists what ``jailfs mount --conf`` creates, for the
daemon to apply (jailfs.conf.plan); ``Progress`` reports a long load on a
terminal or in a log (jailfs.conf.progress).  conf imports nothing of the
kernel or the filesystem.
"""

from __future__ import annotations

import importlib

# name -> its submodule, imported on first use (PEP 562): jail(8) on a
# command line needs CfJail but not the lexer and parser of a file.
_HOME = {
    **dict.fromkeys(("ARRAY_PARAMS", "INTERNAL_PARAMS", "PROGRESS_EVERY", "CfJail", "CfParam",
                     "CfString", "ConfError", "bool_param", "check_bool_int", "equalopts",
                     "wild_jail_match", "wild_jail_name"), "config"),
    "Dependencies": "depend",
    **dict.fromkeys(("Config", "load_config", "parse_string"), "load"),
    **dict.fromkeys(("Creation", "Plan", "plan_file", "strip_ip_decorations"), "plan"),
    "Progress": "progress",
}

__all__ = list(_HOME)


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
