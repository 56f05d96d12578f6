#!/bin/sh
# A shell attached to a jail (jexec) sees its jail as the mount's root (at
# /dev/jailfs: the host's mount is not in its tree) and nothing outside it,
# by any path; mkdir inside obeys children.max.
. "$(dirname "$0")/lib/alive.subr"
# coreutils' messages as in the C locale (straight quotes), whatever the caller's
LC_ALL=C; export LC_ALL

# sorted WORDS...: one a line, in ls order
sorted() { printf '%s\n' "$@" | sort; }

expect 0 "" "" -- mkdir other in in/sub tight
expect 0 "" "" -- sh -c 'echo 3 > in/children.max'
OTHER=$(cat other/jid) IN=$(cat in/jid) SUB=$(cat in/sub/jid)
# a dying jail outside, and one inside
P=$(sim spawn other); FD=$(sim connect "$P" 192.0.2.1:1 192.0.2.2:2); sim close "$P" "$FD" >/dev/null
expect 0 "" "" -- mkdir other/gone
GONE=$(cat other/gone/jid)
Q=$(sim spawn other.gone); FD=$(sim connect "$Q" 192.0.2.1:3 192.0.2.2:4); sim close "$Q" "$FD" >/dev/null
expect 0 "" "" -- rmdir other/gone
expect 0 "" "" -- mkdir in/dsub
DSUB=$(cat in/dsub/jid)
R=$(sim spawn in.dsub); FD=$(sim connect "$R" 192.0.2.1:5 192.0.2.2:6); sim close "$R" "$FD" >/dev/null
expect 0 "" "" -- rmdir in/dsub
expect 0 "$(sorted $DSUB $GONE)" "" -- ls .dying
expect 0 "2" "" -- cat in/children.cur
# a host process sitting in a directory outside the jail; a symlink into it
(cd "$MNT/other" && exec sleep 300) &
HP=$!; started $HP
ln -s "$MNT/other" "$OUT/lnk"
expect 0 "" "" -- wait_for 10 test "$MNT/other" -ef "/proc/$HP/cwd"

