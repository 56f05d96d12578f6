#!/bin/sh
# Several jail(8)s running their commands at once (FreeBSD's pkill-j and
# pgrep-j tests start two, in the background): each one's `enter` is asked by
# jail(8) on the host, so no keeper, once moved into its jail, holds a
# .ctl descriptor opened in the host's view, which would make the daemon
# refuse every other host process's request (fs/ctlguard.py) meanwhile.
. "$(dirname "$0")/jls_lib.sh"
N=8
i=0
while [ $i -lt $N ]; do
    jail -c name="c$i" path=/ persist command=/bin/sh -c 'sleep 0.2' >"$TMP/c$i.out" 2>&1 &
    i=$((i + 1))
done
wait
i=0; bad=
while [ $i -lt $N ]; do
    [ -s "$TMP/c$i.out" ] && bad="$bad c$i: $(cat "$TMP/c$i.out")"
    i=$((i + 1))
done
same "$N concurrent jail -c ... command=: none refused" "${bad:-none}" none
same "all $N jails are there" "$(jls name | grep -c '^c[0-9]$')" "$N"
i=0
while [ $i -lt $N ]; do jail -r "c$i" >/dev/null; i=$((i + 1)); done
same "and gone" "$(jls name | grep -c '^c[0-9]$')" 0
finish
