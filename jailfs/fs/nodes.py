"""Node kinds: one row per kind of file or directory that a view shows.

Each kind says what its node is (which inode slot, when it exists), its mode,
size and time, how it reads and writes, and, for a directory, its entries.
The operations in operations.py only find the node and ask its kind, the way
kernfs asks a cftype row.  A node is (kind, prison, parameter name); nothing is
stored per inode: every answer is computed from the kernel when asked.
"""

from __future__ import annotations

import errno
import stat

import pyfuse3
from pyfuse3 import FUSEError

from jailfs.host.anchor import VIEW_NAME
from jailfs.kernel import JAIL_UPDATE, PARAMS, Caller

from . import inodes as I
from .cache import CACHE_TIMEOUT

MAX_VALUE_WRITE = 4096          # one page: a parameter value arrives in one write
PARAM_COOKIE0 = 16              # readdir cookie of parameter i: PARAM_COOKIE0 + i
CHILD_COOKIE0 = 1 << 20         # readdir cookie of a child jail: CHILD_COOKIE0 + serial
EMPTY_REFUSED = {"bool": "unknown boolean value", "jailsys": "unknown jailsys value",
                 "int": "non-integer value", "uint": "non-integer value",
                 "ulong": "non-integer value"}
ROOT_DOTFILES = (".ctl", ".dying", ".events", ".jid", ".refs")
DOT_COOKIE = {name: 3 + i for i, name in enumerate(ROOT_DOTFILES)}


class Node:
    """What an inode is, as resolved for one view."""
    __slots__ = ("kind", "pr", "param")

    def __init__(self, kind, pr, param: str | None = None):
        self.kind, self.pr, self.param = kind, pr, param

    def __repr__(self):
        return f"Node({type(self.kind).__name__}, {self.pr!r}, {self.param})"


def jail_path(view, pr) -> str:
    """The path of ``pr``'s directory in ``view`` ('' for the view's root)."""
    return "" if pr is view.root else pr.relname(view.root).replace(".", "/")


def param_mode(name: str) -> int:
    """A live jail's parameter file: 0644 when the table lets an existing
    jail's value change, else 0444 (read-only and create-only parameters)."""
    return stat.S_IFREG | (0o644 if PARAMS[name].writable else 0o444)


def dirent_ok(name: str) -> bool:
    """Whether ``name`` can stand in a directory listing."""
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


def path_ok(view, pr) -> bool:
    """Whether every name from the view's root down to ``pr`` can be listed."""
    while pr is not view.root and pr.parent is not None:
        if not dirent_ok(pr.short):
            return False
        pr = pr.parent
    return True


def join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


class Kind:
    """Defaults: a read-only regular file with nothing in it."""
    slot: int | None = None
    is_dir = False
    ftype = stat.S_IFREG
    perm = 0o444
    attr_timeout = CACHE_TIMEOUT    # every change is invalidated (cache.py)
    page_cache = False              # read-only opens keep the kernel's page cache

    def exists(self, pr, is_root: bool) -> bool:
        return False

    def ino(self, fs, view, node) -> int:
        return I.make_ino(view.index, node.pr.serial, self.slot)

    def mode(self, fs, view, node) -> int:
        return self.ftype | self.perm

    def size(self, fs, view, node) -> int:
        return 0

    def nlink(self, node) -> int:
        return 2 if self.is_dir else 1

    def mtime(self, fs, view, node) -> int:
        return fs.prisons.born(node.pr)

    def path(self, view, node) -> str:
        return join(jail_path(view, node.pr), node.param or "")

    def read(self, fs, h, off: int, size: int) -> bytes:
        return b""

    def write(self, fs, h, off: int, buf: bytes) -> int:
        raise FUSEError(errno.EBADF)

    def child(self, fs, view, node, name: str):
        raise FUSEError(errno.ENOTDIR)


