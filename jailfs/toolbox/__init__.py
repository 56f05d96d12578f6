"""FreeBSD's jail toolbox as work-alikes: sysctl(8), rctl(8), ifconfig(8),
ipcs(1)/ipcrm(1), pgrep(1)/pkill(1), ps(1), and daemon(8) as far as
FreeBSD's jail tests use it.

They carry FreeBSD's names, which collide with Linux's, so they are never
installed on the host's PATH: ``jailfs env`` (env.py) makes a directory of
small launchers and prints the shell lines that put it first on PATH.
Like jail(8), jls(8) and jexec(8) they know the daemon only through the
mount's ``.ctl`` file and import nothing from jailfs.kernel or jailfs.fs.
"""

TOOLS = ("sysctl", "rctl", "ifconfig", "ipcs", "ipcrm", "pgrep", "pkill", "ps", "daemon")

# tool -> (module of jailfs.toolbox, its entry point)
_ENTRY = {"sysctl": ("sysctl", "main"), "rctl": ("rctl", "main"), "ifconfig": ("ifconfig", "main"),
          "ipcs": ("ipcs", "main"), "ipcrm": ("ipcs", "main_ipcrm"),
          "pgrep": ("pkill", "main_pgrep"), "pkill": ("pkill", "main_pkill"), "ps": ("ps", "main"),
          "daemon": ("daemon", "main")}


def launch(tool: str, argv: list[str] | None = None) -> int:
    """Run one tool by its FreeBSD name (what each launcher calls)."""
    import importlib
    module, entry = _ENTRY[tool]
    return getattr(importlib.import_module(f"jailfs.toolbox.{module}"), entry)(argv)
