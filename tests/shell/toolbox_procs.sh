#!/bin/sh
# pgrep/pkill -j and ps -J/-o jid for real processes in jails (what FreeBSD's
# pgrep-j_test.sh and pkill-j_test.sh assert), with pkill.c's exit statuses.
. "$(dirname "$0")/toolbox_lib.sh"

SLEEP=$TMP/sleep.txt
ln -s "$(command -v sleep)" "$SLEEP"
jail -c name=a persist
jail -c name=b persist
JA=$(jls -j a jid); JB=$(jls -j b jid)
# started NAME JAIL|host: a sleep in the jail (or on the host), its host pid in
# $TMP/NAME (and for a jail, the pid it has there in $TMP/NAME.ns)
started() {
    if [ "$2" = host ]; then
        sh -c 'echo $$ > "$0"; exec "$1" 60' "$TMP/$1" "$SLEEP" & MYPIDS="$MYPIDS $!"
        wait_for 10 test -s "$TMP/$1"
    else
        jexec "$2" sh -c 'echo $$ > "$0"; exec "$1" 60' "$TMP/$1.ns" "$SLEEP" & MYPIDS="$MYPIDS $!"
        wait_for 10 test -s "$TMP/$1.ns"
        hostpid "$(jls -j "$2" jid)" "$(cat "$TMP/$1.ns")" > "$TMP/$1"
    fi
    MYPIDS="$MYPIDS $(cat "$TMP/$1")"
}
pids() { for _n in "$@"; do cat "$TMP/$_n"; done | sort -n; }
started pa a; started pb b; started ph host
gone() { ! kill -0 "$(cat "$TMP/$1")" 2>/dev/null; }
alive() { kill -0 "$(cat "$TMP/$1")" 2>/dev/null; }

check "pgrep -j jid,jid" 0 "$(pids pa pb)$NL" "" -- sh -c "pgrep -f -x -j $JA,$JB '$SLEEP 60' | sort -n"
check "pgrep -j names" 0 "$(pids pa pb)$NL" "" -- sh -c "pgrep -f -x -j a,b '$SLEEP 60' | sort -n"
check "pgrep -j any" 0 "$(pids pa pb)$NL" "" -- sh -c "pgrep -f -x -j any '$SLEEP 60' | sort -n"
check "pgrep -j 0 is any (old -j)" 0 "$(pids pa pb)$NL" "" -- sh -c "pgrep -f -x -j 0 '$SLEEP 60' | sort -n"
check "pgrep -j none" 0 "$(pids ph)$NL" "" -- pgrep -f -x -j none "$SLEEP 60"
check "-l" 0 "$(pids pa) sleep.txt$NL" "" -- pgrep -l -j a sleep.txt
check "-l -f" 0 "$(pids pa) $SLEEP 60$NL" "" -- pgrep -lf -j a "^$SLEEP"
check "-d" 0 "$(pids pa pb | tr '\n' ,)" "" -- sh -c "pgrep -d, -j any sleep.txt"
check "no match" 1 "" "" -- pgrep -j a no-such-command
check "bad jail" 2 "" "pgrep: Invalid jail ID or name \`nope'$NL" -- pgrep -j nope x
check "negative jail" 2 "" "pgrep: Negative jail ID \`-3'$NL" -- pgrep -j -3 x
check "usage" 2 "" "usage: pgrep [-LSfilnoqvx] [-d delim] [-F pidfile] [-G gid] [-M core] [-N system]
             [-P ppid] [-U uid] [-c class] [-g pgrp] [-j jail]
             [-s sid] [-t tty] [-u euid] pattern ...$NL" -- pgrep
check "a bad pattern: regerror(3)'s words" 2 "" "pgrep: Cannot compile regular expression \`(' (parentheses not balanced)$NL" -- pgrep "("
check "-u: strtol base 0 (010 is uid 8), then no match" 1 "" "" -- pgrep -u 010 -j a sleep.txt
check "-n and -o" 3 "" "pgrep: Options -n and -o are mutually exclusive$NL" -- pgrep -n -o x
check "inside a jail: only its own, by the jail's pids" 0 "$(cat "$TMP/pa.ns")$NL" "" -- jexec a pgrep -f -x "$SLEEP 60"
check "inside a jail: no host processes" 1 "" "" -- jexec a pgrep -j none sleep.txt