# ----------------------------------------------------------------- files
class ParamFile(Kind):
    """A parameter file: ``jls``'s value and a newline; writes are jail_set."""
    page_cache = True

    def __init__(self, dying: bool):
        self.dying = dying
        self.slot0 = I.DYING_PARAM_SLOT0 if dying else I.PARAM_SLOT0

    def exists(self, pr, is_root):
        return (not is_root and pr.state == "dying") if self.dying else \
            (is_root or pr.state == "alive")

    def ino(self, fs, view, node):
        return I.make_ino(view.index, node.pr.serial, self.slot0 + fs.param_index[node.param])

    def mode(self, fs, view, node):
        if self.dying or node.pr is view.root:
            return stat.S_IFREG | 0o444
        return param_mode(node.param)

    def path(self, view, node):
        return join(f".dying/{node.pr.jid}" if self.dying else jail_path(view, node.pr),
                    node.param)

    def content(self, fs, view, node) -> bytes:
        return (fs.values(view, node.pr, (node.param,))[node.param] + "\n").encode(
            "utf-8", "surrogateescape")

    def size(self, fs, view, node):
        return len(self.content(fs, view, node))

    def read(self, fs, h, off, size):
        if off == 0 or h.snapshot is None:
            h.snapshot = self.content(fs, h.view, h.node)
        return h.snapshot[off:off + size]

    def write(self, fs, h, off, buf):
        view, node = h.view, h.node
        if len(buf) == 0:
            return 0
        if buf == b"\n" and h.value_tail:
            # The newline of the value the last write sent (Python's unbuffered
            # print writes them apart): the value is already set.
            h.value_tail = False
            return 1
        value = self.parse(fs, view, node, buf)
        pr = node.pr
        if node.param == "jid":
            params = [("name", pr.relname(view.root)), ("jid", value)]
        else:
            params = [("jid", str(pr.jid)), (node.param, value)]
        with fs.refusals.kernel_call(view, "jail_set"):
            fs.k.jail_set(Caller(view.root, h.uid), params, JAIL_UPDATE)
        h.snapshot = None
        h.value_tail = not buf.endswith(b"\n")
        return len(buf)

    def parse(self, fs, view, node, buf: bytes) -> str:
        """The value one write carries, or a refusal (EINVAL, nothing changed).

        A value is text without NUL (FreeBSD's strings end at the first NUL:
        whatever follows would be lost), at most one page, with one trailing
        newline dropped.  A newline alone is the empty value.  Where that is a
        value of the type (a string, a key=value list, an address list) it is
        set.  Where libjail would read it only by accident (strtol of nothing
        is 0, so a boolean would turn false) or as jail(8)'s bare-name form (a
        jailsys parameter named alone is "new", a boolean "true") it is
        refused with libjail's wording: `echo > file` or a stray newline never
        switches anything."""
        param = node.param

        def refuse(msg):
            return fs.refusals.refuse(view, errno.EINVAL, f"{param}: {msg}", "write",
                                      self.path(view, node))
        if len(buf) > MAX_VALUE_WRITE:
            raise refuse(f"value longer than one page ({MAX_VALUE_WRITE} bytes)")
        if b"\0" in buf:
            raise refuse("value contains a NUL byte")
        try:
            value = buf.decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("value is not UTF-8 text") from None
        if value.endswith("\n"):
            value = value[:-1]
        row = PARAMS.get(param)
        if value == "" and row is not None and row.kind in EMPTY_REFUSED:
            raise refuse(f'{EMPTY_REFUSED[row.kind]} ""')
        if param == "name" and not all(dirent_ok(part) for part in value.split(".")):
            raise refuse(f'"{value}": a jail name cannot contain "/" or be "." or ".."')
        return value


