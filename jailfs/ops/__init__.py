"""Operating jailfs: versions, logging, the mount helper, saved state, and the
pictures of the host (tree, graph, status).  Nothing here is the jail model
itself; the daemon (jailfs/fs/daemon.py) and the jailfs command use it."""


class Failed(Exception):
    """A jailfs command that cannot do its work: it prints ``jailfs: MESSAGE``
    on stderr and exits 1."""
