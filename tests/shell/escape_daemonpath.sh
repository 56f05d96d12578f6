#!/bin/sh
# An attacker's test: a jailed root that may create jails (children.max)
# gives a child jail a path that leads into the jailfs mount: the mount point
# itself, or a symbolic link to it made in its own tree.  The daemon resolved
# that path with stat(2), a request to itself: it waited for ever, and every
# process touching the mount with it.  Now such a path is refused at once.
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
DAEMON=$(python -c 'import sys; from jailfs.ops.runfiles import read_pid; print(read_pid(sys.argv[1]) or "")' "$MNT")
daemonpath_cleanup() {
    # a daemon waiting on itself answers nothing, not even an unmount
    if ! $T jailfs umount "$MNT" 2>/dev/null; then
        [ -n "$DAEMON" ] && kill -9 "$DAEMON" 2>/dev/null
        fusermount3 -u -z "$MNT" 2>/dev/null
    fi
    cd / && cleanup
}
trap daemonpath_cleanup EXIT
T="timeout -k 5 20"     # a daemon waiting on itself would hold every command for ever

expect 0 "" "" -- jail -c name=p path=/ persist children.max=3
expect 1 "" "lies in a jailfs mount" -- $T jexec p jail -c name=c "path=$MNT" persist
expect 0 "" "" -- $T jexec p ln -s "$MNT" "$OUT/lnk"
# (jail(8) in p checks the path first, in p's tree: .ctl takes it as given)
expect 1 "" "lies in a jailfs mount" -- $T jexec p jailfs sim create name=c "path=$OUT/lnk/p" persist
expect 1 "" "lies in a jailfs mount" -- $T jail -c name=h "path=$OUT/lnk" persist
# the daemon still answers, and nothing was made
expect 0 "p" "" -- $T cat "$MNT/p/name"
expect 0 "0" "" -- $T cat "$MNT/p/children.cur"
# a bind of the mount made after the daemon started (it keeps the list of
# jailfs mounts until the mount table changes): refused as well
mkdir "$OUT/bind"
mount --bind "$MNT" "$OUT/bind"
expect 1 "" "lies in a jailfs mount" -- $T jail -c name=b "path=$OUT/bind/p" persist
umount "$OUT/bind"
# a path beside the mount is still a path
mkdir "$OUT/ok"
expect 0 "" "" -- $T jexec p jail -c name=c "path=$OUT/ok" persist
expect 0 "$OUT/ok" "" -- $T cat "$MNT/p/c/path"
jail -r p >/dev/null
done_testing
