#!/bin/sh
# A descriptor passed from a jail to a host process (SCM_RIGHTS) carries the
# jail's credential: the jail stays dying until the host process closes it.
. "$(dirname "$0")/lib/alive.subr"

expect 0 "" "" -- mkdir web
P=$(sim spawn web)
H=$(sim spawn 0)                  # a process on the host
is "pids" "$P $H" "100 101"
FD=$(sim open "$P" /var/db/web.sqlite)
is "open fd" "$FD" 3
expect 0 "3" "" -- jailfs sim pass "$P" "$FD" "$H"   # the host's first descriptor
expect 0 "    file /var/db/web.sqlite open as fd 3 of process $P in jail web (jid 1), fd 3 of process $H in host" "" -- \
    grep 'file /var' web/.refs
expect 0 "" "" -- jailfs sim close "$P" "$FD"
expect 0 "    file /var/db/web.sqlite open as fd 3 of process $H in host" "" -- grep 'file /var' web/.refs

expect 0 "" "" -- rmdir web
expect 1 "" "jailfs: no process $P" -- jailfs sim close "$P" 3    # rmdir killed it
expect 0 "1" "" -- ls .dying
expect 0 "3" "" -- sh -c 'wc -l < .dying/1/.refs'
expect 0 "    file /var/db/web.sqlite open as fd 3 of process $H in host" "" -- sed -n 2p .dying/1/.refs
expect 0 "total pr_ref=1 pr_uref=0" "" -- total .dying/1
# time does not help: only the holder can let go
expect 0 "3600" "" -- jailfs sim advance 3600
expect 0 "1" "" -- ls .dying
expect 0 "web" "" -- cat .dying/1/name
# the host process is untouched by the removal
expect 1 "" "jailfs: process $H has no descriptor 4" -- jailfs sim close "$H" 4
expect 0 "" "" -- jailfs sim close "$H" 3
expect 0 "" "" -- ls .dying
expect 0 "1" "" -- sh -c "grep -c 'freed jid=1 name=web\$' .events"

# a socket passed on from the host to another host process, then the first exits:
# the jail lives on in the second one's descriptor table
expect 0 "" "" -- mkdir db
Q=$(sim spawn db)
S=$(sim socket "$Q" unix)
H2=$(sim spawn 0)
expect 0 "4" "" -- jailfs sim pass "$Q" "$S" "$H"
expect 0 "3" "" -- jailfs sim pass "$H" 4 "$H2"
expect 0 "" "" -- rmdir db
expect 0 "2" "" -- ls .dying
expect 0 "    unix unix open as fd 4 of process $H in host, fd 3 of process $H2 in host" "" -- sed -n 2p .dying/2/.refs
expect 0 "" "" -- jailfs sim kill "$H"            # exit closes its descriptors
expect 0 "    unix unix open as fd 3 of process $H2 in host" "" -- sed -n 2p .dying/2/.refs
expect 0 "2" "" -- ls .dying
expect 0 "" "" -- jailfs sim exit "$H2"           # no parent: reaped at once
expect 0 "" "" -- ls .dying
expect 1 "" "jailfs: no process $H2" -- jailfs sim reap "$H2"
expect 0 "" "" -- jailfs sim check
done_testing
