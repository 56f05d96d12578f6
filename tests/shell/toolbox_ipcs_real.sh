#!/bin/sh
# ipcs(1)/ipcrm(1) on the real SysV objects of a jail with its own IPC
# namespace (sysvshm=new): the daemon reads and removes them inside that
# namespace, never the host's. The segment is made inside the jail by the
# test's Python (path=/: the host's tree); freeing the jail ends its
# namespace, and with it anything left.
. "$(dirname "$0")/toolbox_lib.sh"

PY=$(cd "$(dirname "$0")/../.." 2>/dev/null; pwd)/.venv/bin/python
[ -x "$PY" ] || PY=$(command -v python3)
HM="T           ID          KEY MODE        OWNER    GROUP   "
R="--rw------- root     root    "
jail -c name=rs path=/ persist sysvshm=new
jail -c name=other path=/ persist sysvshm=new
host_before=$(/usr/bin/ipcs -m | grep -c '^0x00001092 ')
ID=$(jexec rs "$PY" -c 'import ctypes; print(ctypes.CDLL(None).shmget(4242, 4096, 0o1600))')
case $ID in ''|-*|*[!0-9]*) echo "FAIL: shmget in rs: [$ID]"; FAILS=$((FAILS + 1)); ID=0;; esac
IDW=$(printf '%12d' "$ID")

check "-J rs from the host: rs's real segment, with its jail" 0 "Shared Memory:
$HM JAIL
m $IDW         4242 $R rs

" "" -- ipcs -m -J rs
check "-b: its real size" 0 "Shared Memory:
$HM        SEGSZ JAIL
m $IDW         4242 $R         4096 rs

" "" -- ipcs -mb -J rs
check "inside rs: its namespace's segment" 0 "Shared Memory:
$HM
m $IDW         4242 $R

" "" -- jexec rs ipcs -m
check "inside other: not rs's" 0 "Shared Memory:
$HM

" "" -- jexec other ipcs -m
check "-J other: not rs's" 0 "Shared Memory:
$HM JAIL

" "" -- ipcs -m -J other
check "the host's plain ipcs: every jail's real objects, keys as 0, each with its jail" 0 "Shared Memory:
$HM JAIL
m $IDW            0 $R rs

" "" -- ipcs -m
is_host=$(/usr/bin/ipcs -m | grep -c '^0x00001092 ')
check "the host's IPC namespace has no new key 4242" 0 "$host_before$NL" "" -- echo "$is_host"

# Ids repeat across IPC namespaces: rs.in (below rs) and other get their own
# first segment, and a creator that stays alive, for the pids (ipcs -p).
jail -c name=rs.in path=/ persist sysvshm=new
HOLD='import ctypes, os, sys, time; i = ctypes.CDLL(None).shmget(int(sys.argv[1]), 4096, 0o1600); print(i, os.getpid(), flush=True); time.sleep(120)'
jexec rs.in "$PY" -c "$HOLD" 4444 >"$TMP/in.out" &
MYPIDS="$MYPIDS $!"
wait_for 30 test -s "$TMP/in.out"
jexec other "$PY" -c "$HOLD" 4343 >"$TMP/other.out" &
MYPIDS="$MYPIDS $!"
wait_for 30 test -s "$TMP/other.out"
read -r IN_ID IN_PID <"$TMP/in.out"; read -r OT_ID OT_PID <"$TMP/other.out"
IN_HOST=$(hostpid "$(jls -j rs.in jid)" "$IN_PID"); OT_HOST=$(hostpid "$(jls -j other jid)" "$OT_PID")
MYPIDS="$MYPIDS $IN_HOST $OT_HOST"
same "the ids collide (fresh namespaces)" "$IN_ID $OT_ID" "$ID $ID"
# (jid order; rs's creator has ended: its pid, a host one, is not known here)
check "the host's ipcs -p: host pids, each row's jail" 0 "$HM         CPID         LPID JAIL
m $IDW            0 $R $(printf '%12d' "$OT_HOST")            0 other
m $IDW            0 $R $(printf '%12d' "$IN_HOST")            0 rs.in
" "" -- sh -c "ipcs -mp | grep -v -e ' rs\$' -e '^\$' -e '^Shared'"
check "inside rs: its own (key) and rs.in's (key 0, pid as rs numbers it), not other's" 0 "Shared Memory:
$HM         CPID         LPID JAIL
m $IDW         4242 $R            0            0 0
m $IDW            0 $R $(printf '%12d' "$(awk '/^NSpid:/ {print $3}' "/proc/$IN_HOST/status")")            0 in

" "" -- sh -c 'jexec rs ipcs -mp'
check "inside rs.in: its own, its creator's pid as rs.in numbers it" 0 "Shared Memory:
$HM         CPID         LPID
m $IDW         4444 $R $(printf '%12d' "$IN_PID")            0

" "" -- jexec rs.in ipcs -mp
check "ipcrm -m ID from the host: in three jails, refused" 1 "" "ipcrm: shmid($ID): : Invalid argument$NL" -- ipcrm -m "$ID"
same "nothing removed" "$(ipcs -m | grep -c "^m $IDW ")" 3
check "ipcrm -J other -m ID: other's" 0 "" "" -- ipcrm -J other -m "$ID"
check "inside rs, ipcrm -m ID: its own namespace's wins" 0 "" "" -- jexec rs ipcrm -m "$ID"
check "rs.in's is left, the only one now" 0 "Shared Memory:
$HM JAIL
m $IDW            0 $R rs.in

" "" -- ipcs -m
check "ipcrm -m ID from the host: now unambiguous" 0 "" "" -- ipcrm -m "$ID"
jail -r rs.in >/dev/null
jail -r other >/dev/null
jail -c name=other path=/ persist sysvshm=new
ID=$(jexec rs "$PY" -c 'import ctypes; print(ctypes.CDLL(None).shmget(4242, 4096, 0o1600))')
check "ipcrm -J other -m ID: not other's" 1 "" "ipcrm: shmid($ID): : Invalid argument$NL" -- ipcrm -J other -m "$ID"
# (nobody cannot exec the toolbox from this worktree: it asks .ctl itself)
check "attacker: nobody in rs cannot remove root's segment" 0 "" "" -- sh -c "jexec -U nobody rs sh -c 'exec 3<>\$JAILFS_MOUNT/.ctl; echo sysvrm shm $ID 2>/dev/null >&3; cat <&3' >$TMP/rm.out; grep -q EPERM $TMP/rm.out"
check "still there" 0 "1$NL" "" -- sh -c "jexec rs /usr/bin/ipcs -m | grep -c '^0x00001092 '; true"
check "ipcrm -J rs -m ID removes it inside rs" 0 "" "" -- ipcrm -J rs -m "$ID"
check "gone from rs's namespace" 0 "0$NL" "" -- sh -c "jexec rs /usr/bin/ipcs -m | grep -c '^0x00001092 '; true"
check "-J rs: empty" 0 "Shared Memory:
$HM JAIL

" "" -- ipcs -m -J rs
check "ipcrm again: no such id" 1 "" "ipcrm: shmid($ID): : Invalid argument$NL" -- ipcrm -J rs -m "$ID"
for j in rs other; do jail -r "$j" >/dev/null; done
finish
