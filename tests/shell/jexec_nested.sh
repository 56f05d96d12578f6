#!/bin/sh
# jexec from inside a jail into a child of that jail (FreeBSD lets a jailed
# root jail_attach to its children): the command runs in the child's
# namespaces (nested in the parent's pid namespace), its status and signals
# pass through.  An attacker's side: a jailed process cannot enter a sibling,
# its own jail, an ancestor or the host, a jailed non-root cannot enter at
# all, and a request cannot name another jail's process.
. "$(dirname "$0")/jls_lib.sh"

MYPIDS=
trap 'for _p in $MYPIDS; do kill -9 "$_p" 2>/dev/null; done; jailfs umount "$MNT"; rm -rf "$TMP"; rmdir "$MNT" 2>/dev/null' EXIT
jail -c name=p path=/ persist children.max=2 host=new host.hostname=phost
jail -c name=p.kid path=/ persist host=new host.hostname=kidhost
jail -c name=sib path=/ persist
KID=$(ctl_ok get p.kid jid | sed 's/jid=//')
P=$(ctl_ok get p jid | sed 's/jid=//')
SIB=$(ctl_ok get sib jid | sed 's/jid=//')

check "the command runs in the child: its hostname, pid 2 of its pid namespace, its status" \
    7 "kidhost 2$NL" "" -- jexec p jexec kid sh -c 'echo "$(hostname) $$"; exit 7'
check "by jid as the parent numbers it" 0 "kidhost$NL" "" -- jexec p jexec "$KID" hostname
check "the child's /proc: its own init and the command only" 0 "2 /proc/1$NL" "" -- \
    jexec p jexec kid sh -c 'set -- /proc/[0-9]*; echo "$# $1"'
check "the child's /dev/jailfs is its own view (the agent bound it)" 0 "$KID$NL" "" -- \
    jexec p jexec kid cat /dev/jailfs/jid
check "the parent's is the parent's" 0 "$P$NL" "" -- jexec p cat /dev/jailfs/jid
check "jailfs in the child's tree: at /dev/jailfs only" 0 "/dev/jailfs$NL" "" -- \
    jexec p jexec kid sh -c 'grep " - fuse.jailfs " /proc/self/mountinfo | cut -d" " -f5'

# a long command: the parent jail sees it (its pid namespace holds the
# child's), .ctl procs lists it in the child, a signal to jexec reaches it
jexec p jexec kid sleep 300 &
JP=$!; MYPIDS="$MYPIDS $JP"
kid_procs() { ctl procs p.kid | sed -n 's/^[0-9]* //p' | sort | tr '\n' ' '; }
_n=100; while [ "$(kid_procs)" != "python sleep " ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
same "the child jail holds the sleep and the entry agent" "$(kid_procs)" "python sleep "
check "the parent jail sees the child's sleep" 0 "1$NL" "" -- \
    jexec p sh -c 'for s in /proc/[0-9]*/comm; do cat "$s"; done | grep -cx sleep'
# the parent's .ctl names the child's processes by the parent's pids (pid
# namespace): what jail(8)'s term_procs signals in there, not the host's
INNER=$(jexec p sh -c 'exec 3<>/dev/jailfs/.ctl; echo "procs kid" >&3; cat <&3' | sed -n 's/^\([0-9]*\) sleep$/\1/p')
check ".ctl procs from inside the parent: the sleep by the parent's pid" 0 "sleep$NL" "" -- \
    jexec p cat "/proc/$INNER/comm"
kill -TERM "$JP"; wait "$JP"; rc=$?
same "SIGTERM to the inner jexec's invoker ends the sleep" "$rc" 143
_n=100; while [ "$(ctl procs p.kid | head -1)" != "ok 0" ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
same "nothing is left in the child" "$(ctl procs p.kid | head -1)" "ok 0"

# attackers: through jexec (jail_getid finds no such jail) ...
check "p cannot enter its sibling" 1 "" "jexec: jail \"sib\" not found$NL" -- jexec p jexec sib true
check "p cannot enter itself by name" 1 "" "jexec: jail \"p\" not found$NL" -- jexec p jexec p true
check "the child cannot enter its parent" 1 "" "jexec: jail \"p\" not found$NL" -- jexec p jexec kid jexec p true
check "p cannot enter the host" 1 "" "jexec: jail_attach(0): Invalid argument$NL" -- jexec p jexec 0 true
# ... and by raw requests, where jexec's lookup is not in the way
RAW='raw() { exec 3<>/dev/jailfs/.ctl; printf "%s\n" "$*" >&3 2>/dev/null; head -1 <&3; exec 3>&-; }'
inside() { _j=$1; shift; jexec "$_j" sh -c "$RAW; raw $*"; }
check "raw: a sibling's jid" 0 "error EINVAL jail_attach: Invalid argument$NL" "" -- inside p "enterchild $SIB \$\$ 0"
check "raw: its own jail" 0 "error EINVAL jail_attach: Invalid argument$NL" "" -- inside p "enterchild $P \$\$ 0"
check "raw: 0 (its own jail)" 0 "error EINVAL jail_attach: Invalid argument$NL" "" -- inside p "enterchild 0 \$\$ 0"
check "raw: the child names its parent's jid" 0 "error EINVAL jail_attach: Invalid argument$NL" "" -- \
    jexec p jexec kid sh -c "$RAW; raw enterchild $P \$\$ 0"
check "raw: a pid that is not a process of the caller's jail" 0 "error ESRCH no process 99999$NL" "" -- \
    inside p "enterchild kid 99999 0"
check "raw: a request descriptor that is not in memory (the mount's own .ctl) is not read" 0 \
    "error ESRCH entry agent: error [Errno 22] Invalid argument$NL" "" -- inside p "enterchild kid \$\$ 3"
check "raw: a jailed non-root" 0 "error EPERM jail_attach: Operation not permitted$NL" "" -- \
    jexec -U nobody p sh -c "$RAW; raw enterchild kid \$\$ 0"
check "raw: from the host" 1 "" "jailfs: the host's keeper enters by itself (enter)$NL" -- \
    jailfs sim enterchild "$KID" $$ 0
same "the child is still empty" "$(ctl procs p.kid | head -1)" "ok 0"
# removing the child kills what runs there: the inner jexec dies of SIGKILL,
# as a keeper inside the removed jail would have
jexec p sh -c 'jexec kid sleep 300; echo "inner $?"' >"$TMP/inner.out" &
JP=$!; MYPIDS="$MYPIDS $JP"
_n=100; while [ "$(kid_procs)" != "python sleep " ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
jail -r p.kid
wait "$JP"
same "jail -r of the child: the inner jexec was killed" "$(cat "$TMP/inner.out")" "inner 137"
for j in p sib; do jail -r "$j"; done
finish
