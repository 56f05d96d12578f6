#!/bin/sh
# A real Linux process attached to a jail holds it alive (pr_uref) while it
# runs; rmdir SIGKILLs it (and what it started), and the jail goes once the
# daemon sees the process end.  jexec attaches a keeper, which runs the
# command as its child (alive_keeper.sh: what the command leaves behind).
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"     # state, dead, keeper, hostpid

no_dying() { [ -z "$(ls "$MNT/.dying")" ]; }
# ppid PID: its parent's pid
ppid() { sed 's/.*) . \([0-9]*\).*/\1/' "/proc/$1/stat"; }
# child PID: its children's pids
child() { _c=$(cat "/proc/$1/task/$1/children" 2>/dev/null); echo ${_c% }; }
# runs PID COMM: PID's child runs COMM
runs() { [ "$(cat "/proc/$(child "$1")/comm" 2>/dev/null)" = "$2" ]; }

# --- attached through .ctl
expect 0 "" "" -- mkdir rp
sleep 300 &
SP=$!; started $SP
expect 0 "" "" -- jailfs sim attach rp "$SP"
expect 0 "" "" -- grep -qx "process [0-9]* (running, real pid $SP): uref 1" rp/.refs
expect 0 "total pr_ref=2 pr_uref=2" "" -- total rp
expect 0 "" "" -- sh -c 'echo 0 > rp/persist'
expect 0 "total pr_ref=1 pr_uref=1" "" -- total rp
sleep 0.3
expect 0 "false" "" -- cat rp/dying                 # the process alone keeps it alive
expect 0 "S" "" -- state "$SP"
expect 0 "" "" -- rmdir rp
expect 0 "" "" -- wait_for 10 dead "$SP"
wait "$SP"; is "sleep was SIGKILLed" "$?" 137
expect 2 "" "ls: cannot access 'rp': No such file or directory" -- ls -d rp
expect 0 "" "" -- wait_for 10 no_dying
expect 0 "" "" -- sh -c "grep -q 'freed jid=1 name=rp\$' .events"
expect 0 "" "" -- jailfs sim check

# --- attached by jexec; it ends by itself: the non-persistent jail goes with it
expect 0 "" "" -- mkdir web
jexec web sleep 300 &
JP=$!; started $JP
expect 0 "" "" -- wait_for 10 grep -q "real pid" web/.refs     # jexec's keeper attached itself
KP=$(keeper web)
expect 0 "$JP" "" -- ppid "$KP"
expect 0 "" "" -- wait_for 10 runs "$KP" sleep                # and runs the command
SP=$(child "$KP")
expect 0 "" "" -- sh -c 'echo 0 > web/persist'
expect 0 "false" "" -- cat web/dying
kill -TERM "$JP"                                                # jexec passes it on
wait "$JP"; is "sleep ended by SIGTERM, and so did jexec" "$?" 143
expect 0 "" "" -- wait_for 10 dead "$SP"
gone_web() { [ ! -e "$MNT/web" ] && no_dying; }
expect 0 "" "" -- wait_for 10 gone_web
expect 0 "" "" -- sh -c "grep -q 'freed jid=2 name=web\$' .events"

# --- removing the jail kills what its process started too
expect 0 "" "" -- mkdir box
jexec box sh -c 'sleep 300 & echo $! > "$1"; wait' sh "$OUT/child" &
BP=$!; started $BP
expect 0 "" "" -- wait_for 10 test -s "$OUT/child"
CP=$(hostpid "$(cat "$OUT/child")"); started "$CP"     # it knows its pid in the jail
expect 0 "" "" -- wait_for 10 grep -q "real pid" box/.refs
KP=$(keeper box)
expect 0 "$BP" "" -- ppid "$KP"
expect 0 "S" "" -- state "$CP"
expect 0 "" "" -- rmdir box
expect 0 "" "" -- wait_for 10 dead "$KP"
expect 0 "" "" -- wait_for 10 dead "$BP"
wait "$BP"; is "the keeper was SIGKILLed, jexec passes that on" "$?" 137
expect 0 "" "" -- wait_for 10 dead "$CP"           # not left behind, reparented to the host
expect 0 "" "" -- wait_for 10 no_dying
expect 0 "" "" -- jailfs sim check

# --- .refs read inside a jail: no host pid, jails named as the jail names them
two_real() { [ "$(real_pids vw/c | wc -l)" -ge 2 ]; }
expect 0 "" "" -- mkdir vw vw/c
jexec vw.c sleep 300 &
VP=$!; started $VP
expect 0 "" "" -- wait_for 10 two_real
jexec vw cat /dev/jailfs/c/.refs > "$OUT/inner.refs" 2>&1
is "jexec vw cat c/.refs" "$?" 0
for hp in $(real_pids vw/c); do
    expect 1 "" "" -- grep -q "real pid $hp)" "$OUT/inner.refs"
done
expect 0 "" "" -- grep -q "^process [0-9]* (running, real pid [0-9]*): uref 1" "$OUT/inner.refs"
expect 0 "" "" -- grep -q "^process [0-9]* (running): uref 1" "$OUT/inner.refs"   # jexec's keeper: on the host
expect 0 "" "" -- sh -c "jexec vw cat /dev/jailfs/.refs | grep -q '^child jail c (jid '"
expect 0 "" "" -- grep -q "^child jail vw.c (jid " vw/.refs
expect 0 "" "" -- rmdir vw
expect 0 "" "" -- wait_for 10 dead "$VP"
wait "$VP"
expect 0 "" "" -- jailfs sim check

# --- a process that cannot be attached: errors
expect 0 "" "" -- mkdir keep
expect 1 "" "jailfs: no process 999999999" -- jailfs sim attach keep 999999999
expect 1 "" "jailfs: jail \"nope\" not found" -- jailfs sim attach nope "$$"
expect 0 "" "" -- jailfs sim check
done_testing
