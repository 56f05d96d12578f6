"""The filesystem: pyfuse3 operations over the prison kernel.

Paths map to kernel objects, callers map to views, kernel events map to cache
invalidation and the ``.events`` log.  Every state change goes through the
kernel's syscall-like API; this module never edits a Prison.

Timeouts (what the VFS may cache without asking us):

* attributes: 0 everywhere.  Sizes of parameter files, ``.refs`` and
  ``.events`` change behind the VFS's back (a parent's ``children.cur``, an
  inherited ``host.hostname``, a new event line), so stat always asks.
* entries in a view's root directory, in ``.dying`` and in ``.jid``: 0.  What
  a name in the root means depends on who asks (each caller sees its own
  prison as the root), and .dying/.jid names follow jid renumbering.
* every other entry (parameter files and child jails below a jail directory):
  ``ENTRY_TIMEOUT`` seconds, made safe by invalidating the entry whenever the
  kernel reports that a jail was removed, went dying, was freed or renamed.
"""

from __future__ import annotations

import bisect
import errno
import functools
import logging
import os
import select
import stat
import time

import pyfuse3
import trio
from pyfuse3 import FUSEError

from . import inodes as I
from .supervisor import Supervisor
from .eventlog import EventLog, field
from jailfs import ctl
from jailfs.kernel import JAIL_CREATE, JAIL_UPDATE, PARAMS, Caller

log = logging.getLogger("jailfs.fs")

ROOT = pyfuse3.ROOT_INODE
ENTRY_TIMEOUT = 60.0
MAX_VALUE_WRITE = 4096          # one page: a parameter value arrives in one write
MAX_CTL_WRITE = 65536
CHILD_COOKIE0 = 1 << 20         # readdir cookie of a child jail: CHILD_COOKIE0 + serial
ROOT_DOTFILES = (".ctl", ".dying", ".events", ".jid", ".refs")
_DOT_SLOTS = {".dying": I.SLOT_DOTDYING, ".jid": I.SLOT_DOTJID,
              ".events": I.SLOT_EVENTS, ".ctl": I.SLOT_CTL}
_DOT_COOKIE = {name: 3 + i for i, name in enumerate(ROOT_DOTFILES)}
PARAM_COOKIE0 = 16

# node kinds
K_ROOT, K_DIR, K_DYINGDIR = "root", "dir", "dyingdir"
K_PARAM, K_DPARAM, K_REFS, K_DREFS = "param", "dparam", "refs", "drefs"
K_JIDLINK, K_DOTDYING, K_DOTJID, K_EVENTS, K_CTL = "jidlink", "dotdying", "dotjid", "events", "ctl"
_DIR_KINDS = (K_ROOT, K_DIR, K_DYINGDIR, K_DOTDYING, K_DOTJID)


def _errname(code: int) -> str:
    return errno.errorcode.get(code, str(code))


class Node:
    """What an inode is, as resolved for one view."""
    __slots__ = ("kind", "pr", "param")

    def __init__(self, kind: str, pr, param: str | None = None):
        self.kind, self.pr, self.param = kind, pr, param

    def __repr__(self):
        return f"Node({self.kind}, {self.pr!r}, {self.param})"


class View:
    """What one prison's processes see: that prison as the root."""
    __slots__ = ("index", "root", "log")

    def __init__(self, index: int, root):
        self.index, self.root = index, root
        self.log = EventLog()


class FileHandle:
    __slots__ = ("view", "node", "uid", "pid", "writable", "snapshot", "answer",
                 "answer_base", "read_end")

    def __init__(self, view, node, uid, pid, writable):
        self.view, self.node, self.uid, self.pid, self.writable = view, node, uid, pid, writable
        self.snapshot = None
        self.answer = b""
        self.answer_base = 0
        self.read_end = 0


class DirHandle:
    __slots__ = ("view", "node", "entries", "cookies")

    def __init__(self, view, node):
        self.view, self.node = view, node
        self.entries = None       # snapshot of the variable part: [(cookie, name, prison)]
        self.cookies = None


def handler(fn):
    """Turn kernel refusals into errnos and bugs into EIO; never crash the mount."""
    @functools.wraps(fn)
    async def wrapper(self, *args):
        before = self._refused_seen
        try:
            return fn(self, *args)
        except FUSEError:
            raise
        except Exception as e:      # noqa: BLE001 - a handler must answer
            code = getattr(e, "errno", None)
            if type(e).__name__ == "JailError" and isinstance(code, int):
                if self._refused_seen == before:     # the kernel did not report it
                    self._record_refusal(getattr(e, "op", fn.__name__), code, str(e))
                raise FUSEError(code) from None
            log.exception("unexpected error in %s%r", fn.__name__, args[:2])
            raise FUSEError(errno.EIO) from None
        finally:
            self._current_view = None
    return wrapper


