#!/bin/sh
# A jail's path is its processes' root: exec.start runs the root's /etc/rc,
# files land under the root, jexec -d, no host descriptor, the jail's own /proc,
# the mount's view at /dev/jailfs, and nothing left once the jail is removed.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
mounts_before=$(grep -c "$ROOT" /proc/self/mountinfo)

expect 0 "" "" -- jail -c name=t "path=$ROOT" "exec.start=/bin/sh /etc/rc" persist
is "exec.start ran the root's /etc/rc" "$(cat "$ROOT/var/run/rc.ran" 2>/dev/null)" ran
expect 0 "" "" -- jexec t sh -c 'echo inside >/hello'
is "a file written at / lands under path" "$(cat "$ROOT/hello" 2>/dev/null)" inside
[ ! -e /hello ]; is "not on the host's /" $? 0
expect 0 "/" "" -- jexec t pwd
expect 0 "/tmp" "" -- jexec -d /tmp t pwd
expect 0 "/" "" -- jexec t sh -c 'cd ..; cd ..; pwd'
expect 0 "bin dev etc hello proc root sbin tmp var" "" -- jexec t sh -c 'echo $(ls /)'
# a descriptor the caller had open (7: the host's /etc) is not inherited
exec 7</etc
expect 0 "" "" -- jexec t sh -c 'for i in 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$i ] && echo $i; done; true'
expect 1 "" "" -- jexec t test -e /proc/self/fd/7
exec 7<&-
# the jail's pid namespace: its /proc shows its own processes only
# (the anchor and sh, which expands the glob: the host has hundreds)
expect 0 "2" "" -- jexec t sh -c 'ls -d /proc/[0-9]* >/tmp/pids; wc -l </tmp/pids'
host_pid=$$
expect 1 "" "" -- jexec t test -e "/proc/$host_pid/root"
# its /dev: devfs ruleset 4's nodes, its own ptys, shm
expect 0 "fd full jailfs null ptmx pts random shm stderr stdin stdout tty urandom zero" "" -- jexec t sh -c 'echo $(ls /dev)'
expect 0 "ptmx" "" -- jexec t ls /dev/pts
# the jail's view of the mount, where JAILFS_MOUNT says
expect 0 "/dev/jailfs" "" -- jexec t sh -c 'echo $JAILFS_MOUNT'
expect 0 "$(jls -j t jid)" "" -- jexec t cat /dev/jailfs/jid
expect 1 "" "" -- jexec t test -e /dev/jailfs/t
# the tools find it there from a scrubbed environment too
mkdir "$MNT/t/child"
expect 0 "child" "" -- jexec t env -i /bin/sh -c 'ls /dev/jailfs | grep -x child'

mnt_ns=$(ns_id t mnt); pid_ns=$(ns_id t pid)
[ -n "$mnt_ns" ] && [ "$(ns_users mnt "$mnt_ns")" -ge 1 ]; is "the jail's mount namespace exists (anchor)" $? 0
[ "$mnt_ns" != "$(readlink /proc/self/ns/mnt | tr -dc 0-9)" ]; is "it is not the host's" $? 0
expect 0 "" "" -- jail -r t
is "mount namespace gone after jail -r" "$(ns_gone mnt "$mnt_ns")" 0
is "pid namespace gone after jail -r" "$(ns_gone pid "$pid_ns")" 0
is "no host mount of the root left" "$(grep -c "$ROOT" /proc/self/mountinfo)" "$mounts_before"
done_testing
