#!/bin/sh
# ifconfig(8) through a live mount: cloning (the name the kernel chose is
# printed, as ifclone.c does), -l, a vnet jail's own stack, IF vnet JAIL and
# IF -vnet JAIL, destroy, and sbin/ifconfig's messages.
. "$(dirname "$0")/toolbox_lib.sh"

check "the host's stack" 0 "lo0 em0$NL" "" -- ifconfig -l
check "epair create prints the a end" 0 "epair0a$NL" "" -- ifconfig epair create
check "lo create prints its unit" 0 "lo1$NL" "" -- ifconfig lo create
check "a named unit prints nothing" 0 "" "" -- ifconfig tap3 create
check "taken" 1 "" "ifconfig: SIOCIFCREATE2 (tap3): File exists$NL" -- ifconfig tap3 create
check "no such cloner" 1 "" "ifconfig: SIOCIFCREATE2 (foo0): Invalid argument$NL" -- ifconfig foo0 create
check "-l in attach order" 0 "lo0 em0 epair0a epair0b lo1 tap3$NL" "" -- ifconfig -l
check "one interface" 0 "lo1: flags=8008<LOOPBACK,MULTICAST> metric 0 mtu 16384
	groups: lo$NL" "" -- ifconfig lo1
check "no such interface" 1 "" "ifconfig: interface nope0 does not exist$NL" -- ifconfig nope0
check "settings are accepted, not modelled" 0 "" "" -- ifconfig epair0a inet 10.0.0.1/24 up

jail -c name=v vnet persist
jail -c name=plain persist
check "a vnet jail has its own lo0" 0 "lo0$NL" "" -- jexec v ifconfig -l
check "vnet" 0 "" "" -- ifconfig epair0b vnet v
check "gone from the host" 0 "lo0 em0 epair0a lo1 tap3$NL" "" -- ifconfig -l
check "inside it shows the jail's stack" 0 "lo0 epair0b$NL" "" -- jexec v ifconfig -l
check "jexec v ifconfig IF (jail_basic_test's list)" 0 "epair0b: flags=8802<BROADCAST,SIMPLEX,MULTICAST> metric 0 mtu 1500
	groups: epair$NL" "" -- jexec v ifconfig epair0b
check "a vnet jail clones its own" 0 "lo1$NL" "" -- jexec v ifconfig lo create
check "a jail without vnet may not" 1 "" "ifconfig: SIOCIFCREATE2 (lo): Operation not permitted$NL" -- jexec plain ifconfig lo create
check "a jail without vnet shares the host's stack" 0 "lo0 em0 epair0a lo1 tap3$NL" "" -- jexec plain ifconfig -l
check "into a jail without its own stack" 1 "" "ifconfig: SIOCSIFVNET: File exists$NL" -- ifconfig tap3 vnet plain
check "into no jail" 1 "" "ifconfig: jail \"nope\" not found$NL" -- ifconfig tap3 vnet nope
check "-vnet" 0 "" "" -- ifconfig epair0b -vnet v
check "back home" 0 "lo0 lo1$NL" "lo0 em0 epair0a lo1 tap3 epair0b$NL" -- sh -c 'jexec v ifconfig -l; ifconfig -l >&2'
check "destroy an epair: both ends" 0 "lo0 em0 lo1 tap3$NL" "" -- sh -c 'ifconfig epair0a destroy && ifconfig -l'
check "em0 is no clone" 1 "" "ifconfig: SIOCIFDESTROY: Invalid argument$NL" -- ifconfig em0 destroy
check "lo0 stays" 1 "" "ifconfig: SIOCIFDESTROY: Invalid argument$NL" -- ifconfig lo0 destroy
for j in v plain; do jail -r "$j" >/dev/null; done
for i in lo1 tap3; do ifconfig "$i" destroy; done
check "all gone" 0 "lo0 em0$NL" "" -- ifconfig -l
finish
