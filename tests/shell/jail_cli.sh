#!/bin/sh
# jail(8) command-line forms, messages and exit statuses through a live mount.
. "$(dirname "$0")/jail_lib.sh"

check "usage without arguments" 1 "" "$USAGE" -- jail
check "illegal option" 1 "" "jail: illegal option -- Z
$USAGE" -- jail -Z
check "-r without target" 1 "" "$USAGE" -- jail -r
check "-r with a parameter" 1 "" "$USAGE" -- jail -r name=x
check "-R with create" 1 "" "$USAGE" -- jail -R -c name=x

# create: silent, one transaction, all parameters applied
check "create" 0 "" "" -- jail -c name=web persist "host.hostname=my host" securelevel=2
same "hostname set" "$(cat "$MNT/web/host.hostname")" "my host"
same "securelevel set" "$(cat "$MNT/web/securelevel")" "2"
check "create again" 1 "" 'jail: "web" already exists' -- jail -c name=web persist
check "-i prints the jid" 0 "$(( $(cat "$MNT/web/jid") + 1 ))" "" -- jail -i -c name=ijail persist
check "-v create" 0 "jail_set(JAIL_CREATE) name=vj persist
created" "" -- jail -v -c name=vj persist
check "bad boolean" 1 "" 'jail: persist: unknown boolean value "maybe"' -- jail -c name=b1 persist=maybe
check "unknown parameter" 1 "" "jail: unknown parameter: nosuch" -- jail -c name=b2 persist nosuch=1
check "no persist no command" 1 "" "jail: new jail must persist or attach" -- jail -c name=b3
check "relative path" 1 "" "jail: path rel: No such file or directory" -- jail -c name=b4 persist path=rel
check "missing path" 1 "" "jail: path /nonexistent/x: No such file or directory" -- jail -c name=b5 persist path=/nonexistent/x
check "path not a dir" 1 "" "jail: path /etc/passwd: Not a directory" -- jail -c name=b6 persist path=/etc/passwd
same "nothing left behind" "$(ls "$MNT" | grep -c '^b[0-9]$')" "0"

# modify
check "modify" 0 "" "" -- jail -m name=web host.hostname=www2
same "hostname updated" "$(cat "$MNT/web/host.hostname")" "www2"
check "modify unknown" 1 "" 'jail: "ghost" not found' -- jail -m name=ghost securelevel=1
check "-cm creates" 0 "" "" -- jail -cm name=cm persist
check "-cm updates" 0 "" "" -- jail -cm name=cm persist host.hostname=cmhost
same "-cm updated" "$(cat "$MNT/cm/host.hostname")" "cmhost"
check "-vm notes updated" 0 "jail_set(JAIL_UPDATE) jid=$(cat "$MNT/cm/jid") name=cm securelevel=1
updated" "" -- jail -vm name=cm securelevel=1

# lists
check "ip list" 0 "" "" -- jail -c name=ips persist ip4.addr=192.0.2.1,192.0.2.2 ip4.addr=192.0.2.3
same "ip list applied" "$(cat "$MNT/ips/ip4.addr")" "192.0.2.1,192.0.2.2,192.0.2.3"

# no forms and bare booleans
check "no form" 0 "" "" -- jail -c name=nf persist allow.nomount allow.set_hostname
same "allow.mount off" "$(cat "$MNT/nf/allow.mount")" "false"

# removal
check "remove silent" 0 "" "" -- jail $NOCONF -r web
gone web && same "web gone" yes yes || same "web gone" no yes
check "remove missing" 1 "" 'jail: "web" not found' -- jail $NOCONF -r web
check "remove several notes" 0 "vj: removed
ijail: removed" "" -- jail $NOCONF -r vj ijail
check "-R single silent" 0 "" "" -- jail -R cm
check "-q quiet" 0 "" "" -- jail $NOCONF -q -r ips nf

# the command keeps a jail alive; the jail dies with it
check "command jail" 0 "hello" "" -- jail -c name=cmdj path=/ command=/bin/echo hello
gone cmdj && same "command jail gone after command" yes yes || same "command jail gone after command" no yes
check "command failure" 1 "" "jail: /bin/false: failed" -- jail -c name=cf path=/ command=/bin/false
gone cf && same "failed command jail gone" yes yes || same "failed command jail gone" no yes

# the command runs inside the jail: its view of the mount is the jail
check "command inside" 0 "" "" -- jail -c name=inj path=/ persist command=/bin/sh -c "cat \$JAILFS_MOUNT/jid > $TMP/injid"
same "command saw its own jail as the root" "$(cat "$TMP/injid")" "$(cat "$MNT/inj/jid")"
check "remove persistent" 0 "" "" -- jail -R inj

# legacy form
check "legacy" 0 "legacy" "" -- jail / legacyhost "" /bin/sh -c "cat \$JAILFS_MOUNT/host.hostname >/dev/null; echo legacy"

# -J
check "-J record" 0 "" "" -- jail -J "$TMP/jids" -c name=jr persist host.hostname=jrh
same "-J content" "$(cat "$TMP/jids")" "$(printf 'jid=%s\tname=jr\tpersist\thost.hostname=jrh' "$(cat "$MNT/jr/jid")")"
jail -R jr

# -d deprecation warning, once
check "-d warns" 0 "" "jail: the 'allow.dying' parameter and '-d' flag are deprecated and have no effect." -- jail -d -d -c name=dj persist
jail -R dj

finish