# --- the root: its own parameters and its children only
J=/dev/jailfs
expect 1 "" "" -- jexec in test -e "$MNT/.ctl"
is "ls of the root is the jail's directory" "$(jexec in ls "$J")" "$(ls in)"
expect 0 ".ctl
.dying
.events
.jid
.refs" "" -- jexec in sh -c 'ls -A "$1" | grep "^\."' sh "$J"
expect 0 "sub" "" -- jexec in sh -c 'cd "$1" && ls -d */ | tr -d /' sh "$J"
expect 0 "0" "" -- jexec in cat "$J/name"
expect 0 "$IN" "" -- jexec in cat "$J/jid"
expect 0 "0" "" -- jexec in cat "$J/parent"
expect 0 "sub" "" -- jexec in cat "$J/sub/name"
expect 1 "" "cat: $J/in/name: No such file or directory" -- jexec in cat "$J/in/name"
expect 1 "" "cat: $J/other/name: No such file or directory" -- jexec in cat "$J/other/name"
expect 1 "" "" -- jexec in test -e "$J/tight"
# --- ..
is "sub/.. is the root" "$(jexec in ls "$J/sub/..")" "$(ls in)"
expect 0 "0" "" -- jexec in cat "$J/sub/../name"
expect 1 "" "cat: $J/sub/../../other/name: No such file or directory" -- jexec in cat "$J/sub/../../other/name"
is "sub/.. is the root's inode" "$(jexec in stat -c %i "$J/sub/..")" "$(jexec in stat -c %i "$J")"
# --- .jid
expect 0 "$(sorted $DSUB $SUB)" "" -- jexec in ls "$J/.jid"
expect 0 "../sub" "" -- jexec in readlink "$J/.jid/$SUB"
expect 1 "" "cat: $J/.jid/$OTHER/name: No such file or directory" -- jexec in cat "$J/.jid/$OTHER/name"
expect 1 "" "" -- jexec in readlink "$J/.jid/$IN"
expect 1 "" "" -- jexec in readlink "$J/.jid/$GONE"
# --- .dying: its own dying child, not the host's
expect 0 "$DSUB" "" -- jexec in ls "$J/.dying"
expect 0 "dsub" "" -- jexec in cat "$J/.dying/$DSUB/name"
expect 2 "" "ls: cannot access '$J/.dying/$GONE': No such file or directory" -- jexec in ls "$J/.dying/$GONE"
expect 1 "" "cat: $J/.dying/$GONE/name: No such file or directory" -- jexec in cat "$J/.dying/$GONE/name"
# --- .events: nothing of the host's
expect 1 "0" "" -- jexec in grep -c -e other -e gone -e "name=in" -e tight "$J/.events"
expect 0 "" "" -- grep -q "name=other.gone" .events            # the host does see them
# --- a symlink pointing outside, resolved inside
expect 3 "" "" -- jexec in sh -c 'cd "$1" 2>/dev/null || exit 3' sh "$OUT/lnk"
expect 1 "" "cat: $OUT/lnk/name: No such file or directory" -- jexec in cat "$OUT/lnk/name"
expect 0 "other" "" -- cat "$OUT/lnk/name"                     # the host follows it
# --- a path a host process just looked up
expect 0 "other" "" -- cat "/proc/$HP/cwd/name"
expect 1 "" "cat: /proc/$HP/cwd/name: No such file or directory" -- jexec in cat "/proc/$HP/cwd/name"
expect 2 "" "No such file or directory" -- jexec in ls "/proc/$HP/cwd/"
expect 3 "" "" -- jexec in sh -c 'cd "$1" 2>/dev/null || exit 3' sh "/proc/$HP/cwd"
expect 0 "in.sub" "" -- cat "$MNT/in/sub/name"                 # cached by the host for 60 s
expect 1 "" "cat: $J/in/sub/name: No such file or directory" -- jexec in cat "$J/in/sub/name"
# --- the jail's own parameters cannot be changed from inside
expect 2 "" "$J/host.hostname: Permission denied" -- jexec in sh -c 'echo x > "$1/host.hostname"' sh "$J"
expect 1 "" "jailfs: jail $IN not found" -- jexec in jailfs sim set "$IN" host.hostname=x
expect 0 "" "" -- cat in/host.hostname
# --- .ctl inside: relative names, no processes or jails outside
expect 0 "$SUB sub" "" -- jexec in jailfs sim list
expect 0 "$SUB sub
$DSUB dsub" "" -- jexec in jailfs sim list -d
expect 1 "" "jailfs: no process $P" -- jexec in jailfs sim kill "$P"
expect 1 "" "jailfs: no process $P" -- jexec in jailfs sim open "$P"
expect 1 "" "jailfs: jail \"other\" not found" -- jexec in jailfs sim spawn other
expect 1 "" "jailfs: jail $OTHER not found" -- jexec in jailfs sim spawn "$OTHER"
expect 1 "" "jailfs: no process $HP" -- jexec in jailfs sim attach sub "$HP"
expect 0 "S" "" -- sh -c "sed 's/.*) \(.\).*/\1/' /proc/$HP/stat"
expect 0 "$P" "" -- sh -c "jailfs sim list >/dev/null; echo $P"     # untouched
expect 0 "" "" -- grep -q "process $P (running)" other/.refs
# --- mkdir inside: children.max 3, children.cur 2 (the dying child counts)
expect 0 "" "" -- jexec in mkdir "$J/new"
expect 0 "new" "" -- jexec in cat "$J/new/name"
expect 0 "in.new" "" -- cat in/new/name
expect 0 "3" "" -- cat in/children.cur
expect 1 "" "mkdir: cannot create directory '$J/new2': Operation not permitted" -- jexec in mkdir "$J/new2"
expect 1 "" "" -- test -e in/new2
expect 0 "1" "" -- jexec in grep -c "created jid=[0-9]* name=new\$" "$J/.events"
expect 0 "1" "" -- jexec in grep -c "refused op=jail_set errno=EPERM msg='prison limit exceeded'" "$J/.events"
expect 1 "" "mkdir: cannot create directory '$J/x': Operation not permitted" -- jexec tight mkdir "$J/x"
expect 0 "0" "" -- cat tight/children.cur
expect 1 "" "" -- test -e tight/x
# nested: sub (children.max 0 as well) sees itself as the root
expect 1 "" "mkdir: cannot create directory '$J/y': Operation not permitted" -- jexec in.sub mkdir "$J/y"
expect 0 "0" "" -- cat in/sub/children.cur
expect 1 "" "" -- test -e in/sub/y
# a jailed root enters a child of its own jail (as FreeBSD's jail_attach
# allows); there, sub's children.max 0 refuses the mkdir
expect 1 "" "mkdir: cannot create directory '$J/y': Operation not permitted" -- jexec in jexec sub mkdir "$J/y"
expect 1 "" "" -- test -e in/sub/y
expect 1 "" "" -- test -e in/y
expect 0 "" "" -- jailfs sim check
done_testing
