#!/bin/sh
# rctl(8) through a live mount: several rules at once, j:/u: prefixes and user
# names resolved as rctl.c does, newest first, -h, -n, -u, -r, -l, and
# FreeBSD's messages and exit statuses (the number of failed arguments).
. "$(dirname "$0")/toolbox_lib.sh"

jail -c name=web persist
check "several rules, prefixes, suffixes" 0 "" "" -- rctl -a jail:web:maxproc:deny=10 j:web:memoryuse:deny=64m u:root:openfiles:log=100
check "listing: processes, users, jails; newest first" 0 "user:root:openfiles:log=100
jail:web:memoryuse:deny=67108864
jail:web:maxproc:deny=10$NL" "" -- rctl
check "-n keeps ids" 0 "user:0:openfiles:log=100$NL" "" -- rctl -n user:
check "-h humanizes amounts" 0 "jail:web:memoryuse:deny=64M
jail:web:maxproc:deny=10$NL" "" -- rctl -h jail:web
check "a deny rule replaces its amount" 0 "jail:web:maxproc:deny=20$NL" "" -- sh -c 'rctl -a j:web:maxproc:deny=20 && rctl j:web:maxproc'
check "-u" 0 "maxproc=0$NL" "" -- sh -c 'rctl -u jail:web | grep ^maxproc='
check "failures are counted" 2 "" "rctl: malformed rule 'u:nosuchuser-x:maxproc:deny=1': uknown user 'nosuchuser-x'
rctl: malformed rule 'j:web:memoryuse:deny=12x': invalid numeric value '12x'$NL" \
    -- rctl -a u:nosuchuser-x:maxproc:deny=1 j:web:memoryuse:deny=12x
check "missing subject" 1 "" "rctl: malformed rule 'web': missing subject$NL" -- rctl -a web
check "kernel refusals" 1 "" "rctl: failed to add rule 'jail:web:cputime:deny=1': Operation not supported$NL" \
    -- rctl -a jail:web:cputime:deny=1
check "-r" 0 "" "" -- rctl -r j:web:memoryuse
check "-r of nothing" 1 "" "rctl: failed to remove rule 'jail:nope': No such process$NL" -- rctl -r jail:nope
check "one action at a time" 1 "" "rctl: at most one of -a, -l, -r, or -u may be specified$NL" -- rctl -a -r x
check "usage" 1 "" "usage: rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]$NL" -- rctl -u
check "not in a jail" 1 "" "rctl: failed to add rule 'jail:web:maxproc:deny=1': Operation not permitted$NL" \
    -- jexec web rctl -a jail:web:maxproc:deny=1
check "listing in a jail fails but exits 0, as rctl.c" 0 "" "rctl: failed to show rules for '::': Operation not permitted$NL" \
    -- jexec web rctl
# -l process:PID: the rules that apply to a real process in web
sleep 30 & SP=$!; MYPIDS="$MYPIDS $SP"
jexec web sh -c 'echo $$ > "$0"; exec sleep 30' "$TMP/pid" & MYPIDS="$MYPIDS $!"
wait_for 10 test -s "$TMP/pid"
WP=$(hostpid "$(jls -j web jid)" "$(cat "$TMP/pid")"); MYPIDS="$MYPIDS $WP"
check "-l of a process in web" 0 "user:root:openfiles:log=100
jail:web:maxproc:deny=20$NL" "" -- rctl -l "process:$WP"
check "-l of a host process" 0 "user:root:openfiles:log=100$NL" "" -- rctl -l "process:$SP"
check "-r the rest" 0 "" "" -- rctl -r : 
check "empty" 0 "" "" -- rctl
jail -r web
check "-l process:abc: kern_rctl.c's str2id refuses it" 1 "" "rctl: failed to get limits for 'process:abc': Invalid argument$NL" -- rctl -l process:abc
check "-l process:999999999: no such process" 1 "" "rctl: failed to get limits for 'process:999999999': No such process$NL" -- rctl -l process:999999999
finish
