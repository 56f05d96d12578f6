#!/bin/sh
# jail(8) and vnet.interface through a live mount, after `eval "$(jailfs env)"`
# as a user would: each listed interface is moved into the jail after
# exec.created (command.c's `ifconfig IF vnet JAIL`), a start that fails later
# takes them back with `-vnet` before the jail is removed, removal leaves them
# to the kernel (the jail's stack returns them when it is freed), messages are
# sbin/ifconfig's and jail(8)'s; exec.* hooks that call ifconfig reach the
# toolbox's.  FreeBSD's jail_basic_test.sh `list` and `param_consistency`
# cases are the reference.
. "$(dirname "$0")/toolbox_lib.sh"

# jail_basic_test.sh list: a comma-separated list on the command line
check "epair create" 0 "epair0a$NL" "" -- ifconfig epair create
check "list: both ends into a vnet jail" 0 "" "" -- \
    jail -c name=basejail vnet persist vnet.interface=epair0a,epair0b
check "list: jexec basejail ifconfig epair0a" 0 "epair0a: flags=8802<BROADCAST,SIMPLEX,MULTICAST> metric 0 mtu 1500
	groups: epair$NL" "" -- jexec basejail ifconfig epair0a
check "list: the jail's stack, in order" 0 "lo0 epair0a epair0b$NL" "" -- jexec basejail ifconfig -l
check "list: gone from the host" 0 "lo0 em0$NL" "" -- ifconfig -l
check "removal is silent" 0 "" "" -- jail -r basejail
check "the kernel gives them back when the jail is freed" 0 "lo0 em0 epair0a epair0b$NL" "" -- ifconfig -l

# -v shows the command as FreeBSD runs it; a command-line jail without a
# name is named by its jid (param_consistency's case)
check "lo create" 0 "lo1$NL" "" -- ifconfig lo create
check "-v notes the ifconfig command" 0 "jail_set(JAIL_CREATE) name=v vnet persist
created
run command: /sbin/ifconfig lo1 vnet v$NL" "" -- jail -v -c name=v vnet persist vnet.interface=lo1
check "lo1 is in v" 0 "lo0 lo1$NL" "" -- jexec v ifconfig -l
jail -r v
check "param_consistency: no name, no jid" 0 "" "" -- \
    jail -c path=/ vnet=new vnet.interface=lo1 command=/bin/sh -c 'ifconfig -l >"$0"' "$TMP/seen"
same "the command saw lo1 in its jail" "$(cat "$TMP/seen")" "lo0 lo1"
check "and lo1 came home with the jail's end" 0 "lo0 em0 epair0a epair0b lo1$NL" "" -- ifconfig -l

# failures: FreeBSD's words, the interfaces that went in come back, no jail stays
check "no such interface" 1 "" "ifconfig: interface nope0 does not exist
jail: /sbin/ifconfig nope0 vnet bad: failed$NL" -- jail -c name=bad vnet persist vnet.interface=nope0
same "no jail left" "$(ls "$MNT" | grep -cx bad)" 0
check "the second fails: the first is taken back" 1 "jail_set(JAIL_CREATE) name=bad vnet persist
created
run command: /sbin/ifconfig lo1 vnet bad
run command: /sbin/ifconfig nope0 vnet bad
run command: /sbin/ifconfig lo1 -vnet bad
removed$NL" "ifconfig: interface nope0 does not exist
jail: /sbin/ifconfig nope0 vnet bad: failed$NL" -- jail -v -c name=bad vnet persist vnet.interface=lo1,nope0
check "lo1 back on the host" 0 "lo0 em0 epair0a epair0b lo1$NL" "" -- ifconfig -l
check "into a jail without its own stack" 1 "" "ifconfig: SIOCSIFVNET: File exists
jail: /sbin/ifconfig lo1 vnet plain: failed$NL" -- jail -c name=plain persist vnet.interface=lo1
check "a command failing after the move" 1 "" "jail: /bin/false: failed$NL" -- \
    jail -c name=cf vnet path=/ vnet.interface=lo1 command=/bin/false
check "lo1 taken back before the removal" 0 "lo0 em0 epair0a epair0b lo1$NL" "" -- ifconfig -l
check "an -m does not move interfaces" 0 "" "" -- jail -c name=m vnet persist
check "update" 0 "" "" -- jail -m name=m vnet.interface=lo1
check "lo1 stays" 0 "lo0$NL" "" -- jexec m ifconfig -l
jail -r m

# jail.conf: exec.* hooks calling the toolbox's ifconfig, the order FreeBSD
# runs them in (exec.created before the move, exec.start after it, inside),
# and exec.poststop destroying the host's end once the jail is gone
cat >"$TMP/jail.conf" <<CONF
web {
    vnet;
    persist;
    path = /;
    exec.prestart = "ifconfig epair1 create";
    exec.created = "ifconfig -l";
    vnet.interface = "epair1b";
    exec.start = "ifconfig -l";
    exec.poststart = "ifconfig -l";
    exec.poststop = "ifconfig epair1a destroy";
}
CONF
check "hooks around the move" 0 "epair1a
web: created
lo0 em0 epair0a epair0b lo1 epair1a epair1b
lo0 epair1b
lo0 em0 epair0a epair0b lo1 epair1a$NL" "" -- jail -f "$TMP/jail.conf" -c web
check "remove runs exec.poststop" 0 "web: removed$NL" "" -- jail -f "$TMP/jail.conf" -r web
check "both ends destroyed" 0 "lo0 em0 epair0a epair0b lo1$NL" "" -- ifconfig -l

for i in epair0a lo1; do ifconfig "$i" destroy; done
check "all gone" 0 "lo0 em0$NL" "" -- ifconfig -l
finish
