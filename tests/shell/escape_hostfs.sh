#!/bin/sh
# An attacker's test: a jail with path=/ (the host's tree, its own /proc and
# /dev, a read-only /sys) and children.max makes a child whose path is the
# host's /dev or /sys/fs/cgroup.  The child's tree used to be cloned with
# those mounts as they are on the host: the host's devices (its disks, its
# terminals in /pts) and every cgroup's knobs, writable.  A jail's tree may
# not be on or hold such a file system anywhere but at /sys (read-only) and
# below /proc and /dev (covered by the jail's own).
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
create() { jexec w sh -c "exec 3<>/dev/jailfs/.ctl; echo 'create $*' >&3; read -r a <&3; echo \$a"; }
# what the old code's anchor made on the host (mkdir proc, dev in the tree):
# removed at the end if this test made it
made=
for d in /dev/proc /dev/dev /sys/fs/cgroup/proc /sys/fs/cgroup/dev; do
    [ -e $d ] || made="$made $d"
done

expect 0 "" "" -- jail -c name=w path=/ persist children.max=5
create name=d path=/dev persist >/dev/null
create name=c path=/sys/fs/cgroup persist >/dev/null
expect 0 "/dev" "" -- cat "$MNT/w/d/path"
expect 1 "" "the jail's path /dev holds the host's devtmpfs at /dev" -- jexec w.d test -e /kmsg
expect 1 "" "holds the host's cgroup" -- jexec w.c test -d /pids
# from inside w too, with the anchor's reason
expect 1 "" "cannot confine the process: anchor did not start: error the jail's path /dev holds" -- jexec w jexec d true
# the path=/ jail itself still starts: the host's /dev, /proc, /sys are covered or read-only
expect 1 "" "" -- jexec w test -e /dev/kmsg
expect 0 "" "" -- jexec w test -e /dev/null
jail -r w >/dev/null
for d in $made; do [ -d $d ] && rmdir $d; done
done_testing
