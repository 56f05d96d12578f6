"""An invalidation can cross a reply: the daemon counts an inode as held when
it answers a lookup or a listing, but the kernel makes the inode only when the
asking thread parses that answer.  Told before, the kernel says ENOENT and the
inode it then makes keeps the old size (a `name` read clipped to the old
length after a rename: test_concurrency saw 'j11' without its newline).  Such
an inode is told again until the kernel knows it."""

from __future__ import annotations

import errno

import pyfuse3
import trio

from jailfs.fs import cache as C
from jailfs.fs import inodes as I

INO = I.make_ino(0, 5, I.PARAM_SLOT0)


def kernel(monkeypatch):
    """A stand-in for the kernel's side of invalidate_inode: ENOENT until it knows an inode."""
    known, told = set(), []

    def invalidate_inode(ino, attr_only=False):
        told.append((ino, attr_only))
        if ino not in known:
            raise OSError(errno.ENOENT, "no such inode")
    monkeypatch.setattr(pyfuse3, "invalidate_inode", invalidate_inode)
    return known, told


def changed(cache):
    cache._queue(INO)                   # what an event about prison 5 queues
    trio.run(cache.settle, False)


def test_an_inode_the_kernel_did_not_know_yet_is_told_again(monkeypatch):
    known, told = kernel(monkeypatch)
    cache = C.Cache(I.PARAM_SLOT0 + 1)
    cache.looked_up(INO)                # the answer naming it is on its way
    changed(cache)
    assert INO in cache.retry
    known.add(INO)                      # the asking thread made the inode
    cache.tell_again()
    assert not cache.retry
    assert told == [(INO, True), (INO, True)]


def test_an_inode_nobody_holds_is_not_told_again(monkeypatch):
    kernel(monkeypatch)
    cache = C.Cache(I.PARAM_SLOT0 + 1)
    cache.looked_up(INO)
    changed(cache)
    cache.forget(INO, 1)                # the kernel dropped it: nothing stale left
    cache.tell_again()
    assert not cache.retry
    changed(cache)                      # never handed out: nothing to tell again
    assert not cache.retry


def test_told_again_for_a_while_only(monkeypatch):
    kernel(monkeypatch)
    now = [1000.0]
    monkeypatch.setattr(C.time, "monotonic", lambda: now[0])
    cache = C.Cache(I.PARAM_SLOT0 + 1)
    cache.looked_up(INO)
    changed(cache)
    cache.tell_again()
    assert INO in cache.retry           # still unknown, still within RETRY_FOR
    now[0] += C.RETRY_FOR + 0.1
    cache.tell_again()
    assert not cache.retry
