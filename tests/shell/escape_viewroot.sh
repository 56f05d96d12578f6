#!/bin/sh
# An attacker's tests: no confined jail ever reaches the mount's root
# (ROOT_INODE), where the VFS keeps names it looked up for the host.  A jail
# with path=/ (the host's tree, the host's mount in it) and a jail whose path
# holds a bind of the mount find jailfs only at /dev/jailfs, and that is their
# own view's root; `.view` is nobody else's; the host's cached names stay the
# host's, and no confined entry makes the daemon stop caching them.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
LOG=$(python -c 'import sys; from jailfs.ops.runfiles import log_file; print(log_file(sys.argv[1]))' "$MNT")
mkdir "$ROOT/bound"
mount --bind "$MNT" "$ROOT/bound" || { echo "FAIL: cannot bind the mount"; exit 1; }
viewroot_cleanup() {
    grep -q " $ROOT/bound " /proc/self/mountinfo && umount -l "$ROOT/bound"
    cd / && cleanup
}
trap viewroot_cleanup EXIT

expect 0 "" "" -- jail -c name=t "path=$ROOT" persist children.max=2
expect 0 "" "" -- jail -c name=t.kid "path=$ROOT" persist
expect 0 "" "" -- jail -c name=b path=/ persist
expect 0 "" "" -- jail -c name=other path=/ persist
# the host warms its names in the root and below
expect 0 "t" "" -- cat "$MNT/t/name"
expect 0 "other" "" -- cat "$MNT/other/name"
ls "$MNT" "$MNT/t" >/dev/null

# jailfs in t's tree: only /dev/jailfs (the bind at /bound is gone), and its
# root is not the mount's root
# (each mount of fuse.jailfs: its mount point, and whether it is the mount's root)
POINTS=$(cat <<'EOF'
awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "fuse.jailfs") print $5 " " ($4 == "/" ? "ROOT" : "view"); break } }' /proc/self/mountinfo
EOF
)
expect 0 "/dev/jailfs view" "" -- jexec t sh -c "$POINTS"
expect 0 "" "" -- jexec t sh -c 'ls -A /bound'
# its view: its own child only, none of the host's jails
expect 0 "kid" "" -- jexec t sh -c 'for d in /dev/jailfs/*/; do basename "$d"; done'
expect 0 "$(cat "$MNT/t/jid")" "" -- jexec t cat /dev/jailfs/jid
expect 1 "" "No such file" -- jexec t cat /dev/jailfs/t/name
expect 1 "" "No such file" -- jexec t cat /dev/jailfs/other/name
# `.view` is looked up in the mount's root only: not in a jail's view
expect 1 "" "No such file" -- jexec t ls /dev/jailfs/.view

# path=/: the host's own mount is detached in b's tree
expect 0 "/dev/jailfs view" "" -- jexec b sh -c "$POINTS"
expect 1 "" "" -- jexec b test -e "$MNT/.ctl"
expect 1 "" "" -- jexec b test -e "$MNT/.view"
expect 0 "$(cat "$MNT/b/jid")" "" -- jexec b cat /dev/jailfs/jid
expect 1 "" "No such file" -- jexec b cat /dev/jailfs/other/name
# a second entry finds its view there and does not stack another
expect 0 "1" "" -- jexec b sh -c 'grep -c " /dev/jailfs " /proc/self/mountinfo'
# the kid, entered from the host: its own view
expect 0 "$(cat "$MNT/t/kid/jid")" "" -- jexec t.kid cat /dev/jailfs/jid

# the host's names are still the host's, and still cached (no confined
# entry made the daemon share the root)
expect 0 "t" "" -- cat "$MNT/t/name"
expect 0 "t.kid" "" -- cat "$MNT/t/kid/name"
is "the root's names were never shared" "$(grep -c 'no longer cached' "$LOG")" 0
jail -r t.kid t b other >/dev/null
done_testing
