#!/bin/sh
# An attacker's test: a jailed root with children.max makes its child's path
# lead out of its own root.  FreeBSD resolves a jail's path in its creator's
# root, so a link to / there is that root, never the host's.  The anchor used
# to resolve the child's path again, from the host's root, when the child was
# first entered: a directory swapped for `ln -s / c` after jail_set gave the
# child the host's whole tree (its files readable and writable from the
# child), and a link into the mount stalled it.
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
echo host-only >"$OUT/host-only"
echo parent-root >"$OUT/root/marker"
mkdir "$OUT/root/c" "$OUT/root/k"
# create JAIL PARAMS...: jail_set from inside p, through its /dev/jailfs/.ctl
create() { jexec p sh -c "exec 3<>/dev/jailfs/.ctl; echo 'create $*' >&3; read -r a <&3; echo \$a"; }

expect 0 "" "" -- jail -c name=p "path=$OUT/root" persist children.max=40
# made with real directories, then swapped: one for a link to /, one for a
# link to the mount (the host's path of it)
create name=c path=/c persist >/dev/null
create name=k path=/k persist >/dev/null
expect 0 "$OUT/root/c" "" -- cat "$MNT/p/c/path"
expect 0 "" "" -- jexec p sh -c "rmdir /c /k && ln -s / /c && ln -s $MNT /k"
expect 1 "" "No such file" -- jexec p.c cat "$OUT/host-only"
expect 0 "parent-root" "" -- jexec p.c cat /marker
expect 1 "" "" -- jexec p.c test -e /work
START=$(date +%s)
expect 1 "" "error the jail's path /k: No such file or directory" -- jexec p.k true
is "p.k refused within 5 s" "$(( $(date +%s) - START < 5 ))" 1
# links that already lead out when the child is made: resolved in p's root
expect 0 "" "" -- jexec p sh -c 'ln -s / /up && ln -s ../../../../../.. /dots && ln -s /up/../etc /etcl'
for j in up dots; do
    create name=$j path=/$j persist >/dev/null
    expect 0 "$OUT/root" "" -- cat "$MNT/p/$j/path"
    expect 0 "parent-root" "" -- jexec p.$j cat /marker
done
create name=e path=/etcl persist >/dev/null
expect 0 "$OUT/root/etc" "" -- cat "$MNT/p/e/path"
# a race: p's root swaps /r and a link to / as fast as it can while new
# children of p are first entered; none may ever see the host's tree
mkdir -p "$OUT/root/r/bin"
cp "$OUT/root/bin/busybox" "$OUT/root/r/bin/busybox" && ln -s busybox "$OUT/root/r/bin/sh" &&
    ln -s busybox "$OUT/root/r/bin/cat" && echo r-root >"$OUT/root/r/marker"
jexec p sh -c 'while :; do mv /r /r2; ln -s / /r; rm /r; mv /r2 /r; done' >/dev/null 2>&1 &
SWAPPER=$!
escaped=0 entered=0
for i in $(seq 20); do
    create name=r$i path=/r persist >/dev/null 2>&1     # refused while /r is missing
    out=$(timeout -k 5 20 jexec p.r$i sh -c "cat $OUT/host-only || cat /marker" 2>/dev/null)
    case $out in
    host-only) escaped=$((escaped + 1)) ;;
    parent-root|r-root) entered=$((entered + 1)) ;;
    esac
done
kill $SWAPPER 2>/dev/null; wait $SWAPPER 2>/dev/null
is "20 children entered while their path was swapped: the host's tree never seen" "$escaped" 0
# (the others found no /r at that moment: refused)
is "some of them entered, p's root or r" "$((entered > 0))" 1
expect 0 "p" "" -- cat "$MNT/p/name"
jail -r p >/dev/null
done_testing
