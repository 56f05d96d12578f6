#!/bin/sh
# Issue 11: a fork bomb in a jail with `maxproc:deny=20` leaves the host
# responsive; rctl -u shows maxproc at 20; `rmdir` clears it.  The bomb is
# limited before it starts (the test checks the jail's pids.max first), and
# every process of it is in the jail's cgroup, killed with it even when the
# test fails (alive.subr's trap removes the jail's mount, whose daemon
# kills its cgroups on exit).
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"
eval "$(jailfs env -m "$MNT")" || { echo "FAIL: jailfs env"; exit 1; }   # FreeBSD's rctl(8)

all_dead() { for _p in $(cat "$1"); do dead "$_p" || return 1; done; }
usage() { rctl -u jail:web | grep "^$1="; }
fast() { timeout 5 sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done'; }

expect 0 "" "" -- mkdir web
expect 0 "" "" -- rctl -a jail:web:maxproc:deny=20

# Every process of the bomb forks for ever, waiting a little after a refusal.
BOMB='import os, time
open(os.environ["GO"] + ".started", "w").close()
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)'
# The command waits for the go file: the test looks at the jail's limit first.
GO="$OUT/go" timeout 60 jexec web sh -c 'while [ ! -e "$GO" ]; do sleep 0.05; done; exec python3 -c "$0"' "$BOMB" &
JP=$!; started $JP
expect 0 "" "" -- wait_for 10 grep -q "real pid" web/.refs
KP=$(keeper web)
PIDS=$(dirname "$(cgdir "$KP" pids)")        # the jail's directory, above its procs leaf
expect 0 "20" "" -- cat "$PIDS/pids.max"
at_limit() { [ "$(cat "$PIDS/pids.current")" -ge 20 ]; }
expect 0 "" "" -- touch "$OUT/go"
expect 0 "" "" -- wait_for 10 test -e "$OUT/go.started"
expect 0 "" "" -- wait_for 10 at_limit
sleep 1                                      # the bomb at its limit for a while
expect 0 "20" "" -- cat "$PIDS/pids.current"
expect 0 "" "" -- fast                      # the host still forks at once
expect 0 "" "" -- wait_for 10 sh -c 'rctl -u jail:web | grep -qx maxproc=20'
expect 0 "maxproc=20" "" -- usage maxproc
# the refused forks reach the host's .events: the rule, the jail, pids.max's count
refused() { grep -q "refused op=fork errno=EAGAIN msg='rctl: rule \"jail:web:maxproc:deny=20\" refused maxproc in jail web, usage [0-9]*: [0-9]* fork(s) refused by pids.max'" .events; }
expect 0 "" "" -- wait_for 10 refused
find "$PIDS" -name cgroup.procs -exec cat {} + > "$OUT/bomb"
is "the bomb's processes are all in web" "$(wc -l < "$OUT/bomb")" 20
# the daemon watches web's counters and never reads those of a jail no rule names
expect 0 "" "" -- mkdir idle
expect 0 "" "" -- jexec idle sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$0"' "$OUT/idle"
started "$(hostpid "$(cat "$OUT/idle")")"
LOG=$(sed -n 's/.*, log \(.*\))$/\1/p' "$OUT/mount.err")
is "web's counters are watched" "$(grep -c 'limitwatch: jail web: pids.events max' "$LOG")" 1
is "idle's are not" "$(grep -c 'limitwatch: jail idle' "$LOG")" 0
expect 0 "" "" -- rmdir idle
expect 0 "" "" -- rmdir web
expect 0 "" "" -- wait_for 10 all_dead "$OUT/bomb"
expect 0 "" "" -- wait_for 10 test ! -d "$PIDS"
expect 0 "" "" -- fast
expect 0 "" "" -- jailfs sim check
done_testing
