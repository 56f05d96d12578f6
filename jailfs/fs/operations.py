"""The filesystem: pyfuse3 operations over the prison kernel.

A thin dispatcher.  Each handler finds who is asking (their view), resolves
the inode to a node and asks the node's kind (nodes.py, ctlfile.py) for its
mode, size, content, entries, or to write.  Every state change goes through
the kernel's syscall-like API; nothing here edits a Prison.  Kernel events
become ``.events`` lines and cache invalidation.

Caching: attributes and entries are cached for a long time and parameter
files keep their page cache, except where the answer depends on who asks
(the mount's root, ROOT_INODE, shared by every view: its names are cached
only for the host, and only until a jailed process may walk from it:
sharedroot.py; each view's own root, V(view), is cached) or changes without
a kernel event (.refs, .events); cache.py invalidates exactly what each
kernel event changed, before the request that caused it is answered.
"""

from __future__ import annotations

import bisect
import errno
import functools
import logging
import os
import select

import pyfuse3
import trio
from pyfuse3 import FUSEError

from jailfs import ctl_real
from jailfs.kernel import JAIL_CREATE, JAIL_MAX, JAIL_UPDATE, Caller, JailError
from jailfs.ops.logs import subscribe_logged

from . import inodes as I
from . import listings as L
from . import nodes as N
from . import ctlguard, sharedroot
from .cache import Cache
from .ctlfile import CTL
from .eventtext import event_text, other_event_text
from .heldsizes import before_update, unchanged
from .refusals import Refusals
from .supervisor import Supervisor
from .views import ParamSizes, PrisonIndex, Views

log = logging.getLogger("jailfs.fs")

ROOT = pyfuse3.ROOT_INODE
_GONE = frozenset(("removed", "dying", "freed"))     # events that drop a jail's name


class FileHandle:
    __slots__ = ("view", "node", "uid", "pid", "writable", "snapshot", "answer",
                 "answer_base", "read_end", "shift", "value_tail", "ino", "reads")

    def __init__(self, view, node, uid, pid, writable):
        self.view, self.node, self.uid, self.pid, self.writable = view, node, uid, pid, writable
        self.ino = 0                # the inode opened, and whether this descriptor can read
        self.reads = False          # it (cache.py: which inodes may hold page cache)
        self.snapshot = None        # parameter files: the content a read at offset 0 saw
        self.answer = b""           # .ctl: the answer to the last request
        self.answer_base = 0
        self.read_end = 0           # .events: log offset where the last read ended
        self.shift = 0              # .events: log bytes skipped as forgotten
        self.value_tail = False     # parameter files: the last write sent no newline


class DirHandle:
    __slots__ = ("view", "node", "entries", "cookies", "last")

    def __init__(self, view, node):
        self.view, self.node = view, node
        self.entries = None       # snapshot of the variable part: child jails in serial
        self.cookies = None       # order, or [(cookie, name, prison)] with their cookies
        self.last = None          # the last child jail's cookie when the listing began


