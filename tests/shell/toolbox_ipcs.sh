#!/bin/sh
# ipcs(1)/ipcrm(1) through a live mount: each caller's own view (keys of
# objects made elsewhere read 0, a disabled facility is an empty table), the
# formats of usr.bin/ipcs, ipcrm's messages, and -J JAIL from the host.
. "$(dirname "$0")/toolbox_lib.sh"

HM="T           ID          KEY MODE        OWNER    GROUP   "
jail -c name=web persist sysvmsg=new sysvshm=new
jail -c name=web.db persist sysvmsg=inherit
jail -c name=plain persist
P=$(jailfs sim spawn web); D=$(jailfs sim spawn web.db); H=$(jailfs sim spawn 0)
jailfs sim msgget "$P" 4660 create >/dev/null
jailfs sim msgget "$D" 5 create >/dev/null
jailfs sim shmget "$P" 17 create >/dev/null
jailfs sim shmat "$P" 65536 >/dev/null
jailfs sim msgget "$H" 99 create >/dev/null
R="--rw------- root     root    "

check "the host sees all, other jails' keys as 0" 0 "Message Queues:
$HM
q        65536            0 $R
q        65537            0 $R
q        65538           99 $R

Shared Memory:
$HM
m        65536            0 $R

Semaphores:
$HM

" "" -- ipcs
check "inside web: its own keys, db's as 0" 0 "Message Queues:
$HM
q        65536         4660 $R
q        65537            0 $R

" "" -- jexec web ipcs -q
check "-J web from the host: what web and below made, as web sees it" 0 "Message Queues:
$HM JAIL
q        65536         4660 $R web
q        65537            0 $R web.db

" "" -- ipcs -q -J web
check "-o: attach counts" 0 "Shared Memory:
$HM       NATTCH
m        65536            0 $R            1

" "" -- ipcs -mo
check "a jail without sysv sees empty tables" 0 "Message Queues:
$HM

Shared Memory:
$HM

Semaphores:
$HM

" "" -- jexec plain ipcs
check "-u user" 0 "Semaphores:
$HM

" "" -- ipcs -s -u root
check "-Q totals" 0 "msginfo:
	msgmax:        16384	(max characters in a message)
	msgmni:           40	(# of message queues)
	msgmnb:         2048	(max characters in a message queue)
	msgtql:           40	(max # of messages in system)
	msgssz:            8	(size of a message segment)
	msgseg:         2048	(# of message segments in system)

" "" -- ipcs -Q
check "ipcrm: no such id" 1 "" "ipcrm: msqid(7): : Invalid argument$NL" -- ipcrm -q 7
check "ipcrm: keys are decimal (atol)" 1 "" "ipcrm: can't remove private message queues
ipcrm: msqs(5): : No such file or directory$NL" -- ipcrm -Q 0x5 -Q 5
check "ipcrm: a disabled facility" 1 "" "ipcrm: msqid(1): : Function not implemented$NL" -- jexec plain ipcrm -q 1
check "ipcrm: another jail's id is not web.db's" 1 "" "ipcrm: msqid(65538): : Invalid argument$NL" -- jexec web.db ipcrm -q 65538
check "ipcrm -Q inside web by its own key" 0 "" "" -- jexec web ipcrm -Q 4660
check "-J web: web.db's key as web sees it is 0" 1 "" "ipcrm: msqs(5): : No such file or directory$NL" -- ipcrm -J web -Q 5
check "-J web -W removes what web and below made" 0 "" "" -- ipcrm -J web -W
check "the host's own queue stays; the attached segment waits for its detach" 0 "q        65538           99 $R
m        65536            0 $R$NL" "" -- sh -c 'ipcs | grep "^[qm] "'
check "ipcs -u 010: strtoul base 0, uid 8 (mail) owns nothing" 0 "Message Queues:
$HM

" "" -- ipcs -q -u 010
check "ipcs -u nobody-such" 1 "" "ipcs: getpwnam failed: No such user$NL" -- ipcs -u nobody-such
check "usage" 1 "" "unknown argument: x
usage: ipcrm [-W] [-v[v]] [-y] [-q msqid] [-m shmid] [-s semid]
             [-Q msgkey] [-M shmkey] [-S semkey] ... [-J jail]$NL" -- ipcrm x
for j in web.db web plain; do jail -r "$j" >/dev/null; done
finish
