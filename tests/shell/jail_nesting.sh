#!/bin/sh
# jail(8) run inside a jail (through jexec) creates children of that jail.
. "$(dirname "$0")/jail_lib.sh"

check "parent" 0 "" "" -- jail -c name=outer persist children.max=1
check "child from inside" 0 "" "" -- jexec outer jail -c name=child persist
same "child is outer.child" "$(cat "$MNT/outer/child/name")" "outer.child"
check "beyond children.max" 1 "" "jail: prison limit exceeded" -- jexec outer jail -c name=child2 persist
check "own jail is not visible inside" 1 "" 'jail: "outer" not found' -- jexec outer jail -m name=outer children.max=5
check "leaf" 0 "" "" -- jail -c name=leaf persist children.max=0
check "children.max 0" 1 "" "jail: jail_set: Operation not permitted" -- jexec leaf jail -c name=sub persist
check "remove child from inside" 0 "" "" -- jexec outer jail -r child
gone outer/child && same "child gone" yes yes || same "child gone" no yes
check "remove parent cascades" 0 "" "" -- jail -c name=outer.c2 persist
check "remove parent" 0 "" "" -- jail -R outer
gone outer && same "parent gone" yes yes || same "parent gone" no yes
jail -R leaf
finish