class RefsFile(ParamFile):
    """``.refs``: who holds the jail, one holder a line."""
    attr_timeout = 0.0          # holders come and go without a kernel event
    page_cache = False

    def __init__(self, dying: bool):
        super().__init__(dying)
        self.slot = I.SLOT_DYINGREFS if dying else I.SLOT_REFS

    ino = Kind.ino

    def mode(self, fs, view, node):
        return stat.S_IFREG | 0o444

    def path(self, view, node):
        return join(f".dying/{node.pr.jid}" if self.dying else jail_path(view, node.pr), ".refs")

    def content(self, fs, view, node):
        return fs.supervisor.refs_text(node.pr, view.root).encode("utf-8", "surrogateescape")

    def write(self, fs, h, off, buf):
        raise FUSEError(errno.EBADF)


class JidLink(Kind):
    """``.jid/N``: a symlink to jail N's directory, live or dying."""
    slot = I.SLOT_JIDLINK
    ftype = stat.S_IFLNK
    perm = 0o777

    def exists(self, pr, is_root):
        return not is_root

    def path(self, view, node):
        return f".jid/{node.pr.jid}"

    def target(self, view, pr) -> str:
        if pr.state == "alive":
            return "../" + jail_path(view, pr)
        return f"../.dying/{pr.jid}"

    def size(self, fs, view, node):
        return len(self.target(view, node.pr).encode())


class EventsFile(Kind):
    """``.events``: the view's lifecycle log (see eventlog.py)."""
    slot = I.SLOT_EVENTS
    attr_timeout = 0.0          # grows with every line

    def exists(self, pr, is_root):
        return is_root

    def path(self, view, node):
        return ".events"

    def size(self, fs, view, node):
        return view.log.size

    def mtime(self, fs, view, node):
        return view.log.mtime_ns

    def read(self, fs, h, off, size):
        # A reader behind the oldest kept line skips the forgotten bytes once,
        # for good: this open file's offsets are shifted by what was skipped,
        # so its next read goes on where this one ended (never repeating).
        log = h.view.log
        at = off + h.shift
        if at < log.base:
            h.shift += log.base - at
            at = log.base
        data = log.read(at, size)
        h.read_end = at + len(data)
        return data


# ----------------------------------------------------------- directories
class Dir(Kind):
    is_dir = True
    ftype = stat.S_IFDIR
    perm = 0o755
    params = None               # the kind of its parameter files, if it lists any
    refs = None                 # the kind of its .refs, if it has one
    entry_timeout = CACHE_TIMEOUT   # how long the VFS may keep the names it looks up here

    def child(self, fs, view, node, name):
        if self.params is not None and name in fs.param_index:
            return Node(self.params, node.pr, name)
        if self.refs is not None and name == ".refs":
            return Node(self.refs, node.pr)
        return None

    def fixed(self, fs, view, node) -> list:
        """The entries that are always there: (cookie, name, node)."""
        out = [(1, ".", node), (2, "..", self.parent(view, node))]
        if self.refs is not None:
            out.append((DOT_COOKIE[".refs"], ".refs", Node(self.refs, node.pr)))
        return out

    def parent(self, view, node):
        return Node(VIEW_ROOT, view.root)

    def variable(self, fs, view, node) -> list:
        """The entries that come and go: (cookie, name, prison), in cookie order."""
        return []

    def listed(self, view, c, name: str) -> str | None:
        """The name a snapshot entry is still listed under, or None if it is gone."""
        return None


class JailTree(Dir):
    """The view's root or a live jail: parameters, .refs and the live children."""

    def child(self, fs, view, node, name):
        found = Dir.child(self, fs, view, node, name)
        if found is not None:
            return found
        c = node.pr.alive_names.get(name) if node.pr.alive_names else None
        if c is not None and c.state == "alive":
            return Node(JAIL_DIR, c)
        return None

    def nlink(self, node):
        return 2 + (len(node.pr.alive_names) if node.pr.alive_names else 0)

    def children(self, node) -> list:
        """Its child jails, in serial order (that of their cookies, see
        child_cookie), dead ones included: ``child_name`` leaves them out."""
        return list(node.pr.children.values()) if node.pr.children else []

    @staticmethod
    def child_name(c) -> str | None:
        """The name a child is listed under now, or None.  A renamed child is
        listed under its new name; a name that cannot be a directory entry
        (only .ctl could make one) is never listed."""
        return c.short if c.state == "alive" and dirent_ok(c.short) else None


