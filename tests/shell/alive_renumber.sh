#!/bin/sh
# mkdir of a dying jail's jid: a new, pristine jail takes the jid; the dying
# one is renumbered counting down from 999999 and keeps its name (FreeBSD 15, D28150).
. "$(dirname "$0")/lib/alive.subr"

# dying_by_timewait NAME: hold NAME with a TIME_WAIT connection, then rmdir it
dying_by_timewait() {
    _p=$(sim spawn "$1")
    _fd=$(sim connect "$_p" 192.0.2.10:80 198.51.100.1:1234)
    jailfs sim close "$_p" "$_fd" || echo "FAIL: close $_p $_fd"
    rmdir "$1" || echo "FAIL: rmdir $1"
}

PARAMS="host.hostname securelevel children.max children.cur allow.mount allow.raw_sockets enforce_statfs devfs_ruleset persist osrelease path meta ip4.addr"

expect 0 "" "" -- mkdir a
expect 0 "1" "" -- jailfs sim set a host.hostname=old.example securelevel=3 children.max=5 allow.mount allow.raw_sockets enforce_statfs=1 devfs_ruleset=4 meta=tag ip4.addr=192.0.2.10
expect 0 "" "" -- mkdir a/inner                    # nothing holds it: freed with a
expect 0 "" "" -- mkdir b
expect 0 "1" "" -- cat a/jid
expect 0 "3" "" -- cat b/jid
dying_by_timewait a
expect 0 "1" "" -- ls .dying
expect 0 "1" "" -- sh -c "grep -c 'freed jid=2 name=a.inner\$' .events"
expect 0 "" "" -- mkdir fresh                      # the reference: a brand-new jail
expect 0 "4" "" -- cat fresh/jid

expect 0 "" "" -- mkdir 1                          # jid 1 is held by dying a
expect 0 "1" "" -- cat 1/jid
expect 0 "1" "" -- cat 1/name
expect 0 "false" "" -- cat 1/dying
expect 0 "0" "" -- cat 1/children.cur
for p in $PARAMS; do
    is "pristine $p" "$(cat 1/$p)" "$(cat fresh/$p)"
done
expect 0 "" "" -- cat 1/host.hostname
expect 0 "-1" "" -- cat 1/securelevel
expect 0 "false" "" -- cat 1/allow.mount
expect 0 "" "" -- cat 1/meta
expect 0 "" "" -- cat 1/ip4.addr
is "same files as a fresh jail" "$(ls -A 1)" "$(ls -A fresh)"
expect 0 "persist: ref 1, uref 1
total pr_ref=1 pr_uref=1" "" -- cat 1/.refs

# the dying jail: renumbered, same name, same parameters
expect 0 "999999" "" -- ls .dying
expect 0 "a" "" -- cat .dying/999999/name
expect 0 "999999" "" -- cat .dying/999999/jid
expect 0 "old.example" "" -- cat .dying/999999/host.hostname
expect 0 "3" "" -- cat .dying/999999/securelevel
expect 0 "tag" "" -- cat .dying/999999/meta
expect 0 "192.0.2.10" "" -- cat .dying/999999/ip4.addr
expect 0 "0" "" -- cat .dying/999999/parent
expect 0 "../.dying/999999" "" -- readlink .jid/999999
expect 0 "../1" "" -- readlink .jid/1
expect 0 "1" "" -- sh -c "grep -c 'renumbered jid=999999 name=a old_jid=1\$' .events"
expect 0 "1 1
3 b
4 fresh
999999 a" "" -- jailfs sim list -d

# the next one counts down: 999998, keeping its name
dying_by_timewait b
expect 0 "" "" -- mkdir 3
expect 0 "3" "" -- cat 3/name
expect 0 "b" "" -- cat .dying/999998/name
expect 0 "999998" "" -- cat .dying/999998/jid
# and a jail with a numeric name, dying in its turn: 999997, still named 1
dying_by_timewait 1
expect 0 "" "" -- mkdir 1
expect 0 "1" "" -- cat .dying/999997/name
expect 0 "false" "" -- cat 1/dying
expect 0 "999997
999998
999999" "" -- ls .dying
# an explicit jid of a dying jail through .ctl: the same renumbering
dying_by_timewait fresh
expect 0 "4" "" -- jailfs sim create name=again jid=4 persist
expect 0 "fresh" "" -- cat .dying/999996/name
expect 0 "again" "" -- cat again/name
expect 0 "4" "" -- cat again/jid
expect 0 "" "" -- jailfs sim check

# all the connections time out: every dying jail is freed, the new ones stay
expect 0 "61" "" -- jailfs sim advance 61
expect 0 "" "" -- ls .dying
expect 0 "1 1
3 3
4 again" "" -- jailfs sim list -d
expect 0 "1" "" -- sh -c "grep -c 'freed jid=999999 name=a\$' .events"
expect 0 "1" "" -- sh -c "grep -c 'freed jid=999998 name=b\$' .events"
expect 0 "1" "" -- sh -c "grep -c 'freed jid=999997 name=1\$' .events"
expect 0 "" "" -- jailfs sim check
done_testing
