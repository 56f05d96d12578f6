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
check "the host's own ipcs: not rs's" 0 "Shared Memory:
$HM

" "" -- ipcs -m
is_host=$(/usr/bin/ipcs -m | grep -c '^0x00001092 ')
check "the host's IPC namespace has no new key 4242" 0 "$host_before$NL" "" -- echo "$is_host"
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
