#!/bin/sh
# jexec and jail(8) run a command below a keeper attached to the jail: what
# the command leaves running stays in the jail (it sees the jail's view of the
# mount) and keeps the jail alive, as on FreeBSD, while jexec returns at once.
# Whoever adopts it (the keeper, or the jail's anchor where jails confine), it
# is in the jail's cgroup: listed in .refs, each real process one uref.
. "$(dirname "$0")/lib/alive.subr"
. "$ROOT/tests/shell/lib/jailed.subr"     # state, dead, hostpid

# inside JAILDIR PID: PID is one of the jail's real processes
inside() { grep -qx "process [0-9]* (running, real pid $2): uref 1" "$MNT/$1/.refs"; }
# urefs JAILDIR: pr_uref is the number of the jail's processes (persist off)
urefs() { [ "$(grep -c '^process ' "$MNT/$1/.refs")" = "$(total "$MNT/$1" | sed 's/.*pr_uref=//')" ]; }
# freed JAIL: gone, nothing dying, and .events says it was freed
freed() { [ ! -e "$MNT/$1" ] && [ -z "$(ls "$MNT/.dying")" ] && grep -q "freed jid=[0-9]* name=$1\$" "$MNT/.events"; }
no_keeper() { ! grep -q "real pid" "$MNT/$1/.refs"; }

# --- jexec returns at once; what it left in the background stays in the jail
expect 0 "" "" -- mkdir a
# in the background: wait for the parent shell to be gone, then list the mount (its
# root: the jail's view at /dev/jailfs)
BG='p=$$; (n=200; while kill -0 $p 2>/dev/null && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done
ls "$0" > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300) >/dev/null 2>&1 & echo $!'
SP=$(timeout 10 jexec a sh -c "$BG" /dev/jailfs "$OUT/seen"); is "jexec returns at once" "$?" 0
SP=$(hostpid "$SP"); started "$SP"
expect 0 "" "" -- sh -c 'echo 0 > a/persist'
expect 0 "" "" -- wait_for 10 test -s "$OUT/seen"
is "after its parent ended, it still sees the jail's view" "$(cat "$OUT/seen")" "$(ls a)"
expect 0 "S" "" -- state "$SP"
expect 0 "false" "" -- cat a/dying                  # persist off: its processes hold it
expect 0 "" "" -- inside a "$SP"
expect 0 "" "" -- urefs a                           # every real process in it holds it
expect 0 "" "" -- rmdir a                           # kills everything in it
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 freed a

# --- when what was left behind ends by itself, the jail (persist off) goes
expect 0 "" "" -- mkdir b
FG='(n=200; while [ ! -e "$0" ] && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done) >/dev/null 2>&1 & echo $!'
SP=$(timeout 10 jexec b sh -c "$FG" "$OUT/go"); is "jexec returns at once (b)" "$?" 0
SP=$(hostpid "$SP"); started "$SP"
expect 0 "" "" -- sh -c 'echo 0 > b/persist'
expect 0 "" "" -- inside b "$SP"
expect 0 "false" "" -- cat b/dying
expect 0 "" "" -- touch "$OUT/go"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 freed b

# --- nothing left behind: the keeper goes with the command
expect 0 "" "" -- mkdir c
expect 0 "hi" "" -- jexec c echo hi
expect 0 "" "" -- wait_for 10 no_keeper c
expect 130 "" "" -- jexec c sh -c 'kill -INT $$'      # jexec dies of the command's signal

# --- the command gets the environment jexec was given (no LC_CTYPE from Python;
# JAILFS_MOUNT is where the jail's view is inside the jail; PATH has the toolbox first)
NOLOC="env -u LANG -u LC_ALL -u LC_CTYPE"
envof() { "$@" | grep -v -e '^JAILFS_MOUNT=' -e '^PATH=' | sort; }
is "no locale" "$(envof $NOLOC jexec c env)" "$(envof $NOLOC env)"
is "LC_CTYPE=C" "$(envof $NOLOC LC_CTYPE=C jexec c env)" "$(envof $NOLOC LC_CTYPE=C env)"

# --- jail(8): a jail without persist lives as long as what its command left
SP=$(timeout 10 jail -c name=d path=/ command=/bin/sh -c 'sleep 300 >/dev/null 2>&1 & echo $!')
is "jail -c returns at once" "$?" 0
SP=$(hostpid "$SP"); started "$SP"
expect 0 "false" "" -- cat d/persist
expect 0 "false" "" -- cat d/dying
expect 0 "" "" -- inside d "$SP"
expect 0 "" "" -- kill "$SP"
expect 0 "" "" -- wait_for 10 freed d
expect 0 "" "" -- jailfs sim check
done_testing