def child_cookie(c) -> int:
    return CHILD_COOKIE0 + c.serial


class ViewRoot(JailTree):
    """A view's own root directory, V(view): its prison's files and the view's
    own dot files.  Its number is the root prison's SLOT_DIR in that view,
    which no jail directory has, so a name below it means one thing for good
    and is cached (cache.py invalidates a child's old name under it)."""
    slot = I.SLOT_DIR

    def exists(self, pr, is_root):
        return is_root

    def path(self, view, node):
        return ""

    def nlink(self, node):
        return JailTree.nlink(self, node) + 2

    def child(self, fs, view, node, name):
        dot = ROOT_DOT_KINDS.get(name)
        if dot is not None:
            return Node(dot, node.pr)
        return JailTree.child(self, fs, view, node, name)

    def fixed(self, fs, view, node):
        return [(1, ".", node), (2, "..", node)] + [
            (DOT_COOKIE[n], n, Node(ROOT_DOT_KINDS.get(n) or self.refs, node.pr))
            for n in ROOT_DOTFILES]


class SharedRoot(ViewRoot):
    """The mount's root, FUSE's ROOT_INODE: every caller's view root at one
    number, so its attributes are never cached and its names are cached only
    for the host while no jailed caller can walk from it (sharedroot.py).

    It also holds, looked up but never listed, ``.view``: a symlink to
    ``.v<index>``, the asker's own view root V(view), which only that view's
    processes find.  A jail's /dev/jailfs is a clone of that mount rooted
    there (jailfs/host/enter.py).  Why the link: a name whose inode depends on
    who asks is dropped from the dentry cache (d_invalidate) whenever someone
    else looks it up, and a mount rooted at a dropped dentry can no longer
    be attached; ``.v<index>`` means one inode to everyone who can see it."""
    entry_timeout = 0.0
    attr_timeout = 0.0

    def exists(self, pr, is_root):
        return False            # only ever ROOT_INODE

    def ino(self, fs, view, node):
        return pyfuse3.ROOT_INODE

    def child(self, fs, view, node, name):
        found = self.view_entry(view, name)
        return found if found is not None else ViewRoot.child(self, fs, view, node, name)

    @staticmethod
    def view_entry(view, name: str):
        """``.view`` or the asker's own ``.v<index>``; None for any other name."""
        if name == VIEW_NAME:
            return Node(VIEW_LINK, view.root)
        if name == view_dir_name(view):
            return Node(VIEW_ROOT, view.root)
        return None


def view_dir_name(view) -> str:
    return f".v{view.index}"


class ViewLink(Kind):
    """``.view`` (in the mount's root only): a symlink to the asker's
    ``.v<index>``."""
    slot = I.SLOT_VIEWLINK
    ftype = stat.S_IFLNK
    perm = 0o777

    def exists(self, pr, is_root):
        return is_root

    def path(self, view, node):
        return VIEW_NAME

    def target(self, view, pr) -> str:
        return view_dir_name(view)

    def size(self, fs, view, node):
        return len(self.target(view, node.pr))


class JailDir(JailTree):
    slot = I.SLOT_DIR

    def exists(self, pr, is_root):
        return pr.state == "alive" and not is_root

    def parent(self, view, node):
        pr = node.pr
        return Node(VIEW_ROOT, view.root) if pr.parent is view.root else Node(JAIL_DIR, pr.parent)


class DyingDir(Dir):
    """``.dying/N``: a dying jail's read-only parameters and its .refs."""
    slot = I.SLOT_DYINGDIR

    def exists(self, pr, is_root):
        return pr.state == "dying" and not is_root

    def path(self, view, node):
        return f".dying/{node.pr.jid}"

    def parent(self, view, node):
        return Node(DOT_DYING, view.root)


