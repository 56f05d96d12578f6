#!/bin/sh
. "$(dirname "$0")/lib/rootfs.subr"
. "$(dirname "$0")/lib/fs.subr"
JAILFS_MOUNT=$MNT; export JAILFS_MOUNT
make_rootfs "$OUT/root" || exit 1
( while :; do for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22; do stat "$MNT/.v$n" >/dev/null 2>&1; done; done ) &
P=$!
fails=0
for i in $(seq 1 20); do
  jail -c name=v$i "path=$OUT/root" persist
  jexec v$i sh -c 'cd /dev/jailfs && cat jid >/dev/null && sleep 0.3; /bin/pwd -P' >>"$OUT/outs" 2>>"$OUT/errs" || fails=$((fails+1))
done
kill $P; wait $P 2>/dev/null
echo "fails=$fails"; sort "$OUT/errs" | uniq -c | head; sort "$OUT/outs" | uniq -c
for i in $(seq 1 20); do jail -r v$i; done
