#!/bin/sh
# A parent whose only child is dying stays alive (the child structure holds
# pr_ref and pr_uref); made non-persistent meanwhile, it goes when the child is
# freed. A child that goes dying again and again must leave the parent's counts
# exactly right (FreeBSD's 2011 reference-count bug).
. "$(dirname "$0")/lib/alive.subr"

expect 0 "" "" -- mkdir par par/kid
expect 0 "1" "" -- cat par/children.cur
expect 0 "2" "" -- cat children.cur                      # the host counts both
expect 0 "total pr_ref=2 pr_uref=2" "" -- total par     # persist + child
P=$(sim spawn par.kid)
FD=$(sim connect "$P" 10.0.0.1:443 10.0.0.2:50000)
expect 0 "" "" -- jailfs sim close "$P" "$FD"
expect 0 "" "" -- rmdir par/kid
expect 0 "2" "" -- ls .dying
expect 0 "par.kid" "" -- cat .dying/2/name
expect 0 "1" "" -- cat par/children.cur                  # a dying child still counts
expect 0 "2" "" -- cat children.cur
expect 0 "persist: ref 1, uref 1
child jail par.kid (jid 2, dying): ref 1, uref 1
total pr_ref=2 pr_uref=2" "" -- cat par/.refs
expect 0 "" "" -- sh -c 'echo 0 > par/persist'
expect 0 "false" "" -- cat par/persist
expect 0 "false" "" -- cat par/dying                     # the dying child keeps it alive
expect 0 "child jail par.kid (jid 2, dying): ref 1, uref 1
total pr_ref=1 pr_uref=1" "" -- cat par/.refs
expect 0 "1" "" -- cat par/children.cur
expect 0 "2" "" -- ls .dying
expect 0 "30" "" -- jailfs sim advance 30
expect 0 "1" "" -- cat par/jid
expect 0 "61" "" -- jailfs sim advance 31            # the child is freed, then the parent
expect 2 "" "ls: cannot access 'par': No such file or directory" -- ls -d par
expect 0 "" "" -- ls .dying
expect 0 "0" "" -- cat children.cur
is "order of events" "$(grep -e freed -e 'dying jid=1 ' .events | cut -d' ' -f2-)" "freed jid=2 name=par.kid
dying jid=1 name=par
freed jid=1 name=par"
expect 0 "" "" -- jailfs sim check

# A child that dies again and again: by rmdir, and by losing its last process.
expect 0 "" "" -- mkdir top
T=$(cat top/jid)
i=1
while [ $i -le 6 ]; do
    expect 0 "" "" -- mkdir top/c
    C=$(cat top/c/jid)
    is "round $i: children.cur after mkdir" "$(cat top/children.cur)" 1
    is "round $i: totals after mkdir" "$(total top)" "total pr_ref=2 pr_uref=2"
    P=$(sim spawn top.c)
    K=$(sim fork "$P")
    expect 0 "" "" -- jailfs sim exit "$K"             # a zombie: its parent must reap it
    expect 0 "    process $K (zombie) in jail top.c (jid $C)" "" -- grep "process $K " top/c/.refs
    expect 0 "" "" -- jailfs sim reap "$K"
    expect 1 "" "" -- grep -q "process $K " top/c/.refs
    FD=$(sim connect "$P" 192.0.2.7:25 203.0.113.$i:2525)
    expect 0 "" "" -- jailfs sim close "$P" "$FD"
    if [ $((i % 2)) = 1 ]; then
        expect 0 "" "" -- rmdir top/c                  # removed: process killed
    else
        expect 0 "" "" -- sh -c 'echo 0 > top/c/persist'
        is "round $i: alive with its process" "$(cat top/c/dying)" false
        expect 0 "" "" -- jailfs sim exit "$P"         # last process: the jail dies
    fi
    expect 0 "$C" "" -- ls .dying
    is "round $i: dying child still counted" "$(cat top/children.cur)" 1
    is "round $i: totals while dying" "$(total top)" "total pr_ref=2 pr_uref=2"
    expect 0 "total pr_ref=1 pr_uref=0" "" -- total ".dying/$C"
    expect 1 "" "jailfs: no process $P" -- jailfs sim kill "$P"
    expect 0 "$((61 + 60 * i))" "" -- jailfs sim advance 60   # exactly 2*MSL
    expect 0 "" "" -- ls .dying
    is "round $i: children.cur after free" "$(cat top/children.cur)" 0
    is "round $i: totals after free" "$(total top)" "total pr_ref=1 pr_uref=1"
    is "round $i: parent alive" "$(cat top/dying) $(cat top/jid)" "false $T"
    expect 0 "" "" -- jailfs sim check
    i=$((i + 1))
done
expect 0 "persist: ref 1, uref 1
total pr_ref=1 pr_uref=1" "" -- cat top/.refs
# and at the end the parent still goes away exactly once
expect 0 "" "" -- sh -c 'echo 0 > top/persist'
expect 2 "" "ls: cannot access 'top': No such file or directory" -- ls -d top
expect 0 "" "" -- ls .dying
expect 0 "1" "" -- sh -c "grep -c 'freed jid=$T name=top\$' .events"
expect 0 "0" "" -- cat children.cur
expect 0 "" "" -- jailfs sim check
done_testing
