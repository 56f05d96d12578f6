#!/bin/sh
# jexec(8) through a live mount: attach, exit status, errors, the jail's view.
. "$(dirname "$0")/jls_lib.sh"

USAGE="usage: jexec [-l] [-d working-directory] [-u username | -U username] jail [command ...]$NL"
W=$(ctl_ok create name=web persist children.max=2 host.hostname=www.example)
mkdir "$MNT/web/sub"

check "runs a command" 0 "hello$NL" "" -- jexec web echo hello
check "by jid" 0 "hello$NL" "" -- jexec "$W" echo hello
check "exit status is the command's" 7 "" "" -- jexec web sh -c 'exit 7'
check "cwd is the jail root" 0 "/$NL" "" -- jexec web sh -c 'pwd'
check "-d" 0 "/tmp$NL" "" -- jexec -d /tmp web sh -c 'pwd'
check "not found" 1 "" "jexec: jail \"nope\" not found$NL" -- jexec nope true
check "not found by jid" 1 "" "jexec: jail 99 not found$NL" -- jexec 99 true
check "host is not a jail" 1 "" "jexec: jail_attach(0): Invalid argument$NL" -- jexec 0 true
check "usage" 1 "" "$USAGE" -- jexec
check "usage -u and -U" 1 "" "$USAGE" -- jexec -u root -U root web true
check "exec failure" 1 "" "jexec: execvp: no-such-command-xyz: No such file or directory$NL" -- jexec web no-such-command-xyz

# inside, the mount (at /dev/jailfs) shows the jail itself as its root
check "child visible inside" 0 "" "" -- jexec web test -d /dev/jailfs/sub
check "itself not visible inside" 1 "" "" -- jexec web test -e /dev/jailfs/web
check "the mount is not in a path=/ jail" 1 "" "" -- jexec web test -e "$MNT/.ctl"
check "jls inside lists children, relative names" 0 "sub$NL" "" -- jexec web jls name
check "jls -j inside" 0 "sub$NL" "" -- jexec web jls -j sub name
check "host sees full name" 0 "web.sub$NL" "" -- jls -j web.sub name
check "parent reads 0 from inside" 0 "0$NL" "" -- jexec web jls -j sub parent
# Nested entry: FreeBSD lets a jailed root jail_attach into a child jail; the
# daemon's entry agent joins it for the confined keeper (tests/shell/jexec_nested.sh)
check "nested jexec runs in sub (which does not see itself)" 1 "" "jexec: jail \"sub\" not found$NL" -- \
    jexec web jexec sub jexec sub true
check "jls of sub from web" 0 "0$NL" "" -- jexec web jls -j sub children.cur
check "nested: outer jail invisible" 1 "" "jexec: jail \"web\" not found$NL" -- jexec web jexec web true

# -l: a clean environment
FOO=bar; export FOO
jexec -l web env >"$TMP/env"
same "-l exit" "$?" 0
# the default login class's path, ~ being the home directory (setusercontext(3))
HOMEDIR=$(awk -F: -v u="$(id -u)" '$3 == u { print $6; exit }' /etc/passwd)
# after FreeBSD's toolbox, whose directory a jail with path / sees (jexec_toolbox.sh)
TOOLBOX=$("$PY" -c 'from jailfs.toolbox.env import bin_dir; print(bin_dir())')
grep -qx "PATH=$TOOLBOX:/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:${HOMEDIR%/}/bin" "$TMP/env"; same "-l PATH is the login class one" "$?" 0
grep -q '^FOO=' "$TMP/env"; same "-l drops FOO" "$?" 1
grep -q '^USER=' "$TMP/env" && grep -q '^HOME=' "$TMP/env" && grep -q '^SHELL=' "$TMP/env"
same "-l USER HOME SHELL" "$?" 0

# -U root: the user looked up "inside" (same passwd here)
if [ "$(id -u)" = 0 ]; then
    check "-U root" 0 "0$NL" "" -- jexec -U root web id -u
fi
finish
