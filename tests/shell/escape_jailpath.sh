#!/bin/sh
# An attacker's test: a jail whose path leads into the jailfs mount (here a
# path=/ jail's root turns its child's path into a symbolic link to the
# mount after creating it) is refused at once when entered.  The anchor used
# to stat the path, a request to the daemon, which waits for the anchor: the
# whole mount stood still 15 s per try.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
mkdir "$OUT/cdir" "$OUT/kdir"

expect 0 "" "" -- jail -c name=p path=/ persist children.max=2
expect 0 "" "" -- jexec p jail -c name=c "path=$OUT/cdir" persist
expect 0 "" "" -- jexec p jail -c name=k "path=$OUT/kdir" persist
expect 0 "" "" -- jexec p sh -c "rmdir $OUT/cdir $OUT/kdir && ln -s $MNT $OUT/cdir && ln -s $MNT/p/../p $OUT/kdir"
for j in p.c p.k; do
    START=$(date +%s)
    expect 1 "" "lies in a jailfs mount" -- jexec $j true
    is "$j refused within 5 s" "$(( $(date +%s) - START < 5 ))" 1
done
expect 0 "p" "" -- cat "$MNT/p/name"
rm "$OUT/cdir" "$OUT/kdir"
jail -r p >/dev/null
done_testing
