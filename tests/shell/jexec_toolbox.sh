#!/bin/sh
# FreeBSD's toolbox inside jails (issue 11 item 7): jexec(8) and jail(8)'s
# commands in a jail put the toolbox's directory (`jailfs env`'s) first on
# the command's PATH when that directory exists under the jail's root -- a
# jail with path=/ sees the host's -- and leave PATH as it is in a jail with
# a root of its own, which does not have it (no entry that leads nowhere).
# This shell has not opted in: its PATH has no toolbox.
. "$(dirname "$0")/jls_lib.sh"
. "$(dirname "$0")/lib/rootfs.subr"
make_rootfs "$TMP/root" || { echo "FAIL: make_rootfs"; exit 1; }
TOOLBOX=$("$PY" -c 'from jailfs.toolbox.env import bin_dir; print(bin_dir())')
case ":$PATH:" in *":$TOOLBOX:"*) echo "FAIL: the test's PATH has $TOOLBOX"; exit 1;; esac

ctl_ok create name=host path=/ persist >/dev/null
ctl_ok create "name=own" "path=$TMP/root" persist >/dev/null

# path=/: the toolbox first, then the PATH jexec was given
check "jexec: toolbox first" 0 "$TOOLBOX:$PATH$NL" "" -- jexec host sh -c 'echo "$PATH"'
check "jexec: ifconfig is FreeBSD's" 0 "lo0 em0$NL" "" -- jexec host ifconfig -l
check "jexec: sysctl is FreeBSD's" 0 "1$NL" "" -- jexec host sysctl -n security.jail.jailed
check "jexec -l: before the login class's path" 0 "$TOOLBOX:/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/root/bin$NL" "" \
    -- env HOME=/root jexec -l -U root host sh -c 'echo "$PATH"'
check "jexec: no second entry when PATH has it" 0 "$TOOLBOX:/usr/bin:/bin$NL" "" \
    -- env "PATH=/usr/bin:$TOOLBOX:/bin" "$TMP/bin/jexec" host sh -c 'echo "$PATH"'

# a root of its own: the directory is not there, PATH stays as given
[ ! -e "$TMP/root$TOOLBOX" ]; same "the jail's root has no toolbox" "$?" 0
check "jexec: own root, PATH as given" 0 "/bin:/sbin$NL" "" \
    -- env PATH=/bin:/sbin "$TMP/bin/jexec" own sh -c 'echo "$PATH"'

# jail(8): command and exec.start run in the jail, exec.poststart on the host
check "jail: command in a path=/ jail" 0 "$TOOLBOX:$PATH$NL" "" \
    -- jail -c name=c1 path=/ command=/bin/sh -c 'echo "$PATH"'
check "jail: exec.start in a path=/ jail, poststart on the host" 0 "$TOOLBOX:$PATH
$PATH$NL" "" -- jail -c name=c2 path=/ 'exec.start=echo $PATH' 'exec.poststart=echo $PATH' \
    command=/bin/true
check "jail: command in a jail with its own root" 0 "/bin:/sbin$NL" "" \
    -- env PATH=/bin:/sbin "$TMP/bin/jail" -c name=c3 "path=$TMP/root" command=/bin/sh -c 'echo "$PATH"'
finish
