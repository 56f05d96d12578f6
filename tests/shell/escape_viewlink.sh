#!/bin/sh
# An attacker's tests: nobody outside a jail can break the jail's view of the
# mount by looking up its `.v<N>` in the mount's root.  Every mount of a
# jail's view (its /dev/jailfs) is rooted at that name's dentry; an answer
# that differs from what the jail got (ENOENT, another inode) makes the VFS
# drop it, and then getcwd(2) fails in /dev/jailfs and a keeper's clone
# taken before it can no longer be attached (a jexec racing it fails: that
# race is not tested here, the dropped dentry is).  Any host user could.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"

expect 0 "" "" -- jail -c name=v "path=$ROOT" persist
# the jail's own .v<N>, from where its /dev/jailfs is rooted
VN=$(jexec v awk '$5 == "/dev/jailfs" { print substr($4, 2) }' /proc/self/mountinfo)
case $VN in .v[0-9]*) is "the jail's view root is a .v<N>" ok ok ;;
    *) is "the jail's view root is a .v<N>" "$VN" ".v<N>" ;; esac

# a process of the jail sits in /dev/jailfs; host users look its .v<N> up
rm -f "$ROOT/go"
jexec v sh -c 'cd /dev/jailfs && : >/ready && while [ ! -e /go ]; do sleep 0.05; done;
    /bin/pwd -P; cat jid' >"$OUT/cwd" 2>&1 &
WAITER=$!
n=0; while [ ! -e "$ROOT/ready" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
$AS_NOBODY stat "$MNT/$VN" >/dev/null 2>&1
stat "$MNT/$VN" >/dev/null 2>&1
ls "$MNT/$VN" >/dev/null 2>&1
: >"$ROOT/go"
wait $WAITER
is "getcwd in /dev/jailfs after host users looked up $VN" "$(cat "$OUT/cwd")" "/dev/jailfs
$(cat "$MNT/v/jid")"
# the host still gets nothing below another view's root
expect 1 "" "No such file" -- cat "$MNT/$VN/jid"

jail -r v >/dev/null
done_testing
