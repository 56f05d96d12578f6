#!/bin/sh
# jail(8) run inside a jail (through jexec) creates children of that jail.
. "$(dirname "$0")/jail_lib.sh"

check "parent" 0 "" "" -- jail -c name=parent persist children.max=1
check "child from inside" 0 "" "" -- jexec parent jail -c name=child persist
same "child is parent.child" "$(cat "$MNT/parent/child/name")" "parent.child"
check "beyond children.max" 1 "" "jail: prison limit exceeded" -- jexec parent jail -c name=child2 persist
check "own jail is not visible inside" 1 "" 'jail: "parent" not found' -- jexec parent jail -m name=parent children.max=5
check "leaf" 0 "" "" -- jail -c name=leaf persist children.max=0
check "children.max 0" 1 "" "jail: jail_set: Operation not permitted" -- jexec leaf jail -c name=sub persist
check "remove child from inside" 0 "" "" -- jexec parent jail -r child
gone parent/child && same "child gone" yes yes || same "child gone" no yes
check "remove parent cascades" 0 "" "" -- jail -c name=parent.c2 persist
check "remove parent" 0 "" "" -- jail -R parent
gone parent && same "parent gone" yes yes || same "parent gone" no yes
jail -R leaf
finish
