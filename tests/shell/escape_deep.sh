#!/bin/sh
# Issue 9, item 2: a fork chain deeper than 256 inside jail web is still in
# web (a walk up the parent chain gave up there and answered "host").
. "$(dirname "$0")/lib/alive.subr"

expect 0 "" "" -- mkdir web sib
# chain.sh N MNT OUT: N nested shells (none execs), then the deepest lists the
# mount's root and counts its ancestors.
cat > "$OUT/chain.sh" <<'CHAIN'
n=$1
if [ "$n" -gt 0 ]; then sh "$0" $((n - 1)) "$2" "$3"; exit $?; fi
d=0 p=$$
while [ "$p" -gt 1 ]; do p=$(sed 's/.*) . \([0-9]*\).*/\1/' /proc/$p/stat); d=$((d + 1)); done
ls "$2" > "$3.ls" 2>&1
echo $d > "$3.depth"
CHAIN
expect 0 "" "" -- timeout 120 jexec web sh "$OUT/chain.sh" 300 "$MNT" "$OUT/deep"
is "the chain is deeper than 256" "$([ "$(cat "$OUT/deep.depth")" -gt 300 ] && echo yes)" yes
is "the deepest process sees web's view" "$(cat "$OUT/deep.ls")" "$(jexec web ls "$MNT")"
expect 1 "" "" -- grep -qx sib "$OUT/deep.ls"
expect 0 "" "" -- jailfs sim check
done_testing
