#!/bin/sh
# sysctl(8) through a live mount, after `eval "$(jailfs env)"`: each caller's
# own view (what FreeBSD's jailmeta.sh and sysctl_security_jail_children.sh
# assert), exact formats and messages of sbin/sysctl/sysctl.c.
. "$(dirname "$0")/toolbox_lib.sh"

same "jailfs env puts the toolbox first" "$(command -v sysctl)" "$ROOT/.venv/libexec/jailfs-bsd/sysctl"
check "host is not jailed" 0 "security.jail.jailed: 0$NL" "" -- sysctl security.jail.jailed
check "-n" 0 "1$NL" "" -- sysctl -n kern.features.vimage
check "-qn (jail_basic_test's vimage probe)" 0 "1$NL" "" -- sysctl -qn kern.features.vimage
check "-e" 0 "kern.ostype=FreeBSD$NL" "" -- sysctl -e kern.ostype
check "-d" 0 "security.jail.jailed: Process in jail?$NL" "" -- sysctl -d security.jail.jailed
check "-d with a value only describes" 0 "Hostname$NL" "" -- sysctl -dn kern.hostname=x
check "unknown oid" 1 "" "sysctl: unknown oid 'no.such'$NL" -- sysctl no.such
check "-q unknown oid" 1 "" "" -- sysctl -q no.such
check "-i unknown oid" 0 "" "" -- sysctl -i no.such
check "exit status counts failures" 2 "FreeBSD$NL" "sysctl: unknown oid 'a'${NL}sysctl: unknown oid 'b'$NL" -- sysctl -n a kern.ostype b
check "usage" 1 "" "usage: sysctl [-bdehiNnoqTtWx] [ -B <bufsize> ] [-f filename] name[=value] ...
       sysctl [-bdehNnoqTtWx] [ -B <bufsize> ] -a$NL" -- sysctl
check "a node lists its leaves" 0 "security.jail.children.max: 999999
security.jail.children.cur: 0$NL" "" -- sysctl security.jail.children
check "param types as libjail reads them" 0 "security.jail.param.host.: 0
security.jail.param.host.domainname: 256
security.jail.param.host.hostid: 0
security.jail.param.host.hostname: 256
security.jail.param.host.hostuuid: 64$NL" "" -- sysctl security.jail.param.host
check "an address list is a struct: nothing without -o" 0 "" "" -- sysctl security.jail.param.ip4.addr
check "-o dumps it" 0 "security.jail.param.ip4.addr: Format:S,in_addr,a Length:8 Dump:0x0400000000000000...$NL" "" \
    -- sysctl -o security.jail.param.ip4.addr
check "-N" 0 "security.jail.param.children.cur${NL}security.jail.param.children.max$NL" "" -- sysctl -N security.jail.param.children
check "-b" 0 "FreeBSD" "" -- sh -c 'sysctl -b kern.ostype | tr -d "\0"'
check "read only" 1 "" "sysctl: oid 'security.jail.jailed' is read only$NL" -- sysctl security.jail.jailed=1
check "read only tunable" 1 "" "sysctl: oid 'security.jail.param.jid' is a read only tunable
sysctl: Tunable values are set in /boot/loader.conf$NL" -- sysctl security.jail.param.jid=1
check "not a leaf" 1 "" "sysctl: oid 'security.jail.children' isn't a leaf node$NL" -- sysctl security.jail.children=1
check "invalid number" 1 "" "sysctl: invalid unsigned integer '12x'$NL" -- sysctl security.jail.meta_maxbufsize=12x
check "empty number" 1 "" "sysctl: empty numeric value$NL" -- sysctl security.jail.meta_maxbufsize=

# --- children.max / children.cur from each jail's own view (max_cur)
jail -c name=childfree persist
check "cur counts the new jail" 0 "1$NL" "" -- sysctl -n security.jail.children.cur
check "a jail's own max" 0 "0$NL" "" -- jexec childfree sysctl -n security.jail.children.max
check "a jail's own cur" 0 "0$NL" "" -- jexec childfree sysctl -n security.jail.children.cur
check "jailed inside" 0 "1$NL" "" -- jexec childfree sysctl -n security.jail.jailed
jail -c name=maxallowed children.max=999998 persist
jexec maxallowed jail -c name=family children.max=4 persist
check "host counts every descendant" 0 "3$NL" "" -- sysctl -n security.jail.children.cur
check "parent's cur" 0 "1$NL" "" -- jexec maxallowed sysctl -n security.jail.children.cur
check "nested max" 0 "4$NL" "" -- jexec maxallowed.family sysctl -n security.jail.children.max

# --- env is readable by its jail, not inherited; meta is not a sysctl
jail -c name=parent children.max=1 persist meta="abc" env="cba"
jexec parent jail -c name=child persist
check "env readable by the jail" 0 "cba$NL" "" -- jexec parent sysctl -n security.jail.env
check "env not inherited" 0 "$NL" "" -- jexec parent.child sysctl -n security.jail.env
check "meta is no sysctl" 1 "" "sysctl: unknown oid 'security.jail.meta'$NL" -- jexec parent sysctl -n security.jail.meta

# --- meta_maxbufsize: host root writes, a jail may not; the soft limit stays up
check "default limit" 0 "4096$NL" "" -- sysctl -n security.jail.meta_maxbufsize
check "a jail cannot raise it" 1 "security.jail.meta_maxbufsize: 4096$NL" \
    "sysctl: security.jail.meta_maxbufsize=9999: Operation not permitted$NL" -- jexec parent sysctl security.jail.meta_maxbufsize=9999
check "too large at 4096" 1 "" "jail: jail_set: File too large$NL" -- jail -m name=parent meta="$(printf %4096s)"
check "host raises it" 0 "security.jail.meta_maxbufsize: 4096 -> 4097$NL" "" -- sysctl security.jail.meta_maxbufsize=4097
check "now it fits" 0 "" "" -- jail -m name=parent meta="$(printf %4096s)"
check "back down" 0 "4097 -> 4096$NL" "" -- sysctl -n security.jail.meta_maxbufsize=4096
check "too large again" 1 "" "jail: jail_set: File too large$NL" -- jail -m name=parent env="$(printf %4096s)"
check "the soft limit libjail reads stays up" 0 "4097$NL" "" -- sysctl -n security.jail.param.meta
check "the long meta is still readable" 0 "4097$NL" "" -- sh -c 'jls -j parent meta | wc -c'

# --- kern.hostname: a jail with allow.set_hostname writes its own
jail -c name=named host.hostname=before persist
check "a jail reads its hostname" 0 "before$NL" "" -- jexec named sysctl -n kern.hostname
check "and writes it" 0 "kern.hostname: before -> after$NL" "" -- jexec named sysctl kern.hostname=after
check "jls sees it" 0 "after$NL" "" -- jls -j named host.hostname
jail -m name=named allow.noset_hostname
check "not without allow.set_hostname" 1 "kern.hostname: after$NL" "sysctl: kern.hostname=x: Operation not permitted$NL" \
    -- jexec named sysctl kern.hostname=x
check "legacy knob: the jail's own allow bit" 0 "0$NL" "" -- jexec named sysctl -n security.jail.set_hostname_allowed
check "legacy knob: the host's jail(2) default" 0 "1$NL" "" -- sysctl -n security.jail.set_hostname_allowed
check "osrelease as the jail sees it" 0 "15.0-RELEASE$NL" "" -- jexec named sysctl -n kern.osrelease

for j in maxallowed.family maxallowed childfree parent.child parent named; do jail -r "$j"; done
finish