class JailFS(pyfuse3.Operations):
    supports_dot_lookup = False
    enable_writeback_cache = False

    def __init__(self, kernel):
        super().__init__()
        self.k = kernel
        self.param_names = tuple(kernel.param_names())
        if len(self.param_names) > I.MAX_PARAMS:
            raise RuntimeError("too many parameters for the inode scheme")
        self.param_index = {n: i for i, n in enumerate(self.param_names)}
        self.supervisor = Supervisor(kernel)
        self.mounted = False
        self.started_ns = time.time_ns()
        self._views: dict[int, View] = {}        # root prison serial -> View
        self._view_list: list[View] = []         # index -> View
        self._prisons: dict[int, object] = {}     # serial -> Prison (not freed)
        self._shorts: dict[int, str] = {}         # serial -> short name last seen
        self._born_ns: dict[int, int] = {}
        self._fh: dict[int, object] = {}
        self._next_fh = 1
        self._current_view = None
        self._refused_seen = 0
        pr0 = kernel.prison0
        self._track(pr0)
        for pr in pr0.descendants():
            self._track(pr)
        self.host = self._view(pr0)
        kernel.subscribe(self._on_event)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The mount's long-running tasks (start with ``nursery.start``)."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.supervisor.run)
            task_status.started()

    # ================================================================ views
    def _view(self, pr) -> View:
        v = self._views.get(pr.serial)
        if v is None:
            v = View(len(self._view_list), pr)
            self._views[pr.serial] = v
            self._view_list.append(v)
        return v

    def view_of(self, ctx) -> View:
        return self._view(self.supervisor.caller_prison(ctx.pid))

    def caller(self, view: View, uid: int):
        return Caller(view.root, uid)

    def _track(self, pr) -> None:
        self._prisons[pr.serial] = pr
        self._shorts[pr.serial] = pr.short
        self._born_ns.setdefault(pr.serial, time.time_ns())

    # ================================================================ nodes
    def _prison(self, view: View, serial: int):
        if serial == view.root.serial:
            return view.root
        pr = self._prisons.get(serial)
        if pr is None or pr.state == "freed" or not pr.is_descendant_of(view.root):
            return None
        return pr

    def node(self, ino: int, view: View) -> Node:
        if ino == ROOT:
            return Node(K_ROOT, view.root)
        parts = I.split_ino(ino)
        if parts is None or parts[0] != view.index:
            raise FUSEError(errno.ENOENT)
        _, serial, slot = parts
        pr = self._prison(view, serial)
        if pr is None:
            raise FUSEError(errno.ENOENT)
        is_root = pr is view.root
        alive = pr.state == "alive"
        if slot >= I.DYING_PARAM_SLOT0:
            i = slot - I.DYING_PARAM_SLOT0
            if not is_root and pr.state == "dying" and i < len(self.param_names):
                return Node(K_DPARAM, pr, self.param_names[i])
        elif slot >= I.PARAM_SLOT0:
            i = slot - I.PARAM_SLOT0
            if (is_root or alive) and i < len(self.param_names):
                return Node(K_PARAM, pr, self.param_names[i])
        elif slot == I.SLOT_DIR:
            if alive and not is_root:
                return Node(K_DIR, pr)
        elif slot == I.SLOT_DYINGDIR:
            if pr.state == "dying" and not is_root:
                return Node(K_DYINGDIR, pr)
        elif slot == I.SLOT_REFS:
            if alive or is_root:
                return Node(K_REFS, pr)
        elif slot == I.SLOT_DYINGREFS:
            if pr.state == "dying" and not is_root:
                return Node(K_DREFS, pr)
        elif slot == I.SLOT_JIDLINK:
            if not is_root:
                return Node(K_JIDLINK, pr)
        elif is_root:
            kind = {I.SLOT_DOTDYING: K_DOTDYING, I.SLOT_DOTJID: K_DOTJID,
                    I.SLOT_EVENTS: K_EVENTS, I.SLOT_CTL: K_CTL}.get(slot)
            if kind is not None:
                return Node(kind, pr)
        raise FUSEError(errno.ENOENT)

    def ino(self, view: View, node: Node) -> int:
        kind, pr = node.kind, node.pr
        if kind == K_ROOT:
            return ROOT
        v, s = view.index, pr.serial
        if kind == K_DIR:
            return I.make_ino(v, s, I.SLOT_DIR)
        if kind == K_PARAM:
            return I.make_ino(v, s, I.PARAM_SLOT0 + self.param_index[node.param])
        if kind == K_DPARAM:
            return I.make_ino(v, s, I.DYING_PARAM_SLOT0 + self.param_index[node.param])
        slot = {K_DYINGDIR: I.SLOT_DYINGDIR, K_REFS: I.SLOT_REFS, K_DREFS: I.SLOT_DYINGREFS,
                K_JIDLINK: I.SLOT_JIDLINK, K_DOTDYING: I.SLOT_DOTDYING, K_DOTJID: I.SLOT_DOTJID,
                K_EVENTS: I.SLOT_EVENTS, K_CTL: I.SLOT_CTL}[kind]
        return I.make_ino(v, s, slot)

    def child(self, view: View, node: Node, name: str) -> Node | None:
        """The entry ``name`` of directory ``node``, or None."""
        kind, pr = node.kind, node.pr
        if kind in (K_ROOT, K_DIR):
            if name in self.param_index:
                return Node(K_PARAM, pr, name)
            if name == ".refs":
                return Node(K_REFS, pr)
            if kind == K_ROOT and name in _DOT_SLOTS:
                return Node({".dying": K_DOTDYING, ".jid": K_DOTJID, ".events": K_EVENTS,
                             ".ctl": K_CTL}[name], pr)
            c = pr.alive_names.get(name) if pr.alive_names else None
            if c is not None and c.state == "alive":
                return Node(K_DIR, c)
            return None
        if kind == K_DYINGDIR:
            if name in self.param_index:
                return Node(K_DPARAM, pr, name)
            if name == ".refs":
                return Node(K_DREFS, pr)
            return None
        if kind in (K_DOTDYING, K_DOTJID):
            if not name.isdigit() or (len(name) > 1 and name[0] == "0"):
                return None
            c = self.k.by_jid(int(name))
            if c is None or c.state == "freed" or not c.is_descendant_of(view.root):
                return None
            if kind == K_DOTDYING:
                return Node(K_DYINGDIR, c) if c.state == "dying" else None
            return Node(K_JIDLINK, c)
        raise FUSEError(errno.ENOTDIR)

    def parent_of(self, view: View, node: Node) -> Node:
        kind, pr = node.kind, node.pr
        if kind == K_DIR:
            return Node(K_ROOT, view.root) if pr.parent is view.root else Node(K_DIR, pr.parent)
        if kind == K_DYINGDIR:
            return Node(K_DOTDYING, view.root)
        return Node(K_ROOT, view.root)

    # ============================================================ contents
    def values(self, view: View, pr, names) -> dict:
        """Canonical text of parameters of ``pr`` as ``view`` sees them."""
        if pr is view.root:
            # The caller's own prison, seen from itself: no parent to name.
            return {n: "0" if n == "parent" else self.k.get_values(pr, pr, [n])[n] for n in names}
        return self.k.get_values(view.root, pr, names)

    def content(self, view: View, node: Node) -> bytes:
        kind = node.kind
        if kind in (K_PARAM, K_DPARAM):
            v = self.values(view, node.pr, [node.param])[node.param]
            return (v + "\n").encode("utf-8", "surrogateescape")
        if kind in (K_REFS, K_DREFS):
            return self.supervisor.refs_text(node.pr).encode("utf-8", "surrogateescape")
        return b""

    def link_target(self, view: View, pr) -> str:
        if pr.state == "alive":
            return "../" + pr.relname(view.root).replace(".", "/")
        return f"../.dying/{pr.jid}"

    def mode_of(self, view: View, node: Node) -> int:
        kind = node.kind
        if kind in _DIR_KINDS:
            return stat.S_IFDIR | 0o755
        if kind == K_PARAM:
            row = PARAMS[node.param]
            if row.readonly or node.pr is view.root:
                return stat.S_IFREG | 0o444
            return stat.S_IFREG | 0o644
        if kind == K_CTL:
            return stat.S_IFREG | 0o666
        if kind == K_JIDLINK:
            return stat.S_IFLNK | 0o777
        return stat.S_IFREG | 0o444

    def attr(self, view: View, node: Node, size: int | None = None,
             entry_timeout: float = 0.0) -> pyfuse3.EntryAttributes:
        a = pyfuse3.EntryAttributes()
        a.st_ino = self.ino(view, node)
        a.generation = 0
        a.entry_timeout = entry_timeout
        a.attr_timeout = 0
        a.st_mode = self.mode_of(view, node)
        kind = node.kind
        t = self._born_ns.get(node.pr.serial, self.started_ns)
        nlink = 1
        if kind in (K_ROOT, K_DIR):
            nlink = 2 + (len(node.pr.alive_names) if node.pr.alive_names else 0)
            if kind == K_ROOT:
                nlink += 2
            size = 0
        elif kind in _DIR_KINDS:
            nlink, size = 2, 0
        elif kind == K_JIDLINK:
            size = len(self.link_target(view, node.pr).encode())
        elif kind == K_EVENTS:
            size = view.log.size
            t = view.log.mtime_ns
        elif kind == K_CTL:
            size = 0
        elif size is None:
            size = len(self.content(view, node))
        a.st_nlink = nlink
        a.st_uid = 0
        a.st_gid = 0
        a.st_rdev = 0
        a.st_size = size
        a.st_blksize = 4096
        a.st_blocks = (size + 511) // 512
        a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = t
        return a

    def entry_timeout_in(self, parent: Node) -> float:
        return ENTRY_TIMEOUT if parent.kind in (K_DIR, K_DYINGDIR) else 0.0

    # ============================================================ refusals
    def _record_refusal(self, op: str, code: int, msg: str, name: str = "",
                        view: View | None = None) -> None:
        view = view or self._current_view
        parts = [f"refused {field('op', op)} errno={_errname(code)}"]
        if name:
            parts.append(field("name", name))
        parts.append(field("msg", msg))
        text = " ".join(parts)
        log.warning("%s", text)
        self._append(text, view)

    def refuse(self, code: int, msg: str, op: str, name: str = "") -> FUSEError:
        self._record_refusal(op, code, msg, name)
        return FUSEError(code)

    def _append(self, text: str, view: View | None) -> None:
        self.host.log.append(text)
        if view is not None and view is not self.host:
            view.log.append(text)

    # ============================================================ events
    def _on_event(self, ev) -> None:
        try:
            self._handle_event(ev)
        except Exception:       # noqa: BLE001 - a subscriber must not break the kernel
            log.exception("while handling kernel event %r", ev)

    def _handle_event(self, ev) -> None:
        kind, pr = ev.kind, ev.prison
        if kind == "refused":
            self._refused_seen += 1
            d = ev.detail or {}
            self._record_refusal(d.get("op", "?"), d.get("errno", errno.EIO), d.get("msg", ""))
            return
        if pr is None:
            self._append(f"{kind} " + " ".join(field(k, v) for k, v in (ev.detail or {}).items()),
                         self._current_view)
            return
        old_short = self._shorts.get(pr.serial)
        if kind == "created":
            self._track(pr)
        for view in self._view_list:
            root = view.root
            if root.state == "freed" and view is not self.host:
                continue
            if pr is root or not pr.is_descendant_of(root):
                continue
            view.log.append(self._event_text(ev, view))
            if self.mounted:
                self._invalidate(view, ev, old_short)
        if kind == "updated" and pr.short != old_short:
            self._shorts[pr.serial] = pr.short
        elif kind == "freed":
            self._prisons.pop(pr.serial, None)
            self._shorts.pop(pr.serial, None)
            self._born_ns.pop(pr.serial, None)
        elif kind == "attached" and ev.detail.get("real_pid"):
            self._view(pr)              # its .events starts now, not at its first request

    def _event_text(self, ev, view: View) -> str:
        pr = ev.prison
        name = pr.relname(view.root) if view is not self.host else pr.name
        parts = [ev.kind, f"jid={pr.jid}", field("name", name)]
        d = ev.detail or {}
        if ev.kind == "updated":
            params = d.get("params")
            if isinstance(params, dict):
                parts += [field(k, v) for k, v in params.items() if k != "jid"]
            elif params:
                seen = []
                for p in params:
                    if p != "jid" and p not in seen:
                        seen.append(p)
                if seen:
                    parts.append(field("params", ",".join(seen)))
        else:
            for k, v in d.items():
                parts.append(field(k, v))
        return " ".join(parts)

    def _invalidate(self, view: View, ev, old_short: str | None) -> None:
        """Drop the VFS's cached entries that this event made wrong."""
        pr = ev.prison
        parent = pr.parent
        if parent is None or parent is view.root or ev.kind in ("created", "renumbered", "attached"):
            return                      # root entries are never cached (timeout 0)
        if parent is not view.root and not parent.is_descendant_of(view.root):
            return
        pino = I.make_ino(view.index, parent.serial, I.SLOT_DIR)
        names = set()
        if ev.kind in ("removed", "dying", "freed"):
            names.add(old_short or pr.short)
        elif ev.kind == "updated" and old_short is not None and pr.short != old_short:
            names.update((old_short, pr.short))
        for n in names:
            pyfuse3.invalidate_entry_async(pino, n.encode("utf-8", "surrogateescape"),
                                           ignore_enoent=True)

    # ==================================================== lookup / attributes
    @handler
    def lookup(self, parent_inode, name, ctx):
        view = self.view_of(ctx)
        parent = self.node(parent_inode, view)
        if parent.kind not in _DIR_KINDS:
            raise FUSEError(errno.ENOTDIR)
        n = name.decode("utf-8", "surrogateescape")
        if n == ".":
            node = parent
        elif n == "..":
            node = self.parent_of(view, parent)
        else:
            node = self.child(view, parent, n)
            if node is None:
                raise FUSEError(errno.ENOENT)
        return self.attr(view, node, entry_timeout=self.entry_timeout_in(parent))

    async def forget(self, inode_list):
        return None         # inode numbers are computed: nothing to count or free

    @handler
    def getattr(self, inode, ctx):
        view = self.view_of(ctx)
        return self.attr(view, self.node(inode, view))

    @handler
    def setattr(self, inode, attr, fields, fh, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        others = (fields.update_mode or fields.update_uid or fields.update_gid
                  or fields.update_atime or fields.update_mtime or fields.update_ctime)
        if fields.update_size and not others and attr.st_size == 0 and node.kind in (K_PARAM, K_CTL):
            # O_TRUNC from `echo x > file` or `: > file`: changes nothing.
            if node.kind == K_CTL or (ctx.uid == 0 and self.mode_of(view, node) & 0o200):
                return self.attr(view, node)
            raise self.refuse(errno.EACCES, "parameter file is not writable", "truncate",
                              self._path_name(view, node))
        raise self.refuse(errno.EPERM, "attributes of jailfs files cannot be changed",
                          "setattr", self._path_name(view, node))

    def _path_name(self, view, node) -> str:
        pr = node.pr
        base = "" if pr is view.root else pr.relname(view.root).replace(".", "/")
        if node.kind in (K_DYINGDIR, K_DPARAM, K_DREFS):
            base = f".dying/{pr.jid}"
        if node.param:
            return f"{base}/{node.param}" if base else node.param
        return base

    @handler
    def readlink(self, inode, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        if node.kind != K_JIDLINK:
            raise FUSEError(errno.EINVAL)
        return self.link_target(view, node.pr).encode()

    @handler
    def access(self, inode, mode, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        perm = self.mode_of(view, node)
        if mode & os.W_OK:
            if node.kind == K_CTL:
                pass
            elif ctx.uid != 0 or not perm & 0o200 or node.kind in _DIR_KINDS and node.kind != K_ROOT \
                    and node.kind != K_DIR:
                return False
        if mode & os.X_OK and not stat.S_ISDIR(perm) and not stat.S_ISLNK(perm):
            return False
        return True

    @handler
    def statfs(self, ctx):
        s = pyfuse3.StatvfsData()
        s.f_bsize = s.f_frsize = 4096
        s.f_blocks = s.f_bfree = s.f_bavail = 0
        s.f_files = len(self._prisons)
        s.f_ffree = s.f_favail = 0
        s.f_namemax = 255
        return s

    # ============================================================ directories
    @handler
    def opendir(self, inode, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        if node.kind not in _DIR_KINDS:
            raise FUSEError(errno.ENOTDIR)
        return self._new_fh(DirHandle(view, node))

    def _variable_entries(self, view: View, node: Node) -> list:
        """The part of a listing that comes and goes: (cookie, name, prison)."""
        kind, pr = node.kind, node.pr
        if kind in (K_ROOT, K_DIR):
            if not pr.children:
                return []
            return [(CHILD_COOKIE0 + c.serial, c.short, c) for c in pr.children.values()
                    if c.state == "alive"]
        if kind == K_DOTDYING:
            return [(PARAM_COOKIE0 + c.jid, str(c.jid), c) for c in self.k.dying_below(view.root)]
        if kind == K_DOTJID:
            jids = getattr(self.k, "jids", None)
            root = view.root
            if jids is not None:
                prs = (jids[j] for j in sorted(jids))
            else:
                prs = sorted(root.descendants(), key=lambda p: p.jid)
            return [(PARAM_COOKIE0 + p.jid, str(p.jid), p) for p in prs
                    if p.state != "freed" and (root is self.k.prison0 or p.is_descendant_of(root))]
        return []

    @handler
    def readdir(self, fh, start_id, token):
        h = self._fh.get(fh)
        if not isinstance(h, DirHandle):
            raise FUSEError(errno.EBADF)
        view, node = h.view, h.node
        kind, pr = node.kind, node.pr
        fixed = [(1, ".", node), (2, "..", self.parent_of(view, node))]
        if kind == K_ROOT:
            fixed += [(_DOT_COOKIE[n], n, self.child(view, node, n)) for n in ROOT_DOTFILES]
        elif kind in (K_DIR, K_DYINGDIR):
            fixed.append((_DOT_COOKIE[".refs"], ".refs", self.child(view, node, ".refs")))
        params = kind in (K_ROOT, K_DIR, K_DYINGDIR)
        timeout = ENTRY_TIMEOUT if kind in (K_DIR, K_DYINGDIR) else 0.0
        for cookie, name, n in fixed:
            if cookie <= start_id:
                continue
            if not pyfuse3.readdir_reply(token, name.encode(), self.attr(view, n), cookie):
                return
        if params and start_id < PARAM_COOKIE0 + len(self.param_names):
            first = max(0, start_id - PARAM_COOKIE0 + 1)
            names = self.param_names[first:]
            if names:
                vals = self.values(view, pr, names)
                pkind = K_DPARAM if kind == K_DYINGDIR else K_PARAM
                for i, name in enumerate(names, first):
                    size = len((vals[name] + "\n").encode("utf-8", "surrogateescape"))
                    a = self.attr(view, Node(pkind, pr, name), size=size, entry_timeout=timeout)
                    if not pyfuse3.readdir_reply(token, name.encode(), a, PARAM_COOKIE0 + i):
                        return
        if kind in (K_ROOT, K_DIR, K_DOTDYING, K_DOTJID):
            if start_id == 0 or h.entries is None:
                h.entries = self._variable_entries(view, node)
                h.cookies = [e[0] for e in h.entries]
            i = bisect.bisect_right(h.cookies, start_id)
            ckind = {K_ROOT: K_DIR, K_DIR: K_DIR, K_DOTDYING: K_DYINGDIR, K_DOTJID: K_JIDLINK}[kind]
            for cookie, name, c in h.entries[i:]:
                if c.state == "freed" or (ckind == K_DIR and c.state != "alive") \
                        or (ckind == K_DYINGDIR and c.state != "dying"):
                    continue
                if ckind == K_DIR and c.short != name:
                    name = c.short          # renamed since the snapshot
                elif ckind != K_DIR and str(c.jid) != name:
                    continue                # renumbered since the snapshot
                a = self.attr(view, Node(ckind, c), entry_timeout=timeout)
                if not pyfuse3.readdir_reply(token, name.encode("utf-8", "surrogateescape"),
                                             a, cookie):
                    return

    @handler
    def releasedir(self, fh):
        self._fh.pop(fh, None)

    async def fsyncdir(self, fh, datasync):
        return None

    # ============================================================ files
    def _new_fh(self, h) -> int:
        fh = self._next_fh
        self._next_fh += 1
        self._fh[fh] = h
        return fh

    @handler
    def open(self, inode, flags, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        kind = node.kind
        if kind in _DIR_KINDS:
            raise FUSEError(errno.EISDIR)
        acc = flags & os.O_ACCMODE
        want_write = acc in (os.O_WRONLY, os.O_RDWR)
        if want_write and kind != K_CTL:
            writable = kind == K_PARAM and self.mode_of(view, node) & 0o200
            if not writable or ctx.uid != 0:
                why = "read-only file" if not writable else "only root may change jails"
                raise self.refuse(errno.EACCES, why, "open", self._path_name(view, node))
        h = FileHandle(view, node, ctx.uid, ctx.pid, want_write)
        return pyfuse3.FileInfo(fh=self._new_fh(h), direct_io=True, keep_cache=False)

    @handler
    def read(self, fh, off, size):
        h = self._fh.get(fh)
        if not isinstance(h, FileHandle):
            raise FUSEError(errno.EBADF)
        kind = h.node.kind
        if kind == K_EVENTS:
            data = h.view.log.read(off, size)
            h.read_end = max(off, h.view.log.base) + len(data)
            return data
        if kind == K_CTL:
            idx = off - h.answer_base if off >= h.answer_base else off
            return h.answer[idx:idx + size]
        if off == 0 or h.snapshot is None:
            self._current_view = h.view
            h.snapshot = self.content(h.view, h.node)
        return h.snapshot[off:off + size]

    @handler
    def write(self, fh, off, buf):
        h = self._fh.get(fh)
        if not isinstance(h, FileHandle) or not h.writable:
            raise FUSEError(errno.EBADF)
        view, node = h.view, h.node
        self._current_view = view
        if node.kind == K_CTL:
            return self._ctl_write(h, off, buf)
        name = self._path_name(view, node)
        if len(buf) == 0:
            return 0
        if len(buf) > MAX_VALUE_WRITE:
            raise self.refuse(errno.EINVAL, f"{node.param}: value longer than one page "
                              f"({MAX_VALUE_WRITE} bytes)", "write", name)
        try:
            value = buf.decode("utf-8")
        except UnicodeDecodeError:
            raise self.refuse(errno.EINVAL, f"{node.param}: value is not UTF-8 text",
                              "write", name) from None
        if value.endswith("\n"):
            value = value[:-1]
        pr = node.pr
        if node.param == "jid":
            params = [("name", pr.relname(view.root)), ("jid", value)]
        else:
            params = [("jid", str(pr.jid)), (node.param, value)]
        self.k.jail_set(self.caller(view, h.uid), params, JAIL_UPDATE)
        h.snapshot = None
        return len(buf)

    def _ctl_write(self, h: FileHandle, off: int, buf: bytes) -> int:
        if len(buf) > MAX_CTL_WRITE:
            h.answer = b"error EINVAL request too long\n"
            h.answer_base = off
            raise self.refuse(errno.EINVAL, "request too long", ".ctl")
        text = buf.decode("utf-8", "surrogateescape")
        caller = self.caller(h.view, h.uid)
        code, answer = self._ctl(caller, text)
        if answer and not answer.endswith("\n"):
            answer += "\n"
        h.answer = answer.encode("utf-8", "surrogateescape")
        if code:
            h.answer_base = off
            raise FUSEError(code)
        h.answer_base = off + len(buf)
        return len(buf)

    def _ctl(self, caller, text: str) -> tuple[int, str]:
        if text.split()[:1] == ["check"]:
            # The filesystem's own tables first; ctl's `check` then runs the kernel's.
            problem = self.check()
            if problem:
                return errno.EIO, f"error EIO {problem}"
        before = self._refused_seen
        try:
            # which prison a real pid is in is this mount's knowledge
            code, answer = ctl.execute(self.k, caller, text, prison_of=self.supervisor.caller_prison)
        except Exception as e:      # noqa: BLE001 - a request must be answered
            log.exception("ctl request %r failed", text)
            code, answer = errno.EIO, f"error EIO internal error: {e}"
        if code and self._refused_seen == before:
            msg = answer.split("\n", 1)[0]
            parts = msg.split(" ", 2)
            verb = text.split(None, 1)[0] if text.split() else ""
            self._record_refusal(f"ctl {verb}".strip(), code,
                                 parts[2] if len(parts) == 3 else msg)
        return code, answer

    def check(self) -> str:
        """The filesystem's own invariants against the kernel's: '' when fine."""
        k = self.k
        jids = k.jids
        known = {pr.serial for pr in jids.values()} | {k.prison0.serial}
        mine = set(self._prisons)
        if known != mine:
            return (f"fs: prison table disagrees with the kernel: missing "
                    f"{sorted(known - mine)[:5]}, stale {sorted(mine - known)[:5]}")
        for pr in jids.values():
            if self._shorts.get(pr.serial) != pr.short:
                return f"fs: stale name for jail {pr.jid}: {self._shorts.get(pr.serial)!r}"
        return ""

    @handler
    def poll(self, inode, fh, poll_handle, ctx):
        h = self._fh.get(fh)
        ready = select.POLLIN | select.POLLRDNORM
        if isinstance(h, FileHandle) and h.node.kind == K_EVENTS:
            if h.view.log.size > h.read_end:
                return ready
            if poll_handle is not None:
                h.view.log.add_poll_handle(poll_handle)
            return 0
        return ready | select.POLLOUT | select.POLLWRNORM

    async def flush(self, fh):
        return None

    async def fsync(self, fh, datasync):
        return None

    @handler
    def release(self, fh):
        self._fh.pop(fh, None)

    # ============================================================ changes
    @handler
    def mkdir(self, parent_inode, name, mode, ctx):
        view = self.view_of(ctx)
        self._current_view = view
        parent = self.node(parent_inode, view)
        n = name.decode("utf-8", "surrogateescape")
        where = self._join(view, parent, n)
        if parent.kind not in (K_ROOT, K_DIR):
            if parent.kind not in _DIR_KINDS:
                raise FUSEError(errno.ENOTDIR)
            raise self.refuse(errno.EPERM, "jails are created only in jail directories",
                              "mkdir", where)
        if self.child(view, parent, n) is not None:
            raise self.refuse(errno.EEXIST, f"{n}: file exists", "mkdir", where)
        if "." in n:
            raise self.refuse(errno.EINVAL, f'"{n}": a jail name cannot contain "."',
                              "mkdir", where)
        relname = n if parent.pr is view.root else f"{parent.pr.relname(view.root)}.{n}"
        jid = self.k.jail_set(self.caller(view, ctx.uid), [("name", relname), ("persist", None)],
                              JAIL_CREATE)
        pr = self.k.by_jid(jid)
        return self.attr(view, Node(K_DIR, pr), entry_timeout=self.entry_timeout_in(parent))

    def _join(self, view, parent: Node, n: str) -> str:
        base = self._path_name(view, parent) if parent.kind != K_ROOT else ""
        if parent.kind == K_DOTDYING:
            base = ".dying"
        elif parent.kind == K_DOTJID:
            base = ".jid"
        return f"{base}/{n}" if base else n

    @handler
    def rmdir(self, parent_inode, name, ctx):
        view = self.view_of(ctx)
        self._current_view = view
        parent = self.node(parent_inode, view)
        n = name.decode("utf-8", "surrogateescape")
        where = self._join(view, parent, n)
        if parent.kind not in _DIR_KINDS:
            raise FUSEError(errno.ENOTDIR)
        node = self.child(view, parent, n)
        if node is None:
            raise FUSEError(errno.ENOENT)
        if node.kind != K_DIR:
            if node.kind in _DIR_KINDS:
                raise self.refuse(errno.EPERM, f"{where}: only live jails can be removed",
                                  "rmdir", where)
            raise FUSEError(errno.ENOTDIR)
        self.k.jail_remove(self.caller(view, ctx.uid), node.pr.jid)

    @handler
    def rename(self, parent_old, name_old, parent_new, name_new, flags, ctx):
        view = self.view_of(ctx)
        self._current_view = view
        pold = self.node(parent_old, view)
        pnew = self.node(parent_new, view)
        old = name_old.decode("utf-8", "surrogateescape")
        new = name_new.decode("utf-8", "surrogateescape")
        where = self._join(view, pold, old)
        if pold.kind not in _DIR_KINDS:
            raise FUSEError(errno.ENOTDIR)
        src = self.child(view, pold, old)
        if src is None:
            raise FUSEError(errno.ENOENT)
        if src.kind != K_DIR:
            raise self.refuse(errno.EPERM, f"{where}: only jails can be renamed", "rename", where)
        if parent_new != parent_old or pnew.pr is not pold.pr:
            raise self.refuse(errno.EXDEV, f"{where}: a jail cannot move to another parent",
                              "rename", where)
        if flags & pyfuse3.RENAME_EXCHANGE:
            raise self.refuse(errno.EINVAL, "jails cannot be exchanged", "rename", where)
        if old == new:
            return
        target = self.child(view, pold, new)
        if target is not None and target.kind != K_DIR:
            raise self.refuse(errno.EEXIST, f"{new}: file exists", "rename", where)
        if "." in new:
            raise self.refuse(errno.EINVAL, f'"{new}": a jail name cannot contain "."',
                              "rename", where)
        if target is not None and flags & pyfuse3.RENAME_NOREPLACE:
            raise self.refuse(errno.EEXIST, f"{new}: jail exists", "rename", where)
        relname = new if pold.pr is view.root else f"{pold.pr.relname(view.root)}.{new}"
        self.k.jail_set(self.caller(view, ctx.uid), [("jid", str(src.pr.jid)), ("name", relname)],
                        JAIL_UPDATE)

    def _no_files(self, op, parent_inode, name, ctx):
        view = self.view_of(ctx)
        self._current_view = view
        parent = self.node(parent_inode, view)
        n = name.decode("utf-8", "surrogateescape")
        raise self.refuse(errno.EPERM, f"{op}: jailfs files cannot be created or removed",
                          op, self._join(view, parent, n))

    @handler
    def unlink(self, parent_inode, name, ctx):
        view = self.view_of(ctx)
        parent = self.node(parent_inode, view)
        if parent.kind not in _DIR_KINDS:
            raise FUSEError(errno.ENOTDIR)
        node = self.child(view, parent, name.decode("utf-8", "surrogateescape"))
        if node is None:
            raise FUSEError(errno.ENOENT)
        if node.kind in _DIR_KINDS:
            raise FUSEError(errno.EISDIR)
        self._no_files("unlink", parent_inode, name, ctx)

    @handler
    def create(self, parent_inode, name, mode, flags, ctx):
        self._no_files("create", parent_inode, name, ctx)

    @handler
    def mknod(self, parent_inode, name, mode, rdev, ctx):
        self._no_files("mknod", parent_inode, name, ctx)

    @handler
    def symlink(self, parent_inode, name, target, ctx):
        self._no_files("symlink", parent_inode, name, ctx)

    @handler
    def link(self, inode, new_parent_inode, new_name, ctx):
        self._no_files("link", new_parent_inode, new_name, ctx)

