#!/bin/sh
# jexec and jail(8) run a command below a keeper attached to the jail: what
# the command leaves running stays in the jail (it sees the jail's view of the
# mount) and keeps the jail alive, as on FreeBSD, while jexec returns at once.
# The jail has its own pid namespace: a pid the command prints is the jail's
# (host_pid finds the host's through .refs), and what it leaves behind is
# adopted by the jail's anchor, pid 1 there, so the keeper ends with the command.
. "$(dirname "$0")/lib/alive.subr"

# freed JAIL: gone, nothing dying, and .events says it was freed
freed() { [ ! -e "$MNT/$1" ] && [ -z "$(ls "$MNT/.dying")" ] && grep -q "freed jid=[0-9]* name=$1\$" "$MNT/.events"; }
no_keeper() { ! grep -q "real pid" "$MNT/$1/.refs"; }
# only JAIL PID: PID is the jail's one real process
only() { [ "$(real_pids "$MNT/$1")" = "$2" ]; }
# keeper_gone JAIL: the jail has real processes, and none is in the host's
# pid namespace (one NSpid field), where jexec's keeper stays
keeper_gone() {
    _pids=$(real_pids "$MNT/$1") && [ -n "$_pids" ] || return 1
    for _p in $_pids; do
        ! grep -q '^NSpid:[[:space:]]*[0-9]*$' "/proc/$_p/status" 2>/dev/null || return 1
    done
}

# --- jexec returns at once; what it left in the background stays in the jail
expect 0 "" "" -- mkdir a
# in the background: wait for the parent shell to be gone, then list the mount's root
BG='p=$$; (n=200; while kill -0 $p 2>/dev/null && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done
ls "$0" > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 300) >/dev/null 2>&1 & echo $!'
NS=$(timeout 10 jexec a sh -c "$BG" "$MNT" "$OUT/seen"); is "jexec returns at once" "$?" 0
expect 0 "" "" -- wait_for 10 host_pid a "$NS"
SP=$(host_pid a "$NS"); started "$SP"
expect 0 "" "" -- sh -c 'echo 0 > a/persist'
expect 0 "" "" -- wait_for 10 test -s "$OUT/seen"
is "after its parent ended, it still sees the jail's view" "$(cat "$OUT/seen")" "$(ls a)"
expect 0 "" "" -- anchored "$SP"                    # adopted by the jail's anchor, not by init
expect 0 "S" "" -- state "$SP"
expect 0 "" "" -- wait_for 10 only a "$SP"         # the keeper went with the command
expect 0 "false" "" -- cat a/dying                  # persist off: what was left behind holds it
expect 0 "" "" -- grep -qx "process [0-9]* (running, real pid $SP): uref 1" a/.refs
expect 0 "total pr_ref=1 pr_uref=1" "" -- total a  # every real process in it holds it
expect 0 "" "" -- rmdir a                           # kills what was left behind
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 freed a

# --- when what was left behind ends by itself, the jail (persist off) goes
expect 0 "" "" -- mkdir b
FG='(n=200; while [ ! -e "$0" ] && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.05; done) >/dev/null 2>&1 & echo $!'
NS=$(timeout 10 jexec b sh -c "$FG" "$OUT/go"); is "jexec returns at once (b)" "$?" 0
expect 0 "" "" -- wait_for 10 host_pid b "$NS"
SP=$(host_pid b "$NS"); started "$SP"
expect 0 "" "" -- sh -c 'echo 0 > b/persist'
expect 0 "" "" -- anchored "$SP"
expect 0 "" "" -- wait_for 10 keeper_gone b       # the loop's sleeps come and go
expect 0 "false" "" -- cat b/dying
expect 0 "" "" -- touch "$OUT/go"
expect 0 "" "" -- wait_for 10 dead "$SP"
expect 0 "" "" -- wait_for 10 freed b

# --- nothing left behind: the keeper goes with the command
expect 0 "" "" -- mkdir c
expect 0 "hi" "" -- jexec c echo hi
expect 0 "" "" -- wait_for 10 no_keeper c
expect 130 "" "" -- jexec c sh -c 'kill -INT $$'      # jexec dies of the command's signal

# --- the command gets the environment jexec was given (no LC_CTYPE from Python),
# but for JAILFS_MOUNT, which names the jail's view of the mount inside it
NOLOC="env -u LANG -u LC_ALL -u LC_CTYPE"
OURS="grep -v ^JAILFS_MOUNT="
is "no locale" "$($NOLOC jexec c env | $OURS | sort)" "$($NOLOC env | $OURS | sort)"
is "LC_CTYPE=C" "$($NOLOC LC_CTYPE=C jexec c env | $OURS | sort)" "$($NOLOC LC_CTYPE=C env | $OURS | sort)"
expect 0 "/dev/jailfs" "" -- jexec c printenv JAILFS_MOUNT

# --- jail(8): a jail without persist lives as long as what its command left
NS=$(timeout 10 jail -c name=d path=/ command=/bin/sh -c 'sleep 300 >/dev/null 2>&1 & echo $!')
is "jail -c returns at once" "$?" 0
expect 0 "" "" -- wait_for 10 host_pid d "$NS"
SP=$(host_pid d "$NS"); started "$SP"
expect 0 "false" "" -- cat d/persist
expect 0 "false" "" -- cat d/dying
expect 0 "" "" -- anchored "$SP"
expect 0 "" "" -- kill "$SP"
expect 0 "" "" -- wait_for 10 freed d
expect 0 "" "" -- jailfs sim check
done_testing
