#!/bin/sh
# Several jexec at once, beside host tools: each keeper's `enter` is asked by
# its invoking jexec on the host (injail.spawn's enter_for), so no keeper
# moved into the jail holds a host-view .ctl descriptor, which would make the
# daemon refuse every host .ctl write meanwhile (fs/ctlguard.py).
. "$(dirname "$0")/jls_lib.sh"

jail -c name=j path=/ persist
N=8
i=0 PIDS=
while [ $i -lt $N ]; do
    jexec j true 2>>"$TMP/jexec.err" &
    PIDS="$PIDS $!"; i=$((i + 1))
done
k=0 refused=0
while [ $k -lt 30 ]; do
    jls -j j name >/dev/null 2>>"$TMP/jls.err" || refused=$((refused + 1))
    k=$((k + 1))
done
failed=0
for p in $PIDS; do wait "$p" || failed=$((failed + 1)); done
same "every jexec ran" "$failed $(cat "$TMP/jexec.err")" "0 "
same "no host jls was refused meanwhile" "$refused $(cat "$TMP/jls.err")" "0 "
jail -r j
finish