# ps -J and -o jid
check "ps -J a -o jid,comm" 0 "JID COMMAND$NL$(printf '%3d' "$JA") sleep.txt$NL" "" \
    -- sh -c "ps -J a -o jid,comm | grep -e JID -e sleep.txt"
check "ps -o pid=,jid=" 0 "$(pids pb) $JB$NL" "" -- sh -c "ps -J b -o pid=,jid=,comm= | awk '\$3 == \"sleep.txt\" {print \$1, \$2}'"
check "ps -U: no such user (ps.c addelem_uid)" 1 "" "ps: No user named 'nosuchuser'$NL" -- ps -U nosuchuser
check "ps -U: a uid no user has" 1 "" "ps: No user name or ID matches '54321'$NL" -- ps -U 54321
check "ps -p: above pid_max" 1 "" "ps: process id too large: 99999999999$NL" -- ps -p 99999999999
check "ps -p: not a number" 1 "" "ps: Invalid process id: abc$NL" -- ps -p abc
check "ps STAT marks a jailed process" 0 "J$NL" "" -- sh -c "ps -p $(pids pa) -o state= | tr -dc J; echo"
check "ps -J nope" 1 "" "ps: Invalid jail id: nope$NL" -- ps -J nope
check "ps in a jail: the jail's pids, PID as wide as pid_max" 0 "  PID JID COMMAND
$(printf '%5d %3d' "$(cat "$TMP/pa.ns")" "$JA") $SLEEP 60$NL" "" -- jexec a ps -p "$(cat "$TMP/pa.ns")" -o pid,jid,command

# pkill -j (pkill-j_test.sh): only the jail's, then any, then none
check "pkill -j jid" 0 "" "" -- pkill -f -j "$JA" "$SLEEP"
wait_for 10 gone pa
same "a's sleep went" "$(gone pa && echo gone)" gone
same "b's stayed" "$(alive pb && echo alive)" alive
same "the host's stayed" "$(alive ph && echo alive)" alive
started pa2 a
check "pkill -j any -l" 0 "$(pids pa2 pb | sed 's/^/kill -15 /')$NL" "" -- sh -c "pkill -l -f -j any '$SLEEP 60' | sort -k3n"
wait_for 10 gone pb
same "every jailed sleep went" "$(gone pa2 && gone pb && echo gone)" gone
same "the host's still there" "$(alive ph && echo alive)" alive
started pa3 a
check "pkill -KILL -j none" 0 "" "" -- pkill -KILL -f -j none "$SLEEP 60"
wait_for 10 gone ph
same "the host's went" "$(gone ph && echo gone)" gone
same "the jail's stayed" "$(alive pa3 && echo alive)" alive
check "pkill: nothing left to match" 1 "" "" -- pkill -j b sleep.txt
check "pkill -l: nothing" 1 "" "No matching processes belonging to you were found$NL" -- pkill -l -j b sleep.txt

# daemon(8) -p, as pgrep-j_test.sh starts its sleeps: jail(8) returns, the
# non-persistent jail lives on with the daemon, pgrep -j finds the command
check "jail -c command=daemon -p returns at once" 0 "" "" -- timeout 10 jail -c path=/ name=d command=daemon -p "$TMP/d.pid" "$SLEEP" 60
wait_for 10 test -s "$TMP/d.pid"
DP=$(cat "$TMP/d.pid")
check "the pidfile holds the command's host pid (one pid space, as FreeBSD's)" 0 "$DP$NL" "" -- pgrep -f -x -j d "$SLEEP 60"
# signalled from the host only once pgrep has vouched for the pid
if [ "$(pgrep -f -x -j d "$SLEEP 60")" = "$DP" ]; then
    MYPIDS="$MYPIDS $DP"
    check "kill from the host: the supervisor passes SIGTERM on" 0 "" "" -- kill "$DP"
fi
wait_for 10 sh -c '! test -e "$0"' "$TMP/d.pid"
same "pidfile removed" "$(test -e "$TMP/d.pid" || echo removed)" removed
wait_for 10 sh -c '! jls -j d'
same "the jail went with its last process" "$(jls -j d 2>&1 >/dev/null)" 'jls: jail "d" not found'
jail -r a >/dev/null; jail -r b >/dev/null
finish
