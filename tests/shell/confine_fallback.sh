#!/bin/sh
# Where jails cannot confine (here: JAILFS_NO_CONFINE=1, as when namespaces
# are unavailable) the daemon says why in its log once, and entering a jail
# works as it did before confinement: the command runs on the host's tree.
. "$(dirname "$0")/lib/rootfs.subr"
JAILFS_NO_CONFINE=1; export JAILFS_NO_CONFINE
. "$(dirname "$0")/lib/fs.subr"
unset JAILFS_NO_CONFINE
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
LOG=$(ls /run/jailfs/*"$(basename "$MNT")"*.log 2>/dev/null | head -1)
[ -n "$LOG" ] && grep -q "jails do not confine their processes here (JAILFS_NO_CONFINE is set)" "$LOG"
is "the log says why jails do not confine" $? 0
expect 0 "" "" -- jail -c name=t "path=$ROOT" persist
mkdir "$MNT/t/kid"
# the host warms names in the mount's root (cached for it while no jailed
# process can walk from there) ...
expect 0 "t" "" -- cat "$MNT/t/name"
expect 0 "t.kid" "" -- cat "$MNT/t/kid/name"
expect 0 "" "" -- jexec t sh -c "echo host >$OUT/written"
is "the command ran on the host's tree" "$(cat "$OUT/written" 2>/dev/null)" host
is "same mount namespace as the host" "$(jexec t readlink /proc/self/ns/mnt)" "$(readlink /proc/self/ns/mnt)"
# ... a jailed process on the host's tree walks the root: its own view, never
# the host's cached names (the first unconfined entry stopped that cache)
expect 1 "" "" -- jexec t test -e "$MNT/t"
expect 1 "" "No such file" -- jexec t cat "$MNT/t/name"
expect 0 "kid" "" -- jexec t cat "$MNT/kid/name"
expect 0 "t" "" -- cat "$MNT/t/name"
grep -q "no longer cached: enter t " "$LOG"; is "the log says why the root's names are not cached" $? 0
done_testing
