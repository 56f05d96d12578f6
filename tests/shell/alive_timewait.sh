#!/bin/sh
# A jail whose process closed a TCP connection: rmdir leaves it dying until
# TIME_WAIT (2*MSL = 60 s of the simulated clock) is over; .dying and .refs say why.
. "$(dirname "$0")/lib/alive.subr"

expect 0 "" "" -- mkdir web
P=$(sim spawn web)
is "first simulated pid" "$P" 100
FD=$(sim connect "$P" 192.0.2.1:80 198.51.100.7:5555)
is "connection fd" "$FD" 3
expect 0 "" "" -- grep -qx "    tcp 192.0.2.1:80 -> 198.51.100.7:5555 ESTABLISHED open as fd 3 of process $P in jail web (jid 1)" web/.refs
expect 0 "" "" -- jailfs sim close "$P" "$FD"
expect 0 "    tcp 192.0.2.1:80 -> 198.51.100.7:5555 TIME_WAIT, 60 s left" "" -- grep TIME_WAIT web/.refs
expect 0 "total pr_ref=2 pr_uref=2" "" -- total web
expect 0 "" "" -- jailfs sim kill "$P"
expect 0 "total pr_ref=2 pr_uref=1" "" -- total web     # persist holds both; the connection the credential

expect 0 "" "" -- rmdir web
expect 2 "" "ls: cannot access 'web': No such file or directory" -- ls -d web
expect 1 "" "cat: web/name: No such file or directory" -- cat web/name
expect 0 "1" "" -- ls .dying
expect 0 "../.dying/1" "" -- readlink .jid/1
expect 0 "web" "" -- cat .dying/1/name
expect 0 "web" "" -- cat .jid/1/name
expect 0 "true" "" -- cat .dying/1/dying
expect 0 "false" "" -- cat .dying/1/persist
expect 0 "3" "" -- sh -c 'wc -l < .dying/1/.refs'
expect 0 "" "" -- grep -qx 'credential [0-9]* (uid 0): ref 1, held 1 time(s) by:' .dying/1/.refs
expect 0 "    tcp 192.0.2.1:80 -> 198.51.100.7:5555 TIME_WAIT, 60 s left" "" -- sed -n 2p .dying/1/.refs
expect 0 "total pr_ref=1 pr_uref=0" "" -- total .dying/1
# a dying jail is read-only and cannot be removed again
expect 1 "" "rmdir: failed to remove '.dying/1': Operation not permitted" -- rmdir .dying/1
expect 2 "" ".dying/1/host.hostname: Permission denied" -- sh -c 'echo x > .dying/1/host.hostname'
expect 1 "" "jailfs: jail 1 is dying" -- jailfs sim spawn 1
expect 1 "" "jailfs: jail 1 not found" -- jailfs sim set 1 host.hostname=x
expect 0 "1 web" "" -- jailfs sim list -d
expect 0 "" "" -- jailfs sim list

# the clock: 30 s later the connection has 30 s left, the jail is still there
expect 0 "30" "" -- jailfs sim advance 30
expect 0 "    tcp 192.0.2.1:80 -> 198.51.100.7:5555 TIME_WAIT, 30 s left" "" -- sed -n 2p .dying/1/.refs
expect 0 "1" "" -- ls .dying
expect 0 "30" "" -- jailfs sim clock
# 31 more: TIME_WAIT is over, the last reference goes, the jail is freed
expect 0 "61" "" -- jailfs sim advance 31
expect 0 "" "" -- ls .dying
expect 2 "" "ls: cannot access '.dying/1': No such file or directory" -- ls -d .dying/1
expect 1 "" "" -- test -L .jid/1
expect 0 "" "" -- ls .jid
is "events" "$(grep -v ' refused ' .events | awk '{ $1 = ""; print }')" " created jid=1 name=web
 removed jid=1 name=web
 dying jid=1 name=web
 freed jid=1 name=web"
expect 0 "refused op=rmdir errno=EPERM name=.dying/1 msg='.dying/1: only live jails can be removed'
refused op='ctl spawn' errno=EINVAL msg='jail 1 is dying'
refused op=jail_set errno=ENOENT msg='jail 1 not found'" "" -- sh -c "grep -e rmdir -e 'ctl spawn' -e jail_set .events | cut -d' ' -f2-"
expect 0 "" "" -- jailfs sim check

# the same through .ctl directly, answers on the descriptor
expect 0 "" "" -- mkdir db
exec 3<>.ctl
printf 'spawn db\n' >&3; is ".ctl spawn" "$(cat <&3)" "ok 101"
printf 'connect 101 10.0.0.1:22 10.0.0.9:40000\n' >&3; is ".ctl connect" "$(cat <&3)" "ok 3"
printf 'close 101 3\n' >&3; is ".ctl close" "$(cat <&3)" "ok"
printf 'remove db\n' >&3; is ".ctl remove" "$(cat <&3)" "ok"
exec 3>&-
# remove killed process 101; the connection still holds the jail
expect 0 "2" "" -- ls .dying
expect 0 "    tcp 10.0.0.1:22 -> 10.0.0.9:40000 TIME_WAIT, 60 s left" "" -- sed -n 2p .dying/2/.refs
exec 3<>.ctl
printf 'advance 59.5\n' >&3; is ".ctl advance" "$(cat <&3)" "ok 120.5"
exec 3>&-
expect 0 "2" "" -- ls .dying
expect 0 "    tcp 10.0.0.1:22 -> 10.0.0.9:40000 TIME_WAIT, 0.5 s left" "" -- sed -n 2p .dying/2/.refs
exec 3<>.ctl
printf 'advance 0.5\n' >&3; is ".ctl advance again" "$(cat <&3)" "ok 121"
exec 3>&-
expect 0 "" "" -- ls .dying
expect 1 "" "jailfs: no process 101" -- jailfs sim kill 101
expect 0 "" "" -- jailfs sim check
done_testing
