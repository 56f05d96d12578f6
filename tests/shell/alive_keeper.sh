#!/bin/sh
# jexec and jail(8) run a command below a keeper attached to the jail: what
# the command leaves running stays in the jail (it sees the jail's view of the
# mount) and keeps the jail alive, as on FreeBSD, while jexec returns at once.
. "$(dirname "$0")/lib/alive.subr"

# state PID: the process's state letter (Z for a zombie), empty when gone
state() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null; }
dead() { _s=$(state "$1"); [ -z "$_s" ] || [ "$_s" = Z ]; }
# ppid PID: its parent's pid
ppid() { sed 's/.*) . \([0-9]*\).*/\1/' "/proc/$1/stat"; }
# keeper JAILDIR: the real pid attached to the jail
keeper() { sed -n 's/^process [0-9]* (running, real pid \([0-9]*\)).*/\1/p' "$1/.refs" | head -n 1; }
# freed JAIL: gone, nothing dying, and .events says it was freed
freed() { [ ! -e "$MNT/$1" ] && [ -z "$(ls "$MNT/.dying")" ] && grep -q "freed jid=[0-9]* name=$1\$" "$MNT/.events"; }
no_keeper() { ! grep -q "real pid" "$MNT/$1/.refs"; }

# --- jexec returns at once; what it left in the background stays in the jail
expect 0 "" "" -- mkdir a
# in the background: wait for the parent shell to be gone, then list the mount's root
BG='p=$$; (n=200; while kill -0 $p 2>/dev/null && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done
ls "$0" > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300) >/dev/null 2>&1 & echo $!'
SP=$(timeout 10 jexec a sh -c "$BG" "$MNT" "$OUT/seen"); is "jexec returns at once" "$?" 0
started "$SP"
expect 0 "" "" -- sh -c 'echo 0 > a/persist'
expect 0 "" "" -- wait_for 10 test -s "$OUT/seen"
is "after its parent ended, it still sees the jail's view" "$(cat "$OUT/seen")" "$(ls a)"
KP=$(keeper a)
expect 0 "$KP" "" -- ppid "$SP"                     # adopted by the keeper, not by init
expect 0 "S" "" -- state "$SP"
expect 0 "false" "" -- cat a/dying                  # persist off: the keeper holds it
expect 0 "" "" -- grep -qx "process [0-9]* (running, real pid $KP): uref 1" a/.refs
expect 0 "" "" -- grep -qx "process [0-9]* (running, real pid $SP): uref 1" a/.refs
expect 0 "total pr_ref=2 pr_uref=2" "" -- total a  # every real process in it holds it
expect 0 "" "" -- rmdir a                           # kills the keeper and what it keeps
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 dead "$KP"
expect 0 "" "" -- wait_for 10 freed a

# --- when what was left behind ends by itself, the jail (persist off) goes
expect 0 "" "" -- mkdir b
FG='(n=200; while [ ! -e "$0" ] && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done) >/dev/null 2>&1 & echo $!'
SP=$(timeout 10 jexec b sh -c "$FG" "$OUT/go"); is "jexec returns at once (b)" "$?" 0
started "$SP"
expect 0 "" "" -- sh -c 'echo 0 > b/persist'
KP=$(keeper b)
expect 0 "$KP" "" -- ppid "$SP"
expect 0 "false" "" -- cat b/dying
expect 0 "" "" -- touch "$OUT/go"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 freed b
expect 0 "" "" -- wait_for 10 dead "$KP"

# --- nothing left behind: the keeper goes with the command
expect 0 "" "" -- mkdir c
expect 0 "hi" "" -- jexec c echo hi
expect 0 "" "" -- wait_for 10 no_keeper c
expect 130 "" "" -- jexec c sh -c 'kill -INT $$'      # jexec dies of the command's signal

# --- the command gets the environment jexec was given (no LC_CTYPE from Python)
NOLOC="env -u LANG -u LC_ALL -u LC_CTYPE"
is "no locale" "$($NOLOC jexec c env | sort)" "$($NOLOC env | sort)"
is "LC_CTYPE=C" "$($NOLOC LC_CTYPE=C jexec c env | sort)" "$($NOLOC LC_CTYPE=C env | sort)"

# --- jail(8): a jail without persist lives as long as what its command left
SP=$(timeout 10 jail -c name=d path=/ command=/bin/sh -c 'sleep 300 >/dev/null 2>&1 & echo $!')
is "jail -c returns at once" "$?" 0
started "$SP"
expect 0 "false" "" -- cat d/persist
expect 0 "false" "" -- cat d/dying
expect 0 "$(keeper d)" "" -- ppid "$SP"
expect 0 "" "" -- kill "$SP"
expect 0 "" "" -- wait_for 10 freed d
expect 0 "" "" -- jailfs sim check
done_testing
