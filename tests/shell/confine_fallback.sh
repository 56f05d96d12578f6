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
expect 0 "" "" -- jexec t sh -c "echo host >$OUT/written"
is "the command ran on the host's tree" "$(cat "$OUT/written" 2>/dev/null)" host
is "same mount namespace as the host" "$(jexec t readlink /proc/self/ns/mnt)" "$(readlink /proc/self/ns/mnt)"
done_testing
