#!/bin/sh
# What FreeBSD's bin/pkill/tests/pgrep-j_test.sh and pkill-j_test.sh assert,
# the way they set it up: `jail -c path=/ ... command=daemon -p PIDFILE
# sleep.txt N` returns once daemon has, and the pidfile a jailed daemon(8)
# wrote holds the pid the host sees (one pid space, as FreeBSD's), so the
# host's `pgrep -j` prints it and the host's `kill $(cat PIDFILE)` reaches the
# command.  Every wait is a bounded poll; a pid read from a file is signalled
# or queued for the final kill only once it is known to be the test's own.
. "$(dirname "$0")/toolbox_lib.sh"

SLEEP=$TMP/sleep.txt
ln -s "$(command -v sleep)" "$SLEEP"

# ours FILE ARGS: true if FILE holds the pid of a live process whose argument
# vector is ARGS (then its pid joins those killed at the end)
ours() {
    _p=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$_p" ] && [ "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)" = "$2 " ] || return 1
    MYPIDS="$MYPIDS $_p"
}
# jailed NAME AMOUNT: pgrep-j_test.sh's jail with a daemon(8)-run sleep
jailed() {
    check "jail -c $1 command=daemon -p: jail(8) returns when daemon has" 0 "" "" \
        -- timeout 60 jail -c path=/ name="$1" ip4.addr=127.0.0.1 command=daemon -p "$TMP/$1.pid" "$SLEEP" "$2"
    wait_for 30 ours "$TMP/$1.pid" "$SLEEP $2" || { echo "FAIL: $1.pid: no pid of '$SLEEP $2'"; FAILS=$((FAILS + 1)); }
}
# hosted NAME AMOUNT: the same on the host (-P too, for the supervisor's pid)
hosted() {
    daemon -p "$TMP/$1.pid" -P "$TMP/$1.sup" "$SLEEP" "$2"
    wait_for 30 ours "$TMP/$1.pid" "$SLEEP $2" || { echo "FAIL: $1.pid: no pid of '$SLEEP $2'"; FAILS=$((FAILS + 1)); }
    wait_for 30 test -s "$TMP/$1.sup"
    _s=$(cat "$TMP/$1.sup")
    case $(tr '\0' ' ' <"/proc/$_s/cmdline" 2>/dev/null) in
        *"daemon -p $TMP/$1.pid -P $TMP/$1.sup $SLEEP $2 ") MYPIDS="$MYPIDS $_s" ;;
        *) echo "FAIL: $1.sup: no pid of its daemon"; FAILS=$((FAILS + 1)) ;;
    esac
}
# (their loop variables are not wait_for's _n)
pidfiles() { for _f in "$@"; do cat "$TMP/$_f.pid"; done | sort -n; }
gone() { for _g in "$@"; do ! test -e "$TMP/$_g.pid" || return 1; done; }

# pgrep -j jid,jid / any / none (pgrep-j_test.sh)
jailed g1 61; jailed g2 61
JIDS=$(jls -j g1 jid),$(jls -j g2 jid)
check "pgrep -j jid,jid: the jailed daemons' pidfiles" 0 "$(pidfiles g1 g2)$NL" "" \
    -- sh -c "pgrep -f -x -j $JIDS '$SLEEP 61' | sort -n"
check "pgrep -j any: the same" 0 "$(pidfiles g1 g2)$NL" "" -- sh -c "pgrep -f -x -j any '$SLEEP 61' | sort -n"
hosted g3 62; jailed g4 62
check "pgrep -j none: the host daemon's pidfile only" 0 "$(pidfiles g3)$NL" "" -- pgrep -f -x -j none "$SLEEP 62"
check "no host process of jail(8)'s is left with the command in its arguments" 0 \
    "$(cat "$TMP/g3.pid" "$TMP/g3.sup" | sort -n)$NL" "" -- sh -c "pgrep -f -j none '$SLEEP 62' | sort -n"

# kill $(cat PIDFILE) on the host reaches the jailed command; its supervisor
# passes nothing more on, removes the pidfile, and the jail goes with it
if [ "$(pgrep -f -x -j g4 "$SLEEP 62")" = "$(cat "$TMP/g4.pid")" ]; then
    check "kill \$(cat g4.pid) from the host" 0 "" "" -- kill "$(cat "$TMP/g4.pid")"
    wait_for 30 gone g4
    same "g4.pid removed by its supervisor" "$(gone g4 && echo removed)" removed
    wait_for 30 sh -c '! jls -j g4'
    same "jail g4 went with its last process" "$(jls -j g4 2>&1 >/dev/null)" 'jls: jail "g4" not found'
else
    echo "FAIL: g4.pid does not hold what pgrep -j g4 prints"; FAILS=$((FAILS + 1))
fi

# pkill -j jid,jid (pkill-j_test.sh case 1): the jailed sleeps end, so their
# supervisors remove the pidfiles; the host's sleep stays
sh -c 'echo $$ > "$0"; exec "$1" 63' "$TMP/k0.pid" "$SLEEP" &
wait_for 30 ours "$TMP/k0.pid" "$SLEEP 63"
jailed k1 63; jailed k2 63
check "pkill -j jid,jid" 0 "" "" -- pkill -f -j "$(jls -j k1 jid),$(jls -j k2 jid)" "$SLEEP"
wait_for 30 gone k1 k2
same "pkill -j jid,jid: both jailed pidfiles removed" "$(gone k1 k2 && echo removed)" removed
same "pkill -j jid,jid: the host's sleep stays" "$(kill -0 "$(cat "$TMP/k0.pid")" && echo alive)" alive

# pkill -j any (case 2): every jailed one, not the host's
jailed k3 64; jailed k4 64
check "pkill -j any" 0 "" "" -- pkill -f -j any "$SLEEP"
wait_for 30 gone k3 k4
same "pkill -j any: both jailed pidfiles removed" "$(gone k3 k4 && echo removed)" removed
same "pkill -j any: the host's sleep stays" "$(kill -0 "$(cat "$TMP/k0.pid")" && echo alive)" alive

# pkill -j none (case 3): the host daemon's command only; jail(8) is not
# there to be matched, it returned when its command (daemon) did
hosted k5 65; jailed k6 65
check "pkill -j none" 0 "" "" -- pkill -f -j none "$SLEEP 65"
wait_for 30 gone k5
same "pkill -j none: the host pidfile removed" "$(gone k5 && echo removed)" removed
same "pkill -j none: the jailed pidfile stays" "$(test -f "$TMP/k6.pid" && echo there)" there
same "pkill -j none: the jailed sleep lives" "$(pgrep -f -x -j k6 "$SLEEP 65")" "$(cat "$TMP/k6.pid")"

# pkill -j name,name (case 4)
jailed k7 66; jailed k8 66
check "pkill -j name,name" 0 "" "" -- pkill -f -j k7,k8 "$SLEEP"
wait_for 30 gone k7 k8
same "pkill -j name,name: both jailed pidfiles removed" "$(gone k7 k8 && echo removed)" removed
finish