def handler(fn=None, *, settle: str = ""):
    """Turn kernel refusals into errnos and bugs into EIO; never crash the mount.

    A request that changes state flushes, before it is answered, the cache
    invalidations pending (cache.py): ``settle="all"`` for write(2), whose
    caller holds no directory lock, and for rmdir and rename, whose callers
    hold the directories they name in ``cache.locked`` (the names in those go
    to the background task: telling them would wait for the caller, which
    waits for us); ``settle="inodes"`` for mkdir (its entries go to the
    background task).  A request that changes nothing never waits: its caller
    may hold a lock a pending invalidation needs."""
    if fn is None:
        return functools.partial(handler, settle=settle)

    @functools.wraps(fn)
    async def wrapper(self, *args):
        if settle:
            self.cache.settling = True
        if self.refusals.pending:   # reported between requests (a cgroup limit): not this one's
            self.refusals.mark()
        if self.cache.retry:        # a reply the kernel had not parsed when told (cache.py)
            self.cache.tell_again()
        try:
            return fn(self, *args)
        except FUSEError:
            raise
        except JailError as e:      # a kernel call outside a kernel_call() block
            self.refusals.record(None, e.op or fn.__name__, e.errno, str(e))
            raise FUSEError(e.errno) from None
        except Exception:           # noqa: BLE001 - a handler must answer
            log.exception("unexpected error in %s%r", fn.__name__, args[:2])
            raise FUSEError(errno.EIO) from None
        finally:
            if settle:
                try:
                    await self.cache.settle(entries=settle == "all")
                finally:
                    self.cache.locked = frozenset()
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
        self.mounted = False
        self.our_mount = ctlguard.OurMount()    # set once mounted: the write guard's mount
        self.prisons = PrisonIndex(kernel.prison0)
        self.views = Views(kernel.prison0)
        self.host = self.views.host
        self.refusals = Refusals(self.host)
        self.kept_answers: dict = {}    # .ctl: bytes of answers kept per user (ctlfile.py)
        self.kept_handles: dict = {}    # .ctl: id(handle) -> (user, bytes counted)
        self.supervisor = Supervisor(kernel)
        self.cache = Cache(I.PARAM_SLOT0 + self.param_index["children.cur"],
                           uncached_slots=[slot for slot, kind in N.SLOT_KINDS.items()
                                           if kind.attr_timeout == 0 and not kind.page_cache])
        self.param_sizes = ParamSizes()     # dropped by every event (_handle_event)
        self.listings = L.Listings(kernel, self.cache, self.prisons, log)  # kept till a change
        # modes of a live jail's parameter files, by index (the table says which are writable)
        self._param_modes = tuple(N.param_mode(n) for n in self.param_names)
        self._fh: dict[int, object] = {}
        self._next_fh = 1
        self._sizes_before = None           # write(): heldsizes.Before its update
        subscribe_logged(kernel, self._handle_event, log)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The mount's long-running tasks (start with ``nursery.start``)."""
        unconfined = sharedroot.unconfined_hook(self)
        ctl_real.unconfined_hooks.append(unconfined)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(self.supervisor.run)
                await nursery.start(self.cache.run)
                task_status.started()
        finally:
            ctl_real.unconfined_hooks.remove(unconfined)

    # ================================================================ nodes
    def view_of(self, ctx):
        return self.views.get(self.supervisor.caller_prison(ctx.pid))

    def node(self, ino: int, view) -> N.Node:
        if ino == ROOT:
            if view is not self.host and not self.views.root_shared:
                sharedroot.share_root(self, "a jailed process reached the mount's root "
                                f"(view of {view.root.name or '0'})")
            return N.Node(N.SHARED_ROOT, view.root)
        parts = I.split_ino(ino)
        if parts is None or parts[0] != view.index:
            raise FUSEError(errno.ENOENT)
        _, serial, slot = parts
        pr = view.root if serial == view.root.serial else self.prisons.get(serial)
        if pr is None or pr.state == "freed" or not (pr is view.root or
                                                     pr.is_descendant_of(view.root)):
            raise FUSEError(errno.ENOENT)
        kind, param = N.kind_of_slot(slot, self.param_names)
        if kind is N.JAIL_DIR and pr is view.root:
            kind = N.VIEW_ROOT          # V(view): the view's own root (nodes.ViewRoot)
        if kind is None or not kind.exists(pr, pr is view.root):
            raise FUSEError(errno.ENOENT)
        return N.Node(kind, pr, param)

    def values(self, view, pr, names) -> dict:
        """Canonical text of parameters of ``pr`` as ``view`` sees them."""
        if pr is not view.root:
            return self.k.get_values(view.root, pr, names)
        # The caller's own prison, seen from itself: no parent to name.
        out = self.k.get_values(pr, pr, [n for n in names if n != "parent"])
        if "parent" in names:
            out["parent"] = "0"
        return out

    def attr(self, view, node, size: int | None = None,
             entry_timeout: float = 0.0) -> pyfuse3.EntryAttributes:
        kind = node.kind
        a = pyfuse3.EntryAttributes()   # zeroed (generation, uid, gid, rdev), st_blksize 4096
        a.st_ino = kind.ino(self, view, node)
        a.entry_timeout = entry_timeout
        a.attr_timeout = kind.attr_timeout
        a.st_mode = kind.mode(self, view, node)
        a.st_nlink = kind.nlink(node)
        a.st_size = size = kind.size(self, view, node) if size is None else size
        a.st_blocks = (size + 511) // 512
        a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = kind.mtime(self, view, node)
        return a

    def check(self) -> str:
        """The filesystem's own index against the kernel: '' when fine."""
        return self.prisons.check(self.k)

    # ================================================================ events
    def _handle_event(self, ev) -> None:
        self.param_sizes.on_event(ev)
        kind, pr = ev.kind, ev.prison
        if kind == "refused":
            self.refusals.kernel_refused(ev.detail or {})
            return
        if pr is None:
            self.host.log.append(other_event_text(ev))
            return
        if kind == "created":
            self.prisons.add(pr)
        old_name = self.prisons.renamed(pr) if kind == "updated" else None
        views = list(self.views.above(pr))
        for view in views:      # written when someone looks, or a batch is due
            view.log.append_later(event_text, ev, view.root)
        if self.mounted:
            same = None
            if self._sizes_before is not None and kind == "updated" and old_name is None \
                    and self._sizes_before.pr is pr:
                same = unchanged(self, self._sizes_before)
            self._sizes_before = None
            told = self.prisons.told_name(pr) if kind in _GONE else ""
            self.cache.on_event(ev, views, old_name, told, same)
        if kind == "freed":
            self.prisons.remove(pr)
            self.views.release(pr)
        elif kind == "attached" and ev.detail.get("real_pid"):
            self.views.get(pr)          # its .events starts now, not at its first request

    # ==================================================== lookup / attributes
    def _dir(self, ino: int, view) -> N.Node:
        node = self.node(ino, view)
        if not node.kind.is_dir:
            raise FUSEError(errno.ENOTDIR)
        return node

    @staticmethod
    def _name(name: bytes) -> str | None:
        """A directory entry's name as text; None when it is not UTF-8 (no such
        name can exist here)."""
        try:
            return name.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _new_name(self, view, parent, name: bytes, op: str) -> str:
        """The name a new jail would get; not UTF-8 is EINVAL, as for a value."""
        n = self._name(name)
        if n is None:
            raise self.refusals.refuse(view, errno.EINVAL, "a jail name must be UTF-8 text", op,
                                       N.join(parent.kind.path(view, parent),
                                              name.decode("utf-8", "backslashreplace")))
        return n

    @handler
    def lookup(self, parent_inode, name, ctx):
        view = self.view_of(ctx)
        if parent_inode == ROOT and name.startswith(b".v"):
            # .view and .v<index>: asked by a keeper entering a jail (in the
            # jail's cgroup, still on the host's tree: jailfs/host/enter.py),
            # so no sign of a jailed process that can walk from the root;
            # never cached (they depend on who asks); the host's answer for
            # another view's .v<index> is that view's root (sharedroot.py)
            found = sharedroot.view_entry(self, view, name.decode("ascii", "replace"))
            if found is not None:
                a = self.attr(*found)
                self.cache.looked_up(a.st_ino)
                return a
        parent = self._dir(parent_inode, view)
        n = self._name(name)
        if n is None:
            raise FUSEError(errno.ENOENT)
        if n == ".":
            node = parent
        elif n == "..":
            node = parent.kind.parent(view, parent)
        else:
            node = parent.kind.child(self, view, parent, n)
            if node is None:
                raise FUSEError(errno.ENOENT)
        a = self.attr(view, node, entry_timeout=sharedroot.names_timeout(self, view, parent))
        self.cache.looked_up(a.st_ino)
        return a

    async def forget(self, inode_list):
        self.listings.forgetting(inode_list)    # lookups a listing counted on its side
        for ino, nlookup in inode_list:
            self.cache.forget(ino, nlookup)

    @handler
    def getattr(self, inode, ctx):
        view = self.view_of(ctx)
        return self.attr(view, self.node(inode, view))

    def _writable(self, view, node, uid: int) -> bool:
        return node.kind is CTL or (uid == 0 and node.kind is N.PARAM
                                    and bool(node.kind.mode(self, view, node) & 0o200))

    @handler
    def setattr(self, inode, attr, fields, fh, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        where = node.kind.path(view, node)
        others = (fields.update_mode or fields.update_uid or fields.update_gid
                  or fields.update_atime or fields.update_mtime or fields.update_ctime)
        if fields.update_size and not others and attr.st_size == 0 \
                and node.kind in (N.PARAM, CTL):
            # O_TRUNC from `echo x > file` or `: > file`: changes nothing.
            if self._writable(view, node, ctx.uid):
                return self.attr(view, node)
            raise self.refusals.refuse(view, errno.EACCES, "parameter file is not writable",
                                       "truncate", where)
        raise self.refusals.refuse(view, errno.EPERM, "attributes of jailfs files cannot be "
                                   "changed", "setattr", where)

    @handler
    def readlink(self, inode, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        if node.kind not in (N.JID_LINK, N.VIEW_LINK):
            raise FUSEError(errno.EINVAL)
        return node.kind.target(view, node.pr).encode()

    @handler
    def access(self, inode, mode, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        kind = node.kind
        if mode & os.W_OK and kind is not CTL:
            tree = isinstance(kind, N.JailTree)
            if ctx.uid != 0 or not kind.mode(self, view, node) & 0o200 \
                    or (kind.is_dir and not tree):
                return False
        if mode & os.X_OK and not kind.is_dir and kind is not N.JID_LINK:
            return False
        return True

    @handler
    def statfs(self, ctx):
        s = pyfuse3.StatvfsData()
        s.f_bsize = s.f_frsize = 4096
        s.f_blocks = s.f_bfree = s.f_bavail = 0
        s.f_files = len(self.prisons)
        s.f_ffree = s.f_favail = 0
        s.f_namemax = 255
        return s

    # ============================================================ directories
    def _new_fh(self, h) -> int:
        fh = self._next_fh
        self._next_fh += 1
        self._fh[fh] = h
        return fh

    def _handle(self, fh: int, cls):
        h = self._fh.get(fh)
        if not isinstance(h, cls):
            raise FUSEError(errno.EBADF)
        return h

    @handler
    def opendir(self, inode, ctx):
        view = self.view_of(ctx)
        return self._new_fh(DirHandle(view, self._dir(inode, view)))

    @handler
    def readdir(self, fh, start_id, token):
        # A listing is the hot path of a large host, resumed by the kernel
        # once per page of entries: a resumed call starts where it left off
        # (no copy of what was already listed); child jails' entries are
        # kept from one listing to the next until a change (listings.py).
        h = self._handle(fh, DirHandle)
        view, node = h.view, h.node
        kind = node.kind
        timeout = sharedroot.names_timeout(self, view, node)
        if start_id < N.PARAM_COOKIE0:
            looked_up = self.cache.looked_up
            for cookie, name, n in kind.fixed(self, view, node):
                if cookie <= start_id:
                    continue
                a = L.fixed_entry_attr(self, view, cookie, n, timeout)
                if not pyfuse3.readdir_reply(token, name.encode(), a, cookie):
                    return
                if cookie > 2:                          # "." and ".." are not looked up
                    looked_up(a.st_ino)
        pkind = kind.params
        if pkind is not None and start_id < N.PARAM_COOKIE0 + len(self.param_names) - 1:
            if not L.list_params(self, view, pkind, node.pr, start_id, token, timeout):
                return
        if isinstance(kind, N.JailTree):
            L.list_jails(self, h, start_id, token, timeout)
            return
        if start_id == 0 or h.entries is None:
            h.entries = kind.variable(self, view, node)
            h.cookies = [e[0] for e in h.entries]
        at = bisect.bisect_right(h.cookies, start_id)
        L.list_jid_entries(self, view, kind, h.entries, at, token, timeout)

    @handler
    def releasedir(self, fh):
        self._fh.pop(fh, None)

    async def fsyncdir(self, fh, datasync):
        return None

    # ============================================================ files
    @handler
    def open(self, inode, flags, ctx):
        view = self.view_of(ctx)
        node = self.node(inode, view)
        if node.kind.is_dir:
            raise FUSEError(errno.EISDIR)
        want_write = flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
        if want_write and not self._writable(view, node, ctx.uid):
            why = "only root may change jails" if ctx.uid != 0 and node.kind is N.PARAM \
                and node.kind.mode(self, view, node) & 0o200 else "read-only file"
            raise self.refusals.refuse(view, errno.EACCES, why, "open",
                                       node.kind.path(view, node))
        h = FileHandle(view, node, ctx.uid, ctx.pid, want_write)
        cached = node.kind.page_cache and not want_write
        h.ino, h.reads = inode, flags & os.O_ACCMODE != os.O_WRONLY
        self.cache.opened(inode, h.reads, cached)
        return pyfuse3.FileInfo(fh=self._new_fh(h), direct_io=not cached, keep_cache=cached)

    @handler
    def read(self, fh, off, size):
        h = self._handle(fh, FileHandle)
        return h.node.kind.read(self, h, off, size)

    async def write(self, fh, off, buf):
        h = self._fh.get(fh)
        if isinstance(h, FileHandle) and h.writable and h.node.kind in (N.PARAM, CTL):
            # who writes (fs/ctlguard.py), before anything is settled: it may
            # pause for a writer not yet asleep, and other requests go on
            try:
                await ctlguard.authorise(self, h)
            except FUSEError:
                raise
            except Exception:       # noqa: BLE001 - a request must be answered
                log.exception("the write guard failed")
                raise FUSEError(errno.EIO) from None
        return await self._write(fh, off, buf)

    @handler(settle="all")
    def _write(self, fh, off, buf):
        h = self._handle(fh, FileHandle)
        if not h.writable:
            raise FUSEError(errno.EBADF)
        if h.node.kind is N.PARAM and self.mounted:     # what the update may leave alone
            self._sizes_before = before_update(self, h.node.pr, (h.node.param,))
        try:
            return h.node.kind.write(self, h, off, buf)
        finally:
            self._sizes_before = None

    @handler
    def poll(self, inode, fh, poll_handle, ctx):
        h = self._fh.get(fh)
        ready = select.POLLIN | select.POLLRDNORM
        if isinstance(h, FileHandle) and h.node.kind is N.EVENTS:
            if h.view.log.size > h.read_end:
                return ready
            if poll_handle is not None:
                h.view.log.add_poll_handle(fh, poll_handle)
            return 0
        return ready | select.POLLOUT | select.POLLWRNORM

    async def flush(self, fh):
        # Nothing to do on close(2); ENOSYS tells Linux to stop sending FLUSH
        # (fc->no_flush, close returns 0): one request less per close.
        raise FUSEError(errno.ENOSYS)

    async def fsync(self, fh, datasync):
        return None

    @handler
    def release(self, fh):
        h = self._fh.pop(fh, None)
        if isinstance(h, FileHandle):
            if h.reads:
                self.cache.released(h.ino)
            if h.node.kind is N.EVENTS:
                h.view.log.forget_poll_handle(fh)
            elif h.node.kind is CTL:
                CTL.give_back(self, h)

    # ============================================================ changes
    @staticmethod
    def _where(view, parent, name: str) -> str:
        """The path a refusal names: ``name`` in directory ``parent``."""
        return N.join(parent.kind.path(view, parent), name)

    def _relname(self, view, parent, name: str) -> str:
        return name if parent.pr is view.root else f"{parent.pr.relname(view.root)}.{name}"

    @handler(settle="inodes")
    def mkdir(self, parent_inode, name, mode, ctx):
        view = self.view_of(ctx)
        parent = self._dir(parent_inode, view)
        n = self._new_name(view, parent, name, "mkdir")
        refuse = self.refusals.refuse
        if not isinstance(parent.kind, N.JailTree):
            raise refuse(view, errno.EPERM, "jails are created only in jail directories",
                         "mkdir", self._where(view, parent, n))
        if parent.kind.child(self, view, parent, n) is not None:
            raise refuse(view, errno.EEXIST, f"{n}: file exists", "mkdir",
                         self._where(view, parent, n))
        if "." in n:
            raise refuse(view, errno.EINVAL, f'"{n}": a jail name cannot contain "."',
                         "mkdir", self._where(view, parent, n))
        if n.isascii() and n.isdigit() and int(n) > JAIL_MAX:
            # a numeric name is the jid, and FreeBSD's jids stop at JAIL_MAX
            raise refuse(view, errno.EINVAL, f"jid {n} is above JAIL_MAX ({JAIL_MAX})",
                         "mkdir", self._where(view, parent, n))
        with self.refusals.kernel_call(view, "jail_set"):
            jid = self.k.jail_set(Caller(view.root, ctx.uid),
                                  [("name", self._relname(view, parent, n)), ("persist", None)],
                                  JAIL_CREATE)
        a = self.attr(view, N.Node(N.JAIL_DIR, self.k.by_jid(jid)),
                      entry_timeout=sharedroot.names_timeout(self, view, parent))
        self.cache.looked_up(a.st_ino)
        return a

    def _locked(self, view, *prisons) -> frozenset:
        """The directories of ``prisons`` in ``view`` (the host's root by both
        its numbers): those a directory operation's caller holds locked."""
        inos = {I.make_ino(view.index, pr.serial, I.SLOT_DIR) for pr in prisons}
        if view.root.parent is None and view.root in prisons:
            inos.add(ROOT)
        return frozenset(inos)

    @handler(settle="all")
    def rmdir(self, parent_inode, name, ctx):
        view = self.view_of(ctx)
        parent = self._dir(parent_inode, view)
        n = self._name(name)
        if n is None:
            raise FUSEError(errno.ENOENT)
        node = parent.kind.child(self, view, parent, n)
        if node is None:
            raise FUSEError(errno.ENOENT)
        if node.kind is not N.JAIL_DIR:
            if node.kind.is_dir:
                where = self._where(view, parent, n)
                raise self.refusals.refuse(view, errno.EPERM, f"{where}: only live jails can "
                                           "be removed", "rmdir", where)
            raise FUSEError(errno.ENOTDIR)
        # the name this view removes is the VFS's to drop (it holds the only
        # dentry of that directory, the one rmdir went through)
        self.cache.unlinked = (view.index, node.pr.serial)
        self.cache.locked = self._locked(view, parent.pr, node.pr)
        try:
            with self.refusals.kernel_call(view, "jail_remove"):
                self.k.jail_remove(Caller(view.root, ctx.uid), node.pr.jid)
        finally:
            self.cache.unlinked = None

    @handler(settle="all")
    def rename(self, parent_old, name_old, parent_new, name_new, flags, ctx):
        view = self.view_of(ctx)
        pold = self._dir(parent_old, view)
        pnew = self.node(parent_new, view)
        old = self._name(name_old)
        src = None if old is None else pold.kind.child(self, view, pold, old)
        if src is None:
            raise FUSEError(errno.ENOENT)
        new = self._new_name(view, pold, name_new, "rename")
        where = N.join(pold.kind.path(view, pold), old)
        refuse = self.refusals.refuse
        if src.kind is not N.JAIL_DIR:
            raise refuse(view, errno.EPERM, f"{where}: only jails can be renamed", "rename",
                         where)
        if parent_new != parent_old or pnew.pr is not pold.pr:
            raise refuse(view, errno.EXDEV, f"{where}: a jail cannot move to another parent",
                         "rename", where)
        if flags & pyfuse3.RENAME_EXCHANGE:
            raise refuse(view, errno.EINVAL, "jails cannot be exchanged", "rename", where)
        if flags & ~pyfuse3.RENAME_NOREPLACE:        # RENAME_WHITEOUT and anything newer
            raise refuse(view, errno.EINVAL, f"rename flags {flags:#x} are not supported",
                         "rename", where)
        if old == new:
            return
        target = pold.kind.child(self, view, pold, new)
        if target is not None and target.kind is not N.JAIL_DIR:
            raise refuse(view, errno.EEXIST, f"{new}: file exists", "rename", where)
        if "." in new:
            raise refuse(view, errno.EINVAL, f'"{new}": a jail name cannot contain "."',
                         "rename", where)
        if target is not None and flags & pyfuse3.RENAME_NOREPLACE:
            raise refuse(view, errno.EEXIST, f"{new}: jail exists", "rename", where)
        self.cache.locked = self._locked(view, pold.pr, src.pr)
        with self.refusals.kernel_call(view, "jail_set"):
            self.k.jail_set(Caller(view.root, ctx.uid),
                            [("jid", str(src.pr.jid)), ("name", self._relname(view, pold, new))],
                            JAIL_UPDATE)

    def _no_files(self, op, parent_inode, name, ctx):
        view = self.view_of(ctx)
        parent = self.node(parent_inode, view)
        raise self.refusals.refuse(view, errno.EPERM, f"{op}: jailfs files cannot be created "
                                   "or removed", op,
                                   N.join(parent.kind.path(view, parent),
                                          name.decode("utf-8", "backslashreplace")))

    @handler
    def unlink(self, parent_inode, name, ctx):
        view = self.view_of(ctx)
        parent = self._dir(parent_inode, view)
        n = self._name(name)
        node = None if n is None else parent.kind.child(self, view, parent, n)
        if node is None:
            raise FUSEError(errno.ENOENT)
        if node.kind.is_dir:
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
