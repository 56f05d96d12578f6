#!/bin/sh
# An attacker's test: a jailed root (g, with children.max) swaps the path of
# its child p for a link to / and then enters p's child p.c.  The anchor of
# p.c resolves p.c's path inside p's root, but p's root itself (the parent's
# path) used to be resolved again from the host's root, following g's link
# there: p.c got the host's whole tree.  Every ancestor's path must be
# resolved inside the root of the one above it, as each was when it was made.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
echo host-only >"$OUT/host-only"
echo g-root >"$OUT/root/marker"
mkdir -p "$OUT/root/p$OUT/hostdir" "$OUT/hostdir/bin"
cp "$OUT/root/bin/busybox" "$OUT/hostdir/bin/" && ln -s busybox "$OUT/hostdir/bin/cat"
echo host-only >"$OUT/hostdir/host-only"
# create JAIL PARAMS...: jail_set from inside g, through its /dev/jailfs/.ctl
create() { jexec g sh -c "exec 3<>/dev/jailfs/.ctl; echo 'create $*' >&3; read -r a <&3; echo \$a"; }

expect 0 "" "" -- jail -c name=g "path=$OUT/root" persist children.max=10
create name=p path=/p persist children.max=5 >/dev/null
create name=p.c path=/p persist >/dev/null
create name=p.d "path=/p$OUT/hostdir" persist >/dev/null
expect 0 "$OUT/root/p" "" -- cat "$MNT/g/p/c/path"
expect 0 "" "" -- jexec g sh -c 'mv /p /p.old && ln -s / /p'
# p.c's path is p's root: now g's link, which leads to g's root at most
expect 1 "" "No such file" -- jexec g.p.c cat "$OUT/host-only"
expect 0 "g-root" "" -- jexec g.p.c cat /marker
# p.d's path below p's root names a host directory from the host's root
is "p.d is not the host's $OUT/hostdir" "$(jexec g.p.d cat /host-only 2>/dev/null)" ""
expect 0 "g.p" "" -- cat "$MNT/g/p/name"
jail -r g >/dev/null
done_testing
