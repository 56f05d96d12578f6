#!/bin/sh
# Issue 9, the .ctl escapes, tried as an attacker would through a live mount:
#  3. `kill PID` / `exit PID` on the stand-in of a real process must not leave
#     the real one running outside its jail: kill reaches the real process,
#     exit is refused;
#  4. a non-root user cannot move root's process between jails (jail_attach
#     checks the caller's credential);
#  the clock: a jailed root cannot move the simulated clock for everybody;
#  9. a request with extra words is refused and changes nothing; jailfs sim
#     into a closed pipe says nothing.
. "$(dirname "$0")/jls_lib.sh"

MYPIDS=
trap 'for _p in $MYPIDS; do kill -9 "$_p" 2>/dev/null; done; jailfs umount "$MNT"; rm -rf "$TMP"; rmdir "$MNT" 2>/dev/null' EXIT
# stand_in JAILDIR REALPID: the simulated process standing for REALPID
stand_in() { sed -n "s/^process \([0-9]*\) (running, real pid $2).*/\1/p" "$1/.refs"; }
# alive PID: running (not a zombie)
alive() { _s=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null); [ -n "$_s" ] && [ "$_s" != Z ]; }
wait_dead() { _n=200; while alive "$1"; do _n=$((_n - 1)); [ $_n -gt 0 ] || return 1; sleep 0.05; done; }

ctl_ok create name=web persist children.max=1 allow.settime >/dev/null
ctl_ok create name=web.db persist >/dev/null

# --- 3: exit of a stand-in is refused; kill SIGKILLs the real process
sleep 300 & SP=$!; MYPIDS="$MYPIDS $SP"
ctl_ok attach web "$SP"
S=$(stand_in "$MNT/web" "$SP")
check "exit of a stand-in is refused" 1 "" "jailfs: process $S is real process $SP: it exits when that process does$NL" -- jailfs sim exit "$S"
same "the real process still runs in web" "$(alive "$SP" && stand_in "$MNT/web" "$SP")" "$S"
check "kill of a stand-in" 0 "" "" -- jailfs sim kill "$S"
wait_dead "$SP"; same "the real process is dead" "$?" 0
wait "$SP"; same "it died of SIGKILL" "$?" 137

# --- 4: uid 65534 tries to move root's process into web.db
sleep 300 & RP=$!; MYPIDS="$MYPIDS $RP"
ctl_ok attach web "$RP"
attempt=$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
    "exec 3<>'$MNT/.ctl'; printf 'attach web.db $RP\n' >&3 2>/dev/null; cat <&3")
same "nobody's attach of root's process" "$attempt" "error EPERM jail_attach: Operation not permitted"
[ -n "$(stand_in "$MNT/web" "$RP")" ]; same "it stays in web" "$?" 0
same "not in web.db" "$(stand_in "$MNT/web/db" "$RP")" ""
rmdir "$MNT/web/db" 2>/dev/null
alive "$RP"; same "root's process survives nobody's rmdir attempt" "$?" 0

# --- the clock: a jailed root runs jailfs sim advance
before=$(jailfs sim clock)
check "jailed advance is refused" 1 "" "jailfs: the simulated clock belongs to the host$NL" -- jexec web jailfs sim advance 100000
same "the clock did not move" "$(jailfs sim clock)" "$before"
check "advance 1e308 is refused" 1 "" "jailfs: cannot advance the clock by more than 1000000000 s$NL" -- jailfs sim advance 1e308
same "the clock still did not move" "$(jailfs sim clock)" "$before"

# --- 9: extra words
check "remove with an extra word" 1 "" "jailfs: usage: remove JAIL$NL" -- jailfs sim remove web web.db
same "web still there" "$(jls -j web name)" "web"

# --- 9: a reader that goes away early (| head -1) gets no traceback
i=0; while [ $i -lt 300 ]; do mkdir "$MNT/many$i"; i=$((i + 1)); done
jailfs sim list -p 2>"$TMP/pipe.err" | head -n 1 >/dev/null
same "sim | head -1: nothing on stderr" "$(cat "$TMP/pipe.err")" ""

finish
