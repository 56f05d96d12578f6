#!/bin/sh
# kill -9 of the daemon leaves no jailed process behind: each anchor dies with
# it (PR_SET_PDEATHSIG), and with the anchor, pid 1 of the jail's pid
# namespace, every process of the jail.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
expect 0 "" "" -- jail -c name=t "path=$ROOT" persist
jexec t sh -c 'sleep 300 & sleep 300 & echo started' >"$OUT/started"
is "jailed sleepers started" "$(cat "$OUT/started")" started
pid_ns=$(ns_id t pid)
is "the jail's pid namespace holds the anchor and two sleepers" "$(ns_users pid "$pid_ns")" 3
DPID=$(head -1 "$(ls /run/jailfs/*"$(basename "$MNT")"*.pid 2>/dev/null | head -1)" 2>/dev/null)
[ -n "$DPID" ] && grep -q jailfs "/proc/$DPID/cmdline"; is "found the daemon ($DPID)" $? 0
kill -9 "$DPID"
_n=50; while [ "$(ns_users pid "$pid_ns")" != 0 ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
is "no process of the jail survives the daemon" "$(ns_users pid "$pid_ns")" 0
fusermount3 -u -z "$MNT" 2>/dev/null
done_testing
