#!/bin/sh
# jail(8) with jail.conf(5) files through a live mount: notes, wildcards,
# variables, includes, dependencies, nesting and exec hooks with their env.
. "$(dirname "$0")/jail_lib.sh"

C=$TMP/jail.conf
mkdir -p "$TMP/conf.d" "$TMP/root"
cat > "$C" <<CONF
# defaults for everybody
\$top = "$TMP/root";
path = "\$top";
persist;
host.hostname = "\${name}.example.org";

web {
    ip4.addr = 192.0.2.10;
    ip4.addr += 192.0.2.11;
    db { securelevel = 1; }
}
"web.*" { host.hostname = "inner"; }
.include "conf.d/*.conf";
CONF
cat > "$TMP/conf.d/mail.conf" <<CONF
mail { depend = web; allow.nomount; }
CONF

check "-e lists jails" 0 "name=web	path=$TMP/root	persist	host.hostname=web.example.org	ip4.addr=192.0.2.10,192.0.2.11
name=web.db	path=$TMP/root	persist	host.hostname=inner	securelevel=1
name=mail	path=$TMP/root	persist	host.hostname=mail.example.org	depend=web	allow.nomount" "" -- jail -f "$C" -e "	"

check "create all" 0 "web: created
web.db: created
mail: created" "" -- jail -f "$C" -c
same "variables expanded" "$(cat "$MNT/web/host.hostname")" "web.example.org"
same "wildcard below overrides" "$(cat "$MNT/web/db/host.hostname")" "inner"
same "list appended" "$(cat "$MNT/web/ip4.addr")" "192.0.2.10,192.0.2.11"
same "nested block is a child" "$(cat "$MNT/web/db/name")" "web.db"
check "create again" 1 "" 'jail: "mail" already exists' -- jail -f "$C" -c mail
check "-c * skips running" 0 "" "" -- jail -f "$C" -c "*"
check "modify one" 0 "mail: updated" "" -- jail -f "$C" -m mail
check "remove unknown" 1 "" 'jail: "nope" not found' -- jail -f "$C" -r nope
check "remove with dependents first" 0 "web.db: removed
mail: removed
web: removed" "" -- jail -f "$C" -r web
check "remove all, none running" 0 "" "" -- jail -f "$C" -r "*"
check "start one pulls its dependency" 0 "web: created
mail: created" "" -- jail -f "$C" -c mail
# jail.c sets note_remove only for -r, so a restart notes just the creation.
check "restart" 0 "mail: created" "" -- jail -f "$C" -rc mail
check "remove takes running dependents along" 0 "mail: removed
web: removed" "" -- jail -f "$C" -r web
check "remove a running jail not in the file" 0 "other: removed" "" -- sh -c "jail -c name=other persist && jail -f '$C' -r other"
jail -f "$C" -q -r "*"

# errors
printf 'a {\n  path = ;\n}\n' > "$TMP/bad.conf"
check "syntax error" 1 "" "jail: $TMP/bad.conf line 2: ;: syntax error" -- jail -f "$TMP/bad.conf" -c
printf 'a { persist; path = $nope; }\nb { persist; }\n' > "$TMP/var.conf"
check "unknown variable fails that jail only" 1 "b: created" 'jail: a: path: variable "nope" not found' -- jail -f "$TMP/var.conf" -c
jail -R b
printf 'a { persist; $x = $y; $y = $x; path = $x; }\n' > "$TMP/loop.conf"
check "variable loop" 1 "" "jail: a: x: variable loop" -- jail -f "$TMP/loop.conf" -c
printf 'a { persist; name = b; }\n' > "$TMP/name.conf"
check "name redefined" 1 "" 'jail: a: cannot redefine parameter "name".' -- jail -f "$TMP/name.conf" -c
printf 'a { persist; depend = zz; }\n' > "$TMP/dep.conf"
check "undefined dependency" 1 "" 'jail: a: depends on undefined jail "zz"' -- jail -f "$TMP/dep.conf" -c
check "missing file" 1 "" "jail: $TMP/none.conf: No such file or directory" -- jail -f "$TMP/none.conf" -c

# exec hooks: host commands see JID/JNAME/JPATH (JID also in exec.poststop,
# after the removal: command.c builds it from the cfjail); in-jail ones run
# inside the jail's root (a busybox root file system), where the jail's view of
# the mount is $JAILFS_MOUNT
. "$(dirname "$0")/lib/rootfs.subr"
HK=$TMP/hkroot
make_rootfs "$HK" || { echo "FAIL: no root file system for the hooks"; FAILS=$((FAILS + 1)); }
E=$TMP/env
cat > "$TMP/hooks.conf" <<CONF
hk {
    path = "$HK";
    exec.prestart = 'echo prestart JNAME=\$JNAME JPATH=\$JPATH >> $E';
    exec.created = 'echo created JID=\$JID JNAME=\$JNAME >> $E';
    exec.start = 'echo start jid=\`cat \$JAILFS_MOUNT/jid\` >> /hooks.log';
    exec.poststart = 'echo poststart JID=\$JID >> $E';
    exec.prestop = 'echo prestop JID=\$JID >> $E';
    exec.stop = 'echo stop jid=\`cat \$JAILFS_MOUNT/jid\` >> /hooks.log';
    exec.poststop = 'echo poststop JID=\$JID JNAME=\$JNAME >> $E';
    exec.release = 'echo release JPATH=\$JPATH >> $E';
    persist;
}
CONF
: > "$E"
check "hooks start" 0 "hk: created" "" -- jail -f "$TMP/hooks.conf" -c hk
J=$(cat "$MNT/hk/jid")
check "hooks stop" 0 "hk: removed" "" -- jail -f "$TMP/hooks.conf" -r hk
same "host hooks: order and environment" "$(cat "$E")" "prestart JNAME=hk JPATH=$HK
created JID=$J JNAME=hk
poststart JID=$J
prestop JID=$J
poststop JID=$J JNAME=hk
release JPATH=$HK"
same "jail hooks ran inside the jail's root" "$(cat "$HK/hooks.log")" "start jid=$J
stop jid=$J"

# a failing start command undoes the creation
printf 'fl { path = "/"; exec.start = "/bin/false"; }\n' > "$TMP/fail.conf"
check "failing exec.start" 1 "fl: created
fl: removed" "jail: fl: /bin/false: failed" -- jail -f "$TMP/fail.conf" -c
gone fl && same "fl gone" yes yes || same "fl gone" no yes

finish