class JidDir(Dir):
    """``.dying`` and ``.jid``: one entry per jid below the view's root."""

    def __init__(self, slot: int, name: str):
        self.slot, self.name = slot, name

    def exists(self, pr, is_root):
        return is_root

    def path(self, view, node):
        return self.name

    def child(self, fs, view, node, name):
        if not (name.isascii() and name.isdigit()) or (len(name) > 1 and name[0] == "0"):
            return None
        c = fs.k.by_jid(int(name))
        if c is None or c.state == "freed" or not c.is_descendant_of(view.root) \
                or not path_ok(view, c):
            return None
        kind = self.entries
        return Node(kind, c) if kind.exists(c, False) else None

    def listed(self, view, c, name):
        if c.state == "freed" or str(c.jid) != name:      # gone, or renumbered
            return None
        if not path_ok(view, c):
            return None
        return name if self.entries.exists(c, False) else None


class DotDying(JidDir):
    def variable(self, fs, view, node):
        return [(PARAM_COOKIE0 + c.jid, str(c.jid), c) for c in fs.k.dying_below(view.root)]


class DotJid(JidDir):
    def variable(self, fs, view, node):
        jids, root = fs.k.jids, view.root
        everything = root is fs.k.prison0
        return [(PARAM_COOKIE0 + j, str(j), p) for j, p in sorted(jids.items())
                if p.state != "freed" and (everything or p.is_descendant_of(root))]


# ----------------------------------------------------------------- rows
PARAM = ParamFile(dying=False)
DYING_PARAM = ParamFile(dying=True)
REFS = RefsFile(dying=False)
DYING_REFS = RefsFile(dying=True)
JID_LINK = JidLink()
EVENTS = EventsFile()
VIEW_ROOT = ViewRoot()
SHARED_ROOT = SharedRoot()
VIEW_LINK = ViewLink()
JAIL_DIR = JailDir()
DYING_DIR = DyingDir()
DOT_DYING = DotDying(I.SLOT_DOTDYING, ".dying")
DOT_JID = DotJid(I.SLOT_DOTJID, ".jid")

for _tree in (VIEW_ROOT, SHARED_ROOT, JAIL_DIR):
    _tree.params, _tree.refs = PARAM, REFS
DYING_DIR.params, DYING_DIR.refs = DYING_PARAM, DYING_REFS
DOT_DYING.entries = DYING_DIR
DOT_JID.entries = JID_LINK

# .ctl is added by ctlfile.py (register_ctl)
ROOT_DOT_KINDS: dict = {".dying": DOT_DYING, ".jid": DOT_JID, ".events": EVENTS}
SLOT_KINDS: dict = {k.slot: k for k in (JAIL_DIR, DYING_DIR, REFS, DYING_REFS, JID_LINK,
                                        DOT_DYING, DOT_JID, EVENTS, VIEW_LINK)}


def register_root_file(name: str, kind) -> None:
    ROOT_DOT_KINDS[name] = kind
    SLOT_KINDS[kind.slot] = kind


def root_name_slots(param_index: dict):
    """(name, inode slot) of every name a view's root always holds: its dot
    files and its parameter files (its jails come and go)."""
    yield ".refs", I.SLOT_REFS
    for name, kind in ROOT_DOT_KINDS.items():
        yield name, kind.slot
    for name, i in param_index.items():
        yield name, I.PARAM_SLOT0 + i


def kind_of_slot(slot: int, param_names):
    """(kind, parameter name or None) for an inode slot, or (None, None)."""
    for kind in (DYING_PARAM, PARAM):
        if slot >= kind.slot0:
            i = slot - kind.slot0
            return (kind, param_names[i]) if i < len(param_names) else (None, None)
    return SLOT_KINDS.get(slot), None
